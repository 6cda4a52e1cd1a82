"""The Linux collector's parsers, fed with recorded command output (see recorded/)."""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.module_utils import linux_inventory as li

RECORDED = Path(__file__).with_name("recorded")


def _recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def test_dpkg_lists_present_packages_with_maintainer_and_skips_removed_ones():
    packages = {p["name"]: p for p in li.parse_dpkg_query(_recorded("dpkg-query.txt"))}
    # rc (removed, config kept) and un (never installed) are not on the host.
    assert set(packages) == {"bash", "kexec-tools", "kmod", "kesl", "clamav-daemon"}
    assert packages["kesl"] == {
        "name": "kesl",
        "version": "12.1.0-1234",
        "publisher": "AO Kaspersky Lab <support@kaspersky.com>",
        "source": "dpkg",
    }


def test_rpm_takes_vendor_else_packager_and_drops_unset_tags():
    packages = {p["name"]: p for p in li.parse_rpm_query(_recorded("rpm-qa.txt"))}
    assert packages["kesl"]["publisher"] == "AO Kaspersky Lab"
    assert packages["gpg-pubkey"]["publisher"] is None
    assert packages["bash"]["publisher"] == "Rocky Enterprise Software Foundation"
    assert {p["source"] for p in packages.values()} == {"rpm"}


def test_systemctl_states_start_modes_and_template_instances():
    services = {
        s["name"]: s
        for s in li.parse_systemctl(
            _recorded("systemctl-list-units.txt"), _recorded("systemctl-list-unit-files.txt")
        )
    }
    assert services["clamd@scan"]["state"] == "running"
    assert services["clamd@scan"]["start_mode"] == "enabled"  # from the clamd@ template
    assert services["kesl"]["state"] == "stopped"  # failed is not protecting anything
    assert services["clamav-freshclam"]["state"] == "stopped"
    assert services["networking"]["state"] == "stopped"  # oneshot, exited
    assert services["systemd-fsckd"]["state"] == "unknown"  # activating
    # Installed but not loaded units are still services on the host.
    assert services["klnagent64"] == {
        "name": "klnagent64",
        "display_name": None,
        "state": "stopped",
        "start_mode": "disabled",
        "path": None,
    }
    assert "plymouth" not in services  # not-found: no unit file on the host
    assert "clamd@" not in services  # a template is not a service


def test_proc_modules_names():
    text = "klif 16384 0 - Live 0x0\nnf_tables 274432 0 - Live 0x0\n"
    assert [m["name"] for m in li.parse_proc_modules(text)] == ["klif", "nf_tables"]


def test_processes_of_this_machine_include_the_test_runner_itself():
    found, _, _ = li.processes()
    me = os.readlink(f"/proc/{os.getpid()}/exe")
    assert any(p["path"] == me for p in found)


def test_processes_of_other_pid_namespaces_are_left_out(tmp_path):
    """A fake /proc: pid 1 shares the scanner's namespace, pid 2 is in a container."""
    proc = tmp_path / "proc"
    for pid, namespace, name in (
        ("self", "4026531836", ""),
        ("1", "4026531836", "systemd"),
        ("2", "4026532999", "kesl"),
    ):
        _fake_process(proc, pid, name, "S", namespace)
    found, _, in_containers = li.processes(str(proc))
    assert [p["name"] for p in found] == ["systemd"]
    assert in_containers == 1


def _fake_process(proc, pid: str, name: str, state: str, namespace: str | None) -> None:
    (proc / pid / "ns").mkdir(parents=True)
    if namespace is not None:
        (proc / pid / "ns" / "pid").symlink_to(f"pid:[{namespace}]")
    (proc / pid / "comm").write_text(name + "\n")
    # The name in stat may hold spaces and parentheses; the state follows the last ")".
    (proc / pid / "stat").write_text(f"{pid} ({name} (x) y) {state} 1 1 1\n")


def test_ended_processes_are_left_out_whatever_their_namespace(tmp_path):
    """A zombie's namespace link cannot be read: a container's ending process (here
    kesl, a zombie) must not pass for the host's own."""
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "10", "clamd", "S", "4026531836")
    _fake_process(proc, "11", "kesl", "Z", None)
    _fake_process(proc, "12", "klnagent", "X", None)
    # Still running, but its namespaces are released: it is ending (ENOENT).
    _fake_process(proc, "13", "kesl", "R", None)
    found, _, in_containers = li.processes(str(proc))
    assert [p["name"] for p in found] == ["clamd"]
    assert in_containers == 0


