"""Contract test of the remediate role on a Windows Server through a fake WinRM host.

NOT a Windows test: no PowerShell, no msiexec and no Defender ran. ansible-playbook (the
winrm connection over pywinrm) drives avshift.remediation.remediate against a fake
Windows Server 2022 that runs Kaspersky Endpoint Security, modelled by the install
contract's FakeDefenderHost (Defender's feature, service, running mode and real-time
protection, by the rules cited there) plus what the remediation adds: av_scan's
inventory read from the model, the host lock, and msiexec removing KES.

What it proves: the server order the docs promise (docs/remediation.md, "Windows
Server"): Defender is prepared (its feature installed) while KES still protects the
host and is never turned on beside it, KES is removed, Defender is turned on right
after and proven active, the final scan is compliant, and the seconds between the
removal and Defender protecting the host are in the `installed` evidence, within
avshift_install_timeout. The figure is the fake's, not a Windows host's.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from fake_winrm import FakeWinRMHost
from powershell_ast import invoked
from test_install_contract import FakeDefenderHost
from test_winrm_contract import PASSWORD, USER, write_inventory
from windows_playbook import PlaybookRun, run_play

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "remediate" / "server2022_kes.json"
KES_PASSWORD = "Kes-Pass-1"  # a test value; the uninstall contract proves none leaks
TIMEOUT = 300


class FakeKesServer(FakeDefenderHost):
    """A Windows Server running KES, for the whole remediation."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        super().__init__(fixture)
        self.kes = dict(fixture["kes"])
        self.kes_installed = True
        # What Microsoft warns against: Defender turned on while KES still scans.
        self.defender_on_beside_kes = False
        self.lock: dict[str, Any] | None = None

    # -- what the collector would read -----------------------------------------------------

    def inventory(self) -> dict[str, Any]:
        inventory = super().inventory()
        if self.kes_installed:
            code = self.kes["product_code"]
            inventory["packages"].append(
                {
                    "name": self.kes["name"],
                    "version": self.kes["version"],
                    "publisher": self.kes["publisher"],
                    "source": "uninstall-registry",
                    "product_code": code,
                    "uninstall_string": f"MsiExec.exe /I{code}",
                    "quiet_uninstall_string": None,
                    "install_location": None,
                    "system_component": False,
                    "registry_key": "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\"
                    f"CurrentVersion\\Uninstall\\{code}",
                }
            )
            inventory["services"].append(
                {
                    "name": "AVP",
                    "display_name": "Kaspersky Endpoint Security Service",
                    "state": "running",
                    "start_mode": "auto",
                    "path": None,
                }
            )
            inventory["processes"].append({"name": "avp.exe", "path": ""})
        return inventory

    def _host_lock(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        holder = self.lock
        if args["state"] == "inspect":
            return {"changed": False, "held": False, "holder": holder}
        if args["state"] == "release":
            self.lock = None
            return {"changed": holder is not None, "held": False, "holder": holder}
        self.lock = args.get("record")
        return {"changed": True, "held": True, "holder": holder}

    # -- what the remediation changes --------------------------------------------------------

    def _win_powershell_unknown(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        source = (args.get("script") or "").encode()
        if invoked(source, "Set-Acl"):
            return self._powershell_result(
                True,
                [],
                {
                    "msiexec": "C:\\Windows\\System32\\msiexec.exe",
                    "log_dir": "C:\\ProgramData\\avshift\\msiexec-logs",
                },
            )
        self._unplanned("an unknown script")
        return {"failed": True, "msg": "fake: unknown script"}

    def _win_powershell_start(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        self.defender_on_beside_kes |= self.kes_installed
        return super()._win_powershell_start(args, check)

    def _win_powershell_realtime(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        self.defender_on_beside_kes |= self.kes_installed
        return super()._win_powershell_realtime(args, check)

    def _win_command(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        argv = args["argv"]
        if argv[1:3] != ["/x", self.kes["product_code"]]:
            return super()._win_command(args, check)
        self.kes_installed = False
        return {"changed": True, "rc": 0, "stdout": "", "stderr": "", "cmd": " ".join(argv)}


def window_now() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=2)
    return f"{start.isoformat(timespec='minutes')}/{end.isoformat(timespec='minutes')}"


def run_remediation(
    workdir: Path, host: FakeKesServer, passwords: dict[str, Any] | None = None
) -> PlaybookRun:
    if passwords is None:
        passwords = {"kes_windows": {"login": "KLAdmin", "password": KES_PASSWORD}}
    workdir.mkdir(parents=True, exist_ok=True)
    play = {
        "name": "remediate",
        "hosts": "all",
        "gather_facts": False,
        "roles": [
            {
                "role": "avshift.remediation.remediate",
                "vars": {
                    "avshift_remediate_change_id": "CHG0014014",
                    "avshift_remediate_window": window_now(),
                    "avshift_remediate_reboot": "never",
                    "avshift_remediate_passwords": passwords,
                    "avshift_install_timeout": TIMEOUT,
                },
            }
        ],
    }
    with FakeWinRMHost(host, username=USER, password=PASSWORD) as fake:
        inventory = write_inventory(workdir / "inventory.json", fake)
        return run_play(workdir, play, inventory, timeout=600)


def evidence(run: PlaybookRun, event: str) -> dict[str, Any]:
    found = [r.result for r in run.records if r.result.get("event") == event]
    assert len(found) == 1, run.explain(f"expected one {event} event, got {len(found)}")
    return found[0]


@pytest.fixture(scope="module")
def remediated(tmp_path_factory) -> tuple[FakeKesServer, PlaybookRun]:
    host = FakeKesServer(json.loads(FIXTURE.read_text(encoding="utf-8")))
    return host, run_remediation(tmp_path_factory.mktemp("remediate"), host)


def test_fake_winrm_contract_remediate_server_prepares_then_removes_then_turns_on(remediated):
    host, run = remediated
    assert run.returncode == 0, run.explain("the remediation failed")
    assert host.unplanned == []
    plan = evidence(run, "plan")["data"]
    assert plan["install"] == "microsoft"
    assert plan["install_order"] == "around-removal"
    names = host.names()
    feature = names.index("win_feature")
    removal = names.index("win_command")
    started = names.index("win_powershell:start")
    # The feature is installed while KES protects; Defender starts only after KES is gone.
    assert feature < removal < started, names
    assert host.defender_on_beside_kes is False
    assert host.kes_installed is False
    assert host.state["service"]["state"] == "running"


def test_fake_winrm_contract_remediate_server_records_the_seconds_without_protection(remediated):
    _host, run = remediated
    installed = evidence(run, "installed")["data"]
    assert installed["vendor"] == "microsoft"
    assert installed["active"] is True
    seconds = installed["unprotected_seconds"]
    # A real measurement of this run (controller time from the removal's end to Defender
    # proven active), bounded by the install timeout.
    assert isinstance(seconds, float), installed
    assert 0 <= seconds <= TIMEOUT
    removed = evidence(run, "removed")["data"]
    assert removed["products"] == ["Kaspersky Endpoint Security for Windows"]


def test_fake_winrm_contract_remediate_server_ends_compliant(remediated):
    _host, run = remediated
    verified = evidence(run, "verified")["data"]
    assert verified.get("compliant") is True, verified
    assert KES_PASSWORD not in run.stdout


def test_fake_winrm_contract_remediate_without_the_uninstall_password_changes_nothing(tmp_path):
    host = FakeKesServer(json.loads(FIXTURE.read_text(encoding="utf-8")))
    run = run_remediation(tmp_path, host, passwords={})
    assert run.returncode != 0, run.explain("a run without the KES password went on")
    # Refused by the preflight: no feature added, nothing removed, Defender left alone.
    names = host.names()
    assert not {"win_feature", "win_command"} & set(names), names
    assert not any(name.startswith("win_powershell:") for name in names), names
    assert host.kes_installed is True
    message = " ".join(str(r.result.get("msg")) for r in run.records if r.status == "failed")
    assert "preflight: no uninstall password for kes_windows" in message
    assert "avshift_remediate_passwords.kes_windows" in message
    assert "nothing was changed" in message
