"""A window that closes during a run: the next batch is not started and is `deferred`.

Real ansible-playbook with serial batches and the fleet_report callback; the first
batch deliberately outlives the window (a few seconds long).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent

PLAYBOOK = """\
- name: Batches against a short window
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
    - name: Outlive the window
      ansible.builtin.pause:
        seconds: "{{ change.remaining_seconds + 2 }}"
"""


def test_hosts_of_a_batch_after_the_window_are_deferred(tmp_path):
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    window = (
        f"{(now - datetime.timedelta(minutes=5)).isoformat()}/"
        + (now + datetime.timedelta(seconds=8)).isoformat()
    )
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "  hosts:\n    web-01:\n    web-02:\n    web-03:\n"
    )
    reports = tmp_path / "reports"
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.yml"),
            str(tmp_path / "play.yml"),
            "-e",
            f"window={window}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
            "AVSHIFT_REPORT_DIR": str(reports),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((reports / "report.json").read_text())
    statuses = {h["host"]: h["status"] for h in report["hosts"]}
    assert statuses["web-01"] != "deferred"  # its batch started inside the window
    assert statuses["web-02"] == statuses["web-03"] == "deferred"
    messages = {h["host"]: h["message"] for h in report["hosts"]}
    assert "change window closed" in messages["web-02"]
    assert report["summary"]["deferred"] == 2
