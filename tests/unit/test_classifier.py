"""The classifier: raw inventory + policy -> the verdict for one host.

Every inventory here is hand-written (names from the research notes) and every expected
verdict is worked out from the issue's rules, not copied from the engine's output.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml
from activity_policy import ACTIVITY_POLICY

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import load_catalogue
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import (
    classify as classify_under,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import (
    explain,
    security_center_on,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InventoryError
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy


def classify(inventory, policy=None, *args, **kwargs):
    """The classifier, under the shipped policy without its protection rules unless a
    test gives its own: these inventories hold what makes a product active, and no
    signature times (tests/activity_policy.py)."""
    return classify_under(inventory, policy or ACTIVITY_POLICY, *args, **kwargs)


DATA = Path(__file__).resolve().parents[1] / "data"
DECOYS = yaml.safe_load((DATA / "hand_written" / "decoys.yml").read_text(encoding="utf-8"))
STRICT = load_policy(DATA / "policies" / "strict.yml")  # + drweb, crowdstrike
NOTHING_DISALLOWED = load_policy(DATA / "policies" / "nothing_disallowed.yml")
ALL_VENDORS = sorted(load_catalogue().vendors)

CLAMD_RUNNING = {"name": "clamav-daemon", "state": "running"}
WINDEFEND_RUNNING = {"name": "WinDefend", "state": "running"}


def inventory(os_family: str, **parts) -> dict:
    return {"schema": 1, "host": "test-host", "os_family": os_family, **parts}


def linux(**parts) -> dict:
    return inventory("linux", **parts)


def windows(**parts) -> dict:
    return inventory("windows", **parts)


def products(findings: list[dict]) -> list[tuple[str, str]]:
    return [(f["vendor"], f["product"]) for f in findings]


def evidence(finding: dict) -> list[tuple[str, str]]:
    return [(item["kind"], item["value"]) for item in finding["evidence"]]


def policy(disallowed, linux_approved=("clamav",), windows_approved=("microsoft",)):
    return load_policy(
        {
            "disallowed_vendors": list(disallowed),
            "approved": {"linux": list(linux_approved), "windows": list(windows_approved)},
        }
    )


# -- output shape ----------------------------------------------------------------------


def test_verdict_has_the_documented_shape():
    verdict = classify(
        linux(
            packages=[
                {"name": "kesl", "publisher": "AO Kaspersky Lab"},
                {"name": "drweb-common", "publisher": "Doctor Web"},
                {"name": "clamav-daemon"},
            ],
            services=[CLAMD_RUNNING],
            paths=["/opt/CrowdStrike"],
        ),
        policy(["kaspersky", "crowdstrike"]),
    )
    assert set(verdict) == {
        "host",
        "os_family",
        "compliant",
        "disallowed",
        "approved",
        "other",
        "residue",
        "protection_rules",
        "reasons",
    }
    # A policy without protection rules asks an approved product only to be active.
    assert verdict["protection_rules"] is None
    assert verdict["host"] == "test-host"
    assert verdict["os_family"] == "linux"
    assert verdict["compliant"] is False
    [disallowed] = verdict["disallowed"]
    assert disallowed == {
        "vendor": "kaspersky",
        "product": "kesl",
        "name": "kesl",
        "evidence": [{"kind": "package", "value": "kesl"}],
    }
    [approved] = verdict["approved"]
    assert set(approved) == {
        "vendor",
        "product",
        "name",
        "active",
        "evidence",
        # What the product says of its protection, and what that means under the rules.
        "protection",
        "signatures_updated",
        "signatures_basis",
        "signature_age_days",
        "real_time",
    }
    assert approved["protection"] == "protecting"
    assert (approved["vendor"], approved["product"], approved["active"]) == (
        "clamav",
        "clamav_linux",
        True,
    )
    assert sorted(evidence(approved)) == [
        ("package", "clamav-daemon"),
        ("service", "clamav-daemon"),
    ]
    [other] = verdict["other"]
    assert (other["vendor"], other["product"], other["name"]) == (
        "drweb",
        "drweb_linux",
        "drweb-common",
    )
    assert "active" not in other
    assert verdict["residue"] == [
        {"vendor": "crowdstrike", "evidence": [{"kind": "path", "value": "/opt/CrowdStrike"}]}
    ]


# -- disallowed: any live evidence ------------------------------------------------------


@pytest.mark.parametrize(
    ("os_family", "kind", "entry", "product"),
    [
        ("linux", "packages", {"name": "kesl", "version": "12.1.0-1297"}, "kesl"),
        ("linux", "services", {"name": "kesl", "state": "running"}, "kesl"),
        ("linux", "services", {"name": "kesl", "state": "stopped"}, "kesl"),
        ("linux", "services", {"name": "klnagent64", "state": "unknown"}, "klnagent"),
        ("linux", "processes", {"name": "klnagent", "path": None}, "klnagent"),
        ("windows", "packages", {"name": "Kaspersky Endpoint Agent"}, "kea"),
        ("windows", "services", {"name": "KAVFS", "state": "stopped"}, "ksws"),
        ("windows", "processes", {"name": "kavfswh.exe"}, "ksws"),
        ("windows", "drivers", {"name": "klif"}, None),
        (
            "windows",
            "security_center",
            {"display_name": "Kaspersky Endpoint Security for Windows", "product_state": 266240},
            "kes_windows",
        ),
        (
            "windows",
            "security_center",
            # Off in Security Center is still installed.
            {"display_name": "Kaspersky Endpoint Security for Windows", "product_state": 393472},
            "kes_windows",
        ),
    ],
)
def test_one_piece_of_live_evidence_makes_a_disallowed_finding(os_family, kind, entry, product):
    running = CLAMD_RUNNING if os_family == "linux" else WINDEFEND_RUNNING
    parts = {kind: [entry]}
    parts["services"] = [*parts.get("services", []), running]
    verdict = classify(inventory(os_family, **parts))
    assert [f["vendor"] for f in verdict["disallowed"]] == ["kaspersky"]
    if product:
        assert verdict["disallowed"][0]["product"] == product
    name_field = "display_name" if kind == "security_center" else "name"
    assert verdict["disallowed"][0]["name"] == entry[name_field]
    # An active approved antivirus does not outweigh a disallowed finding.
    assert [f["active"] for f in verdict["approved"]] == [True]
    assert verdict["compliant"] is False


# -- residue -----------------------------------------------------------------------------


def test_paths_alone_are_residue_and_do_not_break_compliance():
    paths = ["/opt/kaspersky", "/var/log/kaspersky", "/usr/bin/kesl-control"]
    verdict = classify(linux(services=[CLAMD_RUNNING], paths=paths))
    assert verdict["disallowed"] == []
    assert verdict["residue"] == [
        {"vendor": "kaspersky", "evidence": [{"kind": "path", "value": p} for p in paths]}
    ]
    assert verdict["compliant"] is True


def test_windows_paths_alone_are_residue():
    paths = ["C:\\ProgramData\\Kaspersky Lab", "HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab"]
    verdict = classify(windows(services=[WINDEFEND_RUNNING], paths=paths))
    assert verdict["disallowed"] == []
    assert verdict["residue"] == [
        {"vendor": "kaspersky", "evidence": [{"kind": "path", "value": p} for p in paths]}
    ]
    assert verdict["compliant"] is True


def test_paths_join_the_live_finding_instead_of_residue():
    verdict = classify(
        linux(
            packages=[{"name": "kesl"}, {"name": "klnagent64"}],
            paths=["/opt/kaspersky", "/opt/kaspersky/kesl", "/opt/kaspersky/klnagent64"],
        )
    )
    assert verdict["residue"] == []
    by_product = {f["product"]: evidence(f) for f in verdict["disallowed"]}
    assert set(by_product) == {"kesl", "klnagent"}
    # A product's own path joins that product; the vendor-wide one joins a finding.
    assert ("path", "/opt/kaspersky/kesl") in by_product["kesl"]
    assert ("path", "/opt/kaspersky/klnagent64") in by_product["klnagent"]
    all_evidence = by_product["kesl"] + by_product["klnagent"]
    assert all_evidence.count(("path", "/opt/kaspersky")) == 1


def test_paths_join_a_publisher_only_finding():
    verdict = classify(
        windows(
            packages=[{"name": "Web Protection Helper", "publisher": "AO Kaspersky Lab"}],
            paths=["C:\\ProgramData\\Kaspersky Lab"],
        )
    )
    assert verdict["residue"] == []
    [finding] = verdict["disallowed"]
    assert ("path", "C:\\ProgramData\\Kaspersky Lab") in evidence(finding)


# -- approved and active -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "active"),
    [
        ({"services": [{"name": "clamav-daemon", "state": "running"}]}, True),
        ({"services": [{"name": "clamd", "state": "running"}]}, True),
        ({"services": [{"name": "clamd@scan", "state": "running"}]}, True),
        ({"services": [{"name": "clamd@scan.service", "state": "running"}]}, True),
        ({"services": [{"name": "ClamAV-Daemon.service", "state": "running"}]}, True),
        ({"processes": [{"name": "clamd", "path": "/usr/sbin/clamd"}]}, True),
        ({"packages": [{"name": "clamav-daemon"}, {"name": "clamav"}]}, False),
        ({"packages": [{"name": "clamd"}, {"name": "clamav-update"}]}, False),
        ({"services": [{"name": "clamav-daemon", "state": "stopped"}]}, False),
        ({"services": [{"name": "clamd@scan", "state": "unknown"}]}, False),
        (
            # The updater is not the scanner.
            {
                "services": [{"name": "clamav-freshclam", "state": "running"}],
                "processes": [{"name": "freshclam"}],
            },
            False,
        ),
    ],
)
def test_clamav_is_active_only_when_its_daemon_runs(parts, active):
    verdict = classify(linux(**parts))
    assert products(verdict["approved"]) == [("clamav", "clamav_linux")]
    assert verdict["approved"][0]["active"] is active
    assert verdict["compliant"] is active
    assert verdict["disallowed"] == verdict["other"] == []


# Without Defender's own status (an older collector, an inventory from another tool),
# WinDefend must run and Security Center, where it lists Defender, must say on.
@pytest.mark.parametrize(
    ("parts", "active"),
    [
        ({"services": [{"name": "WinDefend", "state": "running"}]}, True),
        ({"services": [{"name": "windefend", "state": "running"}]}, True),
        (
            {
                "services": [{"name": "WinDefend", "state": "running"}],
                "security_center": [{"display_name": "Windows Defender", "product_state": 397568}],
            },
            True,
        ),
        (
            # On, signatures out of date: still on.
            {
                "services": [{"name": "WinDefend", "state": "running"}],
                "security_center": [{"display_name": "Windows Defender", "product_state": 266256}],
            },
            True,
        ),
        (
            {
                "services": [{"name": "WinDefend", "state": "running"}],
                "security_center": [{"display_name": "Windows Defender", "product_state": 393472}],
            },
            False,
        ),
        (
            {
                "services": [{"name": "WinDefend", "state": "stopped"}],
                "security_center": [{"display_name": "Windows Defender", "product_state": 397568}],
            },
            False,
        ),
        (
            {"security_center": [{"display_name": "Windows Defender", "product_state": "266240"}]},
            False,
        ),
        ({"processes": [{"name": "MsMpEng.exe"}]}, False),
        ({"services": [{"name": "WinDefend", "state": "stopped"}]}, False),
        ({"services": [{"name": "WinDefend", "state": "unknown"}]}, False),
    ],
)
def test_defender_without_status_is_active_when_windefend_runs_and_security_center_agrees(
    parts, active
):
    verdict = classify(windows(**parts))
    assert products(verdict["approved"]) == [("microsoft", "defender_antivirus")]
    assert verdict["approved"][0]["active"] is active
    assert verdict["compliant"] is active
    if not active:
        assert "(installed but not active: " in verdict["reasons"][0]


def test_security_center_with_its_service_stopped_says_nothing_about_defender():
    # An older inventory without Defender status, on a client whose wscsvc is disabled:
    # Security Center's "off" is stale, WinDefend's running decides.
    off = {"display_name": "Windows Defender", "product_state": 393472}
    running = {"name": "WinDefend", "state": "running"}
    stopped_centre = {"name": "wscsvc", "state": "stopped"}
    verdict = classify(windows(services=[running, stopped_centre], security_center=[off]))
    assert verdict["approved"][0]["active"] is True
    verdict = classify(windows(services=[running], security_center=[off]))
    assert verdict["approved"][0]["active"] is False


_NORMAL = {
    "am_service_enabled": True,
    "antivirus_enabled": True,
    "real_time_protection_enabled": True,
    "am_running_mode": "Normal",
    "error": None,
}


def _defender_host(server=False, service="running", **status):
    return windows(
        os={"name": "Windows", "version": "10.0.20348", "server": server},
        services=[{"name": "WinDefend", "state": service}],
        defender={**_NORMAL, **status},
    )


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ({"am_running_mode": "Passive"}, "running mode Passive, not Normal"),
        ({"am_running_mode": "Passive Mode"}, "running mode Passive Mode, not Normal"),
        ({"am_running_mode": "passive  mode"}, "running mode passive  mode, not Normal"),
        ({"am_running_mode": "SxS Passive Mode"}, "running mode SxS Passive Mode, not Normal"),
        ({"am_running_mode": "EDR Block Mode"}, "running mode EDR Block Mode, not Normal"),
        ({"am_running_mode": "Not running"}, "running mode Not running, not Normal"),
        ({"am_running_mode": ""}, "running mode empty, not Normal"),
        ({"real_time_protection_enabled": False}, "real-time protection is off"),
        ({"antivirus_enabled": False}, "antivirus is off"),
        ({"am_service_enabled": None}, "the antimalware service is off"),
        (
            {"disabled_by_policy": ["DisableRealtimeMonitoring"]},
            "turned off by policy DisableRealtimeMonitoring",
        ),
        ({"error": "0x800106ba"}, "Get-MpComputerStatus failed: 0x800106ba"),
    ],
)
def test_defender_running_but_not_protecting_is_present_not_active(status, why):
    verdict = classify(_defender_host(**status))
    [defender] = verdict["approved"]
    assert defender["active"] is False
    assert why in defender["inactive_because"]
    assert not verdict["compliant"]
    assert f"(installed but not active: WinDefend: {why}" in verdict["reasons"][0]


def test_defender_in_normal_mode_with_everything_on_is_active():
    verdict = classify(_defender_host())
    assert verdict["approved"][0]["active"] is True
    assert "inactive_because" not in verdict["approved"][0]
    assert verdict["compliant"]


def test_defender_on_an_old_platform_without_running_mode_needs_the_service():
    assert classify(_defender_host(am_running_mode=None))["compliant"]
    verdict = classify(_defender_host(am_running_mode=None, service="stopped"))
    assert verdict["approved"][0]["inactive_because"] == ["WinDefend is not running"]


@pytest.mark.parametrize(("server", "active"), [(True, False), (None, False), (False, True)])
def test_disable_antispyware_turns_defender_off_on_servers_only(server, active):
    verdict = classify(_defender_host(server=server, disabled_by_policy=["DisableAntiSpyware"]))
    assert verdict["approved"][0]["active"] is active


@pytest.mark.parametrize(
    ("defender", "where"),
    [
        ("on", "defender"),
        ([], "defender"),
        ({**_NORMAL, "disabled_by_policy": "DisableAntiSpyware"}, "defender.disabled_by_policy"),
        ({**_NORMAL, "disabled_by_policy": [1]}, "defender.disabled_by_policy"),
    ],
)
def test_malformed_defender_status_is_named(defender, where):
    with pytest.raises(InventoryError) as raised:
        classify(windows(services=[{"name": "WinDefend", "state": "running"}], defender=defender))
    assert raised.value.field == where


@pytest.mark.parametrize(
    ("parts", "active"),
    [
        ({"services": [{"name": "mdatp", "state": "running"}]}, True),
        ({"services": [{"name": "mdatp.service", "state": "running"}]}, True),
        (
            {"packages": [{"name": "mdatp"}], "services": [{"name": "mdatp", "state": "stopped"}]},
            False,
        ),
        ({"packages": [{"name": "mdatp", "publisher": "Microsoft Corporation"}]}, False),
        # Its daemon's process counts too, the process and not the service's name.
        ({"packages": [{"name": "mdatp"}], "processes": [{"name": "wdavdaemon"}]}, True),
        ({"packages": [{"name": "mdatp"}], "processes": [{"name": "mdatp"}]}, False),
    ],
)
def test_defender_for_endpoint_on_linux_is_active_when_mdatp_runs(parts, active):
    verdict = classify(linux(**parts), policy(["kaspersky"], linux_approved=["microsoft"]))
    assert products(verdict["approved"]) == [("microsoft", "defender_for_endpoint_linux")]
    assert verdict["approved"][0]["active"] is active
    assert verdict["compliant"] is active


def test_an_empty_host_is_not_compliant():
    for os_family in ("linux", "windows"):
        verdict = classify(inventory(os_family))
        assert verdict["compliant"] is False
        assert verdict["disallowed"] == verdict["approved"] == verdict["other"] == []


def test_one_active_approved_product_is_enough():
    verdict = classify(
        linux(services=[CLAMD_RUNNING, {"name": "mdatp", "state": "stopped"}]),
        policy(["kaspersky"], linux_approved=["clamav", "microsoft"]),
    )
    assert sorted((f["vendor"], f["active"]) for f in verdict["approved"]) == [
        ("clamav", True),
        ("microsoft", False),
    ]
    assert verdict["compliant"] is True


@pytest.mark.parametrize(
    ("os_family", "approved", "parts"),
    [
        (
            "linux",
            "crowdstrike",
            {
                "packages": [{"name": "falcon-sensor"}],
                "services": [{"name": "falcon-sensor", "state": "running"}],
            },
        ),
        (
            "windows",
            "sophos",
            {"services": [{"name": "Sophos Health Service", "state": "running"}]},
        ),
        ("windows", "eset", {"services": [{"name": "ekrn", "state": "running"}]}),
    ],
)
def test_any_approved_vendor_is_active_when_its_service_runs(os_family, approved, parts):
    """The policy may approve any vendor with a product for the OS family; "active" means
    one of its services runs (the issue's rule), not only for ClamAV and Defender."""
    approvals = {"linux": ["clamav"], "windows": ["microsoft"], os_family: [approved]}
    chosen = policy(["kaspersky"], approvals["linux"], approvals["windows"])
    verdict = classify(inventory(os_family, **parts), chosen)
    assert [(f["vendor"], f["active"]) for f in verdict["approved"]] == [(approved, True)]
    assert verdict["compliant"] is True


def test_approved_vendor_is_active_when_its_security_center_entry_is_on():
    chosen = policy(["kaspersky"], windows_approved=["eset"])
    entry = {"display_name": "ESET Endpoint Antivirus", "product_state": 266240}
    verdict = classify(windows(security_center=[entry]), chosen)
    assert [(f["vendor"], f["active"]) for f in verdict["approved"]] == [("eset", True)]
    assert verdict["compliant"] is True
    entry["product_state"] = 262144
    assert classify(windows(security_center=[entry]), chosen)["compliant"] is False


# -- productState -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "on"),
    [
        (266240, True),  # 0x41000
        (266256, True),  # 0x41010: on, signatures out of date
        (397568, True),  # 0x61100: on, Defender
        (393472, False),  # 0x60100
        (262144, False),  # 0x40000
        (270336, False),  # 0x42000: state 0x2000 (expired)
        (274432, False),  # 0x43000: state 0x3000 (snoozed) has the 0x1000 bit but is not on
        ("266240", True),
        ("393472", False),
        (" 266240 ", True),
        # Written in hexadecimal, as WMI tools show it; the low bits say nothing of on.
        ("0x61100", True),
        ("0X60100", False),
        (0x61101, True),
    ],
)
def test_product_state_decoding(state, on):
    assert security_center_on(state) is on


