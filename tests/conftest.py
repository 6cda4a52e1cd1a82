"""Shared fixtures, and the suite's own report: how long each part took, and the slowest
tests, at the end of bin/test.

A part is a test directory (unit, cli, windows, ...); each Molecule scenario is a part
of its own, being the slow ones. With several workers (bin/test runs pytest-xdist) the
parts overlap, so the wall time is shorter than their sum. bin/test passes the set-up
steps' times in AVSHIFT_SETUP_SECONDS ("name=seconds,...").
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest

# Fixtures every part's tests may use, kept beside the helpers they go with.
from testbed_hosts import testbed_hosts  # noqa: F401

_STARTED = time.monotonic()
_PART_SECONDS: dict[str, float] = defaultdict(float)
_PART_TESTS: dict[str, int] = defaultdict(int)
_TEST_SECONDS: dict[str, float] = defaultdict(float)
# How many of the slowest tests the report names: where CI's minutes go.
_SLOWEST_SHOWN = 15
_TESTS = Path(__file__).resolve().parent


# The parts in the order bin/test's workers take them: slowest first (as measured by
# this report), so that no worker is left alone at the end with a Molecule scenario.
# bin/test hands out one test at a time (--maxschedchunk 1) to keep that order. Parts
# not named here come before the fast ones at the end.
_SLOWEST_FIRST = (
    "molecule install",
    "molecule remediate",
    "molecule audit",
    "molecule av_scan",
    "molecule uninstall",
    "integration",
    "matrix",
    "history",
    "windows",
    "cli",
    "packaging",
    None,
    "lint",
    "report",
    "inventories",
    "unit",
)


def _part(nodeid: str) -> str:
    path, _, rest = nodeid.partition("::")
    parts = Path(path).parts
    part = parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0]
    if path.endswith("test_molecule.py") and "[" in rest:
        return f"molecule {rest.split('[', 1)[1].rstrip(']')}"
    return part


# Where the spread of the local-machine tests starts: after the test-bed parts.
_SPREAD_FROM = _SLOWEST_FIRST.index("history")


def pytest_collection_modifyitems(items) -> None:
    unnamed = _SLOWEST_FIRST.index(None)

    def rank(item) -> int:
        part = _part(item.nodeid)
        return _SLOWEST_FIRST.index(part) if part in _SLOWEST_FIRST else unnamed

    items.sort(key=rank)  # stable: a module's tests stay together, in their order
    # Tests that read this machine's own state take turns (local_machine_state): spread
    # them evenly over the tests after the slow parts, so that the workers do not queue
    # for the lock together while other work waits.
    start = next((i for i, item in enumerate(items) if rank(item) >= _SPREAD_FROM), len(items))
    local = [item for item in items[start:] if "local_machine_state" in item.fixturenames]
    if local:
        rest = [item for item in items[start:] if item not in local]
        step = max(1, len(rest) // len(local))
        spread = []
        for number, item in enumerate(rest):
            if number % step == 0 and local:
                spread.append(local.pop(0))
            spread.append(item)
        items[start:] = spread + local


def pytest_runtest_logreport(report) -> None:
    part = _part(report.nodeid)
    _PART_SECONDS[part] += report.duration
    _TEST_SECONDS[report.nodeid] += report.duration
    if report.when == "call":
        _PART_TESTS[part] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    if not _PART_SECONDS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("time per part")
    for entry in filter(None, os.environ.get("AVSHIFT_SETUP_SECONDS", "").split(",")):
        name, _, seconds = entry.partition("=")
        write(f"  set-up {name:<24} {float(seconds):8.1f} s")
    for part, seconds in sorted(_PART_SECONDS.items(), key=lambda item: -item[1]):
        write(f"  {part:<31} {seconds:8.1f} s  ({_PART_TESTS[part]} tests)")
    write(f"  {'pytest wall time':<31} {time.monotonic() - _STARTED:8.1f} s")
    terminalreporter.section(f"{_SLOWEST_SHOWN} slowest tests (set-up, call and teardown)")
    slowest = sorted(_TEST_SECONDS.items(), key=lambda item: -item[1])[:_SLOWEST_SHOWN]
    for nodeid, seconds in slowest:
        write(f"  {seconds:8.1f} s  {nodeid}")


@pytest.fixture
def local_machine_state():
    """Held by tests whose verdicts depend on what runs on this machine (processes named
    like antivirus daemons, vendor directories), which other such tests change: one at a
    time across every worker, whichever runs them."""
    lock_dir = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
    with open(lock_dir / "avshift-tests-local-machine.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(autouse=True)
def own_history_store(tmp_path, monkeypatch):
    """Every test records its runs into a history store of its own, never the user's:
    the default store lives under XDG_DATA_HOME, which each test's processes inherit."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("AVSHIFT_HISTORY", raising=False)
    return tmp_path / "xdg-data" / "avshift" / "history.sqlite"
