# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report every format renders: its shape, its checks, and what the writer derives.

checked_report() refuses a report that a format could not walk, and adds the two things
the writer derives (the summary, and a non-compliant host's reason), so that every format
renders the same facts. The helpers below read a report the way every format reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from ansible_collections.avshift.remediation.plugins.plugin_utils.change import batch_as_written
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import explain
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    CONFIRMATIONS,
    PROTECTION_STATES,
    STATUS_IDS,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import (
    InputError,
    describe_type,
)

STATUSES = STATUS_IDS
FINDING_KEYS = ("disallowed", "approved", "other", "residue")
REMEDIATION_HOST_KEYS = ("before", "after", "plan", "actions", "reboot")
KNOWN_HOST_KEYS = frozenset(
    (
        "host",
        "status",
        "os_family",
        "message",
        "duration_seconds",
        # What the scan could not read, Ansible's count of the host's changed tasks, and
        # why a remediated host has no scan after: the page words each in its place,
        # none is a section of its own.
        "unreadable",
        "changed",
        "after_unknown",
        *FINDING_KEYS,
        *REMEDIATION_HOST_KEYS,
    )
)
KNOWN_RUN_KEYS = ("started", "ended", "inventory", "playbook", "check_mode", "policy")
CHANGE_RUN_KEYS = (
    "change_id",
    # Who: the name the operator or AWX gave (may be absent), and the OS account that
    # ran the change, read from the process's user id.
    "operator",
    "os_account",
    # Only when a site overrode the collection's pattern.
    "change_id_pattern",
    # How a real run was allowed to start: a key of contract.CONFIRMATIONS, or absent.
    "confirmation",
    "window",
    "batch",
    "max_fail_percentage",
    "reboot_policy",
)
# A run without a confirmation was not asked: the avshift command asks before every
# real run, so it was started some other way (ansible-playbook, an AWX template).
NOT_CONFIRMED = "not asked: started outside the avshift command"
NOT_CONFIRMED_DRY_RUN = "not asked: a dry run changes nothing"

# Lone surrogates (e.g. from an undecodable Windows name) cannot be encoded as UTF-8.
SURROGATES = re.compile("[\ud800-\udfff]")


def summarize(hosts: Iterable[Mapping]) -> dict[str, int]:
    """Count hosts per status; every status is present, zero or not ("deferred" too).

    The status a host carries is the only thing counted: an unreachable, failed or
    deferred (never started) host was not checked, so it is never compliant whatever
    findings it carries.
    """
    counts = {"total": 0, **dict.fromkeys(STATUSES, 0)}
    for index, host in enumerate(hosts):
        status = host.get("status") if isinstance(host, Mapping) else None
        if status not in STATUSES:
            raise InputError(
                "report",
                f"hosts[{index}].status",
                f"expected one of {', '.join(STATUSES)}, got {status!r}",
            )
        counts[status] += 1
        counts["total"] += 1
    return counts


def checked_report(report: object) -> dict:
    """The report as every format renders it, or InputError naming the field at fault.

    A report without "summary" gets one computed from its hosts; a summary that disagrees
    with the hosts is refused.
    """
    if not isinstance(report, Mapping):
        raise InputError("report", None, f"expected an object, got {describe_type(report)}")
    hosts = report.get("hosts")
    if not isinstance(hosts, list):
        raise InputError("report", "hosts", f"expected a list, got {describe_type(hosts)}")
    for index, host in enumerate(hosts):
        if not isinstance(host, Mapping):
            raise InputError(
                "report", f"hosts[{index}]", f"expected an object, got {describe_type(host)}"
            )
        if not isinstance(host.get("host"), str) or not host["host"]:
            raise InputError("report", f"hosts[{index}].host", "expected a host name")
        _check_findings(host, f"hosts[{index}]")
        _check_remediation(host, f"hosts[{index}]")
    counts = summarize(hosts)
    run = report.get("run") if isinstance(report.get("run"), Mapping) else {}
    report = {**report, "hosts": [_with_message(host, run) for host in hosts]}
    given = report.get("summary")
    if given is None:
        return {**report, "summary": counts}
    # Every format shows these counts; one that contradicts the host list is a caller bug.
    if not isinstance(given, Mapping):
        raise InputError("report", "summary", f"expected an object, got {describe_type(given)}")
    # A status a report written before it existed leaves out counts no host.
    wrong = {key: given.get(key) for key, count in counts.items() if given.get(key, 0) != count}
    if wrong:
        raise InputError("report", "summary", f"says {wrong}, but the hosts add up to {counts}")
    return dict(report)


def _with_message(host: Mapping, run: Mapping) -> Mapping:
    """A non-compliant host's message is the reason, unless the run gave one: every
    format shows the same text, and rendering a report again changes nothing."""
    if host.get("status") != "non-compliant" or host.get("message"):
        return host
    return {**host, "message": non_compliance_reason(host, run)}


def _check_findings(findings: Mapping, where: str) -> None:
    for key in FINDING_KEYS:
        if not _list_of_objects(findings.get(key)):
            raise InputError("report", f"{where}.{key}", "expected a list of objects")


def _list_of_objects(value: object) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, Mapping) for v in value))


