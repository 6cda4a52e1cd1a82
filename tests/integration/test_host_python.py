"""The Linux collector and the host's Python, for real: interpreters of this machine (pyenv)
stand in for managed hosts, reached with connection local.

A Python older than the collector supports, or none at all, must fail the scan with one
line that names the interpreter and what to do (never a traceback), and the fleet report
must call that host failed. The oldest and the newest host Python each tested
ansible-core supports (the oldest: 2.16, tests/ansible_cores.py; the newest) run the
collector for real.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.ansible_release import __version__ as ansible_core
from ansible_cores import NEWEST_BIN, oldest_bin
from host_pythons import host_python

from ansible_collections.avshift.remediation.plugins.action.av_scan import host_python_floor
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import AUDITED_STATUSES

ROOT = Path(__file__).resolve().parents[2]


def _audit(
    tmp_path: Path, interpreters: dict[str, str], bin_dir: Path = NEWEST_BIN
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
        [
            str(bin_dir / "ansible-playbook"),
            "-i",
            str(inventory),
            str(ROOT / "playbooks/audit.yml"),
        ],
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


def _floor(bin_dir: Path) -> tuple[int, ...]:
    """host_python_floor() under the ansible-core of a venv."""
    done = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "from ansible_collections.avshift.remediation.plugins.action.av_scan import "
            "host_python_floor; print('.'.join(map(str, host_python_floor())))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(int(part) for part in done.stdout.split("."))


# (ansible-core, the oldest host Python it runs the collector on, the newest this machine
# has that it supports: 3.12 for 2.16, per its support matrix on docs.ansible.com).
@pytest.mark.parametrize(
    ("core", "oldest", "newest"), [("oldest", (3, 6), "3.12"), ("newest", (3, 9), "3.13")]
)
def test_the_collector_scans_on_the_oldest_and_newest_host_python_of_each_ansible_core(
    tmp_path, core, oldest, newest, local_machine_state
):
    bin_dir = oldest_bin() if core == "oldest" else NEWEST_BIN
    assert _floor(bin_dir) == oldest
    floor = ".".join(map(str, oldest))
    done, report = _audit(
        tmp_path, {"floor": host_python(floor), "newest": host_python(newest)}, bin_dir
    )
    # requires_ansible covers this ansible-core: it runs the collection without a word.
    assert "does not support Ansible version" not in done.stdout + done.stderr
    hosts = {host["host"]: host for host in report["hosts"]}
    assert set(hosts) == {"floor", "newest"}, done.stdout[-3000:]
    for name, host in hosts.items():
        # A scan ran and was judged: a verdict, never failed or unreachable.
        assert host["status"] in AUDITED_STATUSES, (name, host, done.stdout[-3000:])
    # The same machine, read by either Python: the same verdict and findings.
    verdicts = [
        {
            key: host[key]
            for key in ("status", "message", "disallowed", "approved", "other", "residue")
        }
        for host in hosts.values()
    ]
    assert verdicts[0] == verdicts[1], verdicts
