"""Contract tests of the uninstall role on Windows through real Ansible and a fake WinRM host.

NOT a Windows test: no PowerShell and no msiexec ran. ansible-playbook (the winrm
connection over pywinrm) drives the avshift.remediation.uninstall role against
fake_winrm.FakeWinRMHost on 127.0.0.1, which records every module run (win_service,
win_command, win_regedit, win_file) with its arguments and answers as those modules
would, with the msiexec exit code each test plans per product code.

What these tests prove: the role sends the msiexec command lines the plan promises
(order, product codes as found on the host, KLLOGIN/KLPASSWD, KLUNINSTPASSWD as
UTF-16LE hex) with each product's services stopped first; it reads msiexec's exit codes
as documented (1605 done, 3010 reboot, 1603 without a password: the exact message); a
check-mode run sends nothing; and the passwords appear nowhere in ansible-playbook's
output at -vvv or in the recorded task results. What msiexec and the Kaspersky
installers do on a real host is not covered.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_winrm import ExecPayload, FakeWinRMHost, ReceivedCommand, Reply, module_reply
from leaks import files_under, find, marker
from test_winrm_contract import PASSWORD, USER, write_inventory
from windows_playbook import CALLBACK_DIR, PlaybookRun, TaskRecord, ansible_bin

from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "uninstall"
HOST = "fakewin"
KES_CODE = "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}"
AGENT_CODE = "{7D4E2A18-C3B5-4F69-8E01-A2B7C9D3E5F0}"
KES_NAME = "Kaspersky Endpoint Security for Windows"
AGENT_NAME = "Kaspersky Security Center Network Agent"
KES_LOGIN = "KLAdmin"
# Markers (tests/leaks.py): unique, and changed by every encoding the leak search tries.
KES_PASSWORD = marker("kes_windows")
AGENT_PASSWORD = marker("klnagent")
PASSWORDS = {
    "kes_windows": {"login": KES_LOGIN, "password": KES_PASSWORD},
    "klnagent": {"password": AGENT_PASSWORD},
}
MODULE_PREFIX = "ansible_collections.ansible.windows.plugins.modules."


def utf16le_hex(text: str) -> str:
    """Worked out here byte by byte, not with the planner's helper it checks."""
    return "".join(f"{ord(char) & 0xFF:02X}{ord(char) >> 8:02X}" for char in text)


def test_fake_winrm_contract_hex_helper_matches_a_worked_example():
    # "P@ss": P=0x50, @=0x40, s=0x73; each followed by a zero high byte.
    assert utf16le_hex("P@ss") == "5000400073007300"


def load_scan() -> dict[str, Any]:
    return json.loads((FIXTURES / "kes_network_agent_scan.json").read_text(encoding="utf-8"))


@dataclass
class Module:
    """One module run the fake host received."""

    name: str  # short module name, e.g. win_command
    args: dict[str, Any]


def module_of(payload: ExecPayload) -> Module:
    script = payload.module_script_name
    name = script.removeprefix(MODULE_PREFIX).removesuffix(".ps1")
    args = {k: v for k, v in payload.module_args.items() if not k.startswith("_ansible_")}
    return Module(name, args)


def windows_host(
    msiexec_rc: dict[str, int], missing_services: tuple[str, ...] = ()
) -> Callable[[ReceivedCommand], Reply]:
    """Answer each module as it would answer on Windows; msiexec per product code."""

    def responder(command: ReceivedCommand) -> Reply:
        payload = command.payload
        if payload is None or not payload.runs_module:
            return Reply(stderr=b"fake_winrm: no reply planned for this command", rc=1)
        module = module_of(payload)
        if module.name == "win_service":
            name = module.args["name"]
            if name in missing_services:
                return module_reply(
                    {
                        "failed": True,
                        "changed": False,
                        "exists": False,
                        "msg": f"Service '{name}' is not installed, need to set 'path' to "
                        "create a new service",
                    }
                )
            return module_reply({"changed": True, "exists": True, "name": name})
        if module.name == "win_command":
            argv = module.args["argv"]
            rc = msiexec_rc[argv[2]]
            result = {"changed": True, "rc": rc, "stdout": "", "stderr": "", "cmd": " ".join(argv)}
            if rc:
                result.update(failed=True, msg="non-zero return code")
            return module_reply(result)
        if module.name in ("win_regedit", "win_file"):
            return module_reply({"changed": True})
        return Reply(stderr=f"fake_winrm: unplanned module {module.name}".encode(), rc=1)

    return responder


