# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report writer: one report dict in, JSON, CSV, HTML and JUnit XML out.

Pure Python on the controller, shared by the callback plugin and the CLI. Every format is
rendered from the same dict by the same pass, and all four are rendered before any file is
written, so a report that cannot be rendered leaves the previous files untouched. SHA256SUMS
is written last, so the change record can prove the files it lists are the ones written.

Audits ("kind": "audit") and change-managed remediation runs ("kind": "remediation") share
the format; a remediation report adds the change (run.change_id, operator, window, batch,
max_fail_percentage, reboot_policy), per host the scans before and after, the plan, the
actions taken and the reboot state, and hosts that were never started ("deferred").
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import html
import io
import json
import os
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    STATUS_BY_ID,
    STATUS_IDS,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import (
    InputError,
    describe_type,
)

STATUSES = STATUS_IDS
FILENAMES = {
    "json": "report.json",
    "csv": "report.csv",
    "html": "report.html",
    "junit": "report.junit.xml",
    "sha256": "SHA256SUMS",
}
CSV_COLUMNS = (
    "host",
    "status",
    "os_family",
    "disallowed",
    "disallowed_vendors",
    "approved",
    "active_approved",
    "other",
    "residue",
    "message",
    "duration_seconds",
)
# Appended to CSV_COLUMNS in a remediation report only; an audit's columns never change.
REMEDIATION_CSV_COLUMNS = (
    "change_id",
    "plan_install",
    "plan_remove",
    "actions",
    "reboot",
    "before_status",
    "after_status",
)

_STATUS_LABELS = {status.id: status.label for status in STATUS_BY_ID.values()}
_STATUS_SYMBOLS = {status.id: status.symbol for status in STATUS_BY_ID.values()}
_STATUS_RANK = {status.id: status.rank for status in STATUS_BY_ID.values()}
_OS_LABELS = {"linux": "Linux", "windows": "Windows"}
_FINDING_KEYS = ("disallowed", "approved", "other", "residue")
_REMEDIATION_HOST_KEYS = ("before", "after", "plan", "actions", "reboot")
_KNOWN_HOST_KEYS = frozenset(
    (
        "host",
        "status",
        "os_family",
        "message",
        "duration_seconds",
        *_FINDING_KEYS,
        *_REMEDIATION_HOST_KEYS,
    )
)
_KNOWN_RUN_KEYS = ("started", "ended", "inventory", "playbook", "check_mode", "policy")
_CHANGE_RUN_KEYS = (
    "change_id",
    "operator",
    "window",
    "batch",
    "max_fail_percentage",
    "reboot_policy",
)
_REBOOT_POLICY_LABELS = {"never": "never", "if_required": "if required", "always": "always"}
_REBOOT_LABELS = {"done": "Done", "pending": "Pending", "not-needed": "Not needed"}
# Pending first: a host waiting for its restart is the one somebody has to act on.
_REBOOT_RANK = {"pending": 0, "done": 1, "not-needed": 2}
_EVENT_LABELS = {
    "plan": "Planned",
    "installed": "Installed",
    "removed": "Removed",
    "reboot": "Reboot",
    "verified": "Verified",
}
_INSTALL_ORDER_LABELS = {
    "before-removal": "before the removal",
    "after-removal": "after the removal",
}

# Spreadsheets run a cell starting with one of these as a formula (OWASP's list).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Lone surrogates (e.g. from an undecodable Windows name) cannot be encoded as UTF-8.
_SURROGATES = re.compile("[\ud800-\udfff]")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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


def write_reports(report: Mapping, directory: str | os.PathLike) -> dict[str, str]:
    """Write report.json, report.csv, report.html, report.junit.xml, then SHA256SUMS.

    Returns format ("json", "csv", "html", "junit", "sha256") -> path written. The
    directory is created if missing; each file is replaced atomically. A report without
    "summary" gets one computed from its hosts; a summary that disagrees with the hosts is
    refused. report.csv starts with a UTF-8 byte order mark so spreadsheets read Cyrillic
    names. SHA256SUMS lists the four report files in sha256sum's format, so
    `sha256sum -c SHA256SUMS` in the directory checks them; it is written after them, so
    a run that stops half way leaves a SHA256SUMS that no longer matches, never a new one
    that vouches for old files.
    """
    report = _checked(report)
    rendered = {
        "json": _render_json(report).encode("utf-8"),
        "csv": _render_csv(report).encode("utf-8-sig"),
        "html": _render_html(report).encode("utf-8"),
        "junit": _render_junit(report),
    }
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    try:
        for fmt, data in rendered.items():
            path = target / FILENAMES[fmt]
            _write_atomic(path, data)
            written[fmt] = str(path)
        # Hashed from the bytes just written (and fsynced), in sha256sum's text format:
        # two spaces, then the name relative to the directory, so it checks where it lies.
        sums = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {FILENAMES[fmt]}\n"
            for fmt, data in rendered.items()
        )
        path = target / FILENAMES["sha256"]
        _write_atomic(path, sums.encode("ascii"))
        written["sha256"] = str(path)
        _fsync_directory(target)
    except OSError:
        # Half a report must not look like one: what this call wrote goes, and so does a
        # SHA256SUMS that would vouch for files of another attempt.
        for leftover in [*written.values(), target / FILENAMES["sha256"]]:
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        raise
    return written


def _render_json(report: Mapping) -> str:
    """The report as given (unknown keys kept), with non-ASCII text left readable."""
    text = json.dumps(report, indent=2, ensure_ascii=False)
    # An escaped surrogate is valid JSON and loads back to the same string.
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _render_csv(report: Mapping) -> str:
    """One row per host, every text cell guarded against formula injection.

    A remediation report has REMEDIATION_CSV_COLUMNS after the audit's columns.
    """
    remediation = _kind(report) == "remediation"
    run = report.get("run") or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS + (REMEDIATION_CSV_COLUMNS if remediation else ()))
    for host in report["hosts"]:
        approved = _items(host, "approved")
        duration = host.get("duration_seconds")
        row = [
            host.get("host"),
            host.get("status"),
            host.get("os_family"),
            "; ".join(_label(item) for item in _items(host, "disallowed")),
            "; ".join(_unique(str(item.get("vendor")) for item in _items(host, "disallowed"))),
            "; ".join(
                f"{_label(item)}[{'active' if item.get('active') else 'inactive'}]"
                for item in approved
            ),
            "yes" if any(item.get("active") for item in approved) else "no",
            "; ".join(_label(item) for item in _items(host, "other")),
            "; ".join(_residue_paths(host)),
            host.get("message"),
        ]
        cells = [_csv_cell(value) for value in row]
        # A number the caller measured is not host text; quoting it would break sums.
        is_number = isinstance(duration, int | float) and not isinstance(duration, bool)
        cells.append(repr(duration) if is_number else _csv_cell(duration))
        if remediation:
            cells += [_csv_cell(value) for value in _csv_remediation(host, run)]
        writer.writerow(cells)
    return buffer.getvalue()


def _csv_remediation(host: Mapping, run: Mapping) -> list[object]:
    plan = host.get("plan") or {}
    actions = host.get("actions") or []
    return [
        run.get("change_id"),
        plan.get("install"),
        "; ".join(_label(item) for item in plan.get("remove") or []),
        "; ".join(
            f"{_event(action)}@{action['at']}" if action.get("at") else _event(action)
            for action in actions
        ),
        host.get("reboot"),
        _verdict_status(host.get("before")),
        _verdict_status(host.get("after")),
    ]


