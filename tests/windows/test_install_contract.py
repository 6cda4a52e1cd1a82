"""Contract tests of the install role on Windows through real Ansible and a fake WinRM host.

NOT a Windows test: no PowerShell ran. ansible-playbook (the winrm connection over
pywinrm) drives the avshift.remediation.install role with avshift_install_vendor=microsoft
against fake_winrm.FakeWinRMHost on 127.0.0.1. FakeDefenderHost answers each module the
role calls (setup, win_powershell, win_feature, win_tempfile, win_copy, win_command,
win_file) with results shaped as those modules document them, computed from a
hand-written host state (fixtures/install/) that it updates as a real run would, and it
refuses what Windows refuses (each rule below names its source; docs/windows.md lists
them): WinDefend cannot be opened for ChangeConfig, Server has no Security Center, a
policy that turns Defender off wins, a removed feature needs a source, Defender's
running mode decides whether it protects. The role's scripts are recognised by what
they invoke (their syntax tree), not by their bytes.

What these tests prove: which modules and scripts the role runs, in which order and
with which arguments, and that it reads the answers right; check mode changes nothing;
a second run changes nothing; the onboarding script reaches the host intact, runs once,
is deleted, and its content never appears in ansible-playbook's output at -vvvv. What
the PowerShell scripts and the modules do on a real Windows host is not covered.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import json
import ntpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_winrm import ExecPayload, FakeWinRMHost, ReceivedCommand, Reply, module_reply
from leaks import find, marker
from powershell_ast import invoked, syntax_errors
from test_winrm_contract import PASSWORD, USER, write_inventory
from windows_playbook import REPO_ROOT, PlaybookRun, TaskRecord, run_play

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "install"
ROLE_FILES = REPO_ROOT / "roles" / "install" / "files"
MODULE_PREFIX = "ansible_collections.ansible.windows.plugins.modules."
AVSHIFT_MODULE_PREFIX = "ansible_collections.avshift.remediation.plugins.modules."
PAYLOAD_SEPARATOR = b"\n\0\0\0\0\n"
TEMP = "C:\\Users\\avshift\\AppData\\Local\\Temp"
HOST = "fakewin"  # the inventory name write_inventory gives the fake host
# 0x800106BA: "The Microsoft Defender Antivirus service is disabled" ("Configure and
# manage Microsoft Defender Antivirus with the mpcmdrun.exe command-line tool"); the rest
# of the wording is hand-written.
DEFENDER_OFF_ERROR = "0x800106ba: the Microsoft Defender Antivirus service is not running"
# win_service opens a service with ChangeConfig whenever state is not absent, check mode
# too (ansible.windows win_service.ps1, its $rights block); WinDefend's DACL gives
# Administrators QueryConfig, QueryStatus, Start and no ChangeConfig or Stop. The error
# text is win_service's (ansible/ansible#72379).
ACCESS_DENIED = "Failed to open service '{name}' (Access is denied, Win32ErrorCode 5 - 0x00000005)"
PROTECTED_SERVICES = {"windefend"}
# Install-WindowsFeature of a feature whose payload was removed, without a source
# (DISM 0x800f081f, "Configure a Windows Repair Source").
SOURCE_MISSING = (
    "Failed to install features: 0x800f081f The source files could not be found. Use the "
    "Source option to specify the location of the files that are required to restore the "
    "feature."
)
SERVER_2016_BUILD = 14393
# What the role's own policy rule keys on (plugin_utils/defender.py); the fake applies
# Windows' rule: DisableAntiSpyware and DisableAntiVirus count on Server only.
POLICY_ROOT = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender"


def _utc_text(moment: datetime.datetime) -> str:
    """A time as the collector writes it (UTC, "Z")."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def script_kind(script: str) -> str:
    """Which of the role's scripts this is, by the commands it invokes."""
    source = script.encode("utf-8")
    if invoked(source, "Start-Service"):
        return "win_powershell:start"
    if invoked(source, "Set-MpPreference", "DisableRealtimeMonitoring"):
        return "win_powershell:realtime"
    if invoked(source, "Update-MpSignature"):
        return "win_powershell:signatures"
    if invoked(source, "Get-MpComputerStatus"):
        return "win_powershell:status"
    return "win_powershell:unknown"


ONBOARDING_MARKER = marker("onboarding_script")


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Module:
    """One module run the fake host received."""

    name: str  # short module name, e.g. win_service; win_powershell:status for the scripts
    args: dict[str, Any]
    check_mode: bool


