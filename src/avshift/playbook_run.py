"""Run one of the collection's playbooks through ansible-runner, with progress on stderr.

The playbook does the work and the fleet_report callback writes the reports; this
module only starts them, shows progress and reads the summary back.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import task_names
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    REPORT_WRITE_ERROR,
)

# ansible-playbook's exit codes for input it refused before running anything: a parser
# error (4) and bad options (5); see ansible's cli/__init__.py.
_ANSIBLE_REFUSED_INPUT = frozenset((4, 5))
# How much the report directory must take before a run starts: a report of a small
# fleet, so that a nearly full disk is found before any host is touched.
_PROBE_BYTES = 256 * 1024


class UsageError(Exception):
    """Bad input found before anything ran: exit 2."""


class ToolError(Exception):
    """avshift itself cannot do its job (exit 4): the message says what and what to do."""


def prepare_report_dir(path: Path) -> Path:
    """The report directory, absolute, created and proven writable before any host."""
    path = Path(os.path.abspath(path))
    hint = "give another --report-dir"
    if path.exists() and not path.is_dir():
        raise ToolError(f"report directory {path}: exists and is not a directory; {hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
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
    return path


def collection_root() -> Path:
    spec = importlib.util.find_spec("ansible_collections.avshift.remediation")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            "the avshift.remediation collection is not importable; install it "
            "(ansible-galaxy collection install) or run bin/avshift from a checkout"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def count_hosts(inventory: str, limit: str | None) -> int:
    """Parse the inventory the way ansible-playbook will, to validate it and size progress."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.display import Display

    Display().verbosity = 0
    # Warnings about an empty or unparsable inventory would only repeat the error below.
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
    manager = InventoryManager(loader=DataLoader(), sources=[inventory])
    if limit:
        manager.subset(limit)
    hosts = manager.get_hosts("all")
    if not hosts:
        where = f" matching --limit {limit!r}" if limit else ""
        raise UsageError(f"inventory {inventory}: no hosts{where}")
    return len(hosts)


@dataclass
class Progress:
    """Counts hosts as their scans finish; draws a bar on a terminal, lines elsewhere."""

    total: int
    remediation: bool = False
    check: bool = False
    stream: object = sys.stderr
    done: set = field(default_factory=set)
    started_hosts: set = field(default_factory=set)  # any host the playbook reached
    non_compliant: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def interactive(self) -> bool:
        return hasattr(self.stream, "isatty") and self.stream.isatty()

    def host_done(self, host: str, status: str, detail: str = "") -> None:
        if host in self.done:
            return
        self.done.add(host)
        if status == "non-compliant":
            self.non_compliant += 1
        if self.interactive:
            width = 30
            filled = int(width * len(self.done) / max(self.total, 1))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(
                f"\r[{bar}] {len(self.done)}/{self.total} hosts, "
                f"{self.non_compliant} non-compliant, {time.monotonic() - self.started:.0f} s"
            )
            if len(self.done) >= self.total:
                self.stream.write("\n")
        else:
            suffix = f" ({detail})" if detail else ""
            self.stream.write(f"[{len(self.done)}/{self.total}] {host}: {status}{suffix}\n")
        self.stream.flush()

    def handle(self, event: dict) -> bool:
        data = event.get("event_data") or {}
        host = data.get("host")
        kind = event.get("event")
        if not host:
            return True
        if kind and kind.startswith("runner_"):
            self.started_hosts.add(host)
        res = data.get("res") or {}
        action = data.get("resolved_action", data.get("task_action"))
        if kind == "runner_on_unreachable":
            self.host_done(host, "unreachable", _short(res.get("msg")))
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            status = "deferred" if action in task_names.WINDOW_ACTIONS else "failed"
            self.host_done(host, status, _short(res.get("msg")))
        elif kind == "runner_on_ok" and action in task_names.WINDOW_ACTIONS and res.get("deferred"):
            for name in res.get("batch") or [host]:
                self.host_done(name, "deferred", _short(res.get("msg")))
        elif kind == "runner_on_ok" and action in self._final_actions:
            self._final(host, action, res)
        return True

    @property
    def _final_actions(self) -> frozenset:
        return task_names.EVIDENCE_ACTIONS if self.remediation else task_names.SCAN_ACTIONS

    def _final(self, host: str, action: str, res: dict) -> None:
        """The task after which a host's outcome is known."""
        if action in task_names.SCAN_ACTIONS and "compliant" in res:
            names = ", ".join(item.get("name", "?") for item in res.get("disallowed", []))
            self.host_done(host, "compliant" if res["compliant"] else "non-compliant", names)
            return
        event, details = res.get("event"), res.get("data") or {}
        if event == "verified":
            self.host_done(host, "compliant" if details.get("compliant") else "non-compliant")
        elif event == "plan" and (
            self.check or not (details.get("install") or details.get("remove"))
        ):
            removals = ", ".join(item.get("name", "?") for item in details.get("remove") or [])
            planned = [f"install {details['install']}"] if details.get("install") else []
            planned += [f"remove {removals}"] if removals else []
            self.host_done(host, "planned", "; ".join(planned) or "nothing to do")


def _short(text: object, limit: int = 160) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


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


def run_playbook(
    playbook: str,
    inventory: str,
    report_dir: Path,
    extravars: dict,
    limit: str | None = None,
    forks: int | None = None,
    check: bool = False,
    progress: Progress | None = None,
    extra_args: list[str] | None = None,
    verbosity: int = 0,
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
    cmdline = (["--check"] if check else []) + list(extra_args or [])
    with tempfile.TemporaryDirectory(prefix="avshift-runner-") as private, _writing(report_dir):
        runner = ansible_runner.run(
            private_data_dir=private,
            artifact_dir=str(report_dir / "artifacts"),
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
                # The venv's ansible-playbook, even when the venv is not activated.
                "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            },
            verbosity=verbosity or None,
            event_handler=progress.handle if progress else None,
            quiet=True,
            suppress_env_files=True,
        )
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.is_file() else None
    outcome = RunOutcome(rc=runner.rc, status=runner.status, report_dir=report_dir, report=report)
    if report is None:
        stdout = runner.stdout.read() if runner.stdout else ""
        lines = [line.strip() for line in stdout.splitlines()]
        outcome.write_error = next((line for line in lines if REPORT_WRITE_ERROR in line), None)
        outcome.errors = [line for line in lines if line.startswith("ERROR")][:5]
        # A plain error (rc 1) before any host started is ansible refusing what it was
        # given (an undecryptable vault, a missing file); a crash is rc 250.
        outcome.refused_input = runner.rc in _ANSIBLE_REFUSED_INPUT or (
            runner.rc == 1 and bool(outcome.errors) and not (progress and progress.started_hosts)
        )
    return outcome
