"""The collector's protection probes for real, on test-bed hosts: ClamAV from Debian's
mirror with the test bed's offline signatures, clamonacc scanning on access, and the
mdatp test double (molecule/install/mdatp-double).

The collector is av_scan's own module file, run by ansible-playbook through the podman
connection on the host's Python, under another name: under its own, the action plugin
runs it and passes the catalogue's probes, which the tests give here themselves.

The hosts get CAP_SYS_ADMIN: clamonacc needs fanotify, which a container is otherwise
refused ("fanotify_init failed: Operation not permitted").
"""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from clamav_databases import unsigned_database
from testbed_hosts import (
    IMAGE,
    PODMAN_ENV,
    TESTBED_OUT,
    apt_update,
    in_host,
    podman,
    require_testbed,
    start_clamav,
)

pytestmark = pytest.mark.testbed

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UTC = datetime.timezone.utc
CLAMAV = {
    "product": "clamav_linux",
    "probe": "clamav",
    "clamd_configs": ["/etc/clamav/clamd.conf", "/etc/clamd.d/scan.conf"],
    "database_dirs": ["/var/lib/clamav"],
    "on_access_process": "clamonacc",
}
MDATP = {"product": "mdatp_linux", "probe": "mdatp", "command": "/usr/bin/mdatp"}
SOURCE = "/srv/avshift-testbed/clamav"
DATABASES = "/var/lib/clamav"
PLAYBOOK = """\
- name: Read the host's protection as av_scan's collector does
  hosts: all
  gather_facts: false
  tasks:
    - name: Collect
      avshift_protection_collector:
        paths: []
        protection: "{{ probes }}"
"""
# The EICAR test string, in two halves so that no scanner flags this file.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def host():
    """A booted test-bed host that may use fanotify, removed after the test."""
    require_testbed()
    name = f"avshift-protection-{uuid.uuid4().hex[:6]}"
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
        "--cap-add=SYS_ADMIN",
        "-v",
        f"{TESTBED_OUT}:/srv/avshift-testbed:ro",
        IMAGE,
        "/sbin/init",
    )
    try:
        in_host(name, "systemctl", "is-system-running", "--wait", check=False)
        yield name
    finally:
        podman("rm", "-f", name, check=False)


def _collect(tmp_path: Path, name: str, probes: list[dict]) -> dict:
    """The inventory the real module reads on the host."""
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    module = library / "avshift_protection_collector.py"
    if not module.exists():
        module.symlink_to(ROOT / "plugins" / "modules" / "av_scan.py")
    (tmp_path / "collect.yml").write_text(PLAYBOOK)
    (tmp_path / "probes.json").write_text(json.dumps({"probes": probes}))
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: containers.podman.podman\n"
        "    ansible_pipelining: true\n    ansible_python_interpreter: /usr/bin/python3\n"
        f"  hosts:\n    {name}:\n"
    )
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.yml"),
            "-e",
            f"@{tmp_path / 'probes.json'}",
            str(tmp_path / "collect.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            **PODMAN_ENV,
            "ANSIBLE_LIBRARY": str(library),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_NOCOLOR": "1",
        },
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][name]
    return result["inventory"]


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _entry(inventory: dict, product: str) -> dict:
    (entry,) = [item for item in inventory["protection"] if item["product"] == product]
    return entry


def _sigtool_build_time(name: str, path: str) -> datetime.datetime:
    """The build time ClamAV's own sigtool reads in a database header (to the minute)."""
    info = in_host(name, "sigtool", f"--info={path}").stdout
    (line,) = [line for line in info.splitlines() if line.startswith("Build time: ")]
    return datetime.datetime.strptime(line[len("Build time: ") :], "%d %b %Y %H:%M %z")


def _clamd_restarted(name: str) -> None:
    """clamd restarted and answering: it loaded every database in the directory."""
    in_host(name, "systemctl", "restart", "clamav-daemon")
    for _ in range(60):
        if in_host(name, "clamdscan", "--ping", "1", check=False).returncode == 0:
            return
        time.sleep(1)
    raise AssertionError("clamd did not answer after its restart: " + _journal(name))


