"""The PowerShell no test runs, held to its contract by its syntax tree (tree-sitter).

No PowerShell runtime exists here, so the collector and the Defender scripts are read,
not executed: the collector's inventory has exactly the schema's keys
(plugins/module_utils/inventory_schema.py) and reads every source the documentation
promises; each Defender script calls what its name promises, in code (a call in a
comment or a string is not one). Each check is also run on a stub of the script it
guards (an empty collector, a status script reduced to nothing, a real-time script
whose Set-MpPreference is commented out) and must refuse it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from powershell_ast import (
    assigned_hashtable_keys,
    hashtable_keys,
    invoked,
    member_writes,
    strings,
    without_comments,
)

from ansible_collections.avshift.remediation.plugins.module_utils import inventory_schema
from ansible_collections.avshift.remediation.plugins.plugin_utils import defender

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = ROOT / "plugins" / "modules" / "av_scan.ps1"
ROLE_FILES = ROOT / "roles" / "install" / "files"


# -- the collector ---------------------------------------------------------------------


def collector_problems(source: bytes) -> list[str]:
    problems = []
    wanted = set(inventory_schema.header_fields("windows")) | set(
        inventory_schema.kinds_for("windows")
    )
    built = assigned_hashtable_keys(source, "inventory")
    if built != wanted:
        problems.append(
            f"$inventory has {sorted(built)}; the schema's Windows fields are {sorted(wanted)}"
        )
    # Every part is filled in by the code that reads it, not left as the literal's null.
    filled = member_writes(source, "inventory")
    missing = sorted(set(inventory_schema.kinds_for("windows")) | {"os", "paths", "defender"})
    missing = [part for part in missing if part not in filled]
    if missing:
        problems.append(f"never filled in: {missing}")
    fields = {
        field
        for kind in inventory_schema.kinds_for("windows")
        for field in inventory_schema.entry_fields(kind, "windows")
    }
    unwritten = sorted(fields - hashtable_keys(source))
    if unwritten:
        problems.append(f"entry fields never written: {unwritten}")
    code = without_comments(source)
    text = strings(source)
    sources = {
        # Both registry views of the machine's uninstall entries.
        "the 64-bit uninstall view": any(re.search(r"^SOFTWARE\\\$uninstall", s) for s in text),
        "the 32-bit uninstall view": any("WOW6432Node" in s for s in text),
        "loaded user hives": "[Microsoft.Win32.RegistryHive]::Users" in code,
        "services": bool(invoked(source, "Get-CimInstance", "ClassName"))
        and "Win32_Service" in code,
        "drivers": "Win32_SystemDriver" in code,
        "processes": "Win32_Process" in code,
        "SecurityCenter2": any("SecurityCenter2" in s for s in text)
        and bool(invoked(source, "Get-CimInstance", "Namespace")),
        "Get-MpComputerStatus": bool(invoked(source, "Get-MpComputerStatus")),
    }
    problems += [f"does not read {what}" for what, read in sources.items() if not read]
    if not invoked(source, "Get-ItemProperty", "LiteralPath"):
        problems.append("never reads the Defender policy keys")
    return problems + policy_problems(code)


def test_the_collector_builds_the_schemas_inventory_from_every_promised_source():
    assert collector_problems(COLLECTOR.read_bytes()) == []


def test_a_collector_that_returns_an_empty_inventory_is_refused():
    source = COLLECTOR.read_text(encoding="utf-8")
    head = source[: source.index("$inventory = [Ordered]@{")]
    stub = head + "$module.Result.inventory = @{}\n$module.ExitJson()\n"
    problems = collector_problems(stub.encode())
    assert any("$inventory has []" in problem for problem in problems), problems
    assert any("does not read loaded user hives" in problem for problem in problems)


def test_a_collector_that_reads_nothing_into_its_inventory_is_refused():
    source = COLLECTOR.read_text(encoding="utf-8")
    start = source.index("$inventory = [Ordered]@{")
    literal_end = source.index("\n}\n", start) + 3
    stub = source[:literal_end] + "$module.Result.inventory = $inventory\n$module.ExitJson()\n"
    problems = collector_problems(stub.encode())
    assert any(problem.startswith("never filled in") for problem in problems), problems


def test_a_collector_with_a_source_commented_out_is_refused():
    source = COLLECTOR.read_text(encoding="utf-8")
    stub = source.replace(
        "Get-CimInstance -ClassName Win32_SystemDriver",
        "# Get-CimInstance -ClassName Win32_SystemDriver",
    )
    assert stub != source
    assert "does not read drivers" in collector_problems(stub.encode())


def test_a_collector_that_misses_a_defender_policy_is_refused():
    source = COLLECTOR.read_text(encoding="utf-8")
    stub = source.replace("value = 'DisableRealtimeMonitoring'", "value = 'Other'")
    assert stub != source
    assert collector_problems(stub.encode()) == [
        "does not look for the policy DisableRealtimeMonitoring"
    ]


# -- the Defender scripts of the install role ----------------------------------------------

STATUS_KEYS = {
    "server",
    "build",
    "feature",
    "service",
    "status",
    "status_error",
    "other_antivirus",
    "disabled_by_policy",
    "mde_onboarded",
}


def status_problems(source: bytes) -> list[str]:
    problems = []
    if not invoked(source, "Get-MpComputerStatus"):
        problems.append("never calls Get-MpComputerStatus")
    if not invoked(source, "Get-CimInstance", "ClassName"):
        problems.append("never reads Win32_Service / Win32_OperatingSystem")
    if not invoked(source, "Get-ItemProperty", "LiteralPath"):
        problems.append("never reads the policy and onboarding keys")
    missing = sorted(STATUS_KEYS - hashtable_keys(source))
    if missing:
        problems.append(f"does not write {missing}")
    code = without_comments(source)
    return problems + policy_problems(code)


def policy_problems(code: str) -> list[str]:
    """Every policy value the classifier's rule knows (plugin_utils/defender.py) is read."""
    return [
        f"does not look for the policy {policy}"
        for policy in defender.POLICIES
        if not re.search(rf"\b{policy}\b", code)
    ]


