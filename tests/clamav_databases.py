"""ClamAV signature databases with a chosen build time, for the tests of the collector's
ClamAV probe: sigtool stamps a database with the moment it runs, and a test needs one
built 100 days ago, or next year.

The layout is libclamav's (libclamav/cvd.c: cl_cvdparse reads the header, cli_cvdload
and cli_tgzload the body; sigtool/sigtool.c: build() writes both): a 512-byte header
`ClamAV-VDB:<time>:<version>:<signatures>:<flevel>:<md5>:<dsig>:<builder>:<stime>`
padded with spaces, then a gzip'd tar of COPYING, <name>.info and the signature files.
The .info repeats the header (MD5 and signature as X) and lists each file's size and
SHA-256; ClamAV refuses a container whose .info header disagrees with the outer one. An
unsigned container (.cud) needs no Talos signature, so ClamAV really loads these.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import tarfile

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FLEVEL = 216  # ClamAV 1.4's functionality level; the header's value is only compared


def header_time(built: datetime.datetime) -> str:
    """sigtool's "%d %b %Y %H-%M %z", in UTC and the C locale's month names."""
    utc = built.astimezone(datetime.timezone.utc)
    month = _MONTHS[utc.month - 1]
    return f"{utc.day:02d} {month} {utc.year} {utc.hour:02d}-{utc.minute:02d} +0000"


def header_line(
    built: datetime.datetime,
    version: int,
    signatures: int,
    md5: str = "X",
    builder: str = "avshift-test",
    stime: bool = True,
) -> str:
    fields = ["ClamAV-VDB", header_time(built), str(version), str(signatures), str(FLEVEL)]
    fields += [md5, "X", builder]
    if stime:
        fields.append(str(int(built.timestamp())))
    return ":".join(fields)


def padded(line: str) -> bytes:
    return line.encode("ascii").ljust(512, b" ")


def unsigned_database(
    name: str, built: datetime.datetime, version: int, files: dict[str, bytes]
) -> bytes:
    """A .cud that clamd and clamscan load: `files` are its signature files (name: text),
    each line of which counts as one signature."""
    signatures = sum(len(data.splitlines()) for data in files.values())
    info = header_line(built, version, signatures) + "\n"
    info += "".join(
        f"{file}:{len(data)}:{hashlib.sha256(data).hexdigest()}\n" for file, data in files.items()
    )
    members = {"COPYING": b"avshift test database\n", f"{name}.info": info.encode(), **files}
    body = io.BytesIO()
    with tarfile.open(fileobj=body, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        for member, data in members.items():
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            entry.mtime = int(built.timestamp())
            tar.addfile(entry, io.BytesIO(data))
    tarball = body.getvalue()
    md5 = hashlib.md5(tarball).hexdigest()
    return padded(header_line(built, version, signatures, md5=md5)) + tarball
