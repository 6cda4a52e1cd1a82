"""`avshift remediate` and the remediate playbook refuse bad changes before any host.

The refusals run for real: the CLI's own checks (exit 2, nothing started), and the
playbook's change_window task under plain ansible-playbook (the AWX path), whose
report lists every host as not started.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _window(start_minutes: int, end_minutes: int) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now + datetime.timedelta(minutes=start_minutes)
    end = now + datetime.timedelta(minutes=end_minutes)
    return f"{start.isoformat()}/{end.isoformat()}"


OPEN = _window(-5, 60)


def remediate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "avshift"), "remediate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", OPEN], "the following arguments are required: --change-id"),
        (["--change-id", "CHG1"], "the following arguments are required: --window"),
        (["--change-id", "not a change", "--window", OPEN], "does not match"),
        (["--change-id", "CHG1", "--window", _window(-120, -60)], "it closed at"),
        (["--change-id", "CHG1", "--window", _window(60, 120)], "it opens at"),
        (
            ["--change-id", "CHG1", "--window", _window(-120, -60), "--check"],
            "a dry run is of a change still to come",
        ),
        (
            # A ten-day window is warned about (and this one then refused for its --max-fail).
            ["--change-id", "CHG1", "--window", _window(-5, 14400), "--max-fail", "150"],
            "avshift: warning: the window is 240.1 h long, over 24 h: check its dates",
        ),
        (["--change-id", "CHG1", "--window", "2026-12-01T22:00/2026-12-02T04:00"], "UTC offset"),
        (["--change-id", "CHG1", "--window", OPEN, "--batch", "0"], "batch"),
        (["--change-id", "CHG1", "--window", OPEN, "--max-fail", "150"], "percentage 0-100"),
        (["--change-id", "CHG1", "--window", OPEN, "--reboot", "maybe"], "never, if_required"),
        (["--change-id", "CHG1", "--window", OPEN, "--policy", "/nonexistent"], "cannot read"),
        (["--change-id", "CHG1", "--window", OPEN, "--operator", " "], "expected a name"),
    ],
    ids=[
        "no-change-id",
        "no-window",
        "bad-change-id",
        "window-closed",
        "window-not-open",
        "dry-run-of-closed-window",
        "long-window",
        "window-without-offset",
        "bad-batch",
        "bad-max-fail",
        "bad-reboot",
        "missing-policy",
        "blank-operator",
    ],
)
def test_refused_with_exit_2_and_nothing_started(tmp_path, args, message):
    reports = tmp_path / "reports"
    done = remediate(*args, "--report-dir", str(reports))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not reports.exists()


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ([], "outside the change window: it closed at"),
        (["-e", "avshift_remediate_batch=1,50%"], "outside the change window: it closed at"),
        (["--check"], "a dry run is of a change still to come"),
    ],
    ids=["all", "ramp", "dry-run"],
)
def test_playbook_refuses_a_closed_window_and_reports_every_host_not_started(
    tmp_path, options, refusal
):
    """Plain ansible-playbook, as AWX runs it: the change_window task refuses the batch.
    A ramp given as text (an AWX survey's answer) starts the play as a list does, and a
    dry run of a window that has closed is refused too."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "  hosts:\n    web-01:\n    web-02:\n"
    )
    reports = tmp_path / "reports"
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(inventory),
            str(ROOT / "playbooks" / "remediate.yml"),
            "-e",
            "avshift_remediate_change_id=CHG0001",
            "-e",
            f"avshift_remediate_window={_window(-120, -60)}",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
            "AVSHIFT_REPORT_DIR": str(reports),
        },
    )
    assert done.returncode != 0
    assert "refused: window: " in done.stdout and refusal in done.stdout, done.stdout[-3000:]
    report = json.loads((reports / "report.json").read_text())
    assert report["kind"] == "remediation"
    assert report["run"]["change_id"] == "CHG0001"
    assert {h["host"]: h["status"] for h in report["hosts"]} == {
        "web-01": "deferred",
        "web-02": "deferred",
    }
    for host in report["hosts"]:
        assert host["message"].startswith("not started: refused")
        assert host["before"] is None and host["actions"] == []  # not even scanned
