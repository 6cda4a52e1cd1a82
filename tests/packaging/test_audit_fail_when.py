"""avshift_audit_fail_when_non_compliant, for real on this machine (no active approved
antivirus here, so it is not compliant): the scan itself fails the host, with the
reason, and the fleet report keeps the host's verdict."""

from __future__ import annotations

import json

from packaging_support import audit_locally


def _host(reports) -> dict:
    [host] = json.loads((reports / "report.json").read_text())["hosts"]
    return host


def test_a_host_that_is_not_compliant_fails_only_when_asked_and_keeps_its_verdict(tmp_path):
    done = audit_locally(tmp_path / "default")
    assert done.returncode == 0, done.stdout + done.stderr
    kept = _host(tmp_path / "default")
    assert kept["status"] == "non-compliant"

    done = audit_locally(tmp_path / "failing", "avshift_audit_fail_when_non_compliant=true")
    assert done.returncode == 2, done.stdout + done.stderr
    host = _host(tmp_path / "failing")
    assert host["status"] == "failed"
    assert host["message"].startswith(f"{host['host']} is not compliant: no active approved")
    # The scan read the host: its findings are those of the run that did not fail it.
    assert {key: host[key] for key in ("os_family", "disallowed", "approved", "other")} == {
        key: kept[key] for key in ("os_family", "disallowed", "approved", "other")
    }
    assert "failed=1" in done.stdout
