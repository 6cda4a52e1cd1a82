"""The exit-code contract: defined once (contract.py), said the same everywhere, kept by
every command, and never a verdict code for a failure of avshift's own.

The failures run for real: a report directory on a read-only or full tmpfs mounted by
the test, a path that is a file, ansible-runner made unimportable, a machine without a
usable Python for the virtual environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import read_journal
from avshift import cli

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AVSHIFT = str(BIN / "avshift")
REPORT_FILES = ("report.json", "report.csv", "report.html", "report.junit.xml", "SHA256SUMS")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")


def avshift(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AVSHIFT, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", **(env or {})},
    )


def _table_rows(text: str) -> dict[int, str]:
    """`| N | meaning |` rows of the exit-code table in a Markdown file."""
    rows = {}
    for code, meaning in re.findall(r"^\| `(\d+)` \| (.+?) \|$", text, re.MULTILINE):
        rows[int(code)] = meaning
    return rows


# --- one definition, the same words everywhere ---------------------------------------


def test_precedence_names_every_code_once():
    assert sorted(contract.EXIT_PRECEDENCE) == sorted(Exit)
    assert set(contract.EXIT_MEANINGS) == set(Exit)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], Exit.OK),
        ([Exit.OK, Exit.NON_COMPLIANT], Exit.NON_COMPLIANT),
        ([Exit.NON_COMPLIANT, Exit.NOT_AUDITED], Exit.NOT_AUDITED),
        ([Exit.NOT_AUDITED, Exit.SIGINT], Exit.SIGINT),
        ([Exit.SIGTERM, Exit.NOT_AUDITED, Exit.NON_COMPLIANT], Exit.SIGTERM),
        ([Exit.SIGINT, Exit.TOOL_FAILURE], Exit.TOOL_FAILURE),
        ([Exit.TOOL_FAILURE, Exit.INVALID, Exit.NON_COMPLIANT], Exit.INVALID),
    ],
)
def test_the_first_code_of_the_precedence_wins(codes, expected):
    assert contract.combine_exits(codes) == expected


def test_statuses_decide_exit_codes():
    assert contract.exit_for_statuses(["compliant"]) == Exit.OK
    assert contract.exit_for_statuses(["compliant", "non-compliant"]) == Exit.NON_COMPLIANT
    # A host nobody could check outranks one known to be wrong (issue: exit 3 before a change).
    assert contract.exit_for_statuses(["non-compliant", "unreachable"]) == Exit.NOT_AUDITED
    assert contract.exit_for_statuses(["deferred"]) == Exit.NOT_AUDITED
    assert contract.exit_for_statuses(["no-such-status"]) == Exit.NOT_AUDITED
    assert contract.exit_for_summary({"total": 2, "compliant": 1, "failed": 1}) == 3


@pytest.mark.parametrize("command", [[], ["audit"], ["remediate"], ["classify"]])
def test_help_of_every_command_lists_the_contract(command):
    done = avshift(*command, "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for code in Exit:
        assert f"{int(code)} {contract.EXIT_MEANINGS[code]}" in text, code


@pytest.mark.parametrize("document", ["README.md", "docs/runbook.md"])
def test_documents_state_the_contract_word_for_word(document):
    rows = _table_rows((ROOT / document).read_text())
    assert rows == {int(code): meaning for code, meaning in contract.EXIT_MEANINGS.items()}


def test_venv_script_uses_the_contracts_tool_failure_code():
    text = (ROOT / "bin" / "_venv.sh").read_text()
    (value,) = re.findall(r"^AVSHIFT_EXIT_TOOL_FAILURE=(\d+)$", text, re.MULTILINE)
    assert int(value) == Exit.TOOL_FAILURE
    # Every exit of the script that is a failure uses it.
    assert re.findall(r"^\s*exit (\S+)", text, re.MULTILINE) == ['"$AVSHIFT_EXIT_TOOL_FAILURE"'] * 3


# --- avshift's own failures: exit 4, one line, no report that looks valid -------------


def _assert_tool_failure(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == Exit.TOOL_FAILURE, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("avshift: error:")]
    assert len(errors) == 1 and fragment in errors[0], done.stderr


def _assert_no_report(directory: Path) -> None:
    if directory.is_dir():
        left = sorted(name for name in REPORT_FILES if (directory / name).exists())
        assert not left, f"report files left in {directory}: {left}"


@contextlib.contextmanager
def _tmpfs(where: Path, options: str):
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_report_dir_that_is_a_file_is_exit_4_before_any_host(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a directory\n")
    done = avshift("audit", "--report-dir", str(target))
    _assert_tool_failure(done, "exists and is not a directory")
    assert target.read_text() == "not a directory\n"
    assert "localhost" not in done.stdout + done.stderr  # no host was reached


def test_report_dir_under_a_file_is_exit_4(tmp_path):
    (tmp_path / "file").write_text("")
    _assert_tool_failure(
        avshift("audit", "--report-dir", str(tmp_path / "file" / "reports")), "cannot create it"
    )


@needs_root
def test_report_dir_on_a_read_only_file_system_is_exit_4(tmp_path):
    with _tmpfs(tmp_path / "ro", "ro,size=1m") as mount:
        done = avshift("audit", "--report-dir", str(mount / "reports"))
    _assert_tool_failure(done, "cannot create it: Read-only file system")


@needs_root
def test_report_dir_on_a_full_file_system_is_exit_4_and_leaves_no_report(tmp_path):
    with _tmpfs(tmp_path / "full", "size=64k") as mount:
        (mount / "filler").write_bytes(b"\0" * 60 * 1024)
        done = avshift("audit", "--report-dir", str(mount / "reports"))
        _assert_tool_failure(done, "No space left on device")
        _assert_no_report(mount / "reports")


@needs_root
def test_disk_full_during_the_run_is_exit_4_never_a_verdict(tmp_path):
    """The disk fills up once the playbook runs, after the check before the run."""
    with _tmpfs(tmp_path / "small", "size=2m") as mount:
        reports = mount / "reports"
        process = subprocess.Popen(
            [AVSHIFT, "audit", "--report-dir", str(reports)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
        )
        deadline = time.monotonic() + 120
        # The run has started once its journal is there (ansible-runner's own files are
        # in a private directory elsewhere).
        while not (reports / "journal.jsonl").exists():
            assert process.poll() is None and time.monotonic() < deadline, "the run never started"
            time.sleep(0.01)
        with contextlib.suppress(OSError), open(mount / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
        stdout, stderr = process.communicate(timeout=300)
        _assert_tool_failure(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
            "No space left on device",
        )
        _assert_no_report(reports)
        # Every line the journal got before the disk filled up is whole and chained.
        if (reports / "journal.jsonl").exists():
            journal = read_journal(reports / "journal.jsonl")
            assert journal.problems == [] and journal.events[0]["type"] == "run"


def test_ansible_runner_missing_is_exit_4_with_what_to_do(tmp_path):
    blocker = tmp_path / "block" / "ansible_runner"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('ansible_runner is blocked here')\n")
    done = avshift(
        "audit", "--report-dir", str(tmp_path / "r"), env={"PYTHONPATH": str(blocker.parent)}
    )
    _assert_tool_failure(done, "ansible-runner cannot be imported")
    assert "rebuild the environment" in done.stderr


def test_ansible_playbook_refusing_its_input_is_exit_2(tmp_path):
    broken = tmp_path / "vars.yml"
    broken.write_text("key: [unclosed\n")
    done = avshift("audit", "-e", f"@{broken}", "--report-dir", str(tmp_path / "r"))
    assert done.returncode == Exit.INVALID, done.stdout + done.stderr
    assert "ansible-playbook refused to run the audit" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_internal_error_is_exit_4_in_one_line_and_a_traceback_on_request(
    monkeypatch, capsys, tmp_path
):
    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "cmd_classify", broken)
    inventory = tmp_path / "x.json"
    inventory.write_text("{}")
    monkeypatch.delenv("AVSHIFT_DEBUG", raising=False)
    assert cli.main(["classify", str(inventory)]) == Exit.TOOL_FAILURE
    err = capsys.readouterr().err
    assert "avshift: error: internal error: RuntimeError: a bug" in err
    assert "Traceback" not in err and "AVSHIFT_DEBUG=1" in err
    monkeypatch.setenv("AVSHIFT_DEBUG", "1")
    assert cli.main(["classify", str(inventory)]) == Exit.TOOL_FAILURE
    assert "Traceback" in capsys.readouterr().err


def test_no_usable_python_for_the_venv_is_exit_4(tmp_path):
    # Debian's own python3 (3.11) is too old; no pyenv on this PATH.
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "cat", "sed", "sha256sum", "cut", "sort", "dirname", "id"):
        found = shutil.which(tool, path="/usr/bin:/bin")
        assert found, tool
        (tools / tool).symlink_to(found)
    done = subprocess.run(
        [str(ROOT / "bin" / "avshift"), "audit"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": str(tools),
            "HOME": str(tmp_path),
            "AVSHIFT_VENV": str(tmp_path / "venv"),
            "AVSHIFT_PYTHON": str(tmp_path / "no-python"),
        },
    )
    assert done.returncode == Exit.TOOL_FAILURE, done.stderr
    assert "Python >= 3.12 not found" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_classify_follows_the_contract(tmp_path):
    good = ROOT / "tests" / "data" / "inventories" / "linux-clamav.json"
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert avshift("classify", str(good)).returncode == Exit.OK
    assert avshift("classify", str(good), str(bad)).returncode == Exit.INVALID
    kesl = ROOT / "tests" / "data" / "inventories" / "linux-kesl.json"
    assert avshift("classify", str(kesl)).returncode == Exit.NON_COMPLIANT
    verdict = json.loads(avshift("classify", str(kesl)).stdout)
    assert verdict["compliant"] is False
