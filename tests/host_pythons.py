"""Interpreters of this machine that stand in for managed hosts' Pythons.

Found the way bin/avshift finds its own Python: on PATH as pythonX.Y, else among pyenv's
installed versions (pyenv's shims refuse a version no pyenv setting selects, so its
binaries are used directly). A test that needs one this machine lacks fails saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _runs_as(candidate: str, version: str) -> bool:
    done = subprocess.run(
        [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == version


def host_python(version: str) -> str:
    """The path of a Python `version` ("3.6") interpreter on this machine."""
    found = shutil.which(f"python{version}")
    if found and _runs_as(found, version):
        return found
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run(
            [pyenv, "versions", "--bare"], capture_output=True, text=True, check=False
        ).stdout.split()
        for name in sorted(listed, reverse=True):
            if name == version or name.startswith(f"{version}."):
                prefix = subprocess.run(
                    [pyenv, "prefix", name], capture_output=True, text=True, check=False
                ).stdout.strip()
                for binary in (f"python{version}", "python"):
                    candidate = Path(prefix, "bin", binary)
                    if candidate.is_file() and _runs_as(str(candidate), version):
                        return str(candidate)
    pytest.fail(
        f"no Python {version} on this machine (neither python{version} on PATH nor a pyenv "
        f"version {version}.x): install it, e.g. `pyenv install {version}`"
    )
