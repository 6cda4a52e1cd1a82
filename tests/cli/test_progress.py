"""What the CLI shows while a run goes on (playbook_run.Progress): on a terminal, rich's
live view; elsewhere one line per host. Fed the events ansible-runner hands the event
handler, in their shape (event_data with host, task, role, resolved_action, task_path),
and the outcomes the journal's fold decides; the real runs are in test_audit_cli.py and
test_remediate_confirmation.py.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
import rich.console

from avshift.playbook_run import STEPS, Progress, step_of

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
REASON = (
    "left protected by Kaspersky Endpoint Security for Linux, Kaspersky Security Center "
    "Network Agent; replacement failed: clamav-daemon did not become active within 300 s: "
    "clamd: LibClamAV Error: cli_loaddbdir(): No supported database files found in "
    "/var/lib/clamav; check avshift_install_clamav_signature_source"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def started(host: str, task: str, role: str | None = None, action: str = "", path: str = ""):
    """A runner_on_start event as ansible-runner's display callback makes it."""
    return {
        "event": "runner_on_start",
        "event_data": {
            "host": host,
            "task": task,
            "role": role and role.rsplit(".", 1)[-1],
            "resolved_role": role,
            "task_action": action,
            "resolved_action": action,
            "task_path": path and f"{ROLES}/{path}:7",
        },
    }


INSTALL = started(
    "web-01",
    "Packages | install with APT clamav-daemon",
    role="avshift.remediation.install",
    action="ansible.builtin.apt",
    path="install/tasks/packages.yml",
)
SCAN = started(
    "web-02",
    "Scan before remediation",
    role="avshift.remediation.remediate",
    action="avshift.remediation.av_scan",
    path="remediate/tasks/main.yml",
)
SCAN_ACTION = "avshift.remediation.av_scan"
EVIDENCE = started(
    "web-01",
    "Record the installation",
    role="avshift.remediation.remediate",
    action="avshift.remediation.evidence",
    path="remediate/tasks/apply.yml",
)


@pytest.mark.parametrize(
    ("event", "step"),
    [
        (INSTALL, "install"),
        (SCAN, "scan"),
        (
            started(
                "h",
                "Uninstall | purge the dpkg packages of product 1",
                role="avshift.remediation.uninstall",
                action="ansible.builtin.apt",
                path="uninstall/tasks/linux_step.yml",
            ),
            "remove",
        ),
        (
            started(
                "h",
                "Uninstall | delete the vendor paths left behind",
                role="avshift.remediation.uninstall",
                action="ansible.builtin.file",
                path="uninstall/tasks/residue.yml",
            ),
            "residue",
        ),
        (
            started(
                "h",
                "Reboot a Linux host",
                role="avshift.remediation.remediate",
                action="ansible.builtin.reboot",
                path="remediate/tasks/reboot.yml",
            ),
            "reboot",
        ),
        (
            # The install role restarting a Windows Server for Defender's feature.
            started(
                "h",
                "Restart",
                role="avshift.remediation.install",
                action="ansible.windows.win_reboot",
                path="install/tasks/installers/defender.yml",
            ),
            "reboot",
        ),
        (
            started(
                "h",
                "Work out what this host needs",
                role="avshift.remediation.remediate",
                action="ansible.builtin.set_fact",
                path="remediate/tasks/plan.yml",
            ),
            "plan",
        ),
        (
            started(
                "h",
                "Take this host's remediation lock",
                role="avshift.remediation.remediate",
                action="avshift.remediation.host_lock",
                path="remediate/tasks/main.yml",
            ),
            "lock",
        ),
        (EVIDENCE, None),
    ],
    ids=["install", "scan", "remove", "residue", "reboot", "install-reboot", "plan", "lock", "no"],
)
def test_each_running_task_names_its_step(event, step):
    assert step_of(event["event_data"]) == step


def test_every_step_names_an_action_role_or_task_file_the_collection_has():
    """A renamed task file, role or action would leave its hosts without a step."""
    files = {path.name for path in ROLES.glob("*/tasks/**/*.yml")}
    roles = {f"avshift.remediation.{path.name}" for path in ROLES.iterdir() if path.is_dir()}
    ours = {
        f"avshift.remediation.{path.stem}"
        for path in [*ROOT.glob("plugins/action/*.py"), *ROOT.glob("plugins/modules/*.py")]
    }
    used = "\n".join(path.read_text() for path in ROLES.glob("*/tasks/**/*.yml"))
    for step, key, values in STEPS:
        for value in values:
            if key == "file":
                assert value in files, (step, value)
            elif key == "role":
                assert value in roles, (step, value)
            else:
                assert value in ours or f"{value}:" in used, (step, value)


def _render(progress: Progress) -> str:
    """What the live view shows now, as plain text, blanks between words made one."""
    console = rich.console.Console(file=io.StringIO(), width=100, color_system=None)
    console.print(progress.view.get_renderable())
    return re.sub(r"[ ]+", " ", console.file.getvalue())


def test_the_live_view_shows_hosts_done_per_status_the_time_and_each_running_hosts_step():
    now = [1000.0]
    progress = Progress(total=3, stream=Terminal())
    with progress.showing(clock=lambda: now[0]):
        for event in (INSTALL, SCAN):
            progress.handle(event)
        text = _render(progress)
        assert "0/3 hosts 0:00:00" in text
        assert "no host finished yet" in text
        assert "web-01 install" in text and "web-02 scan" in text
        # A task that is no step (recording evidence) leaves the host at its step.
        progress.handle(EVIDENCE)
        progress.host_done("web-02", "compliant")
        progress.host_done("db-01", "failed", REASON)
        now[0] += 305  # nothing happens for five minutes: the clock goes on
        text = _render(progress)
    assert "2/3 hosts 0:05:05" in text
    assert "✓ 1 compliant" in text and "! 1 failed" in text
    assert "web-01 install" in text and "web-02" not in text  # done: no longer running
    # The finished hosts were printed above the live part, in full (wrapped, not cut).
    above = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", progress.stream.getvalue()).split())
    assert "[1/3] web-02: compliant" in above
    assert f"[2/3] db-01: failed ({REASON})" in above


def test_the_live_view_redraws_itself_between_events():
    """rich refreshes from a thread of its own: the time ticks while no event comes."""
    terminal = Terminal()
    progress = Progress(total=1, stream=terminal)
    with progress.showing():
        progress.handle(INSTALL)
        drawn = len(terminal.getvalue())
        time.sleep(1.2)
        assert len(terminal.getvalue()) > drawn, "nothing was drawn while no event came"


def test_many_running_hosts_are_counted_beyond_the_first_ten():
    progress = Progress(total=30, stream=Terminal())
    with progress.showing():
        for number in range(25):
            progress.handle(started(f"host-{number:02d}", "Scan", action=SCAN_ACTION))
        text = _render(progress)
    assert "host-09 scan" in text and "host-10" not in text
    assert "and 15 more running" in text


def test_elsewhere_one_plain_line_per_host_with_a_failed_hosts_whole_reason():
    log = io.StringIO()  # a pipe, a file, tee: not a terminal
    progress = Progress(total=2, stream=log)
    with progress.showing():
        progress.handle(INSTALL)
        progress.host_done("web-01", "non-compliant", "kesl")
        progress.host_done("db-01", "failed", REASON + "\n  (see artifacts)")
        progress.host_done("db-01", "failed", "a second outcome is never shown")
    assert log.getvalue().splitlines() == [
        "[1/2] web-01: non-compliant (kesl)",
        f"[2/2] db-01: failed ({REASON} (see artifacts))",
    ]
