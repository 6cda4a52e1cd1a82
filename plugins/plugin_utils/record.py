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
import stat
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract, history
from ansible_collections.avshift.remediation.plugins.plugin_utils import report as report_writer
from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import (
    JOURNAL_NAME,
    Journal,
    read_first_event,
    read_journal,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.outcome import RunFold
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    checked_report,
)

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
    # What the history store said, for one warning line each: it never costs a report.
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryOptions:
    """Where a run is recorded, and how far back its drift looks.

    The fleet_report callback writes the ones it ran with into the journal's run event, so
    a report rendered again later (avshift report DIR, or the CLI after a killed run)
    compares with and records into the same store. None: as the journal says, else the
    default (the default SQLite file, history.DEFAULT_STALE_DAYS, no purge)."""

    choice: str | None = None  # a path or URL
    stale_days: int | None = None
    retention_days: int | None = None  # runs older than this are purged on recording

    @property
    def off(self) -> bool:
        return history.is_off(self.choice)

    def as_event(self) -> dict:
        """What the journal's run event keeps: the store's location resolved (so that
        another environment renders into the same store), never with a password."""
        store = (
            "off" if self.off else history.masked(self.choice or str(history.default_location()))
        )
        return {
            "store": store,
            "stale_days": self.stale_days or history.DEFAULT_STALE_DAYS,
            "retention_days": self.retention_days,
        }

    def over(self, run_event: dict) -> HistoryOptions:
        """These options, with what they leave open taken from a journal's run event."""
        kept = run_event.get("history") if isinstance(run_event.get("history"), dict) else {}
        return HistoryOptions(
            choice=self.choice or kept.get("store") or None,
            stale_days=self.stale_days or kept.get("stale_days") or history.DEFAULT_STALE_DAYS,
            retention_days=self.retention_days or kept.get("retention_days"),
        )


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


def render(directory: str | os.PathLike, history_options: HistoryOptions | None = None) -> Rendered:
    """Write the four reports and SHA256SUMS of a run from its journal, with what changed
    since the last run (the history store's drift), and record the run in that store.

    history_options: what they leave open is as the run was started (its journal says).
    """
    fold, journal = fold_journal(directory)
    run_event = next(journal.of_type("run"), {})
    options = (history_options or HistoryOptions()).over(run_event)
    report = fold.report(report_writer.summarize)
    report["run"]["exit_code"] = int(contract.exit_for_summary(report["summary"]))
    # What SHA256SUMS (through report.json) vouches for of the journal: its length and
    # its last line's hash, which seals every line before it.
    report["run"]["journal_events"] = len(journal.events)
    report["run"]["journal_last_hash"] = journal.last_hash
    problems = [*journal.problems, *([journal.truncated] if journal.truncated else [])]
    if problems:
        report["run"]["journal_problems"] = problems
    # The report as every format shows it: what the store keeps is what the files say.
    report = checked_report(report)
    warnings: list[str] = []
    store = _store(options, warnings)
    if store is not None:
        report["run"]["history"] = store.location
        try:
            report["drift"] = history.drift(
                store, report, journal.run_id, options.stale_days
            ).as_dict()
        except history.HistoryError as exc:
            warnings.append(f"history: no comparison with the last run: {exc}")
        # Recorded before the files are written, so that a store that fails is in them.
        _record(store, report, journal.run_id, run_event, directory, options, warnings)
    if warnings:
        report["run"]["history_warnings"] = list(warnings)
    paths = report_writer.write_reports(report, directory, also_sum=[journal_path(directory)])
    return Rendered(report=report, journal=journal, paths=paths, warnings=warnings)


def _store(options: HistoryOptions, warnings: list[str]):
    if options.off:
        return None
    try:
        store = history.Store(options.choice)
    except history.HistoryError as exc:
        warnings.append(f"history: not recorded: {exc}")
        return None
    unkept = history.unkept_reason() if store.sqlite else None
    if unkept:
        warnings.append(
            f"history: recorded in {store.location}, but {unkept}: record into a PostgreSQL "
            "store instead (docs/awx.md)"
        )
    return store


def _record(store, report, run_id, run_event, directory, options, warnings) -> None:
    run = {
        **report["run"],
        # An audit has no change operator: whoever ran it.
        "operator": report["run"].get("operator") or run_event.get("user"),
        "controller": run_event.get("controller"),
    }
    try:
        store.record({**report, "run": run}, run_id, str(directory))
        if options.retention_days:
            cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
                days=options.retention_days
            )
            store.purge_before(cutoff.isoformat(timespec="seconds"))
    except history.HistoryError as exc:
        warnings.append(f"history: not recorded: {exc}")


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
    # As every file of the directory: its permissions without the execute bits.
    os.chmod(signature, contract.file_mode(stat.S_IMODE(os.stat(directory).st_mode)))
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
        digest, separator, name = line.partition("  ")
        if not separator:
            result.problems.append(f"SHA256SUMS has a line not in sha256sum's format: {line!r}")
            continue
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
