"""`avshift remediate` for real on test-bed hosts (podman, systemd, apt, test doubles).

Debian 12 containers with the Kaspersky test-double packages (kesl, klnagent64) from the
test bed's local apt repository; ClamAV from the Debian mirror with the test bed's
offline signature database. Covers a replacement that cannot be installed, a batch
failing above --max-fail, a second change refused while one runs, a killed run and its
rerun, a lock left by another controller, and an interrupted audit. The dry run, the
run and the rerun of one host, end to end, are tests/integration/test_secret_leaks.py's,
which runs them with every secret given.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from testbed_hosts import PODMAN_ENV, dpkg_status_hash, in_host, installed, inventory_file, window

BIN = Path(sys.executable).parent
SECRET = f"Pa55-{uuid.uuid4().hex[:12]}"  # the uninstall passwords the runs are given


@pytest.fixture
def hosts(testbed_hosts):
    return lambda count: testbed_hosts(count, "avshift-remediate")


def inventory(tmp_path: Path, names: list[str]) -> Path:
    path = inventory_file(tmp_path / "hosts.yml", names)
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(
        "avshift_remediate_passwords:\n"
        f"  kes_windows: {{login: KLAdmin, password: {SECRET}}}\n"
        f"  klnagent: {{password: {SECRET}}}\n"
    )
    return path


def _remediate_argv(
    tmp_path: Path, names: list[str], report: str, change: str, *args: str
) -> list[str]:
    return [
        str(BIN / "avshift"),
        "remediate",
        "-i",
        str(inventory(tmp_path, names)),
        "--change-id",
        change,
        "--window",
        window(),
        "--report-dir",
        str(tmp_path / report),
        "-e",
        f"@{tmp_path / 'secrets.yml'}",
        # Automation's way to start a real run: no terminal to type the change id at.
        "--yes",
        *args,
    ]


def remediate(
    tmp_path: Path, names: list[str], *args: str, report: str = "r", change: str = "CHG0012345"
):
    done = subprocess.run(
        _remediate_argv(tmp_path, names, report, change, *args),
        capture_output=True,
        text=True,
        timeout=900,
        env=PODMAN_ENV,
    )
    report_file = tmp_path / report / "report.json"
    return done, json.loads(report_file.read_text()) if report_file.exists() else None


def test_failed_replacement_keeps_kaspersky_and_stops_later_batches(tmp_path, hosts):
    broken, healthy = hosts(2)
    # No package source for ClamAV on the first host: the replacement cannot be installed.
    in_host(broken, "rm", "-f", "/etc/apt/sources.list.d/debian.sources")
    in_host(broken, "sh", "-c", "rm -rf /var/lib/apt/lists/* && apt-get update -qq", check=False)

    done, report = remediate(tmp_path, [broken, healthy], "--batch", "1", "--max-fail", "0")
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    statuses = {h["host"]: h for h in report["hosts"]}
    assert statuses[broken]["status"] == "failed"
    assert statuses[broken]["message"].startswith("left protected by kesl")
    assert "replacement failed" in statuses[broken]["message"]
    # Kaspersky is still installed and running on the host whose replacement failed.
    assert installed(broken, "kesl") and installed(broken, "klnagent64")
    assert in_host(broken, "systemctl", "is-active", "kesl").stdout.strip() == "active"
    # The later batch was never started.
    assert statuses[healthy]["status"] == "deferred"
    assert "max_fail_percentage" in statuses[healthy]["message"]
    assert installed(healthy, "kesl") and not installed(healthy, "clamav-daemon")


def _packages(name: str) -> set[tuple[str, str]]:
    """The host's installed packages and versions, as dpkg itself lists them."""
    listed = in_host(
        name, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"
    )
    rows = (line.split("\t") for line in listed.stdout.splitlines())
    return {(package, version) for status, package, version in rows if status.startswith("ii")}


def test_preflight_refuses_a_missing_signature_source_before_anything_changes(tmp_path, hosts):
    (host,) = hosts(1)
    missing = tmp_path / "no-such-signatures"
    database = dpkg_status_hash(host)
    for mode in ("--check", None):
        done, report = remediate(
            tmp_path,
            [host],
            "-e",
            f"avshift_install_clamav_signature_source={missing}",
            *([mode] if mode else []),
            report=f"r{mode or ''}",
        )
        assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
        (entry,) = report["hosts"]
        assert entry["status"] == "failed"
        # The host, what is wrong and the fix, in the dry run as in the real run.
        assert entry["message"].startswith("preflight: avshift_install_clamav_signature_source")
        assert str(missing) in entry["message"] and "nothing was changed" in entry["message"]
        assert [a["event"] for a in entry["actions"]] == ["plan"]
    assert dpkg_status_hash(host) == database
    assert installed(host, "kesl") and not installed(host, "clamav-daemon")


