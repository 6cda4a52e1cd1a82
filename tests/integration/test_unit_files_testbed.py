"""Installed services that are not loaded, for real: av_scan on a test-bed host under
systemd, with unit files systemd has never loaded.

The collector asks systemd only for the unit files whose service the catalogue names
(Catalogue.unit_file_patterns): listing every one costs systemd a second on a host
with a few hundred. This proves on a real systemd that such a unit is still found, in
any letter case, that a look-alike is not, and that "no unit file matched", which
systemctl answers with exit code 1, reads as no finding rather than as a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from testbed_hosts import PODMAN_ENV, in_host, inventory_file

pytestmark = pytest.mark.testbed

BIN_DIR = sys.executable.rsplit("/", 1)[0]
UNIT = "[Unit]\nDescription={0}\n[Service]\nExecStart=/bin/sleep infinity\n"


def _scan(tmp_path, name: str) -> dict:
    done = subprocess.run(
        [
            f"{BIN_DIR}/ansible",
            "-i",
            str(inventory_file(tmp_path / "hosts.yml", [name])),
            name,
            "-m",
            "avshift.remediation.av_scan",
            "-a",
            "return_inventory=true",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            **PODMAN_ENV,
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_NOCOLOR": "1",
        },
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][name]


def _services(scan: dict) -> dict[str, dict]:
    return {service["name"]: service for service in scan["inventory"]["services"]}


def test_a_catalogued_service_installed_but_never_loaded_is_found_in_any_case(
    tmp_path, testbed_hosts
):
    [name] = testbed_hosts(1, "avshift-units", packages=())
    clean = _scan(tmp_path, name)
    assert clean["disallowed"] == []
    assert not any("list-unit-files" in warning for warning in clean.get("warnings", []))
    assert clean["inventory"]["unreadable"] == []

    # Written after boot and never reloaded: systemd has not loaded them.
    for unit, description in (
        ("KESL.service", "Kaspersky Endpoint Security, upper case"),
        ("klnagent64.service", "Kaspersky Network Agent"),
        ("kesl-lookalike.service", "not Kaspersky"),
    ):
        in_host(
            name, "sh", "-c", f"printf '{UNIT.format(description)}' > /etc/systemd/system/{unit}"
        )
    in_host(
        name,
        "ln",
        "-s",
        "/etc/systemd/system/klnagent64.service",
        "/etc/systemd/system/multi-user.target.wants/klnagent64.service",
    )
    loaded = in_host(name, "systemctl", "list-units", "--all", "--no-legend", "--plain").stdout
    assert "KESL.service" not in loaded and "klnagent64.service" not in loaded

    scan = _scan(tmp_path, name)
    services = _services(scan)
    assert services["KESL"]["state"] == "stopped"
    assert services["KESL"]["start_mode"] == "static"
    assert services["klnagent64"]["start_mode"] == "enabled"
    assert "kesl-lookalike" not in services
    found = {item["product"]: item for item in scan["disallowed"]}
    assert set(found) == {"kesl", "klnagent"}, scan["disallowed"]
    assert {"kind": "service", "value": "KESL"} in [
        {"kind": e["kind"], "value": e["value"]} for e in found["kesl"]["evidence"]
    ]
    assert scan["compliant"] is False