@pytest.mark.parametrize("state", [266240.0, True, "on", "", [266240], {"state": 1}])
def test_product_state_that_is_not_an_integer_is_refused(state):
    entry = {"display_name": "Windows Defender", "product_state": state}
    with pytest.raises(InventoryError) as caught:
        classify(windows(security_center=[entry]), source="host.json")
    assert caught.value.source == "host.json"
    assert caught.value.field == "security_center[0].product_state"


# -- inventory contract ------------------------------------------------------------------


def test_unknown_keys_are_ignored_and_null_optional_fields_allowed():
    host = windows(
        _comment="hand-written",
        os=None,
        defender={"am_running_mode": "Normal"},
        unreadable=[],
        packages=[
            {
                "name": "Kaspersky Endpoint Security for Windows",
                "version": None,
                "publisher": None,
                "source": None,
                "product_code": None,
                "uninstall_string": None,
                "install_location": None,
                "system_component": False,
                "registry_key": "HKLM\\SOFTWARE\\...",
            }
        ],
        services=[
            {
                "name": "WinDefend",
                "display_name": None,
                "state": "running",
                "start_mode": None,
                "path": None,
            }
        ],
        processes=[{"name": "avp.exe", "path": None, "pid": 4242}],
        drivers=[{"name": "klif", "path": None, "state": "running", "display_name": None}],
        security_center=[{"display_name": "Windows Defender", "product_state": None, "path": None}],
        paths=None,
    )
    host["host"] = None
    verdict = classify(host)
    assert verdict["host"] is None
    assert products(verdict["disallowed"]) == [("kaspersky", "kes_windows")]
    assert sorted(evidence(verdict["disallowed"][0])) == [
        ("driver", "klif"),
        ("package", "Kaspersky Endpoint Security for Windows"),
        ("process", "avp.exe"),
    ]


