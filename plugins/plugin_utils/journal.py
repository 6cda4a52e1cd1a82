# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run journal: every event of a run, one JSON line each, hash-chained and fsynced.

The fleet_report callback appends an event the moment it happens, so that whatever stops
the run (Ctrl-C, a job cancel, a power cut) leaves the record of what had completed. The
reports are rendered from the journal, by the same code, whether the run ended normally
or `avshift report` does it afterwards.

Each line is one JSON object with `seq` (from 1), `at` (UTC), `run` (the run id) and
`prev`, the SHA-256 of the previous line's bytes (the first line's `prev` is 64 zeros):
a line edited, inserted or removed breaks the chain, which `avshift report --verify`
checks. A last line cut short by a crash is reported and skipped; every complete line
before it is kept.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

JOURNAL_NAME = "journal.jsonl"
GENESIS = "0" * 64
_RESERVED = ("seq", "at", "run", "prev", "type")


class JournalError(OSError):
    """The journal cannot be written: the run has no trustworthy record from here on."""


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class JournalWriter:
    """Appends events to a journal file, each flushed and fsynced before it returns."""

    def __init__(
        self,
        path: str | os.PathLike,
        run_id: str,
        mode: int = 0o600,
        mirror: Callable[[str], None] | None = None,
    ):
        self.path = os.fspath(path)
        self.run_id = run_id
        # Also hands each line to this (a syslog sender, for sites that forward to a SIEM).
        self.mirror = mirror
        self.seq = 0
        self.last_hash = GENESIS
        # O_APPEND: lines are whole even if another writer (a mistake) shares the file;
        # O_EXCL: a journal is never continued by another run.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self.path, flags, mode)

    def append(self, event_type: str, **payload) -> dict:
        self.seq += 1
        record = {
            "seq": self.seq,
            "at": _now(),
            "run": self.run_id,
            "prev": self.last_hash,
            "type": event_type,
        }
        for key, value in payload.items():
            if key not in _RESERVED:
                record[key] = value
        line = json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":"))
        data = line.encode("utf-8", "surrogateescape") + b"\n"
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)
        self.last_hash = line_hash(data)
        if self.mirror is not None:
            self.mirror(line)
        return record

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class Journal:
    """A journal as read back: its events and what is wrong with it, if anything."""

    events: list[dict] = field(default_factory=list)
    last_hash: str = GENESIS
    # A last line without its newline: a write cut short. Skipped, reported.
    truncated: str | None = None
    # Lines that break the chain or are not JSON objects (an edit, not a crash).
    problems: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str | None:
        return self.events[0].get("run") if self.events else None

    def of_type(self, event_type: str) -> Iterator[dict]:
        return (event for event in self.events if event.get("type") == event_type)


def read_first_event(path: str | os.PathLike) -> dict:
    with open(path, "rb") as stream:
        return json.loads(stream.readline().decode("utf-8", "surrogateescape"))


def read_journal(path: str | os.PathLike) -> Journal:
    """Read a journal, checking the hash chain; never raises for what is in the file."""
    journal = Journal()
    with open(path, "rb") as stream:
        raw = stream.read()
    lines = raw.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, as a whole journal does
    if tail:
        journal.truncated = (
            f"line {len(lines) + 1} is incomplete ({len(tail)} bytes, no newline): "
            "the run stopped while writing it; it is skipped"
        )
    expected_prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            journal.problems.append(f"line {number}: not JSON")
            continue
        if not isinstance(record, Mapping):
            journal.problems.append(f"line {number}: not a JSON object")
            continue
        if record.get("prev") != expected_prev:
            journal.problems.append(
                f"line {number}: the hash chain is broken (a line before it was changed, "
                "removed or inserted)"
            )
        if record.get("seq") != number:
            journal.problems.append(f"line {number}: sequence number {record.get('seq')!r}")
        expected_prev = line_hash(line)
        journal.events.append(dict(record))
    journal.last_hash = expected_prev
    return journal
