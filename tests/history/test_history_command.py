"""What reaches a person: each report's "since the last run" in JSON, CSV and HTML, and
`avshift history` with its exit codes, on both stores. Runs are rendered from journals
(`avshift report DIR --history STORE`), which is how the callback records them too."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from history_stores import KESL, verdict, write_journal

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit

BIN = Path(sys.executable).parent
MONDAY = "2026-11-30T08:00:00+00:00"
TUESDAY = "2026-12-01T08:00:00+00:00"


def avshift(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "avshift"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def recorded(tmp_path: Path, location: str, name: str, started: str, hosts: dict) -> Path:
    directory = write_journal(tmp_path / name, name, started, hosts)
    done = avshift("report", str(directory), "--history", location)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (Exit.OK, Exit.NON_COMPLIANT, Exit.NOT_AUDITED), done.stderr
    return directory


@pytest.fixture
def two_days(tmp_path, location):
    """Monday all compliant; on Tuesday Kaspersky is back on web-01 and db-01 is gone."""
    recorded(
        tmp_path,
        location,
        "monday",
        MONDAY,
        {"web-01": verdict(), "web-02": verdict(), "db-01": verdict()},
    )
    return recorded(
        tmp_path,
        location,
        "tuesday",
        TUESDAY,
        {"web-01": verdict(False, disallowed=[KESL]), "web-02": verdict()},
    )


def test_the_second_report_shows_the_regression_in_every_format(two_days):
    report = json.loads((two_days / "report.json").read_text())
    drift = report["drift"]
    assert drift["previous_run"]["run_id"] == "monday"
    assert [(item["host"], item["was"], item["status"]) for item in drift["regressed"]] == [
        ("web-01", "compliant", "non-compliant")
    ]
    assert drift["regressed"][0]["appeared"][0]["name"] == KESL["name"]
    assert drift["missing"] == ["db-01"]

    with open(two_days / "report.csv", encoding="utf-8-sig", newline="") as stream:
        rows = {row["host"]: row for row in csv.DictReader(stream)}
    assert rows["web-01"]["since_last_run"] == f"regressed from compliant: {KESL['name']} appeared"
    assert rows["web-02"]["since_last_run"] == "unchanged"

    page = (two_days / "report.html").read_text()
    section = page[
        page.index('<section class="drift"') : page.index(
            "</section>", page.index('<section class="drift"')
        )
    ]
    assert "Since the last run" in section
    assert "<h3>Regressed</h3>" in section and "web-01" in section and KESL["name"] in section
    assert "<h3>Missing from this run</h3>" in section and "db-01" in section
    # The trend chart is inline SVG, one column per run, nothing fetched.
    assert section.count("<g><title>") == 2
    assert "src=" not in section and "href=" not in section


def test_a_first_report_says_there_is_nothing_to_compare_with(tmp_path, location):
    directory = recorded(tmp_path, location, "monday", MONDAY, {"web-01": verdict()})
    report = json.loads((directory / "report.json").read_text())
    assert report["drift"]["previous_run"] is None
    assert "no earlier run of this inventory and limit" in (directory / "report.html").read_text()


def test_history_shows_a_hosts_timeline_and_exits_on_its_latest_result(two_days, location):
    done = avshift("history", "--history", location, "--host", "web-01")
    assert done.returncode == Exit.NON_COMPLIANT, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "web-01"
    assert lines[1].split()[:3] == [MONDAY, "audit", "compliant"]
    assert lines[2].split()[:3] == [TUESDAY, "audit", "non-compliant"]
    assert f"disallowed: {KESL['name']} (package kesl 12.1.0-1297)" in lines[3]

    fine = avshift("history", "--history", location, "--host", "web-02")
    assert fine.returncode == Exit.OK, fine.stderr
    # Unchanged since Monday: the timeline shows the one run in which it became so.
    assert fine.stdout.splitlines()[1].split()[:3] == [MONDAY, "audit", "compliant"]
    assert len([line for line in fine.stdout.splitlines() if line.startswith("  2026")]) == 1


def test_history_lists_the_runs_and_the_fleet_trend(two_days, location):
    done = avshift("history", "--history", location)
    assert done.returncode == Exit.NON_COMPLIANT, done.stderr
    assert "monday" not in done.stdout  # run ids are for --json; people read times
    assert f"{MONDAY}  audit" in done.stdout and f"{TUESDAY}  audit" in done.stdout
    assert "3/3      compliant (100.0 %)" in done.stdout
    assert "1/2      compliant ( 50.0 %)" in done.stdout
    # db-01's latest result is Monday's: in scope, compliant.
    assert "Latest result of 3 hosts: 2 compliant, 1 non-compliant" in done.stdout


def test_history_json_is_the_same_facts_for_programs(two_days, location):
    done = avshift("history", "--history", location, "--json")
    assert done.returncode == Exit.NON_COMPLIANT
    shown = json.loads(done.stdout)
    assert [run["run_id"] for run in shown["runs"]] == ["monday", "tuesday"]
    assert shown["latest"] == {
        "db-01": "compliant",
        "web-01": "non-compliant",
        "web-02": "compliant",
    }
    assert "hosts" not in shown  # timelines are for --host
    one = json.loads(avshift("history", "--history", location, "--host", "WEB-01", "--json").stdout)
    # Host names match without case, as DNS names do.
    assert [entry["status"] for entry in one["hosts"]["web-01"]] == ["compliant", "non-compliant"]
    assert one["latest"] == {"web-01": "non-compliant"}
    assert shown["exit_code"] == Exit.NON_COMPLIANT
    assert "PGPASSWORD" not in done.stdout and "password" not in shown["store"]


def test_a_host_unreachable_in_its_latest_run_exits_3(tmp_path, location):
    recorded(tmp_path, location, "monday", MONDAY, {"web-01": verdict()})
    recorded(tmp_path, location, "tuesday", TUESDAY, {"web-01": "ssh: connection refused"})
    done = avshift("history", "--history", location, "--host", "web-01")
    assert done.returncode == Exit.NOT_AUDITED, done.stderr
    assert "ssh: connection refused" in done.stdout


def test_history_scopes_by_date_and_change(two_days, location):
    since = avshift("history", "--history", location, "--since", "2026-12-01", "--json")
    assert since.returncode == Exit.NON_COMPLIANT, since.stderr
    assert [run["run_id"] for run in json.loads(since.stdout)["runs"]] == ["tuesday"]
    later = avshift("history", "--history", location, "--since", "2027-01-01T00:00+01:00")
    assert later.returncode == Exit.INVALID
    assert "no recorded host" in later.stderr and "--since 2027-01-01T00:00+01:00" in later.stderr
    change = avshift("history", "--history", location, "--change", "CHG0099999")
    assert change.returncode == Exit.INVALID


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "yesterday"], "expected a date (2026-12-01)"),
        (["--since", "2026-12-01T10:00"], "a time needs its offset"),
        (["--purge-before", "2026-13-01"], "expected a date"),
        (["--purge-before", "2026-12-01", "--erase-operator", "jdoe"], "one at a time"),
        (["--host", "nothing-like-this"], "no recorded host"),
    ],
)
def test_a_bad_argument_or_an_empty_scope_exits_2(two_days, location, args, message):
    done = avshift("history", "--history", location, *args)
    assert done.returncode == Exit.INVALID, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_store_that_cannot_be_read_exits_4(tmp_path):
    missing = avshift("history", "--history", str(tmp_path / "none.sqlite"))
    assert missing.returncode == Exit.TOOL_FAILURE
    assert "no such store" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()  # reading never creates one
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database\n" * 100)
    done = avshift("history", "--history", str(corrupt))
    assert done.returncode == Exit.TOOL_FAILURE
    assert "file is not a database" in done.stderr and "Traceback" not in done.stderr
    assert corrupt.read_bytes() == b"this is not a database\n" * 100


def test_purge_and_erasure_on_request(two_days, location):
    done = avshift("history", "--history", location, "--purge-before", "2026-12-01")
    assert done.returncode == Exit.OK, done.stderr
    assert "removed 1 run before 2026-12-01T00:00:00+00:00" in done.stdout
    shown = json.loads(avshift("history", "--history", location, "--json").stdout)
    assert [run["run_id"] for run in shown["runs"]] == ["tuesday"]
    assert "db-01" not in shown["latest"]

    erased = avshift("history", "--history", location, "--erase-operator", "jdoe")
    assert erased.returncode == Exit.OK, erased.stderr
    assert "removed from 1 run" in erased.stdout
    shown = json.loads(avshift("history", "--history", location, "--json").stdout)
    assert [run["operator"] for run in shown["runs"]] == ["(erased)"]
    again = avshift("history", "--history", location, "--erase-operator", "jdoe")
    assert again.returncode == Exit.INVALID and "no run names 'jdoe'" in again.stderr


def test_an_audit_records_where_it_is_told_and_nothing_with_no_history(tmp_path, own_history_store):
    store = tmp_path / "chosen.sqlite"
    done = avshift(
        "audit", "--history", str(store), "--stale-days", "7", "--report-dir", str(tmp_path / "a")
    )
    assert done.returncode in (Exit.OK, Exit.NON_COMPLIANT), done.stderr
    assert "Since the last run: none recorded of this inventory and limit" in done.stdout
    shown = json.loads(avshift("history", "--history", str(store), "--json").stdout)
    assert [run["report_dir"] for run in shown["runs"]] == [str(tmp_path / "a")]
    first = json.loads((tmp_path / "a" / "journal.jsonl").read_text().splitlines()[0])
    assert first["history"] == {"store": str(store), "stale_days": 7, "retention_days": None}

    off = avshift("audit", "--no-history", "--report-dir", str(tmp_path / "b"))
    assert off.returncode in (Exit.OK, Exit.NON_COMPLIANT), off.stderr
    assert "Since the last run" not in off.stdout
    assert "drift" not in json.loads((tmp_path / "b" / "report.json").read_text())
    assert not own_history_store.exists()
    assert (
        len(json.loads(avshift("history", "--history", str(store), "--json").stdout)["runs"]) == 1
    )