def _kind(report: Mapping) -> str:
    return str(report.get("kind") or "audit")


def _verdict_status(verdict: object) -> str | None:
    """The verdict as "compliant" or "non-compliant"; None when there was no scan."""
    if not isinstance(verdict, Mapping) or not isinstance(verdict.get("compliant"), bool):
        return None
    return "compliant" if verdict["compliant"] else "non-compliant"


def _event(action: Mapping) -> str:
    return str(action.get("event") or action.get("action") or "action")


def _render_junit(report: Mapping) -> bytes:
    """One testsuite, one testcase per host: CI shows non-compliant hosts as failures.

    Unreachable and failed hosts are errors; a deferred host was never started, so it is
    skipped. What a remediation did to a host goes into the failure or error text, or into
    system-out when the host passed.
    """
    kind = _kind(report)
    run = report.get("run") or {}
    hosts = report["hosts"]
    counts = report["summary"]
    durations = [
        h["duration_seconds"] for h in hosts if isinstance(h.get("duration_seconds"), int | float)
    ]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"avshift {kind}",
            "tests": str(len(hosts)),
            "failures": str(counts["non-compliant"]),
            "errors": str(counts["unreachable"] + counts["failed"]),
            "skipped": str(counts["deferred"]),
            "time": _seconds(sum(durations)),
        },
    )
    if run.get("started"):
        suite.set("timestamp", _xml(run["started"]))
    properties = ET.SubElement(suite, "properties")
    for name, value in _junit_properties(report):
        if isinstance(value, bool):
            value = "true" if value else "false"
        ET.SubElement(properties, "property", {"name": _xml(name), "value": _xml(value)})
    for host in hosts:
        case = ET.SubElement(
            suite, "testcase", {"classname": f"avshift.{kind}", "name": _xml(host["host"])}
        )
        if isinstance(host.get("duration_seconds"), int | float):
            case.set("time", _seconds(host["duration_seconds"]))
        status = host["status"]
        remediation = _remediation_lines(host)
        if status == "non-compliant":
            message = host.get("message") or "non-compliant"
            failure = ET.SubElement(
                case, "failure", {"message": _xml(message), "type": "non-compliant"}
            )
            details = [message, _non_compliance_details(host), *remediation]
            failure.text = _xml("\n".join(line for line in details if line))
        elif status in ("unreachable", "failed"):
            message = host.get("message") or f"host {status}"
            error = ET.SubElement(case, "error", {"message": _xml(message), "type": status})
            error.text = _xml("\n".join([message, *remediation]))
        elif status == "deferred":
            message = host.get("message") or "deferred: not started"
            ET.SubElement(case, "skipped", {"message": _xml(message)})
        elif remediation:
            ET.SubElement(case, "system-out").text = _xml("\n".join(remediation))
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"


def _render_html(report: Mapping) -> str:
    """One self-contained page: inline CSS and JS allowed by hash, nothing fetched."""
    kind = _kind(report)
    remediation = kind == "remediation"
    statuses = _shown_statuses(report)
    run = report.get("run") or {}
    tool = report.get("tool") or {}
    tool_name = f"{tool.get('name') or 'avshift'} {tool.get('version') or ''}".strip()
    started, ended = run.get("started"), run.get("ended")
    title = f"avshift {kind} report"
    period = " to ".join(_display_time(t) for t in (started, ended) if t)
    csp = (
        "default-src 'none'; "
        f"script-src '{_SCRIPT_HASH}'; style-src '{_STYLE_HASH}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    head = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f'<meta name="generator" content="{_h(tool_name)}">\n'
        f"<title>{_h(title)}{_h(', ' + period) if period else ''}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>{_STYLE}</style>\n</head>\n"
    )
    header = [f'<header class="page">\n<h1>{_h(title)}</h1>\n<p class="period">']
    if started:
        header.append(f"Started {_time_element(started)}")
    if ended:
        header.append(f" · ended {_time_element(ended)}")
    elapsed = _elapsed(started, ended)
    if elapsed:
        header.append(f" · took {_h(elapsed)}")
    header.append("</p>\n")
    if run.get("check_mode"):
        header.append('<p class="check-mode">Check mode: nothing was changed on any host.</p>\n')
    header.append("</header>\n")
    body = [
        head,
        '<body>\n<a class="skip" href="#hosts-h">Skip to hosts</a>\n',
        *header,
        "<main>\n",
        _html_change(run) if remediation else "",
        _html_run(run, tool_name, kind),
        _html_summary(report["summary"], statuses),
        _html_hosts(report["hosts"], report["summary"], run, statuses, remediation),
        "</main>\n",
        f"<footer><p>Written by {_h(tool_name)}. report.json, report.csv and "
        "report.junit.xml beside this file hold the same data; SHA256SUMS holds the "
        "SHA-256 of all four (check them with <code>sha256sum -c SHA256SUMS</code>)."
        "</p></footer>\n",
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n",
    ]
    return "".join(body)


# --- checks and shared helpers -------------------------------------------------------


def _checked(report: object) -> dict:
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
    wrong = {key: given.get(key) for key, count in counts.items() if given.get(key) != count}
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
    for key in _FINDING_KEYS:
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


def _write_atomic(path: Path, data: bytes) -> None:
    # A reader (a browser, CI collecting artifacts) sees the old file or the new one,
    # never half of one; mode 0o666 lets the umask decide like any other new file.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _fsync_directory(directory: Path) -> None:
    # The renames are durable only once the directory itself reaches the disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _items(host: Mapping, key: str) -> list[Mapping]:
    return host.get(key) or []


def _label(item: Mapping) -> str:
    return str(item.get("name") or item.get("product") or item.get("vendor") or "unknown")


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _residue_paths(host: Mapping) -> list[str]:
    return [
        str(evidence.get("value"))
        for residue in _items(host, "residue")
        for evidence in residue.get("evidence") or []
    ]


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    text = _SURROGATES.sub("\ufffd", str(value))
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _xml(value: object) -> str:
    return _XML_INVALID.sub("\ufffd", str(value))


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _junit_properties(report: Mapping) -> list[tuple[str, object]]:
    run = report.get("run") or {}
    policy = run.get("policy") or {}
    tool = report.get("tool") or {}
    pairs: list[tuple[str, object]] = [
        ("kind", report.get("kind")),
        ("tool.version", tool.get("version")),
        ("run.inventory", run.get("inventory")),
        ("run.playbook", run.get("playbook")),
        ("run.check_mode", run.get("check_mode")),
        ("run.ended", run.get("ended")),
        ("policy.source", policy.get("source")),
        ("policy.sha256", policy.get("sha256")),
    ]
    # Remediation runs carry more (change id, window); keep the scalar ones.
    pairs += [
        (f"run.{key}", value)
        for key, value in run.items()
        if key not in _KNOWN_RUN_KEYS and isinstance(value, str | int | float | bool)
    ]
    window = run.get("window")
    if isinstance(window, Mapping):
        pairs += [(f"run.window.{key}", window.get(key)) for key in ("start", "end")]
    return [(name, value) for name, value in pairs if value is not None]


