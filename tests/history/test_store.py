"""The history store on SQLite and PostgreSQL: what a run records, drift against the last
run, migrations, retention and erasure, and two writers at once."""

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from history_stores import CLAMAV, KESL, host, report

from ansible_collections.avshift.remediation.plugins.plugin_utils import history

MONDAY = "2026-11-30T08:00:00+00:00"
TUESDAY = "2026-12-01T08:00:00+00:00"
WEDNESDAY = "2026-12-02T08:00:00+00:00"


def _count(store: history.Store, table: str) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def test_a_run_is_recorded_with_its_change_and_each_hosts_findings(store):
    recorded = report(
        [host("web-01"), host("db-01", "non-compliant", disallowed=[KESL])],
        MONDAY,
        kind="remediation",
        change_id="CHG0012345",
        operator="jdoe",
    )
    recorded["hosts"][1]["actions"] = [{"event": "removed", "at": MONDAY}]
    store.record(recorded, "run-1", "/reports/r1")

    (run,) = store.runs()
    assert (run["run_id"], run["kind"], run["change_id"], run["operator"]) == (
        "run-1",
        "remediation",
        "CHG0012345",
        "jdoe",
    )
    assert (run["inventory"], run["policy_sha256"], run["tool_version"], run["exit_code"]) == (
        "inventories/production",
        "ab" * 32,
        "0.2.0",
        1,
    )
    assert run["report_dir"] == "/reports/r1"
    results = store.results_of(run["pk"])
    assert results["web-01"]["status"] == "compliant"
    assert results["web-01"]["approved"] == [CLAMAV]
    assert results["db-01"]["disallowed"] == [KESL]
    with store.engine.connect() as connection:
        actions = connection.execute(
            sa.select(history.RESULTS.c.actions).where(history.RESULTS.c.actions.is_not(None))
        ).scalar()
    assert "removed" in actions


def test_an_outcome_that_does_not_change_is_stored_once(store):
    for day, started in enumerate((MONDAY, TUESDAY, WEDNESDAY)):
        hosts = [host(f"web-{n:02}") for n in range(50)]
        hosts.append(host("db-01", "non-compliant", disallowed=[KESL]) if day else host("db-01"))
        store.record(report(hosts, started), f"run-{day}", None)
    assert _count(store, "results") == 3 * 51
    # Every compliant host shares one outcome; db-01's Kaspersky days share another.
    assert _count(store, "outcomes") == 2


def test_recording_a_run_again_replaces_it(store):
    store.record(report([host("web-01")], MONDAY), "run-1")
    store.record(report([host("web-01", "non-compliant", disallowed=[KESL])], MONDAY), "run-1")
    (run,) = store.runs()
    assert store.results_of(run["pk"])["web-01"]["status"] == "non-compliant"


def test_drift_shows_each_host_against_its_own_last_result(store):
    store.record(
        report(
            [
                host("web-01"),
                host("web-02"),
                host("db-01", "non-compliant", disallowed=[KESL]),
                host("old-01"),
            ],
            MONDAY,
        ),
        "monday",
    )
    tuesday = report(
        [
            host("web-01", "non-compliant", disallowed=[KESL]),
            host("web-02", "unreachable"),
            host("db-01"),
            host("new-01"),
        ],
        TUESDAY,
    )
    found = history.drift(store, tuesday, "tuesday").as_dict()

    assert found["previous_run"]["run_id"] == "monday"
    assert [(r["host"], r["was"], r["status"]) for r in found["regressed"]] == [
        ("web-01", "compliant", "non-compliant"),
        ("web-02", "compliant", "unreachable"),
    ]
    assert found["regressed"][0]["appeared"] == [
        {"vendor": "kaspersky", "name": "Kaspersky Endpoint Security for Linux"}
    ]
    assert found["fixed"] == ["db-01"]
    assert found["newly_seen"] == [
        {
            "host": "web-01",
            "kind": "disallowed",
            "vendor": "kaspersky",
            "name": "Kaspersky Endpoint Security for Linux",
        }
    ]
    assert found["missing"] == ["old-01"]
    assert found["added"] == ["new-01"]
    # The chart ends with this run, which is not recorded yet.
    assert [point["run_id"] for point in found["trend"]] == ["monday", "tuesday"]
    assert found["trend"][-1]["counts"] == {"compliant": 2, "non-compliant": 1, "unreachable": 1}


def test_drift_compares_with_the_last_run_of_the_same_inventory_and_limit(store):
    store.record(report([host("web-01")], MONDAY), "whole")
    store.record(report([host("web-01"), host("db-01")], MONDAY, limit="db*"), "db-only")
    store.record(report([host("web-01", "unreachable")], TUESDAY, inventory="staging"), "staging")
    wednesday = report([host("web-01", "non-compliant", disallowed=[KESL])], WEDNESDAY)
    found = history.drift(store, wednesday, "wednesday")
    assert found.previous_run["run_id"] == "whole"
    assert found.missing == []
    assert [item["host"] for item in found.regressed] == ["web-01"]


