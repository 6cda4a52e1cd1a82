"""Contract tests of the uninstall role on Windows through real Ansible and a fake WinRM host.

NOT a Windows test: no PowerShell and no msiexec ran. ansible-playbook (the winrm
connection over pywinrm) drives the avshift.remediation.uninstall role against
fake_winrm.FakeWinRMHost on 127.0.0.1, which records every module run (win_service,
win_command, win_regedit, win_file) with its arguments and answers as those modules
would, with the msiexec exit code each test plans per product code.

What these tests prove: the role sends the msiexec command lines the plan promises
(order, product codes as found on the host, KLLOGIN/KLPASSWD, KLUNINSTPASSWD as
UTF-16LE hex), by msiexec's full path with a verbose log in the directory the host
names; it leaves a product's services to its uninstaller, and refuses, with a message
that says why, a product without one whose services Windows will not stop; it reads
msiexec's exit codes as documented (1605 done, 3010 reboot, 1618 retried, 1641 waited
out, 1603 with the likely cause and the masked end of the log); a check-mode run sends
nothing; and the passwords appear nowhere in ansible-playbook's output at -vvvv or in
the recorded task results. What msiexec and the Kaspersky installers do on a real host
is not covered.

The fake host's rules, each as Windows documents it: win_service asks for ChangeConfig
on any state but absent (ansible.windows win_service.ps1, its $rights block), which a
self-defended Kaspersky service refuses (Kaspersky Security for Windows Server 11 help,
"About protected processes"); msiexec's exit codes ("MsiExec.exe and InstMsi.exe Error
Messages", Microsoft Learn); a verbose MSI log records public property values
("MsiHiddenProperties property"), so the fake's log holds the password in clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_winrm import ExecPayload, FakeWinRMHost, ReceivedCommand, Reply, module_reply
from leaks import files_under, find, marker
from powershell_ast import invoked
from test_winrm_contract import PASSWORD, USER, write_inventory
from windows_playbook import PlaybookRun, TaskRecord, run_play

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
MSIEXEC = "C:\\Windows\\System32\\msiexec.exe"
LOG_DIR = "C:\\ProgramData\\avshift\\msiexec-logs"
# Services Kaspersky's self-defence keeps anyone else from stopping or reconfiguring.
SELF_DEFENDED = ("AVP", "klnagent", "KAVFS")
ACCESS_DENIED = "Failed to open service '{name}' (Access is denied, Win32ErrorCode 5 - 0x00000005)"
# The role's waits, cut short for the tests.
FAST = {
    "avshift_uninstall_busy_delay": 0,
    "avshift_uninstall_busy_retries": 3,
    "avshift_uninstall_restart_delay": 0,
}


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


def log_of(code: str) -> str:
    return f"{LOG_DIR}\\{code}.log"


def script_kind(script: str) -> str:
    """Which of the role's scripts this is, by what it invokes."""
    source = script.encode()
    if invoked(source, "Set-Acl") and invoked(source, "New-Item"):
        return "log_dir"
    if [call for call in invoked(source, "Get-Content") if "-Tail" in call.text]:
        return "log_tail"
    return "unknown"