def _remediation_lines(host: Mapping) -> list[str]:
    """What a remediation planned and did on a host, one fact a line, for CI logs."""
    if not any(host.get(key) is not None for key in _REMEDIATION_HOST_KEYS):
        return []
    lines = []
    before, after = host.get("before"), host.get("after")
    if before is not None or after is not None:
        lines.append(
            f"before: {_verdict_status(before) or 'not scanned'}; "
            f"after: {_verdict_status(after) or 'not scanned'}"
        )
    plan = host.get("plan")
    if isinstance(plan, Mapping):
        install = plan.get("install")
        order = plan.get("install_order")
        removals = ", ".join(_label(item) for item in plan.get("remove") or []) or "nothing"
        lines.append(
            f"plan: install {install or 'nothing'}"
            + (f" ({order})" if install and order else "")
            + f"; remove {removals}; reboot {plan.get('reboot_policy') or 'not set'}"
        )
    for action in host.get("actions") or []:
        data = _action_data(action)
        details = " ".join(f"{key}={_plain(value)}" for key, value in data.items())
        lines.append(
            " ".join(str(part) for part in (action.get("at"), _event(action), details) if part)
        )
    if host.get("reboot") is not None:
        lines.append(f"reboot: {host['reboot']}")
    return lines


def _action_data(action: Mapping) -> dict:
    """An action's data, with any key besides event, at and data folded in."""
    data = action.get("data")
    merged = dict(data) if isinstance(data, Mapping) else {}
    if data is not None and not isinstance(data, Mapping):
        merged["data"] = data
    for key, value in action.items():
        if key not in ("event", "at", "data") and not (key == "action" and not action.get("event")):
            merged[key] = value
    return merged


def _plain(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def non_compliance_reason(host: Mapping, run: Mapping) -> str:
    """Why a host is not compliant, in one line: what was found and what is missing."""
    reasons = []
    disallowed = _items(host, "disallowed")
    approved = _items(host, "approved")
    if disallowed:
        names = ", ".join(f"{_label(f)} ({f.get('vendor')})" for f in disallowed)
        reasons.append(f"disallowed antivirus found: {names}")
    if not any(item.get("active") for item in approved):
        reason = "no active approved antivirus"
        inactive = [_label(item) for item in approved]
        if inactive:
            reason += f" ({', '.join(inactive)} installed but not active)"
        family = host.get("os_family")
        allowed = ((run.get("policy") or {}).get("approved") or {}).get(family)
        if allowed:
            reason += f"; the policy approves for {family}: {', '.join(map(str, allowed))}"
        reasons.append(reason)
    return "; ".join(reasons) or "non-compliant"


def _non_compliance_details(host: Mapping) -> str:
    """The findings behind a host's non-compliance, with their evidence, a line each."""
    lines = []
    for finding in _items(host, "disallowed"):
        lines.append(f"disallowed: {_label(finding)} ({finding.get('vendor')})")
        lines += [f"  {e.get('kind')}: {e.get('value')}" for e in finding.get("evidence") or []]
    return "\n".join(lines)


# --- HTML ----------------------------------------------------------------------------


def _h(value: object) -> str:
    return html.escape(_SURROGATES.sub("\ufffd", str(value)), quote=True)


def _parse_time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _display_time(value: object) -> str:
    moment = _parse_time(value)
    if moment is None:
        return str(value)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    return f"{text} UTC" if not offset else f"{text} {moment.strftime('%z')}"


def _time_element(value: object) -> str:
    return f'<time datetime="{_h(value)}">{_h(_display_time(value))}</time>'


def _elapsed(started: object, ended: object) -> str | None:
    begin, end = _parse_time(started), _parse_time(ended)
    if begin is None or end is None or (begin.tzinfo is None) != (end.tzinfo is None):
        return None
    seconds = round((end - begin).total_seconds())
    if seconds < 0:
        return None
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _humanize(key: str) -> str:
    text = str(key).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def _html_value(value: object) -> str:
    if value is None or value == "" or value == []:
        return '<span class="none">none</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return _h(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return _h(", ".join(map(str, value)))
    return f"<pre>{_h(json.dumps(value, indent=2, ensure_ascii=False, default=str))}</pre>"


def _html_run(run: Mapping, tool_name: str, kind: str) -> str:
    policy = run.get("policy") or {}
    approved = policy.get("approved")
    rows: list[tuple[str, str]] = [
        ("Kind", _h(kind)),
        ("Inventory", _code(run.get("inventory"))),
        ("Playbook", _code(run.get("playbook"))),
        ("Check mode", _html_value(bool(run.get("check_mode")))),
        ("Policy", _code(policy.get("source"))),
        ("Policy SHA-256", _code(policy.get("sha256"), "hash")),
        ("Disallowed vendors", _html_value(policy.get("disallowed_vendors"))),
    ]
    if isinstance(approved, Mapping):
        for family, vendors in approved.items():
            label = _OS_LABELS.get(family, str(family))
            rows.append((f"Approved on {label}", _html_value(vendors)))
    else:
        rows.append(("Approved", _html_value(approved)))
    rows += [
        (f"Policy {_humanize(k).lower()}", _html_value(v))
        for k, v in policy.items()
        if k not in ("source", "sha256", "disallowed_vendors", "approved")
    ]
    shown_elsewhere = _KNOWN_RUN_KEYS + (_CHANGE_RUN_KEYS if kind == "remediation" else ())
    rows += [(_humanize(k), _html_value(v)) for k, v in run.items() if k not in shown_elsewhere]
    rows.append(("Tool", _h(tool_name)))
    items = "".join(f"<div><dt>{_h(label)}</dt><dd>{value}</dd></div>\n" for label, value in rows)
    return (
        '<section class="run" aria-labelledby="run-h">\n<h2 id="run-h">Run</h2>\n'
        f'<dl class="meta">\n{items}</dl>\n</section>\n'
    )


def _html_change(run: Mapping) -> str:
    """The change record: what was approved, by whom, when, and how the run was paced."""
    window = run.get("window")
    if isinstance(window, Mapping):
        start, end = window.get("start"), window.get("end")
        length = _elapsed(start, end)
        window_html = f"{_time_element(start)} to {_time_element(end)}" + (
            f' <span class="origin">({_h(length)})</span>' if length else ""
        )
    elif window is None:
        window_html = '<span class="none">none</span>'
    else:
        window_html = _html_value(window)
    batch = run.get("batch")
    max_fail = run.get("max_fail_percentage")
    policy = run.get("reboot_policy")
    rows = [
        ("Change ID", _code(run.get("change_id"), "change-id")),
        ("Operator", _html_value(run.get("operator"))),
        ("Window", window_html),
        (
            "Batch",
            _h(batch) if batch not in (None, "") else '<span class="none">all hosts at once</span>',
        ),
        (
            "Max fail",
            f"{_h(max_fail)}%"
            if isinstance(max_fail, int | float) and not isinstance(max_fail, bool)
            else _html_value(max_fail),
        ),
        ("Reboot policy", _h(_REBOOT_POLICY_LABELS.get(policy, policy)) if policy else _dash()),
    ]
    items = "".join(
        f'<div><dt>{_h(label)}</dt><dd data-field="{_h(label.lower().replace(" ", "-"))}">'
        f"{value}</dd></div>\n"
        for label, value in rows
    )
    banner = ""
    if run.get("check_mode"):
        banner = (
            '<div class="dry-run" role="note"><strong>DRY RUN: nothing was changed</strong>'
            "<span>This run only planned. Each host's plan shows what a real run would "
            "install, remove and reboot.</span></div>\n"
        )
    return (
        '<section class="change" aria-labelledby="change-h">\n<h2 id="change-h">Change</h2>\n'
        f'{banner}<dl class="meta">\n{items}</dl>\n</section>\n'
    )


def _code(value: object, css: str = "") -> str:
    if value is None or value == "":
        return '<span class="none">none</span>'
    return f'<code class="{css}">{_h(value)}</code>' if css else f"<code>{_h(value)}</code>"


def _shown_statuses(report: Mapping) -> tuple[str, ...]:
    """Every status, but an audit (which defers nothing) shows no empty "Deferred"."""
    if _kind(report) == "remediation" or report["summary"]["deferred"]:
        return STATUSES
    return tuple(s for s in STATUSES if s != "deferred")


def _html_summary(summary: Mapping, statuses: tuple[str, ...]) -> str:
    total = summary["total"]
    compliant = summary["compliant"]
    share = f"{round(100 * compliant / total)}%" if total else "no hosts"
    cards = [
        f'<li class="card total"><span class="n" data-count="total">{total}</span>'
        '<span class="what">Hosts</span></li>\n'
    ]
    for status in statuses:
        cards.append(
            f'<li class="card s-{status}"><span class="n" data-count="{status}">'
            f"{summary[status]}</span>"
            f'<span class="what"><span class="sym" aria-hidden="true">'
            f"{_STATUS_SYMBOLS[status]}</span> {_STATUS_LABELS[status]}</span></li>\n"
        )
    return (
        '<section class="summary" aria-labelledby="summary-h">\n'
        '<h2 id="summary-h">Summary</h2>\n'
        f'<p class="headline"><strong>{compliant} of {total}</strong> hosts compliant'
        f"{f' ({share})' if total else ''}.</p>\n"
        f'<ul class="cards">\n{"".join(cards)}</ul>\n'
        f"{_html_chart(summary, statuses)}</section>\n"
    )


def _html_chart(summary: Mapping, statuses: tuple[str, ...]) -> str:
    """A horizontal bar per status, labelled in text; the SVG needs nothing external."""
    row, label_width, bar_width, width = 30, 130, 300, 500
    height = row * len(statuses) + 6
    biggest = max([summary[s] for s in statuses] + [1])
    description = ", ".join(f"{_STATUS_LABELS[s]}: {summary[s]}" for s in statuses)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-title">Hosts per status</title>'
        f'<desc id="chart-desc">{_h(description)}</desc>'
    ]
    for index, status in enumerate(statuses):
        y = 3 + index * row
        count = summary[status]
        length = round(bar_width * count / biggest) if count else 0
        parts.append(
            f'<g class="s-{status}">'
            f'<text class="label" x="{label_width - 8}" y="{y + 19}" text-anchor="end">'
            f"{_STATUS_LABELS[status]}</text>"
            f'<rect class="track" x="{label_width}" y="{y + 4}" width="{bar_width}" '
            f'height="{row - 10}" rx="3"/>'
            f'<rect class="bar" x="{label_width}" y="{y + 4}" width="{length}" '
            f'height="{row - 10}" rx="3"/>'
            f'<text class="count" x="{label_width + bar_width + 10}" y="{y + 19}">{count}</text>'
            "</g>"
        )
    parts.append("</svg>\n")
    return "".join(parts)


