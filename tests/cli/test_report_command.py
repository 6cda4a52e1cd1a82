"""`avshift report DIR`: the reports of a run rendered from its journal alone (what a
SIGKILL or a power cut leaves), and `--verify` of the journal, the sums and a signature.

The journals are written by the journal's own writer, as the callback writes them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import JournalWriter

BIN = Path(sys.executable).parent
VERDICT = {
    "os_family": "linux",
    "compliant": False,
    "disallowed": [{"vendor": "kaspersky", "product": "kesl", "name": "kesl", "evidence": []}],
    "approved": [],
    "other": [],
    "residue": [],
}


def avshift(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "avshift"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def _killed_run(directory: Path) -> Path:
    """The journal of an audit killed after its first host: no stats, no end."""
    directory.mkdir()
    journal = JournalWriter(directory / "journal.jsonl", "run-1")
    journal.append("run", started="2026-12-01T10:00:00+00:00", playbook="audit.yml")
    journal.append("play", hosts=["a", "b"])
    journal.append("scan_started")
    journal.append("scan", host="a", verdict={**VERDICT, "host": "a"})
    journal.close()
    return directory


def test_a_killed_runs_reports_are_rendered_from_its_journal(tmp_path):
    directory = _killed_run(tmp_path / "r")
    done = avshift("report", str(directory))
    # As if the run ended then: the host it had not finished could not be audited.
    assert done.returncode == Exit.NOT_AUDITED, done.stdout + done.stderr
    report = json.loads((directory / "report.json").read_text())
    statuses = {h["host"]: h["status"] for h in report["hosts"]}
    assert statuses == {"a": "non-compliant", "b": "interrupted"}
    assert "stopped without an end record" in report["run"]["completion"]
    assert "b  interrupted" in done.stdout
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=directory, capture_output=True)
    assert check.returncode == 0
    assert b"journal.jsonl: OK" in check.stdout


def test_a_line_cut_short_is_reported_and_skipped_every_complete_line_kept(tmp_path):
    directory = _killed_run(tmp_path / "r")
    with open(directory / "journal.jsonl", "ab") as stream:
        stream.write(b'{"seq":5,"at":"2026-12-01T10:00:09","run":"run-1","prev":"ab')
    done = avshift("report", str(directory))
    assert done.returncode == Exit.NOT_AUDITED, done.stderr
    assert "line 5 is incomplete" in done.stderr and "Traceback" not in done.stderr
    report = json.loads((directory / "report.json").read_text())
    assert [h["host"] for h in report["hosts"] if h["status"] == "non-compliant"] == ["a"]
    assert any("incomplete" in p for p in report["run"]["journal_problems"])


def test_verify_passes_a_whole_record_and_names_what_it_checked(tmp_path):
    directory = _killed_run(tmp_path / "r")
    assert avshift("report", str(directory)).returncode == Exit.NOT_AUDITED
    done = avshift("report", "--verify", str(directory))
    assert done.returncode == Exit.OK, done.stdout + done.stderr
    assert "ok  journal.jsonl: 4 events in one hash chain" in done.stdout
    assert "ok  report.html: matches SHA256SUMS" in done.stdout


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("edit-journal", "the hash chain is broken"),
        ("drop-journal-line", "the hash chain is broken"),
        ("edit-report", "report.html is not the file SHA256SUMS vouches for"),
        ("append-journal", "journal.jsonl is not the file SHA256SUMS vouches for"),
    ],
)
def test_verify_finds_an_edited_record(tmp_path, tamper, problem):
    directory = _killed_run(tmp_path / "r")
    avshift("report", str(directory))
    journal = directory / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    if tamper == "edit-journal":
        lines[1] = lines[1].replace('"a","b"', '"a"')
        journal.write_text("".join(lines))
    elif tamper == "drop-journal-line":
        journal.write_text("".join(lines[:1] + lines[2:]))
    elif tamper == "edit-report":
        page = directory / "report.html"
        page.write_text(page.read_text().replace("non-compliant", "compliant", 1))
    else:
        writer_line = lines[-1]
        journal.write_text("".join(lines) + writer_line)
    done = avshift("report", "--verify", str(directory))
    assert done.returncode == Exit.INVALID, done.stdout
    assert problem in done.stdout


def _key(tmp_path: Path, name: str) -> Path:
    key = tmp_path / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def test_a_signed_record_verifies_against_its_signer_and_not_another(tmp_path):
    directory = _killed_run(tmp_path / "r")
    key = _key(tmp_path, "operator")
    done = avshift("report", "--sign-key", str(key), str(directory))
    assert done.returncode == Exit.NOT_AUDITED, done.stderr
    assert (directory / "SHA256SUMS.sig").is_file()
    signers = tmp_path / "allowed_signers"
    public = (tmp_path / "operator.pub").read_text().split()
    signers.write_text(f"ops@example.org {public[0]} {public[1]}\n")
    good = avshift(
        "report",
        "--verify",
        "--allowed-signers",
        str(signers),
        "--identity",
        "ops@example.org",
        str(directory),
    )
    assert good.returncode == Exit.OK, good.stdout + good.stderr
    assert "SHA256SUMS.sig: Good" in good.stdout
    other = _key(tmp_path, "someone-else")
    public = (tmp_path / "someone-else.pub").read_text().split()
    signers.write_text(f"ops@example.org {public[0]} {public[1]}\n")
    assert other.is_file()
    bad = avshift(
        "report",
        "--verify",
        "--allowed-signers",
        str(signers),
        "--identity",
        "ops@example.org",
        str(directory),
    )
    assert bad.returncode == Exit.INVALID
    assert "SHA256SUMS.sig does not verify" in bad.stdout


def test_a_directory_without_a_journal_is_invalid_input(tmp_path):
    done = avshift("report", str(tmp_path))
    assert done.returncode == Exit.INVALID
    assert "no journal.jsonl" in done.stderr
    assert os.listdir(tmp_path) == []
