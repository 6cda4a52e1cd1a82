"""A history store that cannot be used costs no report and changes no verdict: the run
says so in one warning line and in its report's run section, writes the four reports,
and exits with the code its hosts decide."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from history_stores import KESL, verdict, write_journal

from ansible_collections.avshift.remediation.plugins.plugin_utils import history, record
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit

BIN = Path(sys.executable).parent
MONDAY = "2026-11-30T08:00:00+00:00"
REPORTS = ("report.json", "report.csv", "report.html", "report.junit.xml", "SHA256SUMS")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")


def avshift(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "avshift"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def a_run(tmp_path: Path, name: str = "run") -> Path:
    return write_journal(
        tmp_path / name,
        name,
        MONDAY,
        {"web-01": verdict(False, disallowed=[KESL]), "web-02": verdict()},
    )


def assert_reported_despite_the_store(done, directory: Path, why: str) -> dict:
    assert done.returncode == Exit.NON_COMPLIANT, done.stdout + done.stderr  # the hosts' code
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "history:" in line]
    assert len(warnings) == 1 and why in warnings[0], done.stderr
    assert all((directory / name).is_file() for name in REPORTS)
    report = json.loads((directory / "report.json").read_text())
    assert [why in warning for warning in report["run"]["history_warnings"]] == [True]
    assert "drift" not in report
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=directory, capture_output=True)
    assert check.returncode == 0
    return report


def test_a_corrupt_store_is_left_as_it_is(tmp_path):
    store = tmp_path / "history.sqlite"
    store.write_bytes(b"SQLite format 2\x00 but not really" * 64)
    directory = a_run(tmp_path)
    done = avshift("report", str(directory), "--history", str(store))
    assert_reported_despite_the_store(done, directory, "file is not a database")
    assert store.read_bytes() == b"SQLite format 2\x00 but not really" * 64


def test_a_store_with_a_newer_schema_is_refused_and_left_as_it_is(tmp_path):
    store = tmp_path / "history.sqlite"
    history.Store(str(store))
    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    directory = a_run(tmp_path)
    done = avshift("report", str(directory), "--history", str(store))
    assert_reported_despite_the_store(done, directory, "is newer than this avshift knows")
    with sqlite3.connect(store) as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (0,)


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@needs_root
def test_a_store_on_a_full_file_system(tmp_path):
    with _tmpfs(tmp_path / "full", "2m") as mount:
        store = mount / "history.sqlite"
        history.Store(str(store))
        # What is left of the file system, taken: the store cannot grow by a page.
        with open(mount / "filler", "wb") as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        directory = a_run(tmp_path)
        done = avshift("report", str(directory), "--history", str(store))
        report = assert_reported_despite_the_store(done, directory, "not recorded")
        assert "full" in report["run"]["history_warnings"][0]


def test_a_store_locked_past_the_timeout(tmp_path, monkeypatch):
    store = tmp_path / "history.sqlite"
    history.Store(str(store))
    monkeypatch.setattr(history, "BUSY_TIMEOUT_SECONDS", 1)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        directory = a_run(tmp_path)
        rendered = record.render(directory, record.HistoryOptions(choice=str(store)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(rendered.warnings) == 1 and "database is locked" in rendered.warnings[0]
    assert rendered.report["run"]["history_warnings"] == rendered.warnings
    assert rendered.report["summary"]["non-compliant"] == 1
    assert all((directory / name).is_file() for name in REPORTS)


def test_a_writer_waits_for_another_within_the_timeout(tmp_path):
    store = tmp_path / "history.sqlite"
    history.Store(str(store))
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    directory = a_run(tmp_path)
    writer = subprocess.Popen(
        [str(BIN / "avshift"), "report", str(directory), "--history", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The writer is at the store while the other still holds it, and then it is free.
    time.sleep(3)
    holder.execute("ROLLBACK")
    holder.close()
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == Exit.NON_COMPLIANT and "history:" not in stderr, stderr
    assert [run["run_id"] for run in history.Store(str(store)).runs()] == ["run"]


def test_without_sqlalchemy_the_run_says_so_once_and_reports_as_before(tmp_path):
    """A controller with only ansible-core (plain ansible-playbook): no history."""
    directory = a_run(tmp_path)
    script = (
        "import sys; sys.modules['sqlalchemy'] = None; sys.modules['alembic'] = None\n"
        "from ansible_collections.avshift.remediation.plugins.plugin_utils import record\n"
        f"rendered = record.render({str(directory)!r})\n"
        "print(rendered.warnings)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "SQLAlchemy and Alembic are not installed" in done.stdout
    report = json.loads((directory / "report.json").read_text())
    assert len(report["run"]["history_warnings"]) == 1
    assert report["summary"]["non-compliant"] == 1


def test_no_history_records_nothing_and_compares_with_nothing(tmp_path, own_history_store):
    directory = a_run(tmp_path)
    done = avshift("report", str(directory), "--history", "off")
    assert done.returncode == Exit.NON_COMPLIANT, done.stderr
    report = json.loads((directory / "report.json").read_text())
    assert "drift" not in report and "history" not in report["run"]
    assert not own_history_store.exists()


def test_a_rendered_run_records_into_the_store_its_journal_names(tmp_path, own_history_store):
    """A run killed before its reports: `avshift report DIR` records it where the run
    would have, whatever this shell's environment says."""
    chosen = tmp_path / "chosen.sqlite"
    # The callback writes the options it runs with into its run event.
    directory = write_journal(
        tmp_path / "run",
        "run",
        MONDAY,
        {"web-01": verdict(False, disallowed=[KESL])},
        history=record.HistoryOptions(choice=str(chosen)).as_event(),
    )
    done = avshift("report", str(directory))
    assert done.returncode == Exit.NON_COMPLIANT, done.stderr
    assert [run["run_id"] for run in history.Store(str(chosen)).runs()] == ["run"]
    assert not own_history_store.exists()


def test_an_awx_job_recording_into_a_local_file_is_warned(tmp_path):
    directory = a_run(tmp_path)
    done = avshift(
        "report",
        str(directory),
        "--history",
        str(tmp_path / "history.sqlite"),
        JOB_ID="42",
        AWX_HOST="https://awx.example.org",
    )
    assert done.returncode == Exit.NON_COMPLIANT
    assert "AWX job 42" in done.stderr and "PostgreSQL" in done.stderr
    # Recorded all the same: the file may be on a volume the job keeps.
    with sa.create_engine(f"sqlite:///{tmp_path / 'history.sqlite'}").connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 1