def _check_remediation(host: Mapping, where: str) -> None:
    """The containers every format walks; their leaves are shown as they are."""
    for key in ("before", "after"):
        verdict = host.get(key)
        if verdict is None:
            continue
        if not isinstance(verdict, Mapping):
            raise InputError(
                "report", f"{where}.{key}", f"expected an object, got {describe_type(verdict)}"
            )
        _check_findings(verdict, f"{where}.{key}")
    plan = host.get("plan")
    if plan is not None:
        if not isinstance(plan, Mapping):
            raise InputError(
                "report", f"{where}.plan", f"expected an object, got {describe_type(plan)}"
            )
        if not _list_of_objects(plan.get("remove")):
            raise InputError("report", f"{where}.plan.remove", "expected a list of objects")
        for number, item in enumerate(plan.get("remove") or []):
            if not isinstance(item.get("packages"), list | None):
                raise InputError(
                    "report", f"{where}.plan.remove[{number}].packages", "expected a list"
                )
            if not _list_of_objects(item.get("windows")):
                raise InputError(
                    "report",
                    f"{where}.plan.remove[{number}].windows",
                    "expected a list of objects",
                )
    if not _list_of_objects(host.get("actions")):
        raise InputError("report", f"{where}.actions", "expected a list of objects")
    reboot = host.get("reboot")
    if reboot is not None and not isinstance(reboot, str):
        raise InputError(
            "report", f"{where}.reboot", f"expected text or null, got {describe_type(reboot)}"
        )


def non_compliance_reason(host: Mapping, run: Mapping) -> str:
    """Why a host is not compliant, in one line: the classifier's own rule (explain), so
    a report states the reasons a verdict has."""
    approved = (run.get("policy") or {}).get("approved")
    allowed = approved.get(host.get("os_family")) if isinstance(approved, Mapping) else None
    return "; ".join(explain(host, allowed)) or "non-compliant"


# --- reading a checked report ---------------------------------------------------------


def report_kind(report: Mapping) -> str:
    return str(report.get("kind") or "audit")


def findings(holder: Mapping, key: str) -> list[Mapping]:
    """A host's (or a verdict's) findings of one kind: "disallowed", "approved", ..."""
    return holder.get(key) or []


def product_name(item: Mapping) -> str:
    return str(item.get("name") or item.get("product") or item.get("vendor") or "unknown")


def protection_of(item: Mapping) -> tuple[str, str, list[str]]:
    """An approved finding's protection state: (id, its words, the reasons it is not
    protecting). A finding from before the protection rules has only "active"."""
    state = item.get("protection")
    if state not in PROTECTION_STATES:
        state = "protecting" if item.get("active") else "not-active"
    reasons = [str(reason) for reason in item.get("not_protecting_because") or ()]
    if state == "not-active":
        reasons = [str(reason) for reason in item.get("inactive_because") or ()]
    return state, PROTECTION_STATES[state], reasons


