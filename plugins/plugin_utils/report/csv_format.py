# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.csv: one row per host, for spreadsheets, every text cell safe to open."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    event_name,
    findings,
    is_number,
    product_name,
    protection_of,
    protection_text,
    remediation_seconds,
    report_kind,
    residue_paths,
    since_last_run,
    verdict_status,
    without_surrogates,
)

CSV_COLUMNS = (
    "host",
    "status",
    "os_family",
    "disallowed",
    "disallowed_vendors",
    "approved",
    "active_approved",
    # An approved product meets the policy's protection rules, not only runs.
    "protecting_approved",
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
    # From the host's first evidence event to its last; duration_seconds is its scan's.
    "remediation_seconds",
)
# Appended last when the run was compared with the history store's last run.
DRIFT_CSV_COLUMNS = ("since_last_run",)

# Spreadsheets run a cell starting with one of these as a formula (OWASP's list).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: Mapping) -> str:
    """One row per host, every text cell guarded against formula injection.

    A remediation report has REMEDIATION_CSV_COLUMNS after the audit's columns, and a
    report compared with the last run (its "drift") DRIFT_CSV_COLUMNS after those.
    """
    remediation = report_kind(report) == "remediation"
    run = report.get("run") or {}
    drift = report.get("drift")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        CSV_COLUMNS
        + (REMEDIATION_CSV_COLUMNS if remediation else ())
        + (DRIFT_CSV_COLUMNS if drift else ())
    )
    for host in report["hosts"]:
        approved = findings(host, "approved")
        duration = host.get("duration_seconds")
        row = [
            host.get("host"),
            host.get("status"),
            host.get("os_family"),
            "; ".join(product_name(item) for item in findings(host, "disallowed")),
            "; ".join(_unique(str(item.get("vendor")) for item in findings(host, "disallowed"))),
            "; ".join(f"{product_name(item)}[{protection_text(item)}]" for item in approved),
            "yes" if any(item.get("active") for item in approved) else "no",
            "yes" if any(protection_of(item)[0] == "protecting" for item in approved) else "no",
            "; ".join(product_name(item) for item in findings(host, "other")),
            "; ".join(residue_paths(host)),
            host.get("message"),
        ]
        cells = [_cell(value) for value in row]
        # A number the caller measured is not host text; quoting it would break sums.
        cells.append(repr(duration) if is_number(duration) else _cell(duration))
        if remediation:
            cells += [_cell(value) for value in _remediation_row(host, run)]
            took = remediation_seconds(host)
            cells.append(repr(took) if took is not None else "")
        if drift:
            cells.append(_cell(since_last_run(host.get("host"), drift)))
        writer.writerow(cells)
    return buffer.getvalue()


def _remediation_row(host: Mapping, run: Mapping) -> list[object]:
    plan = host.get("plan") or {}
    actions = host.get("actions") or []
    return [
        run.get("change_id"),
        plan.get("install"),
        "; ".join(product_name(item) for item in plan.get("remove") or []),
        "; ".join(
            f"{event_name(action)}@{action['at']}" if action.get("at") else event_name(action)
            for action in actions
        ),
        host.get("reboot"),
        verdict_status(host.get("before")),
        verdict_status(host.get("after")),
    ]


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = without_surrogates(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
