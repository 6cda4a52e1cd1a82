"""The fold of a run's events: each host's status, as the report and the progress show it.

Events are written by hand the way the fleet_report callback journals them, so each rule
of the fold is held here without a playbook run.
"""

from __future__ import annotations

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import RunFold
from ansible_collections.avshift.remediation.plugins.plugin_utils.report import summarize

COMPLIANT = {"host": "h", "os_family": "linux", "compliant": True, "disallowed": []}
NON_COMPLIANT = {
    "host": "h",
    "os_family": "linux",
    "compliant": False,
    "disallowed": [{"vendor": "kaspersky", "product": "kesl", "name": "kesl"}],
}


def _run(*events, check=False):
    return [{"type": "run", "playbook": "x.yml", "check_mode": check}, *events]


def _fold(*events, check=False) -> RunFold:
    return RunFold().add_all(_run(*events, check=check))


def _stats(*hosts, failures=None, changed=None):
    return {
        "type": "stats",
        "processed": list(hosts),
        "failures": failures or {},
        "changed": changed or {},
    }


def _report(fold: RunFold) -> dict[str, dict]:
    return {entry["host"]: entry for entry in fold.report(summarize)["hosts"]}


def test_a_scanned_host_has_its_verdict():
    fold = _fold(
        {"type": "play", "hosts": ["a", "b"]},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "scan", "host": "b", "verdict": NON_COMPLIANT},
        _stats("a", "b"),
    )
    assert fold.kind == "audit"
    hosts = _report(fold)
    assert (hosts["a"]["status"], hosts["b"]["status"]) == ("compliant", "non-compliant")


def test_a_failed_host_that_has_a_scan_is_failed_not_its_scans_verdict():
    fold = _fold(
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "failed", "host": "a", "task": "t", "action": "x", "message": "it broke"},
        _stats("a", failures={"a": 1}),
    )
    assert fold.status("a") == ("failed", "it broke")


def test_a_never_scanned_host_is_never_compliant():
    fold = _fold({"type": "play", "hosts": ["a", "b"]}, {"type": "scan_started"}, _stats("a"))
    hosts = _report(fold)
    assert hosts["a"]["status"] == hosts["b"]["status"] == "failed"
    assert hosts["a"]["message"] == "the host was never scanned"


def test_an_ignored_scan_failure_is_still_a_host_that_was_not_read():
    fold = _fold(
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "failed", "host": "a", "action": "av_scan", "message": "no", "ignored": True},
        _stats("a"),
    )
    assert fold.status("a") == ("failed", "no")


def test_a_rescued_failure_is_not_a_failed_host_and_the_last_message_wins():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "failed", "host": "a", "action": "x", "message": "first", "rescuable": True},
        # Mid-run the rescuable failure decides nothing yet: the rescue may handle it.
    )
    assert fold.status("a") == (None, None)
    assert fold.progress("a") is None
    fold.add({"type": "failed", "host": "a", "action": "fail", "message": "left protected"})
    fold.add(_stats("a", failures={"a": 1}))
    assert fold.status("a") == ("failed", "left protected")


def test_a_new_batch_makes_the_last_batchs_failures_final():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a", "b"], "batch": ["a"]}},
        {"type": "failed", "host": "a", "action": "x", "message": "boom", "rescuable": True},
    )
    assert fold.progress("a") is None
    fold.add({"type": "window", "host": "b", "result": {"play_hosts": ["a", "b"], "batch": ["b"]}})
    assert fold.progress("a") == ("failed", "boom")


def test_an_unreachable_host_is_unreachable_whatever_else_happened():
    fold = _fold(
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "unreachable", "host": "a", "message": "gone"},
        _stats("a"),
    )
    assert fold.status("a") == ("unreachable", "gone")


def test_a_refused_window_defers_every_host_of_the_play():
    fold = _fold(
        {
            "type": "window",
            "host": "a",
            "failed": True,
            "result": {"play_hosts": ["a", "b"], "msg": "outside the window"},
        },
        _stats("a", "b"),
    )
    assert fold.kind == "remediation"
    assert {name: fold.status(name)[0] for name in "ab"} == {"a": "deferred", "b": "deferred"}
    assert fold.status("b")[1] == "not started: outside the window"


def test_a_remediated_host_is_decided_by_its_last_scan_once_verified():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
    )
    assert fold.progress("a") is None  # scanned again, but not verified yet
    fold.add({"type": "evidence", "host": "a", "event": "verified", "data": {}})
    assert fold.progress("a") == ("compliant", "")
    entry = _report(fold)["a"]
    assert entry["before"]["compliant"] is False and entry["after"]["compliant"] is True


def test_the_run_kind_comes_from_what_the_run_did():
    assert _fold({"type": "scan", "host": "a", "verdict": COMPLIANT}).kind == "audit"
    assert _fold({"type": "window", "host": "a", "result": {}}).kind == "remediation"


# --- interrupted runs -------------------------------------------------------------------


@pytest.mark.parametrize("ended", [True, False], ids=["end-recorded", "killed"])
def test_an_interrupted_audit_keeps_finished_verdicts_and_never_calls_the_rest_compliant(ended):
    events = [
        {"type": "play", "hosts": ["a", "b", "c"]},
        {"type": "scan_started"},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "scan", "host": "b", "verdict": NON_COMPLIANT},
    ]
    if ended:
        events.append({"type": "end", "status": "interrupted"})
    fold = _fold(*events)
    report = fold.report(summarize)
    hosts = {entry["host"]: entry for entry in report["hosts"]}
    assert hosts["a"]["status"] == "compliant"
    assert hosts["b"]["status"] == "non-compliant"
    assert hosts["c"]["status"] == "interrupted"
    assert hosts["c"]["message"].startswith("not started")
    assert report["summary"]["interrupted"] == 1 and report["summary"]["compliant"] == 1
    assert report["run"]["completion"] == (
        "interrupted"
        if ended
        else "stopped without an end record (killed, or the controller stopped)"
    )


def test_an_interrupted_remediation_shows_what_completed_and_where_it_stopped():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a", "b"], "batch": ["a", "b"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "evidence", "host": "a", "event": "installed", "data": {"vendor": "clamav"}},
        {"type": "end", "status": "interrupted"},
    )
    hosts = _report(fold)
    assert hosts["a"]["status"] == "interrupted"
    assert hosts["a"]["message"] == "run interrupted after installing the replacement"
    assert [action["event"] for action in hosts["a"]["actions"]] == ["plan", "installed"]
    assert hosts["a"]["after"]["compliant"] is False  # the last scan it had
    assert hosts["b"]["status"] == "interrupted"
    assert hosts["b"]["message"].startswith("not started")


def test_a_completed_run_has_no_interrupted_host():
    fold = _fold(
        {"type": "play", "hosts": ["a"]},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        _stats("a"),
        {"type": "end", "status": "ended"},
    )
    report = fold.report(summarize)
    assert report["summary"]["interrupted"] == 0
    assert report["run"]["completion"] == "completed"
