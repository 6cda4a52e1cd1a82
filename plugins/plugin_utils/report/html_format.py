# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html: one self-contained page, for the people who read a run's report.

templates/report.html.j2 lays the page out, with the pieces in templates/macros.html.j2;
this module prepares what it shows (text, counts, times, and which of a few shapes a
value takes). report.css and report.js are inlined and allowed by their SHA-256 in the
page's Content-Security-Policy: the page fetches nothing and runs nothing else.

The hosts are not in the page's markup but in two data blocks that report.js reads
(_host_data): each host's row group, written once by the macro host_body, and what the
filter and the sort need. The script makes rows only for the hosts on screen, so a page
of 20,000 hosts opens, filters and sorts about as fast as one of a few hundred
(bench/report_scale.py measures it).

Every {{ value }} is escaped where it is written. Autoescape is on, and `finalize` hands
it each value already escaped the way html.escape does it (&#x27;, &quot;, where Jinja
writes &#39;, &#34;), after turning lone surrogates, which UTF-8 cannot encode, into
U+FFFD: the page stays byte for byte what it was (tests/report/golden).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    OCCASIONAL_STATUSES,
    STATUS_BY_ID,
    Status,
    plural,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.events import (
    MISSING_PASSWORD_WARNING,
    PLAN_KEYS,
    REBOOT_POLICY_LABELS,
    and_list,
    field_label,
    held_texts,
    humanize,
    label_and_value,
    missing_password_texts,
    plan_sentence,
    removal_steps,
    tell,
    words,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    CHANGE_RUN_KEYS,
    FINDING_KEYS,
    KNOWN_HOST_KEYS,
    KNOWN_RUN_KEYS,
    STATUSES,
    action_data,
    batch_text,
    confirmation_text,
    duration_text,
    event_name,
    findings,
    is_number,
    parse_time,
    product_name,
    protection_of,
    remediation_seconds,
    report_kind,
    residue_paths,
    verdict_status,
    without_surrogates,
)

_TEMPLATES = Path(__file__).with_name("templates")

_OS_LABELS = {"linux": "Linux", "windows": "Windows"}
_REBOOT_LABELS = {"done": "Done", "pending": "Pending", "not-needed": "Not needed"}
# Pending first: a host waiting for its restart is the one somebody has to act on.
_REBOOT_RANK = {"pending": 0, "done": 1, "not-needed": 2}
# The statuses whose message is why the host was not checked or not remediated.
_REASON_STATUSES = ("unreachable", "failed", "interrupted", "deferred")
_NO_ACTIVE_APPROVED = "No approved antivirus is active on this host."
_POLICY_KEYS = ("source", "sha256", "disallowed_vendors", "approved")
# The findings a host's details list, and what a before/after scan calls them.
_DETAIL_GROUPS = {"disallowed": "Disallowed", "approved": "Approved", "other": "Other antivirus"}
_VERDICT_GROUPS = {**_DETAIL_GROUPS, "other": "Other AV"}
# The chart's geometry, in SVG units: a row per status, its label, its bar.
_CHART_ROW, _CHART_LABEL_WIDTH, _CHART_BAR_WIDTH, _CHART_WIDTH = 30, 130, 300, 500
# The footer counts a report's files in words, as a sentence does.
_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _escaped(value: object) -> object:
    """Each {{ value }} of the templates as the page writes it (the module docstring says
    why): escaped by html.escape, unless it is markup already (a macro's, an inlined file)."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(without_surrogates(value), quote=True))


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=_escaped,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(report: Mapping, beside: Sequence[str], sums_filename: str) -> str:
    """The page of a checked report; `beside` names the other files written with it."""
    page = _page(report, beside, sums_filename)
    return _ENVIRONMENT.get_template("report.html.j2").render(page)


# The hosts table's columns: the heading, how the page's script compares the column's
# keys, and the name of the key in _host()'s "sort", which is also the cell that the
# macro host_cell writes for it. The time column is added by _columns().
_COLUMNS = (
    ("Host", "text", "name"),
    ("Status", "number", "status"),
    ("OS", "text", "family"),
    ("Disallowed", "number", "disallowed"),
    ("Approved", "text", "approved"),
    ("Other AV", "number", "other"),
    ("Residue", "number", "residue"),
    ("Reboot", "number", "reboot"),
    ("Message", "text", "message"),
)
_TIME_COLUMNS = {"remediation": "Remediation time", "scan": "Scan time"}


def _columns(remediation: bool, time_key: str) -> list[dict]:
    """The columns of the hosts table; only a remediation has hosts that reboot."""
    columns = [
        {"label": label, "type": kind, "key": key}
        for label, kind, key in _COLUMNS
        if remediation or key != "reboot"
    ]
    return [*columns, {"label": _TIME_COLUMNS[time_key], "type": "number", "key": time_key}]


def _host_data(hosts: list[dict], columns: list[dict]) -> dict:
    """Every host as report.js reads it, in two data blocks of the page:

    - "rows": each host's row group, written once by the macro host_body (its text
      escaped as the rest of the page's), one after the other with ROW_SEPARATOR between
      them: splitting them costs the browser a fraction of what JSON.parse does;
    - "data": JSON, a list per host of its status, the text its row and findings show
      (lower case, what the filter looks in) and its key for each column, null where it
      has no value.
    """
    body = _ENVIRONMENT.get_template("macros.html.j2").module.host_body
    width = len(columns)
    rows, data = [], []
    for host in hosts:
        markup = str(body(host, columns, width))
        if ROW_SEPARATOR in markup or _SCRIPT_DATA.search(markup):
            # The row's text is escaped and the templates write neither: a bug, not data.
            raise ValueError(f"the row of {host['name']!r} would end its data block")
        rows.append(markup)
        keys = [host["sort"][column["key"]] for column in columns]
        data.append([host["status"].id, _searched_text(markup), *keys])
    return {
        "rows": Markup(ROW_SEPARATOR.join(rows)),
        "data": Markup(_SCRIPT_DATA.sub(r"\\u003c", _text_json(data))),
    }


# Between two hosts' row groups. The markup's own "<" only ever starts a tag, and the
# hosts' text in it is escaped, so "<>" is in no row.
ROW_SEPARATOR = "<>"
_TAG = re.compile(r"<[^>]*>")


def _searched_text(markup: str) -> str:
    """What a row group shows, as the filter reads it: its text without the tags, one
    space for each run of white space, in lower case."""
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split()).lower()


def _text_json(value: object) -> str:
    """JSON of the hosts' own text, with its <, > and & as JSON's \\u escapes: in the
    page's source, a name such as <img src=x> is then no tag to a reader or a mail filter
    either, only to the script, which reads it as text."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# What would end a <script> element's data or change how the browser reads it: "<!--",
# "<script" and "</script" in any case. HTML's rules for a script's contents say to
# escape the "<" of each (https://html.spec.whatwg.org/multipage/scripting.html
# #restrictions-for-contents-of-script-elements); in JSON, "<" can only be in a string,
# where \u003c reads as "<" again. The JSON holds no "<" at all (_text_json): this is
# the last guard. The rows cannot be escaped so, and hold none of them (_host_data).
_SCRIPT_DATA = re.compile(r"<(?=!--|/?script)", re.IGNORECASE)


@functools.cache
def _inline(name: str) -> dict:
    """A file of templates/ as the page inlines it, and its hash for the CSP."""
    # After a line break, so that the code starts on a line of its own; the hash covers
    # exactly what lies between the tags.
    code = "\n" + (_TEMPLATES / name).read_text(encoding="utf-8")
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return {"code": Markup(code), "hash": "sha256-" + base64.b64encode(digest).decode("ascii")}


def _page(report: Mapping, beside: Sequence[str], sums_filename: str) -> dict:
    kind = report_kind(report)
    remediation = kind == "remediation"
    run = report.get("run") or {}
    tool = report.get("tool") or {}
    tool_name = f"{tool.get('name') or 'avshift'} {tool.get('version') or ''}".strip()
    started, ended = run.get("started"), run.get("ended")
    statuses = [STATUS_BY_ID[status] for status in _shown_statuses(report)]
    hosts = [_host(host, run, remediation) for host in report["hosts"]]
    # The hosts' column of times gives the remediation's where the run remediated any
    # host; else (an audit, a dry run) the scan's. The scan's own time is in its box.
    timed = any(host["time"]["remediation"] for host in hosts)
    columns = _columns(remediation, "remediation" if timed else "scan")
    files = len(beside) + 1
    return {
        "title": f"avshift {kind} report",
        "period": " to ".join(_display_time(t) for t in (started, ended) if t),
        "tool": tool_name,
        "style": _inline("report.css"),
        "script": _inline("report.js"),
        "started": _moment(started) if started else None,
        "ended": _moment(ended) if ended else None,
        "elapsed": _elapsed(started, ended),
        "check_mode": bool(run.get("check_mode")),
        "unfinished": None if run.get("completion") in (None, "completed") else run["completion"],
        "remediation": remediation,
        "change": _change(run) if remediation else None,
        "run_rows": _run_rows(run, tool_name, kind),
        "summary": _summary(report["summary"], statuses),
        "drift": _drift(report.get("drift")) if report.get("drift") else None,
        "host_count": len(hosts),
        "columns": columns,
        "host_data": _host_data(hosts, columns),
        "beside": and_list(beside),
        "sums_filename": sums_filename,
        "files": _NUMBER_WORDS.get(files, str(files)),
    }


def _shown_statuses(report: Mapping) -> tuple[str, ...]:
    """Every status, but no empty "Deferred" in an audit (which defers nothing), and no
    empty occasional one (an interrupted run's)."""
    summary = report["summary"]
    hidden = {s for s in OCCASIONAL_STATUSES if not summary.get(s)}
    if report_kind(report) != "remediation" and not summary["deferred"]:
        hidden.add("deferred")
    return tuple(s for s in STATUSES if s not in hidden)


# --- the shapes a value takes on the page (the macro `shown` writes each) --------------


def _text(value: object) -> dict:
    return {"kind": "text", "text": value}


def _absent(text: str = "none") -> dict:
    return {"kind": "absent", "text": text}


_DASH = {"kind": "dash"}


def _code(value: object, css: str = "") -> dict:
    return {"kind": "code", "text": value, "css": css}


def _optional_code(value: object, css: str = "") -> dict:
    return _absent() if value is None or value == "" else _code(value, css)


def _optional_text(value: object, absent: str) -> dict:
    return _absent(absent) if value is None or value == "" else _text(value)


def _noted(value: dict, *note: dict) -> dict:
    """A value followed by a note about it, the note made of values of its own."""
    return {"kind": "noted", "value": value, "note": list(note)}


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float)


