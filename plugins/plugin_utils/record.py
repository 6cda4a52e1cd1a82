# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's record on disk: its journal, and the reports rendered from it.

The fleet_report callback renders the reports at the end of a run; when the run did not
get that far (SIGKILL, a power cut, a crash), `avshift report DIR` renders them here from
the journal, by the same fold, and says which hosts did not finish.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import report as report_writer
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import (
    JOURNAL_NAME,
    Journal,
    read_journal,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import RunFold


class NoRecord(Exception):
    """The directory holds no journal (or nothing a report can be made of)."""


@dataclass
class Rendered:
    report: dict
    journal: Journal
    paths: dict[str, str]


def journal_path(directory: str | os.PathLike) -> Path:
    return Path(directory) / JOURNAL_NAME


def fold_journal(directory: str | os.PathLike) -> tuple[RunFold, Journal]:
    path = journal_path(directory)
    try:
        journal = read_journal(path)
    except FileNotFoundError:
        raise NoRecord(f"{directory}: no {JOURNAL_NAME}: not a report directory of a run") from None
    fold = RunFold().add_all(journal.events)
    if not journal.events:
        raise NoRecord(f"{path}: no complete event")
    return fold, journal


def render(directory: str | os.PathLike) -> Rendered:
    """Write the four reports and SHA256SUMS of a run from its journal."""
    fold, journal = fold_journal(directory)
    paths = report_writer.write_reports(fold.report(report_writer.summarize), directory)
    # The report as report.json holds it, with what the writer derives.
    with open(paths["json"], encoding="utf-8") as stream:
        report = json.load(stream)
    return Rendered(report=report, journal=journal, paths=paths)
