# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report writer: one report dict in, JSON, CSV, HTML and JUnit XML out.

Pure Python on the controller, shared by the callback plugin and the CLI. Every format is
rendered from the same dict by the same pass, and all four are rendered before any file is
written, so a report that cannot be rendered leaves the previous files untouched. SHA256SUMS
is written last, so the change record can prove the files it lists are the ones written.

Audits ("kind": "audit") and change-managed remediation runs ("kind": "remediation") share
the format; a remediation report adds the change (model.CHANGE_RUN_KEYS: run.change_id,
operator, os_account, change_id_pattern, confirmation, window, batch,
max_fail_percentage, reboot_policy), per host the scans before and after, the plan, the
actions taken and the reboot state, and hosts that were never started ("deferred").

model.py checks a report and derives what the writer adds; events.py words a plan and
the evidence events; one module renders each format, and formats.py lists them;
writer.py writes the files. docs/reports.md says what each format shows.
"""

from __future__ import annotations

from ansible_collections.avshift.remediation.plugins.plugin_utils.report.csv_format import (
    CSV_COLUMNS,
    REMEDIATION_CSV_COLUMNS,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.formats import (
    FILENAMES,
    FORMATS,
    reports_line,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    STATUSES,
    non_compliance_reason,
    summarize,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.writer import (
    write_reports,
)

__all__ = [
    "CSV_COLUMNS",
    "FILENAMES",
    "FORMATS",
    "REMEDIATION_CSV_COLUMNS",
    "STATUSES",
    "non_compliance_reason",
    "reports_line",
    "summarize",
    "write_reports",
]
