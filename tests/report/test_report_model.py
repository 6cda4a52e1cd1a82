"""The report model's check of what it is given (report/model.py checked_report): every
shape a format walks is refused, naming the field, before any format renders it."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    action_data,
    checked_report,
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
