"""av_scan run for real on this machine through ansible-playbook (connection local)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The verdicts depend on what runs on this machine, which other tests change: they run
# one after another, whichever worker runs them.
pytestmark = pytest.mark.usefixtures("local_machine_state")

BIN = Path(sys.executable).parent
DPKG_STATUS = Path("/var/lib/dpkg/status")

PLAYBOOK = """\
- name: Scan this machine
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Scan
      avshift.remediation.av_scan:
        return_inventory: true
      register: scan
      ignore_errors: true
    - name: Save the result
      ansible.builtin.copy:
        content: "{{ scan | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false  # the test's own record of the result, written even in --check
"""


def _scan(tmp_path: Path, env: dict | None = None, check: bool = False) -> dict:
    playbook = tmp_path / "scan.yml"
    playbook.write_text(PLAYBOOK)
    result_file = tmp_path / "result.json"
    argv = [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    argv += ["-e", f"result_file={result_file}"] + (["--check"] if check else [])
    run_env = {**os.environ, "ANSIBLE_NOCOLOR": "1", **(env or {})}
    done = subprocess.run(argv, capture_output=True, text=True, env=run_env, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(result_file.read_text())


def _installed_dpkg_packages() -> set[str]:
    """dpkg's own words for the state of each package (db:Status-Status), not the
    abbreviation the collector reads: a package counts while its files are on disk."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    gone = {"not-installed", "config-files"}
    return {
        name for state, name in (line.split() for line in out.splitlines()) if state not in gone
    }


needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a dpkg host")


@needs_dpkg
def test_scan_inventory_matches_the_package_database(tmp_path):
    result = _scan(tmp_path)
    assert result["changed"] is False
    inventory = result["inventory"]
    assert inventory["os_family"] == "linux"
    dpkg_names = {p["name"] for p in inventory["packages"] if p["source"] == "dpkg"}
    assert dpkg_names == _installed_dpkg_packages()
    assert result["ansible_facts"]["avshift_scan"]["compliant"] == result["compliant"]


@needs_dpkg
@pytest.mark.skipif(os.geteuid() != 0, reason="holding dpkg's lock needs root")
def test_scan_takes_no_package_lock_and_changes_nothing(tmp_path):
    before = hashlib.sha256(DPKG_STATUS.read_bytes()).hexdigest()
    # Hold dpkg's locks as a running apt would: the scan must still complete.
    with open("/var/lib/dpkg/lock-frontend", "a") as front, open("/var/lib/dpkg/lock", "a") as db:
        fcntl.lockf(front, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(db, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = _scan(tmp_path, check=True)
    assert "failed" not in result or result["failed"] is False
    assert result["inventory"]["packages"]
    assert hashlib.sha256(DPKG_STATUS.read_bytes()).hexdigest() == before


def test_unreadable_package_database_is_named_and_never_compliant(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    broken = fake_bin / "dpkg-query"
    broken.write_text("#!/bin/sh\necho 'dpkg-query: error: database is corrupt' >&2\nexit 2\n")
    broken.chmod(0o755)
    # ClamAV's daemon runs: only the unread package database keeps the host from passing.
    clamd = fake_bin / "clamd"
    shutil.copy("/bin/sleep", clamd)
    daemon = subprocess.Popen([str(clamd), "600"])
    try:
        result = _scan(tmp_path, env={"PATH": f"{fake_bin}:{os.environ['PATH']}"})
    finally:
        daemon.kill()
        daemon.wait()
    assert not result.get("failed"), result
    assert [a["active"] for a in result["approved"]] == [True]
    (part,) = result["unreadable"]
    assert part["part"] == "packages" and "database is corrupt" in part["reason"]
    assert result["compliant"] is False


@pytest.mark.skipif(os.geteuid() != 0, reason="creating /var/opt/kaspersky needs root")
def test_vendor_directory_alone_is_reported_as_residue(tmp_path):
    leftover = Path("/var/opt/kaspersky")
    if leftover.exists():
        pytest.fail(f"{leftover} exists on this machine; this test would not prove anything")
    try:
        leftover.mkdir(parents=True)
        (leftover / "kesl.log").write_text(textwrap.dedent("left behind by an uninstall\n"))
        result = _scan(tmp_path)
    finally:
        shutil.rmtree(leftover, ignore_errors=True)
    assert result["disallowed"] == []
    assert result["residue"] == [
        {"vendor": "kaspersky", "evidence": [{"kind": "path", "value": str(leftover)}]}
    ]
