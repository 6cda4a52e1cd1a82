# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Campaign history: every audit and remediation kept, and each host compared with itself.

A removal campaign lasts months and what was removed comes back (a management server
redeploys its agent, an old image is redeployed). The fleet_report callback records each
run here once its reports are written, and reads the hosts' previous results first, so
that every report says what changed since the last run of the same inventory and limit.

SQLite by default (a file under the user's data directory, mode 0600); PostgreSQL by URL
for teams whose controllers or AWX execution nodes are many. Same schema, same code,
through SQLAlchemy Core; Alembic migrates a store on first use and refuses one whose
schema is newer than this avshift knows. A store that cannot be used never costs a
report: the run says so in one warning line and goes on.

Host results are stored compactly for a year of daily audits of a large fleet: a host's
outcome (status, message, findings) is stored once and referenced by every run in which
it is the same.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract

try:
    import sqlalchemy as sa
    from alembic import command as alembic_command
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
except ImportError:  # plain ansible-playbook with only ansible-core: no history
    sa = None

MIGRATIONS = Path(__file__).with_name("history_migrations")
SQLITE_NAME = "history.sqlite"
# What turns history off, wherever a store is chosen (--history, AVSHIFT_HISTORY, ini).
OFF_WORDS = ("off", "none", "no", "false", "0")
# PostgreSQL advisory lock keys (any two numbers of this application's own).
_MIGRATION_LOCK, _RECORDING_LOCK = 7261746, 7261747
# How long a writer waits for a store another run is writing to.
BUSY_TIMEOUT_SECONDS = 30
# How many runs a report's trend chart and `avshift history` show.
TREND_RUNS = 30
# A host not audited for this many days is listed as stale (--stale-days).
DEFAULT_STALE_DAYS = 30
OUTCOME_KEYS = ("disallowed", "approved", "other", "residue", "unreadable")

if sa is not None:
    METADATA = sa.MetaData()
    RUNS = sa.Table(
        "runs",
        METADATA,
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started", sa.String(40)),
        sa.Column("ended", sa.String(40)),
        sa.Column("change_id", sa.String(200)),
        sa.Column("operator", sa.String(200)),
        sa.Column("inventory", sa.Text),
        sa.Column("limit_pattern", sa.Text),
        sa.Column("policy_source", sa.Text),
        sa.Column("policy_sha256", sa.String(64)),
        sa.Column("tool_version", sa.String(40)),
        sa.Column("exit_code", sa.Integer),
        sa.Column("completion", sa.String(100)),
        sa.Column("report_dir", sa.Text),
        sa.Column("controller", sa.String(255)),
        # Hosts per status (JSON): the fleet trend without a scan of the results.
        sa.Column("counts", sa.Text),
        sa.Index("runs_by_inventory", "inventory", "started"),
    )
    HOSTS = sa.Table(
        "hosts",
        METADATA,
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
    )
    OUTCOMES = sa.Table(
        "outcomes",
        METADATA,
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("findings", sa.Text, nullable=False),
    )
    # Per inventory and host: when it was first recorded and last audited (read), and its
    # latest result, kept up to date as runs are recorded: a report's stale hosts and a
    # fleet's latest statuses are one lookup.
    SIGHTINGS = sa.Table(
        "host_sightings",
        METADATA,
        sa.Column("inventory", sa.Text, primary_key=True),
        sa.Column("host_pk", sa.Integer, sa.ForeignKey("hosts.pk"), primary_key=True),
        sa.Column("first_recorded", sa.String(40)),
        sa.Column("last_audited", sa.String(40)),
        # The host's latest result in the inventory's runs: `avshift history` reads a
        # fleet's latest statuses here, not from a year of results.
        sa.Column("last_started", sa.String(40)),
        sa.Column("last_outcome_pk", sa.Integer, sa.ForeignKey("outcomes.pk")),
        sqlite_with_rowid=False,
    )
    RESULTS = sa.Table(
        "results",
        METADATA,
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk"), primary_key=True),
        sa.Column("host_pk", sa.Integer, sa.ForeignKey("hosts.pk"), primary_key=True),
        sa.Column("outcome_pk", sa.Integer, sa.ForeignKey("outcomes.pk"), nullable=False),
        sa.Column("actions", sa.Text),
        sa.Index("results_by_host", "host_pk", "run_pk"),
        sqlite_with_rowid=False,
    )


class HistoryError(Exception):
    """The store cannot be used: the message says why, for one warning line."""


class NewerSchema(HistoryError):
    """The store was written by a newer avshift: it is refused, never modified."""


def default_location() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "avshift" / SQLITE_NAME


def is_off(choice: str | None) -> bool:
    return choice is not None and choice.strip().lower() in OFF_WORDS


def masked(url: str) -> str:
    """A store's location as any output may show it: never with a password."""
    if "://" not in url:
        return url
    if sa is None:
        return url.split("://", 1)[0] + "://..."
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _engine_url(choice: str | None) -> tuple[str, bool]:
    """(SQLAlchemy URL, whether it is a local SQLite file) of a --history choice."""
    if not choice:
        choice = str(default_location())
    if "://" not in choice:
        path = Path(os.path.expanduser(choice))
        return f"sqlite:///{path.absolute()}", True
    url = sa.engine.make_url(choice)
    if url.password:
        raise HistoryError(
            f"{masked(choice)}: a store's URL never carries its password; give it in "
            "PGPASSWORD, ~/.pgpass or a pg_service.conf service"
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), url.drivername.startswith("sqlite")


def _prepare_sqlite_file(url: str) -> None:
    path = Path(sa.engine.make_url(url).database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # The store names every host, what runs on it and who ran each change.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)


def unkept_reason(environ: Mapping[str, str] | None = None) -> str | None:
    """Why a local SQLite store would be thrown away with the job that wrote it.

    An AWX / Automation Controller job runs in an execution-environment container that is
    removed when the job ends; AWX's job environment always names the job (JOB_ID) and the
    controller (AWX_HOST) (awx/main/tasks/jobs.py, RunJob.build_env). Other containers are
    not guessed at: a controller container with a kept volume is a common, sound set-up.
    """
    environ = os.environ if environ is None else environ
    if environ.get("JOB_ID") and environ.get("AWX_HOST"):
        return f"this is AWX job {environ['JOB_ID']}, whose execution environment is removed"
    return None


def _store_errors(method):
    """A store's failure (locked past the timeout, corrupt, full, gone) as HistoryError."""

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            raise HistoryError(f"{self.location}: {self._reason(exc)}") from None

    return wrapped


class Store:
    """One history store, opened, migrated and ready."""

    def __init__(self, choice: str | None = None, create: bool = True):
        if sa is None:
            raise HistoryError(
                "SQLAlchemy and Alembic are not installed with this ansible-core: no history "
                "is recorded (pip install sqlalchemy alembic, or use the avshift CLI's venv)"
            )
        url, self.sqlite = _engine_url(choice)
        self._url = sa.engine.make_url(url)
        self.location = masked(choice or str(default_location()))
        try:
            if self.sqlite:
                if not create and not Path(sa.engine.make_url(url).database).is_file():
                    raise HistoryError(f"{self.location}: no such store (no run was recorded)")
                _prepare_sqlite_file(url)
                self.engine = sa.create_engine(
                    url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}, poolclass=sa.pool.NullPool
                )
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
                sa.event.listen(self.engine, "begin", _sqlite_begin)
            else:
                self.engine = sa.create_engine(
                    url,
                    connect_args={"connect_timeout": BUSY_TIMEOUT_SECONDS},
                    poolclass=sa.pool.NullPool,
                )
            self._migrate()
        except HistoryError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise HistoryError(f"{self.location}: {self._reason(exc)}") from None

    def _reason(self, exc: BaseException) -> str:
        reason = _reason(exc)
        if self.sqlite and _file_system_full(self._url.database):
            # SQLite says "disk I/O error" when it cannot even create its WAL index.
            reason += " (its file system is full)"
        return reason

    # -- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.engine.begin() as connection:
            if not self.sqlite:
                # Two controllers starting on an empty store migrate one after the other.
                connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            config = alembic_config(connection)
            current = MigrationContext.configure(connection).get_current_revision()
            scripts = ScriptDirectory.from_config(config)
            known = {revision.revision for revision in scripts.walk_revisions()}
            if current is not None and current not in known:
                raise NewerSchema(
                    f"{self.location}: its schema ({current}) is newer than this avshift knows "
                    f"({scripts.get_current_head()}); upgrade avshift to use it (it is left as "
                    "it is)"
                )
            if current != scripts.get_current_head():
                alembic_command.upgrade(config, "head")

    @_store_errors
    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    # -- recording ----------------------------------------------------------------------

    @_store_errors
    def record(self, report: Mapping, run_id: str, report_dir: str | None = None) -> int:
        """Record a run and each host's result; returns the run's key in the store."""
        run = report.get("run") or {}
        with self.engine.begin() as connection:
            if not self.sqlite:
                # One recording at a time, as SQLite's BEGIN IMMEDIATE has it: two runs
                # that add the same new outcome or host would otherwise both insert it.
                connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({_RECORDING_LOCK})"))
            existing = connection.execute(
                sa.select(RUNS.c.pk).where(RUNS.c.run_id == run_id)
            ).scalar()
            if existing is not None:
                # Rendered again (avshift report DIR): the results are the same run's.
                connection.execute(RESULTS.delete().where(RESULTS.c.run_pk == existing))
                connection.execute(RUNS.delete().where(RUNS.c.pk == existing))
            run_pk = connection.execute(
                RUNS.insert().values(
                    run_id=run_id,
                    kind=report.get("kind") or "audit",
                    started=run.get("started"),
                    ended=run.get("ended"),
                    change_id=run.get("change_id"),
                    operator=run.get("operator"),
                    inventory=run.get("inventory"),
                    limit_pattern=run.get("limit"),
                    policy_source=(run.get("policy") or {}).get("source"),
                    policy_sha256=(run.get("policy") or {}).get("sha256"),
                    tool_version=(report.get("tool") or {}).get("version"),
                    exit_code=run.get("exit_code"),
                    completion=run.get("completion"),
                    report_dir=report_dir,
                    controller=run.get("controller"),
                    counts=_json(_counts(report["hosts"])),
                )
            ).inserted_primary_key[0]
            hosts = self._keys(connection, HOSTS, "name", [h["host"] for h in report["hosts"]])
            outcomes = {}
            rows = []
            for host in report["hosts"]:
                outcome = _outcome(host)
                outcomes.setdefault(outcome["sha256"], outcome)
                rows.append((host, outcome["sha256"]))
            outcome_keys = self._outcome_keys(connection, outcomes)
            connection.execute(
                RESULTS.insert(),
                [
                    {
                        "run_pk": run_pk,
                        "host_pk": hosts[host["host"]],
                        "outcome_pk": outcome_keys[digest],
                        "actions": _json(host.get("actions")) if host.get("actions") else None,
                    }
                    for host, digest in rows
                ],
            )
            self._sighted(
                connection,
                run.get("inventory"),
                run.get("started"),
                report,
                hosts,
                {host["host"]: outcome_keys[digest] for host, digest in rows},
            )
            return run_pk

    @staticmethod
    def _sighted(connection, inventory, started, report, hosts, outcomes) -> None:
        """Bring the inventory's host sightings up to this run (recorded in any order:
        a run older than a host's latest changes only its first and last audit)."""
        if started is None:
            return
        inventory = inventory or ""
        audited = {
            host["host"] for host in report["hosts"] if host["status"] in contract.AUDITED_STATUSES
        }
        columns = ("first_recorded", "last_audited", "last_started", "last_outcome_pk")
        known = {}
        for chunk in _chunks(sorted(hosts.values())):
            rows = connection.execute(
                sa.select(SIGHTINGS.c.host_pk, *(SIGHTINGS.c[c] for c in columns)).where(
                    SIGHTINGS.c.inventory == inventory, SIGHTINGS.c.host_pk.in_(chunk)
                )
            )
            known.update({row[0]: tuple(row[1:]) for row in rows})
        new, changed = [], []
        for name, pk in hosts.items():
            now = (started, started if name in audited else None, started, outcomes[name])
            if pk not in known:
                new.append(
                    {"inventory": inventory, "host_pk": pk, **dict(zip(columns, now, strict=True))}
                )
                continue
            was = known[pk]
            first = min(was[0], started) if was[0] else started
            last_audited = max(filter(None, (was[1], now[1])), default=None)
            latest = now[2:] if not was[2] or started >= was[2] else was[2:]
            kept = (first, last_audited, *latest)
            if kept != was:
                changed.append(
                    {"key": pk, **{f"new_{c}": v for c, v in zip(columns, kept, strict=True)}}
                )
        if new:
            connection.execute(SIGHTINGS.insert(), new)
        if changed:
            connection.execute(
                SIGHTINGS.update()
                .where(
                    SIGHTINGS.c.inventory == inventory,
                    SIGHTINGS.c.host_pk == sa.bindparam("key"),
                )
                .values({c: sa.bindparam(f"new_{c}") for c in columns}),
                changed,
            )

    @staticmethod
    def _keys(connection, table, column, values: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(values))
        found = {}
        for chunk in _chunks(wanted):
            rows = connection.execute(
                sa.select(table.c[column], table.c.pk).where(table.c[column].in_(chunk))
            )
            found.update(dict(rows.all()))
        missing = [value for value in wanted if value not in found]
        if missing:
            connection.execute(table.insert(), [{column: value} for value in missing])
            for chunk in _chunks(missing):
                rows = connection.execute(
                    sa.select(table.c[column], table.c.pk).where(table.c[column].in_(chunk))
                )
                found.update(dict(rows.all()))
        return found

    def _outcome_keys(self, connection, outcomes: Mapping[str, dict]) -> dict[str, int]:
        found = {}
        digests = list(outcomes)
        for chunk in _chunks(digests):
            rows = connection.execute(
                sa.select(OUTCOMES.c.sha256, OUTCOMES.c.pk).where(OUTCOMES.c.sha256.in_(chunk))
            )
            found.update(dict(rows.all()))
        missing = [outcomes[d] for d in digests if d not in found]
        if missing:
            connection.execute(OUTCOMES.insert(), missing)
            for chunk in _chunks([m["sha256"] for m in missing]):
                rows = connection.execute(
                    sa.select(OUTCOMES.c.sha256, OUTCOMES.c.pk).where(OUTCOMES.c.sha256.in_(chunk))
                )
                found.update(dict(rows.all()))
        return found

    # -- reading ------------------------------------------------------------------------

    @_store_errors
    def previous_run(
        self,
        inventory: str | None,
        limit: str | None,
        run_id: str | None = None,
        started: str | None = None,
    ):
        """The last run of the same inventory and limit pattern before the run run_id that
        started at `started` (rendered again later, a run still compares with its own
        predecessor, not with what came after it)."""
        query = sa.select(RUNS).where(
            _same(RUNS.c.inventory, inventory), _same(RUNS.c.limit_pattern, limit)
        )
        if run_id is not None:
            query = query.where(RUNS.c.run_id != run_id)
        if started is not None:
            query = query.where(RUNS.c.started <= started)
        query = query.order_by(RUNS.c.started.desc(), RUNS.c.pk.desc()).limit(1)
        with self.engine.connect() as connection:
            return connection.execute(query).mappings().first()

    @_store_errors
    def results_of(self, run_pk: int) -> dict[str, dict]:
        query = (
            sa.select(HOSTS.c.name, OUTCOMES.c.status, OUTCOMES.c.message, OUTCOMES.c.findings)
            .select_from(RESULTS.join(HOSTS).join(OUTCOMES))
            .where(RESULTS.c.run_pk == run_pk)
        )
        with self.engine.connect() as connection:
            return {
                row.name: {"status": row.status, "message": row.message, **json.loads(row.findings)}
                for row in connection.execute(query)
            }

    @_store_errors
    def last_audited(self, inventory: str | None) -> dict[str, tuple[str | None, str]]:
        """Per host of the inventory's runs: when it was last audited (read, whatever the
        verdict; None: never) and when it was first recorded."""
        query = (
            sa.select(HOSTS.c.name, SIGHTINGS.c.last_audited, SIGHTINGS.c.first_recorded)
            .select_from(SIGHTINGS.join(HOSTS))
            .where(SIGHTINGS.c.inventory == (inventory or ""))
        )
        with self.engine.connect() as connection:
            return {name: (last, first) for name, last, first in connection.execute(query)}

    @_store_errors
    def runs(self, since: str | None = None, change_id: str | None = None, limit: int = 1000):
        query = sa.select(RUNS)
        if since:
            query = query.where(RUNS.c.started >= since)
        if change_id:
            query = query.where(RUNS.c.change_id == change_id)
        query = query.order_by(RUNS.c.pk.desc()).limit(limit)
        with self.engine.connect() as connection:
            return list(reversed(connection.execute(query).mappings().all()))

    def _hosts_matching(self, connection, host_pattern: str) -> dict[int, str]:
        # Host names compare without case on both stores, as DNS names do.
        query = sa.select(HOSTS.c.pk, HOSTS.c.name)
        if host_pattern != "*":
            query = query.where(HOSTS.c.name.ilike(_like(host_pattern), escape="\\"))
        return dict(connection.execute(query).all())

    @staticmethod
    def _in_scope(query, since: str | None, change_id: str | None):
        if since:
            query = query.where(RUNS.c.started >= since)
        if change_id:
            query = query.where(RUNS.c.change_id == change_id)
        return query

    @_store_errors
    def timeline(
        self, host_pattern: str = "*", since: str | None = None, change_id: str | None = None
    ) -> dict[str, list[dict]]:
        """Per host matching the pattern (* and ? as wildcards): every run's result in
        scope, oldest first. The hosts are looked up first, then their results through
        the results_by_host index: one host's year is a few hundred rows, not a scan."""
        found: dict[str, list[dict]] = {}
        with self.engine.connect() as connection:
            hosts = self._hosts_matching(connection, host_pattern)
            for chunk in _chunks(sorted(hosts)):
                query = self._in_scope(
                    sa.select(
                        RESULTS.c.host_pk,
                        RUNS.c.run_id,
                        RUNS.c.kind,
                        RUNS.c.started,
                        RUNS.c.change_id,
                        OUTCOMES.c.status,
                        OUTCOMES.c.message,
                        OUTCOMES.c.findings,
                    )
                    .select_from(RESULTS.join(RUNS).join(OUTCOMES))
                    .where(RESULTS.c.host_pk.in_(chunk))
                    .order_by(RESULTS.c.host_pk, RUNS.c.started, RUNS.c.pk),
                    since,
                    change_id,
                )
                for row in connection.execute(query):
                    found.setdefault(hosts[row.host_pk], []).append(
                        {
                            "run_id": row.run_id,
                            "kind": row.kind,
                            "started": row.started,
                            "change_id": row.change_id,
                            "status": row.status,
                            "message": row.message,
                            **json.loads(row.findings),
                        }
                    )
        return dict(sorted(found.items()))

    @_store_errors
    def latest(
        self, host_pattern: str = "*", since: str | None = None, change_id: str | None = None
    ) -> dict[str, str]:
        """Per host matching the pattern: its status in its latest run in scope (started
        since `since`, of change `change_id`)."""
        with self.engine.connect() as connection:
            hosts = self._hosts_matching(connection, host_pattern)
            if change_id:
                return self._latest_of_change(connection, hosts, since, change_id)
            # A host's latest run since a date is its latest run, if that is since then.
            query = sa.select(
                SIGHTINGS.c.host_pk, SIGHTINGS.c.last_started, OUTCOMES.c.status
            ).select_from(SIGHTINGS.join(OUTCOMES))
            if since:
                query = query.where(SIGHTINGS.c.last_started >= since)
            newest: dict[int, tuple[str, str]] = {}
            for pk, started, status in connection.execute(query):
                if pk in hosts and (pk not in newest or started > newest[pk][0]):
                    newest[pk] = (started, status)
        return dict(sorted((hosts[pk], status) for pk, (_started, status) in newest.items()))

    def _latest_of_change(self, connection, hosts, since, change_id) -> dict[str, str]:
        ranked = self._in_scope(
            sa.select(
                RESULTS.c.host_pk,
                RESULTS.c.outcome_pk,
                sa.func.row_number()
                .over(
                    partition_by=RESULTS.c.host_pk,
                    order_by=(RUNS.c.started.desc(), RUNS.c.pk.desc()),
                )
                .label("newest"),
            ).select_from(RESULTS.join(RUNS)),
            since,
            change_id,
        ).subquery()
        query = (
            sa.select(ranked.c.host_pk, OUTCOMES.c.status)
            .select_from(ranked.join(OUTCOMES, OUTCOMES.c.pk == ranked.c.outcome_pk))
            .where(ranked.c.newest == 1)
        )
        return dict(
            sorted((hosts[pk], status) for pk, status in connection.execute(query) if pk in hosts)
        )

    @_store_errors
    def trend(
        self, runs: int = TREND_RUNS, inventory: str | None = None, before: str | None = None
    ) -> list[dict]:
        """Compliance over the last runs (of an inventory, up to a time): hosts per status."""
        query = sa.select(RUNS.c.run_id, RUNS.c.started, RUNS.c.kind, RUNS.c.counts)
        if inventory is not None:
            query = query.where(RUNS.c.inventory == inventory)
        if before is not None:
            query = query.where(RUNS.c.started <= before)
        query = query.order_by(RUNS.c.started.desc(), RUNS.c.pk.desc()).limit(runs)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "run_id": run_id,
                "started": started,
                "kind": kind,
                "counts": json.loads(counts) if counts else {},
            }
            for run_id, started, kind, counts in reversed(rows)
        ]

    # -- retention and erasure ------------------------------------------------------------

    @_store_errors
    def purge_before(self, date: str) -> int:
        """Remove every run that started before date, and what only they referenced."""
        with self.engine.begin() as connection:
            old = sa.select(RUNS.c.pk).where(RUNS.c.started < date)
            connection.execute(RESULTS.delete().where(RESULTS.c.run_pk.in_(old)))
            removed = connection.execute(RUNS.delete().where(RUNS.c.started < date)).rowcount
            # A host's sighting in an inventory goes with the last of its results there
            # (its latest result is then gone too); what it says of earlier audits stays.
            remaining = (
                sa.select(RESULTS.c.host_pk)
                .select_from(RESULTS.join(RUNS))
                .where(
                    RESULTS.c.host_pk == SIGHTINGS.c.host_pk,
                    sa.func.coalesce(RUNS.c.inventory, "") == SIGHTINGS.c.inventory,
                )
            )
            connection.execute(SIGHTINGS.delete().where(~remaining.exists()))
            connection.execute(
                OUTCOMES.delete().where(
                    ~OUTCOMES.c.pk.in_(sa.select(RESULTS.c.outcome_pk)),
                    ~OUTCOMES.c.pk.in_(
                        sa.select(SIGHTINGS.c.last_outcome_pk).where(
                            SIGHTINGS.c.last_outcome_pk.is_not(None)
                        )
                    ),
                )
            )
            connection.execute(HOSTS.delete().where(~HOSTS.c.pk.in_(sa.select(RESULTS.c.host_pk))))
        if self.sqlite:
            # Outside any transaction (the driver's own connection, which begins none
            # itself): what was removed is given back to the file system.
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.execute("VACUUM")
            finally:
                raw.close()
        return removed

    @_store_errors
    def erase_operator(self, name: str) -> int:
        """Remove a person's name from every run they ran (a request under data law)."""
        with self.engine.begin() as connection:
            return connection.execute(
                RUNS.update().where(RUNS.c.operator == name).values(operator="(erased)")
            ).rowcount


