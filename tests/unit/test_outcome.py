"""The fold of a run's events: each host's status, as the report and the progress show it.

Events are written by hand the way the fleet_report callback journals them, so each rule
of the fold is held here without a playbook run.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import (
    NO_LOG_MESSAGE,
    RunFold,
    classify_result,
    failure_message,
)
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


def _folds(*events, check=False) -> list[RunFold]:
    """The fold of the events as the callback hands them over, and as `avshift report`
    reads them back from the journal (JSON: strings that are equal, not the same)."""
    handed = _run(*events, check=check)
    return [RunFold().add_all(handed), RunFold().add_all(json.loads(json.dumps(handed)))]


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
    # It may have changed since its only scan: not shown as it was, but as unknown.
    assert hosts["a"]["after"] is None
    assert hosts["a"]["after_unknown"] == (
        "not scanned after remediation: run interrupted after installing the replacement"
    )
    assert hosts["b"]["status"] == "interrupted"
    assert hosts["b"]["message"].startswith("not started")


AFTER_FAILED_INSTALL = {**NON_COMPLIANT, "approved": [{"vendor": "clamav", "active": False}]}


def test_a_failed_replacement_shows_the_scan_after_it_not_the_one_before():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "failed", "host": "a", "task": "install", "message": "replacement failed"},
        {"type": "scan", "host": "a", "verdict": AFTER_FAILED_INSTALL},
        {"type": "evidence", "host": "a", "event": "changes", "data": {"packages": {}}},
        _stats("a", failures={"a": 1}),
    )
    host = _report(fold)["a"]
    assert host["status"] == "failed" and host["message"] == "replacement failed"
    assert host["after"]["approved"] == AFTER_FAILED_INSTALL["approved"]
    assert host["before"]["approved"] is None
    assert "after_unknown" not in host


def test_a_host_lost_mid_remediation_has_an_unknown_after_state_with_the_reason():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"remove": [{"name": "kesl"}]}},
        {"type": "unreachable", "host": "a", "message": "ssh: connection reset"},
        _stats("a"),
    )
    host = _report(fold)["a"]
    assert host["after"] is None
    assert host["after_unknown"] == "not scanned after remediation: ssh: connection reset"


def test_a_failed_scan_after_remediation_leaves_the_after_state_unknown():
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "failed", "host": "a", "action": "avshift.remediation.av_scan", "message": "rpm"},
        _stats("a"),
    )
    host = _report(fold)["a"]
    assert host["status"] == "failed"
    assert host["after"] is None and host["after_unknown"].endswith(": rpm")


@pytest.mark.parametrize(
    "plan",
    [
        {"install": None, "remove": []},  # nothing to do
        {"install": "clamav", "remove": [{"name": "kesl"}], "held": ["a server"]},  # refused
    ],
    ids=["nothing-to-do", "held"],
)
def test_a_host_left_untouched_is_shown_after_as_it_was(plan):
    fold = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": plan},
        _stats("a"),
    )
    host = _report(fold)["a"]
    assert host["after"] == host["before"] and host["after"]["compliant"] is False
    assert "after_unknown" not in host


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


# --- the details each rule decides ----------------------------------------------------


def _window(host, batch, **result):
    return {"type": "window", "host": host, "result": {"batch": batch, **result}}


def test_a_failure_message_is_the_first_of_msg_stderr_reason_and_is_capped():
    assert failure_message({"msg": "m", "stderr": "e", "reason": "r"}, False) == "m"
    assert failure_message({"stderr": "e", "reason": "r"}, False) == "e"
    assert failure_message({"reason": "r"}, False) == "r"
    assert failure_message({}, False) == "failed"
    assert failure_message({"msg": "x" * 2000}, False) == "x" * 2000
    assert failure_message({"msg": "y" * 2001}, False) == "y" * 2000
    assert failure_message({"msg": "a secret"}, True) == NO_LOG_MESSAGE


@pytest.mark.parametrize(
    "action, kind",
    [
        ("avshift.remediation.av_scan", "scan"),
        ("avshift.remediation.change_window", "window"),
        ("avshift.remediation.evidence", "evidence"),
        ("avshift.remediation.host_lock", "lock"),
        ("ansible.builtin.command", None),
    ],
)
def test_a_result_is_classified_by_its_action(action, kind):
    assert classify_result(action) == kind


def test_each_host_of_the_plays_and_the_stats_is_reported_once():
    fold = _fold(
        {"type": "play", "hosts": ["a", "b"]},
        {"type": "play", "hosts": ["b", "c"]},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        _stats("a", "d"),
    )
    assert fold.play_hosts == ["a", "b", "c", "d"]
    assert sorted(_report(fold)) == ["a", "b", "c", "d"]


def test_the_run_ends_at_its_end_record_or_else_at_the_last_event_that_had_a_time():
    events = [
        {"type": "scan", "host": "a", "verdict": COMPLIANT, "at": "2026-12-01T10:00:00Z"},
        {"type": "scan", "host": "b", "verdict": COMPLIANT},
    ]
    assert _fold(*events).report(summarize)["run"]["ended"] == "2026-12-01T10:00:00Z"
    ended = _fold(*events, {"type": "end", "at": "2026-12-01T10:05:00Z"})
    assert ended.report(summarize)["run"]["ended"] == "2026-12-01T10:05:00Z"


def test_an_interrupted_host_says_what_it_last_did():
    fold = _fold(
        {"type": "play", "hosts": ["a", "b", "c", "d"]},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "failed", "host": "a", "task": "Install", "action": "x", "rescuable": True},
        {"type": "failed", "host": "b", "action": "ansible.builtin.apt", "rescuable": True},
        {"type": "unreachable", "host": "c"},
    )
    hosts = _report(fold)
    assert hosts["a"]["status"] == "interrupted"
    assert hosts["a"]["message"] == "run interrupted after a failed task (Install): failed"
    assert hosts["b"]["message"] == (
        "run interrupted after a failed task (ansible.builtin.apt): failed"
    )
    assert hosts["c"]["status"] == "unreachable" and hosts["c"]["message"] == "unreachable"
    assert hosts["d"]["message"].startswith("not started")
    again = _fold({"type": "play", "hosts": ["a"]}, {"type": "scan_started"})
    again.add({"type": "scan", "host": "a", "verdict": COMPLIANT})
    again.add({"type": "failed", "host": "a", "action": "x", "message": "m", "rescuable": True})
    assert _report(again)["a"]["message"] == "run interrupted after a failed task (x): m"


def test_the_last_step_names_the_first_scan_then_later_scans():
    first = _fold(
        {"type": "window", "host": "a", "result": {"play_hosts": ["a"], "batch": ["a"]}},
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
    )
    assert _report(first)["a"]["message"] == "run interrupted after its first scan"
    first.add({"type": "scan", "host": "a", "verdict": NON_COMPLIANT})
    assert _report(first)["a"]["message"] == "run interrupted after a scan"


def test_only_a_run_that_scanned_or_refused_something_has_a_report():
    assert not _fold({"type": "play", "hosts": ["a"]}).has_anything_to_report()
    assert _fold({"type": "scan_started"}).has_anything_to_report()
    assert _fold({"type": "scan", "host": "a", "verdict": COMPLIANT}).has_anything_to_report()
    assert _fold({"type": "unreachable", "host": "a"}).has_anything_to_report()


def test_a_report_mode_window_starts_no_batch():
    for fold in _folds(
        _window("a", ["a"], play_hosts=["a", "b"]),
        {"type": "failed", "host": "a", "action": "x", "message": "boom", "rescuable": True},
        _window("b", ["b"], mode="report"),
    ):
        assert fold.progress("a") is None  # still rescuable: no new batch began


def test_a_refused_window_without_play_hosts_defers_the_host_that_asked():
    fold = _fold({"type": "window", "host": "a", "failed": True, "result": {}})
    assert fold.status("a") == ("deferred", "not started: refused")


def test_a_batch_deferred_by_the_window_defers_its_hosts_or_the_host_that_asked():
    fold = _fold(
        _window("a", ["a"], play_hosts=["a", "b", "c"]),
        _window("b", ["b", "c"], deferred=True, msg="the window closed"),
    )
    assert fold.status("b") == fold.status("c") == ("deferred", "not started: the window closed")
    assert fold.status("a")[0] != "deferred"
    alone = _fold({"type": "window", "host": "z", "result": {"deferred": True, "msg": "late"}})
    assert alone.status("z") == ("deferred", "not started: late")


def test_a_never_scanned_host_of_a_remediation_is_deferred_by_an_earlier_batch():
    fold = _fold(
        _window("a", ["a"], play_hosts=["a", "b"]),
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "evidence", "host": "a", "event": "verified", "data": {}},
        _stats("a", "b"),
    )
    assert fold.status("b") == (
        "deferred",
        "not started: an earlier batch failed above max_fail_percentage",
    )


def test_an_evidence_event_without_a_name_is_kept_and_verifies_nothing():
    fold = _fold(
        _window("a", ["a"], play_hosts=["a"]),
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "evidence", "host": "a", "data": {}},
    )
    assert fold.host("a").verified is False
    assert fold.progress("a") is None
    assert [action["event"] for action in _report(fold)["a"]["actions"]] == [None]


def test_a_lock_taken_over_is_an_action_and_a_lock_taken_fresh_is_not():
    fold = _fold(
        _window("a", ["a", "b"], play_hosts=["a", "b"]),
        {"type": "lock", "host": "a", "takeover": {"run_id": "r1"}, "at": "t"},
        {"type": "lock", "host": "b", "takeover": None},
    )
    hosts = _report(fold)
    assert hosts["a"]["actions"] == [{"event": "takeover", "at": "t", "data": {"run_id": "r1"}}]
    assert hosts["b"]["actions"] == []
    assert hosts["b"]["message"].startswith("not started")  # a fresh lock is no step


def test_a_failed_task_in_a_completed_run_is_decided_by_the_stats():
    fold = _fold(
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "failed", "host": "a", "action": "x", "message": "m", "rescuable": True},
        _stats("a"),
    )
    assert fold.status("a") == ("compliant", None)  # rescued: no failure in the stats


def test_the_progress_of_a_planned_host_lists_what_the_dry_run_would_do():
    plan = {"install": "clamav", "remove": [{"name": "kesl"}, {"name": "klnagent"}]}
    for fold in _folds(
        _window("a", ["a", "b"], play_hosts=["a", "b"]),
        {"type": "evidence", "host": "a", "event": "plan", "data": plan},
        {"type": "evidence", "host": "b", "event": "plan", "data": {"remove": []}},
        check=True,
    ):
        assert fold.progress("a") == ("planned", "install clamav; remove kesl, klnagent")
        assert fold.progress("b") == ("planned", "nothing to do")
    only_removal = _fold(
        _window("a", ["a"], play_hosts=["a"]),
        {"type": "evidence", "host": "a", "event": "plan", "data": {"remove": [{}]}},
        check=True,
    )
    assert only_removal.progress("a") == ("planned", "remove ?")


def test_the_progress_of_a_real_run_waits_for_a_host_with_something_to_do():
    fold = _fold(
        _window("a", ["a", "b"], play_hosts=["a", "b"]),
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "evidence", "host": "b", "event": "plan", "data": {"remove": []}},
    )
    assert fold.progress("a") is None
    assert fold.progress("b") == ("planned", "nothing to do")
    failed = _fold(
        _window("a", ["a"], play_hosts=["a"]),
        {"type": "evidence", "host": "a", "event": "plan", "data": {"remove": []}},
        {"type": "failed", "host": "a", "action": "x", "message": "broke"},
    )
    assert failed.progress("a") == ("failed", "broke")
    gone = _fold(
        _window("a", ["a"], play_hosts=["a"]),
        {"type": "evidence", "host": "a", "event": "plan", "data": {"remove": []}},
        {"type": "unreachable", "host": "a", "message": "no route"},
    )
    assert gone.progress("a") == ("unreachable", "no route")


def test_the_progress_of_a_non_compliant_host_names_what_is_disallowed():
    fold = _fold({"type": "scan", "host": "a", "verdict": NON_COMPLIANT})
    assert fold.progress("a") == ("non-compliant", "kesl")
    fold = _fold({"type": "scan", "host": "a", "verdict": COMPLIANT})
    assert fold.progress("a") == ("compliant", "")
    assert _fold({"type": "unreachable", "host": "b", "message": "x"}).progress("b") == (
        "unreachable",
        "x",
    )


def test_an_audit_entry_carries_the_scan_and_the_changes_the_host_reported():
    scan = {
        **NON_COMPLIANT,
        "scan_seconds": 1.5,
        "approved": [{"name": "clamav"}],
        "unreadable": [{"part": "processes", "reason": "no /proc"}],
    }
    fold = _fold(
        {"type": "scan", "host": "a", "verdict": scan},
        {"type": "scan", "host": "b", "verdict": COMPLIANT},
        _stats("a", "b", changed={"a": 2}),
    )
    hosts = _report(fold)
    assert hosts["a"]["os_family"] == "linux" and hosts["a"]["duration_seconds"] == 1.5
    assert hosts["a"]["approved"] == [{"name": "clamav"}]
    assert hosts["a"]["disallowed"] == NON_COMPLIANT["disallowed"]
    assert hosts["a"]["unreadable"] == scan["unreadable"]
    assert "unreadable" not in hosts["b"]
    assert (hosts["a"]["changed"], hosts["b"]["changed"]) == (2, 0)
    assert "plan" not in hosts["a"]  # an audit has no remediation fields


def test_a_remediation_entry_has_its_plan_the_last_reboot_and_no_after_in_a_dry_run():
    events = [
        _window("a", ["a"], play_hosts=["a"]),
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "installed", "data": {"v": 1}},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "evidence", "host": "a", "event": "reboot", "data": {"state": "pending"}},
        {"type": "evidence", "host": "a", "event": "reboot", "data": {"state": "done"}},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "evidence", "host": "a", "event": "verified", "data": {}},
        _stats("a"),
    ]
    entry = _report(_fold(*events))["a"]
    assert entry["plan"] == {"install": "clamav"}
    assert entry["reboot"] == "done"
    assert entry["before"]["compliant"] is False and entry["after"]["compliant"] is True
    dry = _report(_fold(*events, check=True))["a"]
    assert dry["after"] is None and dry["before"]["compliant"] is False
    none = _report(_fold(_window("b", ["b"], play_hosts=["b"]), _stats("b")))["b"]
    assert none["plan"] is None and none["reboot"] is None and none["before"] is None


def test_the_run_section_names_the_inventory_the_policy_and_the_change():
    policy = {"source": "shipped", "sha256": "abc"}
    fold = _fold(
        {
            "type": "window",
            "host": "a",
            "result": {
                "play_hosts": ["a", "b"],
                "batch": ["a", "b"],
                "change_id": "CHG1",
                "operator": "ops",
                "window": {"start": "s", "end": "e"},
                "batch_spec": [1, "50%"],
                "max_fail_percentage": 0,
                "reboot_policy": "never",
            },
        },
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "scan", "host": "b", "verdict": {**COMPLIANT, "policy": policy}},
    )
    fold.run.update(inventory=["one.yml", "two.yml"], limit="web*")
    run = fold.report(summarize)["run"]
    assert run["inventory"] == "one.yml, two.yml" and run["limit"] == "web*"
    assert run["policy"] == policy
    assert (run["change_id"], run["operator"], run["window"]) == (
        "CHG1",
        "ops",
        {"start": "s", "end": "e"},
    )
    assert (run["batch"], run["max_fail_percentage"], run["reboot_policy"]) == (
        [1, "50%"],
        0,
        "never",
    )
    audit = _fold({"type": "scan", "host": "a", "verdict": COMPLIANT}).report(summarize)["run"]
    assert "change_id" not in audit and audit["policy"] is None and audit["inventory"] == ""


def test_events_read_back_from_the_journal_fold_as_they_came():
    """The journal is JSON lines: the fold of what `avshift report` reads back must be the
    fold of what the callback handed over."""
    events = _run(
        _window("a", ["a"], play_hosts=["a", "b"]),
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "evidence", "host": "a", "event": "plan", "data": {"install": "clamav"}},
        {"type": "failed", "host": "a", "action": "avshift.remediation.av_scan", "rescuable": True},
        {"type": "scan", "host": "a", "verdict": COMPLIANT},
        {"type": "evidence", "host": "a", "event": "reboot", "data": {"state": "done"}},
        {"type": "evidence", "host": "a", "event": "verified", "data": {}},
        _window("b", ["b"], mode="report"),
        _stats("a", "b"),
    )
    direct = RunFold().add_all(events)
    read_back = RunFold().add_all(json.loads(json.dumps(events)))
    assert read_back.report(summarize) == direct.report(summarize)
    assert _report(read_back)["a"]["plan"] == {"install": "clamav"}
    assert _report(read_back)["a"]["reboot"] == "done"
    assert read_back.host("a").verified is True


def test_a_host_whose_only_step_was_taking_over_a_lock_was_reached():
    fold = _fold(
        _window("a", ["a"], play_hosts=["a"]),
        {"type": "lock", "host": "a", "takeover": {"run_id": "r1"}},
    )
    assert _report(fold)["a"]["message"] == "run interrupted after its first step"


def test_an_audit_host_is_undecided_until_the_run_ends_then_never_scanned_is_failed():
    fold = _fold(
        {"type": "play", "hosts": ["a", "b"]}, {"type": "scan", "host": "a", "verdict": COMPLIANT}
    )
    assert fold.status("b") == (None, None)
    fold.add(_stats("a", "b"))
    assert fold.status("b") == ("failed", "the host was never scanned")


def test_the_progress_of_a_host_that_failed_or_went_away_after_its_scan_is_its_message():
    fold = _fold(
        {"type": "scan", "host": "a", "verdict": NON_COMPLIANT},
        {"type": "unreachable", "host": "a", "message": "gone"},
        {"type": "scan", "host": "b", "verdict": NON_COMPLIANT},
        {"type": "failed", "host": "b", "action": "x", "message": "it broke"},
    )
    assert fold.progress("a") == ("unreachable", "gone")
    assert fold.progress("b") == ("failed", "it broke")