def _shown(value: object) -> dict:
    """A value of any shape as a person reads it: words, a list of them, a mapping as a
    table of its keys and values, a list of mappings as a table with a column per key.
    Never JSON nor a Python repr, whatever the playbook or an older journal wrote."""
    if _is_empty(value):
        return _absent()
    if isinstance(value, bool):
        return _text("yes" if value else "no")
    if isinstance(value, str | int | float):
        return _text(value)
    if isinstance(value, Mapping):
        return _pairs(value)
    if isinstance(value, list | tuple):
        if all(_is_scalar(item) for item in value):
            return _text(", ".join("none" if item is None else str(item) for item in value))
        if all(isinstance(item, Mapping) for item in value):
            return _table(value)
        return {"kind": "list", "entries": [_shown(item) for item in value]}
    return _text(value)


def _pairs(data: Mapping) -> dict:
    pairs = (label_and_value(key, value) for key, value in data.items())
    return {"kind": "pairs", "rows": [{"label": k, "value": _shown(v)} for k, v in pairs]}


def _table(items: Sequence[Mapping]) -> dict:
    """Mappings as a table: a column per key any of them has, a row each."""
    keys = list(dict.fromkeys(key for item in items for key in item))
    rows = [[label_and_value(key, item.get(key))[1] for key in keys] for item in items]
    return {
        "kind": "table",
        "columns": [field_label(key) for key in keys],
        "rows": [[_shown(value) for value in row] for row in rows],
    }


