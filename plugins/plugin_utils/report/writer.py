# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a report directory: every format rendered first, each file replaced atomically,
SHA256SUMS last, and nothing of a failed attempt left behind."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import file_mode
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.formats import (
    FILENAMES,
    FORMATS,
    SUMS_FILENAME,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report.model import (
    checked_report,
)


def write_reports(
    report: Mapping, directory: str | os.PathLike, also_sum: Sequence[str | os.PathLike] = ()
) -> dict[str, str]:
    """Write report.json, report.csv, report.html, report.junit.xml, then SHA256SUMS.

    Returns format ("json", "csv", "html", "junit", "sha256") -> path written. The
    directory is created if missing; each file is replaced atomically. A report without
    "summary" gets one computed from its hosts; a summary that disagrees with the hosts is
    refused. report.csv starts with a UTF-8 byte order mark so spreadsheets read Cyrillic
    names. SHA256SUMS lists the four report files in sha256sum's format, so
    `sha256sum -c SHA256SUMS` in the directory checks them; it is written after them, so
    a run that stops half way leaves a SHA256SUMS that no longer matches, never a new one
    that vouches for old files. also_sum: files of the directory that SHA256SUMS lists
    too, after the reports (the run's journal), hashed as they are on disk.
    """
    report = checked_report(report)
    # All of them before any file: a report that cannot be rendered leaves the old files.
    rendered = {fmt.id: fmt.render(report).encode(fmt.encoding) for fmt in FORMATS}
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    sums_path = target / SUMS_FILENAME
    written: dict[str, str] = {}
    try:
        for fmt, data in rendered.items():
            path = target / FILENAMES[fmt]
            write_atomic(path, data)
            written[fmt] = str(path)
        # Hashed from the bytes just written (and fsynced), in sha256sum's text format:
        # two spaces, then the name relative to the directory, so it checks where it lies.
        sums = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {FILENAMES[fmt]}\n"
            for fmt, data in rendered.items()
        )
        for extra in also_sum:
            with open(extra, "rb") as stream:
                digest = hashlib.sha256(stream.read()).hexdigest()
            sums += f"{digest}  {os.path.relpath(extra, target)}\n"
        write_atomic(sums_path, sums.encode("ascii"))
        written["sha256"] = str(sums_path)
        _fsync_directory(target)
    except OSError:
        # Half a report must not look like one: what this call wrote goes, and so does a
        # SHA256SUMS that would vouch for files of another attempt.
        for leftover in [*written.values(), sums_path]:
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        raise
    return written


def write_atomic(path: Path, data: bytes) -> None:
    # A reader (a browser, CI collecting artifacts) sees the old file or the new one,
    # never half of one. The file takes its directory's permissions without the execute
    # bits (contract.file_mode), whatever the umask: a 0700 report directory holds 0600
    # files, one shared with a group (0750) 0640 ones.
    mode = file_mode(stat.S_IMODE(os.stat(path.parent).st_mode))
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _fsync_directory(directory: Path) -> None:
    # The renames are durable only once the directory itself reaches the disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
