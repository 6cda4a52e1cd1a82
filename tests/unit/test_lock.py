"""Whether a run may take a host's remediation lock: every case of lock.decide."""

from __future__ import annotations

import datetime

from ansible_collections.avshift.remediation.plugins.plugin_utils import lock
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import JournalWriter

NOW = datetime.datetime(2026, 12, 1, 23, 0, tzinfo=datetime.timezone.utc)
ME = {"change_id": "CHG1", "run_id": "me", "controller": "ctl-01", "pid": 100}


def _holder(**fields):
    return {
        "change_id": "CHG1",
        "run_id": "other",
        "controller": "ctl-01",
        "pid": 200,
        "started": "2026-12-01T22:00:00+00:00",
        "report_dir": "/reports/r0",
        **fields,
    }


def decide(holder, alive=True, ended=False, **kwargs):
    return lock.decide(
        holder, ME, NOW, alive=lambda pid: alive, ended=lambda directory: ended, **kwargs
    )


def test_a_free_lock_or_ones_own_is_taken():
    assert decide(None) == lock.Decision(take=True)
    assert decide(_holder(run_id="me")).take and decide(_holder(run_id="me")).takeover_of is None


def test_another_change_is_refused_naming_it_and_since_when():
    decision = decide(_holder(change_id="CHG2"))
    assert not decision.take
    assert decision.reason.startswith("host is being remediated by change CHG2 since 2026-12-01T22")


def test_a_run_of_the_same_change_that_still_runs_is_refused():
    decision = decide(_holder(), alive=True)
    assert not decision.take and "still running" in decision.reason


def test_a_run_of_the_same_change_that_is_gone_is_taken_over():
    for decision in (decide(_holder(), alive=False), decide(_holder(), ended=True)):
        assert decision.take
        assert decision.takeover_of["run_id"] == "other"
        assert "continues run other" in decision.reason


def test_a_lock_from_another_controller_is_refused_and_says_how_to_break_it():
    closed = {"start": "2026-12-01T18:00:00+00:00", "end": "2026-12-01T20:00:00+00:00"}
    decision = decide(_holder(controller="ctl-02", window=closed), alive=False)
    assert not decision.take
    assert "from another controller" in decision.reason and "--break-lock" in decision.reason
    assert "its window closed at 2026-12-01T20:00:00+00:00" in decision.reason
    broken = decide(_holder(controller="ctl-02", window=closed), break_lock=True)
    assert broken.take and broken.takeover_of["controller"] == "ctl-02"


def test_a_lock_cut_short_names_nobody_and_is_taken_over():
    decision = decide({"run_id": None, "unreadable": True})
    assert decision.take and decision.takeover_of["unreadable"]


def test_a_run_has_ended_when_its_journal_says_so(tmp_path):
    assert not lock.run_has_ended(str(tmp_path))
    journal = JournalWriter(tmp_path / "journal.jsonl", "r")
    journal.append("run")
    assert not lock.run_has_ended(str(tmp_path))
    journal.append("end", status="interrupted")
    journal.close()
    assert lock.run_has_ended(str(tmp_path))
    assert not lock.run_has_ended(None)


def test_a_process_that_does_not_exist_is_not_alive():
    assert lock.process_alive(1)
    assert not lock.process_alive(2**22 + 12345)
    assert not lock.process_alive("not a pid")