def alembic_config(connection=None) -> AlembicConfig:
    """Alembic's configuration for the store's migrations, on an open connection."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def newest_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Transactions are begun by _sqlite_begin, not by the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: a reader never blocks the writer; two writers wait for each other.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Take the write lock at once: two recording runs then queue (busy_timeout) instead of
    # one failing when both read first and then both want to write.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _counts(hosts: Iterable[Mapping]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for host in hosts:
        counts[host["status"]] = counts.get(host["status"], 0) + 1
    return {status: counts[status] for status in contract.STATUS_IDS if status in counts}


def _outcome(host: Mapping) -> dict:
    """A host's result as stored once: status, message, and its findings by vendor and
    product with their evidence (what a timeline shows appearing and going)."""
    findings = {key: host.get(key) or [] for key in OUTCOME_KEYS}
    text = _json({"status": host["status"], "message": host.get("message"), **findings})
    return {
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "status": host["status"],
        "message": host.get("message"),
        "findings": _json(findings),
    }


def _file_system_full(database: str | None) -> bool:
    try:
        usage = os.statvfs(os.path.dirname(os.path.abspath(database or ".")))
    except OSError:
        return False
    return usage.f_bavail == 0 or usage.f_favail == 0


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:300]


# --- drift: what changed since the last run ----------------------------------------------


@dataclass
class Drift:
    previous_run: dict | None
    regressed: list[dict] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    newly_seen: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    stale: list[dict] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        previous = self.previous_run or {}
        return {
            "previous_run": {
                key: previous.get(key) for key in ("run_id", "kind", "started", "change_id")
            }
            if self.previous_run
            else None,
            "regressed": self.regressed,
            "fixed": self.fixed,
            "newly_seen": self.newly_seen,
            "missing": self.missing,
            "added": self.added,
            "stale": self.stale,
            "trend": self.trend,
        }


def _names(findings: Iterable[Mapping]) -> set[tuple[str, str]]:
    return {(str(f.get("vendor")), str(f.get("name") or f.get("product"))) for f in findings}


def drift(
    store: Store,
    report: Mapping,
    run_id: str,
    stale_days: int = DEFAULT_STALE_DAYS,
    now: datetime.datetime | None = None,
) -> Drift:
    """Each host of a report against its own result in the previous run of the same
    inventory and --limit pattern."""
    run = report.get("run") or {}
    previous = store.previous_run(
        run.get("inventory"), run.get("limit"), run_id=run_id, started=run.get("started")
    )
    found = Drift(previous_run=dict(previous) if previous else None)
    before = store.results_of(previous["pk"]) if previous else {}
    hosts = {host["host"]: host for host in report["hosts"]}
    for name, host in hosts.items():
        old = before.get(name)
        if old is None:
            continue
        if old["status"] == "compliant" and host["status"] != "compliant":
            appeared = sorted(
                _names((host.get("disallowed") or []) + (host.get("other") or []))
                - _names((old.get("disallowed") or []) + (old.get("other") or []))
            )
            found.regressed.append(
                {
                    "host": name,
                    "status": host["status"],
                    "was": old["status"],
                    "appeared": [{"vendor": v, "name": n} for v, n in appeared],
                    "message": host.get("message"),
                }
            )
        elif old["status"] != "compliant" and host["status"] == "compliant":
            found.fixed.append(name)
        for key in ("disallowed", "other"):
            new = _names(host.get(key) or []) - _names(old.get(key) or [])
            found.newly_seen += [
                {"host": name, "kind": key, "vendor": v, "name": n} for v, n in sorted(new)
            ]
    found.missing = sorted(set(before) - set(hosts))
    found.added = sorted(set(hosts) - set(before)) if previous else []
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    cutoff = (moment - datetime.timedelta(days=stale_days)).isoformat(timespec="seconds")
    audited_now = {
        name for name, host in hosts.items() if host["status"] in contract.AUDITED_STATUSES
    }
    for name, (last, first) in sorted(store.last_audited(run.get("inventory")).items()):
        if name in audited_now or first >= cutoff or (last and last >= cutoff):
            continue
        found.stale.append({"host": name, "last_audited": last})
    # The chart ends with this run, which is recorded only once its reports are written.
    earlier = [
        point
        for point in store.trend(inventory=run.get("inventory"), before=run.get("started"))
        if point["run_id"] != run_id
    ]
    found.trend = [*earlier[-(TREND_RUNS - 1) :], _point(run_id, report)]
    return found


def _point(run_id: str, report: Mapping) -> dict:
    run = report.get("run") or {}
    return {
        "run_id": run_id,
        "started": run.get("started"),
        "kind": report.get("kind"),
        "counts": {
            status: report["summary"][status]
            for status in contract.STATUS_IDS
            if report["summary"].get(status)
        },
    }
