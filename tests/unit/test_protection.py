"""Protecting, not only active: the policy's protection rules on what the products report.

Hand-written facts in the shapes the collectors send (the Linux probes' `protection`
entries, Get-MpComputerStatus's fields on Windows); every expected age is worked out
here from the times written, not copied from the engine.
"""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    PROTECTION_STATES,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import (
    InventoryError,
    PolicyError,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import (
    ProtectionRule,
    load_policy,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.protection import assess

SEVEN_DAYS = ProtectionRule(max_signature_age_days=7)
REAL_TIME = ProtectionRule(require_real_time=True)
HOST_NOW = "2026-12-01T12:00:00+00:00"
CONTROLLER_NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)


def facts(updated, basis="file-mtime", real_time=False, detail=None):
    return {
        "signatures_updated": updated,
        "signatures_basis": basis,
        "real_time": real_time,
        "detail": detail,
    }


# -- the rule ---------------------------------------------------------------------------


def test_fresh_signatures_are_protecting_with_their_age():
    result = assess(facts("2026-11-29T12:00:00+00:00"), SEVEN_DAYS, "linux", HOST_NOW)
    assert result["protection"] == "protecting"
    assert result["signature_age_days"] == 2.0
    assert "not_protecting_because" not in result


def test_stale_signatures_are_not_protecting_and_say_how_old():
    result = assess(facts("2026-08-29T12:00:00+00:00"), SEVEN_DAYS, "linux", HOST_NOW)
    assert result["protection"] == "not-protecting"
    assert result["signature_age_days"] == 94.0
    assert result["not_protecting_because"] == ["signatures 94 days old (policy: 7)"]


def test_exactly_the_limit_still_protects_one_minute_more_does_not():
    assert (
        assess(facts("2026-11-24T12:00:00+00:00"), SEVEN_DAYS, "linux", HOST_NOW)["protection"]
        == "protecting"
    )
    late = assess(facts("2026-11-24T11:00:00+00:00"), SEVEN_DAYS, "linux", HOST_NOW)
    assert late["protection"] == "not-protecting"


@pytest.mark.parametrize(
    ("updated", "detail", "why"),
    [
        (None, "no signature database in /var/lib/clamav", "no signature database"),
        (None, None, "its signature time could not be read"),
        ("yesterday", None, "its signature time could not be read"),
        ("2026-11-30T12:00:00", None, "its signature time could not be read"),  # no offset
    ],
)
def test_an_unknown_signature_time_never_meets_a_maximum_age(updated, detail, why):
    result = assess(facts(updated, detail=detail), SEVEN_DAYS, "linux", HOST_NOW)
    assert result["protection"] == "not-protecting"
    assert result["signature_age_days"] is None
    [reason] = result["not_protecting_because"]
    assert reason.startswith("signature age unknown (policy: 7 days): ")
    assert why in reason


def test_an_unknown_signature_time_is_fine_where_the_policy_asks_no_age():
    result = assess(facts(None), ProtectionRule(), "linux", HOST_NOW)
    assert result["protection"] == "protecting"


def test_a_signature_time_after_the_hosts_clock_is_an_error_not_fresh():
    result = assess(facts("2026-12-05T12:00:00+00:00"), SEVEN_DAYS, "linux", HOST_NOW)
    assert result["protection"] == "not-protecting"
    assert "is after the host's clock" in result["not_protecting_because"][0]
    # A few hours ahead is clocks that drift, not a broken database.
    near = assess(facts("2026-12-01T18:00:00+00:00"), SEVEN_DAYS, "linux", HOST_NOW)
    assert near["protection"] == "protecting" and near["signature_age_days"] == 0.0


def test_a_host_time_is_measured_on_the_hosts_clock_whatever_its_skew():
    # The host's clock runs 30 days behind: its own file times are 30 days behind too.
    host_now = "2026-11-01T12:00:00+00:00"
    result = assess(
        facts("2026-10-30T12:00:00+00:00"), SEVEN_DAYS, "linux", host_now, CONTROLLER_NOW
    )
    assert result["signature_age_days"] == 2.0
    assert result["protection"] == "protecting"
    assert result["clock_skew_seconds"] == -30 * 86400


def test_a_vendor_time_is_measured_on_the_controllers_clock_during_a_live_scan():
    # A database header says when the vendor built it; the host's clock 30 days behind
    # would make a 32-day-old database look two days old.
    host_now = "2026-11-01T12:00:00+00:00"
    header = facts("2026-10-30T12:00:00+00:00", basis="database-header")
    result = assess(header, SEVEN_DAYS, "linux", host_now, CONTROLLER_NOW)
    assert result["signature_age_days"] == 32.0
    assert result["not_protecting_because"] == ["signatures 32 days old (policy: 7)"]
    # Read later from a recording (no controller clock), the host's clock is all there is.
    recorded = assess(header, SEVEN_DAYS, "linux", host_now)
    assert recorded["signature_age_days"] == 2.0
    assert "clock_skew_seconds" not in recorded


def test_a_small_skew_is_not_reported():
    close = (CONTROLLER_NOW + datetime.timedelta(minutes=4)).isoformat()
    result = assess(facts(HOST_NOW), SEVEN_DAYS, "linux", close, CONTROLLER_NOW)
    assert "clock_skew_seconds" not in result


def test_without_the_hosts_clock_the_controllers_is_used_and_without_both_age_is_unknown():
    result = assess(facts("2026-11-30T12:00:00+00:00"), SEVEN_DAYS, "linux", None, CONTROLLER_NOW)
    assert result["signature_age_days"] == 1.0
    unknown = assess(facts("2026-11-30T12:00:00+00:00"), SEVEN_DAYS, "linux")
    assert unknown["protection"] == "not-protecting"
    assert "the host's clock was not reported" in unknown["not_protecting_because"][0]


@pytest.mark.parametrize(
    ("real_time", "state", "reason"),
    [
        (True, "protecting", None),
        (False, "not-protecting", "real-time protection off (policy requires it on windows)"),
        (None, "not-protecting", "real-time protection unknown (policy requires it on windows)"),
        ("yes", "not-protecting", "real-time protection unknown (policy requires it on windows)"),
    ],
)
def test_real_time_protection_where_the_policy_requires_it(real_time, state, reason):
    result = assess(facts(None, real_time=real_time), REAL_TIME, "windows", HOST_NOW)
    assert result["protection"] == state
    assert result.get("not_protecting_because") == ([reason] if reason else None)


def test_both_rules_failing_give_both_reasons():
    rule = ProtectionRule(max_signature_age_days=3, require_real_time=True)
    result = assess(facts("2026-11-21T12:00:00+00:00"), rule, "windows", HOST_NOW)
    assert result["not_protecting_because"] == [
        "signatures 10 days old (policy: 3)",
        "real-time protection off (policy requires it on windows)",
    ]


def test_the_states_are_the_contracts():
    assert set(PROTECTION_STATES) == {"protecting", "not-protecting", "not-active"}


# -- the classifier applies it ----------------------------------------------------------

CLAMD = {"name": "clamav-daemon", "state": "running"}
POLICY = load_policy(
    {
        "disallowed_vendors": ["kaspersky"],
        "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
        "protection": {"max_signature_age_days": 7, "require_real_time": {"windows": True}},
    }
)


def linux_host(updated, **extra):
    return {
        "schema": 1,
        "host": "deb",
        "os_family": "linux",
        "collected_at": HOST_NOW,
        "services": [CLAMD],
        "protection": [
            {
                "product": "clamav_linux",
                "signatures_updated": updated,
                "signatures_basis": "database-header",
                "signatures_version": "daily 27400",
                "real_time": False,
                "healthy": None,
                "detail": None,
            }
        ],
        **extra,
    }


def windows_host(updated, real_time):
    return {
        "schema": 1,
        "host": "srv",
        "os_family": "windows",
        "collected_at": "2026-12-01T12:00:00Z",
        "os": {"name": "Windows Server 2022", "version": "10.0.20348", "server": True},
        "services": [{"name": "WinDefend", "state": "running"}],
        "defender": {
            "am_service_enabled": True,
            "antivirus_enabled": True,
            "real_time_protection_enabled": real_time,
            "antivirus_signature_last_updated": updated,
            "am_running_mode": "Normal",
            "disabled_by_policy": [],
            "error": None,
        },
    }


def test_a_current_clamav_protects_and_the_verdict_says_which_rules_applied():
    verdict = classify(linux_host("2026-11-30T03:00:00+00:00"), POLICY)
    assert verdict["compliant"] is True
    [clamav] = verdict["approved"]
    assert clamav["protection"] == "protecting"
    assert clamav["signatures_basis"] == "database-header"
    assert verdict["protection_rules"] == {
        "max_signature_age_days": 7.0,
        "require_real_time": False,
    }


def test_a_running_clamav_on_old_signatures_leaves_the_host_non_compliant_saying_why():
    verdict = classify(linux_host("2026-08-29T12:00:00+00:00"), POLICY)
    assert verdict["compliant"] is False
    [clamav] = verdict["approved"]
    assert clamav["active"] is True and clamav["protection"] == "not-protecting"
    assert verdict["reasons"] == [
        "no approved antivirus protects the host "
        "(clamav-daemon: signatures 94 days old (policy: 7))"
    ]


def test_a_product_without_protection_facts_is_not_protecting_under_a_maximum_age():
    host = linux_host(None)
    del host["protection"]
    verdict = classify(host, POLICY)
    assert verdict["compliant"] is False
    assert "the collector reported no protection facts" in verdict["reasons"][0]


def test_a_stopped_product_is_present_not_active():
    host = linux_host("2026-11-30T03:00:00+00:00", services=[{**CLAMD, "state": "stopped"}])
    [clamav] = classify(host, POLICY)["approved"]
    assert clamav["protection"] == "not-active"


def test_defender_protects_a_windows_host_with_current_definitions_and_real_time_on():
    on = classify(windows_host("2026-11-30T22:00:00Z", True), POLICY)
    assert on["compliant"] is True, on["reasons"]
    [defender] = on["approved"]
    assert defender["protection"] == "protecting"
    assert defender["signatures_basis"] == "product" and defender["real_time"] is True
    stale = classify(windows_host("2026-11-20T22:00:00Z", True), POLICY)
    assert stale["compliant"] is False
    assert "signatures 10 days old (policy: 7)" in stale["reasons"][0]
    # Real-time protection off is already "not active" by Defender's own rule.
    off = classify(windows_host("2026-11-30T22:00:00Z", False), POLICY)
    [defender] = off["approved"]
    assert defender["protection"] == "not-active" and off["compliant"] is False


def test_real_time_required_on_linux_needs_clamonacc():
    policy = load_policy(
        {
            "disallowed_vendors": ["kaspersky"],
            "approved": {"linux": ["clamav"]},
            "protection": {"require_real_time": {"linux": True}},
        }
    )
    verdict = classify(linux_host("2026-11-30T03:00:00+00:00"), policy)
    assert verdict["reasons"] == [
        "no approved antivirus protects the host (clamav-daemon: real-time protection off "
        "(policy requires it on linux))"
    ]
    host = linux_host("2026-11-30T03:00:00+00:00")
    host["protection"][0]["real_time"] = True
    assert classify(host, policy)["compliant"] is True


def test_a_policy_without_protection_asks_only_for_an_active_product():
    plain = load_policy(
        {"disallowed_vendors": ["kaspersky"], "approved": {"linux": ["clamav"], "windows": []}}
    )
    verdict = classify(linux_host("2020-01-01T00:00:00+00:00"), plain)
    assert verdict["compliant"] is True
    assert verdict["protection_rules"] is None


# -- the policy's keys ------------------------------------------------------------------


def _policy(protection):
    return {
        "disallowed_vendors": ["kaspersky"],
        "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
        "protection": protection,
    }


def test_one_number_or_one_per_family():
    policy = load_policy(_policy({"max_signature_age_days": {"linux": 7, "windows": 3}}))
    assert policy.protection_for("linux").max_signature_age_days == 7
    assert policy.protection_for("windows").max_signature_age_days == 3
    both = load_policy(_policy({"max_signature_age_days": 5, "require_real_time": True}))
    assert both.protection_for("windows") == ProtectionRule(5, True)
    # A family the mapping leaves out gets no rule of that kind.
    partial = load_policy(_policy({"require_real_time": {"windows": True}}))
    assert partial.protection_for("linux") == ProtectionRule(None, False)


@pytest.mark.parametrize(
    ("protection", "where", "message"),
    [
        (
            {"max_signature_age": 7},
            "protection.max_signature_age",
            "did you mean 'max_signature_age_days'",
        ),
        ({"max_signature_age_days": 0}, "protection.max_signature_age_days", "above 0"),
        ({"max_signature_age_days": "7"}, "protection.max_signature_age_days", "a string"),
        ({"max_signature_age_days": True}, "protection.max_signature_age_days", "a boolean"),
        (
            {"max_signature_age_days": {"linuxx": 7}},
            "protection.max_signature_age_days.linuxx",
            "unknown OS family",
        ),
        ({"require_real_time": "yes"}, "protection.require_real_time", "expected true or false"),
        (
            {"require_real_time": {"windows": 1}},
            "protection.require_real_time.windows",
            "expected true or false",
        ),
        ([7], "protection", "expected a mapping"),
    ],
)
def test_a_wrong_protection_key_names_the_key_and_the_fix(protection, where, message):
    with pytest.raises(PolicyError) as raised:
        load_policy(_policy(protection))
    assert where in str(raised.value) and message in str(raised.value)


def test_the_shipped_policy_asks_for_current_signatures_and_real_time_on_windows():
    shipped = load_policy()
    assert shipped.protection_for("linux") == ProtectionRule(7, False)
    assert shipped.protection_for("windows") == ProtectionRule(7, True)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"protection": {"product": "clamav_linux"}}, "protection: expected a list"),
        ({"protection": ["clamav_linux"]}, "protection[0]: expected an object"),
        ({"protection": [{"signatures_updated": None}]}, "protection[0].product"),
        (
            {"protection": [{"product": "clamav_linux", "real_time": "on"}]},
            "protection[0].real_time: expected boolean or null, got a string",
        ),
        (
            {"protection": [{"product": "clamav_linux", "signatures_updated": 1764547200}]},
            "protection[0].signatures_updated: expected string or null",
        ),
        (
            {"protection": [{"product": "clamav_linux", "signatures_basis": "header"}]},
            "protection[0].signatures_basis: expected one of database-header",
        ),
        ({"collected_at": 1764547200}, "collected_at: expected a string"),
    ],
)
def test_a_malformed_protection_entry_is_refused_with_its_position(change, where):
    with pytest.raises(InventoryError) as raised:
        classify({**linux_host("2026-11-30T03:00:00+00:00"), **change}, POLICY)
    assert where in str(raised.value)