def protection_text(item: Mapping) -> str:
    """The state in words, with its reasons: "active, not protecting: signatures 94 days
    old (policy: 7)"."""
    _state, words, reasons = protection_of(item)
    return words + (f": {'; '.join(reasons)}" if reasons else "")


def residue_paths(holder: Mapping) -> list[str]:
    return [
        str(evidence.get("value"))
        for residue in findings(holder, "residue")
        for evidence in residue.get("evidence") or []
    ]


def verdict_status(verdict: object) -> str | None:
    """The verdict as "compliant" or "non-compliant"; None when there was no scan."""
    if not isinstance(verdict, Mapping) or not isinstance(verdict.get("compliant"), bool):
        return None
    return "compliant" if verdict["compliant"] else "non-compliant"


def event_name(action: Mapping) -> str:
    return str(action.get("event") or action.get("action") or "action")


def action_data(action: Mapping) -> dict:
    """An action's data, with any key besides event, at and data folded in."""
    data = action.get("data")
    merged = dict(data) if isinstance(data, Mapping) else {}
    if data is not None and not isinstance(data, Mapping):
        merged["data"] = data
    for key, value in action.items():
        if key not in ("event", "at", "data") and not (key == "action" and not action.get("event")):
            merged[key] = value
    return merged


def confirmation_text(run: Mapping) -> str:
    """How the change was allowed to start, in words (contract.CONFIRMATIONS)."""
    given = run.get("confirmation")
    if given in (None, ""):
        return NOT_CONFIRMED_DRY_RUN if run.get("check_mode") else NOT_CONFIRMED
    return CONFIRMATIONS.get(given, str(given))


def batch_text(batch: object) -> str | None:
    """The batch ramp as the operator wrote it (change.batch_as_written); a journal
    written before the change record kept it as text holds serial's list."""
    return batch_as_written(batch)


def parse_time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def remediation_seconds(host: Mapping) -> float | None:
    """How long a host's remediation took: from its first evidence event to its last.

    None when its evidence spans no time (a dry run's plan alone, a host left alone), or
    when its times cannot be compared. The scans' own times are not in the report: the
    span starts with the plan, which follows the first scan, and ends with the last event.
    """
    times = [parse_time(action.get("at")) for action in host.get("actions") or []]
    times = [moment for moment in times if moment is not None]
    if len(times) < 2 or len({moment.tzinfo is None for moment in times}) > 1:
        return None
    seconds = (max(times) - min(times)).total_seconds()
    return seconds or None


def duration_text(seconds: object) -> str | None:
    """A duration as a person reads it: "0.9 s", "44 s", "3 min 20 s", "6 h 0 min"."""
    if not is_number(seconds) or seconds < 0:
        return None
    tenths = round(seconds, 1)
    if tenths < 60:
        return f"{tenths:g} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {rest} s"


def is_number(value: object) -> bool:
    """A number the caller measured; a boolean is not one, though Python says it is."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def without_surrogates(value: object) -> str:
    """The value as text that UTF-8 can encode: each lone surrogate becomes U+FFFD."""
    text = str(value)
    # Most of a report is ASCII, which holds no surrogate; the check costs nothing.
    return text if text.isascii() else SURROGATES.sub("\ufffd", text)


def since_last_run(host: str, drift: Mapping) -> str:
    """A host's line of the drift, as report.csv's since_last_run column shows it."""
    if not drift.get("previous_run"):
        return "no earlier run"
    for item in drift.get("regressed") or []:
        if item["host"] == host:
            appeared = ", ".join(entry["name"] for entry in item.get("appeared") or [])
            return f"regressed from {item.get('was') or 'compliant'}" + (
                f": {appeared} appeared" if appeared else ""
            )
    if host in (drift.get("fixed") or []):
        return "fixed"
    if host in (drift.get("added") or []):
        return "not in the last run"
    seen = [item["name"] for item in drift.get("newly_seen") or [] if item["host"] == host]
    if seen:
        return f"newly seen: {', '.join(seen)}"
    return "unchanged"