def task_name(record: TaskRecord) -> str:
    return record.task.split(" : ", 1)[-1]


@dataclass(frozen=True)
class RoleRun:
    host: FakeWinRMHost
    run: PlaybookRun
    modules: list[Module]
    records_text: str
    workdir: Path

    @property
    def commands(self) -> list[list[str]]:
        return [m.args["argv"] for m in self.modules if m.name == "win_command"]

    def records(self, task_prefix: str) -> list[TaskRecord]:
        """Results of the tasks whose name (without the role's prefix) starts so."""
        return [r for r in self.run.records if task_name(r).startswith(task_prefix)]

    def record(self, task_prefix: str) -> TaskRecord:
        found = self.records(task_prefix)
        assert found, self.run.explain(f"no task starting {task_prefix!r} ran")
        return found[-1]

    def failure(self) -> TaskRecord:
        failed = [r for r in self.run.records if r.status == "failed"]
        assert len(failed) == 1, self.run.explain(f"expected one failed task, got {len(failed)}")
        return failed[0]


def run_role(
    workdir: Path,
    msiexec_rc: dict[str, int],
    *,
    passwords: dict[str, Any] | None = None,
    role_vars: dict[str, Any] | None = None,
    missing_services: tuple[str, ...] = (),
    check: bool = False,
) -> RoleRun:
    """Run the uninstall role at -vvvv against a fake host; return what it received."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "scan.json").write_text(json.dumps({"avshift_uninstall_scan": load_scan()}))
    play_vars = dict(role_vars or {})
    if passwords is not None:
        play_vars["avshift_uninstall_passwords"] = passwords
    play = {
        "name": "uninstall",
        "hosts": HOST,
        "gather_facts": False,
        "vars_files": ["scan.json"],
        "vars": play_vars,
        "roles": [{"role": "avshift.remediation.uninstall"}],
        "post_tasks": [
            {
                "name": "reboot fact",
                "ansible.builtin.debug": {"msg": "{{ avshift_uninstall_reboot_required }}"},
            }
        ],
    }
    playbook = workdir / "uninstall.yml"
    playbook.write_text(json.dumps([play], indent=2), encoding="utf-8")
    record_file = workdir / "results.jsonl"
    record_file.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(
        {
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "avshift_record",
            "AVSHIFT_RECORD_FILE": str(record_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "local_tmp"),
        }
    )
    responder = windows_host(msiexec_rc, missing_services)
    with FakeWinRMHost(responder, username=USER, password=PASSWORD) as host:
        inventory = write_inventory(workdir / "inventory.json", host)
        # Rename the fake's host to the scan's host name.
        data = json.loads(inventory.read_text())
        data["all"]["hosts"] = {HOST: data["all"]["hosts"]["fakewin"]}
        inventory.write_text(json.dumps(data))
        command = [ansible_bin("ansible-playbook"), "-vvvv", "-i", str(inventory), str(playbook)]
        if check:
            command.append("--check")
        completed = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300
        )
    records_text = record_file.read_text(encoding="utf-8") if record_file.exists() else ""
    records = [TaskRecord(**json.loads(line)) for line in records_text.splitlines()]
    run = PlaybookRun(completed.returncode, completed.stdout, completed.stderr, records)
    modules = [module_of(payload) for payload in host.module_runs()]
    return RoleRun(host, run, modules, records_text, workdir)


def kes_argv(*properties: str) -> list[str]:
    return ["msiexec.exe", "/x", KES_CODE, "/qn", "/norestart", *properties]


def agent_argv(*properties: str) -> list[str]:
    return ["msiexec.exe", "/x", AGENT_CODE, "/qn", "/norestart", *properties]


def assert_no_secret(role_run: RoleRun) -> None:
    """Neither uninstall password nor the WinRM password, in any form the leak search
    knows, in ansible-playbook's output at -vvvv, a callback's records or the files it
    left on the controller (its local temp directory)."""
    run = role_run.run
    blobs = {
        "stdout": run.stdout.encode(),
        "stderr": run.stderr.encode(),
        "records": role_run.records_text.encode(),
        **files_under(role_run.workdir / "local_tmp"),
    }
    markers = {"kes": KES_PASSWORD, "klnagent": AGENT_PASSWORD, "winrm": PASSWORD}
    assert find(markers, blobs) == []


@pytest.fixture(scope="module")
def removed(tmp_path_factory) -> RoleRun:
    """Both products removed with their passwords, msiexec answering 0."""
    return run_role(
        tmp_path_factory.mktemp("removed"), {KES_CODE: 0, AGENT_CODE: 0}, passwords=PASSWORDS
    )


def test_fake_winrm_contract_fixture_is_what_av_scan_returns():
    # The hand-written scan must be the classifier's verdict on its own inventory.
    scan = load_scan()
    verdict = classify(scan["inventory"])
    for key in ("compliant", "disallowed", "approved", "other", "residue"):
        assert verdict[key] == scan[key], key
    # The agent comes first in the scan: the order below is the planner's doing.
    assert [f["product"] for f in scan["disallowed"]] == ["klnagent", "kes_windows"]


def test_fake_winrm_contract_uninstall_sends_msiexec_in_removal_order(removed):
    assert removed.run.returncode == 0, removed.run.explain("the uninstall play failed")
    assert removed.commands == [
        kes_argv(f"KLLOGIN={KES_LOGIN}", f"KLPASSWD={KES_PASSWORD}"),
        agent_argv(f"KLUNINSTPASSWD={utf16le_hex(AGENT_PASSWORD)}"),
    ]


def test_fake_winrm_contract_uninstall_stops_each_products_services_first(removed):
    sequence = [
        (m.name, m.args.get("name") or m.args.get("argv", [None, None, None])[2])
        for m in removed.modules
    ]
    assert sequence == [
        ("win_service", "AVP"),
        ("win_command", KES_CODE),
        ("win_service", "klnagent"),
        ("win_command", AGENT_CODE),
    ]
    for module in removed.modules:
        if module.name == "win_service":
            assert module.args["state"] == "stopped"
            # Their uninstallers remove the services; only stopping is asked for.
            assert "start_mode" not in module.args


def test_fake_winrm_contract_uninstall_reports_changes_without_reboot(removed):
    assert removed.record("reboot fact").result["msg"] is False
    commands = removed.records("Uninstall | run the uninstaller")
    assert [r.status for r in commands] == ["ok", "ok"]
    assert all(r.result["changed"] for r in commands)


def test_fake_winrm_contract_uninstall_never_shows_a_password(removed):
    # A -vvvv run, with the connection's debug: the search below has the most to see.
    assert "ESTABLISH WINRM CONNECTION" in removed.run.stdout
    assert_no_secret(removed)
    plan = removed.record("Uninstall | show the plan").result["msg"]
    shown = "\n".join(plan)
    assert f"{KES_CODE} /qn /norestart KLLOGIN=******** KLPASSWD=********" in shown
    assert f"{AGENT_CODE} /qn /norestart KLUNINSTPASSWD=********" in shown


def test_fake_winrm_contract_1603_without_password_fails_with_the_exact_message(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 1603, AGENT_CODE: 0}, passwords={})
    assert role_run.run.returncode != 0
    failure = role_run.failure()
    assert failure.result["msg"] == f"uninstall password required for {KES_NAME} on {HOST}"
    # Without a password msiexec runs bare, and the agent is never touched after a failure.
    assert role_run.commands == [kes_argv()]


def test_fake_winrm_contract_1603_with_password_blames_the_password(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 1603, AGENT_CODE: 0}, passwords=PASSWORDS)
    message = role_run.failure().result["msg"]
    assert message.startswith(f"uninstall of {KES_NAME} failed (msiexec 1603) on {HOST}")
    assert "avshift_uninstall_passwords.kes_windows" in message
    assert len(role_run.commands) == 1
    assert_no_secret(role_run)


@pytest.fixture(scope="module")
def half_removed(tmp_path_factory) -> RoleRun:
    """A half-removed host: KES already gone (1605), the agent's service gone too."""
    return run_role(
        tmp_path_factory.mktemp("half-removed"),
        {KES_CODE: 1605, AGENT_CODE: 0},
        passwords=PASSWORDS,
        missing_services=("klnagent",),
    )