def test_absent_and_null_kinds_are_empty():
    verdict = classify(
        {"os_family": "linux", "packages": None, "services": None, "processes": None}
    )
    assert verdict["compliant"] is False
    assert verdict["disallowed"] == verdict["approved"] == verdict["residue"] == []


@pytest.mark.parametrize(
    ("host", "field"),
    [
        (linux(services=[{"name": "kesl", "state": "active"}]), "services[0].state"),
        (linux(services=[{"name": "kesl", "state": "Running"}]), "services[0].state"),
        (linux(services=[{"name": "kesl"}]), "services[0].state"),
        (linux(services=[CLAMD_RUNNING, {"name": "x", "state": None}]), "services[1].state"),
        (linux(packages=[{"version": "1.0"}]), "packages[0].name"),
        (linux(packages=[{"name": ""}]), "packages[0].name"),
        (linux(packages=[{"name": 42}]), "packages[0].name"),
        (linux(processes=[{"path": "/usr/bin/x"}]), "processes[0].name"),
        (windows(drivers=[{"display_name": "klif"}]), "drivers[0].name"),
        (windows(security_center=[{"product_state": 266240}]), "security_center[0].display_name"),
        (
            windows(security_center=[{"name": "Windows Defender", "product_state": 266240}]),
            "security_center[0].display_name",
        ),
        ({"schema": 2, "os_family": "linux"}, "schema"),
        ({"schema": "1", "os_family": "linux"}, "schema"),
        ({"schema": 0, "os_family": "linux"}, "schema"),
        ({"schema": 1}, "os_family"),
        ({"schema": 1, "os_family": "macos"}, "os_family"),
        ({"schema": 1, "os_family": "Linux"}, "os_family"),
        (linux(packages={"name": "kesl"}), "packages"),
        (linux(services="kesl"), "services"),
        (linux(paths="/opt/kaspersky"), "paths"),
        (linux(paths=[42]), "paths[0]"),
        (linux(packages=["kesl"]), "packages[0]"),
        (linux(packages=[{"name": "kesl", "publisher": 7}]), "packages[0].publisher"),
        (linux(host=7), "host"),
    ],
)
def test_inventory_that_breaks_the_contract_is_refused(host, field):
    with pytest.raises(InventoryError) as caught:
        classify(host, source="inv.json")
    assert caught.value.source == "inv.json"
    assert caught.value.field == field
    assert str(caught.value).startswith(f"inv.json: {field}: ")