def test_a_run_rendered_again_compares_with_its_own_predecessor(store):
    store.record(report([host("web-01")], MONDAY), "monday")
    store.record(report([host("web-01", "non-compliant", disallowed=[KESL])], TUESDAY), "tuesday")
    store.record(report([host("web-01")], WEDNESDAY), "wednesday")
    again = report([host("web-01", "non-compliant", disallowed=[KESL])], TUESDAY)
    found = history.drift(store, again, "tuesday")
    assert found.previous_run["run_id"] == "monday"
    assert [item["host"] for item in found.regressed] == ["web-01"]
    assert [point["run_id"] for point in found.trend] == ["monday", "tuesday"]


def test_the_first_run_has_nothing_to_compare_with(store):
    found = history.drift(store, report([host("web-01")], MONDAY), "first").as_dict()
    assert found["previous_run"] is None
    assert (found["regressed"], found["fixed"], found["missing"], found["added"]) == (
        [],
        [],
        [],
        [],
    )


def test_hosts_not_audited_for_the_stale_days_are_listed(store):
    import datetime

    now = datetime.datetime(2026, 12, 31, 8, tzinfo=datetime.timezone.utc)
    store.record(report([host("gone-01"), host("dark-01"), host("web-01")], MONDAY), "old")
    # dark-01 was in a recent run but could not be read: not audited since Monday.
    store.record(
        report([host("dark-01", "unreachable"), host("web-01")], "2026-12-29T08:00:00+00:00"),
        "recent",
    )
    today = report([host("web-01"), host("dark-01", "unreachable")], now.isoformat())
    found = history.drift(store, today, "today", stale_days=30, now=now)
    assert found.stale == [
        {"host": "dark-01", "last_audited": MONDAY},
        {"host": "gone-01", "last_audited": MONDAY},
    ]
    assert history.drift(store, today, "today", stale_days=60, now=now).stale == []


def test_migrations_from_an_empty_store_reach_the_newest_schema(location):
    store = history.Store(location)
    assert store.revision() == history.newest_revision()
    assert set(sa.inspect(store.engine).get_table_names()) >= {
        "runs",
        "hosts",
        "outcomes",
        "results",
        "alembic_version",
    }


def test_a_store_of_the_first_schema_is_migrated_with_its_runs_kept(location):
    url, _ = history._engine_url(location)
    if url.startswith("sqlite"):
        history._prepare_sqlite_file(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        alembic_command.upgrade(history.alembic_config(connection), "0001")
        # A run of 0001's days: web-01 read and compliant, db-01 unreachable.
        for statement in (
            "INSERT INTO runs (run_id, kind, started, inventory) "
            f"VALUES ('old-run', 'audit', '{MONDAY}', 'inventories/production')",
            "INSERT INTO hosts (name) VALUES ('web-01'), ('db-01')",
            "INSERT INTO outcomes (sha256, status, findings) VALUES "
            "('a', 'compliant', '{}'), ('b', 'unreachable', '{}')",
            "INSERT INTO results (run_pk, host_pk, outcome_pk) SELECT runs.pk, hosts.pk, "
            "outcomes.pk FROM runs, hosts, outcomes WHERE (hosts.name, outcomes.sha256) IN "
            "(('web-01', 'a'), ('db-01', 'b'))",
        ):
            connection.execute(sa.text(statement))
    engine.dispose()

    store = history.Store(location)
    assert store.revision() == history.newest_revision() != "0001"
    (run,) = store.runs()
    assert (run["run_id"], run["completion"]) == ("old-run", None)
    # What 0002 keeps beside the results, filled in for the run recorded before it.
    assert store.trend()[0]["counts"] == {"compliant": 1, "unreachable": 1}
    assert store.last_audited("inventories/production") == {
        "web-01": (MONDAY, MONDAY),
        "db-01": (None, MONDAY),
    }
    assert store.latest() == {"db-01": "unreachable", "web-01": "compliant"}
    store.record(report([host("web-01")], TUESDAY), "new-run", "/reports/new")
    assert [run["run_id"] for run in store.runs()] == ["old-run", "new-run"]
    assert store.last_audited("inventories/production")["web-01"] == (TUESDAY, MONDAY)


def test_a_store_with_a_newer_schema_is_refused_and_left_as_it_is(location):
    store = history.Store(location)
    store.record(report([host("web-01")], MONDAY), "run-1")
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(history.NewerSchema, match=r"0099\) is newer than this avshift knows"):
        history.Store(location)
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            "0099"
        )
        assert connection.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 1


