# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: fleet_report
type: notification
short_description: Write the avshift fleet report (JSON, CSV, HTML, JUnit) at the end of a run
version_added: 0.1.0
description:
  - Collects every M(avshift.remediation.av_scan) result, and every unreachable or failed
    host, and writes C(report.json), C(report.csv), C(report.html) and C(report.junit.xml)
    when the playbook ends.
  - A host that was unreachable, failed, or never scanned is never reported compliant.
  - Works the same under C(ansible-playbook), the C(avshift) CLI and AWX/AAP.
requirements:
  - enable with C(callbacks_enabled = avshift.remediation.fleet_report) in ansible.cfg or
    C(ANSIBLE_CALLBACKS_ENABLED)
options:
  report_dir:
    description:
      - Directory for the report files; created when missing.
      - A relative path is relative to the directory C(ansible-playbook) was started in.
      - Defaults to C(reports/<kind>-<UTC time of the start>) under that directory.
    type: path
    env:
      - name: AVSHIFT_REPORT_DIR
    ini:
      - section: avshift
        key: report_dir
"""

import datetime
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract
from ansible_collections.avshift.remediation.plugins.plugin_utils import report as report_writer
from ansible_collections.avshift.remediation.plugins.plugin_utils.task_names import (
    EVIDENCE_ACTIONS,
    SCAN_ACTIONS,
    WINDOW_ACTIONS,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.version import (
    collection_version,
)

_FINDING_KEYS = ("disallowed", "approved", "other", "residue")
_VERDICT_KEYS = ("compliant", *_FINDING_KEYS)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _action(task):
    return getattr(task, "resolved_action", None) or task.action


def _verdict(scan):
    return {key: scan.get(key) for key in _VERDICT_KEYS} if scan else None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "avshift.remediation.fleet_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Where ansible-playbook was started: what a relative report directory means,
        # whatever a runner or a role later does with the working directory.
        self._start_dir = os.getcwd()
        self._started_at = datetime.datetime.now(datetime.timezone.utc)
        self._started = self._started_at.isoformat(timespec="seconds")
        self._playbook = None
        self._kind = "audit"
        self._check_mode = False
        self._first_scans = {}  # host -> first av_scan result (remediation: "before")
        self._scans = {}  # host -> last av_scan result
        self._problems = {}  # host -> (status, message): unreachable or not started
        self._failures = {}  # host -> message of its last failed task
        self._failed_hosts = set()  # hosts the play counted as failed (rescued ones are not)
        self._actions = {}  # host -> evidence events, in order
        self._change = None  # the first change_window result
        self._play_hosts = []  # every host of the play, all batches
        self._deferred_because = None
        self._saw_scan = False
        self._written = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self._kind = play.vars.get("avshift_run_kind", self._kind)
        self._check_mode = bool(context.CLIARGS.get("check"))

    def v2_playbook_on_task_start(self, task, is_conditional):
        if _action(task) in SCAN_ACTIONS:
            self._saw_scan = True

    @staticmethod
    def _message(result):
        if result._task.no_log:
            return "the task failed; its output is hidden (no_log)"
        res = result._result
        return str(res.get("msg") or res.get("stderr") or res.get("reason") or "failed")[:2000]

    def _note_change(self, res):
        self._change = self._change or res
        for host in res.get("play_hosts") or ():
            if host not in self._play_hosts:
                self._play_hosts.append(host)

    def v2_runner_on_ok(self, result):
        host = result._host.get_name()
        action = _action(result._task)
        res = result._result
        if action in SCAN_ACTIONS and "compliant" in res:
            self._first_scans.setdefault(host, res)
            self._scans[host] = res
        elif action in WINDOW_ACTIONS:
            self._note_change(res)
            if res.get("deferred"):
                self._deferred_because = f"not started: {res.get('msg')}"
        elif action in EVIDENCE_ACTIONS:
            self._actions.setdefault(host, []).append(
                {"event": res.get("event"), "at": res.get("at"), "data": res.get("data")}
            )

    def v2_runner_on_failed(self, result, ignore_errors=False):
        host = result._host.get_name()
        action = _action(result._task)
        if action in WINDOW_ACTIONS:
            # A refused change touches no host: every host of the play is not started.
            self._note_change(result._result)
            self._deferred_because = f"not started: {self._message(result)}"
            for name in self._play_hosts or [host]:
                self._problems[name] = ("deferred", self._deferred_because)
        elif action in SCAN_ACTIONS:
            # An ignored scan failure still means the host was not read.
            self._scans.pop(host, None)
            self._failures[host] = self._message(result)
        elif not ignore_errors:
            # The last failure is the one that ended the host (a rescue's own message,
            # such as "left protected by ...", comes after the failure it handled).
            self._failures[host] = self._message(result)

    def v2_runner_on_unreachable(self, result):
        self._problems[result._host.get_name()] = ("unreachable", self._message(result))

    def _host_entry(self, host):
        scan = self._scans.get(host)
        problem = self._problems.get(host)
        if problem is None and host in self._failed_hosts:
            problem = ("failed", self._failures.get(host) or "failed")
        entry = {
            "host": host,
            "status": None,
            "os_family": scan.get("os_family") if scan else None,
            "message": None,
            "duration_seconds": scan.get("scan_seconds") if scan else None,
        }
        for key in _FINDING_KEYS:
            entry[key] = list(scan.get(key) or []) if scan else []
        if problem:
            entry["status"], entry["message"] = problem
        elif scan is None and self._kind == "remediation":
            entry["status"] = "deferred"
            entry["message"] = self._deferred_because or (
                "not started: an earlier batch failed above max_fail_percentage"
            )
        elif scan is None:
            entry["status"], entry["message"] = "failed", "the host was never scanned"
        else:
            entry["status"] = "compliant" if scan["compliant"] else "non-compliant"
        if self._kind == "remediation":
            entry.update(self._remediation_details(host))
        return entry

    def _remediation_details(self, host):
        actions = self._actions.get(host, [])
        plan = next((a["data"] for a in actions if a["event"] == "plan"), None)
        reboot = next((a["data"] for a in reversed(actions) if a["event"] == "reboot"), None)
        return {
            "before": _verdict(self._first_scans.get(host)),
            "after": None if self._check_mode else _verdict(self._scans.get(host)),
            "plan": plan,
            "actions": actions,
            "reboot": (reboot or {}).get("state"),
        }

    def _run_details(self):
        change = self._change or {}
        return {
            "change_id": change.get("change_id"),
            "operator": change.get("operator"),
            "window": change.get("window"),
            "batch": change.get("batch_spec"),
            "max_fail_percentage": change.get("max_fail_percentage"),
            "reboot_policy": change.get("reboot_policy"),
        }

    def _report_dir(self):
        directory = self.get_option("report_dir") or contract.default_report_dir(
            self._kind, self._started_at
        )
        return os.path.join(self._start_dir, directory)

    def v2_playbook_on_stats(self, stats):
        if not self._saw_scan and not self._problems:
            # A run that scanned nothing and refused nothing (a Molecule create or
            # prepare step, another playbook) has nothing to report.
            return
        # A failure that a rescue handled is not a failed host; an ignored scan failure is.
        self._failed_hosts = {host for host, count in stats.failures.items() if count} | {
            host for host in self._failures if host not in self._scans
        }
        hosts = sorted(
            set(stats.processed)
            | set(self._scans)
            | set(self._problems)
            | set(self._failures)
            | set(self._play_hosts)
        )
        entries = [self._host_entry(host) for host in hosts]
        for entry in entries:
            # Proof, per host, that an audit changed nothing.
            entry["changed"] = stats.summarize(entry["host"])["changed"]
        policy = next((scan.get("policy") for scan in self._scans.values()), None)
        inventory = context.CLIARGS.get("inventory") or ()
        run = {
            "started": self._started,
            "ended": _now(),
            "inventory": ", ".join(inventory),
            "playbook": self._playbook,
            "check_mode": self._check_mode,
            "policy": policy,
        }
        if self._kind == "remediation":
            run.update(self._run_details())
        report = {
            "schema": 1,
            "kind": self._kind,
            "tool": {"name": "avshift", "version": collection_version()},
            "run": run,
            "summary": report_writer.summarize(entries),
            "hosts": entries,
        }
        started = time.monotonic()
        directory = self._report_dir()
        try:
            self._written = report_writer.write_reports(report, directory)
        except OSError as exc:
            self._display.error(
                f"{contract.REPORT_WRITE_ERROR} in {directory}: {exc.strerror or exc}"
            )
            return
        self._display.display(
            f"avshift: fleet report written to {os.path.abspath(directory)} "
            f"({time.monotonic() - started:.2f} s)"
        )
