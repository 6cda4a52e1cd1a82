"""The fleet_report callback fed synthetic results, as ansible.windows tests its action
plugins: what it journals and reports for each kind of result, without a playbook run."""

from __future__ import annotations

import atexit
import json
from types import SimpleNamespace

import pytest
from ansible import context
from ansible.utils.context_objects import CLIArgs

from ansible_collections.avshift.remediation.plugins.callback.fleet_report import CallbackModule
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import read_journal

SCAN = "avshift.remediation.av_scan"


class _Host:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class _Task:
    def __init__(self, action, no_log=False, parent=None, name="a task"):
        self.action = self.resolved_action = action
        self.no_log = no_log
        self._parent = parent
        self.name = name

    def get_name(self):
        return self.name


def _result(host, action, result, **task):
    return SimpleNamespace(_host=_Host(host), _task=_Task(action, **task), _result=result)


class _Stats:
    def __init__(self, failures):
        self.failures = failures
        self.processed = dict.fromkeys(failures, 1)

    def summarize(self, host):
        return {"changed": 0}


def _verdict(compliant):
    return {
        "compliant": compliant,
        "os_family": "linux",
        "disallowed": [] if compliant else [{"vendor": "kaspersky", "product": "kesl"}],
        "approved": [],
        "other": [],
        "residue": [],
        "inventory": {"secret-looking": "raw inventory, never journalled"},
    }


@pytest.fixture
def callback(tmp_path, monkeypatch):
    monkeypatch.setattr(context, "CLIARGS", CLIArgs({"inventory": ["inv"], "check": False}))
    plugin = CallbackModule()
    # Ansible's configuration is not loaded here; options are tested in playbook runs.
    options = {"report_dir": str(tmp_path / "r")}
    monkeypatch.setattr(plugin, "get_option", lambda name: options.get(name))
    plugin.v2_playbook_on_start(SimpleNamespace(_file_name="/x/audit.yml"))
    inventory = SimpleNamespace(get_hosts=lambda pattern: [_Host("a"), _Host("b"), _Host("c")])
    play = SimpleNamespace(
        hosts="all",
        get_name=lambda: "audit",
        get_variable_manager=lambda: SimpleNamespace(_inventory=inventory),
    )
    plugin.v2_playbook_on_play_start(play)
    plugin.v2_playbook_on_task_start(_Task(SCAN), False)
    yield plugin
    # The callback registered its interrupted-run handler for this process's exit.
    atexit.unregister(plugin._at_exit)


def _events(tmp_path):
    return read_journal(tmp_path / "r" / "journal.jsonl").events


def test_results_are_journalled_as_they_come_and_reported_at_the_end(callback, tmp_path):
    callback.v2_runner_on_ok(_result("a", SCAN, _verdict(True)))
    # Written the moment it happened, before the run ends.
    assert [e["type"] for e in _events(tmp_path)] == ["run", "play", "scan_started", "scan"]
    assert "inventory" not in _events(tmp_path)[-1]["verdict"]
    callback.v2_runner_on_ok(_result("b", SCAN, _verdict(True)))
    callback.v2_runner_on_failed(_result("b", "ansible.builtin.assert", {"msg": "broke"}))
    callback.v2_playbook_on_stats(_Stats({"a": 0, "b": 1}))
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    statuses = {h["host"]: (h["status"], h["message"]) for h in report["hosts"]}
    assert statuses["a"][0] == "compliant"
    # A failed host that has a scan is failed, not its scan's verdict.
    assert statuses["b"] == ("failed", "broke")
    # A host of the play that was never scanned is never compliant.
    assert statuses["c"] == ("failed", "the host was never scanned")
    assert report["run"]["journal_events"] == len(_events(tmp_path))


def test_a_no_log_failure_keeps_its_output_out_of_the_record(callback, tmp_path):
    secret = {"msg": "password=hunter2", "stderr": "hunter2"}
    callback.v2_runner_on_failed(_result("a", "ansible.windows.win_command", secret, no_log=True))
    text = (tmp_path / "r" / "journal.jsonl").read_text()
    assert "hunter2" not in text
    assert "its output is hidden (no_log)" in text


def test_a_failure_inside_a_block_with_a_rescue_is_marked_rescuable(callback, tmp_path):
    block = SimpleNamespace(rescue=["a rescue task"], _parent=None)
    callback.v2_runner_on_failed(_result("a", "x", {"msg": "m"}, parent=block))
    callback.v2_runner_on_failed(_result("a", "y", {"msg": "m"}))
    failures = [e for e in _events(tmp_path) if e["type"] == "failed"]
    assert [f["rescuable"] for f in failures] == [True, False]


def test_a_run_that_stops_before_its_end_still_writes_its_reports(callback, tmp_path):
    callback.v2_runner_on_ok(_result("a", SCAN, _verdict(False)))
    callback._at_exit()  # what atexit does when ansible-playbook stops on Ctrl-C
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    statuses = {h["host"]: h["status"] for h in report["hosts"]}
    assert statuses == {"a": "non-compliant", "b": "interrupted", "c": "interrupted"}
    assert report["run"]["completion"] == "interrupted"
    assert _events(tmp_path)[-1]["type"] == "end"