def test_purging_removes_old_runs_and_what_only_they_referenced(store):
    store.record(report([host("gone-01"), host("web-01")], MONDAY), "monday")
    store.record(report([host("web-01", "unreachable")], TUESDAY), "tuesday")
    assert store.purge_before(TUESDAY) == 1
    assert [run["run_id"] for run in store.runs()] == ["tuesday"]
    assert _count(store, "hosts") == 1  # gone-01 only appeared on Monday
    assert _count(store, "outcomes") == 1
    assert store.latest() == {"web-01": "unreachable"}
    assert list(store.last_audited("inventories/production")) == ["web-01"]


def test_an_operator_is_erased_from_every_run_they_ran(store):
    store.record(report([host("web-01")], MONDAY, operator="jdoe"), "monday")
    store.record(report([host("web-01")], TUESDAY, operator="asmith"), "tuesday")
    assert store.erase_operator("jdoe") == 1
    assert [run["operator"] for run in store.runs()] == ["(erased)", "asmith"]


def test_a_timeline_lists_every_run_of_the_hosts_matching_a_pattern(store):
    store.record(report([host("web-01"), host("db-01")], MONDAY), "monday")
    store.record(
        report([host("web-01", "non-compliant", disallowed=[KESL]), host("db-01")], TUESDAY),
        "tuesday",
    )
    timeline = store.timeline("web-*")
    assert list(timeline) == ["web-01"]
    assert [entry["status"] for entry in timeline["web-01"]] == ["compliant", "non-compliant"]
    assert timeline["web-01"][1]["disallowed"] == [KESL]
    # The pattern's wildcards are * and ?, and SQL's own are plain characters.
    assert store.timeline("web_01") == {}
    assert store.timeline("w%") == {}
    assert store.timeline("?eb-0?").keys() == {"web-01"}


def _record_many(location: str, writer: int, runs: int, password: str | None) -> None:
    if password:
        os.environ["PGPASSWORD"] = password
    store = history.Store(location)
    for number in range(runs):
        # The same hosts and outcomes from both writers: new rows both would add.
        hosts = [host(f"web-{n:03}") for n in range(200)]
        store.record(report(hosts, MONDAY), f"writer-{writer}-run-{number}")


def test_two_writers_at_once_both_record_every_run(location):
    history.Store(location)  # migrated first, as the first run on a new store would
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_record_many, args=(location, n, 5, os.environ.get("PGPASSWORD")))
        for n in range(2)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
    assert [process.exitcode for process in writers] == [0, 0]
    store = history.Store(location)
    assert len(store.runs()) == 10
    assert _count(store, "results") == 10 * 200


def test_two_first_runs_on_an_empty_store_migrate_it_once(location):
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_record_many, args=(location, n, 1, os.environ.get("PGPASSWORD")))
        for n in range(2)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
    assert [process.exitcode for process in writers] == [0, 0]
    assert len(history.Store(location).runs()) == 2


def test_the_default_store_is_a_file_only_its_owner_can_read(own_history_store):
    store = history.Store()
    store.record(report([host("web-01")], MONDAY), "run-1")
    assert store.location == str(own_history_store)
    assert stat.S_IMODE(own_history_store.stat().st_mode) == 0o600
    assert stat.S_IMODE(own_history_store.parent.stat().st_mode) == 0o700


def test_a_url_with_a_password_is_refused_and_never_shown():
    url = "postgresql://avshift:S3cret-pw@db.example.org/avshift"
    with pytest.raises(history.HistoryError) as refused:
        history.Store(url)
    assert "S3cret-pw" not in str(refused.value)
    assert "PGPASSWORD" in str(refused.value)
    assert "S3cret-pw" not in history.masked(url)


def test_an_awx_job_is_warned_that_a_local_store_goes_with_it():
    assert history.unkept_reason({"JOB_ID": "42", "AWX_HOST": "https://awx.example.org"})
    assert "AWX job 42" in history.unkept_reason({"JOB_ID": "42", "AWX_HOST": "https://x"})
    assert history.unkept_reason({"JOB_ID": "42"}) is None
    assert history.unkept_reason({}) is None


def test_the_migrations_build_exactly_the_schema_the_code_reads(location):
    """The tables history.py declares and the ones its migrations create are the same:
    Alembic's own comparison finds no difference, on either store."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = history.Store(location)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), history.METADATA)
    assert differences == []


def test_the_latest_result_of_each_host_is_its_newest_run_in_scope(store):
    store.record(report([host("web-01"), host("db-01")], TUESDAY), "tuesday")
    # Recorded later, but run before (a killed run's record rendered afterwards).
    store.record(report([host("web-01", "non-compliant", disallowed=[KESL])], MONDAY), "monday")
    store.record(
        report([host("db-01", "unreachable")], WEDNESDAY, change_id="CHG0012345"), "change"
    )
    assert store.latest() == {"db-01": "unreachable", "web-01": "compliant"}
    assert store.latest("WEB-*") == {"web-01": "compliant"}
    assert store.latest(change_id="CHG0012345") == {"db-01": "unreachable"}
    assert store.latest(since=WEDNESDAY) == {"db-01": "unreachable"}
    assert store.latest("nothing-*") == {}