def _journal(name: str, unit: str = "clamav-daemon") -> str:
    return in_host(name, "journalctl", "-u", unit, "--no-pager", "-n", "30", check=False).stdout


def _wait_for_process(name: str, process: str, running: bool) -> None:
    for _ in range(30):
        found = in_host(name, "pgrep", "-x", process, check=False).returncode == 0
        if found is running:
            return
        time.sleep(1)
    raise AssertionError(f"{process} {'did not start' if running else 'still runs'}")


def test_clamav_reports_its_database_build_time_and_on_access_scanning(tmp_path, host):
    apt_update(host)
    start_clamav(host)
    in_host(host, "cp", f"{SOURCE}/avshift-testbed.cud", f"{DATABASES}/")
    _clamd_restarted(host)

    # The test bed's offline source: the container's header says when it was built.
    inventory = _collect(tmp_path, host, [CLAMAV, MDATP])
    entry = _entry(inventory, "clamav_linux")
    assert [item["product"] for item in inventory["protection"]] == ["clamav_linux"]
    assert entry["signatures_basis"] == "database-header", entry
    assert entry["signatures_version"].startswith("avshift-testbed "), entry
    built = _time(entry["signatures_updated"])
    assert built.replace(second=0) == _sigtool_build_time(host, f"{DATABASES}/avshift-testbed.cud")
    age = _time(inventory["collected_at"]) - built
    assert datetime.timedelta(0) <= age < datetime.timedelta(days=7), (
        f"the test bed's signatures are {age} old: run tests/testbed/setup.sh, which "
        "rebuilds them daily"
    )
    assert (entry["real_time"], entry["healthy"], entry["detail"]) == (False, None, None)

    # Only the plain .hdb: its modification time, said to be one.
    in_host(host, "rm", f"{DATABASES}/avshift-testbed.cud")
    entry = _entry(_collect(tmp_path, host, [CLAMAV]), "clamav_linux")
    mtime = int(in_host(host, "stat", "-c", "%Y", f"{DATABASES}/avshift-testbed.hdb").stdout)
    assert (entry["signatures_basis"], entry["signatures_version"]) == ("file-mtime", None)
    assert _time(entry["signatures_updated"]) == datetime.datetime.fromtimestamp(mtime, UTC)
    assert "avshift-testbed.hdb" in entry["detail"]

    # A database built 100 days ago, which clamd loads: its header wins over the fresh
    # plain .hdb, whose modification time says nothing of the official databases.
    old = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(days=100)
    stale = tmp_path / "avshift-stale.cud"
    md5 = hashlib.md5(EICAR.encode()).hexdigest()
    signature = f"{md5}:{len(EICAR)}:Avshift.Stale.EICAR\n".encode()
    stale.write_bytes(unsigned_database("avshift-stale", old, 4, {"avshift-stale.hdb": signature}))
    podman("cp", str(stale), f"{host}:{DATABASES}/avshift-stale.cud")
    _clamd_restarted(host)
    in_host(host, "sh", "-c", f"printf '%s' '{EICAR}' > /tmp/eicar.txt")
    scanned = in_host(host, "clamdscan", "--no-summary", "/tmp/eicar.txt", check=False).stdout
    assert "FOUND" in scanned, scanned  # clamd runs on these databases
    entry = _entry(_collect(tmp_path, host, [CLAMAV]), "clamav_linux")
    assert (entry["signatures_updated"], entry["signatures_basis"]) == (
        old.isoformat(),
        "database-header",
    )
    assert entry["signatures_version"] == "avshift-stale 4"

    # The newest header wins.
    in_host(host, "cp", f"{SOURCE}/avshift-testbed.cud", f"{DATABASES}/")
    entry = _entry(_collect(tmp_path, host, [CLAMAV]), "clamav_linux")
    assert entry["signatures_version"].startswith("avshift-testbed "), entry

    # clamonacc, Debian's on-access scanner, started: real-time protection is on, and it
    # does block the test file; stopped: off again.
    in_host(
        host,
        "sh",
        "-ec",
        "printf 'OnAccessIncludePath /home\\nOnAccessExcludeUname clamav\\n'"
        " >> /etc/clamav/clamd.conf && mkdir -p /root/quarantine /home/probe",
    )
    _clamd_restarted(host)
    in_host(host, "systemctl", "start", "clamav-clamonacc")
    _wait_for_process(host, "clamonacc", running=True)
    entry = _entry(_collect(tmp_path, host, [CLAMAV]), "clamav_linux")
    assert entry["real_time"] is True, _journal(host, "clamav-clamonacc")
    _assert_on_access_blocks_eicar(host)
    in_host(host, "systemctl", "stop", "clamav-clamonacc")
    _wait_for_process(host, "clamonacc", running=False)
    assert _entry(_collect(tmp_path, host, [CLAMAV]), "clamav_linux")["real_time"] is False


