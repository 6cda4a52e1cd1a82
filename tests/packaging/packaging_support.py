"""Helpers of the packaging tests: the collection as git tracks it, and its tarball.

The packaging tests work on a copy of the git-tracked files, so that work in progress
in the checkout (untracked files) neither ships in the tarball they inspect nor hides
a file that was never committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
TARBALL_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def quiet_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1", **extra}


def isolated_env(collections_path: Path, **extra: str) -> dict[str, str]:
    """Ansible sees only the collections under collections_path.

    The venv links the working tree into its site-packages as avshift.remediation;
    without ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false Ansible would find that one first.
    """
    return quiet_env(
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        **extra,
    )


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    # Tracked but deleted in the working tree: not part of what would be committed.
    return [path for path in listing.split("\0") if path and (ROOT / path).is_file()]


def copy_tracked(dest: Path, paths: list[str] | None = None) -> Path:
    """Copy git-tracked files to dest/ansible_collections/<namespace>/<name>."""
    collection = dest / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    for relative in tracked_files() if paths is None else paths:
        target = collection / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    return collection


def build(collection: Path, output: Path) -> Path:
    argv = [str(BIN / "ansible-galaxy"), "collection", "build", str(collection), "--force"]
    done = subprocess.run(
        [*argv, "--output-path", str(output)],
        capture_output=True,
        text=True,
        env=quiet_env(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    tarball = output / TARBALL_NAME
    assert tarball.is_file(), f"ansible-galaxy did not write {tarball}: {done.stdout}"
    return tarball


def audit_locally(reports: Path, *extra_vars: str) -> subprocess.CompletedProcess:
    """playbooks/audit.yml on this machine with the fleet report, extra vars given."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local")]
    for extra in (*extra_vars, f"ansible_python_interpreter={sys.executable}"):
        argv += ["-e", extra]
    return subprocess.run(
        [*argv, str(ROOT / "playbooks" / "audit.yml")],
        capture_output=True,
        text=True,
        env=quiet_env(
            ANSIBLE_CALLBACKS_ENABLED="avshift.remediation.fleet_report",
            AVSHIFT_REPORT_DIR=str(reports),
        ),
        check=False,
    )
