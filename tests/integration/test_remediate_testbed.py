"""`avshift remediate` for real on test-bed hosts (podman, systemd, apt, test doubles).

Debian 12 containers with the Kaspersky test-double packages (kesl, klnagent64) from the
test bed's local apt repository; ClamAV from the Debian mirror with the test bed's
offline signature database. Covers the dry run, the real run with an uninstall
password at -vvv (searched for afterwards), the second run, a replacement that cannot
be installed, and a batch failing above --max-fail.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

# These tests start test-bed containers of their own: one worker runs them in turn.
pytestmark = pytest.mark.xdist_group("remediate-testbed")

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TESTBED_OUT = Path(os.environ.get("AVSHIFT_TESTBED_OUT", "/var/lib/avshift-testbed"))
CONTAINERS_CONF = ROOT / "tests" / "testbed" / "containers.conf"
IMAGE = "localhost/avshift-debian12"
SECRET = f"Pa55-{uuid.uuid4().hex[:12]}"  # a password no other output could contain
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=PODMAN_ENV, check=check
    )


def in_host(name: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return podman("exec", name, *argv, check=check)


def _require_testbed() -> None:
    missing = podman("image", "exists", IMAGE, check=False).returncode != 0
    if missing or not (TESTBED_OUT / "packages").is_dir():
        pytest.fail(f"the test bed is not built: run tests/testbed/setup.sh as root ({IMAGE})")


def start_host(name: str) -> None:
    podman("rm", "-f", name, check=False)
    podman(
        "run",
        "-d",
        "--name",
        name,
        "--hostname",
        name,
        "--systemd=always",
        "--pull=never",
        "-v",
        f"{TESTBED_OUT}:/srv/avshift-testbed:ro",
        IMAGE,
        "/sbin/init",
    )
    in_host(name, "systemctl", "is-system-running", "--wait", check=False)
    in_host(
        name,
        "sh",
        "-c",
        "printf 'Types: deb\\nURIs: file:///srv/avshift-testbed/packages/apt\\nSuites: ./\\n"
        "Trusted: yes\\n' > /etc/apt/sources.list.d/avshift-testbed.sources"
        " && apt-get update -qq && apt-get install -y -qq kesl klnagent64 >/dev/null",
    )


@pytest.fixture
def hosts(request):
    _require_testbed()
    names = []

    def make(count: int) -> list[str]:
        for _ in range(count):
            name = f"avshift-remediate-{uuid.uuid4().hex[:6]}"
            names.append(name)
            start_host(name)
        return list(names)

    yield make
    for name in names:
        podman("rm", "-f", name, check=False)


def window() -> str:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return (
        f"{(now - datetime.timedelta(minutes=5)).isoformat()}/"
        + (now + datetime.timedelta(hours=2)).isoformat()
    )


def inventory(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "hosts.yml"
    lines = [
        "all:",
        "  vars:",
        "    ansible_connection: containers.podman.podman",
        "    ansible_python_interpreter: /usr/bin/python3",
        f"    avshift_install_clamav_signature_source: {TESTBED_OUT}/clamav",
        "  hosts:",
    ] + [f"    {name}:" for name in names]
    path.write_text("\n".join(lines) + "\n")
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(
        "avshift_remediate_passwords:\n"
        f"  kes_windows: {{login: KLAdmin, password: {SECRET}}}\n"
        f"  klnagent: {{password: {SECRET}}}\n"
    )
    return path


def remediate(tmp_path: Path, names: list[str], *args: str, report: str = "r"):
    done = subprocess.run(
        [
            str(BIN / "avshift"),
            "remediate",
            "-i",
            str(inventory(tmp_path, names)),
            "--change-id",
            "CHG0012345",
            "--window",
            window(),
            "--report-dir",
            str(tmp_path / report),
            "-e",
            f"@{tmp_path / 'secrets.yml'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=PODMAN_ENV,
    )
    report_file = tmp_path / report / "report.json"
    return done, json.loads(report_file.read_text()) if report_file.exists() else None


def installed(name: str, package: str) -> bool:
    status = in_host(name, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package, check=False)
    return status.stdout.startswith("ii")


def dpkg_status_hash(name: str) -> str:
    return hashlib.sha256(in_host(name, "cat", "/var/lib/dpkg/status").stdout.encode()).hexdigest()


def _everything_under(directory: Path) -> str:
    return "\n".join(
        path.read_text(errors="replace") for path in directory.rglob("*") if path.is_file()
    )


def test_dry_run_then_remediation_then_nothing_left_to_do(tmp_path, hosts):
    (name,) = hosts(1)

    before = dpkg_status_hash(name)
    done, report = remediate(tmp_path, [name], "--check", report="dry-run")
    assert done.returncode == 1, done.stdout + done.stderr  # non-compliant, only planned
    assert dpkg_status_hash(name) == before  # the dry run changed nothing
    plan = report["hosts"][0]["plan"]
    assert plan["install"] == "clamav" and plan["install_order"] == "before-removal"
    assert [item["product"] for item in plan["remove"]] == ["kesl", "klnagent"]
    assert "install clamav" in done.stdout and "remove kesl" in done.stdout

    done, report = remediate(tmp_path, [name], "-vvv", report="run")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (host,) = report["hosts"]
    assert host["status"] == "compliant"
    assert host["before"]["compliant"] is False and host["after"]["compliant"] is True
    assert [a["event"] for a in host["actions"]] == [
        "plan",
        "installed",
        "removed",
        "reboot",
        "verified",
    ]
    # What the dry run planned is what the run did.
    assert host["plan"]["remove"] == plan["remove"]
    assert not installed(name, "kesl") and not installed(name, "klnagent64")
    assert in_host(name, "systemctl", "is-active", "clamav-daemon").stdout.strip() == "active"
    assert report["run"]["change_id"] == "CHG0012345"
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path / "run", capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr

    # The uninstall password never appears: not in the reports, runner's artifacts
    # (with -vvv), nor the command's output.
    hex_form = SECRET.encode("utf-16-le").hex()
    for text in (_everything_under(tmp_path / "run"), done.stdout, done.stderr):
        assert SECRET not in text and hex_form.upper() not in text.upper()

    done, report = remediate(tmp_path, [name], report="again")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (host,) = report["hosts"]
    assert host["plan"]["install"] is None and host["plan"]["remove"] == []
    assert [a["event"] for a in host["actions"]] == ["plan"]


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
