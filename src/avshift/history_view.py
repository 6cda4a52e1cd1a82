"""avshift history: what a history store holds, for a person or a scheduled job.

The runs, each host's timeline (only the runs in which its status or findings changed,
with their evidence) and the fleet's trend. The exit code is the contract's, from the
latest result of each host in scope, so that a nightly job can gate on it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract, history
from avshift.playbook_run import ToolError, UsageError

FINDING_KEYS = ("disallowed", "other", "residue", "unreadable")


def parse_moment(text: str, option: str) -> str:
    """A date or a time with its offset, as the store's UTC ISO 8601 strings compare."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: expected a date (2026-12-01) or a time with its offset "
            "(2026-12-01T22:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        if "T" in text or " " in text:
            raise UsageError(f"{option} {text!r}: a time needs its offset, e.g. +00:00")
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


def open_store(choice: str | None) -> history.Store:
    try:
        return history.Store(choice, create=False)
    except history.HistoryError as exc:
        raise ToolError(f"history: {exc}") from None


def cmd_history(args: argparse.Namespace) -> int:
    if args.purge_before and args.erase_operator:
        raise UsageError("--purge-before and --erase-operator are two requests: one at a time")
    since = parse_moment(args.since, "--since") if args.since else None
    purge = parse_moment(args.purge_before, "--purge-before") if args.purge_before else None
    store = open_store(args.history)
    try:
        if purge:
            removed = store.purge_before(purge)
            print(f"avshift history: removed {contract.plural(removed, 'run')} before {purge}")
            return contract.Exit.OK
        if args.erase_operator:
            erased = store.erase_operator(args.erase_operator)
            if not erased:
                raise UsageError(f"--erase-operator: no run names {args.erase_operator!r}")
            print(
                f"avshift history: the operator's name is removed from "
                f"{contract.plural(erased, 'run')}"
            )
            return contract.Exit.OK
        latest = store.latest(args.host or "*", since=since, change_id=args.change)
        # A host's timeline is read for the hosts asked for, never for a whole fleet's year.
        timelines = store.timeline(args.host, since, args.change) if args.host else {}
        runs = store.runs(since=since, change_id=args.change)
        trend = store.trend()
    except history.HistoryError as exc:
        raise ToolError(f"history: {exc}") from None
    if not latest:
        raise UsageError(f"no recorded host in {store.location} matches {_scope(args)}")
    code = contract.exit_for_statuses(latest.values())
    if args.json:
        shown = {
            "store": store.location,
            "scope": {"host": args.host, "since": since, "change_id": args.change},
            "runs": [_run(run) for run in runs],
            "latest": latest,
            "trend": trend,
            "exit_code": int(code),
        }
        if args.host:
            shown["hosts"] = {host: changes(entries) for host, entries in timelines.items()}
        json.dump(shown, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return code
    if args.host:
        for host, entries in timelines.items():
            print_timeline(host, changes(entries))
    else:
        print_runs(runs)
        print_trend(trend)
    print(_latest_line(latest))
    return code


def _scope(args: argparse.Namespace) -> str:
    parts = [f"--host {args.host}" if args.host else "every host"]
    if args.since:
        parts.append(f"--since {args.since}")
    if args.change:
        parts.append(f"--change {args.change}")
    return " ".join(parts)


def _run(run) -> dict:
    return {key: value for key, value in dict(run).items() if key != "pk"}


def _fingerprint(entry: dict) -> tuple:
    return (
        entry["status"],
        tuple(
            (key, finding.get("vendor"), finding.get("product") or finding.get("name"))
            for key in FINDING_KEYS
            for finding in entry.get(key) or []
        ),
    )


def changes(entries: list[dict]) -> list[dict]:
    """The entries in which a host's status or findings differ from its entry before."""
    kept, last = [], None
    for entry in entries:
        fingerprint = _fingerprint(entry)
        if fingerprint != last:
            kept.append(entry)
        last = fingerprint
    return kept


def _evidence(finding: dict) -> str:
    shown = ", ".join(
        f"{item.get('kind')} {item.get('value')}" for item in finding.get("evidence") or []
    )
    name = finding.get("name") or finding.get("product") or finding.get("path")
    return f"{name} ({shown})" if shown else str(name)


def print_timeline(host: str, entries: list[dict]) -> None:
    print(host)
    for entry in entries:
        what = f"{entry['kind']} {entry['change_id']}" if entry.get("change_id") else entry["kind"]
        print(f"  {entry['started']}  {what:<24} {entry['status']}")
        for key in ("disallowed", "other"):
            for finding in entry.get(key) or []:
                print(f"      {key}: {_evidence(finding)}")
        if entry["status"] not in ("compliant", "non-compliant") and entry.get("message"):
            print(f"      {entry['message']}")


def print_runs(runs: list) -> None:
    print(f"{'started':<26} {'kind':<12} {'change':<14} {'exit':>4}  operator")
    for run in runs:
        print(
            f"{run['started'] or '-':<26} {run['kind']:<12} {run['change_id'] or '-':<14} "
            f"{run['exit_code'] if run['exit_code'] is not None else '-':>4}  "
            f"{run['operator'] or '-'}"
        )


def print_trend(trend: list[dict]) -> None:
    if not trend:
        return
    print("Compliance over the last runs:")
    for point in trend:
        total = sum(point["counts"].values())
        compliant = point["counts"].get("compliant", 0)
        share = 100.0 * compliant / total if total else 0.0
        print(f"  {point['started']}  {compliant:>6}/{total:<6} compliant ({share:5.1f} %)")


def _latest_line(latest: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for status in latest.values():
        counts[status] = counts.get(status, 0) + 1
    shown = ", ".join(
        f"{counts[status]} {status}" for status in contract.STATUS_IDS if status in counts
    )
    return f"Latest result of {contract.plural(len(latest), 'host')}: {shown}"