@pytest.mark.parametrize("host", [[], "linux", None, 42])
def test_inventory_that_is_not_an_object_is_refused(host):
    with pytest.raises(InventoryError) as caught:
        classify(host, source="inv.json")
    assert caught.value.source == "inv.json"


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("os_family", "kind", "name", "product"),
    [
        ("linux", "packages", "KESL", "kesl"),
        ("linux", "services", "kesl.service", "kesl"),
        ("linux", "services", "KESL-Supervisor.Service", "kesl"),
        ("linux", "processes", "Klnagent", "klnagent"),
        ("windows", "processes", "avp.exe", "kes_windows"),
        ("windows", "processes", "AVP.EXE", "kes_windows"),
        ("windows", "processes", "avp", "kes_windows"),
        ("windows", "services", "avp", "kes_windows"),
        ("windows", "drivers", "klif.sys", "kes_windows"),
        ("windows", "drivers", "KLIF.SYS", "kes_windows"),
        ("windows", "drivers", "klif", "kes_windows"),
        ("windows", "packages", "KASPERSKY ENDPOINT SECURITY FOR WINDOWS", "kes_windows"),
        ("windows", "packages", "Kaspersky Endpoint Security 11.11 for Windows", "kes_windows"),
        ("windows", "packages", "Kaspersky Security Center 14 Network Agent", "klnagent"),
    ],
)
def test_names_compare_case_insensitively_and_without_suffixes(os_family, kind, name, product):
    entry = {"name": name}
    if kind == "services":
        entry["state"] = "running"
    verdict = classify(inventory(os_family, **{kind: [entry]}))
    assert products(verdict["disallowed"]) == [("kaspersky", product)]
    # The name as found on the host, not the catalogue's spelling.
    assert verdict["disallowed"][0]["name"] == name


def test_a_shared_service_belongs_to_the_product_whose_package_is_present():
    verdict = classify(
        windows(
            packages=[{"name": "Kaspersky Internet Security", "publisher": "Kaspersky"}],
            services=[{"name": "AVP21.3", "state": "running"}],
            processes=[{"name": "avp.exe"}, {"name": "avpui.exe"}],
            drivers=[{"name": "klif"}],
        )
    )
    assert products(verdict["disallowed"]) == [("kaspersky", "kis")]
    assert evidence(verdict["disallowed"][0]) == [
        ("package", "Kaspersky Internet Security"),
        ("service", "AVP21.3"),
        ("process", "avp.exe"),
        ("process", "avpui.exe"),
        ("driver", "klif"),
    ]