def test_fake_winrm_contract_1605_counts_as_already_removed(half_removed):
    assert half_removed.run.returncode == 0, half_removed.run.explain("1605 failed the play")
    assert len(half_removed.commands) == 2
    commands = half_removed.records("Uninstall | run the uninstaller")
    # 1605: nothing was there to change; 0: removed.
    assert [r.result["changed"] for r in commands] == [False, True]
    assert half_removed.record("reboot fact").result["msg"] is False
    assert_no_secret(half_removed)


def test_fake_winrm_contract_missing_service_is_not_an_error(half_removed):
    stopped = [m.args["name"] for m in half_removed.modules if m.name == "win_service"]
    assert stopped == ["AVP", "klnagent"]
    assert half_removed.run.returncode == 0, half_removed.run.explain("the play failed")


@pytest.fixture(scope="module")
def reboot_and_residue(tmp_path_factory) -> RoleRun:
    """KES asks for a reboot (3010); the residue is removed afterwards."""
    return run_role(
        tmp_path_factory.mktemp("reboot-residue"),
        {KES_CODE: 3010, AGENT_CODE: 0},
        passwords=PASSWORDS,
        role_vars={"avshift_uninstall_remove_residue": True},
    )


def test_fake_winrm_contract_3010_sets_reboot_required(reboot_and_residue):
    run = reboot_and_residue.run
    assert run.returncode == 0, run.explain("3010 failed the play")
    assert len(reboot_and_residue.commands) == 2
    assert reboot_and_residue.record("reboot fact").result["msg"] is True
    assert_no_secret(reboot_and_residue)