def _sentence(clause: str) -> str:
    return clause[:1].upper() + clause[1:]


# --- times -----------------------------------------------------------------------------


def _display_time(value: object) -> str:
    moment = parse_time(value)
    if moment is None:
        return str(value)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    return f"{text} UTC" if not offset else f"{text} {moment.strftime('%z')}"


def _display_day(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d (UTC)" if not offset else "%Y-%m-%d (%z)")


def _moment(value: object) -> dict:
    return {"kind": "time", "datetime": value, "text": _display_time(value), "title": None}


def _elapsed(started: object, ended: object) -> str | None:
    begin, end = parse_time(started), parse_time(ended)
    if begin is None or end is None or (begin.tzinfo is None) != (end.tzinfo is None):
        return None
    # Whole seconds: a run's clock times have no fractions to show.
    return duration_text(round((end - begin).total_seconds()))


# --- the run: its change, its facts, its summary ----------------------------------------


def _change(run: Mapping) -> dict:
    """The change record: what was approved, who ran it and how it was allowed to start,
    when, and how the run was paced; as the Change section's label and value pairs."""
    window = run.get("window")
    if isinstance(window, Mapping):
        start, end = window.get("start"), window.get("end")
        window = {
            "kind": "period",
            "start": _moment(start),
            "end": _moment(end),
            "length": _elapsed(start, end),
        }
    else:
        window = _shown(window)
    change_id = _optional_code(run.get("change_id"), "change-id")
    pattern = run.get("change_id_pattern")
    if pattern:
        # Only a site's own pattern is recorded: the approver sees the check was not ours.
        change_id = _noted(
            change_id, _text("change id checked against "), _code(pattern), _text(" (site's own)")
        )
    batch = batch_text(run.get("batch"))
    max_fail = run.get("max_fail_percentage")
    policy = run.get("reboot_policy")
    return {
        "dry_run": bool(run.get("check_mode")),
        "rows": [
            ("Change ID", change_id),
            ("Operator", _optional_text(run.get("operator"), "not given")),
            ("OS account", _optional_text(run.get("os_account"), "not recorded")),
            ("Confirmation", _text(confirmation_text(run))),
            ("Window", window),
            ("Batch", _text(batch) if batch else _absent("all hosts at once")),
            ("Max fail", _text(f"{max_fail}%") if is_number(max_fail) else _shown(max_fail)),
            (
                "Reboot policy",
                _text(REBOOT_POLICY_LABELS.get(policy, policy)) if policy else _DASH,
            ),
        ],
    }


def _run_rows(run: Mapping, tool_name: str, kind: str) -> list[tuple[str, dict]]:
    """The Run section's label and value pairs; a key nobody knows is shown as it is."""
    policy = run.get("policy") or {}
    approved = policy.get("approved")
    rows = [
        ("Kind", _text(kind)),
        ("Inventory", _optional_code(run.get("inventory"))),
        ("Playbook", _optional_code(run.get("playbook"))),
        ("Check mode", _shown(bool(run.get("check_mode")))),
        ("Policy", _optional_code(policy.get("source"))),
        ("Policy SHA-256", _optional_code(policy.get("sha256"), "hash")),
        ("Disallowed vendors", _shown(policy.get("disallowed_vendors"))),
    ]
    if isinstance(approved, Mapping):
        rows += [
            (f"Approved on {_OS_LABELS.get(family, str(family))}", _shown(vendors))
            for family, vendors in approved.items()
        ]
    else:
        rows.append(("Approved", _shown(approved)))
    rows += [
        (f"Policy {humanize(key).lower()}", _shown(value))
        for key, value in policy.items()
        if key not in _POLICY_KEYS
    ]
    shown_elsewhere = KNOWN_RUN_KEYS + (CHANGE_RUN_KEYS if kind == "remediation" else ())
    rows += [(humanize(k), _shown(v)) for k, v in run.items() if k not in shown_elsewhere]
    rows.append(("Tool", _text(tool_name)))
    return rows


def _summary(summary: Mapping, statuses: list[Status]) -> dict:
    total = summary["total"]
    compliant = summary["compliant"]
    return {
        "total": total,
        "compliant": compliant,
        "share": f"{round(100 * compliant / total)}%" if total else None,
        "cards": [{"status": status, "count": summary[status.id]} for status in statuses],
        "chart": _chart(summary, statuses),
    }


def _chart(summary: Mapping, statuses: list[Status]) -> dict:
    """A horizontal bar per status, labelled in text; the SVG needs nothing external."""
    biggest = max([summary[status.id] for status in statuses] + [1])
    bars = []
    for index, status in enumerate(statuses):
        top = 3 + index * _CHART_ROW
        count = summary[status.id]
        length = round(_CHART_BAR_WIDTH * count / biggest) if count else 0
        bars.append(
            {"status": status, "count": count, "y": top + 4, "text_y": top + 19, "length": length}
        )
    return {
        "width": _CHART_WIDTH,
        "height": _CHART_ROW * len(statuses) + 6,
        "description": ", ".join(f"{s.label}: {summary[s.id]}" for s in statuses),
        "label_x": _CHART_LABEL_WIDTH - 8,
        "bar_x": _CHART_LABEL_WIDTH,
        "bar_width": _CHART_BAR_WIDTH,
        "bar_height": _CHART_ROW - 10,
        "count_x": _CHART_LABEL_WIDTH + _CHART_BAR_WIDTH + 10,
        "bars": bars,
    }


# --- since the last run: the history store's drift ---------------------------------------

# The trend chart's geometry, in SVG units: a column per run, stacked by status.
_TREND_HEIGHT, _TREND_COLUMN, _TREND_GAP, _TREND_AXIS = 120, 14, 4, 40


def _drift(drift: Mapping) -> dict:
    previous = drift.get("previous_run")
    return {
        "previous": {
            "started": _moment(previous.get("started")),
            "kind": previous.get("kind"),
            "change_id": previous.get("change_id"),
        }
        if previous
        else None,
        "regressed": [
            {
                "host": item["host"],
                "was": STATUS_BY_ID.get(item.get("was") or "compliant"),
                "now": STATUS_BY_ID.get(item["status"], STATUS_BY_ID["failed"]),
                "appeared": ", ".join(entry["name"] for entry in item.get("appeared") or []),
                # Why a host that could not be checked regressed: its failure, not its
                # findings (a non-compliant host's are what appeared).
                "reason": item.get("message") if item["status"] in _REASON_STATUSES else None,
            }
            for item in drift.get("regressed") or []
        ],
        "fixed": drift.get("fixed") or [],
        "newly_seen": [
            {
                "host": item["host"],
                "what": _DETAIL_GROUPS.get(item["kind"], item["kind"]),
                "name": item["name"],
            }
            for item in drift.get("newly_seen") or []
        ],
        "missing": drift.get("missing") or [],
        "stale": [
            {
                "host": item["host"],
                "last": _moment(item["last_audited"]) if item.get("last_audited") else None,
            }
            for item in drift.get("stale") or []
        ],
        "trend": _trend(drift.get("trend") or []),
    }


def _trend(points: Sequence[Mapping]) -> dict | None:
    """A stacked column per run (hosts per status, worst on top), in inline SVG."""
    if not points:
        return None
    biggest = max([sum(point["counts"].values()) for point in points] + [1])
    columns = []
    for index, point in enumerate(points):
        x = _TREND_AXIS + index * (_TREND_COLUMN + _TREND_GAP)
        bottom = _TREND_HEIGHT
        segments = []
        # Compliant at the bottom, the worst status on top, as the eye reads a rise.
        for status in sorted(STATUS_BY_ID.values(), key=lambda s: -s.rank):
            count = point["counts"].get(status.id, 0)
            if not count:
                continue
            height = max(1, round((_TREND_HEIGHT - 4) * count / biggest))
            bottom -= height
            segments.append({"status": status, "y": bottom, "height": height})
        total = sum(point["counts"].values())
        compliant = point["counts"].get("compliant", 0)
        columns.append(
            {
                "x": x,
                "segments": segments,
                "title": f"{_display_time(point.get('started'))}: {compliant} of "
                f"{plural(total, 'host')} compliant",
            }
        )
    first, last = points[0], points[-1]
    present = {status for point in points for status, count in point["counts"].items() if count}
    return {
        "legend": [
            status
            for status in sorted(STATUS_BY_ID.values(), key=lambda s: -s.rank)
            if status.id in present
        ],
        "width": _TREND_AXIS + len(points) * (_TREND_COLUMN + _TREND_GAP) + 10,
        "height": _TREND_HEIGHT + 22,
        "column": _TREND_COLUMN,
        "axis_x": _TREND_AXIS - 6,
        "biggest": biggest,
        "label_y": _TREND_HEIGHT + 16,
        "columns": columns,
        "description": f"{plural(len(points), 'run')} from {_display_time(first.get('started'))} "
        f"to {_display_time(last.get('started'))}; in the last, "
        f"{last['counts'].get('compliant', 0)} of {sum(last['counts'].values())} hosts "
        "compliant",
    }


# --- a host: its row, and the details it expands to ---------------------------------------


def _host(host: Mapping, run: Mapping, remediation: bool) -> dict:
    name = host["host"]
    family = host.get("os_family")
    disallowed = findings(host, "disallowed")
    approved = findings(host, "approved")
    other = findings(host, "other")
    residue = residue_paths(host)
    # duration_seconds is the last scan's own time, however long the remediation took.
    scan = host.get("duration_seconds")
    took = remediation_seconds(host)
    message = host.get("message")
    reboot = host.get("reboot")
    return {
        "name": name,
        "status": STATUS_BY_ID[host["status"]],
        "os": _OS_LABELS.get(family, family) if family else None,
        "disallowed": ", ".join(product_name(f) for f in disallowed),
        "approved": [_product(item, "approved") for item in approved],
        "other": ", ".join(product_name(f) for f in other),
        "residue": plural(len(residue), "path") if residue else None,
        "reboot": _reboot(reboot),
        "message": message,
        "time": {"scan": duration_text(scan), "remediation": duration_text(took)},
        # What the page's script sorts each column by (_COLUMNS); None: no value, which
        # goes last whichever way the column is sorted.
        "sort": {
            "name": without_surrogates(name).lower(),
            "status": STATUS_BY_ID[host["status"]].rank,
            "family": without_surrogates(family).lower() if family else None,
            "disallowed": len(disallowed),
            "approved": without_surrogates(", ".join(product_name(a) for a in approved)).lower()
            or None,
            "other": len(other),
            "residue": len(residue),
            "reboot": _REBOOT_RANK.get(reboot, 3) if reboot else None,
            "message": without_surrogates(message).lower() if message else None,
            "scan": scan if is_number(scan) and math.isfinite(scan) else None,
            "remediation": took,
        },
        "details": _details(host, run, remediation, took),
    }


def _reboot(state: object) -> dict | None:
    if state is None:
        return None
    label = _REBOOT_LABELS.get(state, state)
    return {"id": state, "known": state in _REBOOT_LABELS, "label": label}


def _listed(label: object, evidence: list[dict], origin: str = "", protection=None) -> dict:
    """An entry of a list of products: a finding, a planned removal, a vendor's residue.
    `protection` is None but for approved products, tagged with their protection state
    ({id, words, reasons})."""
    return {"label": label, "protection": protection, "origin": origin, "evidence": evidence}


def _product(item: Mapping, key: str) -> dict:
    """A finding, with where it comes from and the evidence it was found by."""
    label = product_name(item)
    protection = None
    if key == "approved":
        state, words, reasons = protection_of(item)
        protection = {"id": state, "words": words, "reasons": reasons}
    return _listed(label, _evidence_of(item), _origin(item, label), protection)


def _origin(item: Mapping, label: str) -> str:
    return " / ".join(
        str(item[key]) for key in ("vendor", "product") if item.get(key) and item[key] != label
    )


def _evidence_of(item: Mapping) -> list[dict]:
    return [
        {"kind": entry.get("kind"), "value": entry.get("value")}
        if isinstance(entry, Mapping)
        else {"kind": "", "value": entry}
        for entry in item.get("evidence") or []
    ]


def _details(host: Mapping, run: Mapping, remediation: bool, took: float | None) -> dict | None:
    """What a host's row expands to (None: nothing), and the line that sums it up."""
    compare, work, counts = _remediation(host, run, duration_text(took))
    remediated = compare is not None or work is not None
    groups = []
    for key, heading in _DETAIL_GROUPS.items():
        found = findings(host, key)
        if found:
            counts.append(f"{len(found)} {heading.lower()}")
            groups.append(
                {"key": key, "heading": heading, "products": [_product(f, key) for f in found]}
            )
    residue = [
        _listed(item.get("vendor") or "unknown", _evidence_of(item))
        for item in findings(host, "residue")
    ]
    if residue:
        counts.append(plural(len(residue_paths(host)), "residue path"))
    unreadable = _unreadable(host.get("unreadable"))
    if unreadable:
        counts.append(f"{len(unreadable)} not read")
    changed = _changed_in_audit(host, remediation)
    if changed:
        counts.append(changed["count"])
    # A key nobody knows is shown as it is, but an empty one would be an empty section.
    extras = [key for key in host if key not in KNOWN_HOST_KEYS and not _is_empty(host[key])]
    if extras:
        counts.append(", ".join(humanize(key).lower() for key in extras))
    if not (remediated or groups or residue or unreadable or changed or extras):
        return None
    return {
        "what": "Remediation of" if remediated else "Findings for",
        "summary": " · ".join(counts),
        "why": _why(host),
        "changed": changed["warning"] if changed else None,
        "compare": compare,
        "work": work,
        "divider": remediated and any(findings(host, key) for key in FINDING_KEYS),
        "groups": groups,
        "residue": residue,
        "unreadable": unreadable,
        "extras": [{"heading": humanize(key), "value": _shown(host[key])} for key in extras],
    }


def _why(host: Mapping) -> str | None:
    """The line a host's details start with: why it is not compliant, or why it was not
    checked or remediated (its message, the failure's reason, never its findings)."""
    status = host["status"]
    if status == "non-compliant":
        active = any(item.get("active") for item in findings(host, "approved"))
        return None if active else _NO_ACTIVE_APPROVED
    if status in _REASON_STATUSES and host.get("message"):
        return str(host["message"])
    return None


def _unreadable(value: object) -> list[str]:
    """What the scan could not read, a line each: the part and why (the classifier's
    "unreadable"; an older collector named the part alone)."""
    if _is_empty(value):
        return []
    lines = []
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, Mapping):
            why = item.get("reason")
            lines.append(words(item.get("part")) + (f": {words(why)}" if why else ""))
        else:
            lines.append(words(item))
    return lines


