# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run's events say about each host: one pure fold, used by everything.

The fleet_report callback journals the events of a run (journal.py); this module turns
them into each host's status and message and into the fleet report, and the avshift
CLI's progress display asks it the same questions while the run goes on. So a status
is decided once, by the same rules, wherever it is shown.

Events are plain dicts with a `type`:

- `run`: the run starts (playbook, inventory, check_mode, tool_version, ...)
- `play`: a play starts, with the `hosts` it will work on
- `scan`: an av_scan result (`verdict`) for a host
- `failed`: a task failed on a host (`action`, `message`, `ignored`, `rescuable`;
  `scanned` when it is a scan that read the host and failed it for its verdict, which
  a `scan` event just before holds)
- `unreachable`: a host could not be reached (`message`)
- `window`: a change_window result (`result`, `failed` when it refused the run)
- `evidence`: a remediation step of a host (`event`, `at`, `data`)
- `lock`: the host's remediation lock taken (`takeover`: the run it was taken from)
- `stats`: the play recap (`failures`, `changed`, `processed`): the run ended
- `end`: the run ended or was interrupted (`status`)

A host whose outcome the events do not decide when the run stops is `interrupted`: "run
interrupted after <its last step>", or "not started" when the run never reached it.

The run's kind comes from what it did: a change_window task makes it a remediation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ansible_collections.avshift.remediation.plugins.plugin_utils import task_names
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    REPORT_SCHEMA,
)

FINDING_KEYS = ("disallowed", "approved", "other", "residue")
VERDICT_KEYS = ("compliant", *FINDING_KEYS)
# What a scan event keeps of av_scan's result: the verdict and how it was reached.
SCAN_KEYS = (
    "host",
    "os_family",
    *VERDICT_KEYS,
    "unreadable",
    "policy",
    "scan_seconds",
)
NO_LOG_MESSAGE = "the task failed; its output is hidden (no_log)"
_MESSAGE_LIMIT = 2000


def scan_payload(result: Mapping) -> dict:
    """The part of an av_scan result that is journalled (never the raw inventory)."""
    return {key: result[key] for key in SCAN_KEYS if key in result}


def failure_message(result: Mapping, no_log: bool) -> str:
    if no_log:
        return NO_LOG_MESSAGE
    text = result.get("msg") or result.get("stderr") or result.get("reason") or "failed"
    return str(text)[:_MESSAGE_LIMIT]


def classify_result(action: str) -> str | None:
    """Which kind of event a task's result is, by the task's action (None: any task)."""
    if action in task_names.SCAN_ACTIONS:
        return "scan"
    if action in task_names.WINDOW_ACTIONS:
        return "window"
    if action in task_names.EVIDENCE_ACTIONS:
        return "evidence"
    if action in task_names.LOCK_ACTIONS:
        return "lock"
    return None


@dataclass
class HostRecord:
    """Everything the run's events said about one host, in the order they came."""

    name: str
    first_scan: dict | None = None
    scan: dict | None = None  # the last one
    problem: tuple[str, str] | None = None  # (status, message): unreachable, deferred
    failure: str | None = None  # the message of its last failure
    failed_scan: bool = False  # its last scan failed (also when the failure was ignored)
    rescuable_failure: bool = False  # the last failure may still be rescued
    actions: list[dict] = field(default_factory=list)
    seen: bool = False  # any event for the host at all
    verified: bool = False
    # The last scan after the plan was recorded: the host as the remediation left it.
    scan_after_plan: dict | None = None
    last_step: str | None = None  # what it last did, for an interrupted run's report


