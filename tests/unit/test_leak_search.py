"""The leak tests' search (tests/leaks.py) finds a secret in every form it looks for, at
any place in a file: a search that could not see a leak would pass every leak test."""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.parse

import pytest
from leaks import files_under, find, forms, marker, run_watched

SECRET = marker("avshift_uninstall_passwords")


def _planted(form: str) -> bytes:
    value = SECRET.encode("utf-8")
    if form == "base64":
        return base64.b64encode(os.urandom(5) + value + os.urandom(2))
    if form == "utf-16le":
        return SECRET.encode("utf-16-le")
    if form == "utf-16le hex":
        return SECRET.encode("utf-16-le").hex().upper().encode()
    if form == "url-encoded":
        return urllib.parse.quote(SECRET, safe="").encode()
    if form == "json-escaped":
        return json.dumps({"password": SECRET}).encode()
    return value


@pytest.mark.parametrize("form", list(forms(SECRET)))
def test_a_secret_planted_in_any_form_anywhere_in_a_file_is_found(form, tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "artifact").write_bytes(b"noise " + _planted(form) + b" noise")
    (tmp_path / "clean").write_bytes(b"nothing here")
    assert find({"kes": SECRET}, files_under(tmp_path)) == [
        f"kes as {form} in {tmp_path / 'deep' / 'er' / 'artifact'}"
    ]


def test_base64_is_found_at_every_alignment():
    for before in range(6):
        for after in range(4):
            data = base64.b64encode(os.urandom(before) + SECRET.encode() + os.urandom(after))
            assert find({"kes": SECRET}, {"blob": data}), (before, after)


def test_markers_differ_in_every_form_and_url_encoding_changes_them():
    other = marker("avshift_uninstall_passwords")
    assert other != SECRET
    encoded = forms(SECRET)["url-encoded"]
    assert SECRET.encode() not in encoded
    assert find({"kes": SECRET}, {"text": other.encode()}) == []


# A Python that forks and waits before it execs: the window in which a child shows its
# parent's command line, held open long enough that the watch must see it.
_FORK_THEN_EXEC = """
import os, sys, time
pid = os.fork()
if pid == 0:
    time.sleep(0.5)
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(0.5)", sys.argv[2]])
os.waitpid(pid, 0)
"""


def test_the_process_watch_sees_a_descendants_command_line_but_not_a_fork_of_the_watched_one():
    given, passed_on = marker("typed_by_the_user"), marker("avshift_uninstall_passwords")
    done, processes = run_watched(
        [sys.executable, "-c", _FORK_THEN_EXEC, given, passed_on], env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    # The child's exec'd line holds the secret passed on to it: that is a leak.
    exec_d = [sys.executable, "-c", "import time; time.sleep(0.5)", passed_on]
    assert list(processes.values()) == [b"\0".join(arg.encode() for arg in exec_d) + b"\0"]
    # Before it exec'd, the child showed the watched command's own line, which holds
    # what its user typed: a fork's copy is not a new command line.
    assert find({"typed": given}, processes) == []
