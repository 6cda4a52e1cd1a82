"""Reading a written report.html as its script shows it, for the tests that read markup.

The page keeps its hosts in one JSON block (html_format._host_data) that report.js turns
into the table's row groups. as_shown() puts every host's row group where the script
puts them, so that a test can read a host's markup as a browser holds it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

_DATA = re.compile(r'<script type="application/json" id="host-data">(.*?)</script>\n', re.S)
# Each host of the data: its status, its row group's markup, then its sort keys.
STATUS, MARKUP, KEYS = 0, 1, 2


def data_block(page: str) -> str:
    """The data block's text, up to the first end of a script, as the browser reads it."""
    match = _DATA.search(page)
    assert match, "the page has no host data block"
    return match.group(1)


def host_data(page: str) -> list[list]:
    return json.loads(data_block(page))


def as_shown(page: str) -> str:
    """The page with every host's row group in the table, in the report's order, before
    its "no match" row; and without the data block."""
    markup = "\n".join(host[MARKUP] for host in host_data(page))
    page = _DATA.sub("", page, count=1)
    at = page.index('<tbody id="no-match"')
    return page[:at] + markup + ("\n" if markup else "") + page[at:]


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
        ' type="application/json" id="host-data"',
        "",
    ]
    assert isinstance(json.loads(scripts[0][1]), list)
    assert len(styles) == 1
    assert f"script-src '{_digest(scripts[1][1])}'" in csp
    assert f"style-src '{_digest(styles[0])}'" in csp
    for shown in (page, as_shown(page)):
        for pattern in EXTERNAL:
            assert not pattern.search(shown), pattern.pattern


def sort_keys(page: str, host: str) -> list:
    """A host's key for each column, as the page's script sorts by them; the first is
    its name, in lower case."""
    [keys] = [entry[KEYS:] for entry in host_data(page) if entry[KEYS] == host.lower()]
    return keys