_COLUMNS = (
    # header, sort type
    ("Host", "text"),
    ("Status", "number"),
    ("OS", "text"),
    ("Disallowed", "number"),
    ("Approved", "text"),
    ("Other AV", "number"),
    ("Residue", "number"),
    ("Message", "text"),
    ("Time (s)", "number"),
)
# A remediation shows each host's reboot state beside its message.
_REMEDIATION_COLUMNS = (*_COLUMNS[:-2], ("Reboot", "number"), *_COLUMNS[-2:])


def _html_hosts(
    hosts: list[Mapping],
    summary: Mapping,
    run: Mapping,
    statuses: tuple[str, ...],
    remediation: bool,
) -> str:
    columns = _REMEDIATION_COLUMNS if remediation else _COLUMNS
    options = [f'<option value="">All statuses ({summary["total"]})</option>']
    options += [
        f'<option value="{s}">{_STATUS_LABELS[s]} ({summary[s]})</option>' for s in statuses
    ]
    headers = "".join(
        f'<th scope="col" data-type="{kind}" data-label="{name}"><button type="button">{name}'
        '<span class="arrow" aria-hidden="true"></span></button></th>'
        for name, kind in columns
    )
    bodies = "".join(_html_host(host, run, remediation) for host in hosts)
    return (
        '<section class="hosts" aria-labelledby="hosts-h">\n'
        '<h2 id="hosts-h">Hosts</h2>\n'
        '<div class="controls" id="controls" hidden>\n'
        '<label for="filter-text">Filter</label>\n'
        '<input type="search" id="filter-text" placeholder="host, product, path…" '
        'autocomplete="off" spellcheck="false">\n'
        '<label for="filter-status">Status</label>\n'
        f'<select id="filter-status">{"".join(options)}</select>\n'
        '<button type="button" id="expand-all">Expand all</button>\n'
        '<button type="button" id="collapse-all">Collapse all</button>\n'
        f'<p id="shown" aria-live="polite">Showing {len(hosts)} of {len(hosts)} hosts</p>\n'
        "</div>\n"
        '<div class="table-wrap">\n<table id="hosts">\n'
        f"<caption>{len(hosts)} hosts; sort by a column heading, "
        "expand a host's findings for their evidence.</caption>\n"
        f"<thead><tr>{headers}</tr></thead>\n{bodies}"
        f'<tbody id="no-match"{"" if not hosts else " hidden"}><tr><td colspan="{len(columns)}">'
        f"{'No host matches the filter.' if hosts else 'This report has no hosts.'}"
        "</td></tr></tbody>\n</table>\n</div>\n</section>\n"
    )


def _html_host(host: Mapping, run: Mapping, remediation: bool) -> str:
    status = host["status"]
    name = host["host"]
    family = host.get("os_family")
    disallowed = _items(host, "disallowed")
    approved = _items(host, "approved")
    other = _items(host, "other")
    residue = _residue_paths(host)
    duration = host.get("duration_seconds")
    has_duration = isinstance(duration, int | float) and not isinstance(duration, bool)
    approved_cell = ", ".join(
        f"{_h(_label(a))} "
        + (
            '<span class="tag on">active</span>'
            if a.get("active")
            else '<span class="tag off">inactive</span>'
        )
        for a in approved
    )
    residue_cell = (
        f"{len(residue)} path{'s' if len(residue) != 1 else ''}"
        if residue
        else '<span class="none">—</span>'
    )
    cells = [
        (_h(name.lower()), f'<span class="host">{_h(name)}</span>'),
        (str(_STATUS_RANK[status]), _badge(status)),
        (_h(family or ""), _h(_OS_LABELS.get(family, family)) if family else _dash()),
        (str(len(disallowed)), _h(", ".join(_label(f) for f in disallowed)) or _dash()),
        (_h(", ".join(_label(a) for a in approved).lower()), approved_cell or _dash()),
        (str(len(other)), _h(", ".join(_label(f) for f in other)) or _dash()),
        (str(len(residue)), residue_cell),
        (_h(str(host.get("message") or "").lower()), _h(host.get("message") or "") or _dash()),
        (repr(duration) if has_duration else "", f"{duration:.2f}" if has_duration else _dash()),
    ]
    if remediation:
        reboot = host.get("reboot")
        cells.insert(
            -2,
            (str(_REBOOT_RANK.get(reboot, 3)) if reboot else "", _html_reboot(reboot)),
        )
    row = "".join(f'<td data-sort="{key}">{content}</td>' for key, content in cells)
    details = _html_findings(host, run)
    return (
        f'<tbody class="host" data-status="{status}">\n<tr class="main">{row}</tr>\n'
        + (
            f'<tr class="findings"><td colspan="{len(cells)}">{details}</td></tr>\n'
            if details
            else ""
        )
        + "</tbody>\n"
    )


