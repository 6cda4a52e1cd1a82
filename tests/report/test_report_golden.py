"""Every report file, byte for byte, as the writer wrote it for each sample report.

tests/report/golden/<case>/ holds report.json, report.csv, report.html, report.junit.xml
and SHA256SUMS for each sample in report_sample.py. A change that only reorganises the
writer must leave every byte of them as it is; these tests say which file and which line
differ when it does not.

The golden files are regenerated on purpose, and only when an issue changes what the
reports show: run

    AVSHIFT_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/report/test_report_golden.py

review `git diff tests/report/golden` like any other change to the reports, and say in
the commit which issue changed them and why. A regenerating run skips its tests, so that
it can never pass for a check.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from report_sample import (
    drift_report,
    empty_report,
    odd_audit_report,
    odd_remediation_report,
    remediation_report,
    sample_report,
)

from ansible_collections.avshift.remediation.plugins.plugin_utils.report import write_reports

GOLDEN = Path(__file__).with_name("golden")
REGENERATE = os.environ.get("AVSHIFT_REGENERATE_GOLDEN") == "1"
CASES = {
    "audit": sample_report,
    "remediation": remediation_report,
    "dry-run": lambda: remediation_report(check_mode=True),
    "odd-audit": odd_audit_report,
    "odd-remediation": odd_remediation_report,
    "empty": empty_report,
    "drift": drift_report,
}
FILES = ("report.json", "report.csv", "report.html", "report.junit.xml", "SHA256SUMS")
# Characters shown either side of the first difference: a page's host row is one long line.
CONTEXT = 70


def _first_difference(name: str, expected: bytes, actual: bytes) -> str:
    """Where two versions of a file first differ, and how many of their lines do."""
    old = expected.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    new = actual.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    pairs = list(itertools.zip_longest(old, new, fillvalue=""))
    number, (was, now) = next((n, pair) for n, pair in enumerate(pairs, 1) if pair[0] != pair[1])
    same = itertools.takewhile(lambda chars: chars[0] == chars[1], zip(was, now, strict=False))
    column = sum(1 for _ in same)
    start = max(0, column - CONTEXT)
    differing = sum(1 for a, b in pairs if a != b)
    # repr() shows the whitespace and line endings that matter here.
    return (
        f"{name}: line {number}, column {column + 1} ({differing} lines differ)\n"
        f"  golden:  {was[start : column + CONTEXT]!r}\n"
        f"  written: {now[start : column + CONTEXT]!r}\n"
    )


@pytest.mark.parametrize("case", CASES)
def test_the_written_files_are_the_golden_files(case, tmp_path):
    written = write_reports(CASES[case](), tmp_path)
    assert sorted(Path(path).name for path in written.values()) == sorted(FILES)
    golden = GOLDEN / case
    if REGENERATE:
        golden.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            (golden / name).write_bytes((tmp_path / name).read_bytes())
        pytest.skip(f"regenerated {golden}: review the diff before committing it")
    different = []
    for name in FILES:
        expected = (golden / name).read_bytes()
        actual = (tmp_path / name).read_bytes()
        if actual != expected:
            different.append(_first_difference(f"{case}/{name}", expected, actual))
    if different:
        message = "the reports differ from the golden files:\n" + "".join(different)
        pytest.fail(message, pytrace=False)


def test_every_golden_case_is_still_a_sample():
    # A case renamed or removed here would leave files behind that nothing checks.
    assert sorted(path.name for path in GOLDEN.iterdir() if path.is_dir()) == sorted(CASES)


def test_rendering_twice_writes_the_same_bytes(tmp_path):
    # Nothing in a report depends on the clock, the temporary file names or dict order.
    first = write_reports(odd_remediation_report(), tmp_path / "first")
    second = write_reports(odd_remediation_report(), tmp_path / "second")
    for fmt, path in first.items():
        assert Path(path).read_bytes() == Path(second[fmt]).read_bytes(), fmt
