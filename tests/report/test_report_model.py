"""The report model's check of what it is given (report/model.py checked_report): every
shape a format walks is refused, naming the field, before any format renders it."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import CONFIRMATIONS
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    NOT_CONFIRMED,
    NOT_CONFIRMED_DRY_RUN,
    action_data,
    batch_text,
    checked_report,
    confirmation_text,
    duration_text,
    remediation_seconds,
    since_last_run,
)

HOST = {"host": "web-01", "status": "compliant", "disallowed": [], "approved": []}
REMEDIATED = {
    **HOST,
    "host": "web-02",
    "before": {"compliant": False, "disallowed": [{"name": "kesl"}]},
    "after": {"compliant": True, "disallowed": []},
    "plan": {"install": "clamav", "remove": [{"name": "kesl", "packages": ["kesl"]}]},
    "actions": [{"event": "plan", "at": "t", "data": {}}],
    "reboot": "not-needed",
}


def _report(*hosts, summary=None) -> dict:
    report = {"kind": "audit", "run": {}, "hosts": [copy.deepcopy(host) for host in hosts]}
    if summary is not None:
        report["summary"] = summary
    return report


def test_a_well_formed_report_is_taken_with_its_summary_computed():
    checked = checked_report(_report(HOST, REMEDIATED))
    assert checked["summary"]["compliant"] == 2 and checked["summary"]["total"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["hosts"].append("web-03"), "hosts[2]"),
        (lambda r: r["hosts"][1].pop("host"), "hosts[1].host"),
        (lambda r: r["hosts"][1].update(host=""), "hosts[1].host"),
        (lambda r: r["hosts"][0].update(host=7), "hosts[0].host"),
        (lambda r: r["hosts"][1].update(approved="clamav"), "hosts[1].approved"),
        (lambda r: r["hosts"][1].update(disallowed=["kesl"]), "hosts[1].disallowed"),
        (lambda r: r["hosts"][1].update(before="bad"), "hosts[1].before"),
        (lambda r: r["hosts"][1]["after"].update(disallowed="kesl"), "hosts[1].after.disallowed"),
        (lambda r: r["hosts"][1].update(plan=["install"]), "hosts[1].plan"),
        (lambda r: r["hosts"][1]["plan"].update(remove="kesl"), "hosts[1].plan.remove"),
        (
            lambda r: r["hosts"][1]["plan"]["remove"].append({"packages": "kesl"}),
            "hosts[1].plan.remove[1].packages",
        ),
        (
            lambda r: r["hosts"][1]["plan"]["remove"].append({"windows": ["x"]}),
            "hosts[1].plan.remove[1].windows",
        ),
        (lambda r: r["hosts"][1].update(actions="plan"), "hosts[1].actions"),
        (lambda r: r["hosts"][1].update(reboot=True), "hosts[1].reboot"),
        (lambda r: r.update(summary=["compliant"]), "summary"),
    ],
)
def test_a_malformed_report_is_refused_naming_the_field(change, field):
    report = _report(HOST, REMEDIATED)
    change(report)
    with pytest.raises(InputError) as caught:
        checked_report(report)
    assert f"report: {field}:" in str(caught.value)


def test_a_summary_is_taken_only_when_it_adds_up_and_a_count_it_leaves_out_is_zero():
    computed = checked_report(_report(HOST, REMEDIATED))["summary"]
    assert checked_report(_report(HOST, REMEDIATED, summary=computed))["summary"] == computed
    without_zeros = {key: value for key, value in computed.items() if value}
    assert checked_report(_report(HOST, REMEDIATED, summary=without_zeros))
    for key, wrong in (("compliant", 1), ("compliant", 3), ("failed", 1)):
        with pytest.raises(InputError, match="summary: says"):
            checked_report(_report(HOST, REMEDIATED, summary={**computed, key: wrong}))


def test_a_summary_of_a_large_fleet_is_compared_by_value():
    hosts = [{**HOST, "host": f"web-{number:04d}"} for number in range(300)]
    report = json.loads(json.dumps(_report(*hosts)))  # as a report file is read back
    summary = json.loads(json.dumps(checked_report(_report(*hosts))["summary"]))
    assert checked_report({**report, "summary": summary})["summary"]["compliant"] == 300


def test_a_host_without_a_before_scan_still_has_its_after_scan_checked():
    report = _report(REMEDIATED)
    report["hosts"][0]["before"] = None
    report["hosts"][0]["after"] = {"compliant": True, "disallowed": "kesl"}
    with pytest.raises(InputError, match=r"hosts\[0\]\.after\.disallowed"):
        checked_report(report)


def test_an_action_keeps_its_extra_keys_and_an_action_key_only_with_an_event():
    loaded = json.loads(
        '[{"action": "install", "data": {"vendor": "clamav"}, "host": "h"},'
        ' {"event": "plan", "action": "dry run", "data": null}]'
    )
    assert action_data(loaded[0]) == {"vendor": "clamav", "host": "h"}
    assert action_data(loaded[1]) == {"action": "dry run"}
    assert action_data({"event": "removed", "data": "kesl"}) == {"data": "kesl"}


def test_a_hosts_drift_line_says_how_it_changed_since_the_last_run():
    drift = json.loads(
        json.dumps(
            {
                "previous_run": "r1",
                "regressed": [
                    {"host": "web-01", "was": "unreachable", "appeared": [{"name": "kesl"}]},
                    {"host": "web-02", "appeared": []},
                ],
                "fixed": ["web-03"],
                "added": ["web-04"],
                "newly_seen": [{"host": "web-05", "name": "sentinelone"}],
            }
        )
    )
    host = json.loads('["web-01", "web-02", "web-03", "web-04", "web-05", "web-06"]')
    assert [since_last_run(name, drift) for name in host] == [
        "regressed from unreachable: kesl appeared",
        "regressed from compliant",
        "fixed",
        "not in the last run",
        "newly seen: sentinelone",
        "unchanged",
    ]
    assert since_last_run("web-01", {}) == "no earlier run"


@pytest.mark.parametrize(
    ("batch", "shown"),
    [
        ("1,5,25%", "1,5,25%"),
        # An older journal kept serial's list: the operator wrote 1,5,25%.
        ([1, 5, "25%"], "1,5,25%"),
        (["10%"], "10%"),
        (5, "5"),
        ("", None),
        ([], None),
        (None, None),
    ],
)
def test_a_batch_is_shown_as_the_operator_wrote_it(batch, shown):
    assert batch_text(batch) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.41, "0.4 s"),
        (0.9, "0.9 s"),
        (0, "0 s"),
        (12.5, "12.5 s"),
        (44, "44 s"),
        (59.96, "1 min 0 s"),
        (200, "3 min 20 s"),
        (3599.6, "1 h 0 min"),
        (6 * 3600 + 59, "6 h 0 min"),
        (-1, None),
        (True, None),
        (None, None),
        ("44", None),
    ],
)
def test_a_duration_is_given_in_the_units_a_person_reads(seconds, shown):
    assert duration_text(seconds) == shown


def _timed(*times: str) -> dict:
    return {"actions": [{"event": "removed", "at": at, "data": {}} for at in times]}


def test_a_remediation_lasts_from_the_hosts_first_evidence_to_its_last():
    host = _timed("2026-12-01T22:01:02+01:00", "2026-12-01T21:04:05+00:00", "bad", None)
    # Offsets are compared as instants; a time that does not parse is left out.
    assert remediation_seconds(host) == 183
    assert remediation_seconds({**host, "actions": host["actions"][::-1]}) == 183


@pytest.mark.parametrize(
    "host",
    [
        # A dry run's plan alone, a host left alone, one that never started.
        _timed("2026-12-01T22:01:02+01:00"),
        {"actions": []},
        {},
        _timed("2026-12-01T22:01:02+01:00", "2026-12-01T22:01:02+01:00"),
        # Times with and without an offset cannot be compared.
        _timed("2026-12-01T22:01:02", "2026-12-01T22:04:05+01:00"),
    ],
)
def test_evidence_that_spans_no_time_has_no_remediation_time(host):
    assert remediation_seconds(host) is None


def test_a_confirmation_is_shown_with_its_meaning_and_its_absence_says_why():
    for key, meaning in CONFIRMATIONS.items():
        assert confirmation_text({"confirmation": key}) == meaning
    assert confirmation_text({}) == NOT_CONFIRMED
    assert confirmation_text({"confirmation": None, "check_mode": False}) == NOT_CONFIRMED
    assert NOT_CONFIRMED == "not asked: started outside the avshift command"
    # The avshift command asks only before a real run.
    assert confirmation_text({"check_mode": True}) == NOT_CONFIRMED_DRY_RUN
    assert confirmation_text({"confirmation": "later"}) == "later"
