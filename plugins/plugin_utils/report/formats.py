# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The formats a report is written in: one table of file names, renderers and encodings.

The table's order is the order the files are rendered, written and listed in SHA256SUMS.
It also decides what the page says about the files beside it, and the line the CLI
prints to name them, so that a format added here is named everywhere it should be.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ansible_collections.avshift.remediation.plugins.plugin_utils.report.csv_format import (
    render_csv,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.html_format import (
    render_html,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.json_format import (
    render_json,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.junit_format import (
    render_junit,
)

SUMS_FILENAME = "SHA256SUMS"


@dataclass(frozen=True)
class ReportFormat:
    # The key write_reports() returns the file's path under.
    id: str
    # The file is report.<extension>.
    extension: str
    # What a person calls the format.
    label: str
    encoding: str
    render: Callable[[Mapping], str]

    @property
    def filename(self) -> str:
        return f"report.{self.extension}"


def _render_page(report: Mapping) -> str:
    return render_html(report, [fmt.filename for fmt in _BESIDE_PAGE], SUMS_FILENAME)


FORMATS = (
    ReportFormat("json", "json", "JSON", "utf-8", render_json),
    # The byte order mark is how spreadsheets know the file is UTF-8 (Cyrillic names).
    ReportFormat("csv", "csv", "CSV", "utf-8-sig", render_csv),
    ReportFormat("html", "html", "HTML", "utf-8", _render_page),
    ReportFormat("junit", "junit.xml", "JUnit XML", "utf-8", render_junit),
)
# The one file a person opens; the others are for programs, and the page says so.
_PAGE = next(fmt for fmt in FORMATS if fmt.id == "html")
_BESIDE_PAGE = tuple(fmt for fmt in FORMATS if fmt is not _PAGE)

FILENAMES = {**{fmt.id: fmt.filename for fmt in FORMATS}, "sha256": SUMS_FILENAME}


def reports_line(directory: str | os.PathLike) -> str:
    """The line that names a run's reports, the page first:
    "Reports: DIR/report.{html,json,csv,junit.xml}"."""
    extensions = ",".join(fmt.extension for fmt in (_PAGE, *_BESIDE_PAGE))
    return f"Reports: {os.fspath(directory)}/report.{{{extensions}}}"
