"""The history store at a year of daily audits of a large fleet, on SQLite and PostgreSQL.

Records --days daily audits of --hosts generated hosts (most compliant with ClamAV or
Defender, a fifth with Kaspersky findings, some unreachable; each day about 1% of the
hosts change: Kaspersky redeployed, removed, a host unreachable for a day) and measures:

- recording one run (goal: under 2 s), the first and the last of the year, and the
  median over the year;
- the store's size after them (goal: under 500 MB);
- one host's timeline over the year and the fleet trend (goal: under 1 s each), and
  every host's latest status (what `avshift history` gates on);
- the drift of the year's last report against its predecessor, which every report
  computes before it is written.

SQLite is a file in a temporary directory; PostgreSQL a database of its own on the test
bed's server (tests/history/setup.sh, as root), dropped at the end.

    .venv/bin/python bench/history_store.py [--hosts 10000] [--days 365]
        [--stores sqlite,postgresql] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import history
from ansible_collections.avshift.remediation.plugins.plugin_utils.report import summarize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from history_stores import postgres_database  # the tests' own PostgreSQL

GOALS = {"record_s": 2.0, "size_mb": 500.0, "timeline_s": 1.0, "trend_s": 1.0}
START = datetime.datetime(2026, 1, 1, 6, tzinfo=datetime.timezone.utc)

CLAMAV = {
    "vendor": "clamav",
    "product": "clamav",
    "name": "ClamAV",
    "active": True,
    "evidence": [
        {"kind": "package", "value": "clamav-daemon 1.0.7+dfsg-1~deb12u1"},
        {"kind": "service", "value": "clamav-daemon"},
        {"kind": "process", "value": "/usr/sbin/clamd"},
    ],
}
DEFENDER = {
    "vendor": "microsoft",
    "product": "defender",
    "name": "Microsoft Defender Antivirus",
    "active": True,
    "evidence": [
        {"kind": "security_center", "value": "Windows Defender"},
        {"kind": "service", "value": "WinDefend"},
        {"kind": "process", "value": "MsMpEng"},
    ],
}
KASPERSKY = [
    {
        "vendor": "kaspersky",
        "product": "kesl",
        "name": "Kaspersky Endpoint Security for Linux",
        "evidence": [
            {"kind": "package", "value": "kesl 12.1.0-1297"},
            {"kind": "service", "value": "kesl"},
            {"kind": "path", "value": "/opt/kaspersky/kesl"},
        ],
    },
    {
        "vendor": "kaspersky",
        "product": "klnagent",
        "name": "Kaspersky Security Center Network Agent",
        "evidence": [
            {"kind": "msi", "value": "{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}"},
            {"kind": "service", "value": "klnagent"},
        ],
    },
]


class Fleet:
    """Every host's state, changed a little each day."""

    def __init__(self, hosts: int, seed: int = 20261201):
        self.rng = random.Random(seed)
        self.names = [f"host-{n:05}.corp.example.org" for n in range(hosts)]
        self.state = {name: self._initial() for name in self.names}

    def _initial(self) -> str:
        roll = self.rng.random()
        return "kaspersky" if roll < 0.2 else "unreachable" if roll < 0.23 else "protected"

    def next_day(self) -> None:
        for name in self.rng.sample(self.names, max(1, len(self.names) // 100)):
            self.state[name] = self.rng.choice(("kaspersky", "protected", "unreachable"))

    def host(self, name: str) -> dict:
        state = self.state[name]
        windows = name[-20] in "02468"  # half the fleet, fixed per host
        approved = DEFENDER if windows else CLAMAV
        base = {"host": name, "os_family": "windows" if windows else "linux"}
        if state == "unreachable":
            return {**base, "status": "unreachable", "message": "ssh: connect timed out"}
        if state == "kaspersky":
            return {
                **base,
                "status": "non-compliant",
                "message": "disallowed antivirus found",
                "disallowed": KASPERSKY,
                "approved": [approved],
                "other": [],
                "residue": [],
            }
        return {
            **base,
            "status": "compliant",
            "disallowed": [],
            "approved": [approved],
            "other": [],
            "residue": [],
        }

    def report(self, day: int) -> dict:
        hosts = [self.host(name) for name in self.names]
        started = (START + datetime.timedelta(days=day)).isoformat(timespec="seconds")
        return {
            "kind": "audit",
            "tool": {"name": "avshift", "version": "0.2.0"},
            "run": {
                "started": started,
                "ended": started,
                "inventory": "inventories/production",
                "limit": None,
                "policy": {"source": "policy.yml", "sha256": "ab" * 32},
                "operator": "svc-avshift",
                "exit_code": 1,
                "completion": "completed",
            },
            "hosts": hosts,
            "summary": summarize(hosts),
        }


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def _size_mb(store: history.Store, location: str) -> float:
    if store.sqlite:
        # Outside a transaction: the WAL folded into the file, whose size is then all.
        raw = store.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        path = Path(location)
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    with store.engine.connect() as connection:
        size = connection.exec_driver_sql("SELECT pg_database_size(current_database())")
        return size.scalar() / 1e6


def bench_store(kind: str, location: str, hosts: int, days: int) -> dict:
    store = history.Store(location)
    fleet = Fleet(hosts)
    record_seconds = []
    last_report = None
    for day in range(days):
        if day:
            fleet.next_day()
        report = fleet.report(day)
        if day == days - 1:
            drift_seconds, drift = _timed(history.drift, store, report, f"day-{day}")
            last_report = report
        seconds, _ = _timed(store.record, report, f"day-{day}", f"/reports/day-{day}")
        record_seconds.append(seconds)
        if day % 30 == 0 or day == days - 1:
            print(f"  {kind}: day {day + 1}/{days}, recorded in {seconds:.2f} s", flush=True)
    probe = fleet.names[hosts // 2]
    timeline_seconds, timeline = _timed(store.timeline, probe)
    trend_seconds, trend = _timed(store.trend)
    year_trend_seconds, year_trend = _timed(store.trend, runs=days)
    latest_seconds, latest = _timed(store.latest)
    return {
        "store": kind,
        "hosts": hosts,
        "days": days,
        "record_first_s": round(record_seconds[0], 3),
        "record_median_s": round(statistics.median(record_seconds), 3),
        "record_last_s": round(record_seconds[-1], 3),
        "record_max_s": round(max(record_seconds), 3),
        "size_mb": round(_size_mb(store, location), 1),
        "timeline_s": round(timeline_seconds, 3),
        "timeline_entries": len(timeline[probe]),
        "trend_s": round(trend_seconds, 3),
        "trend_points": len(trend),
        "trend_year_s": round(year_trend_seconds, 3),
        "trend_year_points": len(year_trend),
        "latest_s": round(latest_seconds, 3),
        "latest_hosts": len(latest),
        "drift_s": round(drift_seconds, 3),
        "drift_regressed": len(drift.regressed) if last_report else None,
    }


def goals(result: dict) -> dict:
    return {
        "record": result["record_max_s"] < GOALS["record_s"],
        "size": result["size_mb"] < GOALS["size_mb"],
        "timeline": result["timeline_s"] < GOALS["timeline_s"],
        "trend": max(result["trend_s"], result["trend_year_s"]) < GOALS["trend_s"],
    }


def table(results: list[dict]) -> str:
    rows = [
        "| store | record: first / median / last / max | size | timeline | trend (30 / year) "
        "| every host's latest | drift |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        met = goals(r)
        mark = {True: "", False: " **not met**"}
        rows.append(
            f"| {r['store']} | {r['record_first_s']} / {r['record_median_s']} / "
            f"{r['record_last_s']} / {r['record_max_s']} s{mark[met['record']]} "
            f"| {r['size_mb']} MB{mark[met['size']]} "
            f"| {r['timeline_s']} s ({r['timeline_entries']} runs){mark[met['timeline']]} "
            f"| {r['trend_s']} / {r['trend_year_s']} s{mark[met['trend']]} "
            f"| {r['latest_s']} s | {r['drift_s']} s |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: list[dict] = []

    def save() -> None:
        if args.json:
            args.json.write_text(json.dumps(_document(results), indent=2) + "\n")

    for kind in args.stores.split(","):
        print(f"{kind}: {args.days} daily audits of {args.hosts} hosts", flush=True)
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="avshift-bench-history-") as directory:
                results.append(
                    bench_store(kind, f"{directory}/history.sqlite", args.hosts, args.days)
                )
        else:
            with postgres_database(_Environment()) as url:
                results.append(bench_store(kind, url, args.hosts, args.days))
        # Each store's figures as soon as they are known: a later failure keeps them.
        print(table(results[-1:]), flush=True)
        save()
    print(table(results))


def _document(results: list[dict]) -> dict:
    return {
        "benchmark": "history_store",
        "run_id": str(uuid.uuid4()),
        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
        },
        "goals": GOALS,
        "results": results,
    }


class _Environment:
    """What postgres_database needs of pytest's monkeypatch: setenv."""

    @staticmethod
    def setenv(name: str, value: str) -> None:
        os.environ[name] = value


if __name__ == "__main__":
    main()
