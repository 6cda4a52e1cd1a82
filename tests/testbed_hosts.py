"""Test-bed hosts for the tests that run avshift against them: Debian 12 containers with
systemd (podman, rootful), the test bed's apt repository of test doubles mounted, and
the Kaspersky test doubles (kesl, klnagent64) installed unless told otherwise.

tests/testbed/setup.sh builds the image and the artefacts; a test without them fails
with the command that builds them.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTBED_OUT = Path(os.environ.get("AVSHIFT_TESTBED_OUT", "/var/lib/avshift-testbed"))
# Where each host sees TESTBED_OUT, read-only.
TESTBED_SRV = "/srv/avshift-testbed"
CONTAINERS_CONF = ROOT / "tests" / "testbed" / "containers.conf"
IMAGE = "localhost/avshift-debian12"
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
KASPERSKY_DOUBLES = ("kesl", "klnagent64")
# A freshly booted Debian may be running its own apt-daily jobs: wait for their lock.
APT = ("apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-qq")


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, env=PODMAN_ENV)
    if check and done.returncode:
        raise AssertionError(
            f"podman {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    return done


def in_host(name: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return podman("exec", name, *argv, check=check)


def apt_update(name: str) -> None:
    """apt-get update on the host, once more if the first fails: under a full test run's
    load, apt's signature check of Debian's InRelease has been seen to fail once ("Unknown
    error executing apt-key") and pass when run again. A second failure is the test's."""
    if in_host(name, "apt-get", "update", "-qq", check=False).returncode:
        in_host(name, "apt-get", "update", "-qq")


def seed_apt_lists(name: str) -> None:
    """Start the host's apt lists from the test bed's copy (tests/testbed/apt-lists): its
    apt-get update then fetches what changed since, not all of Debian's lists again."""
    in_host(name, "cp", "-p", "-r", f"{TESTBED_SRV}/apt-lists/.", "/var/lib/apt/lists/")


def require_testbed() -> None:
    missing = podman("image", "exists", IMAGE, check=False).returncode != 0
    if missing or not all((TESTBED_OUT / part).is_dir() for part in ("packages", "apt-lists")):
        pytest.fail(f"the test bed is not built: run tests/testbed/setup.sh as root ({IMAGE})")


def start_host(name: str, packages: tuple[str, ...] = KASPERSKY_DOUBLES) -> None:
    """A booted host with the test bed's repository and these packages installed."""
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
        f"{TESTBED_OUT}:{TESTBED_SRV}:ro",
        IMAGE,
        "/sbin/init",
    )
    in_host(name, "systemctl", "is-system-running", "--wait", check=False)
    in_host(
        name,
        "sh",
        "-c",
        f"printf 'Types: deb\\nURIs: file://{TESTBED_SRV}/packages/apt\\nSuites: ./\\n"
        "Trusted: yes\\n' > /etc/apt/sources.list.d/avshift-testbed.sources",
    )
    seed_apt_lists(name)
    apt_update(name)
    if packages:
        install(name, *packages)


def dpkg_status_hash(name: str) -> str:
    """The host's package database, hashed: what a run that changes nothing leaves as is."""
    status = in_host(name, "cat", "/var/lib/dpkg/status").stdout.encode()
    return hashlib.sha256(status).hexdigest()


def install(name: str, *packages: str) -> None:
    in_host(name, "env", "DEBIAN_FRONTEND=noninteractive", *APT, "install", *packages)


def installed(name: str, package: str) -> bool:
    status = in_host(name, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package, check=False)
    return status.stdout.startswith("ii")


def window() -> str:
    """A change window open now, for two hours."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=2)
    return f"{start.isoformat()}/{end.isoformat()}"


def inventory_file(path: Path, names: list[str]) -> Path:
    """An inventory of test-bed hosts, reached through podman."""
    lines = [
        "all:",
        "  vars:",
        "    ansible_connection: containers.podman.podman",
        # One podman exec per task instead of three (a temporary directory, the copy,
        # the run): the test bed's tasks take less than half the time.
        "    ansible_pipelining: true",
        "    ansible_python_interpreter: /usr/bin/python3",
        f"    avshift_install_clamav_signature_source: {TESTBED_OUT}/clamav",
        "  hosts:",
    ] + [f"    {name}:" for name in names]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def testbed_hosts() -> Iterator[Callable[..., list[str]]]:
    """make(count, prefix, packages): started hosts, removed after the test."""
    require_testbed()
    names: list[str] = []

    def make(
        count: int, prefix: str = "avshift", packages: tuple[str, ...] = KASPERSKY_DOUBLES
    ) -> list[str]:
        made = []
        for _ in range(count):
            name = f"{prefix}-{uuid.uuid4().hex[:6]}"
            names.append(name)
            made.append(name)
            start_host(name, packages)
        return made

    yield make
    for name in names:
        podman("rm", "-f", name, check=False)


def start_clamav(name: str) -> None:
    """ClamAV from Debian's mirror, protecting with the test bed's offline signatures
    (tests/testbed/clamav): the host is compliant under the shipped policy."""
    install(name, "clamav-daemon")
    in_host(
        name,
        "sh",
        "-ec",
        f"cp {TESTBED_SRV}/clamav/*.hdb /var/lib/clamav/"
        " && mkdir -p /etc/systemd/system/clamav-daemon.service.d"
        f" && cp {TESTBED_SRV}/clamav/clamav-daemon-offline.conf"
        " /etc/systemd/system/clamav-daemon.service.d/"
        " && systemctl daemon-reload && systemctl restart clamav-daemon"
        " && systemctl is-active clamav-daemon",
    )


def install_kaspersky_double(name: str) -> None:
    """What a management server's redeployment leaves: the Kaspersky test double back."""
    install(name, "kesl")