KSC_SERVER_HOST = [
    {
        "name": "Kaspersky Security Center 14.2 Administration Server",
        "publisher": "AO Kaspersky Lab",
    },
    {"name": "Kaspersky Security Center 14 Network Agent", "publisher": "AO Kaspersky Lab"},
    {
        "name": "Kaspersky Security Center 14.2 Administration Console",
        "publisher": "AO Kaspersky Lab",
    },
]


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(range(3))),
    ids=lambda order: "-".join(("server", "agent", "console")[i] for i in order),
)
def test_each_security_center_component_is_its_own_product_in_any_order(order):
    """An Administration Server host also runs the Network Agent and the Console. The
    uninstall registry lists them in GUID order, which says nothing about the product:
    the most specific display-name pattern must win whatever came first."""
    packages = [KSC_SERVER_HOST[i] for i in order]
    verdict = classify(windows(packages=packages))
    found = {f["product"]: f["name"] for f in verdict["disallowed"]}
    assert found == {
        "ksc_server": "Kaspersky Security Center 14.2 Administration Server",
        "klnagent": "Kaspersky Security Center 14 Network Agent",
        "ksc_console": "Kaspersky Security Center 14.2 Administration Console",
    }


# Names Kaspersky's localised and certified builds show (the help pages the catalogue
# cites for each), and the product each belongs to.
FIELD_NAMES = [
    # German: the agent comes after the product name.
    ("windows", "packages", "Kaspersky Security Center 14 Administrationsagent", "klnagent"),
    ("windows", "packages", "Kaspersky Security Center 14.2 Verwaltungskonsole", "ksc_console"),
    ("windows", "packages", "Kaspersky Security Center 14.2 Administrationsserver", "ksc_server"),
    ("windows", "packages", "Kaspersky Endpoint Security für Windows", "kes_windows"),
    ("windows", "packages", "Kaspersky Security für Windows Server", "ksws"),
    # French, Spanish, Italian.
    ("windows", "packages", "Agent d'administration de Kaspersky Security Center 14", "klnagent"),
    ("windows", "packages", "Console d'administration de Kaspersky Security Center", "ksc_console"),
    ("windows", "packages", "Serveur d'administration de Kaspersky Security Center", "ksc_server"),
    ("windows", "packages", "Kaspersky Endpoint Security pour Windows", "kes_windows"),
    ("windows", "packages", "Kaspersky Security pour Windows Server", "ksws"),
    ("windows", "packages", "Agente de red de Kaspersky Security Center 14", "klnagent"),
    (
        "windows",
        "packages",
        "Consola de administración de Kaspersky Security Center",
        "ksc_console",
    ),
    (
        "windows",
        "packages",
        "Servidor de administración de Kaspersky Security Center",
        "ksc_server",
    ),
    ("windows", "packages", "Kaspersky Endpoint Security para Windows", "kes_windows"),
    ("windows", "packages", "Agente di amministrazione di Kaspersky Security Center", "klnagent"),
    (
        "windows",
        "packages",
        "Console di amministrazione di Kaspersky Security Center",
        "ksc_console",
    ),
    ("windows", "packages", "Kaspersky Endpoint Security per Windows", "kes_windows"),
    ("windows", "packages", "Kaspersky Security Center 14.2 Web Console", "ksc_web_console"),
    # The consumer line and its companions.
    ("windows", "packages", "Kaspersky Basic", "kaspersky_home"),
    ("windows", "packages", "Kaspersky VPN", "kvpn"),
    ("windows", "packages", "Kaspersky Safe Kids", "ksk"),
    ("windows", "services", "KSDE1.0.0", "kvpn"),
    ("windows", "processes", "kpm.exe", "kpm"),
    # Administration Server services, on failover-cluster nodes too.
    ("windows", "services", "klwebsrv", "ksc_server"),
    ("windows", "services", "ksnproxy", "ksc_server"),
    ("windows", "services", "kladminserver_klfoc", "ksc_server"),
    ("windows", "services", "klfocsvc_klfoc", "ksc_server"),
    # KES 11/12 minifilters (Microsoft's allocated altitudes) and its updatable drivers.
    ("windows", "drivers", "klbackupflt.sys", "kes_windows"),
    ("windows", "drivers", "Klifsm", "kes_windows"),
    ("windows", "drivers", "klupd_klif_arkmon.sys", "kes_windows"),
    # Linux: certified builds, the Arm agent, the Security Center server's own agent.
    ("linux", "packages", "kesl-astra", "kesl"),
    ("linux", "packages", "kesl-gui-astra", "kesl"),
    ("linux", "packages", "klnagent64-astra", "klnagent"),
    ("linux", "packages", "klnagent", "klnagent"),
    ("linux", "packages", "kess", "kess"),
    ("linux", "services", "klnagent_srv", "ksc_server"),
    ("linux", "services", "KSCWebConsole.service", "ksc_web_console"),
]


@pytest.mark.parametrize(
    ("os_family", "kind", "name", "product"),
    FIELD_NAMES,
    ids=[f"{family}-{kind}-{name}" for family, kind, name, _ in FIELD_NAMES],
)
def test_localised_and_certified_kaspersky_names_go_to_their_product(
    os_family, kind, name, product
):
    entry = {"name": name}
    if kind == "services":
        entry["state"] = "running"
    verdict = classify(inventory(os_family, **{kind: [entry]}))
    assert products(verdict["disallowed"]) == [("kaspersky", product)]


def test_a_build_for_another_certified_distribution_goes_to_its_product_by_publisher():
    """No list knows every distribution's build; Kaspersky as its publisher does."""
    build = {"name": "kesl-redos", "publisher": "AO Kaspersky Lab <support@kaspersky.com>"}
    verdict = classify(linux(packages=[build]))
    assert products(verdict["disallowed"]) == [("kaspersky", "kesl")]
    assert evidence(verdict["disallowed"][0]) == [
        ("package", "kesl-redos"),
        ("publisher", "AO Kaspersky Lab <support@kaspersky.com>"),
    ]
    # The same name from anyone else is nobody's.
    local = {"name": "kesl-redos", "publisher": "IT Operations <itops@example.org>"}
    assert classify(linux(packages=[local]))["disallowed"] == []


GERMAN_SERVER_HOST = [
    {
        "name": "Kaspersky Security Center 14.2 Administrationsserver",
        "publisher": "AO Kaspersky Lab",
    },
    {"name": "Kaspersky Security Center 14 Administrationsagent", "publisher": "AO Kaspersky Lab"},
    {"name": "Kaspersky Security Center 14.2 Verwaltungskonsole", "publisher": "AO Kaspersky Lab"},
]


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(range(3))),
    ids=lambda order: "-".join(("server", "agent", "console")[i] for i in order),
)
def test_german_security_center_components_are_their_own_products_in_any_order(order):
    """The German agent and console also start with "Kaspersky Security Center": they
    must not fall to the Administration Server, which is never removed."""
    verdict = classify(windows(packages=[GERMAN_SERVER_HOST[i] for i in order]))
    assert {f["product"]: f["name"] for f in verdict["disallowed"]} == {
        "ksc_server": "Kaspersky Security Center 14.2 Administrationsserver",
        "klnagent": "Kaspersky Security Center 14 Administrationsagent",
        "ksc_console": "Kaspersky Security Center 14.2 Verwaltungskonsole",
    }