def test_a_process_whose_namespace_cannot_be_read_for_want_of_rights_counts(tmp_path, monkeypatch):
    """A scan without root cannot read other users' namespace links (EACCES): their
    processes may be the host's own, and must not be dropped."""
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "20", "kesl", "S", "4026531836")
    real_readlink = os.readlink

    def readlink(path, *args, **kwargs):
        if str(path).endswith("20/ns/pid"):
            raise PermissionError(13, "Permission denied")
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(li.os, "readlink", readlink)
    found, _, _ = li.processes(str(proc))
    assert [p["name"] for p in found] == ["kesl"]


def test_existing_paths_keeps_only_paths_that_exist(tmp_path):
    present = tmp_path / "opt" / "kaspersky"
    present.mkdir(parents=True)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")  # a link left by an uninstaller counts
    missing = tmp_path / "missing"
    assert li.existing_paths([str(present), str(dangling), str(missing)]) == [
        str(present),
        str(dangling),
    ]


def _fake_tools(outputs: dict[str, tuple[int, str, str]]):
    def run_command(argv):
        return outputs[os.path.basename(argv[0])]

    def get_bin_path(name):
        return f"/usr/bin/{name}" if name in outputs else None

    return run_command, get_bin_path


def _unread(inventory: dict) -> dict[str, str]:
    return {item["part"]: item["reason"] for item in inventory["unreadable"]}


def test_a_failing_package_database_is_an_unreadable_part_not_a_warning():
    run, which = _fake_tools({"dpkg-query": (2, "", "dpkg-query: error: parsing file")})
    inventory, warnings, error = li.collect(run, which, [])
    assert (
        "dpkg-query failed (rc=2): dpkg-query: error: parsing file"
        in _unread(inventory)["packages"]
    )
    assert not any("dpkg" in warning for warning in warnings)
    assert error is None  # services and processes were read


def test_a_failing_service_list_is_an_unreadable_part_not_a_warning(tmp_path):
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    run, which = _fake_tools(
        {"dpkg-query": (0, "", ""), "systemctl": (1, "", "Failed to connect to bus")}
    )
    inventory, _warnings, error = li.collect(run, which, [], systemd_dir=str(systemd))
    assert _unread(inventory) == {
        "services": "systemctl list-units failed: Failed to connect to bus"
    }
    assert inventory["services"] == []
    assert error is None


def test_an_unreadable_process_table_is_an_unreadable_part(tmp_path):
    run, which = _fake_tools({"dpkg-query": (0, "", "")})
    inventory, _, _ = li.collect(run, which, [], proc=str(tmp_path / "no-proc"))
    assert "cannot list processes" in _unread(inventory)["processes"]


def test_a_host_where_nothing_could_be_read_fails_the_scan(tmp_path):
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    run, which = _fake_tools({"dpkg-query": (2, "", "locked"), "systemctl": (1, "", "no bus")})
    _, _, error = li.collect(
        run, which, [], proc=str(tmp_path / "no-proc"), systemd_dir=str(systemd)
    )
    assert error and "packages: dpkg-query failed (rc=2): locked" in error
    assert "services: systemctl list-units failed: no bus" in error
    assert "processes: cannot list processes" in error


def test_both_package_databases_are_read_when_both_exist():
    run, which = _fake_tools(
        {
            "dpkg-query": (0, _recorded("dpkg-query.txt"), ""),
            "rpm": (0, _recorded("rpm-qa.txt"), ""),
        }
    )
    inventory, _, error = li.collect(run, which, [])
    assert error is None and inventory["unreadable"] == []
    assert {p["source"] for p in inventory["packages"]} == {"dpkg", "rpm"}
    assert inventory["os_family"] == "linux" and inventory["schema"] == 1


def test_sysfs_lists_loadable_modules_but_not_built_in_ones(tmp_path):
    (tmp_path / "klif").mkdir()
    (tmp_path / "klif" / "initstate").write_text("live\n")
    (tmp_path / "kernel").mkdir()  # built in: no initstate
    assert li.sys_modules(str(tmp_path)) == ([{"name": "klif", "path": None}], None)
    assert li.sys_modules(str(tmp_path / "missing"))[1] == "No such file or directory"
