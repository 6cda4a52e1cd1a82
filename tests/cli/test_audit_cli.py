"""`avshift audit` for real: ansible-runner, the audit playbook, the fleet_report callback.

The local machine is the audited host. Its antivirus state is set by running real
processes under the names the catalogue knows (a copy of /bin/sleep named `clamd` is,
to the collector, ClamAV's daemon; one named `kesl` is Kaspersky's), so the verdicts
change without installing anything on the machine.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import pty
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import pytest
from activity_policy import activity_policy_file

# The verdicts depend on what runs on this machine, which other tests change: they run
# one after another, whichever worker runs them.
pytestmark = pytest.mark.usefixtures("local_machine_state")

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AVSHIFT = str(BIN / "avshift")
DPKG_STATUS = Path("/var/lib/dpkg/status")


@contextmanager
def running_as(tmp_path: Path, name: str):
    """A real process whose executable and name are `name` for as long as the block runs."""
    binary = tmp_path / name
    shutil.copy("/bin/sleep", binary)
    process = subprocess.Popen([str(binary), "600"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def audit(*args: str, stderr=subprocess.PIPE, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AVSHIFT, "audit", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )


def _report(report_dir: Path) -> dict:
    return json.loads((report_dir / "report.json").read_text())


def test_audit_of_this_machine_with_clamav_running_is_compliant_exit_0(tmp_path):
    reports = tmp_path / "reports"
    # A clamd process, no signature database: active, which is all this policy asks.
    with running_as(tmp_path, "clamd"):
        done = audit("--report-dir", str(reports), "--policy", activity_policy_file(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    report = _report(reports)
    assert report["kind"] == "audit"
    assert report["summary"] == {
        "total": 1,
        "compliant": 1,
        "non-compliant": 0,
        "unreachable": 0,
        "failed": 0,
        "deferred": 0,
        "interrupted": 0,
    }
    (host,) = report["hosts"]
    assert host["host"] == "localhost" and host["status"] == "compliant"
    assert [(a["vendor"], a["active"]) for a in host["approved"]] == [("clamav", True)]
    assert report["run"]["policy"]["disallowed_vendors"] == ["kaspersky"]
    assert len(report["run"]["policy"]["sha256"]) == 64
    assert "compliant" in done.stdout and str(reports.resolve()) in done.stdout


def test_a_running_clamd_without_signatures_does_not_protect_under_the_shipped_policy(tmp_path):
    reports = tmp_path / "reports"
    with running_as(tmp_path, "clamd"):
        done = audit("--report-dir", str(reports))
    assert done.returncode == 1, done.stdout + done.stderr
    (host,) = _report(reports)["hosts"]
    assert host["status"] == "non-compliant"
    [clamav] = host["approved"]
    assert clamav["active"] is True and clamav["protection"] == "not-protecting"
    assert clamav["not_protecting_because"][0].startswith("signature age unknown (policy: 7 days)")


def test_disallowed_process_makes_the_host_non_compliant_exit_1_in_every_format(tmp_path):
    reports = tmp_path / "reports"
    with running_as(tmp_path, "clamd"), running_as(tmp_path, "kesl"):
        done = audit("--report-dir", str(reports))
    assert done.returncode == 1, done.stdout + done.stderr
    (host,) = _report(reports)["hosts"]
    assert host["status"] == "non-compliant"
    (finding,) = host["disallowed"]
    assert (finding["vendor"], finding["product"]) == ("kaspersky", "kesl")
    assert {"kind": "process", "value": "kesl"} in finding["evidence"]
    with open(reports / "report.csv", encoding="utf-8-sig", newline="") as stream:
        (row,) = list(csv.DictReader(stream))
    assert row["host"] == "localhost" and row["status"] == "non-compliant"
    suite = ET.parse(reports / "report.junit.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None
    assert (reports / "report.html").read_text().count("localhost") >= 1
    assert "kesl" in done.stdout  # the summary names what was found


def _with_an_unreachable_host(tmp_path: Path) -> Path:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n"
        "    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        # Port 9 on loopback: nothing listens, the connection is refused at once.
        "    gone:\n      ansible_host: 127.0.0.1\n      ansible_port: 9\n"
        "      ansible_connection: ssh\n"
    )
    return inventory


def test_unreachable_host_is_exit_3_and_never_compliant(tmp_path):
    inventory = _with_an_unreachable_host(tmp_path)
    reports = tmp_path / "reports"
    with running_as(tmp_path, "clamd"):
        done = audit(
            "-i",
            str(inventory),
            "--report-dir",
            str(reports),
            "--policy",
            activity_policy_file(tmp_path),
        )
    assert done.returncode == 3, done.stdout + done.stderr
    statuses = {h["host"]: h["status"] for h in _report(reports)["hosts"]}
    assert statuses == {"localhost": "compliant", "gone": "unreachable"}
    assert _report(reports)["summary"]["compliant"] == 1


def test_limit_selects_hosts_and_plain_lines_report_progress(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n"
        "    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        "    gone:\n      ansible_host: 127.0.0.1\n      ansible_port: 9\n"
    )
    reports = tmp_path / "reports"
    with running_as(tmp_path, "kesl"):
        done = audit("-i", str(inventory), "--limit", "localhost", "--report-dir", str(reports))
    assert [h["host"] for h in _report(reports)["hosts"]] == ["localhost"]
    assert "[1/1] localhost: non-compliant (kesl)" in done.stderr


def test_live_progress_view_on_a_terminal(tmp_path):
    """rich's view (the parts are tested in test_progress.py), and the host's line above it."""
    leader, follower = pty.openpty()
    try:
        with running_as(tmp_path, "kesl"):
            done = audit("--report-dir", str(tmp_path / "r"), stderr=follower)
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
    assert done.returncode == 1
    assert b"\x1b[" in output  # drawn, not printed as lines
    text = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", " ", output.decode()).split())
    assert "1/1 hosts 0:00:" in text and "✗ 1 non-compliant" in text
    assert "[1/1] localhost: non-compliant (kesl)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "{missing}"], "cannot read"),
        (["--policy", "{bad_policy}"], "unknown vendor 'kaspersy'"),
        (["-i", "{missing}"], "no such file or directory"),
        (["--limit", "no-such-host"], "'no-such-host' matches no host of the inventory"),
        (["--limit", "@{missing}"], "--limit @{missing}: no such file"),
        (
            ["--limit", "localhost,localhots"],
            "'localhots' matches no host of the inventory (did you mean 'localhost'?)",
        ),
        (
            ["--limit", "@{typo_file}"],
            "'!localhots' matches no host of the inventory (did you mean 'localhost'?)",
        ),
        (["--forks", "0"], "expected at least 1"),
        (["--bogus"], "unrecognized arguments"),
    ],
    ids=[
        "policy-missing",
        "policy-invalid",
        "inventory-missing",
        "limit-empty",
        "limit-file-missing",
        "limit-typo",
        "limit-file-typo",
        "forks",
        "flag",
    ],
)
def test_invalid_input_is_exit_2_before_any_host_is_touched(tmp_path, args, message):
    bad_policy = tmp_path / "policy.yml"
    bad_policy.write_text("disallowed_vendors: [kaspersy]\napproved: {linux: [clamav]}\n")
    typo_file = tmp_path / "retry.txt"
    typo_file.write_text("localhost\n!localhots\n")  # as a retry file lists hosts, one a line
    args = [
        a.format(missing=tmp_path / "nope", bad_policy=bad_policy, typo_file=typo_file)
        for a in args
    ]
    message = message.format(missing=tmp_path / "nope")
    reports = tmp_path / "reports"
    done = audit(*args, "--report-dir", str(reports))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not reports.exists()  # nothing ran


@pytest.mark.skipif(not DPKG_STATUS.exists(), reason="needs a dpkg host")
def test_audit_changes_nothing_on_the_host(tmp_path):
    before = hashlib.sha256(DPKG_STATUS.read_bytes()).hexdigest()
    with running_as(tmp_path, "kesl"):
        done = audit("--report-dir", str(tmp_path / "r"))
    # The scan ran (and found what runs): a run that stopped early would prove nothing.
    assert done.returncode == 1, done.stdout + done.stderr
    (host,) = _report(tmp_path / "r")["hosts"]
    assert [f["product"] for f in host["disallowed"]] == ["kesl"]
    assert host["changed"] == 0
    assert hashlib.sha256(DPKG_STATUS.read_bytes()).hexdigest() == before


def test_plain_ansible_playbook_with_the_callback_writes_the_same_report(tmp_path):
    """The AWX way: no CLI, the callback enabled by configuration."""
    reports = tmp_path / "reports"
    env = {
        **os.environ,
        "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
        "AVSHIFT_REPORT_DIR": str(reports),
    }
    with running_as(tmp_path, "clamd"):
        done = subprocess.run(
            [
                str(BIN / "ansible-playbook"),
                "-i",
                str(ROOT / "inventories" / "local"),
                str(ROOT / "playbooks" / "audit.yml"),
                "-e",
                f"avshift_audit_policy={activity_policy_file(tmp_path)}",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    report = _report(reports)
    assert report["summary"]["compliant"] == 1
    assert report["run"]["playbook"] == "audit.yml"


def _plain_playbook(cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(ROOT / "inventories" / "local"),
            str(ROOT / "playbooks" / "audit.yml"),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            **{k: v for k, v in os.environ.items() if k != "AVSHIFT_REPORT_DIR"},
            "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
            **env,
        },
        timeout=300,
    )


def test_plain_ansible_playbook_writes_a_relative_report_dir_under_its_start_directory(tmp_path):
    done = _plain_playbook(tmp_path, {"AVSHIFT_REPORT_DIR": "evidence/audit"})
    assert done.returncode in (0, 2), done.stdout + done.stderr
    assert (tmp_path / "evidence" / "audit" / "report.json").is_file(), done.stdout


def test_plain_ansible_playbook_default_report_dir_is_under_its_start_directory(tmp_path):
    done = _plain_playbook(tmp_path, {})
    (report_dir,) = (tmp_path / "reports").glob("audit-*")
    assert (report_dir / "report.json").is_file(), done.stdout


def test_relative_report_dir_of_the_cli_is_relative_to_where_it_runs(tmp_path):
    done = audit("--report-dir", "out/here", cwd=tmp_path)
    assert (tmp_path / "out" / "here" / "report.json").is_file(), done.stdout + done.stderr
    assert f"Reports: {tmp_path / 'out' / 'here'}/report." in done.stdout


def test_one_message_per_host_in_every_format_and_the_summary(tmp_path):
    """A host with nothing approved active: the same reason in JSON, CSV, JUnit, console."""
    reports = tmp_path / "reports"
    with running_as(tmp_path, "kesl"):
        done = audit("--report-dir", str(reports))
    assert done.returncode == 1, done.stdout + done.stderr
    (host,) = _report(reports)["hosts"]
    message = host["message"]
    assert message.startswith("disallowed antivirus found: kesl (kaspersky)")
    assert "no active approved antivirus; the policy approves for linux: clamav" in message
    with open(reports / "report.csv", encoding="utf-8-sig", newline="") as stream:
        (row,) = list(csv.DictReader(stream))
    assert row["message"] == message
    suite = ET.parse(reports / "report.junit.xml").getroot()
    assert suite.find("testcase/failure").get("message") == message
    assert f"localhost  non-compliant  {message}" in done.stdout
    assert "avshift audit: 1 host in " in done.stdout  # not "1 hosts"


def test_non_compliant_and_unreachable_together_exit_3(tmp_path):
    inventory = _with_an_unreachable_host(tmp_path)
    reports = tmp_path / "reports"
    with running_as(tmp_path, "kesl"):
        done = audit("-i", str(inventory), "--report-dir", str(reports))
    statuses = {h["host"]: h["status"] for h in _report(reports)["hosts"]}
    assert statuses == {"localhost": "non-compliant", "gone": "unreachable"}
    assert done.returncode == 3, done.stdout + done.stderr


def test_syslog_receives_every_journal_event_as_one_line(tmp_path):
    """A real Unix datagram socket stands for /dev/log (journald, rsyslog)."""
    address = tmp_path / "log.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(address))
    receiver.settimeout(0.5)
    try:
        reports = tmp_path / "reports"
        done = audit("--report-dir", str(reports), "--syslog", str(address))
        assert done.returncode in (0, 1), done.stdout + done.stderr
        messages = []
        with contextlib.suppress(TimeoutError):
            while True:
                messages.append(receiver.recv(65536).decode())
    finally:
        receiver.close()
    lines = (reports / "journal.jsonl").read_text().splitlines()
    assert len(messages) == len(lines)
    for message, line in zip(messages, lines, strict=True):
        # <priority>tag: the journal's line, as written (facility user, level info: 14).
        assert message.startswith("<14>avshift: ")
        assert message.removeprefix("<14>avshift: ").rstrip("\x00") == line


def test_several_inventories_are_all_used_as_ansible_playbook_uses_them(tmp_path):
    inventories = []
    for name in ("a", "b"):
        inventory = tmp_path / f"{name}.yml"
        inventory.write_text(
            f"all:\n  hosts:\n    host-{name}:\n      ansible_connection: local\n"
            '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        )
        inventories += ["-i", str(inventory)]
    reports = tmp_path / "reports"
    done = audit(*inventories, "--limit", "host-a,host-b", "--report-dir", str(reports))
    report = _report(reports)
    assert sorted(host["host"] for host in report["hosts"]) == ["host-a", "host-b"], done.stderr
    assert report["run"]["inventory"] == f"{tmp_path / 'a.yml'}, {tmp_path / 'b.yml'}"


def test_the_summary_says_which_protection_rules_applied(tmp_path):
    reports = tmp_path / "reports"
    done = audit("--report-dir", str(reports))
    assert (
        "Protection rules: linux: signatures at most 7 days old; windows: signatures at "
        "most 7 days old and real-time protection on"
    ) in done.stdout
    activity = audit(
        "--report-dir", str(tmp_path / "r2"), "--policy", activity_policy_file(tmp_path)
    )
    assert "Protection rules" not in activity.stdout