# September 2024: Kaspersky's update replaced itself with UltraAV on US consumer PCs.
ULTRAAV_HOST = windows(
    packages=[
        {"name": "UltraAV", "publisher": "Pango Group"},
        {"name": "UltraVPN", "publisher": "Pango Group"},
    ],
    security_center=[
        {"display_name": "UltraAV", "product_state": 266240},
        {"display_name": "Windows Defender", "product_state": 393472},
    ],
    services=[{"name": "WinDefend", "state": "stopped"}],
)


def test_ultraav_shows_under_other_antivirus_with_the_shipped_policy():
    verdict = classify(ULTRAAV_HOST)
    assert verdict["disallowed"] == []
    assert sorted(products(verdict["other"])) == [("pango", "ultraav"), ("pango", "ultravpn")]
    ultraav = next(f for f in verdict["other"] if f["product"] == "ultraav")
    # Its Security Center entry is the same product, not an unknown antivirus.
    assert evidence(ultraav) == [("package", "UltraAV"), ("security_center", "UltraAV")]
    # It stood Defender down: the host is not compliant, and says why.
    assert verdict["compliant"] is False
    assert verdict["reasons"][0].startswith("no active approved antivirus")


def test_ultraav_in_security_center_alone_is_still_ultraav():
    entry = {"display_name": "UltraAV", "product_state": 266240}
    verdict = classify(windows(security_center=[entry], services=[WINDEFEND_RUNNING]))
    assert products(verdict["other"]) == [("pango", "ultraav")]
    assert verdict["compliant"] is True


def test_a_policy_may_disallow_ultraav_like_any_vendor():
    verdict = classify(ULTRAAV_HOST, policy(["kaspersky", "pango"]))
    assert sorted(products(verdict["disallowed"])) == [("pango", "ultraav"), ("pango", "ultravpn")]
    assert verdict["other"] == []
    assert "disallowed antivirus found: UltraAV (pango), UltraVPN (pango)" in verdict["reasons"]


# Other vendors' Linux and Windows agents, as their own documentation names them.
OTHER_AGENTS = [
    ("linux", "services", "eraagent", ("eset", "eset_agent_linux")),
    ("linux", "services", "eea", ("eset", "eset_linux")),
    ("linux", "packages", "efs", ("eset", "eset_server_linux")),
    ("linux", "services", "sophoslinuxsensor", ("sophos", "sophos_linux_sensor")),
    ("linux", "services", "sisamdagent", ("symantec", "sep_linux")),
    ("linux", "packages", "sdcss-sepagent", ("symantec", "sep_linux")),
    ("linux", "services", "cma", ("trellix", "agent_linux")),
    ("linux", "services", "bdsec-daemon", ("bitdefender", "gravityzone_linux")),
    ("linux", "services", "splx", ("trendmicro", "serverprotect_linux")),
    ("linux", "packages", "SentinelAgent", ("sentinelone", "sentinelone_linux")),
    ("linux", "services", "traps_pmd", ("paloalto", "cortex_xdr_linux")),
    ("windows", "services", "SentinelAgent", ("sentinelone", "sentinelone_windows")),
    ("windows", "packages", "Sentinel Agent", ("sentinelone", "sentinelone_windows")),
    ("windows", "services", "cyserver", ("paloalto", "cortex_xdr_windows")),
    ("windows", "drivers", "tedrpers-8.2.0.sys", ("paloalto", "cortex_xdr_windows")),
    ("windows", "services", "Sophos MCS Agent", ("sophos", "sophos_windows")),
    ("windows", "drivers", "eamonm", ("eset", "eset_windows")),
    ("windows", "drivers", "edrsensor", ("bitdefender", "gravityzone_windows")),
    ("windows", "drivers", "TmEsFlt", ("trendmicro", "apex_one_windows")),
    ("windows", "drivers", "FeKern", ("trellix", "hx_windows")),
    ("windows", "drivers", "Spiderg3", ("drweb", "drweb_windows")),
    ("windows", "services", "CSAgent", ("crowdstrike", "falcon_windows")),
]


@pytest.mark.parametrize(
    ("os_family", "kind", "name", "expected"),
    OTHER_AGENTS,
    ids=[f"{family}-{kind}-{name}" for family, kind, name, _ in OTHER_AGENTS],
)
def test_other_vendors_agents_are_found_and_reported_as_other(os_family, kind, name, expected):
    entry = {"name": name}
    if kind == "services":
        entry["state"] = "running"
    verdict = classify(inventory(os_family, **{kind: [entry]}))
    assert products(verdict["other"]) == [expected]
    vendor = expected[0]
    strict = classify(inventory(os_family, **{kind: [entry]}), policy(["kaspersky", vendor]))
    assert products(strict["disallowed"]) == [expected]


# -- publishers ----------------------------------------------------------------------------

# Hand-written publisher strings (notes, and each vendor's usual legal name). The display
# names name no catalogued product, so only the publisher can attribute them.
PUBLISHER_CASES = [
    ("kaspersky", "windows", "Kaspersky Security Scan", "AO Kaspersky Lab"),
    ("kaspersky", "windows", "Kaspersky Security Scan", "AO Kaspersky Lab."),
    ("kaspersky", "windows", "Kaspersky Security Scan", "Kaspersky Lab"),
    ("kaspersky", "windows", "Kaspersky Security Scan", "АО «Лаборатория Касперского»"),  # noqa: RUF001
    ("kaspersky", "windows", "Kaspersky Security Scan", "АО Лаборатория Касперского"),  # noqa: RUF001
    ("kaspersky", "windows", "Kaspersky Security Scan", '"Kaspersky Lab"'),
    ("kaspersky", "windows", "Kaspersky Security Scan", "kaspersky   LAB "),
    ("kaspersky", "linux", "kics-agent", "Kaspersky Lab <support@kaspersky.com>"),
    ("drweb", "windows", "Dr.Web CureIt!", "Doctor Web"),
    ("drweb", "windows", "Dr.Web CureIt!", "Doctor Web, Ltd."),
    ("crowdstrike", "windows", "CrowdStrike Device Control", "CrowdStrike, Inc."),
    ("sophos", "windows", "Sophos Connect", "Sophos Limited"),
    ("trellix", "windows", "McAfee WebAdvisor", "McAfee, LLC"),
    ("trellix", "linux", "MFEdx", "McAfee, Inc."),
    ("symantec", "windows", "Symantec Encryption Desktop", "Symantec Corporation"),
    ("eset", "windows", "ESET Inspect Connector", "ESET, spol. s r.o."),
    ("trendmicro", "windows", "Trend Micro Maximum Security", "Trend Micro Inc."),
    ("bitdefender", "windows", "Bitdefender Total Security", "Bitdefender"),
    ("sentinelone", "windows", "SentinelOne Singularity Ranger", "SentinelOne, Inc."),
]