def realtime_problems(source: bytes) -> list[str]:
    calls = invoked(source, "Set-MpPreference", "DisableRealtimeMonitoring")
    if not calls or not all(re.search(r"\$false\b", call.text, re.I) for call in calls):
        return ["never calls Set-MpPreference -DisableRealtimeMonitoring $false"]
    if not invoked(source, "Get-MpPreference"):
        return ["never reads Get-MpPreference: it would report a change every run"]
    return []


def start_problems(source: bytes) -> list[str]:
    problems = []
    if not [c for c in invoked(source, "Start-Service", "Name") if "WinDefend" in c.text]:
        problems.append("never calls Start-Service -Name WinDefend")
    # Nothing that needs ChangeConfig, which WinDefend's ACL refuses.
    for forbidden in ("Set-Service", "sc.exe", "Stop-Service"):
        if invoked(source, forbidden) or forbidden.lower() in without_comments(source).lower():
            problems.append(f"calls {forbidden}, which WinDefend's service ACL refuses")
    return problems


def signatures_problems(source: bytes) -> list[str]:
    return [] if invoked(source, "Update-MpSignature") else ["never calls Update-MpSignature"]


CHECKS = {
    "defender_status.ps1": status_problems,
    "defender_realtime.ps1": realtime_problems,
    "defender_start.ps1": start_problems,
    "defender_signatures.ps1": signatures_problems,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_defender_script_calls_what_its_name_promises(name):
    assert CHECKS[name]((ROLE_FILES / name).read_bytes()) == []


def test_every_script_of_the_install_role_is_checked():
    assert {path.name for path in ROLE_FILES.glob("*.ps1")} == set(CHECKS)


def test_a_status_script_reduced_to_nothing_is_refused():
    assert "never calls Get-MpComputerStatus" in status_problems(b"$null = 1\n")


def test_a_realtime_script_with_its_set_mppreference_commented_out_is_refused():
    source = (ROLE_FILES / "defender_realtime.ps1").read_text(encoding="utf-8")
    stub = source.replace(
        "Set-MpPreference -DisableRealtimeMonitoring",
        "# Set-MpPreference -DisableRealtimeMonitoring",
    )
    assert stub != source
    assert realtime_problems(stub.encode()) == [
        "never calls Set-MpPreference -DisableRealtimeMonitoring $false"
    ]


def test_a_realtime_script_that_turns_protection_off_is_refused():
    source = (ROLE_FILES / "defender_realtime.ps1").read_text(encoding="utf-8")
    stub = source.replace("-DisableRealtimeMonitoring $false", "-DisableRealtimeMonitoring $true")
    assert realtime_problems(stub.encode())


def test_a_start_script_that_reconfigures_the_service_is_refused():
    source = (ROLE_FILES / "defender_start.ps1").read_text(encoding="utf-8")
    stub = source + "\nSet-Service -Name WinDefend -StartupType Automatic\n"
    assert "calls Set-Service, which WinDefend's service ACL refuses" in start_problems(
        stub.encode()
    )


# -- the msiexec scripts of the uninstall role ----------------------------------------------

UNINSTALL_FILES = ROOT / "roles" / "uninstall" / "files"


def log_dir_problems(source: bytes) -> list[str]:
    code = without_comments(source)
    problems = []
    if not invoked(source, "Set-Acl", "AclObject"):
        problems.append("never restricts the log directory (Set-Acl)")
    # Inheritance off, and only the Administrators and LocalSystem SIDs let in.
    if "SetAccessRuleProtection($true, $false)" not in code:
        problems.append("keeps the inherited permissions of %ProgramData%")
    if not all(sid in strings(source) for sid in ("S-1-5-32-544", "S-1-5-18")):
        problems.append("does not grant Administrators and SYSTEM by SID")
    if "$env:SystemRoot" not in code or "System32\\msiexec.exe" not in " ".join(strings(source)):
        problems.append("does not name msiexec by its full path under %SystemRoot%")
    return problems


def log_tail_problems(source: bytes) -> list[str]:
    problems = []
    if not [call for call in invoked(source, "Get-Content") if "-Tail" in call.text]:
        problems.append("never reads the end of the log (Get-Content -Tail)")
    if not re.search(r"-replace\s+\$pattern", without_comments(source)):
        problems.append("never masks the named properties")
    return problems


UNINSTALL_CHECKS = {
    "msiexec_log_dir.ps1": log_dir_problems,
    "msiexec_log_tail.ps1": log_tail_problems,
}


@pytest.mark.parametrize("name", sorted(UNINSTALL_CHECKS))
def test_each_msiexec_script_does_what_its_name_promises(name):
    assert UNINSTALL_CHECKS[name]((UNINSTALL_FILES / name).read_bytes()) == []
    assert {path.name for path in UNINSTALL_FILES.glob("*.ps1")} == set(UNINSTALL_CHECKS)


def test_a_log_tail_that_masks_nothing_is_refused():
    source = (UNINSTALL_FILES / "msiexec_log_tail.ps1").read_text(encoding="utf-8")
    stub = source.replace("-replace $pattern", "-replace 'x'")
    assert stub != source
    assert log_tail_problems(stub.encode()) == ["never masks the named properties"]