class FakeDefenderHost:
    """A Windows host for the install role: answers its modules from a fixture's state."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        self.facts = fixture["facts"]
        self.state = copy.deepcopy(fixture["host"])
        self.modules: list[Module] = []
        self.uploads: dict[str, bytes] = {}  # remote path -> content (put_file)
        self.files: dict[str, bytes] = {}  # files the role left on the host
        self.unplanned: list[str] = []
        self._tempdirs = 0

    # -- the host's state, as Defender would report it ---------------------------------

    def policies(self) -> list[str]:
        """The disabling policy values set on the host, as key\\value paths."""
        return [
            f"{POLICY_ROOT}\\{name}" if "\\" not in name else name
            for name in self.state.get("disabled_by_policy", [])
        ]

    def _policy_in_force(self, value: str) -> bool:
        # "DisableAntiSpyware ... only applies to Windows Server" (unattend reference).
        names = [path.rsplit("\\", 1)[-1] for path in self.policies()]
        if value in ("DisableAntiSpyware", "DisableAntiVirus") and not self.state["server"]:
            return False
        return value in names

    def held_off(self) -> bool:
        # A client turns Defender off while another antivirus is registered with Security
        # Center ("Microsoft Defender Antivirus compatibility with other security
        # products"); Server has no Security Center and does not step aside.
        return not self.state["server"] and bool(self.state["other_antivirus"])

    def status(self) -> tuple[dict[str, Any] | None, str | None]:
        service = self.state["service"]
        off = self._policy_in_force("DisableAntiSpyware") or self._policy_in_force(
            "DisableAntiVirus"
        )
        if not service["exists"] or service["state"] != "running" or self.held_off() or off:
            return None, DEFENDER_OFF_ERROR
        realtime = not self.state["realtime_monitoring_disabled"] and not self._policy_in_force(
            "DisableRealtimeMonitoring"
        )
        return {
            "am_service_enabled": True,
            "antivirus_enabled": True,
            "real_time_protection_enabled": realtime,
            # Absent on platforms before 4.18.2008.9: null, as the status script sends it.
            "am_running_mode": self.state.get("am_running_mode", "Normal"),
            "am_product_version": self.state.get("am_product_version", "4.18.25010.11"),
            # Definitions an hour old, as a Defender updating on its own has them (the
            # protection rules ask for current ones); a host state may give its own.
            "antivirus_signature_last_updated": self.state.get("signatures_updated")
            or _utc_text(
                datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
            ),
        }, None

    def status_object(self) -> dict[str, Any]:
        status, error = self.status()
        return {
            "server": self.state["server"],
            "build": self.state.get("build", 20348 if self.state["server"] else 26100),
            "feature": self.state["feature"],
            "service": dict(self.state["service"]),
            "status": status,
            "status_error": error,
            # SecurityCenter2 exists on client editions only.
            "other_antivirus": [] if self.state["server"] else list(self.state["other_antivirus"]),
            "disabled_by_policy": self.policies(),
            "mde_onboarded": self.state["mde_onboarded"],
        }

    # -- what the collector would read -------------------------------------------------

    def inventory(self) -> dict[str, Any]:
        """What av_scan's collector would send from this host, shaped as av_scan.ps1 sends it."""
        services = []
        service = self.state["service"]
        if service["exists"]:
            services.append(
                {
                    "name": "WinDefend",
                    "display_name": "Microsoft Defender Antivirus Service",
                    "state": "running" if service["state"] == "running" else "stopped",
                    "start_mode": service["start_mode"],
                    "path": None,
                }
            )
        status, error = self.status()
        defender = None
        if self.state["feature"] in ("Installed", None):  # None: a client, Defender built in
            defender = {
                "am_service_enabled": None,
                "antivirus_enabled": None,
                "real_time_protection_enabled": None,
                "antivirus_signature_last_updated": None,
                "am_running_mode": None,
                **(status or {}),
                "disabled_by_policy": self.policies(),
                "error": error,
            }
            defender.pop("am_product_version", None)
        # SecurityCenter2 exists on client editions only; productState 0x61100 is on and
        # 0x60100 off (bits 0xF000, plugin_utils/classifier.py).
        security_center = []
        if not self.state["server"]:
            security_center = [
                {"display_name": name, "product_state": 0x61100, "path": None}
                for name in self.state["other_antivirus"]
            ]
            security_center.append(
                {
                    "display_name": "Windows Defender",
                    "product_state": 0x61100 if status else 0x60100,
                    "path": None,
                }
            )
        return {
            "schema": 1,
            "host": HOST,
            "os_family": "windows",
            "collected_at": _utc_text(datetime.datetime.now(datetime.timezone.utc)),
            "os": {
                "name": self.facts["ansible_distribution"],
                "version": self.facts["ansible_distribution_version"],
                "server": self.state["server"],
            },
            "packages": [],
            "services": services,
            "drivers": [],
            "processes": [],
            "security_center": security_center,
            "defender": defender,
            "paths": [],
        }

    def _av_scan(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        return {"changed": False, "inventory": self.inventory()}

    # -- WinRM --------------------------------------------------------------------------

    def __call__(self, command: ReceivedCommand) -> Reply:
        payload = command.payload
        if payload is None:
            script = command.encoded_script or ""
            if script.startswith("Remove-Item ") and TEMP in script:
                return Reply()  # Ansible removing its own temporary directory
            return self._unplanned(f"command {script[:80]!r}")
        if payload.runs_module:
            return self._module(payload)
        if "powershell_mkdtemp.ps1" in payload.action_names:
            name = payload.action("powershell_mkdtemp.ps1")["params"]["Name"]
            return Reply(stdout=f"{TEMP}\\{name}\r\n".encode())
        if "winrm_put_file.ps1" in payload.action_names:
            path = payload.action("winrm_put_file.ps1")["params"]["Path"]
            stream = bytes(command.stdin).split(PAYLOAD_SEPARATOR, 2)[2]
            data = b"".join(base64.b64decode(line) for line in stream.split(b"\r\n") if line)
            self.uploads[path] = data
            return Reply(stdout=json.dumps({"sha1": hashlib.sha1(data).hexdigest()}).encode())
        return self._unplanned(f"exec actions {payload.action_names}")

    def _unplanned(self, what: str) -> Reply:
        self.unplanned.append(what)
        return Reply(stderr=f"fake: no reply planned for {what}".encode(), rc=1)

    def _module(self, payload: ExecPayload) -> Reply:
        name = payload.module_script_name.removesuffix(".ps1")
        name = name.removeprefix(MODULE_PREFIX).removeprefix(AVSHIFT_MODULE_PREFIX)
        args = {k: v for k, v in payload.module_args.items() if not k.startswith("_ansible_")}
        check = bool(payload.module_args.get("_ansible_check_mode"))
        if name == "win_powershell":
            name = script_kind(args.get("script") or "")
        self.modules.append(Module(name, args, check))
        handler = getattr(self, "_" + name.replace(":", "_"), None)
        if handler is None:
            self._unplanned(f"module {name}")
            return module_reply({"failed": True, "msg": f"fake: unplanned module {name}"})
        return module_reply(handler(args, check))

    @staticmethod
    def _powershell_result(
        changed: bool, output: list[Any], result: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            "changed": changed,
            "output": output,
            "result": result or {},
            "host_out": "",
            "host_err": "",
            "error": [],
            "warning": [],
            "verbose": [],
            "debug": [],
            "information": [],
        }

    def _setup(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        return {
            "changed": False,
            "ansible_facts": dict(self.facts, gather_subset=args["gather_subset"]),
        }

    def _win_powershell_status(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        return self._powershell_result(True, [self.status_object()])

    def _win_powershell_start(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        service = self.state["service"]
        result = {"restart_required": False, "start_type": service["start_mode"]}
        if service["state"] == "running":
            return self._powershell_result(False, [], result)
        if service["start_mode"] == "disabled":
            # Server 2016's way back: MpCmdRun -wdenable, then a restart ("Enable and
            # update Microsoft Defender Antivirus on Windows Server").
            if self.state.get("build") != SERVER_2016_BUILD:
                return dict(
                    self._powershell_result(True, [], result),
                    failed=True,
                    msg="WinDefend is disabled (start type Disabled), which avshift does not "
                    "change",
                )
            if not check:
                self.state["wdenable_run"] = True
            return self._powershell_result(True, [], dict(result, restart_required=True))
        # A client with another antivirus registered starts and at once stops it
        # ("Troubleshoot ... while migrating": "started and then stopped").
        if not check and not self.held_off():
            service["state"] = "running"
        return self._powershell_result(True, [], result)

    def _win_powershell_signatures(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        before = self.state.get("signature_version", "1.421.0.0")
        error = self.state.get("signature_update_error")
        after = before if error or check else self.state.get("signature_latest", before)
        if not check:
            self.state["signature_version"] = after
        result = {"updated": after != before, "error": error, "version": after}
        return self._powershell_result(after != before, [], result)

    def _win_powershell_realtime(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        was_off = self.state["realtime_monitoring_disabled"]
        if was_off and not check and self.state["realtime_setting_honoured"]:
            self.state["realtime_monitoring_disabled"] = False
        return self._powershell_result(was_off, [])

    def _win_feature(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        assert args["name"] == "Windows-Defender"
        missing = self.state["feature"] != "Installed"
        if missing and self.state["feature"] == "Removed" and not args.get("source"):
            return {"failed": True, "changed": False, "msg": SOURCE_MISSING}
        reboot = missing and not check and self.state["feature_install_requires_reboot"]
        if missing and not check:
            self.state["feature"] = "Installed"
            self.state["service"] = {"exists": True, "start_mode": "auto", "state": "stopped"}
        feature_result = []
        if missing:
            feature_result.append(
                {
                    "id": 1007,
                    "display_name": "Microsoft Defender Antivirus",
                    "message": [],
                    "reboot_required": reboot,
                    "restart_needed": reboot,
                    "skip_reason": "NotApplicable",
                    "success": True,
                }
            )
        return {
            "changed": missing,
            "success": True,
            "exitcode": "Success" if missing else "NoChangeNeeded",
            "reboot_required": reboot,
            "feature_result": feature_result,
        }

    def _win_service(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        # The role must never get here: the rule is modelled so that it fails if it does.
        if args["name"].lower() in PROTECTED_SERVICES and args.get("state") != "absent":
            return {
                "failed": True,
                "changed": False,
                "msg": ACCESS_DENIED.format(name=args["name"]),
            }
        return {"failed": True, "changed": False, "msg": f"fake: no service {args['name']}"}

    def _win_tempfile(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        self._tempdirs += 1
        return {"changed": True, "path": f"{TEMP}\\{args['prefix']}{self._tempdirs}"}

    def _win_copy(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        if args["_copy_mode"] == "query":
            return {"changed": False, "files": args["files"], "directories": [], "symlinks": []}
        content = self.uploads[args["src"]]
        self.files[args["dest"]] = content
        return {
            "changed": True,
            "dest": args["dest"],
            "checksum": hashlib.sha1(content).hexdigest(),
            "operation": "file_copy",
        }

    def _win_command(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        script = args["argv"][-1]
        if script not in self.files:
            return {"failed": True, "changed": False, "rc": 2, "msg": f"{script} not found"}
        rc = self.state["onboarding_script_rc"]
        if rc == 0:
            self.state["mde_onboarded"] = True
        result = {
            "changed": True,
            "rc": rc,
            "stdout": "",
            "stderr": "",
            "cmd": " ".join(args["argv"]),
        }
        if rc:
            result.update(failed=True, msg="non-zero return code")
        return result

    def _win_file(self, args: dict[str, Any], check: bool) -> dict[str, Any]:
        if args.get("_diff_peek"):
            # win_copy's --diff asks what is at the destination before copying.
            exists = args["path"] in self.files
            return {"changed": False, "state": "file" if exists else "absent", "rc": 0}
        assert args["state"] == "absent"
        prefix = args["path"].rstrip("\\") + "\\"
        gone = [path for path in self.files if path.startswith(prefix)]
        for path in gone:
            del self.files[path]
        return {"changed": True}

    # -- what tests read ------------------------------------------------------------------

    def names(self) -> list[str]:
        return [module.name for module in self.modules]

    def calls(self, name: str) -> list[Module]:
        return [module for module in self.modules if module.name == name]


def run_role(
    workdir: Path,
    host: FakeDefenderHost,
    role_vars: dict[str, Any] | None = None,
    *,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
) -> PlaybookRun:
    """One ansible-playbook run of the install role against a fake host answering ``host``."""
    workdir.mkdir(parents=True, exist_ok=True)
    play = {
        "name": "install",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {
                "name": "install",
                "ansible.builtin.include_role": {"name": "avshift.remediation.install"},
                "vars": {"avshift_install_vendor": "microsoft", **(role_vars or {})},
            }
        ],
    }
    options = [*(["--check"] if check else []), *(["--diff"] if diff else [])]
    if verbosity:
        options.append("-" + "v" * verbosity)
    with FakeWinRMHost(host, username=USER, password=PASSWORD) as fake:
        inventory = write_inventory(workdir / "inventory.json", fake)
        run = run_play(workdir, play, inventory, options=tuple(options))
    assert host.unplanned == [], run.explain(
        f"the role sent what no fake answers: {host.unplanned}"
    )
    return run


def task_name(record: TaskRecord) -> str:
    return record.task.split(" : ", 1)[-1]


def outcome(run: PlaybookRun) -> dict[str, Any]:
    """The avshift_install_result fact, as the role's last task shows it."""
    for record in run.records:
        if task_name(record) == "Report the outcome":
            return record.result["avshift_install_result"]
    raise AssertionError(run.explain("the role did not report its outcome"))


def failure(run: PlaybookRun) -> TaskRecord:
    failed = [record for record in run.records if record.status == "failed"]
    assert len(failed) == 1, run.explain(f"expected one failed task, got {len(failed)}")
    assert run.returncode != 0
    return failed[0]


def changed_tasks(run: PlaybookRun) -> list[str]:
    return [task_name(r) for r in run.records if r.result.get("changed") and r.status == "ok"]


# -- Windows Server ---------------------------------------------------------------------

ACTIVE_MSG = (
    "Defender Antivirus protects the host: running mode Normal, antivirus and real-time "
    "protection on"
)


def test_fake_winrm_contract_install_server_turns_defender_on(tmp_path):
    host = FakeDefenderHost(load_fixture("server2022_defender_off.json"))
    run = run_role(tmp_path, host)
    assert run.returncode == 0, run.explain("the role failed")
    assert host.names() == [
        "setup",
        "win_powershell:status",
        "win_powershell:start",
        "win_powershell:realtime",
        "win_powershell:signatures",
        "win_powershell:status",
        # The scan the install role verifies protection by (the audit's rules).
        "av_scan",
    ]
    assert host.calls("setup")[0].args == {
        "gather_subset": ["!all", "!min", "platform", "distribution"]
    }
    # Started, never reconfigured: its start mode is what it was.
    assert host.state["service"] == {"exists": True, "start_mode": "manual", "state": "running"}
    assert host.state["realtime_monitoring_disabled"] is False
    assert host.state["signature_version"] == "1.421.1800.0"
    result = outcome(run)
    assert result["signatures"] == {"updated": True, "error": None, "version": "1.421.1800.0"}
    assert {key: result[key] for key in ("active", "deferred", "reboot_required", "msg")} == {
        "active": True,
        "deferred": False,
        "reboot_required": False,
        "msg": ACTIVE_MSG,
    }
    assert set(changed_tasks(run)) == {
        "Defender | start the WinDefend service",
        "Defender | turn real-time protection on",
        "Defender | update the security intelligence",
    }


def test_fake_winrm_contract_winDefend_refuses_what_win_service_asks(tmp_path):
    """The rule the role was fixed for: win_service cannot open WinDefend, whatever it is
    asked to do, in check mode too. The fake refuses it as Windows does."""
    host = FakeDefenderHost(load_fixture("server2022_defender_off.json"))
    for state in ("started", "stopped"):
        answer = host._win_service({"name": "WinDefend", "state": state}, check=True)
        assert answer["failed"] and "Access is denied" in answer["msg"]
    run = run_role(tmp_path, host)
    assert run.returncode == 0, run.explain("the role failed")
    assert "win_service" not in host.names()


def test_fake_winrm_contract_install_second_run_changes_nothing(tmp_path):
    host = FakeDefenderHost(load_fixture("server2022_defender_off.json"))
    first = run_role(tmp_path / "first", host)
    assert first.returncode == 0, first.explain("the first run failed")
    host.modules.clear()
    second = run_role(tmp_path / "second", host)
    assert second.returncode == 0, second.explain("the second run failed")
    assert changed_tasks(second) == []
    assert "win_feature" not in host.names()
    assert outcome(second)["active"] is True


def test_fake_winrm_contract_install_check_mode_reports_and_changes_nothing(tmp_path):
    fixture = load_fixture("server2022_defender_off.json")
    host = FakeDefenderHost(fixture)
    run = run_role(tmp_path, host, check=True)
    assert run.returncode == 0, run.explain("the role failed in check mode")
    assert host.state == fixture["host"]
    # Only the read-only probe runs for real; the rest is asked to pretend.
    assert [(m.name, m.check_mode) for m in host.modules] == [
        ("setup", True),
        ("win_powershell:status", False),
        ("win_powershell:start", True),
        ("win_powershell:realtime", True),
    ]
    assert set(changed_tasks(run)) == {
        "Defender | start the WinDefend service",
        "Defender | turn real-time protection on",
    }
    result = outcome(run)
    assert result["active"] is None
    assert result["check_mode"] is True


def test_fake_winrm_contract_install_server_without_feature_adds_it_and_asks_for_restart(
    tmp_path,
):
    host = FakeDefenderHost(load_fixture("server2019_feature_missing.json"))
    run = run_role(tmp_path, host)
    record = failure(run)
    assert task_name(record) == "Defender | the restart is the caller's"
    message = record.result["msg"]
    assert "Windows must restart before Defender Antivirus can run" in message
    assert "avshift remediate restarts it itself inside the change window" in message
    assert "Nothing was removed" in message
    assert host.names() == ["setup", "win_powershell:status", "win_feature"]
    assert host.calls("win_feature")[0].args == {"name": "Windows-Defender", "state": "present"}
    assert host.state["feature"] == "Installed"


def test_fake_winrm_contract_install_prepare_reports_the_restart_instead_of_failing(tmp_path):
    """What the remediate role runs before the removal on a server: the feature only."""
    host = FakeDefenderHost(load_fixture("server2019_feature_missing.json"))
    run = run_role(tmp_path, host, {"avshift_install_defender_phase": "prepare"})
    assert run.returncode == 0, run.explain("prepare failed")
    assert host.names() == ["setup", "win_powershell:status", "win_feature"]
    result = outcome(run)
    assert (result["reboot_required"], result["active"]) == (True, False)
    # After the restart: prepared, and still nothing started while the old product runs.
    host.state["service"]["state"] = "stopped"
    host.modules.clear()
    again = run_role(
        tmp_path / "after-restart", host, {"avshift_install_defender_phase": "prepare"}
    )
    assert again.returncode == 0, again.explain("prepare after the restart failed")
    assert host.names() == ["setup", "win_powershell:status"]
    assert outcome(again)["msg"].startswith("prepared: the Windows-Defender feature is present")
    assert host.state["service"]["state"] == "stopped"


def test_fake_winrm_contract_install_activate_leaves_the_feature_alone(tmp_path):
    host = FakeDefenderHost(load_fixture("server2022_defender_off.json"))
    run = run_role(tmp_path, host, {"avshift_install_defender_phase": "activate"})
    assert run.returncode == 0, run.explain("activate failed")
    assert "win_feature" not in host.names()
    assert outcome(run)["active"] is True


def test_fake_winrm_contract_install_removed_feature_needs_a_source(tmp_path):
    fixture = load_fixture("server2019_feature_missing.json")
    fixture["host"]["feature"] = "Removed"
    host = FakeDefenderHost(fixture)
    run = run_role(tmp_path, host)
    record = failure(run)
    assert "give avshift_install_defender_feature_source" in record.result["msg"]
    assert host.names() == ["setup", "win_powershell:status"]

    source = "\\\\fileserver\\sxs\\2019"
    with_source = run_role(
        tmp_path / "source",
        FakeDefenderHost(fixture),
        {
            "avshift_install_defender_feature_source": source,
            "avshift_install_defender_phase": "prepare",
        },
    )
    assert with_source.returncode == 0, with_source.explain("the feature with a source failed")
    assert outcome(with_source)["reboot_required"] is True


def test_fake_winrm_contract_install_check_mode_on_server_without_feature(tmp_path):
    # No WinDefend exists yet: check mode reports the feature and skips the service.
    fixture = load_fixture("server2019_feature_missing.json")
    host = FakeDefenderHost(fixture)
    run = run_role(tmp_path, host, check=True)
    assert run.returncode == 0, run.explain("the role failed in check mode")
    assert host.names() == ["setup", "win_powershell:status", "win_feature"]
    assert host.calls("win_feature")[0].check_mode is True
    assert host.state == fixture["host"]
    assert changed_tasks(run) == ["Defender | add the Windows-Defender feature"]


def test_fake_winrm_contract_install_feature_refused_fails_before_any_change(tmp_path):
    host = FakeDefenderHost(load_fixture("server2019_feature_missing.json"))
    run = run_role(tmp_path, host, {"avshift_install_defender_feature": False})
    record = failure(run)
    assert "lacks the Windows-Defender feature (Available)" in record.result["msg"]
    assert "avshift_install_defender_feature is false" in record.result["msg"]
    assert host.names() == ["setup", "win_powershell:status"]


def test_fake_winrm_contract_install_defender_that_stays_off_fails_the_role(tmp_path):
    host = FakeDefenderHost(load_fixture("server2022_tamper_protected.json"))
    run = run_role(tmp_path, host, {"avshift_install_timeout": 1})
    record = failure(run)
    assert task_name(record) == "Defender | Defender Antivirus protects the host"
    message = record.result["msg"]
    assert "Defender Antivirus does not protect fakewin after 1 s" in message
    assert "real-time protection is off" in message
    # The status was read again after the attempt, until the timeout.
    assert host.names().count("win_powershell:status") >= 2


@pytest.mark.parametrize(
    "mode, shown",
    [
        ("Passive Mode", "running mode Passive Mode, not Normal"),
        ("EDR Block Mode", "running mode EDR Block Mode, not Normal"),
        ("Not running", "running mode Not running, not Normal"),
        ("", "running mode empty, not Normal"),
    ],
)
def test_fake_winrm_contract_install_defender_running_but_not_normal_does_not_protect(
    tmp_path, mode, shown
):
    """WinDefend runs in passive and EDR block mode too, without protecting the host."""
    fixture = load_fixture("server2022_defender_off.json")
    fixture["host"]["am_running_mode"] = mode
    run = run_role(tmp_path, FakeDefenderHost(fixture), {"avshift_install_timeout": 1})
    assert shown in failure(run).result["msg"]


def test_fake_winrm_contract_install_old_platform_without_running_mode(tmp_path):
    """Platforms before 4.18.2008.9 have no AMRunningMode: the service and real-time
    protection decide."""
    fixture = load_fixture("server2022_defender_off.json")
    fixture["host"]["am_running_mode"] = None
    run = run_role(tmp_path, FakeDefenderHost(fixture))
    assert run.returncode == 0, run.explain("the role failed on an old platform")
    assert outcome(run)["active"] is True


@pytest.mark.parametrize(
    "fixture_name, policy, refused",
    [
        ("server2022_defender_off.json", "DisableAntiSpyware", True),
        ("server2022_defender_off.json", "Real-Time Protection\\DisableRealtimeMonitoring", True),
        ("win11_defender_on.json", "Real-Time Protection\\DisableRealtimeMonitoring", True),
        # "will not change Microsoft Defender Antivirus behavior on client devices"
        ("win11_defender_on.json", "DisableAntiSpyware", False),
    ],
)
def test_fake_winrm_contract_install_a_policy_that_turns_defender_off_is_reported(
    tmp_path, fixture_name, policy, refused
):
    fixture = load_fixture(fixture_name)
    fixture["host"]["disabled_by_policy"] = [policy]
    host = FakeDefenderHost(fixture)
    run = run_role(tmp_path, host)
    if not refused:
        assert run.returncode == 0, run.explain("a client ignores DisableAntiSpyware")
        return
    record = failure(run)
    assert task_name(record) == "Defender | no policy turns Defender Antivirus off"
    assert f"{policy.rsplit(chr(92), 1)[-1]}" in record.result["msg"]
    assert "avshift does not override a policy. Nothing was changed." in record.result["msg"]
    assert host.names() == ["setup", "win_powershell:status"]


def test_fake_winrm_contract_install_server_2016_with_defender_disabled_uses_wdenable(tmp_path):
    fixture = load_fixture("server2022_defender_off.json")
    fixture["host"]["build"] = SERVER_2016_BUILD
    fixture["host"]["service"]["start_mode"] = "disabled"
    host = FakeDefenderHost(fixture)
    run = run_role(tmp_path, host)
    assert run.returncode == 0, run.explain("the role failed")
    assert host.state["wdenable_run"] is True
    result = outcome(run)
    assert (result["reboot_required"], result["active"]) == (True, None)
    assert "MpCmdRun -wdenable" in result["msg"]


def test_fake_winrm_contract_install_a_disabled_defender_elsewhere_is_refused(tmp_path):
    fixture = load_fixture("server2022_defender_off.json")
    fixture["host"]["service"]["start_mode"] = "disabled"
    run = run_role(tmp_path, FakeDefenderHost(fixture))
    assert "start type Disabled" in failure(run).result["msg"]


def test_fake_winrm_contract_install_signatures_that_cannot_update_are_reported(tmp_path):
    fixture = load_fixture("server2022_defender_off.json")
    fixture["host"]["signature_update_error"] = "0x8024402c: no update source reachable"
    run = run_role(tmp_path, FakeDefenderHost(fixture))
    assert run.returncode == 0, run.explain("an offline host still gets Defender on")
    assert outcome(run)["signatures"]["error"] == "0x8024402c: no update source reachable"


# -- Windows clients ----------------------------------------------------------------------


def test_fake_winrm_contract_install_client_with_defender_on_needs_nothing(tmp_path):
    host = FakeDefenderHost(load_fixture("win11_defender_on.json"))
    run = run_role(tmp_path, host)
    assert run.returncode == 0, run.explain("the role failed")
    assert "win_feature" not in host.names()
    assert changed_tasks(run) == []
    assert outcome(run)["active"] is True


def test_fake_winrm_contract_install_client_with_other_av_fails_before_any_change(tmp_path):
    host = FakeDefenderHost(load_fixture("win11_kes_registered.json"))
    run = run_role(tmp_path, host)
    record = failure(run)
    message = record.result["msg"]
    assert "while Kaspersky Endpoint Security for Windows is registered" in message
    assert "avshift_install_defender_defer_when_other_av: true" in message
    assert host.names() == ["setup", "win_powershell:status"]


def test_fake_winrm_contract_install_client_with_other_av_defers_when_asked(tmp_path):
    host = FakeDefenderHost(load_fixture("win11_kes_registered.json"))
    run = run_role(tmp_path, host, {"avshift_install_defender_defer_when_other_av": True})
    assert run.returncode == 0, run.explain("the role failed although deferral was asked")
    assert host.names() == ["setup", "win_powershell:status"]
    result = outcome(run)
    assert result["deferred"] is True
    assert result["active"] is False
    assert "Kaspersky Endpoint Security for Windows" in result["msg"]
    assert changed_tasks(run) == []


def test_fake_winrm_contract_install_defer_does_not_apply_once_the_other_av_is_gone(tmp_path):
    # After the removal the same variable must not hide a Defender that can be turned on.
    fixture = load_fixture("win11_kes_registered.json")
    fixture["host"]["other_antivirus"] = []
    host = FakeDefenderHost(fixture)
    run = run_role(tmp_path, host, {"avshift_install_defender_defer_when_other_av": True})
    assert run.returncode == 0, run.explain("the role failed")
    assert host.state["service"]["state"] == "running"
    result = outcome(run)
    assert result["deferred"] is False
    assert result["active"] is True


# -- Defender for Endpoint onboarding -----------------------------------------------------


@pytest.fixture
def onboarding_script(tmp_path) -> Path:
    path = tmp_path / "WindowsDefenderATPOnboardingScript.cmd"
    path.write_bytes(
        b"@echo off\r\n"
        b"REM hand-written stand-in for the tenant's onboarding script\r\n"
        b'reg add "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection" '
        b"/v OnboardingInfo /t REG_SZ /d " + ONBOARDING_MARKER.encode() + b" /f\r\n"
    )
    return path


def leaked(run: PlaybookRun, secret: bytes) -> list[str]:
    """Where the script's content shows in the output or a callback's records, in any
    form the leak search knows (tests/leaks.py), or the script whole in base64."""
    blobs = {"stdout": run.stdout.encode(), "stderr": run.stderr.encode()}
    blobs.update({f"record {r.task}": json.dumps(r.result).encode() for r in run.records})
    found = find({"onboarding": ONBOARDING_MARKER}, blobs)
    whole = base64.b64encode(secret)
    return found + [
        f"the script in base64 in {where}" for where, data in blobs.items() if whole in data
    ]


def test_fake_winrm_contract_install_onboarding_script_runs_once_and_never_shows(
    tmp_path, onboarding_script
):
    secret = onboarding_script.read_bytes()
    host = FakeDefenderHost(load_fixture("server2022_defender_off.json"))
    role_vars = {"avshift_install_defender_onboarding_script": str(onboarding_script)}
    # --diff too: win_copy then shows what it copies, unless the task is no_log.
    run = run_role(tmp_path / "first", host, role_vars, diff=True, verbosity=4)
    assert run.returncode == 0, run.explain("the role failed")
    assert "<127.0.0.1> PUT" in run.stdout, "not a -vvvv run: the check below would prove little"
    assert leaked(run, secret) == []

    assert host.names() == [
        "setup",
        "win_powershell:status",
        "win_powershell:start",
        "win_powershell:realtime",
        "win_powershell:signatures",
        "win_tempfile",
        "win_copy",
        "win_file",
        "win_copy",
        "win_command",
        "win_file",
        "win_powershell:status",
        "av_scan",
    ]
    # It reached the host byte for byte, ran from the private directory, and went away.
    directory = host.calls("win_tempfile")[0]
    assert directory.args == {"state": "directory", "prefix": "avshift-mde-"}
    script_path = f"{TEMP}\\avshift-mde-1\\WindowsDefenderATPOnboardingScript.cmd"
    assert list(host.uploads.values()) == [secret]
    command = host.calls("win_command")[0].args
    assert command == {"argv": ["cmd.exe", "/c", script_path], "stdin": "Y"}
    assert host.calls("win_file")[0].args == {"path": script_path, "_diff_peek": True}
    assert host.calls("win_file")[1].args == {
        "path": ntpath.dirname(script_path),
        "state": "absent",
    }
    assert host.files == {}
    assert host.state["mde_onboarded"] is True

    host.modules.clear()
    second = run_role(tmp_path / "second", host, role_vars, diff=True, verbosity=3)
    assert second.returncode == 0, second.explain("the second run failed")
    assert not {"win_copy", "win_command"} & set(host.names())
    assert changed_tasks(second) == []


def test_fake_winrm_contract_install_failed_onboarding_shows_exit_code_not_content(
    tmp_path, onboarding_script
):
    fixture = load_fixture("server2022_defender_off.json")
    fixture["host"]["onboarding_script_rc"] = 5
    host = FakeDefenderHost(fixture)
    role_vars = {"avshift_install_defender_onboarding_script": str(onboarding_script)}
    run = run_role(tmp_path, host, role_vars, diff=True, verbosity=3)
    record = failure(run)
    assert task_name(record) == "Onboarding | the onboarding script succeeded"
    assert "onboarding script exited with 5" in record.result["msg"]
    assert leaked(run, onboarding_script.read_bytes()) == []
    # The script was still deleted from the host.
    assert host.calls("win_file"), "the always: clean-up did not run"
    assert host.files == {}


# -- wrong settings fail before the host is touched ----------------------------------------


@pytest.mark.parametrize(
    ("role_vars", "expected"),
    [
        pytest.param(
            {"install_defender_featur": False},
            "unknown variable(s) install_defender_featur",
            id="misspelt-variable",
        ),
        pytest.param(
            {"avshift_install_timeout": "soon"},
            "avshift_install_timeout",
            id="wrong-type",
        ),
        pytest.param(
            {"avshift_install_vendor": "kaspersky"},
            "avshift_install_vendor",
            id="vendor-not-a-choice",
        ),
    ],
)
def test_fake_winrm_contract_install_wrong_setting_fails_before_any_module(
    tmp_path, role_vars, expected
):
    host = FakeDefenderHost(load_fixture("win11_defender_on.json"))
    run = run_role(tmp_path, host, role_vars)
    assert failure(run).result["msg"].find(expected) >= 0, run.explain("unexpected message")
    assert host.modules == []


def test_fake_winrm_contract_install_clamav_is_refused_on_windows(tmp_path):
    host = FakeDefenderHost(load_fixture("win11_defender_on.json"))
    run = run_role(tmp_path, host, {"avshift_install_vendor": "clamav"})
    record = failure(run)
    assert (
        "avshift cannot install clamav on fakewin (Win32NT): it installs microsoft there"
        in (record.result["msg"])
    )
    assert host.names() == ["setup"]


# -- the scripts the role sends ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ROLE_FILES.glob("*.ps1")), ids=lambda path: path.name)
def test_install_role_powershell_parses(path):
    # Syntax only (tree-sitter-pwsh), as tests/unit/test_powershell_syntax.py does for
    # plugins/: no PowerShell runs here.
    assert syntax_errors(path.read_bytes()) == []