def _html_reboot(reboot: object) -> str:
    if reboot is None:
        return _dash()
    css = f" r-{reboot}" if reboot in _REBOOT_LABELS else ""
    return f'<span class="reboot{css}">{_h(_REBOOT_LABELS.get(reboot, reboot))}</span>'


def _badge(status: str) -> str:
    return (
        f'<span class="badge s-{status}"><span class="sym" aria-hidden="true">'
        f"{_STATUS_SYMBOLS[status]}</span> {_STATUS_LABELS[status]}</span>"
    )


def _dash() -> str:
    return '<span class="none" aria-label="none">—</span>'


def _html_findings(host: Mapping, run: Mapping) -> str:
    sections, counts = _html_remediation(host, run)
    remediated = bool(sections)
    for key, heading in (
        ("disallowed", "Disallowed"),
        ("approved", "Approved"),
        ("other", "Other antivirus"),
    ):
        findings = _items(host, key)
        if not findings:
            continue
        counts.append(f"{len(findings)} {heading.lower()}")
        items = "".join(_html_finding(f, key) for f in findings)
        sections.append(
            f'<section class="group g-{key}"><h3>{heading}</h3><ul>{items}</ul></section>'
        )
    residue = _items(host, "residue")
    if residue:
        paths = len(_residue_paths(host))
        counts.append(f"{paths} residue path{'s' if paths != 1 else ''}")
        items = "".join(
            f"<li><strong>{_h(r.get('vendor') or 'unknown')}</strong>"
            f"{_html_evidence(r.get('evidence') or [])}</li>"
            for r in residue
        )
        sections.append(
            '<section class="group g-residue"><h3>Residue</h3>'
            '<p class="note">Left on disk by a product that is no longer installed.</p>'
            f"<ul>{items}</ul></section>"
        )
    extras = [key for key in host if key not in _KNOWN_HOST_KEYS]
    for key in extras:
        sections.append(
            f'<section class="group extra"><h3>{_h(_humanize(key))}</h3>'
            f"{_html_value(host[key])}</section>"
        )
    if extras:
        counts.append(", ".join(_humanize(k).lower() for k in extras))
    if not sections:
        return ""
    if host["status"] == "non-compliant" and not any(
        a.get("active") for a in _items(host, "approved")
    ):
        sections.insert(
            0,
            '<p class="why">No approved antivirus is active on this host.</p>',
        )
    what = "Remediation of" if remediated else "Findings for"
    return (
        f'<details><summary>{what} <span class="host">{_h(host["host"])}</span>: '
        f"{_h(' · '.join(counts))}</summary>"
        f'<div class="groups">{"".join(sections)}</div></details>'
    )


# --- HTML: what a remediation planned and did ----------------------------------------


def _html_remediation(host: Mapping, run: Mapping) -> tuple[list[str], list[str]]:
    """The sections (before/after, plan, actions) and the summary words of one host."""
    sections, counts = [], []
    before, after = host.get("before"), host.get("after")
    plan, actions = host.get("plan"), host.get("actions") or []
    if before is not None or after is not None:
        was, now = _verdict_status(before) or "not scanned", _verdict_status(after)
        missing, short = _no_after_scan(host, run)
        counts.append(f"{was} → {now}" if now else f"{was}, {short}")
        sections.append(
            '<section class="group g-compare"><h3>Before and after</h3><div class="compare">'
            + _html_verdict(before, "Before remediation", "Not scanned")
            + '<span class="to" aria-hidden="true">→</span>'
            + _html_verdict(after, "After remediation", missing)
            + "</div></section>"
        )
    work = []
    if isinstance(plan, Mapping):
        dry = bool(run.get("check_mode"))
        counts.append("plan only (dry run)" if dry else "plan")
        work.append(_html_plan(plan, host.get("reboot"), dry))
    elif host.get("reboot") is not None:
        work.append(
            '<section class="group g-plan"><h3>Reboot</h3>'
            f"<p>{_html_reboot(host['reboot'])}</p></section>"
        )
    if actions:
        counts.append(f"{len(actions)} action{'s' if len(actions) != 1 else ''}")
        work.append(_html_actions(actions))
    if work:
        sections.append(f'<div class="work">{"".join(work)}</div>')
    if host.get("reboot") is not None:
        counts.append(f"reboot {str(_REBOOT_LABELS.get(host['reboot'], host['reboot'])).lower()}")
    if sections and any(_items(host, key) for key in _FINDING_KEYS):
        sections.append('<h3 class="divider">Findings and evidence</h3>')
    return sections, counts


def _no_after_scan(host: Mapping, run: Mapping) -> tuple[str, str]:
    """Why a host has no scan after remediation: as a sentence, and for a summary line."""
    if host.get("status") == "deferred":
        return "Not started", "not started"
    if run.get("check_mode"):
        return "Dry run: not scanned after", "dry run"
    if host.get("plan") is None and _verdict_status(host.get("before")) == "compliant":
        return "Left alone: already compliant", "left alone"
    return "Not scanned after", "not scanned after"


def _html_verdict(verdict: object, title: str, missing: str) -> str:
    if not isinstance(verdict, Mapping):
        return f'<div class="verdict"><h4>{_h(title)}</h4><p class="none">{_h(missing)}</p></div>'
    status = _verdict_status(verdict)
    badge = _badge(status) if status else '<span class="none">verdict unknown</span>'
    rows = []
    for key, heading in (
        ("disallowed", "Disallowed"),
        ("approved", "Approved"),
        ("other", "Other AV"),
    ):
        findings = _items(verdict, key)
        if not findings:
            continue
        names = ", ".join(
            _h(_label(f))
            + (
                (
                    ' <span class="tag on">active</span>'
                    if f.get("active")
                    else ' <span class="tag off">inactive</span>'
                )
                if key == "approved"
                else ""
            )
            for f in findings
        )
        rows.append(f"<dt>{heading}</dt><dd>{names}</dd>")
    paths = _residue_paths(verdict)
    if paths:
        rows.append(f"<dt>Residue</dt><dd>{len(paths)} path{'s' if len(paths) != 1 else ''}</dd>")
    listing = (
        f'<dl class="pairs">{"".join(rows)}</dl>'
        if rows
        else '<p class="none">No antivirus found.</p>'
    )
    return (
        f'<div class="verdict v-{status or "unknown"}"><h4>{_h(title)}</h4>'
        f"<p>{badge}</p>{listing}</div>"
    )


