"""Contract tests of av_scan on Windows through real Ansible and a fake WinRM host.

NOT a Windows test: no PowerShell was executed. ansible-playbook (ansible-core's winrm
connection plugin over pywinrm) talks to fake_winrm.FakeWinRMHost on 127.0.0.1, which
records what arrives and answers with hand-written collector output from fixtures/.

What these tests prove: the WinRM connection settings work (basic over HTTP and HTTPS,
NTLM with message encryption); Ansible bundles av_scan.ps1, the Ansible.Basic C# util
and AddType unchanged; the action plugin sends the module only the arguments its spec
accepts (the catalogue's paths); collector output shaped as av_scan.ps1 returns it is
classified right; and a failing collector, a garbage answer or a missing inventory fail
the task instead of passing for compliant. What av_scan.ps1 does on a real Windows
host is covered only by test_real_windows.py (opt-in, see docs/windows.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ansible
import pytest
from fake_winrm import (
    FakeWinRMHost,
    ReceivedCommand,
    Reply,
    make_self_signed_cert,
    module_reply,
    unexpected_command,
)
from windows_playbook import REPO_ROOT, PlaybookRun, run_av_scan

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import load_catalogue

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODULE_PS1 = REPO_ROOT / "plugins" / "modules" / "av_scan.ps1"
MODULE_NAME = "ansible_collections.avshift.remediation.plugins.modules.av_scan.ps1"
ANSIBLE_UTILS = Path(ansible.__file__).resolve().parent / "module_utils"
USER = "avshift"
PASSWORD = "fake-winrm-Passw0rd"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def answer_module_with(reply: Reply) -> Callable[[ReceivedCommand], Reply]:
    """Answer the module run with ``reply``; anything else fails loudly."""

    def responder(command: ReceivedCommand) -> Reply:
        payload = command.payload
        if payload is not None and payload.runs_module:
            return reply
        return unexpected_command(command)

    return responder


def write_inventory(
    path: Path,
    host: FakeWinRMHost,
    *,
    transport: str = "basic",
    password: str = PASSWORD,
) -> Path:
    host_vars = {
        "ansible_host": "127.0.0.1",
        "ansible_port": host.port,
        "ansible_connection": "winrm",
        "ansible_winrm_transport": transport,
        "ansible_winrm_scheme": host.scheme,
        "ansible_winrm_server_cert_validation": "ignore",
        "ansible_user": USER,
        "ansible_password": password,
    }
    path.write_text(json.dumps({"all": {"hosts": {"fakewin": host_vars}}}), encoding="utf-8")
    return path


def scan_fake_host(
    workdir: Path,
    reply: Reply,
    *,
    task_args: dict[str, Any] | None = None,
    password: str = PASSWORD,
    check: bool = False,
    auth: str = "basic",
    tls: tuple[Path, Path] | None = None,
) -> tuple[FakeWinRMHost, PlaybookRun]:
    """Start a fake host answering ``reply``, run the av_scan task, stop the host."""
    with FakeWinRMHost(
        answer_module_with(reply), username=USER, password=PASSWORD, auth=auth, tls=tls
    ) as host:
        inventory = write_inventory(
            workdir / "inventory.json", host, transport=auth, password=password
        )
        run = run_av_scan(workdir, inventory, task_args, check=check)
    return host, run


def products(entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(entry["vendor"], entry["product"]) for entry in entries}


@pytest.fixture(scope="module")
def kes_scan(tmp_path_factory) -> tuple[FakeWinRMHost, PlaybookRun]:
    """One basic-over-HTTP run against the Windows 11 + KES + Network Agent fixture."""
    workdir = tmp_path_factory.mktemp("kes")
    policy = workdir / "policy.yml"
    policy.write_text(
        json.dumps(
            {
                "disallowed_vendors": ["kaspersky"],
                "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
            }
        ),
        encoding="utf-8",
    )
    reply = module_reply(load_fixture("win11_kes_network_agent.json"))
    return scan_fake_host(
        workdir, reply, task_args={"return_inventory": True, "policy": str(policy)}
    )


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def ntlm_user_file(tmp_path, monkeypatch) -> Iterator[Path]:
    """pyspnego's NTLM acceptor reads its accounts from NTLM_USER_FILE."""
    path = tmp_path / "ntlm_users"
    path.write_text(f":{USER}:{PASSWORD}\n", encoding="utf-8")
    monkeypatch.setenv("NTLM_USER_FILE", str(path))
    yield path


# -- what arrives on the (fake) host ---------------------------------------------------


