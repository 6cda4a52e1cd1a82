"""The leak tests' search (tests/leaks.py) finds a secret in every form it looks for, at
any place in a file: a search that could not see a leak would pass every leak test."""

from __future__ import annotations

import base64
import json
import os
import urllib.parse

import pytest
from leaks import files_under, find, forms, marker

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