def test_a_failed_replacement_leaves_evidence_that_matches_the_host(tmp_path, hosts):
    (host,) = hosts(1)
    # A signature source whose one file clamd cannot load: the packages go on, clamd
    # does not come up, and the replacement fails after changing the host.
    broken = tmp_path / "broken-signatures"
    broken.mkdir()
    (broken / "avshift-broken.hdb").write_text("this line is not a signature\n")
    packages_before = _packages(host)

    done, report = remediate(
        tmp_path, [host], "-e", f"avshift_install_clamav_signature_source={broken}"
    )
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    (entry,) = report["hosts"]
    assert entry["status"] == "failed"
    assert entry["message"].startswith("left protected by kesl"), entry["message"]
    # Every package the package manager put on the host is in the evidence, with the
    # version dpkg has, and nothing else: the record matches the host.
    installed_now = _packages(host) - packages_before
    assert any(name == "clamav-daemon" for name, _ in installed_now)
    (changes,) = [a["data"] for a in entry["actions"] if a["event"] == "changes"]
    recorded = {(p["name"], p["version"]) for p in changes["packages"]["installed"]}
    assert recorded == installed_now
    assert changes["packages"]["removed"] == []  # Kaspersky stays: the host is protected
    # The after-state is a scan made after the failure, not the scan before it.
    assert [a["event"] for a in entry["actions"]] == ["plan", "changes", "verified"]
    assert entry["after"]["compliant"] is False
    assert [p["vendor"] for p in entry["after"]["approved"]] == ["clamav"]
    assert not entry["after"]["approved"][0]["active"]
    assert entry["before"]["approved"] == []
    # The evidence is among the hashed files.
    sums = (tmp_path / "r" / "SHA256SUMS").read_text()
    assert "report.json" in sums and "journal.jsonl" in sums

    # The next dry run plans from the host as it is: ClamAV there but not protecting.
    done, plan_report = remediate(tmp_path, [host], "--check", report="dry")
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    (planned,) = plan_report["hosts"]
    assert planned["before"]["approved"] == entry["after"]["approved"]
    assert planned["plan"]["install"] == "clamav"