@pytest.mark.parametrize(("vendor", "os_family", "name", "publisher"), PUBLISHER_CASES)
def test_a_publisher_alone_attributes_software_to_its_vendor(vendor, os_family, name, publisher):
    entry = {"name": name, "version": "1.0", "publisher": publisher}
    verdict = classify(inventory(os_family, packages=[entry]), policy([vendor]))
    assert verdict["disallowed"] == [
        {
            "vendor": vendor,
            "product": "other",
            "name": name,
            "evidence": [
                {"kind": "package", "value": name},
                {"kind": "publisher", "value": publisher},
            ],
        }
    ]


def test_publisher_cases_cover_every_vendor_with_publishers():
    attributed = {vendor for vendor, *_ in PUBLISHER_CASES}
    catalogue = load_catalogue()
    with_publishers = set(catalogue.signatures["windows"].publishers.values())
    assert with_publishers <= attributed
    assert "microsoft" not in with_publishers


def test_microsoft_as_publisher_attributes_nothing():
    entries = [
        {
            "name": "Microsoft Visual C++ 2015-2022 Redistributable (x64)",
            "publisher": "Microsoft Corporation",
        },
        {"name": "Microsoft Update Health Tools", "publisher": "Microsoft Corporation"},
        {"name": "Microsoft OneDrive", "publisher": "Microsoft"},
    ]
    chosen = policy(["microsoft", "kaspersky"], windows_approved=["eset"])
    verdict = classify(windows(packages=entries), chosen)
    assert verdict["disallowed"] == verdict["approved"] == verdict["other"] == []


def test_a_product_name_wins_over_the_publisher_attribution():
    entry = {"name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab"}
    verdict = classify(windows(packages=[entry]))
    assert products(verdict["disallowed"]) == [("kaspersky", "kes_windows")]


# -- look-alikes ----------------------------------------------------------------------------


def _decoy_policy():
    """Everything disallowed except one approved vendor per OS family, Microsoft too."""
    approved = {"linux": "clamav", "windows": "eset"}
    disallowed = [v for v in ALL_VENDORS if v not in approved.values()]
    return policy(disallowed, [approved["linux"]], [approved["windows"]])


DECOY_ITEMS = [(family, item) for family in ("linux", "windows") for item in DECOYS[family]]


@pytest.mark.parametrize(
    ("os_family", "item"),
    DECOY_ITEMS,
    ids=[f"{family}-{item['kind']}-{item['entry']['name']}" for family, item in DECOY_ITEMS],
)
def test_look_alike_is_not_attributed_to_any_vendor(os_family, item):
    entry = dict(item["entry"])
    verdict = classify(inventory(os_family, **{item["kind"]: [entry]}), _decoy_policy())
    assert verdict["disallowed"] == [], item["why"]
    assert verdict["approved"] == [], item["why"]
    assert verdict["other"] == [], item["why"]


@pytest.mark.parametrize("os_family", ["linux", "windows"])
def test_all_look_alikes_together_leave_a_clean_host_clean(os_family):
    parts: dict[str, list] = {}
    for item in DECOYS[os_family]:
        parts.setdefault(item["kind"], []).append(item["entry"])
    running = CLAMD_RUNNING if os_family == "linux" else WINDEFEND_RUNNING
    parts.setdefault("services", []).append(running)
    verdict = classify(inventory(os_family, **parts))
    assert verdict["disallowed"] == [] and verdict["other"] == []
    assert [f["active"] for f in verdict["approved"]] == [True]
    assert verdict["compliant"] is True


# -- policies beyond the shipped one ---------------------------------------------------------

MIXED_LINUX_HOST = linux(
    packages=[{"name": "drweb-common", "publisher": "Doctor Web"}, {"name": "falcon-sensor"}],
    services=[CLAMD_RUNNING, {"name": "falcon-sensor", "state": "running"}],
)


def test_a_policy_may_disallow_drweb_and_crowdstrike():
    verdict = classify(MIXED_LINUX_HOST, STRICT)
    assert sorted(products(verdict["disallowed"])) == [
        ("crowdstrike", "falcon_linux"),
        ("drweb", "drweb_linux"),
    ]
    assert verdict["other"] == []
    assert verdict["compliant"] is False


def test_under_the_shipped_policy_other_vendors_are_listed_but_allowed():
    verdict = classify(MIXED_LINUX_HOST)
    assert verdict["disallowed"] == []
    assert sorted(products(verdict["other"])) == [
        ("crowdstrike", "falcon_linux"),
        ("drweb", "drweb_linux"),
    ]
    assert verdict["compliant"] is True


def test_with_nothing_disallowed_kaspersky_is_other_and_paths_are_not_residue():
    verdict = classify(
        linux(packages=[{"name": "kesl"}], services=[CLAMD_RUNNING], paths=["/var/log/kaspersky"]),
        NOTHING_DISALLOWED,
    )
    assert verdict["disallowed"] == []
    assert products(verdict["other"]) == [("kaspersky", "kesl")]
    assert verdict["compliant"] is True


def test_paths_of_a_vendor_neither_disallowed_nor_present_are_never_residue():
    """With residue removal on, this is what keeps another vendor's files safe: the
    shipped policy allows CrowdStrike, whose directory alone is on this host."""
    verdict = classify(linux(services=[CLAMD_RUNNING], paths=["/opt/CrowdStrike"]))
    assert verdict["residue"] == [] and verdict["other"] == []
    assert verdict["compliant"] is True
    # The same path under a policy that disallows the vendor is its residue.
    strict = classify(linux(services=[CLAMD_RUNNING], paths=["/opt/CrowdStrike"]), STRICT)
    assert strict["residue"] == [
        {"vendor": "crowdstrike", "evidence": [{"kind": "path", "value": "/opt/CrowdStrike"}]}
    ]


def test_a_publisher_written_with_cyrillic_look_alike_letters_is_still_the_vendor():
    # "АО Kaspersky Lab" with a Cyrillic А and О, and "Kaspеrsky" with a Cyrillic е.  # noqa: RUF003
    for publisher in ("\u0410\u041e Kaspersky Lab", "Kasp\u0435rsky Lab"):
        verdict = classify(linux(packages=[{"name": "kes-tools-x", "publisher": publisher}]))
        assert [(f["vendor"], f["product"]) for f in verdict["disallowed"]] == [
            ("kaspersky", "other")
        ], publisher


def test_an_unknown_antivirus_in_security_center_is_listed_as_other():
    entry = {"display_name": "Avast Antivirus", "product_state": 266240}
    verdict = classify(windows(security_center=[entry], services=[WINDEFEND_RUNNING]))
    assert verdict["disallowed"] == []
    assert [f["name"] for f in verdict["other"]] == ["Avast Antivirus"]
    assert verdict["compliant"] is True


