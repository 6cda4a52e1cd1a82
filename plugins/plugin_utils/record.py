# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's record on disk: its journal, and the reports rendered from it.

The fleet_report callback renders the reports at the end of a run; when the run did not
get that far (SIGKILL, a power cut, a crash), `avshift report DIR` renders them here from
the journal, by the same fold, and says which hosts did not finish.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import report as report_writer
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import (
    JOURNAL_NAME,
    Journal,
    read_first_event,
    read_journal,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import RunFold

SIGNATURE_NAME = "SHA256SUMS.sig"
# ssh-keygen -Y signs for a namespace, so that a signature made for avshift's evidence
# cannot be passed off as one for anything else the key signs.
SIGNATURE_NAMESPACE = "avshift-report"


class NoRecord(Exception):
    """The directory holds no journal (or nothing a report can be made of)."""


class SigningError(Exception):
    """ssh-keygen could not sign (no such key, a passphrase it cannot ask for, ...)."""


@dataclass
class Rendered:
    report: dict
    journal: Journal
    paths: dict[str, str]


def journal_path(directory: str | os.PathLike) -> Path:
    return Path(directory) / JOURNAL_NAME


def kept_name(directory: str | os.PathLike) -> str:
    """Where a directory that holds a run is kept aside: <dir>.<its start time>-<its run
    id's first characters>, unique even for two runs started in the same second."""
    path = journal_path(directory)
    try:
        first = read_first_event(path)
        started = datetime.datetime.fromisoformat(first["at"])
        run = str(first.get("run") or "")[:8]
    except (OSError, ValueError, KeyError, TypeError):
        started = datetime.datetime.fromtimestamp(os.stat(path).st_mtime, datetime.timezone.utc)
        run = uuid.uuid4().hex[:8]
    stamp = started.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{os.fspath(directory).rstrip(os.sep)}.{stamp}-{run}"


def keep_aside(directory: str | os.PathLike) -> str:
    """Move a run's directory aside, never over another: evidence is never overwritten."""
    target = kept_name(directory)
    os.rename(directory, target)
    return target


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
    report = fold.report(report_writer.summarize)
    # What SHA256SUMS (through report.json) vouches for of the journal: its length and
    # its last line's hash, which seals every line before it.
    report["run"]["journal_events"] = len(journal.events)
    report["run"]["journal_last_hash"] = journal.last_hash
    problems = [*journal.problems, *([journal.truncated] if journal.truncated else [])]
    if problems:
        report["run"]["journal_problems"] = problems
    paths = report_writer.write_reports(report, directory, also_sum=[journal_path(directory)])
    # The report as report.json holds it, with what the writer derives.
    with open(paths["json"], encoding="utf-8") as stream:
        report = json.load(stream)
    return Rendered(report=report, journal=journal, paths=paths)


def sign(directory: str | os.PathLike, key: str | os.PathLike) -> Path:
    """Sign SHA256SUMS with an SSH key (ssh-keygen -Y sign), which every operator has."""
    sums = Path(directory) / "SHA256SUMS"
    signature = Path(directory) / SIGNATURE_NAME
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        raise SigningError("ssh-keygen is not installed (package openssh-client)")
    with contextlib.suppress(FileNotFoundError):
        signature.unlink()
    done = subprocess.run(
        [ssh_keygen, "-Y", "sign", "-f", os.fspath(key), "-n", SIGNATURE_NAMESPACE, str(sums)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0 or not signature.is_file():
        raise SigningError(f"ssh-keygen -Y sign with {key}: {' '.join(done.stderr.split())}")
    return signature


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    directory: str | os.PathLike,
    allowed_signers: str | os.PathLike | None = None,
    identity: str | None = None,
) -> Verification:
    """Check a run's record: the journal's hash chain, SHA256SUMS against every file it
    lists, the journal's last hash against the one report.json carries, and the
    signature of SHA256SUMS when there is one."""
    directory = Path(directory)
    result = Verification()
    try:
        journal = read_journal(journal_path(directory))
    except FileNotFoundError:
        raise NoRecord(f"{directory}: no {JOURNAL_NAME}: not a report directory of a run") from None
    result.problems += [f"{JOURNAL_NAME} {problem}" for problem in journal.problems]
    if journal.truncated:
        result.problems.append(f"{JOURNAL_NAME} {journal.truncated}")
    result.checked.append(f"{JOURNAL_NAME}: {len(journal.events)} events in one hash chain")
    sums = directory / "SHA256SUMS"
    if not sums.is_file():
        result.problems.append("SHA256SUMS is missing: the reports were never written whole")
        return result
    for line in sums.read_text(encoding="ascii", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        path = directory / name
        if not path.is_file():
            result.problems.append(f"SHA256SUMS lists {name}, which is missing")
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            result.problems.append(f"{name} is not the file SHA256SUMS vouches for")
        else:
            result.checked.append(f"{name}: matches SHA256SUMS")
    report_file = directory / "report.json"
    if report_file.is_file():
        recorded = json.loads(report_file.read_text(encoding="utf-8")).get("run", {})
        if recorded.get("journal_last_hash") not in (None, journal.last_hash):
            result.problems.append(
                "the journal's last hash is not the one report.json recorded: the journal "
                "changed after the reports were written"
            )
    signature = directory / SIGNATURE_NAME
    if signature.is_file():
        result.problems += _check_signature(sums, signature, allowed_signers, identity, result)
    elif allowed_signers:
        result.problems.append(f"{SIGNATURE_NAME} is missing, but a signer was expected")
    return result


def _check_signature(sums, signature, allowed_signers, identity, result) -> list[str]:
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        return ["ssh-keygen is not installed: the signature cannot be checked"]
    if allowed_signers:
        argv = [ssh_keygen, "-Y", "verify", "-f", os.fspath(allowed_signers), "-I", identity or ""]
    else:
        # Without a list of allowed signers only the signature itself can be checked.
        argv = [ssh_keygen, "-Y", "check-novalidate"]
    argv += ["-n", SIGNATURE_NAMESPACE, "-s", str(signature)]
    with open(sums, "rb") as stream:
        done = subprocess.run(argv, stdin=stream, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return [
            f"{SIGNATURE_NAME} does not verify: {' '.join((done.stderr or done.stdout).split())}"
        ]
    words = " ".join(done.stdout.split())
    result.checked.append(
        f"{SIGNATURE_NAME}: {words}"
        + ("" if allowed_signers else " (not checked against a list of allowed signers)")
    )
    return []