def _changed_in_audit(host: Mapping, remediation: bool) -> dict | None:
    """Ansible's count of a host's changed tasks, where it says something: in an audit,
    which changes nothing, any count is a warning. A dry run's count is of what would
    change, and a real remediation's actions say what did: neither page shows it."""
    changed = host.get("changed")
    if remediation or not is_number(changed) or changed <= 0:
        return None
    count = plural(changed, "changed task")
    return {
        "count": count,
        "warning": f"Ansible reported {count} on this host, in an audit that changes nothing.",
    }


def _remediation(
    host: Mapping, run: Mapping, took: str | None
) -> tuple[dict | None, dict | None, list[str]]:
    """What a remediation found and did on a host: the scans before and after, and its
    work (the plan, or the reboot alone, and the actions, and how long they took); then
    the words for each."""
    counts = []
    before, after = host.get("before"), host.get("after")
    plan, actions, reboot = host.get("plan"), host.get("actions") or [], host.get("reboot")
    dry_run = bool(run.get("check_mode"))
    compare = None
    if before is not None or after is not None:
        was, now = verdict_status(before) or "not scanned", verdict_status(after)
        missing, short = _no_after_scan(host, run)
        counts.append(f"{was} → {now}" if now else f"{was}, {short}")
        # The host's scan time is its last scan's.
        scan_time = duration_text(host.get("duration_seconds"))
        compare = {
            "before": _verdict(
                before, "Before remediation", "Not scanned", None if after else scan_time
            ),
            "after": _verdict(after, "After remediation", missing, scan_time),
        }
    work = {"plan": None, "reboot": None, "actions": None, "took": None}
    if isinstance(plan, Mapping):
        counts.append("plan only (dry run)" if dry_run else "plan")
        work["plan"] = _plan(plan, reboot, dry_run)
    elif reboot is not None:
        work["reboot"] = _reboot(reboot)
    if actions:
        counts.append(plural(len(actions), "action") + (f" in {took}" if took else ""))
        work["actions"] = _timeline(actions, plan)
        work["took"] = took
    if reboot is not None:
        counts.append(f"reboot {str(_REBOOT_LABELS.get(reboot, reboot)).lower()}")
    return compare, work if any(work.values()) else None, counts


