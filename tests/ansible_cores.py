"""The ansible-cores the tests run the collection under: the newest, whose venv runs the
suite (.venv, requirements/dev.txt), and the oldest the collection supports (its
requires_ansible), whose venv bin/test builds beside it (.venv-ansible-2.16,
requirements/ansible-2.16.txt, on Python 3.10: bin/_venv.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Not resolved: the venv's python is a symlink, and its directory is the venv's bin.
NEWEST_BIN = Path(sys.executable).parent
OLDEST_VENV = Path(os.environ.get("AVSHIFT_OLDEST_VENV", ROOT / ".venv-ansible-2.16"))


def supported_floor() -> tuple[int, int]:
    """The oldest ansible-core release meta/runtime.yml says the collection supports."""
    required = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    assert required.startswith(">="), f"requires_ansible is {required!r}: want >=X.Y.Z"
    major, minor = required.removeprefix(">=").split(".")[:2]
    return int(major), int(minor)


def oldest_bin() -> Path:
    """The bin directory of the oldest ansible-core's venv; the test fails without it."""
    if not (OLDEST_VENV / "bin" / "ansible-playbook").exists():
        pytest.fail(
            f"{OLDEST_VENV} holds no ansible-core: run bin/test, which builds it "
            "(bin/_venv.sh, avshift_ensure_oldest_venv)",
            pytrace=False,
        )
    return OLDEST_VENV / "bin"


def core_version(bin_dir: Path) -> tuple[int, int]:
    """The ansible-core release a venv's ansible runs."""
    done = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "from ansible.release import __version__; print(__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    major, minor = done.stdout.strip().split(".")[:2]
    return int(major), int(minor)


def environment(bin_dir: Path) -> dict[str, str]:
    """This process's environment with a venv's tools first on PATH."""
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