def _html_plan(plan: Mapping, reboot: object, dry: bool) -> str:
    install = plan.get("install")
    order = plan.get("install_order")
    if install:
        install_html = f"<strong>{_h(install)}</strong>" + (
            f' <span class="origin">{_h(_INSTALL_ORDER_LABELS.get(order, order))}</span>'
            if order
            else ""
        )
    else:
        install_html = '<span class="none">nothing</span>'
    removals = plan.get("remove") or []
    if removals:
        items = []
        for item in removals:
            label = _label(item)
            origin = " / ".join(
                str(item[k]) for k in ("vendor", "product") if item.get(k) and item[k] != label
            )
            evidence = [{"kind": "package", "value": p} for p in item.get("packages") or []]
            for entry in item.get("windows") or []:
                evidence += [
                    {"kind": kind, "value": entry[key]}
                    for key, kind in (("display_name", "MSI product"), ("product_code", "code"))
                    if entry.get(key)
                ]
            items.append(
                f"<li><strong>{_h(label)}</strong>"
                + (f' <span class="origin">{_h(origin)}</span>' if origin else "")
                + _html_evidence(evidence)
                + "</li>"
            )
        remove_html = f'<ol class="removals">{"".join(items)}</ol>'
    else:
        remove_html = '<span class="none">nothing</span>'
    policy = plan.get("reboot_policy")
    parts = [_html_reboot(reboot)] if reboot is not None else []
    if policy:
        label = _REBOOT_POLICY_LABELS.get(policy, policy)
        parts.append(f'<span class="origin">policy: {_h(label)}</span>')
    reboot_html = " · ".join(parts) or _dash()
    extras = "".join(
        f"<dt>{_h(_humanize(k))}</dt><dd>{_html_value(v)}</dd>"
        for k, v in plan.items()
        if k not in ("install", "install_order", "remove", "reboot_policy")
    )
    heading = "Plan (dry run: not carried out)" if dry else "Plan"
    return (
        f'<section class="group g-plan"><h3>{heading}</h3><dl class="pairs">'
        f"<dt>Install</dt><dd>{install_html}</dd>"
        f"<dt>Remove</dt><dd>{remove_html}</dd>"
        f"<dt>Reboot</dt><dd>{reboot_html}</dd>{extras}</dl></section>"
    )


def _html_actions(actions: list[Mapping]) -> str:
    """A timeline: times of day, under a line naming the date wherever the day changes."""
    items, last_day = [], None
    for action in actions:
        at = action.get("at")
        moment = _parse_time(at) if at else None
        if moment is None:
            when = f"<code>{_h(at)}</code>" if at else '<span class="none">no time</span>'
        else:
            day = (moment.date(), moment.utcoffset())
            if day != last_day:
                items.append(f'<li class="day">{_h(_display_day(moment))}</li>')
            last_day = day
            when = (
                f'<time datetime="{_h(at)}" title="{_h(_display_time(at))}">'
                f"{moment.strftime('%H:%M:%S')}</time>"
            )
        event = _event(action)
        data = _action_data(action)
        # Keys as the playbook wrote them: this is evidence, not prose.
        details = "".join(
            f'<span class="kv"><span class="k">{_h(k)}</span> {_html_datum(v)}</span>'
            for k, v in data.items()
        )
        items.append(
            f'<li class="e-{_h(event)}"><span class="when">{when}</span>'
            f'<span class="event">{_h(_EVENT_LABELS.get(event, event))}</span>'
            f'<span class="data">{details}</span></li>'
        )
    return (
        '<section class="group g-actions"><h3>Actions</h3>'
        f'<ol class="timeline">{"".join(items)}</ol></section>'
    )