def _no_after_scan(host: Mapping, run: Mapping) -> tuple[str, str]:
    """Why a host has no scan after remediation: as a sentence, and for a summary line."""
    if host.get("status") == "deferred":
        return "Not started", "not started"
    if run.get("check_mode"):
        return "Dry run: not scanned after", "dry run"
    if host.get("after_unknown"):
        return _sentence(str(host["after_unknown"])), "not scanned after"
    if host.get("plan") is None and verdict_status(host.get("before")) == "compliant":
        return "Left alone: already compliant", "left alone"
    return "Not scanned after", "not scanned after"


def _verdict(verdict: object, title: str, missing: str, scan_time: str | None) -> dict:
    if not isinstance(verdict, Mapping):
        return {"title": title, "missing": missing}
    status = verdict_status(verdict)
    paths = residue_paths(verdict)
    return {
        "title": title,
        "missing": None,
        "status": STATUS_BY_ID[status] if status else None,
        "css": status or "unknown",
        "groups": [
            {"heading": heading, "products": [_product(f, key) for f in findings(verdict, key)]}
            for key, heading in _VERDICT_GROUPS.items()
            if findings(verdict, key)
        ],
        "residue": plural(len(paths), "path") if paths else None,
        "scan_time": scan_time,
    }


def _plan(plan: Mapping, reboot: object = None, dry_run: bool = False) -> dict:
    """A plan in words: what it installs and removes, a row per removal with its
    packages and steps, what it holds back and why, and a warning for a password that
    is missing; a key nobody knows is shown as it is."""
    policy = plan.get("reboot_policy")
    missing = missing_password_texts(plan)
    return {
        "heading": "Plan (dry run: not carried out)" if dry_run else "Plan",
        "sentence": _sentence(plan_sentence(plan)) + ".",
        "removals": [_removal(item) for item in plan.get("remove") or []],
        "held": held_texts(plan),
        "missing_passwords": {"warning": MISSING_PASSWORD_WARNING, "products": and_list(missing)}
        if missing
        else None,
        "reboot": _reboot(reboot),
        "reboot_policy": REBOOT_POLICY_LABELS.get(policy, words(policy)) if policy else None,
        "extras": [
            {"label": label, "value": _shown(value)}
            for label, value in (
                label_and_value(key, value) for key, value in plan.items() if key not in PLAN_KEYS
            )
        ],
    }


