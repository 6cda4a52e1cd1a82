"""Who ran a change and how it was allowed to start, as the change record keeps it.

Real ansible-playbook with the change_window task and the fleet_report callback; the
report's run section is read back. The OS account comes from the process's user id, so
a LOGNAME or USER set to someone else changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
WINDOW = "2026-12-01T22:00:00+00:00/2026-12-02T04:00:00+00:00"
INSIDE = "2026-12-02T01:00:00+00:00"

PLAYBOOK = """\
- name: One change, recorded
  hosts: all
  serial: "{{ ramp }}"
  gather_facts: false
  tasks:
    - name: Check the change
      avshift.remediation.change_window:
        change_id: "{{ change_id }}"
        window: "{{ window }}"
        batch: "{{ ramp }}"
        change_id_pattern: "{{ pattern | default(omit) }}"
        operator: "{{ given_name | default(omit) }}"
        confirmation: "{{ confirmation | default(omit) }}"
      run_once: true
    - name: Scan
      avshift.remediation.av_scan:
"""


def _account() -> str:
    # Asked of the system, not of the code under test.
    return subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()


def _run(tmp_path: Path, extra: dict) -> dict:
    clock = tmp_path / "clock"
    clock.write_text(INSIDE)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "  hosts:\n    web-01:\n"
    )
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.yml"),
            str(tmp_path / "play.yml"),
            "-e",
            json.dumps({"window": WINDOW, "ramp": [1, 5, "25%"], **extra}),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
            "AVSHIFT_REPORT_DIR": str(tmp_path / "reports"),
            "AVSHIFT_CLOCK": str(clock),
            "AVSHIFT_HISTORY": "off",
            "LOGNAME": "not-the-operator",
            "USER": "not-the-operator",
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((tmp_path / "reports" / "report.json").read_text())["run"]


def test_the_record_names_the_os_account_the_person_and_how_the_run_started(tmp_path):
    run = _run(
        tmp_path,
        {
            "change_id": "CHG0012345",
            "given_name": "Jane Doe",
            "confirmation": "typed",
            "pattern": "^CHG[0-9]{7}$",
        },
    )
    assert run["os_account"] == _account() != "not-the-operator"
    assert run["operator"] == "Jane Doe"
    assert run["confirmation"] == "typed"
    # A site's own pattern is kept: the record says which rule the change id met.
    assert run["change_id_pattern"] == "^CHG[0-9]{7}$"
    # The ramp as the operator wrote it, not as a Python list.
    assert run["batch"] == "1,5,25%"


def test_a_run_started_another_way_records_that_it_was_not_asked(tmp_path):
    run = _run(tmp_path, {"change_id": "CHG0012345", "awx_user_name": "awx-admin"})
    assert run["confirmation"] is None
    assert run["change_id_pattern"] is None
    # The AWX user who launched the job is the person; the account is still read.
    assert run["operator"] == "awx-admin"
    assert run["os_account"] == _account()
