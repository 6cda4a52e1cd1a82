"""Looking for a secret in every byte a run wrote, in each form it could take there.

Each secret a test passes gets a marker value of its own: unique, and with characters
that URL encoding changes, so that each form below is a different byte string. A marker
is searched for in clear, JSON-escaped, in base64 (at each of the three alignments it
can have inside a longer base64 text), as UTF-16LE (raw, and as hex in either case: how the Network
Agent's KLUNINSTPASSWD travels), and URL-encoded (percent-encoding and form encoding).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


def marker(name: str) -> str:
    """A value for the secret `name` that nothing else could contain."""
    return f"Mk{uuid.uuid4().hex[:10]}!{name[-6:]}@é#"


def _base64_forms(value: bytes) -> list[bytes]:
    """What base64 of any text holding value always contains, at each alignment: the
    characters that depend on value alone (the first and last are shared with the
    bytes around it)."""
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value)
        start = (offset * 4 + 2) // 3 + 1  # past the characters the padding bytes touch
        stop = len(encoded) - 4  # before the last group, which the next bytes change
        if stop > start:
            forms.append(encoded[start:stop])
    return forms


def forms(value: str) -> dict[str, list[bytes]]:
    utf8 = value.encode("utf-8")
    utf16 = value.encode("utf-16-le")
    return {
        "clear": [utf8],
        "base64": _base64_forms(utf8),
        "utf-16le": [utf16],
        "utf-16le hex": [utf16.hex().encode(), utf16.hex().upper().encode()],
        "url-encoded": [
            urllib.parse.quote(value, safe="").encode(),
            urllib.parse.quote_plus(value).encode(),
        ],
        # JSON written with ensure_ascii (Python's default): the é becomes \u00e9.
        "json-escaped": [json.dumps(value)[1:-1].encode()],
    }


def find(markers: Mapping[str, str], blobs: Mapping[str, bytes]) -> list[str]:
    """Every (secret, form, where) found: "name as form in where"."""
    found = []
    for name, value in markers.items():
        for form, needles in forms(value).items():
            for where, data in blobs.items():
                if any(needle in data for needle in needles):
                    found.append(f"{name} as {form} in {where}")
    return found


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots, by path: reports, journals, stores, artifacts."""
    blobs = {}
    for root in roots:
        paths: Iterable[Path] = [root] if root.is_file() else root.rglob("*")
        for path in paths:
            if path.is_file() and not path.is_symlink():
                blobs[str(path)] = path.read_bytes()
    return blobs


def _parents() -> dict[int, int]:
    """Each running process's parent: pid -> parent pid."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    parents[int(entry)] = int(stream.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _descendants(pid: int, parents: Mapping[int, int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _command_line(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read()
    except OSError:
        return None  # it ended while we looked


def run_watched(
    argv: Sequence[str], env: Mapping[str, str], timeout: float = 900
) -> tuple[subprocess.CompletedProcess, dict[str, bytes]]:
    """Run a command, and read the command line of every process it starts while it
    runs (what any local user sees in the process list): "pid N" -> its command line."""
    process = subprocess.Popen(
        list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env)
    )
    output: dict[str, bytes] = {}

    def drain(name, stream):
        output[name] = stream.read()

    # The pipes are read beside the watch, so that a chatty run never blocks on them.
    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    seen: dict[str, bytes] = {}
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            break
        parents = _parents()
        for pid in _descendants(process.pid, parents):
            line = _command_line(pid)
            # A fork shows its parent's command line until it execs: that is the
            # parent's, not a new one (the watched command's own line is what its user
            # typed, and a pexpect child on a loaded machine can show it for a while).
            if not line or line == _command_line(parents[pid]):
                continue
            # Every command line a process had: a process that has exited (a zombie)
            # shows none, which must not hide what it ran.
            if line not in seen.values():
                seen[f"pid {pid}" + (f" ({len(seen)})" if f"pid {pid}" in seen else "")] = line
        time.sleep(0.02)
    process.wait()
    for reader in readers:
        reader.join()
    done = subprocess.CompletedProcess(
        process.args,
        process.returncode,
        output.get("stdout", b"").decode("utf-8", "replace"),
        output.get("stderr", b"").decode("utf-8", "replace"),
    )
    return done, seen
