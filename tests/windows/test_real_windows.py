"""Opt-in test on real Windows hosts: the only test that executes av_scan.ps1.

Skipped unless AVSHIFT_WINDOWS_INVENTORY names an Ansible inventory of Windows lab
hosts (with their connection variables: ansible_connection=winrm or psrp, credentials,
...). AVSHIFT_WINDOWS_HOSTS narrows the host pattern (default: all). A skipped run means
Windows was NOT tested; see docs/windows.md.

It runs the real av_scan task (collector on the host, classification on the controller)
and checks that every host answered with a well-formed, complete inventory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from windows_playbook import PlaybookRun, TaskRecord, run_av_scan

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import load_catalogue

INVENTORY = os.environ.get("AVSHIFT_WINDOWS_INVENTORY", "")
HOSTS = os.environ.get("AVSHIFT_WINDOWS_HOSTS", "all")
SERVICE_STATES = {"running", "stopped", "unknown"}
PRODUCT_CODE = re.compile(r"^\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}$")

pytestmark = pytest.mark.skipif(
    not INVENTORY,
    reason="real Windows NOT tested: set AVSHIFT_WINDOWS_INVENTORY to an inventory of "
    "Windows lab hosts to run av_scan.ps1 for real (docs/windows.md)",
)


def _scan(tmp_path_factory, name: str, *, check: bool) -> PlaybookRun:
    inventory = Path(INVENTORY).expanduser().resolve()
    if not inventory.exists():
        pytest.fail(f"AVSHIFT_WINDOWS_INVENTORY={INVENTORY} does not exist")
    run = run_av_scan(
        tmp_path_factory.mktemp(name),
        inventory,
        {"return_inventory": True},
        hosts=HOSTS,
        check=check,
        keep_ansible_env=True,  # the lab may need the user's Ansible settings
    )
    if not run.records:
        pytest.fail(run.explain(f"no host matched {HOSTS!r} in {inventory}"))
    return run


@pytest.fixture(scope="module")
def real_scan(tmp_path_factory) -> PlaybookRun:
    return _scan(tmp_path_factory, "real-windows", check=False)


def _explain(record: TaskRecord, message: str) -> str:
    warnings = "\n".join(record.warnings) or "(none)"
    return f"{record.host}: {message}\nwarnings:\n{warnings}\nresult: {record.result}"


def test_real_windows_every_host_answered(real_scan):
    for record in real_scan.records:
        assert record.status == "ok", _explain(record, f"task {record.status}")


def test_real_windows_inventory_is_well_formed_and_complete(real_scan):
    catalogue_paths = set(load_catalogue().signatures["windows"].path_list)
    for record in real_scan.records:
        inventory = record.result.get("inventory")
        assert isinstance(inventory, dict), _explain(record, "no inventory returned")
        assert inventory["schema"] == 1
        assert inventory["os_family"] == "windows"
        assert isinstance(inventory["host"], str) and inventory["host"]
        assert inventory["unreadable"] == [], _explain(record, "parts could not be read")

        os_info = inventory["os"]
        assert isinstance(os_info["name"], str) and "Windows" in os_info["name"]
        assert re.match(r"^\d+\.\d+\.\d+", os_info["version"]), os_info
        assert isinstance(os_info["server"], bool)

        for package in inventory["packages"]:
            assert isinstance(package["name"], str) and package["name"].strip()
            assert package["source"] == "uninstall-registry"
            code = package["product_code"]
            assert code is None or PRODUCT_CODE.match(code), package

        services = {service["name"]: service for service in inventory["services"]}
        assert {service["state"] for service in services.values()} <= SERVICE_STATES
        # Windows cannot run without these two.
        for always_running in ("RpcSs", "EventLog"):
            service = services.get(always_running)
            assert service and service["state"] == "running", (always_running, service)

        assert inventory["drivers"], _explain(record, "no drivers listed")
        for driver in inventory["drivers"]:
            assert isinstance(driver["name"], str) and driver["name"]

        process_names = {process["name"].lower() for process in inventory["processes"]}
        # The collector itself runs in one of these (wsmprovhost.exe under PSRP).
        hosts_of_the_collector = {"powershell.exe", "pwsh.exe", "wsmprovhost.exe"}
        assert process_names & hosts_of_the_collector, sorted(process_names)

        assert isinstance(inventory["security_center"], list)
        if os_info["server"]:
            assert inventory["security_center"] == [], "Windows Server has no Security Center"
        for product in inventory["security_center"]:
            assert isinstance(product["display_name"], str) and product["display_name"]
            assert isinstance(product["product_state"], int)

        assert set(inventory["paths"]) <= catalogue_paths


def test_real_windows_host_is_classified(real_scan):
    for record in real_scan.records:
        assert isinstance(record.result["compliant"], bool), _explain(record, "no verdict")
        assert (
            record.result["ansible_facts"]["avshift_scan"]["compliant"]
            is record.result["compliant"]
        )


def test_real_windows_check_mode_scans_the_same(real_scan, tmp_path_factory):
    checked = {
        record.host: record for record in _scan(tmp_path_factory, "check", check=True).records
    }
    for record in real_scan.records:
        in_check = checked[record.host]
        assert in_check.status == "ok", _explain(in_check, "failed in check mode")
        assert in_check.result["changed"] is False
        assert in_check.result["disallowed"] == record.result["disallowed"]
