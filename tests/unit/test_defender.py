"""Microsoft Defender's own rules (plugins/plugin_utils/defender.py), on the values
Get-MpComputerStatus and the policy keys give: the running modes, which policies apply
where, and each reason a running Defender does not protect."""

from __future__ import annotations

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.defender import (
    policies_in_force,
    protection,
    running_mode,
)

NORMAL = {
    "am_running_mode": "Normal",
    "am_service_enabled": True,
    "antivirus_enabled": True,
    "real_time_protection_enabled": True,
}


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("Normal", "normal"),
        ("  normal ", "normal"),
        ("Passive Mode", "passive"),
        ("SxS Passive Mode", "passive"),
        ("Passive Audit Mode", "passive"),
        ("EDR Block Mode", "edr-block"),
        ("EDR  block   mode", "edr-block"),
        ("EDR Block", "off"),
        ("Not running", "off"),
        ("", "off"),
        (None, "unknown"),
    ],
)
def test_running_modes_as_the_platform_spells_them(value, mode):
    assert running_mode(value) == mode


def test_policies_apply_by_their_value_name_and_the_server_only_ones_not_on_clients():
    names = [
        "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\DisableAntiSpyware",
        "DisableAntiVirus",
        "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\SomethingElse",
        "Real-Time Protection\\DisableRealtimeMonitoring",
    ]
    assert policies_in_force(names, server=True) == [names[0], names[1], names[3]]
    assert policies_in_force(names, server=None) == [names[0], names[1], names[3]]
    assert policies_in_force(names, server=False) == [names[3]]
    assert policies_in_force(["Disable"], server=True) == []


def test_normal_mode_with_everything_on_protects():
    assert protection(NORMAL, server=False, service_running=True) == (True, [])


def test_each_reason_a_running_defender_does_not_protect_is_named():
    status = {
        **NORMAL,
        "am_running_mode": "EDR Block Mode",
        "antivirus_enabled": False,
        "real_time_protection_enabled": None,
        "disabled_by_policy": ["DisableRealtimeMonitoring"],
    }
    active, why = protection(status, server=True, service_running=True)
    assert active is False
    assert why == [
        "running mode EDR Block Mode, not Normal",
        "antivirus is off",
        "real-time protection is off",
        "turned off by policy DisableRealtimeMonitoring",
    ]


def test_an_empty_running_mode_is_shown_as_empty():
    _, why = protection({**NORMAL, "am_running_mode": ""}, server=False, service_running=True)
    assert why == ["running mode empty, not Normal"]


def test_without_a_running_mode_the_service_decides():
    old = {**NORMAL, "am_running_mode": None}
    assert protection(old, server=False, service_running=True) == (True, [])
    assert protection(old, server=False, service_running=False) == (
        False,
        ["WinDefend is not running"],
    )


def test_a_failed_status_query_is_named_once_instead_of_every_switch():
    active, why = protection({"error": "access denied"}, server=False, service_running=True)
    assert (active, why) == (False, ["Get-MpComputerStatus failed: access denied"])


def test_without_a_status_the_service_decides():
    assert protection(None, server=False, service_running=True) == (True, [])
    assert protection(None, server=False, service_running=False) == (
        False,
        ["WinDefend is not running"],
    )
