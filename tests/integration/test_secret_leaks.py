"""A test-bed host's whole change at -vvvv with every secret the collection accepts: an
audit, a dry run, the remediation and a rerun. Each run does what it is for (the dry run
changes nothing and plans what the run does; the run replaces Kaspersky with a running
ClamAV, with hashed evidence; the rerun has nothing left to do), and not one byte the
runs write on the controller holds a secret, in any form (tests/leaks.py), and no
process they start shows one on its command line. One host serves both promises: a
remediation is the test bed's slowest step.

The secrets are the contract's list (contract.secret_variables()), each with a marker
value of its own: the uninstall passwords (their current and deprecated names), the
Defender for Endpoint onboarding JSON and repository URLs, and the connection and become
passwords. Most are given in a file, as the runbook says; one inline, which is warned
about. Searched: the three report directories (reports, journal, artifacts), the history
store, the commands' stdout and stderr, and every command line seen while they ran.
What reaches the host (a password on msiexec's command line on Windows) is the host's:
docs/runbook.md says what to do about it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from leaks import files_under, find, marker, run_watched
from testbed_hosts import (
    CONTAINERS_CONF,
    dpkg_status_hash,
    in_host,
    installed,
    inventory_file,
    window,
)

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    Exit,
    secret_variables,
)

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.testbed
# The secret given inline; the rest come from a file.
INLINE = "ansible_become_password"
# Two ways to give the onboarding that exclude each other: the JSON is the one given.
NOT_GIVEN = {"avshift_install_mdatp_onboarding_file", "install_mdatp_onboarding_file"}


def _value(name: str, secret: str):
    """A value of the shape the variable takes, holding the marker."""
    if name.endswith("passwords"):
        return {
            "kes_windows": {"login": "KLAdmin", "password": secret},
            "klnagent": {"password": secret},
        }
    if name.endswith("_url"):
        return f"https://mirror.example.org/{secret}/"
    return secret


def _check_dry_run(done, report, name, before):
    assert dpkg_status_hash(name) == before  # the dry run changed nothing
    plan = report["hosts"][0]["plan"]
    assert plan["install"] == "clamav" and plan["install_order"] == "before-removal"
    assert [item["product"] for item in plan["remove"]] == ["kesl", "klnagent"]
    assert "install clamav" in done.stdout and "remove kesl" in done.stdout


def _check_remediation(report, name, planned, directory):
    (host,) = report["hosts"]
    assert host["status"] == "compliant"
    assert host["before"]["compliant"] is False and host["after"]["compliant"] is True
    assert [a["event"] for a in host["actions"]] == [
        "plan",
        "installed",
        "removed",
        "reboot",
        "changes",
        "verified",
    ]
    assert host["plan"]["remove"] == planned["remove"]  # what the dry run planned is done
    # The evidence's record of the host's own change, from the scans before and after.
    (changes,) = [a["data"] for a in host["actions"] if a["event"] == "changes"]
    removed = {package["name"] for package in changes["packages"]["removed"]}
    installed_now = {package["name"] for package in changes["packages"]["installed"]}
    assert {"kesl", "klnagent64"} <= removed and "clamav-daemon" in installed_now, changes
    assert not installed(name, "kesl") and not installed(name, "klnagent64")
    assert in_host(name, "systemctl", "is-active", "clamav-daemon").stdout.strip() == "active"
    assert report["run"]["change_id"] == "CHG0012345"
    assert report["run"]["confirmation"] == "yes"  # started by --yes, as automation does
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=directory, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr


def _check_rerun(report):
    (host,) = report["hosts"]
    assert host["plan"]["install"] is None and host["plan"]["remove"] == []
    assert [a["event"] for a in host["actions"]] == ["plan"]


def test_a_change_does_what_it_says_and_no_secret_leaves_any_of_its_runs(
    tmp_path, testbed_hosts, request
):
    (name,) = testbed_hosts(1, "avshift-leaks")
    markers = {
        variable: marker(variable) for variable in secret_variables() if variable not in NOT_GIVEN
    }
    secrets_file = tmp_path / "secrets.yml"
    secrets_file.write_text(
        yaml.safe_dump(
            {v: _value(v, m) for v, m in markers.items() if v != INLINE}, allow_unicode=True
        )
    )
    inline = json.dumps({INLINE: markers[INLINE]}, ensure_ascii=False)
    hosts = inventory_file(tmp_path / "hosts.yml", [name])
    store = tmp_path / "history.sqlite"
    common = ["-i", str(hosts), "-e", f"@{secrets_file}", "-e", inline, "-vvvv"]
    common += ["--history", str(store)]
    change = ["--change-id", "CHG0012345", "--window", window()]
    # A real run's confirmation, as automation gives it: no terminal to type the id at.
    confirmed = [*change, "--yes"]
    # A temporary directory of these runs' own: other tests' runs, beside them on other
    # workers, have private directories of theirs in /tmp while they last. Short, as
    # sockets are made in it (a Unix socket path has at most 107 bytes).
    private_tmp = Path(tempfile.mkdtemp(prefix="avshift-leaks-"))
    request.addfinalizer(lambda: shutil.rmtree(private_tmp, ignore_errors=True))
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF), "TMPDIR": str(private_tmp)}

    runs = {
        "audit": ["audit", *common, "--report-dir", str(tmp_path / "audit")],
        "dry run": [
            "remediate",
            *common,
            *change,
            "--check",
            "--report-dir",
            str(tmp_path / "plan"),
        ],
        "remediation": ["remediate", *common, *confirmed, "--report-dir", str(tmp_path / "run")],
        "rerun": ["remediate", *common, *confirmed, "--report-dir", str(tmp_path / "again")],
    }
    expected = {
        "audit": Exit.NON_COMPLIANT,
        "dry run": Exit.NON_COMPLIANT,
        "remediation": Exit.OK,
        "rerun": Exit.OK,
    }
    blobs: dict[str, bytes] = {}
    before = dpkg_status_hash(name)
    reports = {}
    for what, argv in runs.items():
        done, processes = run_watched([str(BIN / "avshift"), *argv], env)
        assert done.returncode == expected[what], (
            f"{what}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        directory = Path(argv[argv.index("--report-dir") + 1])
        reports[what] = json.loads((directory / "report.json").read_text())
        if what == "dry run":
            _check_dry_run(done, reports[what], name, before)
        elif what == "remediation":
            planned = reports["dry run"]["hosts"][0]["plan"]
            _check_remediation(reports[what], name, planned, directory)
        elif what == "rerun":
            _check_rerun(reports[what])
        # The warning names the inline secret, never its value.
        assert f"avshift: warning: {INLINE} given inline" in done.stderr, what
        assert any(b"ansible-playbook" in line for line in processes.values()), what
        blobs[f"{what}: stdout"] = done.stdout.encode()
        blobs[f"{what}: stderr"] = done.stderr.encode()
        # Our own command line holds the inline value, as the user typed it: the warning
        # says so. Every process it starts is searched.
        blobs.update({f"{what}: {pid}": line for pid, line in processes.items()})
        # The -vvvv output is there to search: ansible-playbook's connection debug.
        (kept,) = (directory / "artifacts").iterdir()
        assert f"<{name}> Using podman connection" in (kept / "stdout").read_text(), what

    blobs.update(
        files_under(tmp_path / "audit", tmp_path / "plan", tmp_path / "run", tmp_path / "again")
    )
    stores = {
        path: data for path, data in files_under(tmp_path).items() if "history.sqlite" in path
    }
    assert stores, "the runs recorded nothing to search"
    blobs.update(stores)

    assert find(markers, blobs) == []
    # The private directories that held the inline value for a run are gone with it.
    assert list(private_tmp.glob("avshift-runner-*")) == []