class RunFold:
    """Folds a run's events, one at a time, into what they mean per host."""

    def __init__(self) -> None:
        self.run: dict = {}
        self.hosts: dict[str, HostRecord] = {}
        self.play_hosts: list[str] = []
        self.change: dict | None = None
        self.deferred_because: str | None = None
        self.stats: dict | None = None
        self.end: dict | None = None
        self.saw_scan = False
        self.last_at: str | None = None
        self.batch_hosts: list[str] = []  # the batch under way (remediation)

    # -- reading events -----------------------------------------------------------

    def add_all(self, events: Iterable[Mapping]) -> RunFold:
        for event in events:
            self.add(event)
        return self

    def host(self, name: str) -> HostRecord:
        record = self.hosts.get(name)
        if record is None:
            record = self.hosts[name] = HostRecord(name)
        return record

    def _note_hosts(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self.play_hosts:
                self.play_hosts.append(name)
            self.host(name)

    def add(self, event: Mapping) -> None:
        kind = event.get("type")
        self.last_at = event.get("at") or self.last_at
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(event)

    def _on_run(self, event: Mapping) -> None:
        self.run = dict(event)

    def _on_play(self, event: Mapping) -> None:
        self._note_hosts(event.get("hosts") or ())

    def _on_scan(self, event: Mapping) -> None:
        record = self.host(event["host"])
        record.seen = True
        verdict = dict(event.get("verdict") or {})
        self.saw_scan = True
        record.last_step = "its first scan" if record.first_scan is None else "a scan"
        if record.first_scan is None:
            record.first_scan = verdict
        record.scan = verdict
        record.failed_scan = False
        if any(action["event"] == "plan" for action in record.actions):
            record.scan_after_plan = verdict

    def _on_scan_started(self, event: Mapping) -> None:
        self.saw_scan = True

    def _on_failed(self, event: Mapping) -> None:
        record = self.host(event["host"])
        record.seen = True
        message = event.get("message") or "failed"
        record.last_step = f"a failed task ({event.get('task') or event.get('action')})"
        if classify_result(event.get("action") or "") == "scan" and not event.get("scanned"):
            # An ignored scan failure still means the host was not read.
            record.scan = None
            record.scan_after_plan = None
            record.failed_scan = True
            record.failure = message
            record.rescuable_failure = bool(event.get("rescuable"))
        elif not event.get("ignored"):
            # The last failure is the one that ended the host: a rescue's own message
            # ("left protected by ...") comes after the failure it handled.
            record.failure = message
            record.rescuable_failure = bool(event.get("rescuable"))

    def _on_unreachable(self, event: Mapping) -> None:
        record = self.host(event["host"])
        record.seen = True
        record.problem = ("unreachable", event.get("message") or "unreachable")

    def _on_window(self, event: Mapping) -> None:
        result = event.get("result") or {}
        if self.change is None:
            self.change = dict(result)
        self._note_hosts(result.get("play_hosts") or ())
        if result.get("mode") != "report" and result.get("batch"):
            # A new batch: the hosts of the one before are done, their failures final.
            for name in self.batch_hosts:
                self.host(name).rescuable_failure = False
            self.batch_hosts = list(result["batch"])
        if event.get("failed"):
            # A refused change touches no host: every host of the play is not started.
            self.deferred_because = f"not started: {result.get('msg') or 'refused'}"
            for name in self.play_hosts or [event.get("host")]:
                self.host(name).problem = ("deferred", self.deferred_because)
        elif result.get("deferred"):
            self.deferred_because = f"not started: {result.get('msg')}"
            for name in result.get("batch") or [event.get("host")]:
                self.host(name).problem = ("deferred", self.deferred_because)

    def _on_evidence(self, event: Mapping) -> None:
        record = self.host(event["host"])
        record.seen = True
        action = {"event": event.get("event"), "at": event.get("at"), "data": event.get("data")}
        record.actions.append(action)
        record.last_step = _STEP_WORDS.get(event.get("event"), str(event.get("event")))
        if event.get("event") == "verified":
            record.verified = True

    def _on_lock(self, event: Mapping) -> None:
        """A host's lock taken over from a run that is gone: the run this one continues."""
        takeover = event.get("takeover")
        if takeover:
            record = self.host(event["host"])
            record.seen = True
            record.actions.append({"event": "takeover", "at": event.get("at"), "data": takeover})

    def _on_stats(self, event: Mapping) -> None:
        self.stats = dict(event)
        self._note_hosts(event.get("processed") or ())

    def _on_end(self, event: Mapping) -> None:
        self.end = dict(event)

    # -- what the events mean -------------------------------------------------------

    @property
    def kind(self) -> str:
        return "remediation" if self.change is not None else "audit"

    @property
    def check_mode(self) -> bool:
        return bool(self.run.get("check_mode"))

    @property
    def ended(self) -> bool:
        return self.stats is not None

    def has_anything_to_report(self) -> bool:
        """A run that scanned nothing and refused nothing (a Molecule create or prepare
        step, another playbook) has nothing to report."""
        return self.saw_scan or any(r.problem for r in self.hosts.values())

    def _failed(self, record: HostRecord) -> bool:
        if self.stats is not None:
            failures = self.stats.get("failures") or {}
            # A failure that a rescue handled is not a failed host; an ignored scan
            # failure is.
            return bool(failures.get(record.name)) or record.failed_scan
        return record.failure is not None and not record.rescuable_failure

    def status(self, name: str, final: bool = False) -> tuple[str | None, str | None]:
        """(status, message) of a host, or (None, None) while nothing decides it yet.

        final: the run is over (a report is being written), so a host nothing decided
        was interrupted.
        """
        record = self.host(name)
        if record.problem:
            return record.problem
        if self._failed(record):
            return "failed", record.failure or "failed"
        if final and not self.ended and self._undecided(record):
            return "interrupted", self._interrupted_message(record)
        scan = record.scan
        if self.kind == "remediation":
            if not self.ended and not record.verified:
                return None, None
            if scan is None:
                # Never scanned and never refused: its batch was not started.
                return "deferred", self.deferred_because or (
                    "not started: an earlier batch failed above max_fail_percentage"
                )
        elif scan is None:
            if not self.ended:
                return None, None
            return "failed", "the host was never scanned"
        return ("compliant" if scan.get("compliant") else "non-compliant"), None

    def _undecided(self, record: HostRecord) -> bool:
        if self.kind == "remediation":
            return not record.verified
        return record.scan is None or record.rescuable_failure

    @staticmethod
    def _interrupted_message(record: HostRecord) -> str:
        if not record.seen:
            return "not started: the run was interrupted before it reached this host"
        message = f"run interrupted after {record.last_step or 'its first step'}"
        if record.rescuable_failure and record.failure:
            message += f": {record.failure}"
        return message

    @property
    def completion(self) -> str:
        """How the run ended: what the report says of it."""
        if self.ended:
            return "completed"
        if self.end is not None:
            return "interrupted"
        return "stopped without an end record (killed, or the controller stopped)"

    def progress(self, name: str) -> tuple[str, str] | None:
        """What the progress display shows for a host once its outcome is known."""
        record = self.host(name)
        if self.kind == "remediation" and not record.problem and not self._failed(record):
            plan = next((a["data"] for a in record.actions if a["event"] == "plan"), None)
            if (
                plan is not None
                and not record.verified
                and (self.check_mode or not (plan.get("install") or plan.get("remove")))
            ):
                removals = ", ".join(i.get("name", "?") for i in plan.get("remove") or [])
                planned = [f"install {plan['install']}"] if plan.get("install") else []
                planned += [f"remove {removals}"] if removals else []
                return "planned", "; ".join(planned) or "nothing to do"
        status, message = self.status(name)
        if status is None:
            return None
        if status == "non-compliant" and record.scan:
            names = ", ".join(i.get("name", "?") for i in record.scan.get("disallowed", []))
            return status, names
        return status, message or ""

    # -- the fleet report -----------------------------------------------------------

    def _entry(self, name: str) -> dict:
        record = self.host(name)
        scan = record.scan
        status, message = self.status(name, final=True)
        if status is None:  # the run ended without deciding: nobody checked this host
            status, message = "failed", "the host was never scanned"
        entry = {
            "host": name,
            "status": status,
            "os_family": scan.get("os_family") if scan else None,
            "message": message,
            "duration_seconds": scan.get("scan_seconds") if scan else None,
        }
        for key in FINDING_KEYS:
            entry[key] = list(scan.get(key) or []) if scan else []
        if scan and scan.get("unreadable"):
            entry["unreadable"] = list(scan["unreadable"])
        if self.kind == "remediation":
            entry.update(self._remediation_details(record))
        changed = (self.stats or {}).get("changed") or {}
        # Proof, per host, that an audit changed nothing.
        entry["changed"] = changed.get(name, 0)
        return entry

    def _remediation_details(self, record: HostRecord) -> dict:
        actions = record.actions
        plan = next((a["data"] for a in actions if a["event"] == "plan"), None)
        reboot = next((a["data"] for a in reversed(actions) if a["event"] == "reboot"), None)
        details = {
            "before": _verdict(record.first_scan),
            "after": None,
            "plan": plan,
            "actions": actions,
            "reboot": (reboot or {}).get("state"),
        }
        if self.check_mode:
            return details
        planned = bool(plan and (plan.get("install") or plan.get("remove")))
        touched = planned and not plan.get("held")
        if record.scan_after_plan is not None:
            details["after"] = _verdict(record.scan_after_plan)
        elif not touched:
            # Nothing was to be changed, or the host was refused before any change: as it was.
            details["after"] = _verdict(record.scan)
        else:
            # A host that may have changed and was not scanned again is not shown as it
            # was before: its state after is unknown, and the report says why.
            status, message = self.status(record.name, final=True)
            details["after_unknown"] = (
                f"not scanned after remediation: {message or status or 'the run stopped first'}"
            )
        return details

    def _run_section(self) -> dict:
        policy = next(
            (r.scan.get("policy") for r in self.hosts.values() if r.scan and r.scan.get("policy")),
            None,
        )
        run = {
            "started": self.run.get("started"),
            "ended": (self.end or {}).get("at") or self.last_at,
            "inventory": ", ".join(self.run.get("inventory") or ()),
            "limit": self.run.get("limit"),
            "playbook": self.run.get("playbook"),
            "check_mode": self.check_mode,
            "policy": policy,
            "completion": self.completion,
        }
        if self.kind == "remediation":
            change = self.change or {}
            run.update(
                change_id=change.get("change_id"),
                operator=change.get("operator"),
                os_account=change.get("os_account"),
                change_id_pattern=change.get("change_id_pattern"),
                confirmation=change.get("confirmation"),
                window=change.get("window"),
                batch=change.get("batch_spec"),
                max_fail_percentage=change.get("max_fail_percentage"),
                reboot_policy=change.get("reboot_policy"),
            )
        return run

    def report(self, summarize) -> dict:
        """The fleet report, in the shape the report writer takes."""
        names = sorted(self.hosts)
        entries = [self._entry(name) for name in names]
        return {
            "schema": REPORT_SCHEMA,
            "kind": self.kind,
            "tool": {"name": "avshift", "version": self.run.get("tool_version")},
            "run": self._run_section(),
            "summary": summarize(entries),
            "hosts": entries,
        }


# What a remediation's evidence event says the host last did.
_STEP_WORDS = {
    "plan": "planning",
    "installed": "installing the replacement",
    "removed": "removing the disallowed products",
    "reboot": "the reboot step",
    "changes": "its scan after remediation",
    "verified": "its final scan",
}


def _verdict(scan: Mapping | None) -> dict | None:
    return {key: scan.get(key) for key in VERDICT_KEYS} if scan else None
