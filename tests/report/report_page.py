"""Reading a written report.html as its script shows it, for the tests that read markup.

The page keeps its hosts in two data blocks (html_format._host_data): their row groups'
markup, and JSON with each host's status, searched text and sort keys. report.js turns
them into the table's row groups. as_shown() puts every host's row group where the
script puts them, so that a test can read a host's markup as a browser holds it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import NamedTuple

from ansible_collections.avshift.remediation.plugins.plugin_utils.report.html_format import (
    ROW_SEPARATOR,
)

_BLOCK = '<script type="{kind}" id="{name}">(.*?)</script>\n'
_ROWS = re.compile(_BLOCK.format(kind="text/plain", name="host-rows"), re.S)
_DATA = re.compile(_BLOCK.format(kind="application/json", name="host-data"), re.S)


class PageHost(NamedTuple):
    status: str
    markup: str  # its row group
    text: str  # what the filter looks in
    keys: list  # one per column; the first is its name in lower case


def block(page: str, pattern: re.Pattern = _DATA) -> str:
    """A data block's text, up to the first end of a script, as the browser reads it."""
    match = pattern.search(page)
    assert match, f"the page has no data block {pattern.pattern}"
    return match.group(1)


def page_hosts(page: str) -> list[PageHost]:
    data = json.loads(block(page))
    rows = block(page, _ROWS).split(ROW_SEPARATOR) if data else []
    return [PageHost(host[0], row, host[1], host[2:]) for host, row in zip(data, rows, strict=True)]


def as_shown(page: str) -> str:
    """The page with every host's row group in the table, in the report's order, before
    its "no match" row; and without the data blocks."""
    markup = "\n".join(host.markup for host in page_hosts(page))
    page = _DATA.sub("", _ROWS.sub("", page, count=1), count=1)
    at = page.index('<tbody id="no-match"')
    return page[:at] + markup + ("\n" if markup else "") + page[at:]


def sort_keys(page: str, host: str) -> list:
    """A host's key for each column, as the page's script sorts by them."""
    [keys] = [entry.keys for entry in page_hosts(page) if entry.keys[0] == host.lower()]
    return keys


# What a page that fetches nothing must not hold: a reference to anything outside it.
EXTERNAL = [
    re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"<link\b[^>]*\brel\s*=\s*[\"']?stylesheet", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"url\(\s*[\"']?\s*(?:https?:)?//", re.I),
    re.compile(r"<script\b[^>]*\bsrc\s*=", re.I),
    re.compile(r"<(?:iframe|object|embed|img)\b", re.I),
]


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def assert_self_contained(page: str) -> None:
    """A written page refers to nothing outside it, and its Content-Security-Policy lets
    run exactly its one script and its one style: its data block is data, which no
    policy runs, and holds the whole of the hosts' data, up to its own end tag."""
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert [attributes for attributes, _ in scripts] == [
        ' type="text/plain" id="host-rows"',
        ' type="application/json" id="host-data"',
        "",
    ]
    assert isinstance(json.loads(scripts[1][1]), list)
    assert len(styles) == 1
    assert f"script-src '{_digest(scripts[2][1])}'" in csp
    assert f"style-src '{_digest(styles[0])}'" in csp
    for shown in (page, as_shown(page)):
        for pattern in EXTERNAL:
            assert not pattern.search(shown), pattern.pattern
