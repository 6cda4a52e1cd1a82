"""The two kinds of history store the tests run against: a SQLite file of the test's own,
and a database of its own on the test bed's PostgreSQL (tests/history/setup.sh).

The PostgreSQL URL never holds the password: PGPASSWORD does, as a user's would.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BASE = Path("/var/lib/avshift-testbed/pg")
PG_SOCKET = PG_BASE / "run"
PG_PORT = 55432
PG_ROLE = "avshift"
KINDS = ("sqlite", "postgresql")


def postgres_password() -> str:
    try:
        return (PG_BASE / "password").read_text().strip()
    except OSError:
        pytest.fail(
            "the history tests' PostgreSQL is not set up: run tests/history/setup.sh as root"
        )


def postgres_url(database: str) -> str:
    return f"postgresql://{PG_ROLE}@/{database}?host={PG_SOCKET}&port={PG_PORT}"


def _admin(password: str):
    import psycopg

    return psycopg.connect(
        host=str(PG_SOCKET),
        port=PG_PORT,
        user=PG_ROLE,
        password=password,
        dbname="postgres",
        autocommit=True,
    )


@contextlib.contextmanager
def postgres_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty database; its URL, with PGPASSWORD set for whoever connects."""
    password = postgres_password()
    monkeypatch.setenv("PGPASSWORD", password)
    name = f"avshift_test_{uuid.uuid4().hex[:12]}"
    with _admin(password) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        # Not WITH (FORCE): that would have to signal an autovacuum worker, which only a
        # superuser may; a plain DROP ends those itself. The store's engines keep no
        # connection open (NullPool).
        with _admin(password) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


@contextlib.contextmanager
def store_location(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where a test's store is: a path (SQLite) or a URL (PostgreSQL)."""
    if kind == "sqlite":
        yield str(tmp_path / "store" / "history.sqlite")
        return
    with postgres_database(monkeypatch) as url:
        yield url


KESL = {
    "vendor": "kaspersky",
    "product": "kesl",
    "name": "Kaspersky Endpoint Security for Linux",
    "evidence": [{"kind": "package", "value": "kesl 12.1.0-1297"}],
}
CLAMAV = {
    "vendor": "clamav",
    "product": "clamav",
    "name": "ClamAV",
    "active": True,
    "evidence": [{"kind": "service", "value": "clamav-daemon"}],
}


def host(name: str, status: str = "compliant", **findings) -> dict:
    """A host of a report, compliant with an active ClamAV unless told otherwise."""
    result = {"host": name, "status": status, "os_family": "linux"}
    result["approved"] = findings.pop("approved", [CLAMAV] if status == "compliant" else [])
    result.update({key: findings.pop(key, []) for key in ("disallowed", "other", "residue")})
    if status not in ("compliant", "non-compliant"):
        result["message"] = findings.pop("message", f"{status} in this test")
    result.update(findings)
    return result


def report(
    hosts: list[dict],
    started: str,
    inventory: str = "inventories/production",
    limit: str | None = None,
    kind: str = "audit",
    **run,
) -> dict:
    """A report as record.render hands it to the store (summary included)."""
    from ansible_collections.avshift.remediation.plugins.plugin_utils import contract
    from ansible_collections.avshift.remediation.plugins.plugin_utils.report import summarize

    summary = summarize(hosts)
    return {
        "kind": kind,
        "tool": {"name": "avshift", "version": "0.2.0"},
        "run": {
            "started": started,
            "ended": started,
            "inventory": inventory,
            "limit": limit,
            "policy": {"source": "policy.yml", "sha256": "ab" * 32},
            "exit_code": int(contract.exit_for_summary(summary)),
            "completion": "completed",
            **run,
        },
        "hosts": hosts,
        "summary": summary,
    }


def verdict(compliant: bool = True, **findings) -> dict:
    """What av_scan returns for a Linux host: ClamAV active, Kaspersky if given."""
    return {
        "os_family": "linux",
        "compliant": compliant,
        "approved": findings.pop("approved", [CLAMAV] if compliant else []),
        **{key: findings.pop(key, []) for key in ("disallowed", "other", "residue")},
        **findings,
    }


def write_journal(
    directory: Path,
    run_id: str,
    started: str,
    hosts: dict[str, dict | str],
    inventory: str = "inventories/production",
    limit: str | None = None,
    **run_event,
) -> Path:
    """The journal of a finished audit, as the fleet_report callback writes it: each host
    scanned (a verdict) or unreachable (its message); run_event adds to its first event."""
    from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import (
        JournalWriter,
    )

    directory.mkdir(parents=True)
    journal = JournalWriter(directory / "journal.jsonl", run_id)
    journal.append(
        "run",
        started=started,
        playbook="audit.yml",
        inventory=[inventory],
        limit=limit,
        user="jdoe",
        controller="controller-01",
        **run_event,
    )
    journal.append("play", hosts=list(hosts))
    journal.append("scan_started")
    for name, result in hosts.items():
        if isinstance(result, str):
            journal.append("unreachable", host=name, message=result)
        else:
            journal.append("scan", host=name, verdict={**result, "host": name})
    journal.append("stats", processed=sorted(hosts), failures={}, changed={})
    journal.append("end", status="ended")
    journal.close()
    return directory
