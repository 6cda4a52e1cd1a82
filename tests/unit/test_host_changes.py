"""What a remediation changed on a host, from the inventories of its scans before and after."""

from __future__ import annotations

from ansible_collections.avshift.remediation.plugins.filter.host_changes import FilterModule
from ansible_collections.avshift.remediation.plugins.plugin_utils.host_changes import (
    PARTS,
    host_changes,
)


def _package(name, version, source="dpkg"):
    return {"name": name, "version": version, "publisher": None, "source": source}


def _service(name, state):
    return {"name": name, "state": state, "start_mode": "enabled"}


BEFORE = {
    "os_family": "linux",
    "packages": [
        _package("kesl", "12.1.0.1297"),
        _package("libc6", "2.36-9"),
        _package("zlib1g", "1"),
    ],
    "services": [
        _service("kesl", "running"),
        _service("cron", "running"),
        _service("ssh", "stopped"),
    ],
    "paths": ["/opt/kaspersky/kesl", "/var/opt/kaspersky"],
}
AFTER = {
    "os_family": "linux",
    "packages": [
        _package("libc6", "2.36-9+deb12u4"),
        _package("zlib1g", "1"),
        _package("clamav-daemon", "1.0.9+dfsg-1~deb12u1"),
        _package("clamav", "1.0.9+dfsg-1~deb12u1"),
    ],
    "services": [_service("clamav-daemon", "running"), _service("cron", "running")],
    "paths": ["/var/opt/kaspersky", "/var/lib/clamav"],
}


def test_packages_installed_removed_and_upgraded_are_named_with_their_versions():
    packages = host_changes(BEFORE, AFTER)["packages"]
    assert packages["installed"] == [
        {"name": "clamav", "source": "dpkg", "version": "1.0.9+dfsg-1~deb12u1"},
        {"name": "clamav-daemon", "source": "dpkg", "version": "1.0.9+dfsg-1~deb12u1"},
    ]
    assert packages["removed"] == [{"name": "kesl", "source": "dpkg", "version": "12.1.0.1297"}]
    assert packages["upgraded"] == [
        {"name": "libc6", "source": "dpkg", "from": "2.36-9", "to": "2.36-9+deb12u4"}
    ]


def test_services_started_and_stopped_and_paths_deleted_and_created():
    changes = host_changes(BEFORE, AFTER)
    # A service that went with its package stopped too; one never running did not.
    assert changes["services"] == {"started": ["clamav-daemon"], "stopped": ["kesl"]}
    assert changes["paths"] == {"deleted": ["/opt/kaspersky/kesl"], "created": ["/var/lib/clamav"]}


def test_nothing_changed_is_empty_lists_for_every_part():
    changes = host_changes(BEFORE, BEFORE)
    assert changes == {
        "packages": {"installed": [], "removed": [], "upgraded": []},
        "services": {"started": [], "stopped": []},
        "paths": {"deleted": [], "created": []},
    }


def test_a_package_in_two_registry_views_counts_once_per_source_and_version():
    both_views = [_package("Kaspersky Endpoint Security", "12.6", "registry")] * 2
    before = {"packages": both_views}
    after = {"packages": [_package("Kaspersky Endpoint Security", "12.7", "registry")]}
    assert host_changes(before, after)["packages"]["upgraded"] == [
        {"name": "Kaspersky Endpoint Security", "source": "registry", "from": "12.6", "to": "12.7"}
    ]
    # The same name from another source is another package.
    other = {"packages": [*both_views, _package("Kaspersky Endpoint Security", "12.6", "rpm")]}
    assert host_changes(before, other)["packages"]["installed"] == [
        {"name": "Kaspersky Endpoint Security", "source": "rpm", "version": "12.6"}
    ]


def test_a_part_either_scan_could_not_read_is_unknown_never_unchanged():
    after = {**AFTER, "packages": [], "unreadable": [{"part": "packages", "reason": "rpm failed"}]}
    changes = host_changes(BEFORE, after)
    assert changes["packages"] == {"unknown": "the scan after could not read it: rpm failed"}
    # The other parts are still compared.
    assert changes["services"]["started"] == ["clamav-daemon"]
    before = {**BEFORE, "unreadable": [{"part": "services", "reason": "no systemd"}]}
    assert host_changes(before, AFTER)["services"] == {
        "unknown": "the scan before could not read it: no systemd"
    }


def test_a_missing_inventory_makes_every_part_unknown():
    for before, after, which in ((None, AFTER, "before"), (BEFORE, None, "after")):
        changes = host_changes(before, after)
        assert set(changes) == set(PARTS)
        assert all(
            part == {"unknown": f"no inventory of the scan {which}"} for part in changes.values()
        )


def test_the_filter_is_the_function():
    assert FilterModule().filters()["host_changes"] is host_changes
