"""Drift for real: a test-bed host audited compliant (ClamAV protecting), then the
Kaspersky test double installed on it, then audited again. The second report shows the
regression and `avshift history --host` the host's timeline, on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from history_stores import KINDS, store_location
from testbed_hosts import (
    CONTAINERS_CONF,
    install_kaspersky_double,
    inventory_file,
    start_clamav,
)

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.testbed


def avshift(*args: str) -> subprocess.CompletedProcess:
    # This environment as it is now, with the PGPASSWORD the store's fixture set.
    return subprocess.run(
        [str(BIN / "avshift"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)},
    )


def test_a_kaspersky_double_installed_between_two_audits_is_a_regression(
    tmp_path, monkeypatch, testbed_hosts
):
    (name,) = testbed_hosts(1, "avshift-history", packages=())
    start_clamav(name)
    hosts = inventory_file(tmp_path / "hosts.yml", [name])
    with (
        store_location("sqlite", tmp_path, monkeypatch) as sqlite,
        store_location("postgresql", tmp_path, monkeypatch) as postgresql,
    ):
        stores = dict(zip(KINDS, (sqlite, postgresql), strict=True))
        for kind, store in stores.items():
            first = avshift(
                "audit",
                "-i",
                str(hosts),
                "--history",
                store,
                "--report-dir",
                str(tmp_path / f"{kind}-1"),
            )
            assert first.returncode == Exit.OK, first.stdout + first.stderr
        install_kaspersky_double(name)
        for kind, store in stores.items():
            second = avshift(
                "audit",
                "-i",
                str(hosts),
                "--history",
                store,
                "--report-dir",
                str(tmp_path / f"{kind}-2"),
            )
            assert second.returncode == Exit.NON_COMPLIANT, second.stdout + second.stderr
            report = json.loads((tmp_path / f"{kind}-2" / "report.json").read_text())
            (kesl,) = report["hosts"][0]["disallowed"]
            assert kesl["product"] == "kesl"
            assert f"regressed  {name}: {kesl['name']}" in second.stdout, kind
            (regressed,) = report["drift"]["regressed"]
            assert (regressed["host"], regressed["was"], regressed["status"]) == (
                name,
                "compliant",
                "non-compliant",
            )
            assert regressed["appeared"] == [{"vendor": "kaspersky", "name": kesl["name"]}]
            assert "<h3>Regressed</h3>" in (tmp_path / f"{kind}-2" / "report.html").read_text()

            timeline = avshift("history", "--history", store, "--host", name)
            assert timeline.returncode == Exit.NON_COMPLIANT, timeline.stderr
            lines = timeline.stdout.splitlines()
            assert lines[0] == name
            assert [line.split()[1:3] for line in lines if line.startswith("  2")] == [
                ["audit", "compliant"],
                ["audit", "non-compliant"],
            ]
            assert any(
                line.strip().startswith(f"disallowed: {kesl['name']} (package kesl")
                for line in lines
            ), timeline.stdout