def _removal(item: object) -> dict:
    """A product the plan removes: its packages (on Windows, its uninstall entries with
    their product codes) and the steps the planner wrote for it."""
    if not isinstance(item, Mapping):
        # An older plan named the products it removes, nothing more.
        return {**_listed(words(item), []), "packages": [], "steps": _DASH, "notes": []}
    windows = item.get("windows") or []
    if windows:
        # A display name is the vendor's prose; its product code is what msiexec removes.
        packages = [
            {"name": entry.get("display_name"), "code": entry.get("product_code"), "literal": False}
            for entry in windows
            if entry.get("display_name") or entry.get("product_code")
        ]
    else:
        packages = [
            {"name": name, "code": None, "literal": True} for name in item.get("packages") or []
        ]
    label = product_name(item)
    steps = removal_steps(item)
    return {
        **_listed(label, [], _origin(item, label)),
        "packages": packages,
        "steps": _text(steps) if steps else _DASH,
        # What the planner warns of: a password it lacks, a manual removal, no package.
        "notes": [words(note) for note in item.get("notes") or []],
    }


def _timeline(actions: list[Mapping], plan: object) -> list[dict]:
    """The actions as times of day, each new date named before its first action, each
    in words: its sentence, and a table of what its sentence does not say."""
    entries, last_day = [], None
    for action in actions:
        at = action.get("at")
        moment = parse_time(at) if at else None
        day = None
        if moment is None:
            when = _code(at) if at else _absent("no time")
        else:
            this_day = (moment.date(), moment.utcoffset())
            if this_day != last_day:
                day = _display_day(moment)
            last_day = this_day
            when = {
                "kind": "time",
                "datetime": at,
                "title": _display_time(at),
                "text": moment.strftime("%H:%M:%S"),
            }
        event = event_name(action)
        data = action_data(action)
        told = tell(event, data)
        entries.append(
            {
                "day": day,
                "when": when,
                "event": event,
                "label": told.label,
                "sentence": _sentence(told.sentence) if told.sentence else None,
                # The host's plan is shown beside the timeline; one that differs from it
                # (a later one) is shown here in full, with its keys nobody knows.
                "plan": _plan(data) if event == "plan" and data != plan else None,
                "rest": _pairs(told.rest) if told.rest and event != "plan" else None,
            }
        )
    return entries