def _assert_on_access_blocks_eicar(host: str) -> None:
    """clamonacc really scans: the test file written under a watched path is denied and
    moved to quarantine (its watches may take a moment to be in place)."""
    for _ in range(20):
        in_host(host, "sh", "-c", f"printf '%s' '{EICAR}' > /home/probe/eicar.txt", check=False)
        in_host(host, "cat", "/home/probe/eicar.txt", check=False)
        if in_host(host, "test", "-e", "/root/quarantine/eicar.txt", check=False).returncode == 0:
            return
        time.sleep(1)
    log = in_host(host, "cat", "/var/log/clamav/clamonacc.log", check=False).stdout
    raise AssertionError(f"clamonacc did not quarantine the test file: {log[-2000:]}")


def _mdatp_double(tmp_path: Path) -> Path:
    """The mdatp test double's .deb, built as molecule/install's prepare builds it."""
    out = tmp_path / "mdatp-double"
    out.mkdir()
    podman(
        "run",
        "--rm",
        "--pull=never",
        "--network=none",
        "-v",
        f"{ROOT / 'molecule/install/mdatp-double'}:/double:ro",
        "-v",
        f"{out}:/out",
        "localhost/avshift-testbed-builder",
        "/double/build.sh",
        "/out",
    )
    return out / "mdatp.deb"


def test_mdatp_health_gives_definitions_real_time_protection_and_health(tmp_path, host):
    deb = _mdatp_double(tmp_path)
    podman("cp", str(deb), f"{host}:/tmp/mdatp.deb")
    in_host(host, "env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "-i", "/tmp/mdatp.deb")
    in_host(
        host,
        "sh",
        "-ec",
        'mkdir -p /etc/opt/microsoft/mdatp && printf \'{"onboardingInfo": "{}"}\''
        " > /etc/opt/microsoft/mdatp/mdatp_onboard.json",
    )

    inventory = _collect(tmp_path, host, [CLAMAV, MDATP])
    assert [item["product"] for item in inventory["protection"]] == ["mdatp_linux"]
    entry = _entry(inventory, "mdatp_linux")
    stamp = int(in_host(host, "stat", "-c", "%Y", "/var/opt/microsoft/mdatp/definitions").stdout)
    assert entry == {
        "product": "mdatp_linux",
        "signatures_updated": datetime.datetime.fromtimestamp(stamp, UTC).isoformat(),
        "signatures_basis": "product",
        "signatures_version": "0.0.0.0-avshift-test-double",
        "real_time": True,
        "healthy": True,
        "detail": None,
    }

    old = int(time.time()) - 30 * 86400
    in_host(host, "touch", "-d", f"@{old}", "/var/opt/microsoft/mdatp/definitions")
    in_host(host, "mdatp", "config", "real-time-protection", "--value", "disabled")
    in_host(host, "systemctl", "stop", "mdatp.service")
    entry = _entry(_collect(tmp_path, host, [MDATP]), "mdatp_linux")
    assert entry["signatures_updated"] == datetime.datetime.fromtimestamp(old, UTC).isoformat()
    assert (entry["real_time"], entry["healthy"]) == (False, False)
    assert entry["detail"] == "health issues: no active event provider"
