"""A window that closes during a run: the next batch is not started and is `deferred`.

Real ansible-playbook with serial batches and the fleet_report callback. Time is the
change rules' own clock (AVSHIFT_CLOCK, a file holding the time): the first batch moves
it past the window's end, so the test never waits for, or races, the wall clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
WINDOW = "2026-12-01T22:00:00+00:00/2026-12-02T04:00:00+00:00"
INSIDE = "2026-12-02T03:59:00+00:00"
AFTER = "2026-12-02T04:00:01+00:00"

PLAYBOOK = """\
- name: Batches against a window that closes during the run
  hosts: all
  serial: 1
  gather_facts: false
  tasks:
    - name: Check the window before this batch
      avshift.remediation.change_window:
        change_id: CHG0002
        window: "{{ window }}"
      run_once: true
      register: change
    - name: Start no new batch after the window
      ansible.builtin.meta: end_play
      when: change.deferred
    - name: Scan
      avshift.remediation.av_scan:
    - name: The first batch outlives the window
      ansible.builtin.copy:
        content: "{{ after }}"
        dest: "{{ clock }}"
        mode: "0600"
      delegate_to: localhost
      run_once: true
"""


def _run(tmp_path: Path, start: str) -> subprocess.CompletedProcess:
    clock = tmp_path / "clock"
    clock.write_text(start)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "  hosts:\n    web-01:\n    web-02:\n    web-03:\n"
    )
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.yml"),
            str(tmp_path / "play.yml"),
            "-e",
            f"window={WINDOW} clock={clock} after={AFTER}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
            "AVSHIFT_REPORT_DIR": str(tmp_path / "reports"),
            "AVSHIFT_CLOCK": str(clock),
        },
    )


def test_hosts_of_a_batch_after_the_window_are_deferred(tmp_path):
    done = _run(tmp_path, INSIDE)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    statuses = {h["host"]: h["status"] for h in report["hosts"]}
    assert statuses["web-01"] != "deferred"  # its batch started inside the window
    assert statuses["web-02"] == statuses["web-03"] == "deferred"
    messages = {h["host"]: h["message"] for h in report["hosts"]}
    assert "change window closed at 2026-12-02T04:00:00+00:00" in messages["web-02"]
    assert report["summary"]["deferred"] == 2


def test_a_window_closed_before_the_first_batch_refuses_every_host(tmp_path):
    done = _run(tmp_path, AFTER)
    assert done.returncode != 0
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert {h["status"] for h in report["hosts"]} == {"deferred"}
    assert all("refused" in h["message"] for h in report["hosts"])