def windows_host(
    msiexec_rc: dict[str, int | list[int]],
    missing_services: tuple[str, ...] = (),
    log_lines: list[str] | None = None,
) -> Callable[[ReceivedCommand], Reply]:
    """Answer each module as it would answer on Windows; msiexec per product code (a
    list: one exit code per run, the last repeated)."""
    runs: dict[str, int] = {}

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
            if name in SELF_DEFENDED and module.args.get("state") != "absent":
                return module_reply(
                    {"failed": True, "changed": False, "msg": ACCESS_DENIED.format(name=name)}
                )
            return module_reply({"changed": True, "exists": True, "name": name})
        if module.name == "win_powershell":
            kind = script_kind(module.args["script"])
            if kind == "log_dir":
                return module_reply(
                    {"changed": True, "result": {"msiexec": MSIEXEC, "log_dir": LOG_DIR}}
                )
            if kind == "log_tail":
                tail = log_lines if log_lines is not None else ["MSI (s) (A0:B4) Product: x"]
                return module_reply({"changed": False, "result": {"tail": tail, "error": None}})
            return Reply(stderr=b"fake_winrm: unplanned script", rc=1)
        if module.name == "win_command":
            argv = module.args["argv"]
            code = argv[2]
            planned = msiexec_rc[code]
            planned = planned if isinstance(planned, list) else [planned]
            rc = planned[min(runs.get(code, 0), len(planned) - 1)]
            runs[code] = runs.get(code, 0) + 1
            result = {"changed": True, "rc": rc, "stdout": "", "stderr": "", "cmd": " ".join(argv)}
            if rc:
                result.update(failed=True, msg="non-zero return code")
            return module_reply(result)
        if module.name == "win_ping":
            return module_reply({"changed": False, "ping": "pong"})
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
    msiexec_rc: dict[str, int | list[int]],
    *,
    passwords: dict[str, Any] | None = None,
    role_vars: dict[str, Any] | None = None,
    missing_services: tuple[str, ...] = (),
    log_lines: list[str] | None = None,
    scan: dict[str, Any] | None = None,
    check: bool = False,
) -> RoleRun:
    """Run the uninstall role at -vvvv against a fake host; return what it received."""
    workdir.mkdir(parents=True, exist_ok=True)
    scan_vars = {"avshift_uninstall_scan": scan or load_scan()}
    (workdir / "scan.json").write_text(json.dumps(scan_vars))
    play_vars = {**FAST, **(role_vars or {})}
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
    responder = windows_host(msiexec_rc, missing_services, log_lines)
    options = ("-vvvv", "--check") if check else ("-vvvv",)
    with FakeWinRMHost(responder, username=USER, password=PASSWORD) as host:
        inventory = write_inventory(workdir / "inventory.json", host)
        # Rename the fake's host to the scan's host name.
        data = json.loads(inventory.read_text())
        data["all"]["hosts"] = {HOST: data["all"]["hosts"]["fakewin"]}
        inventory.write_text(json.dumps(data))
        run = run_play(workdir, play, inventory, options=options)
    record_file = workdir / "results.jsonl"
    records_text = record_file.read_text(encoding="utf-8") if record_file.exists() else ""
    modules = [module_of(payload) for payload in host.module_runs()]
    return RoleRun(host, run, modules, records_text, workdir)


def kes_argv(*properties: str) -> list[str]:
    return [MSIEXEC, "/x", KES_CODE, "/qn", "/norestart", *properties, "/L*V", log_of(KES_CODE)]


def agent_argv(*properties: str) -> list[str]:
    return [
        MSIEXEC,
        "/x",
        AGENT_CODE,
        "/qn",
        "/norestart",
        *properties,
        "/L*V",
        log_of(AGENT_CODE),
    ]


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


def test_fake_winrm_contract_uninstall_leaves_services_to_the_uninstaller(removed):
    # Kaspersky's services refuse a stop from outside (the fake refuses AVP and
    # klnagent); each product's own uninstaller stops them.
    sequence = [
        (m.name, m.args.get("path") or m.args.get("argv", [None, None, None])[2])
        for m in removed.modules
        if m.name != "win_powershell"
    ]
    assert sequence == [
        ("win_command", KES_CODE),
        ("win_file", log_of(KES_CODE)),
        ("win_command", AGENT_CODE),
        ("win_file", log_of(AGENT_CODE)),
    ]
    # The log directory is prepared once, first.
    assert removed.modules[0].name == "win_powershell"
    assert [m.name for m in removed.modules].count("win_powershell") == 1
    for module in removed.modules:
        if module.name == "win_file":
            assert module.args["state"] == "absent"


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


def test_fake_winrm_contract_1603_without_password_names_the_likely_cause(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 1603, AGENT_CODE: 0}, passwords={})
    assert role_run.run.returncode != 0
    message = role_run.failure().result["msg"]
    assert message.startswith(
        f"uninstall of {KES_NAME} failed (msiexec 1603) on {HOST}, a fatal error: {KES_NAME} "
        "is password-protected and no password was given"
    )
    assert f"; the end of its log ({log_of(KES_CODE)}): " in message
    # Without a password msiexec runs bare, and the agent is never touched after a failure.
    assert role_run.commands == [kes_argv()]
    # A failed uninstall's log stays on the host.
    assert "win_file" not in [m.name for m in role_run.modules]


def test_fake_winrm_contract_1603_shows_the_log_with_every_password_masked(tmp_path):
    # The fake's log holds the password in clear (a verbose log records public
    # properties): the host masks by property name, and what reaches the controller is
    # masked again with the passwords themselves.
    lines = [
        f"MSI (s) (A0:B4): Command Line: KLLOGIN={KES_LOGIN} KLPASSWD={KES_PASSWORD}",
        f"Property(S): KLPASSWD = {KES_PASSWORD}",
        "MSI (s) (A0:B4): Product: Kaspersky Endpoint Security -- Removal failed.",
    ]
    role_run = run_role(
        tmp_path, {KES_CODE: 1603, AGENT_CODE: 0}, passwords=PASSWORDS, log_lines=lines
    )
    message = role_run.failure().result["msg"]
    assert "a wrong password in avshift_uninstall_passwords.kes_windows is one cause" in message
    assert "Removal failed." in message
    assert "KLPASSWD = ********" in message
    tail = next(m for m in role_run.modules if "parameters" in m.args)
    assert tail.args["parameters"] == {
        "Path": log_of(KES_CODE),
        "Masked": ["KLLOGIN", "KLPASSWD"],
    }
    assert len(role_run.commands) == 1
    assert_no_secret(role_run)