def test_fake_winrm_contract_residue_is_removed_after_the_products(reboot_and_residue):
    names = [m.name for m in reboot_and_residue.modules]
    products = ["win_service", "win_command", "win_service", "win_command"]
    assert names == [*products, "win_regedit", "win_file"]
    regedit, win_file = reboot_and_residue.modules[-2:]
    assert regedit.args["path"] == "HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab"
    assert regedit.args["state"] == "absent" and regedit.args["delete_key"] is True
    assert win_file.args == {"path": "C:\\Program Files (x86)\\Kaspersky Lab", "state": "absent"}


def test_fake_winrm_contract_other_exit_code_fails_naming_product_and_code(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 0, AGENT_CODE: 1618}, passwords=PASSWORDS)
    message = role_run.failure().result["msg"]
    assert message.startswith(f"uninstall of {AGENT_NAME} failed (msiexec 1618) on {HOST}")
    assert len(role_run.commands) == 2
    assert_no_secret(role_run)


def test_fake_winrm_contract_check_mode_sends_nothing_and_shows_the_plan(tmp_path):
    role_run = run_role(tmp_path, {}, passwords=PASSWORDS, check=True)
    assert role_run.run.returncode == 0, role_run.run.explain("check mode failed")
    assert role_run.modules == [], "check mode ran a module on the host"
    assert all(not r.result.get("changed") for r in role_run.run.records)
    plan = role_run.record("Uninstall | show the plan").result["msg"]
    assert [line.split(" (")[0] for line in plan] == [KES_NAME, AGENT_NAME]
    assert_no_secret(role_run)
