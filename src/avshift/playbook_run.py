"""Run one of the collection's playbooks through ansible-runner, with progress on stderr.

The playbook does the work and the fleet_report callback writes the reports; this
module only starts them, shows progress and reads the summary back.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SCAN_ACTIONS = frozenset(("avshift.remediation.av_scan", "av_scan"))
WINDOW_ACTIONS = frozenset(("avshift.remediation.change_window", "change_window"))
EVIDENCE_ACTIONS = frozenset(("avshift.remediation.evidence", "evidence"))
STATUS_ORDER = ("compliant", "non-compliant", "unreachable", "failed", "deferred")


class UsageError(Exception):
    """Bad input found before anything ran: exit 2."""


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
        res = data.get("res") or {}
        action = data.get("resolved_action", data.get("task_action"))
        if kind == "runner_on_unreachable":
            self.host_done(host, "unreachable", _short(res.get("msg")))
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            status = "deferred" if action in WINDOW_ACTIONS else "failed"
            self.host_done(host, status, _short(res.get("msg")))
        elif kind == "runner_on_ok" and action in WINDOW_ACTIONS and res.get("deferred"):
            for name in res.get("batch") or [host]:
                self.host_done(name, "deferred", _short(res.get("msg")))
        elif kind == "runner_on_ok" and action in self._final_actions:
            self._final(host, action, res)
        return True

    @property
    def _final_actions(self) -> frozenset:
        return EVIDENCE_ACTIONS if self.remediation else SCAN_ACTIONS

    def _final(self, host: str, action: str, res: dict) -> None:
        """The task after which a host's outcome is known."""
        if action in SCAN_ACTIONS and "compliant" in res:
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


@dataclass
class RunOutcome:
    rc: int
    status: str
    report_dir: Path
    report: dict | None
    errors: list[str] = field(default_factory=list)  # ansible's own error lines, if any


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
    import ansible_runner

    report_dir.mkdir(parents=True, exist_ok=True)
    root = collection_root()
    bindir = Path(sys.executable).parent
    cmdline = (["--check"] if check else []) + list(extra_args or [])
    with tempfile.TemporaryDirectory(prefix="avshift-runner-") as private:
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
    errors = []
    if report is None:
        stdout = runner.stdout.read() if runner.stdout else ""
        errors = [line.strip() for line in stdout.splitlines() if "ERROR" in line][:5]
    return RunOutcome(
        rc=runner.rc, status=runner.status, report_dir=report_dir, report=report, errors=errors
    )