def test_fake_winrm_contract_1618_is_tried_again_until_msiexec_is_free(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: [1618, 1618, 0], AGENT_CODE: 0}, passwords=PASSWORDS)
    assert role_run.run.returncode == 0, role_run.run.explain("1618 was not retried")
    assert [argv[2] for argv in role_run.commands] == [KES_CODE] * 3 + [AGENT_CODE]


def test_fake_winrm_contract_1618_through_every_retry_fails_saying_so(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 1618, AGENT_CODE: 0}, passwords=PASSWORDS)
    message = role_run.failure().result["msg"]
    assert message.startswith(f"uninstall of {KES_NAME} failed (msiexec 1618) on {HOST}")
    assert "another installation kept running through every retry" in message
    # The first run and avshift_uninstall_busy_retries (3 here) more.
    assert [argv[2] for argv in role_run.commands] == [KES_CODE] * 4


def test_fake_winrm_contract_1641_waits_for_the_host_before_the_next_command(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 1641, AGENT_CODE: 0}, passwords=PASSWORDS)
    assert role_run.run.returncode == 0, role_run.run.explain("1641 failed the play")
    names = [m.name for m in role_run.modules]
    first, second = (i for i, name in enumerate(names) if name == "win_command")
    assert "win_ping" in names[first:second], names
    assert role_run.record("reboot fact").result["msg"] is True


def without_packages(scan: dict[str, Any]) -> dict[str, Any]:
    """The scan of a host whose Kaspersky uninstall entries are gone, services left."""
    inventory = dict(scan["inventory"])
    inventory["packages"] = []
    return {**classify(inventory), "inventory": inventory}


def test_fake_winrm_contract_self_defended_service_without_uninstaller_is_refused(tmp_path):
    role_run = run_role(tmp_path, {}, passwords=PASSWORDS, scan=without_packages(load_scan()))
    assert role_run.run.returncode != 0
    refused = role_run.records("Uninstall | refuse a product whose services")
    assert [record.status for record in refused] == ["failed"]
    assert refused[0].result["msg"] == (
        f"{KES_NAME} on {HOST} has no uninstall entry, and its services could not be "
        f"stopped: AVP ({ACCESS_DENIED.format(name='AVP')}). A product that protects its "
        "services (self-defence) must be removed with its own uninstaller or the vendor's "
        "removal tool."
    )
    # The host fails at the first product: the agent is not touched.
    assert [m.args["name"] for m in role_run.modules if m.name == "win_service"] == ["AVP"]
    assert role_run.commands == []
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


def test_fake_winrm_contract_missing_service_of_a_product_without_uninstaller_is_not_an_error(
    tmp_path,
):
    # The agent's uninstall entry is gone and so is its service: nothing to stop.
    scan = load_scan()
    inventory = dict(scan["inventory"])
    inventory["packages"] = [p for p in inventory["packages"] if "Agent" not in p["name"]]
    role_run = run_role(
        tmp_path,
        {KES_CODE: 0},
        passwords=PASSWORDS,
        missing_services=("klnagent",),
        scan={**classify(inventory), "inventory": inventory},
    )
    assert role_run.run.returncode == 0, role_run.run.explain("the play failed")
    stopped = [m.args["name"] for m in role_run.modules if m.name == "win_service"]
    assert stopped == ["klnagent"]


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
    products = ["win_powershell", "win_command", "win_file", "win_command", "win_file"]
    assert names == [*products, "win_regedit", "win_file"]
    regedit, win_file = reboot_and_residue.modules[-2:]
    assert regedit.args["path"] == "HKLM:\\SOFTWARE\\WOW6432Node\\KasperskyLab"
    assert regedit.args["state"] == "absent" and regedit.args["delete_key"] is True
    assert win_file.args == {"path": "C:\\Program Files (x86)\\Kaspersky Lab", "state": "absent"}


def test_fake_winrm_contract_other_exit_code_fails_naming_product_and_code(tmp_path):
    role_run = run_role(tmp_path, {KES_CODE: 0, AGENT_CODE: 1619}, passwords=PASSWORDS)
    message = role_run.failure().result["msg"]
    assert message.startswith(f"uninstall of {AGENT_NAME} failed (msiexec 1619) on {HOST}")
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
