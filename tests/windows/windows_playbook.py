"""Run the av_scan task through the real ansible-playbook and read back its results.

Results come from the avshift_record callback (callback_plugins/), one JSON line per
task result, so tests never scrape console output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CALLBACK_DIR = HERE / "callback_plugins"


@dataclass(frozen=True)
class TaskRecord:
    host: str
    task: str
    status: str  # ok, failed, unreachable, skipped
    result: dict[str, Any]
    warnings: list[str]


@dataclass(frozen=True)
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str
    records: list[TaskRecord]

    def only(self) -> TaskRecord:
        """The single task result of a one-host, one-task run."""
        assert len(self.records) == 1, self.explain(f"expected 1 result, got {len(self.records)}")
        return self.records[0]

    def explain(self, message: str) -> str:
        return f"{message}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def ansible_bin(name: str) -> str:
    """The venv's own binary, next to the interpreter running the tests."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found next to {sys.executable} or on PATH")
    return found


def run_play(
    workdir: Path,
    play: dict[str, Any],
    inventory: Path | str,
    *,
    options: tuple[str, ...] = (),
    keep_ansible_env: bool = False,
    extra_env: dict[str, str] | None = None,
    timeout: int = 300,
) -> PlaybookRun:
    """Run one play with ansible-playbook against ``inventory``; ``options`` are its
    command-line options (--check, --diff, -vvvv)."""
    workdir.mkdir(parents=True, exist_ok=True)
    playbook = workdir / f"{play.get('name', 'play')}.yml"
    playbook.write_text(json.dumps([play], indent=2), encoding="utf-8")  # JSON is YAML
    record_file = workdir / "results.jsonl"
    record_file.unlink(missing_ok=True)

    env = dict(os.environ)
    if not keep_ansible_env:
        # The contract tests must not depend on the developer's Ansible settings.
        env = {key: value for key, value in env.items() if not key.startswith("ANSIBLE_")}
    env.update(
        {
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "avshift_record",
            "AVSHIFT_RECORD_FILE": str(record_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "local_tmp"),
        }
    )
    env.update(extra_env or {})
    command = [ansible_bin("ansible-playbook"), *options, "-i", str(inventory), str(playbook)]
    completed = subprocess.run(
        command,
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    records = []
    if record_file.exists():
        for line in record_file.read_text(encoding="utf-8").splitlines():
            records.append(TaskRecord(**json.loads(line)))
    return PlaybookRun(completed.returncode, completed.stdout, completed.stderr, records)


def run_av_scan(
    workdir: Path,
    inventory: Path | str,
    task_args: dict[str, Any] | None = None,
    *,
    hosts: str = "all",
    check: bool = False,
    keep_ansible_env: bool = False,
    extra_env: dict[str, str] | None = None,
    timeout: int = 300,
) -> PlaybookRun:
    """Run one play with one avshift.remediation.av_scan task against ``inventory``."""
    play = {
        "name": "av_scan",
        "hosts": hosts,
        "gather_facts": False,
        "tasks": [{"name": "av_scan", "avshift.remediation.av_scan": task_args or {}}],
    }
    return run_play(
        workdir,
        play,
        inventory,
        options=("--check",) if check else (),
        keep_ansible_env=keep_ansible_env,
        extra_env=extra_env,
        timeout=timeout,
    )