def test_fake_winrm_contract_winrm_host_gets_the_powershell_collector(kes_scan):
    # Since ansible-core 2.21 the winrm connection's shell is "cmd" (a subclass of the
    # PowerShell shell), not "powershell": a winrm host must still count as Windows.
    host, run = kes_scan
    facts = run.only().result.get("ansible_facts", {})
    assert "discovered_interpreter_python" not in facts, run.explain(
        "the action plugin treated a winrm host as Linux and went looking for Python"
    )
    assert len(host.module_runs()) == 1, "av_scan.ps1 never reached the host"


def test_fake_winrm_contract_runs_one_module_over_the_shell_operations(kes_scan):
    host, run = kes_scan
    assert run.only().status == "ok", run.explain("the scan task failed")
    assert len(host.module_runs()) == 1
    for operation in ("Create", "Command", "Send", "Receive", "Signal", "Delete"):
        assert operation in host.operations, f"{operation} never arrived"
    assert host.open_shells == set(), "Ansible left a WinRS shell open"


def test_fake_winrm_contract_module_source_arrives_intact(kes_scan):
    host, _ = kes_scan
    payload = host.module_runs()[0]
    assert payload.module_script_name == MODULE_NAME
    assert payload.module_source == MODULE_PS1.read_bytes()


def test_fake_winrm_contract_csharp_and_powershell_utils_arrive_intact(kes_scan):
    host, _ = kes_scan
    payload = host.module_runs()[0]
    assert payload.csharp_utils == ["Ansible.Basic.cs"]
    assert (
        payload.script("Ansible.Basic.cs")
        == (ANSIBLE_UTILS / "csharp/Ansible.Basic.cs").read_bytes()
    )
    add_type = ANSIBLE_UTILS / "powershell/Ansible.ModuleUtils.AddType.psm1"
    assert payload.powershell_utils == ["Ansible.ModuleUtils.AddType.psm1"]
    assert payload.script("Ansible.ModuleUtils.AddType.psm1") == add_type.read_bytes()


def test_fake_winrm_contract_module_gets_the_catalogue_paths_and_nothing_else(kes_scan):
    # Ansible.Basic rejects options its spec lacks, so policy and return_inventory (set
    # on this task) must stay on the controller.
    host, _ = kes_scan
    args = host.module_runs()[0].module_args
    expected_paths = load_catalogue().signatures["windows"].path_list
    # Windows folders by their environment variables, which the collector expands.
    assert "%ProgramFiles(x86)%\\Kaspersky Lab" in expected_paths
    assert args["paths"] == list(expected_paths)
    assert {key for key in args if not key.startswith("_ansible_")} == {"paths"}
    assert args["_ansible_check_mode"] is False


# -- what the controller makes of the answer -------------------------------------------


def test_fake_winrm_contract_kes_client_is_classified_disallowed(kes_scan):
    _, run = kes_scan
    result = run.only().result
    assert result["compliant"] is False
    assert products(result["disallowed"]) == {
        ("kaspersky", "kes_windows"),
        ("kaspersky", "klnagent"),
    }
    # WinDefend stopped and Security Center's Defender entry off: nothing approved runs.
    assert [entry["active"] for entry in result["approved"]] == [False]
    assert result["ansible_facts"]["avshift_scan"]["compliant"] is False


def test_fake_winrm_contract_inventory_reaches_the_controller_unchanged(kes_scan):
    _, run = kes_scan
    expected = load_fixture("win11_kes_network_agent.json")["inventory"]
    assert run.only().result["inventory"] == expected


@pytest.mark.parametrize(
    ("fixture", "compliant", "disallowed"),
    [
        pytest.param(
            "win10_kes_russian.json",
            False,
            {("kaspersky", "kes_windows"), ("kaspersky", "klnagent")},
            id="russian-kes",
        ),
        pytest.param("server2022_defender_only.json", True, set(), id="server-defender-only"),
        pytest.param("win11_decoys.json", True, set(), id="decoys"),
    ],
)
def test_fake_winrm_contract_fixture_classification(tmp_path, fixture, compliant, disallowed):
    _, run = scan_fake_host(tmp_path, module_reply(load_fixture(fixture)))
    record = run.only()
    assert record.status == "ok", run.explain("the scan task failed")
    assert record.result["compliant"] is compliant
    assert products(record.result["disallowed"]) == disallowed
    if not compliant:
        assert record.result["disallowed"], "a non-compliant host must say why"


def test_fake_winrm_contract_russian_names_survive_the_transport(tmp_path):
    _, run = scan_fake_host(tmp_path, module_reply(load_fixture("win10_kes_russian.json")))
    names = {entry["name"] for entry in run.only().result["disallowed"]}
    assert names == {
        "Kaspersky Endpoint Security для Windows",
        "Агент администрирования Kaspersky Security Center",
    }


