"""A real `avshift remediate` starts only when confirmed: the change id typed at its
prompt on a terminal, or --yes; how it started is in the evidence.

Driven through a pseudo-terminal (pexpect), as an operator types. The runs that go on
are real remediations of hosts on a loopback port where nothing listens: every host is
unreachable at its first task, so nothing changes anywhere, and the report shows the
run went on and how it was allowed to.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    CONFIRMATIONS,
    Exit,
)

AVSHIFT = str(Path(sys.executable).parent / "avshift")
CHANGE = "CHG0012345"
PROMPT = "type the change id to go on: "


def _window(start_minutes: int, end_minutes: int) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now + datetime.timedelta(minutes=start_minutes)
    end = now + datetime.timedelta(minutes=end_minutes)
    return f"{start.isoformat()}/{end.isoformat()}"


OPEN = _window(-5, 60)


@pytest.fixture
def inventory(tmp_path) -> Path:
    """Three hosts nothing answers for (port 9 on loopback refuses at once)."""
    path = tmp_path / "hosts.yml"
    path.write_text(
        "all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_port: 9\n"
        "    ansible_connection: ssh\n"
        "  hosts:\n    web-01:\n    web-02:\n    db-01:\n"
    )
    return path


def _args(inventory: Path, reports: Path, *more: str) -> list[str]:
    # --limit: the prompt counts the hosts the run selects, not the inventory's.
    return [
        "remediate",
        "-i",
        str(inventory),
        "--limit",
        "web-*",
        "--change-id",
        CHANGE,
        "--window",
        OPEN,
        "--report-dir",
        str(reports),
        *more,
    ]


def spawn(args: list[str], **options) -> pexpect.spawn:
    """avshift on a terminal of its own: stdin, stdout and stderr are the pty."""
    return pexpect.spawn(
        AVSHIFT,
        args,
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 200),
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
        **options,
    )


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF, timeout=300)
    child.close()
    return child.exitstatus, child.before


def _report(reports: Path) -> dict:
    return json.loads((reports / "report.json").read_text())


def test_the_prompt_names_the_hosts_the_change_and_the_window_and_the_change_id_goes_on(
    tmp_path, inventory
):
    reports = tmp_path / "reports"
    child = spawn(_args(inventory, reports, "--operator", "Jane Doe"))
    child.expect_exact(PROMPT)
    assert child.before.endswith(f"about to change 2 hosts for change {CHANGE} inside {OPEN}: ")
    assert not (reports / "journal.jsonl").exists()  # asked before the run starts
    child.sendline(CHANGE)
    code, output = finish(child)
    assert code == Exit.NOT_AUDITED, output  # it ran: both hosts unreachable
    report = _report(reports)
    assert sorted(h["host"] for h in report["hosts"]) == ["web-01", "web-02"]
    assert report["run"]["confirmation"] == "typed" and "typed" in CONFIRMATIONS
    assert report["run"]["operator"] == "Jane Doe"
    assert report["run"]["os_account"]  # the account, read by the collection


@pytest.mark.parametrize(
    "answer",
    ["CHG0012346", CHANGE.lower(), "yes", "", "eof", "ctrl-c"],
    ids=["another-id", "lower-case", "yes", "empty", "eof", "ctrl-c"],
)
def test_anything_but_the_change_id_refuses_with_exit_2_and_nothing_runs(
    tmp_path, inventory, answer
):
    reports = tmp_path / "reports"
    child = spawn(_args(inventory, reports))
    child.expect_exact(PROMPT)
    if answer == "eof":
        child.sendeof()
    elif answer == "ctrl-c":
        child.sendintr()
    else:
        child.sendline(answer)
    code, output = finish(child)
    assert code == Exit.INVALID, output
    errors = [line for line in output.splitlines() if line.startswith("avshift: error:")]
    assert len(errors) == 1 and "not confirmed" in errors[0] and "nothing ran" in errors[0]
    assert "Traceback" not in output
    assert not reports.exists()  # no report directory, no journal: nothing ran


def test_yes_starts_without_a_prompt_and_is_recorded(tmp_path, inventory):
    reports = tmp_path / "reports"
    code, output = finish(spawn(_args(inventory, reports, "--yes")))
    assert code == Exit.NOT_AUDITED, output
    assert PROMPT not in output
    assert _report(reports)["run"]["confirmation"] == "yes"


def test_a_dry_run_never_asks(tmp_path, inventory):
    reports = tmp_path / "reports"
    code, output = finish(spawn(_args(inventory, reports, "--check")))
    assert code == Exit.NOT_AUDITED, output
    assert PROMPT not in output
    assert _report(reports)["run"]["confirmation"] is None


@pytest.mark.parametrize("how", ["stdin", "stderr"])
def test_not_on_a_terminal_a_real_run_without_yes_is_refused(tmp_path, inventory, how):
    """Nobody could type the change id: an unattended run must not start unconfirmed."""
    reports = tmp_path / "reports"
    if how == "stdin":
        done = subprocess.run(
            [AVSHIFT, *_args(inventory, reports)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        code, stderr = done.returncode, done.stderr
    else:
        # A terminal to type on, but stderr (where the prompt goes) is a log file.
        log = tmp_path / "stderr.log"
        command = shlex.join([AVSHIFT, *_args(inventory, reports)])
        code, _ = finish(pexpect.spawn("bash", ["-c", f"exec {command} 2>{shlex.quote(str(log))}"]))
        stderr = log.read_text()
    assert code == Exit.INVALID, stderr
    assert "pass --yes for automation" in stderr and "Traceback" not in stderr
    assert PROMPT not in stderr
    assert not reports.exists()


@pytest.mark.parametrize(
    "case", ["bad-batch", "bad-limit", "report-dir-holds-a-run"], ids=lambda case: case
)
def test_bad_input_is_refused_before_the_prompt(tmp_path, inventory, case):
    reports = tmp_path / "reports"
    more = {"bad-batch": ["--batch", "0"], "bad-limit": ["--limit", "web-03"]}.get(case, [])
    if case == "report-dir-holds-a-run":
        reports.mkdir()
        (reports / "journal.jsonl").write_text("")
    code, output = finish(spawn(_args(inventory, reports, *more)))
    assert code == Exit.INVALID, output
    assert PROMPT not in output and "Traceback" not in output
    if case == "report-dir-holds-a-run":
        assert [path.name for path in reports.iterdir()] == ["journal.jsonl"]
    else:
        assert not reports.exists()
