"""Static checks run as tests, so that one pytest summary covers the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env, check=False)


@pytest.mark.parametrize(
    "argv",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("yamllint", "--strict", "."),
    ],
    ids=["ruff-lint", "ruff-format", "yamllint"],
)
def test_linter_is_clean(argv):
    result = _run(str(BIN / argv[0]), *argv[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile_is_clean():
    result = _run(str(BIN / "ansible-lint"), "--offline", "--profile", "production")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