def test_fake_winrm_contract_partial_read_keeps_warnings_and_findings(tmp_path):
    fixture = load_fixture("win10_kes_wmi_broken.json")
    _, run = scan_fake_host(tmp_path, module_reply(fixture))
    record = run.only()
    assert record.status == "ok", run.explain("the scan task failed")
    assert record.result["compliant"] is False
    assert products(record.result["disallowed"]) == {("kaspersky", "kes_windows")}
    for warning in fixture["warnings"]:
        assert warning in record.warnings


def test_fake_winrm_contract_check_mode_still_scans(tmp_path):
    host, run = scan_fake_host(
        tmp_path, module_reply(load_fixture("win11_kes_network_agent.json")), check=True
    )
    record = run.only()
    assert record.status == "ok", run.explain("the scan task failed in check mode")
    assert host.module_runs()[0].module_args["_ansible_check_mode"] is True
    assert record.result["compliant"] is False
    assert record.result["changed"] is False


# -- failures must fail, never pass for compliant --------------------------------------


def test_fake_winrm_contract_collector_failure_fails_the_task(tmp_path):
    fixture = load_fixture("collector_failed.json")
    _, run = scan_fake_host(tmp_path, module_reply(fixture))
    record = run.only()
    assert record.status == "failed"
    assert record.result["msg"] == fixture["msg"]
    assert "compliant" not in record.result
    assert run.returncode != 0


def _truncated_kes_answer() -> bytes:
    stdout = module_reply(load_fixture("win11_kes_network_agent.json")).stdout
    return stdout[: len(stdout) // 2]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(Reply(stdout=b"this is not JSON at all\r\n"), None, id="not-json"),
        pytest.param(Reply(stderr=b"powershell.exe crashed", rc=1), None, id="empty"),
        pytest.param(Reply(stdout=_truncated_kes_answer()), None, id="truncated-json"),
        pytest.param(module_reply({"changed": False}), "unusable inventory", id="no-inventory"),
        pytest.param(
            module_reply({"changed": False, "inventory": {"schema": 1, "os_family": "linux"}}),
            "os_family",
            id="wrong-os-family",
        ),
        pytest.param(
            module_reply(
                {
                    "changed": False,
                    "inventory": {
                        "schema": 1,
                        "os_family": "windows",
                        "services": [{"name": "AVP", "state": "Running"}],
                    },
                }
            ),
            "unusable inventory",
            id="unmapped-service-state",
        ),
    ],
)
def test_fake_winrm_contract_garbage_answer_fails_the_task(tmp_path, reply, reason):
    host, run = scan_fake_host(tmp_path, reply)
    # The module did run: the failure comes from the answer, not from an earlier step.
    assert len(host.module_runs()) == 1
    record = run.only()
    assert record.status == "failed", run.explain("a garbage answer did not fail the task")
    assert "compliant" not in record.result
    assert "avshift_scan" not in record.result.get("ansible_facts", {})
    if reason is not None:
        assert reason in record.result["msg"]


# -- transports -----------------------------------------------------------------------


def test_fake_winrm_contract_https_with_self_signed_cert(tmp_path, tls_cert):
    host, run = scan_fake_host(
        tmp_path, module_reply(load_fixture("win11_kes_network_agent.json")), tls=tls_cert
    )
    assert host.scheme == "https"
    record = run.only()
    assert record.status == "ok", run.explain("the scan over HTTPS failed")
    assert host.module_runs()[0].module_source == MODULE_PS1.read_bytes()
    assert record.result["compliant"] is False


def test_fake_winrm_contract_ntlm_with_message_encryption(tmp_path, ntlm_user_file):
    host, run = scan_fake_host(
        tmp_path, module_reply(load_fixture("server2022_defender_only.json")), auth="ntlm"
    )
    record = run.only()
    assert record.status == "ok", run.explain("the scan over NTLM failed")
    # Every WS-Management message travelled sealed with the NTLM session key.
    assert host.encrypted_messages >= len(host.operations) > 0
    assert host.module_runs()[0].module_source == MODULE_PS1.read_bytes()
    assert record.result["compliant"] is True


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
def test_fake_winrm_contract_wrong_password_is_unreachable(tmp_path, auth, ntlm_user_file):
    host, run = scan_fake_host(
        tmp_path,
        module_reply(load_fixture("win11_decoys.json")),
        password="not-the-password",
        auth=auth,
    )
    record = run.only()
    assert record.status == "unreachable"
    assert host.rejected_auth > 0
    assert host.module_runs() == []
    assert "compliant" not in record.result
