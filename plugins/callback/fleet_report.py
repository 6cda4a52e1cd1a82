# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: fleet_report
type: notification
short_description: Journal a run and write the avshift fleet report (JSON, CSV, HTML, JUnit)
version_added: 0.1.0
description:
  - Appends every M(avshift.remediation.av_scan) result, every remediation evidence event,
    every change-window decision and every unreachable or failed host to C(journal.jsonl)
    in the report directory the moment it happens (one JSON line each, fsynced,
    hash-chained), and at the end of the run renders C(report.json), C(report.csv),
    C(report.html), C(report.junit.xml) and C(SHA256SUMS) from that journal.
  - A host that was unreachable, failed, or never scanned is never reported compliant.
  - Works the same under C(ansible-playbook), the C(avshift) CLI and AWX/AAP.
  - A report directory that already holds a run is kept, renamed to
    C(<dir>.<its start time>-<its run id>) first, so evidence is never overwritten.
requirements:
  - enable with C(callbacks_enabled = avshift.remediation.fleet_report) in ansible.cfg or
    C(ANSIBLE_CALLBACKS_ENABLED)
options:
  report_dir:
    description:
      - Directory for the journal and the report files; created when missing.
      - A relative path is relative to the directory C(ansible-playbook) was started in.
      - Defaults to C(reports/<kind>-<UTC time of the start>) under that directory.
    type: path
    env:
      - name: AVSHIFT_REPORT_DIR
    ini:
      - section: avshift
        key: report_dir
  report_mode:
    description:
      - The permissions (octal) of a report directory the callback creates; its files
        take the same without the execute bits. The default, C(0700), keeps the reports,
        which name every host and what runs on it, to the user who ran the playbook;
        C(0750) shares them with the group. A mode others could write is refused.
    type: str
    env:
      - name: AVSHIFT_REPORT_MODE
    ini:
      - section: avshift
        key: report_mode
  history:
    description:
      - The history store every run is recorded in, and whose last run of the same
        inventory and limit each report is compared with (drift).
      - A path is a SQLite file (default C($XDG_DATA_HOME/avshift/history.sqlite), else
        C(~/.local/share/avshift/history.sqlite), mode 0600); a URL such as
        C(postgresql://avshift@db.example.org/avshift) is a PostgreSQL database, whose
        password comes from C(PGPASSWORD), C(~/.pgpass) or a service file, never from the
        URL. C(off) records nothing.
      - Needs SQLAlchemy and Alembic (psycopg for PostgreSQL) beside ansible-core; without
        them the run says so in one warning and writes its reports as before.
    type: str
    env:
      - name: AVSHIFT_HISTORY
    ini:
      - section: avshift
        key: history
  stale_days:
    description: A host not audited for this many days (default 30) is listed as stale.
    type: int
    env:
      - name: AVSHIFT_STALE_DAYS
    ini:
      - section: avshift
        key: stale_days
  history_retention_days:
    description: Runs older than this many days are removed from the store when a run is recorded.
    type: int
    env:
      - name: AVSHIFT_HISTORY_RETENTION_DAYS
    ini:
      - section: avshift
        key: history_retention_days
  syslog:
    description:
      - Also send every journal event, as its one JSON line, to syslog (facility user,
        tag C(avshift)), for sites that forward it to a SIEM.
      - C(true) or C(1) sends to the local syslog socket C(/dev/log) (journald or
        rsyslog); a path sends to that Unix socket instead. Empty or C(false) sends nothing.
    type: str
    env:
      - name: AVSHIFT_SYSLOG
    ini:
      - section: avshift
        key: syslog
"""

import atexit
import datetime
import getpass
import logging
import logging.handlers
import os
import socket
import stat
import uuid

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract, record
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import (
    JOURNAL_NAME,
    JournalWriter,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import (
    RunFold,
    classify_result,
    failure_message,
    scan_payload,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.version import (
    collection_version,
)

# The ansible-core 2.19+ names of a task result's parts, and the older private ones.
_PARTS = {"host": "_host", "task": "_task", "result": "_result"}


def _part(result, name):
    value = getattr(result, name, None)
    return value if value is not None else getattr(result, _PARTS[name])


def _action(task):
    return getattr(task, "resolved_action", None) or task.action


def _rescuable(task):
    """Whether a block with a rescue encloses the task: its failure may yet be handled."""
    parent = getattr(task, "_parent", None)
    while parent is not None:
        if getattr(parent, "rescue", None):
            return True
        parent = getattr(parent, "_parent", None)
    return False


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
        self._run_id = str(uuid.uuid4())
        self._pid = os.getpid()
        # Every task's process inherits these: host_lock names this run in the host's lock.
        os.environ[contract.RUN_ENVIRONMENT["run_id"]] = self._run_id
        os.environ[contract.RUN_ENVIRONMENT["pid"]] = str(self._pid)
        self._fold = RunFold()
        # Events wait here until the run does something worth a record (a scan or a
        # change window): a Molecule create step or another playbook leaves no journal.
        self._pending = []
        self._journal = None
        self._journal_failed = None
        self._directory = None
        self._finished = False

    # -- the journal ----------------------------------------------------------------

    def _report_dir(self, kind):
        directory = self.get_option("report_dir") or contract.default_report_dir(
            kind, self._started_at
        )
        return os.path.join(self._start_dir, directory)

    def _open_journal(self):
        # The run's kind from what it has done so far: a change window is a remediation.
        windows = any(event["type"] == "window" for event in self._pending)
        directory = self._report_dir("remediation" if windows else self._fold.kind)
        try:
            if os.path.exists(os.path.join(directory, JOURNAL_NAME)):
                record.keep_aside(directory)
            if not os.path.isdir(directory):
                os.makedirs(os.path.dirname(directory) or ".", exist_ok=True)
                os.mkdir(directory)
                # Exactly this mode, whatever the umask: the reports name every host.
                os.chmod(directory, self._report_mode())
            self._journal = JournalWriter(
                os.path.join(directory, JOURNAL_NAME),
                self._run_id,
                mode=contract.file_mode(stat.S_IMODE(os.stat(directory).st_mode)),
                mirror=self._syslog(),
            )
        except OSError as exc:
            self._journal_broken(directory, exc)
            return
        self._directory = directory
        os.environ[contract.RUN_ENVIRONMENT["report_dir"]] = directory
        # Ended or interrupted, the journal says so, and the reports are written.
        atexit.register(self._at_exit)

    def _report_mode(self):
        text = str(self.get_option("report_mode") or "").strip()
        if not text:
            return contract.REPORT_DIR_MODE
        try:
            return contract.parse_mode(text)
        except ValueError:
            self._display.warning(
                f"avshift: report_mode {text!r} is not an octal mode with the owner's rwx "
                f"that others cannot write; using {contract.REPORT_DIR_MODE:o}"
            )
            return contract.REPORT_DIR_MODE

    def _syslog(self):
        """A sender of journal lines to syslog, or None when the option is off."""
        target = str(self.get_option("syslog") or "").strip()
        if target.lower() in ("", "0", "false", "no", "off"):
            return None
        address = "/dev/log" if target.lower() in ("1", "true", "yes", "on") else target
        try:
            handler = logging.handlers.SysLogHandler(
                address=address, facility=logging.handlers.SysLogHandler.LOG_USER
            )
        except OSError as exc:
            # The journal is the record; syslog is a copy for others to collect.
            self._display.warning(f"avshift: no syslog at {address}: {exc.strerror or exc}")
            return None
        handler.ident = "avshift: "

        def send(line):
            record = logging.LogRecord("avshift", logging.INFO, __file__, 0, line, None, None)
            handler.emit(record)

        return send

    def _journal_broken(self, directory, exc):
        self._journal_failed = f"{directory}: {exc.strerror or exc}"
        self._display.error(f"{contract.JOURNAL_WRITE_ERROR} in {self._journal_failed}")

    def _record(self, event_type, **payload):
        event = {"type": event_type, **payload}
        if self._journal_failed:
            return
        if self._journal is None:
            self._pending.append(event)
            if event_type not in ("scan_started", "window", "scan", "unreachable"):
                return
            self._open_journal()
            if self._journal is None:
                return
            pending, self._pending = self._pending, []
        else:
            pending = [event]
        for item in pending:
            try:
                written = self._journal.append(item.pop("type"), **item)
            except OSError as exc:
                self._journal_broken(self._directory, exc)
                return
            self._fold.add(written)

    # -- Ansible's events -------------------------------------------------------------

    def _history_options(self):
        return record.HistoryOptions(
            choice=self.get_option("history"),
            stale_days=self.get_option("stale_days"),
            retention_days=self.get_option("history_retention_days"),
        )

    def v2_playbook_on_start(self, playbook):
        self._record(
            "run",
            started=self._started_at.isoformat(timespec="seconds"),
            playbook=os.path.basename(playbook._file_name),
            inventory=list(context.CLIARGS.get("inventory") or ()),
            limit=context.CLIARGS.get("subset"),
            check_mode=bool(context.CLIARGS.get("check")),
            tool_version=collection_version(),
            controller=socket.gethostname(),
            pid=self._pid,
            user=getpass.getuser(),
            history=self._history_options().as_event(),
        )

    def v2_playbook_on_play_start(self, play):
        hosts = []
        # The play's hosts (the limit applied), so that hosts the run never reached are
        # reported too; ansible-core offers no public way to them in a callback.
        inventory = getattr(play.get_variable_manager(), "_inventory", None)
        if inventory is not None:
            hosts = [host.get_name() for host in inventory.get_hosts(play.hosts)]
        self._record("play", name=play.get_name(), hosts=hosts)

    def v2_playbook_on_task_start(self, task, is_conditional):
        if classify_result(_action(task)) == "scan" and not self._fold.saw_scan:
            self._record("scan_started")

    def v2_runner_on_ok(self, result):
        host = _part(result, "host").get_name()
        res = _part(result, "result")
        kind = classify_result(_action(_part(result, "task")))
        if kind == "scan" and "compliant" in res:
            self._record("scan", host=host, verdict=scan_payload(res))
        elif kind == "window":
            self._record("window", host=host, failed=False, result=_window(res))
        elif kind == "lock" and res.get("takeover"):
            self._record("lock", host=host, takeover=res["takeover"])
        elif kind == "evidence":
            self._record(
                "evidence",
                host=host,
                event=res.get("event"),
                at=res.get("at"),
                data=res.get("data"),
            )

    def v2_runner_on_failed(self, result, ignore_errors=False):
        host = _part(result, "host").get_name()
        task = _part(result, "task")
        res = _part(result, "result")
        action = _action(task)
        message = failure_message(res, bool(task.no_log))
        kind = classify_result(action)
        if kind == "window":
            self._record("window", host=host, failed=True, result={**_window(res), "msg": message})
            return
        # A scan that read the host and failed it for not being compliant
        # (fail_when_non_compliant) still has its verdict.
        scanned = kind == "scan" and "compliant" in res
        if scanned:
            self._record("scan", host=host, verdict=scan_payload(res))
        self._record(
            "failed",
            host=host,
            task=task.get_name(),
            action=action,
            message=message,
            ignored=bool(ignore_errors),
            rescuable=_rescuable(task),
            **({"scanned": True} if scanned else {}),
        )

    def v2_runner_on_unreachable(self, result):
        task = _part(result, "task")
        message = failure_message(_part(result, "result"), bool(task.no_log))
        self._record("unreachable", host=_part(result, "host").get_name(), message=message)

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed)
        self._record(
            "stats",
            processed=hosts,
            failures={host: stats.failures.get(host, 0) for host in hosts},
            changed={host: stats.summarize(host)["changed"] for host in hosts},
        )
        self._finish("ended")

    def _at_exit(self):
        # Forked workers inherit atexit handlers; only the run's own process writes.
        if os.getpid() == self._pid and not self._finished:
            self._finish("interrupted")

    def _finish(self, status):
        if self._finished or self._journal is None or self._journal_failed:
            return
        self._finished = True
        self._record("end", status=status)
        if self._journal_failed:
            return
        self._journal.close()
        try:
            # From the journal read back, as `avshift report` would: one source of truth.
            rendered = record.render(self._directory, self._history_options())
            written = rendered.paths
        except OSError as exc:
            self._display.error(
                f"{contract.REPORT_WRITE_ERROR} in {self._directory}: {exc.strerror or exc}"
            )
            return
        for warning in rendered.warnings:
            self._display.warning(f"avshift: {warning}")
        self._display.display(
            f"avshift: fleet report written to {os.path.dirname(written['json'])}"
        )


def _window(res):
    keys = (
        "change_id",
        "window",
        "window_state",
        "operator",
        "os_account",
        "change_id_pattern",
        "confirmation",
        "play_hosts",
        "batch",
        "deferred",
        "batch_spec",
        "max_fail_percentage",
        "reboot_policy",
        "mode",
        "msg",
    )
    return {key: res[key] for key in keys if key in res}