# --- a record that survives the run: interrupted, killed, locked ---------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _events(report_dir: Path) -> list[dict]:
    journal = report_dir / "journal.jsonl"
    if not journal.exists():
        return []
    lines = journal.read_text().splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _wait_for(predicate, process: subprocess.Popen, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


def _start_remediation(tmp_path: Path, names: list[str], report: str, change: str = "CHG0012345"):
    return subprocess.Popen(
        _remediate_argv(tmp_path, names, report, change),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=PODMAN_ENV,
    )


def _kill_everything(cli: subprocess.Popen) -> None:
    """What a power cut does: the CLI, ansible-playbook and its workers, at once."""
    for child in _children(cli.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(child), signal.SIGKILL)
    cli.kill()
    cli.communicate()


def test_a_second_change_is_refused_a_killed_one_keeps_its_record_and_a_rerun_finishes_it(
    tmp_path, hosts
):
    """One remediation, three faults: another change on the host while it runs, a kill
    of the whole run, and the same change started again."""
    (name,) = hosts(1)
    first = tmp_path / "killed"
    cli = _start_remediation(tmp_path, [name], "killed")
    lock = "/var/lib/avshift/remediation.lock"
    _wait_for(
        lambda: in_host(name, "test", "-e", lock, check=False).returncode == 0,
        cli,
        "the host's lock",
    )
    done, report = remediate(tmp_path, [name], report="second", change="CHG0099999")
    assert done.returncode == 3, done.stdout + done.stderr
    (host,) = report["hosts"]
    assert host["status"] == "failed"
    assert host["message"].startswith("host is being remediated by change CHG0012345 since")
    # The refusal left the first change's lock, and its run, alone.
    assert json.loads(in_host(name, "cat", lock).stdout)["change_id"] == "CHG0012345"
    _wait_for(
        lambda: any(e.get("event") == "installed" for e in _events(first)),
        cli,
        "the replacement's installation",
    )
    _kill_everything(cli)
    assert not (first / "report.json").exists()  # nothing rendered it: it was killed

    done = subprocess.run(
        [str(BIN / "avshift"), "report", str(first)], capture_output=True, text=True
    )
    assert done.returncode == 3, done.stdout + done.stderr
    report = json.loads((first / "report.json").read_text())
    (host,) = report["hosts"]
    assert host["status"] == "interrupted"
    events = [action["event"] for action in host["actions"]]
    assert events[:2] == ["plan", "installed"]
    # What the record says is what the host shows.
    assert installed(name, "clamav-daemon")
    assert ("removed" in events) == (not installed(name, "kesl"))
    assert "stopped without an end record" in report["run"]["completion"]

    # The same change again: the scan decides what is left, nothing done is done again.
    done, report = remediate(tmp_path, [name], report="continued")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (host,) = report["hosts"]
    assert host["status"] == "compliant"
    events = [action["event"] for action in host["actions"]]
    assert "installed" not in events and host["plan"]["install"] is None
    takeover = next(a for a in host["actions"] if a["event"] == "takeover")
    assert takeover["data"]["report_dir"] == str(first)
    assert not installed(name, "kesl") and not installed(name, "klnagent64")
    # The lock was given back at the end.
    assert in_host(name, "test", "-e", "/var/lib/avshift/remediation.lock", check=False).returncode


def test_a_lock_from_another_controller_is_broken_only_on_request(tmp_path, hosts):
    (name,) = hosts(1)
    closed = {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T04:00:00+00:00"}
    stale = {
        "change_id": "CHG0012345",
        "run_id": "elsewhere-1",
        "controller": "another-controller.example.org",
        "pid": 4242,
        "report_dir": "/srv/avshift/reports/r1",
        "started": "2026-01-01T00:10:00+00:00",
        "window": closed,
    }
    in_host(name, "mkdir", "-p", "/var/lib/avshift")
    in_host(name, "sh", "-c", f"echo '{json.dumps(stale)}' > /var/lib/avshift/remediation.lock")
    before = dpkg_status_hash(name)
    done, report = remediate(tmp_path, [name], report="refused")
    assert done.returncode == 3
    message = report["hosts"][0]["message"]
    assert "another controller" in message and "--break-lock" in message
    assert "its window closed at 2026-01-01T04:00:00+00:00" in message
    assert dpkg_status_hash(name) == before  # refused before anything changed

    done, report = remediate(tmp_path, [name], "--break-lock", report="broken")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    takeover = next(a for a in report["hosts"][0]["actions"] if a["event"] == "takeover")
    assert takeover["data"]["run_id"] == "elsewhere-1"
    assert takeover["data"]["reason"] == "the lock was broken on request"


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["sigint", "sigterm"]
)
def test_an_interrupted_audit_reports_every_host_and_the_finished_ones_as_they_are(
    tmp_path, hosts, signum, code
):
    (name,) = hosts(1)
    aliases = [f"host-{number}" for number in range(1, 7)]
    hosts_file = tmp_path / "aliases.yml"
    hosts_file.write_text(
        "all:\n  vars:\n    ansible_connection: containers.podman.podman\n"
        "    ansible_pipelining: true\n"
        f"    ansible_host: {name}\n    ansible_python_interpreter: /usr/bin/python3\n"
        "  hosts:\n" + "".join(f"    {alias}:\n" for alias in aliases)
    )
    reports = tmp_path / "audit"
    cli = subprocess.Popen(
        [
            str(BIN / "avshift"),
            "audit",
            "-i",
            str(hosts_file),
            "--forks",
            "1",
            "--report-dir",
            str(reports),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=PODMAN_ENV,
    )
    _wait_for(
        lambda: sum(e["type"] == "scan" for e in _events(reports)) >= 2, cli, "two hosts' scans"
    )
    cli.send_signal(signum)
    stdout, stderr = cli.communicate(timeout=300)
    assert cli.returncode == code, stdout + stderr
    report = json.loads((reports / "report.json").read_text())
    statuses = {host["host"]: host["status"] for host in report["hosts"]}
    assert sorted(statuses) == aliases  # every host, whether the run reached it or not
    scanned = {e["host"] for e in _events(reports) if e["type"] == "scan"}
    assert len(scanned) >= 2
    for alias, status in statuses.items():
        # A finished host keeps its real verdict (the Kaspersky doubles run there); no
        # host the run did not finish is ever compliant.
        assert status == ("non-compliant" if alias in scanned else "interrupted"), statuses
    assert report["run"]["completion"] == "interrupted"
    assert "interrupted" in stderr
