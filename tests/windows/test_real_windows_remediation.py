"""Opt-in, destructive: remediate real Windows lab servers and hold the server order to
its bound. The only test that measures the seconds without real-time protection on
Windows itself.

Skipped unless AVSHIFT_WINDOWS_REMEDIATE_INVENTORY names an inventory of disposable
Windows Server lab hosts that run a disallowed product (KES, say) and may be changed;
AVSHIFT_WINDOWS_REMEDIATE_VARS may name a vars file (vault-encrypted is fine, with the
usual ANSIBLE_VAULT_PASSWORD_FILE) with avshift_remediate_passwords and the like. A
skipped run means the Windows remediation was NOT tested; see docs/windows.md.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from windows_playbook import run_play

INVENTORY = os.environ.get("AVSHIFT_WINDOWS_REMEDIATE_INVENTORY", "")
VARS_FILE = os.environ.get("AVSHIFT_WINDOWS_REMEDIATE_VARS", "")
TIMEOUT = 600

pytestmark = pytest.mark.skipif(
    not INVENTORY,
    reason="real Windows remediation NOT tested: set AVSHIFT_WINDOWS_REMEDIATE_INVENTORY to "
    "an inventory of disposable Windows Server lab hosts (docs/windows.md)",
)


def test_real_windows_server_remediation_keeps_its_unprotected_window_bounded(tmp_path):
    start = datetime.datetime.now(datetime.timezone.utc)
    end = start + datetime.timedelta(hours=4)
    window = f"{start.isoformat(timespec='minutes')}/{end.isoformat(timespec='minutes')}"
    play = {
        "name": "remediate",
        "hosts": "all",
        "gather_facts": False,
        "vars_files": [str(Path(VARS_FILE).expanduser().resolve())] if VARS_FILE else [],
        "roles": [
            {
                "role": "avshift.remediation.remediate",
                "vars": {
                    "avshift_remediate_change_id": "LAB0000001",
                    "avshift_remediate_window": window,
                    "avshift_remediate_reboot": "if_required",
                    "avshift_install_timeout": TIMEOUT,
                },
            }
        ],
    }
    run = run_play(
        tmp_path, play, Path(INVENTORY).expanduser().resolve(), keep_ansible_env=True, timeout=7200
    )
    assert run.returncode == 0, run.explain("the lab remediation failed")
    installed = [r for r in run.records if r.result.get("event") == "installed"]
    assert installed, run.explain("no host recorded an installation")
    for record in installed:
        data = record.result["data"]
        assert data.get("active") is True, (record.host, data)
        seconds = data.get("unprotected_seconds")
        assert isinstance(seconds, float) and 0 <= seconds <= TIMEOUT, (record.host, data)