def test_a_host_with_unread_parts_is_not_compliant():
    """A part the collector could not read may hide a disallowed product."""
    verdict = classify(linux(services=[CLAMD_RUNNING], unreadable=["processes"]))
    assert [f["active"] for f in verdict["approved"]] == [True]
    # A bare part name (older collectors) is a part without a reason.
    assert verdict["unreadable"] == [{"part": "processes", "reason": None}]
    assert verdict["compliant"] is False
    reasoned = {"part": "packages", "reason": "dpkg-query failed (rc=2)"}
    verdict = classify(linux(services=[CLAMD_RUNNING], unreadable=[reasoned]))
    assert verdict["unreadable"] == [reasoned] and verdict["compliant"] is False
    for bad, field in (
        ("processes", "unreadable"),
        ([{"reason": "x"}], "unreadable[0]"),
        ([{"part": "packages", "reason": 3}], "unreadable[0].reason"),
    ):
        with pytest.raises(InventoryError) as caught:
            classify(linux(unreadable=bad), source="inv.json")
        assert caught.value.field == field


def test_reasons_say_why_a_host_is_not_compliant_and_none_when_it_is():
    found = classify(
        linux(packages=[{"name": "kesl"}], unreadable=[{"part": "services", "reason": "no bus"}])
    )
    assert found["reasons"] == [
        "disallowed antivirus found: kesl (kaspersky)",
        "no active approved antivirus; the policy approves for linux: clamav",
        "could not read services: no bus",
    ]
    assert classify(linux(services=[CLAMD_RUNNING]))["reasons"] == []


def test_a_family_the_policy_approves_nothing_for_is_never_compliant_and_says_so():
    empty = load_policy(DATA / "policies" / "approves_nothing_for_linux.yml")
    verdict = classify(linux(services=[CLAMD_RUNNING]), empty)
    assert verdict["compliant"] is False
    assert verdict["reasons"] == [
        "no active approved antivirus; the policy approves no vendor for linux"
    ]
    # ClamAV is then just another antivirus on the host.
    assert [f["vendor"] for f in verdict["other"]] == ["clamav"]


# -- details each rule decides (each found missing by mutation testing) ---------------


def test_an_approved_product_not_running_says_why_only_when_there_is_a_reason():
    [clamav] = classify(linux(packages=[{"name": "clamav-daemon"}]))["approved"]
    assert clamav["active"] is False and "inactive_because" not in clamav
    [running] = classify(
        linux(
            packages=[{"name": "clamav-daemon"}],
            services=[{"name": "clamav-daemon", "state": "running"}],
        )
    )["approved"]
    assert running["active"] is True and "inactive_because" not in running


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"version": "1"}, "packages[0].name: missing"),
        ({"name": 5}, "packages[0].name: expected a name, got 5"),
        ({"name": "  "}, "packages[0].name: expected a name, got '  '"),
        ({"name": "kesl", "version": 12}, "packages[0].version: expected a string or null"),
    ],
)
def test_a_malformed_package_entry_is_named_with_what_was_expected(entry, message):
    with pytest.raises(InventoryError) as caught:
        classify(linux(packages=[entry]))
    assert message in str(caught.value)


def test_a_path_joins_the_finding_of_its_own_product_whichever_is_found_first():
    verdict = classify(
        linux(
            packages=[{"name": "klnagent64"}, {"name": "kesl"}],
            paths=["/opt/kaspersky/kesl"],
        )
    )
    by_product = {f["product"]: evidence(f) for f in verdict["disallowed"]}
    assert ("path", "/opt/kaspersky/kesl") in by_product["kesl"]
    assert ("path", "/opt/kaspersky/kesl") not in by_product["klnagent"]


def test_only_the_security_center_service_itself_decides_whether_its_state_is_current():
    off = {"display_name": "Windows Defender", "product_state": 393472}
    on = {"display_name": "Windows Defender", "product_state": 397568}
    defender = {"name": "WinDefend", "state": "running"}
    other_stopped = {"name": "wuauserv", "state": "stopped"}
    centre_running = {"name": "wscsvc", "state": "running"}
    # As built here, and as the collector's JSON brings it (strings equal, not the same).
    for read in (dict, lambda inventory: json.loads(json.dumps(inventory))):
        verdict = classify(read(windows(services=[other_stopped, defender], security_center=[off])))
        assert verdict["approved"][0]["active"] is False  # Security Center runs: its off counts
        verdict = classify(
            read(windows(services=[centre_running, defender], security_center=[off]))
        )
        assert verdict["approved"][0]["active"] is False
        verdict = classify(read(windows(services=[centre_running, defender], security_center=[on])))
        assert verdict["approved"][0]["active"] is True


def test_reasons_name_a_finding_by_its_name_else_its_product_else_its_vendor():
    host = {
        "os_family": "linux",
        "disallowed": [
            {"name": "kesl", "vendor": "kaspersky"},
            {"product": "klnagent", "vendor": "kaspersky"},
            {"vendor": "drweb"},
            {},
        ],
        "approved": [{"name": "clamav", "active": True}],
    }
    assert explain(host) == [
        "disallowed antivirus found: kesl (kaspersky), klnagent (kaspersky), drweb (drweb), "
        "unknown (None)"
    ]


def test_an_inventory_read_from_json_is_classified_as_the_same_inventory():
    """What the collectors send arrives as JSON: its strings are not the program's own."""
    host = linux(
        packages=[{"name": "clamav-daemon"}, {"name": "kesl", "publisher": "AO Kaspersky Lab"}],
        services=[{"name": "clamav-daemon", "state": "running"}],  # the one proof it runs
        drivers=[{"name": "kl_stream"}],
        paths=["/opt/kaspersky"],
    )
    assert classify(json.loads(json.dumps(host))) == classify(host)
    assert classify(json.loads(json.dumps(host)))["approved"][0]["active"] is True


def test_a_loaded_driver_or_a_security_center_entry_without_its_state_is_not_an_active_product():
    # Drivers and a Security Center entry name a product; only its services, processes
    # and a Security Center state that says on make it active (KES, approved here).
    approving = policy([], windows_approved=("kaspersky",))
    running = {"services": [{"name": "AVP", "state": "running"}]}
    for parts in (
        {"drivers": [{"name": "klfle", "state": "running"}]},
        {"security_center": [{"display_name": "Kaspersky Endpoint Security for Windows"}]},
    ):
        verdict = classify(windows(**parts), approving)
        assert [(f["product"], f["active"]) for f in verdict["approved"]] == [
            ("kes_windows", False)
        ], parts
        verdict = classify(windows(**parts, **running), approving)
        assert [(f["product"], f["active"]) for f in verdict["approved"]] == [
            ("kes_windows", True)
        ], parts
