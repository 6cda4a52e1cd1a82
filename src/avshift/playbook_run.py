"""Run one of the collection's playbooks through ansible-runner, with progress on stderr.

The playbook does the work and the fleet_report callback writes the reports; this
module only starts them, shows progress and reads the summary back.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import importlib.util
import json
import os
import secrets
import shlex
import signal
import stat
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import rich.console
import rich.progress
import rich.table
import rich.text
import yaml

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract, record
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    JOURNAL_WRITE_ERROR,
    REPORT_WRITE_ERROR,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import JOURNAL_NAME
from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import RunFold
from ansible_collections.avshift.remediation.plugins.plugin_utils.record import journal_path

# ansible-playbook's exit codes for input it refused before running anything: a parser
# error (4) and bad options (5); see ansible's cli/__init__.py.
_ANSIBLE_REFUSED_INPUT = frozenset((4, 5))
# How much the report directory must take before a run starts: a report of a small
# fleet, so that a nearly full disk is found before any host is touched.
_PROBE_BYTES = 256 * 1024


class UsageError(Exception):
    """Bad input found before anything ran: exit 2."""


def inline_extra_vars(text: str) -> dict:
    """The variables of an inline -e value, read as ansible-playbook reads them
    (ansible's utils/vars.py, load_extra_vars): YAML or JSON when it starts with { or [,
    key=value pairs otherwise. Errors never repeat the value: it may be a secret."""
    from ansible.parsing.splitter import parse_kv

    if text[:1] in ("{", "["):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (column {mark.column + 1})" if mark is not None else ""
            raise UsageError(f"an inline -e value is not valid YAML or JSON{where}") from None
    elif text[:1] in ("/", "."):
        raise UsageError("an inline -e value looks like a file: give it as -e @FILE")
    else:
        try:
            data = parse_kv(text)
        except Exception:  # ansible's AnsibleParserError: unbalanced quotes and the like
            raise UsageError("an inline -e value is not valid key=value pairs") from None
        if "_raw_params" in data:
            raise UsageError(
                "an inline -e value holds a word that is not key=value: give key=value "
                "pairs, YAML or JSON, or @FILE"
            )
    if not isinstance(data, dict):
        raise UsageError("an inline -e value must be a mapping of variable names to values")
    return data


def _extra_var_files(extra_vars: list[str], private: Path) -> list[str]:
    """ansible-playbook's -e arguments: files as they are, and each inline value written
    to a file of the run's private directory (0700, removed after the run), in the order
    given, so that no value is on a command line (the process list, runner's artifacts)."""
    arguments = []
    for number, value in enumerate(extra_vars):
        if not value.startswith("@"):
            path = private / f"extravars-{number}.json"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                json.dump(inline_extra_vars(value), stream, ensure_ascii=False, default=str)
            value = f"@{path}"
        arguments += ["-e", value]
    return arguments


class ToolError(Exception):
    """avshift itself cannot do its job (exit 4): the message says what and what to do."""


def prepare_report_dir(
    path: Path, force_new: bool = False, mode: int = contract.REPORT_DIR_MODE
) -> tuple[Path, int]:
    """The report directory, absolute, created, proven writable and locked for this run
    before any host: (path, the descriptor that holds its lock while the run lasts).

    A directory that holds a run already is refused (exit 2) unless force_new moves it
    aside; one that another avshift run is writing to is refused whatever force_new says.
    """
    path = Path(os.path.abspath(path))
    hint = "give another --report-dir"
    if path.exists() and not path.is_dir():
        raise ToolError(f"report directory {path}: exists and is not a directory; {hint}")
    if (path / JOURNAL_NAME).exists():
        _refuse_if_in_use(path)
        if not force_new:
            raise UsageError(
                f"report directory {path} already holds a run: its evidence is never "
                f"overwritten; {hint}, or --force-new to keep that run aside"
            )
        kept = record.keep_aside(path)
        print(f"avshift: the run that was in {path} is kept in {kept}", file=sys.stderr)
    try:
        if not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir()
            # Exactly the mode chosen, whatever the umask: the reports name every host.
            os.chmod(path, mode)
    except OSError as exc:
        raise ToolError(
            f"report directory {path}: cannot create it: {exc.strerror or exc}; {hint}"
        ) from None
    probe = path / f".avshift-probe-{secrets.token_hex(4)}"
    try:
        with open(probe, "wb") as stream:
            stream.write(b"\0" * _PROBE_BYTES)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as exc:
        raise ToolError(
            f"report directory {path}: not writable: {exc.strerror or exc}; "
            f"free space or fix its permissions, or {hint}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return path, _lock(path)


def _lock(path: Path) -> int:
    """flock on the directory itself: two runs never write one directory at once."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise UsageError(
            f"report directory {path} is in use by another avshift run; give another --report-dir"
        ) from None
    return fd


def _refuse_if_in_use(path: Path) -> None:
    os.close(_lock(path))


def collection_root() -> Path:
    spec = importlib.util.find_spec("ansible_collections.avshift.remediation")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "the avshift.remediation collection is not importable; install it "
            "(ansible-galaxy collection install) or run bin/avshift from a checkout"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _check_limit(manager, limit: str) -> None:
    """Every entry of a --limit (each line of an @file, as ansible-playbook reads it) must
    match a host of the inventory: a typo would leave a host out of the change silently."""
    from ansible.inventory.manager import split_host_pattern

    if limit.startswith("@"):
        try:
            text = Path(limit[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            # ansible-core's own message names the file as a bytes literal (b'...').
            raise UsageError(f"--limit {limit}: {exc.strerror.lower()}") from None
        entries = [line.strip() for line in text.splitlines() if line.strip()]
        if not entries:
            raise UsageError(f"--limit {limit}: the file names no host")
    else:
        entries = split_host_pattern(limit)
    from ansible import constants

    names = sorted({host.name for host in manager.get_hosts("all")} | set(manager.groups))
    # The error below says it better than ansible-core's "Could not match" warning.
    warned, constants.HOST_PATTERN_MISMATCH = constants.HOST_PATTERN_MISMATCH, "ignore"
    try:
        unmatched = [e for e in entries if e.lstrip("!&") and not manager.get_hosts(e.lstrip("!&"))]
    finally:
        constants.HOST_PATTERN_MISMATCH = warned
    if unmatched:
        close = difflib.get_close_matches(unmatched[0].lstrip("!&"), names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"--limit: {unmatched[0]!r} matches no host of the inventory{hint}")


def count_hosts(inventory: list[str], limit: str | None) -> int:
    """Parse the inventory the way ansible-playbook will, to validate it and size progress."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.display import Display

    Display().verbosity = 0
    # Warnings about an empty or unparsable inventory would only repeat the error below.
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
    manager = InventoryManager(loader=DataLoader(), sources=list(inventory))
    if limit:
        _check_limit(manager, limit)
        manager.subset(limit)
    hosts = manager.get_hosts("all")
    if not hosts:
        where = f" matching --limit {limit!r}" if limit else ""
        raise UsageError(f"inventory {', '.join(inventory)}: no hosts{where}")
    return len(hosts)


class JournalTail:
    """Reads a run's journal as the callback writes it, one complete line at a time."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0
        self._partial = b""

    def new_events(self) -> list[dict]:
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self._offset)
                chunk = stream.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                events.append(json.loads(line.decode("utf-8", "surrogateescape")))
        return events


# The step a running host is at, as the live view shows it beside the host: the first
# entry whose action, role or task file is the task ansible-runner says the host has
# started. Actions, roles and files rather than task names, which are sentences that
# change with their wording; a task that matches none (recording evidence, setting a
# fact) leaves the host at the step it was at.
STEPS = (
    ("reboot", "action", ("ansible.builtin.reboot", "ansible.windows.win_reboot")),
    ("reboot", "file", ("reboot.yml",)),
    ("scan", "action", ("avshift.remediation.av_scan",)),
    ("residue", "file", ("residue.yml",)),
    ("install", "role", ("avshift.remediation.install",)),
    ("remove", "role", ("avshift.remediation.uninstall",)),
    ("plan", "file", ("plan.yml",)),
    ("lock", "action", ("avshift.remediation.host_lock",)),
)


def step_of(event_data: dict) -> str | None:
    """The step (STEPS) of the task an ansible-runner event is about, None for no step."""
    path = str(event_data.get("task_path") or "")
    task = {
        "action": event_data.get("resolved_action") or event_data.get("task_action"),
        # resolved_role is the role's full name when the task was given a shorter one.
        "role": event_data.get("resolved_role") or event_data.get("role"),
        "file": os.path.basename(path.rsplit(":", 1)[0]) if path else None,
    }
    return next((step for step, key, values in STEPS if task[key] in values), None)


# The live view's colour for a status; its shape (contract.Status.symbol) is shown beside
# it, so that no status depends on telling colours apart.
_STATUS_STYLES = {
    "compliant": "green",
    "non-compliant": "red",
    "failed": "bold red",
    "unreachable": "yellow",
    "deferred": "cyan",
    "interrupted": "magenta",
}
# Running hosts the live view lists; the rest are counted, so the view fits a terminal.
_RUNNING_SHOWN = 10


@dataclass
class Progress:
    """Shows the run as it goes: on a terminal a live view (hosts done / total, per
    status, the time, each running host's step) under a line per finished host;
    elsewhere only the line per host, as its outcome becomes known.

    The outcome of a host is the one the fleet report gives it: both fold the run's
    journal with the same rules (outcome.RunFold).
    """

    total: int
    stream: object = sys.stderr
    done: dict = field(default_factory=dict)  # host -> status, once its outcome is known
    steps: dict = field(default_factory=dict)  # host -> step (or None), while it runs
    started_hosts: set = field(default_factory=set)  # any host the playbook reached
    fold: RunFold = field(default_factory=RunFold)
    tail: JournalTail | None = None
    # Set when the callback says it cannot keep the record: the run is stopped.
    journal_error: str | None = None
    # The live view draws from its own thread while events come in on this one.
    lock: threading.Lock = field(default_factory=threading.Lock)
    view: _LiveView | None = None

    @property
    def interactive(self) -> bool:
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    @contextlib.contextmanager
    def showing(self, clock=None):
        """The live view for as long as the block runs, on a terminal; rich redraws it
        on a thread of its own, so the clock goes on through a 300-second install."""
        if not self.interactive:
            yield self
            return
        self.view = _LiveView(self, clock)
        try:
            with self.view:
                yield self
        finally:
            self.view = None

    def line(self, host: str, status: str, detail: str = "") -> str:
        """A finished host, in full: a failed host's reason is what the operator acts on."""
        suffix = f" ({_one_line(detail)})" if detail else ""
        return f"[{len(self.done)}/{self.total}] {host}: {status}{suffix}"

    def host_done(self, host: str, status: str, detail: str = "") -> None:
        if host in self.done:
            return
        with self.lock:
            self.done[host] = status
            self.steps.pop(host, None)
        if self.view is not None:
            self.view.host_done(self.line(host, status, detail), status, len(self.done))
            return
        self.stream.write(self.line(host, status, detail) + "\n")
        self.stream.flush()

    def handle(self, event: dict) -> bool:
        """ansible-runner's event handler: each event is a moment to read the journal."""
        data = event.get("event_data") or {}
        host = data.get("host")
        kind = str(event.get("event", ""))
        if host and kind.startswith("runner_"):
            self.started_hosts.add(host)
        if host and kind == "runner_on_start" and host not in self.done:
            step = step_of(data)
            with self.lock:
                if step is not None or host not in self.steps:
                    self.steps[host] = step
        if JOURNAL_WRITE_ERROR in str(event.get("stdout") or ""):
            self.journal_error = _short(event["stdout"].split(JOURNAL_WRITE_ERROR, 1)[1])
        self.catch_up()
        return True

    def catch_up(self) -> None:
        if self.tail is None:
            return
        for event in self.tail.new_events():
            self.fold.add(event)
        for name in list(self.fold.hosts):
            if name not in self.done:
                shown = self.fold.progress(name)
                if shown is not None:
                    self.host_done(name, *shown)


class _LiveView(rich.progress.Progress):
    """The terminal's live view: rich's bar with the hosts done / total and the elapsed
    time, then the hosts per status and the running hosts with their steps."""

    def __init__(self, progress: Progress, clock=None):
        # Set first: rich's Live renders the view once as it is made.
        self.state = progress
        super().__init__(
            rich.progress.SpinnerColumn(),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TextColumn("hosts"),
            rich.progress.TimeElapsedColumn(),
            console=rich.console.Console(file=progress.stream, highlight=False),
            refresh_per_second=4,
            get_time=clock,
        )
        self.hosts = self.add_task("hosts", total=max(progress.total, 1))

    def host_done(self, line: str, status: str, done: int) -> None:
        # Above the live part, where it stays: the reason of a failed host is not redrawn away.
        self.console.print(rich.text.Text(line, style=_STATUS_STYLES.get(status, "")))
        self.update(self.hosts, completed=done)

    def get_renderables(self):
        yield from super().get_renderables()
        with self.state.lock:
            done = list(self.state.done.values())
            running = list(self.state.steps.items())
        yield self._counts(done)
        if not running:
            return
        table = rich.table.Table.grid(padding=(0, 2))
        for host, step in sorted(running)[:_RUNNING_SHOWN]:
            table.add_row(rich.text.Text(f"  {host}"), rich.text.Text(step or "starting"))
        yield table
        if len(running) > _RUNNING_SHOWN:
            yield rich.text.Text(f"  and {len(running) - _RUNNING_SHOWN} more running")

    @staticmethod
    def _counts(statuses: list[str]) -> rich.text.Text:
        """The hosts per status, in the contract's order; a status no host has is left out."""
        if not statuses:
            return rich.text.Text("  no host finished yet")
        text = rich.text.Text("  ")
        # "planned" (a dry run's host) is not a contract status: after those.
        order = [*contract.STATUS_IDS, *sorted(set(statuses) - set(contract.STATUS_IDS))]
        for status in order:
            count = statuses.count(status)
            if not count:
                continue
            known = contract.STATUS_BY_ID.get(status)
            symbol = f"{known.symbol} " if known else ""
            text.append(f"{symbol}{count} {status}", style=_STATUS_STYLES.get(status, ""))
            text.append("   ")
        return text


def _one_line(text: object) -> str:
    return " ".join(str(text or "").split())


def _short(text: object, limit: int = 160) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class _Signals:
    """While a run goes on, SIGINT and SIGTERM ask ansible-playbook to stop (as Ctrl-C
    would), and the run's record is completed, instead of killing the command at once:
    ansible-playbook runs in a session of its own and would go on without it."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0
        self._previous: dict = {}

    def __enter__(self) -> _Signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._forward)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _forward(self, signum, frame) -> None:
        self.count += 1
        self.stop(signum)

    def force(self) -> bool:
        """ansible-runner's cancel callback: a second signal kills the run outright."""
        return self.count >= 2

    def stop(self, signum: int) -> None:
        self.received = self.received or signum
        for pid in _children(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)


def _children(parent: int) -> list[int]:
    """Processes whose parent is `parent`, from /proc (ansible-runner keeps no handle)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                fields = stream.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


@contextlib.contextmanager
def _writing(report_dir: Path):
    """ansible-runner writes the run's artifacts under the report directory."""
    try:
        yield
    except OSError as exc:
        raise ToolError(
            f"cannot write the run's files in {report_dir}: {exc.strerror or exc}; free space "
            "or fix the directory's permissions, then run the command again"
        ) from None


@dataclass
class RunOutcome:
    rc: int
    status: str
    report_dir: Path
    report: dict | None
    errors: list[str] = field(default_factory=list)  # ansible's own error lines, if any
    write_error: str | None = None  # the callback's, when it could not write the reports
    refused_input: bool = False  # ansible-playbook refused its input, no host ran
    signal: int | None = None  # SIGINT or SIGTERM stopped the run


def run_playbook(
    playbook: str,
    inventory: list[str],
    report_dir: Path,
    extravars: dict,
    limit: str | None = None,
    forks: int | None = None,
    check: bool = False,
    progress: Progress | None = None,
    extra_vars: list[str] | None = None,
    extra_args: list[str] | None = None,
    verbosity: int = 0,
    syslog: str | None = None,
    environment: dict[str, str] | None = None,
) -> RunOutcome:
    try:
        import ansible_runner
    except ImportError as exc:
        raise ToolError(
            f"ansible-runner cannot be imported ({exc}); rebuild the environment: "
            "rm -rf .venv && bin/avshift --version"
        ) from None

    root = collection_root()
    bindir = Path(sys.executable).parent
    progress = progress or Progress(total=0, stream=open(os.devnull, "w"))  # noqa: SIM115
    progress.tail = JournalTail(journal_path(report_dir))

    def on_event(event: dict) -> bool:
        progress.handle(event)
        if progress.journal_error and not signals.received:
            # Without a record the run must not go on changing hosts: stop it as Ctrl-C.
            signals.stop(signal.SIGINT)
        return True

    with (
        progress.showing(),
        tempfile.TemporaryDirectory(prefix="avshift-runner-") as private,
        _writing(report_dir),
        _Signals() as signals,
    ):
        cmdline = ["--check"] if check else []
        cmdline += _extra_var_files(list(extra_vars or ()), Path(private))
        cmdline += list(extra_args or ())
        # Runner's artifacts hold the whole environment (its command file) and every
        # event: they stay in the private directory; keep_artifacts copies what is safe.
        private_artifacts = Path(private) / "artifacts"
        runner = ansible_runner.run(
            private_data_dir=private,
            artifact_dir=str(private_artifacts),
            playbook=str(root / "playbooks" / playbook),
            inventory=inventory,
            limit=limit,
            forks=forks,
            extravars=extravars,
            cmdline=shlex.join(cmdline) or None,
            envvars={
                "ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report",
                "AVSHIFT_REPORT_DIR": str(report_dir),
                "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "AVSHIFT_SYSLOG": syslog or "",
                **(environment or {}),
                # The venv's ansible-playbook, even when the venv is not activated.
                "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            },
            verbosity=verbosity or None,
            event_handler=on_event,
            # Ours, or ansible-runner installs handlers that SIGKILL the run at once.
            cancel_callback=signals.force,
            quiet=True,
            suppress_env_files=True,
        )
        keep_artifacts(private_artifacts, report_dir / "artifacts")
        # Read while its file still exists: the private directory goes with this block.
        stdout = runner.stdout.read() if runner.stdout else ""
        # The hosts the last events decided, while the live view still shows them.
        progress.catch_up()
    outcome = RunOutcome(
        rc=runner.rc,
        status=runner.status,
        report_dir=report_dir,
        report=None,
        signal=signals.received,
    )
    lines = [line.strip() for line in stdout.splitlines()]
    outcome.write_error = next(
        (line for line in lines if REPORT_WRITE_ERROR in line or JOURNAL_WRITE_ERROR in line),
        None,
    )
    if outcome.write_error is None:
        outcome.report = _report_of_the_run(report_dir, outcome)
    if outcome.report is None:
        outcome.errors = [line for line in lines if line.startswith(("ERROR", "[ERROR]"))][:5]
        # A plain error (rc 1) before any host started is ansible refusing what it was
        # given (an undecryptable vault, a missing file); a crash is rc 250.
        outcome.refused_input = runner.rc in _ANSIBLE_REFUSED_INPUT or (
            runner.rc == 1 and bool(outcome.errors) and not progress.started_hosts
        )
    return outcome


# What of ansible-runner's artifacts the report directory keeps: ansible-playbook's
# output (what -v adds, for troubleshooting), how it ended, and its command line. Not
# the environment, the job events or anything else runner writes.
KEPT_ARTIFACTS = ("stdout", "status", "rc")


def keep_artifacts(source: Path, target: Path) -> None:
    """Copy the safe part of each of runner's artifact directories into target, with
    the report directory's own permissions."""
    directory_mode = stat.S_IMODE(os.stat(target.parent).st_mode)
    file_mode = contract.file_mode(directory_mode)
    for run in sorted(path for path in source.iterdir() if path.is_dir()):
        kept = target / run.name
        kept.mkdir(parents=True, exist_ok=True)
        os.chmod(target, directory_mode)
        os.chmod(kept, directory_mode)
        for name in KEPT_ARTIFACTS:
            if (run / name).is_file():
                _copy(run / name, kept / name, file_mode)
        command = run / "command"
        if command.is_file():
            with contextlib.suppress(ValueError, OSError):
                data = json.loads(command.read_text(encoding="utf-8"))
                _write(
                    kept / "command",
                    json.dumps({"command": data.get("command"), "cwd": data.get("cwd")}, indent=2)
                    + "\n",
                    file_mode,
                )


def _copy(source: Path, target: Path, mode: int) -> None:
    _write(target, source.read_bytes(), mode)


def _write(target: Path, data: bytes | str, mode: int) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data.encode("utf-8") if isinstance(data, str) else data)


def _report_of_the_run(report_dir: Path, outcome: RunOutcome) -> dict | None:
    """The callback's report; when the run stopped before it (killed, interrupted), the
    same report rendered here from the run's journal."""
    report_file = report_dir / "report.json"
    if report_file.is_file():
        return json.loads(report_file.read_text())
    try:
        return record.render(report_dir).report
    except record.NoRecord:
        return None
    except OSError as exc:
        outcome.write_error = f"{REPORT_WRITE_ERROR} in {report_dir}: {exc.strerror or exc}"
        return None
