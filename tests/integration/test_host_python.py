"""The Linux collector and the host's Python, for real: interpreters of this machine (pyenv)
stand in for managed hosts, reached with connection local.

A Python older than the collector supports, or none at all, must fail the scan with one
line that names the interpreter and what to do (never a traceback), and the fleet report
must call that host failed. The oldest Python the collector supports under ansible-core
2.16 is run for real by tests/matrix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ansible.module_utils.ansible_release import __version__ as ansible_core
from host_pythons import host_python

from ansible_collections.avshift.remediation.plugins.action.av_scan import host_python_floor

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def _audit(
    tmp_path: Path, interpreters: dict[str, str]
) -> tuple[subprocess.CompletedProcess, dict]:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_connection: local\n  hosts:\n"
        + "".join(
            f"    {name}:\n      ansible_python_interpreter: {path}\n"
            for name, path in interpreters.items()
        )
    )
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks/audit.yml")],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
            "AVSHIFT_REPORT_DIR": str(tmp_path / "report"),
        },
    )
    return done, json.loads((tmp_path / "report" / "report.json").read_text())


def test_a_host_python_too_old_or_missing_fails_the_host_with_one_line_saying_what_to_do(
    tmp_path,
):
    python27 = host_python("2.7")
    missing = str(tmp_path / "no-such-python3")
    done, report = _audit(tmp_path, {"old-python": python27, "no-python": missing})

    assert done.returncode != 0
    hosts = {host["host"]: host for host in report["hosts"]}
    assert {name: host["status"] for name, host in hosts.items()} == {
        "old-python": "failed",
        "no-python": "failed",
    }
    for name, interpreter in (("old-python", python27), ("no-python", missing)):
        message = hosts[name]["message"]
        assert "\n" not in message.strip(), message
        assert "Traceback" not in message and "SyntaxError" not in message, message
        assert interpreter in message, message
        assert "ansible_python_interpreter" in message, message
    assert "too old" in hosts["old-python"]["message"]
    assert hosts["no-python"]["message"].startswith(f"no Python at {missing}")
    # Both say which Python would do, under this controller's ansible-core.
    needed = (
        f"Python {'.'.join(map(str, host_python_floor()))} or newer (ansible-core {ansible_core})"
    )
    assert all(needed in host["message"] for host in hosts.values()), hosts
