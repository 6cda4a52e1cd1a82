"""Every secret the collection accepts, through an audit, a dry run and a remediation of
a test-bed host at -vvvv: not one byte the runs write on the controller holds one, in
any form (tests/leaks.py), and no process they start shows one on its command line.

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
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from leaks import files_under, find, marker, run_watched
from testbed_hosts import CONTAINERS_CONF, inventory_file, window

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


def test_no_secret_leaves_an_audit_a_dry_run_or_a_remediation(tmp_path, testbed_hosts, request):
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
        "remediation": ["remediate", *common, *change, "--report-dir", str(tmp_path / "run")],
    }
    expected = {"audit": Exit.NON_COMPLIANT, "dry run": Exit.NON_COMPLIANT, "remediation": Exit.OK}
    blobs: dict[str, bytes] = {}
    for what, argv in runs.items():
        done, processes = run_watched([str(BIN / "avshift"), *argv], env)
        assert done.returncode == expected[what], (
            f"{what}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        # The warning names the inline secret, never its value.
        assert f"avshift: warning: {INLINE} given inline" in done.stderr, what
        assert any(b"ansible-playbook" in line for line in processes.values()), what
        blobs[f"{what}: stdout"] = done.stdout.encode()
        blobs[f"{what}: stderr"] = done.stderr.encode()
        # Our own command line holds the inline value, as the user typed it: the warning
        # says so. Every process it starts is searched.
        blobs.update({f"{what}: {pid}": line for pid, line in processes.items()})
        # The -vvvv output is there to search: ansible-playbook's connection debug.
        (kept,) = (Path(argv[argv.index("--report-dir") + 1]) / "artifacts").iterdir()
        assert f"<{name}> Using podman connection" in (kept / "stdout").read_text(), what

    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["hosts"][0]["status"] == "compliant"  # the run did what it is for
    blobs.update(files_under(tmp_path / "audit", tmp_path / "plan", tmp_path / "run"))
    stores = {
        path: data for path, data in files_under(tmp_path).items() if "history.sqlite" in path
    }
    assert stores, "the runs recorded nothing to search"
    blobs.update(stores)

    assert find(markers, blobs) == []
    # The private directories that held the inline value for a run are gone with it.
    assert list(private_tmp.glob("avshift-runner-*")) == []