def _display_day(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d (UTC)" if not offset else "%Y-%m-%d (%z)")


def _html_datum(value: object) -> str:
    if value is None or value == "" or value == []:
        return '<span class="none">none</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return f"<code>{_h(value)}</code>"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return f"<code>{_h(', '.join(map(str, value)))}</code>"
    return f"<code>{_h(json.dumps(value, ensure_ascii=False, default=str))}</code>"


def _html_finding(finding: Mapping, key: str) -> str:
    label = _label(finding)
    origin = " / ".join(
        str(finding[k]) for k in ("vendor", "product") if finding.get(k) and finding[k] != label
    )
    tag = ""
    if key == "approved":
        tag = (
            ' <span class="tag on">active</span>'
            if finding.get("active")
            else ' <span class="tag off">inactive</span>'
        )
    return (
        f"<li><strong>{_h(label)}</strong>{tag}"
        + (f' <span class="origin">{_h(origin)}</span>' if origin else "")
        + _html_evidence(finding.get("evidence") or [])
        + "</li>"
    )


def _html_evidence(evidence: list) -> str:
    if not evidence:
        return ""
    items = "".join(
        f'<li><span class="kind">{_h(e.get("kind") if isinstance(e, Mapping) else "")}</span>'
        f"<code>{_h(e.get('value') if isinstance(e, Mapping) else e)}</code></li>"
        for e in evidence
    )
    return f'<ul class="evidence" aria-label="evidence">{items}</ul>'


_STYLE = """
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa;
  --accent: #0969da; --track: #eef1f4;
  --compliant: #1a7f37; --compliant-bg: #dafbe1; --compliant-fg: #116329;
  --non-compliant: #cf222e; --non-compliant-bg: #ffebe9; --non-compliant-fg: #a40e26;
  --unreachable: #bf8700; --unreachable-bg: #fff8c5; --unreachable-fg: #6c4400;
  --failed: #8250df; --failed-bg: #fbefff; --failed-fg: #5e30b5;
  --deferred: #6e7781; --deferred-bg: #eaeef2; --deferred-fg: #424a53;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23;
    --accent: #4493f8; --track: #212830;
    --compliant: #3fb950; --compliant-bg: #12351d; --compliant-fg: #7ee787;
    --non-compliant: #f85149; --non-compliant-bg: #3d1417; --non-compliant-fg: #ffa198;
    --unreachable: #d29922; --unreachable-bg: #352a0c; --unreachable-fg: #e3b341;
    --failed: #ab7df8; --failed-bg: #2c1d4a; --failed-fg: #d2a8ff;
    --deferred: #8b949e; --deferred-bg: #262c36; --deferred-fg: #c9d1d9;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body {
  margin: 0 auto; max-width: 1400px; padding: 1.5rem 2rem 3rem;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans",
    "Liberation Sans", sans-serif;
}
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono",
  "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.25rem 0;
  background: var(--panel); padding: 0.5rem; border-radius: 4px; }
h1 { font-size: 1.7rem; margin: 0 0 0.25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.75rem; padding-bottom: 0.3rem;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 0.95rem; margin: 0 0 0.35rem; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: 0.5rem; z-index: 2; }
.period { color: var(--muted); margin: 0; }
.check-mode { display: inline-block; margin: 0.5rem 0 0; padding: 0.15rem 0.6rem;
  border: 1px solid var(--accent); border-radius: 4px; color: var(--accent); }
.none { color: var(--muted); }
.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
  gap: 0.5rem 1.5rem; margin: 0; }
.meta div { min-width: 0; }
.meta dt { color: var(--muted); font-size: 0.8rem; text-transform: uppercase;
  letter-spacing: 0.04em; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.meta .hash { font-size: 0.8rem; }
.headline { margin: 0 0 0.75rem; font-size: 1.05rem; }
.cards { list-style: none; display: flex; flex-wrap: wrap; gap: 0.75rem; padding: 0;
  margin: 0 0 1rem; }
.card { min-width: 9.5rem; padding: 0.6rem 0.9rem; border: 1px solid var(--line);
  border-left-width: 6px; border-radius: 6px; background: var(--panel); }
.card .n { display: block; font-size: 1.8rem; font-weight: 700; line-height: 1.1; }
.card .what { color: var(--muted); }
.card.total { border-left-color: var(--accent); }
.card.s-compliant { border-left-color: var(--compliant); }
.card.s-non-compliant { border-left-color: var(--non-compliant); }
.card.s-unreachable { border-left-color: var(--unreachable); }
.card.s-failed { border-left-color: var(--failed); }
.card.s-deferred { border-left-color: var(--deferred); }
.chart { max-width: 100%; height: auto; }
.chart text { fill: var(--fg); font-size: 14px; }
.chart .track { fill: var(--track); }
.chart .s-compliant .bar { fill: var(--compliant); }
.chart .s-non-compliant .bar { fill: var(--non-compliant); }
.chart .s-unreachable .bar { fill: var(--unreachable); }
.chart .s-failed .bar { fill: var(--failed); }
.chart .s-deferred .bar { fill: var(--deferred); }
.chart .count { font-weight: 700; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 0.75rem;
  margin-bottom: 0.75rem; }
.controls[hidden] { display: none; }
.controls input, .controls select, .controls button {
  font: inherit; padding: 0.3rem 0.55rem; border: 1px solid var(--line); border-radius: 5px;
  background: var(--bg); color: var(--fg); }
.controls input { min-width: 16rem; }
.controls button { cursor: pointer; background: var(--panel); }
#shown { margin: 0 0 0 auto; color: var(--muted); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); font-size: 0.85rem; padding-bottom: 0.4rem; }
th { text-align: left; background: var(--panel); border-bottom: 2px solid var(--line);
  white-space: nowrap; position: sticky; top: 0; z-index: 1; }
th button { all: unset; cursor: pointer; display: block; padding: 0.45rem 0.6rem;
  font-weight: 600; }
th button:focus-visible { outline: 2px solid var(--accent); }
th .arrow::after { content: "↕"; color: var(--muted); margin-left: 0.3rem; font-size: 0.8em; }
th[aria-sort="ascending"] .arrow::after { content: "▲"; color: var(--fg); }
th[aria-sort="descending"] .arrow::after { content: "▼"; color: var(--fg); }
td { padding: 0.4rem 0.6rem; vertical-align: top; overflow-wrap: break-word; }
tbody.host { border-bottom: 1px solid var(--line); }
tbody.host:nth-of-type(even) tr.main {
  background: color-mix(in srgb, var(--panel) 60%, transparent); }
tr.main td:first-child .host { font-weight: 600; }
tr.findings td { padding-top: 0; }
td[data-sort] { min-width: 4rem; }
.badge { display: inline-block; white-space: nowrap; padding: 0.05rem 0.5rem;
  border-radius: 999px; font-size: 0.85rem; font-weight: 600; border: 1px solid; }
.badge.s-compliant { background: var(--compliant-bg); color: var(--compliant-fg); }
.badge.s-non-compliant { background: var(--non-compliant-bg); color: var(--non-compliant-fg); }
.badge.s-unreachable { background: var(--unreachable-bg); color: var(--unreachable-fg); }
.badge.s-failed { background: var(--failed-bg); color: var(--failed-fg); }
.badge.s-deferred { background: var(--deferred-bg); color: var(--deferred-fg); }
.tag { font-size: 0.75rem; padding: 0 0.35rem; border-radius: 3px; border: 1px solid; }
.tag.on { color: var(--compliant-fg); background: var(--compliant-bg); }
.tag.off { color: var(--muted); }
details summary { cursor: pointer; color: var(--accent); font-size: 0.88rem; width: max-content;
  max-width: 100%; }
details[open] summary { margin-bottom: 0.4rem; }
.groups { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
  gap: 0.75rem 1.5rem; padding: 0.6rem 0.8rem; margin-bottom: 0.5rem;
  background: var(--panel); border-radius: 6px; border: 1px solid var(--line); }
.groups .why { grid-column: 1 / -1; margin: 0; color: var(--non-compliant-fg); font-weight: 600; }
.group ul { margin: 0; padding-left: 1.1rem; }
.group > ul > li { margin-bottom: 0.35rem; }
.g-disallowed h3 { color: var(--non-compliant-fg); }
.g-approved h3 { color: var(--compliant-fg); }
.group .note { margin: 0 0 0.3rem; color: var(--muted); font-size: 0.85rem; }
.origin { color: var(--muted); font-size: 0.85rem; }
ul.evidence { list-style: none; padding-left: 0.2rem; margin: 0.15rem 0 0; font-size: 0.88rem; }
ul.evidence li { display: flex; gap: 0.5rem; }
ul.evidence .kind { color: var(--muted); min-width: 6.5rem; flex: none; }
ul.evidence code { overflow-wrap: anywhere; }
.group.extra { grid-column: 1 / -1; }
.dry-run { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 1rem;
  margin: 0 0 1rem; padding: 0.7rem 1rem; border: 2px dashed var(--unreachable);
  border-radius: 6px; background: var(--unreachable-bg); color: var(--unreachable-fg); }
.dry-run strong { font-size: 1.15rem; letter-spacing: 0.02em; }
.change .change-id { font-size: 1.05rem; font-weight: 700; }
.g-compare { grid-column: 1 / -1; }
.compare { display: grid; grid-template-columns: minmax(0, 1fr) auto minmax(0, 1fr);
  gap: 0.75rem; align-items: stretch; }
.compare .to { align-self: center; font-size: 1.4rem; color: var(--muted); }
.verdict { border: 1px solid var(--line); border-radius: 6px; padding: 0.45rem 0.7rem;
  background: var(--bg); border-top-width: 4px; }
.verdict.v-compliant { border-top-color: var(--compliant); }
.verdict.v-non-compliant { border-top-color: var(--non-compliant); }
.verdict h4 { margin: 0 0 0.3rem; font-size: 0.8rem; text-transform: uppercase;
  letter-spacing: 0.04em; color: var(--muted); }
.verdict p { margin: 0 0 0.3rem; }
dl.pairs { display: grid; grid-template-columns: max-content minmax(0, 1fr);
  gap: 0.2rem 0.75rem; margin: 0; font-size: 0.92rem; }
dl.pairs dt { color: var(--muted); }
dl.pairs dd { margin: 0; overflow-wrap: anywhere; }
ol.removals { margin: 0; padding-left: 1.2rem; }
ol.removals > li { margin-bottom: 0.3rem; }
.reboot { font-weight: 600; }
.reboot.r-pending { color: var(--unreachable-fg); background: var(--unreachable-bg);
  padding: 0 0.4rem; border-radius: 3px; }
.reboot.r-done { color: var(--compliant-fg); }
.reboot.r-not-needed { color: var(--muted); font-weight: 400; }
.work { grid-column: 1 / -1; display: grid; gap: 0.75rem 1.5rem;
  grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); }
.work > .group:only-child { grid-column: 1 / -1; }
.groups h3.divider { grid-column: 1 / -1; margin: 0.3rem 0 -0.35rem; padding-top: 0.5rem;
  border-top: 1px solid var(--line); color: var(--muted); font-size: 0.8rem;
  text-transform: uppercase; letter-spacing: 0.04em; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 0.9rem;
  border-left: 2px solid var(--line); font-size: 0.92rem; }
ol.timeline li { position: relative; display: grid; gap: 0.1rem 0.6rem;
  grid-template-columns: 4.4rem 5.6rem minmax(0, 1fr); padding: 0.15rem 0 0.3rem; }
ol.timeline li::before { content: ""; position: absolute; left: calc(-0.9rem - 6px);
  top: 0.55rem; width: 10px; height: 10px; border-radius: 50%; background: var(--accent);
  border: 2px solid var(--panel); }
ol.timeline li.day { display: block; color: var(--muted); font-size: 0.8rem;
  font-weight: 600; padding: 0.3rem 0 0.1rem; }
ol.timeline li.day::before { background: var(--line); width: 8px; height: 8px;
  left: calc(-0.9rem - 5px); top: 0.6rem; }
ol.timeline li.e-verified::before { background: var(--compliant); }
ol.timeline li.e-removed::before { background: var(--non-compliant); }
ol.timeline li.e-reboot::before { background: var(--unreachable); }
ol.timeline .when { color: var(--muted); font-variant-numeric: tabular-nums;
  white-space: nowrap; }
ol.timeline .event { font-weight: 600; }
ol.timeline .data { display: flex; flex-wrap: wrap; gap: 0.1rem 0.9rem; min-width: 0; }
ol.timeline .kv { overflow-wrap: anywhere; }
ol.timeline .k { color: var(--muted); }
.change time { white-space: nowrap; }
tr.main td:nth-last-child(2) { min-width: 14rem; }
footer code { white-space: nowrap; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 700px) {
  body { padding: 1rem; }
  .compare { grid-template-columns: minmax(0, 1fr); }
  .compare .to { display: none; }
  .work { grid-template-columns: minmax(0, 1fr); }
  ol.timeline li { grid-template-columns: 4.4rem minmax(0, 1fr); }
  ol.timeline .data { grid-column: 1 / -1; }
  tr.main td:nth-last-child(2) { min-width: 10rem; }
  /* The table scrolls sideways; a host's details stay on screen while it does. */
  tr.findings details { position: sticky; left: 0.6rem; max-width: calc(100vw - 3.2rem); }
  .controls input { min-width: 0; flex: 1 1 100%; }
  #shown { margin-left: 0; width: 100%; }
}
@media print {
  @page { margin: 1.5cm; }
  :root { color-scheme: light; --bg: #fff; --fg: #000; --panel: #f4f4f4; --line: #bbb;
    --muted: #444; }
  html { font-size: 9pt; }
  body { max-width: none; padding: 0; font-size: 9pt; }
  .controls, .skip, th .arrow { display: none; }
  th { position: static; white-space: normal; }
  .table-wrap { overflow: visible; }
  td, th { padding: 0.2rem 0.3rem; }
  /* Chromium leaves buttons out of the header it repeats on each page; text it keeps. */
  th button { display: none; }
  th::before { content: attr(data-label); }
  td[data-sort] { min-width: 0; }
  .cards { gap: 0.5rem; }
  .card { min-width: 0; padding: 0.3rem 0.7rem; }
  .card .n { font-size: 1.4rem; }
  .groups { grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 0.5rem 1rem; }
  details summary { color: var(--fg); }
  tr { break-inside: avoid; }
  tr.main { break-after: avoid; }
  thead { display: table-header-group; }
  h2 { break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_SCRIPT = """
(() => {
  'use strict';
  const table = document.getElementById('hosts');
  const controls = document.getElementById('controls');
  if (!table || !controls) return;
  const bodies = Array.from(table.querySelectorAll('tbody.host'));
  const noMatch = document.getElementById('no-match');
  const text = document.getElementById('filter-text');
  const status = document.getElementById('filter-status');
  const shown = document.getElementById('shown');
  const headers = Array.from(table.tHead.rows[0].cells);
  // Without this script the controls would do nothing, so they appear only with it.
  controls.hidden = false;

  const searchText = (body) => {
    const findings = body.querySelector('.groups');
    return (body.rows[0].textContent + ' ' + (findings ? findings.textContent : ''))
      .toLowerCase();
  };
  const haystacks = new Map(bodies.map((body) => [body, searchText(body)]));

  function applyFilter() {
    const query = text.value.trim().toLowerCase();
    const wanted = status.value;
    let count = 0;
    for (const body of bodies) {
      const visible = (!wanted || body.dataset.status === wanted) &&
        (!query || haystacks.get(body).includes(query));
      body.hidden = !visible;
      if (visible) count += 1;
    }
    noMatch.hidden = count !== 0;
    shown.textContent = 'Showing ' + count + ' of ' + bodies.length + ' hosts';
  }
  text.addEventListener('input', applyFilter);
  status.addEventListener('change', applyFilter);

  const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
  let sortColumn = -1;
  let direction = 1;
  function sortBy(column) {
    direction = column === sortColumn ? -direction : 1;
    sortColumn = column;
    const numeric = headers[column].dataset.type === 'number';
    const keyed = bodies.map((body, index) => ({
      body, index, key: body.rows[0].cells[column].dataset.sort || '',
    }));
    keyed.sort((a, b) => {
      // Hosts without a value go last whichever way the column is sorted.
      if (a.key === '' || b.key === '') {
        return (a.key === '') - (b.key === '') || a.index - b.index;
      }
      const order = numeric ? Number(a.key) - Number(b.key) : collator.compare(a.key, b.key);
      return direction * order || a.index - b.index;
    });
    for (const {body} of keyed) table.insertBefore(body, noMatch);
    headers.forEach((th, index) => {
      if (index === column) {
        th.setAttribute('aria-sort', direction === 1 ? 'ascending' : 'descending');
      } else {
        th.removeAttribute('aria-sort');
      }
    });
  }
  headers.forEach((th, column) => {
    const button = th.querySelector('button');
    if (button) button.addEventListener('click', () => sortBy(column));
  });

  function setOpen(open) {
    for (const body of bodies) {
      const details = body.querySelector('details');
      if (details && !body.hidden) details.open = open;
    }
  }
  document.getElementById('expand-all').addEventListener('click', () => setOpen(true));
  document.getElementById('collapse-all').addEventListener('click', () => setOpen(false));

  // Paper cannot be clicked: print every visible host's evidence, then restore.
  let closedBeforePrint = [];
  window.addEventListener('beforeprint', () => {
    closedBeforePrint = Array.from(table.querySelectorAll('details:not([open])'));
    for (const details of closedBeforePrint) details.open = true;
  });
  window.addEventListener('afterprint', () => {
    for (const details of closedBeforePrint) details.open = false;
    closedBeforePrint = [];
  });
  applyFilter();
})();
"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


_STYLE_HASH = _csp_hash(_STYLE)
_SCRIPT_HASH = _csp_hash(_SCRIPT)
