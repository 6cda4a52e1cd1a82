"""Every relative link in the project's Markdown leads somewhere: the file exists, and an
anchor names a heading of it (as GitHub makes a heading's anchor) or an explicit anchor."""

from __future__ import annotations

import os
import re
from pathlib import Path

from packaging_support import ROOT, tracked_files

# [text](target) and [text]: target, outside code blocks; images too.
_INLINE = re.compile(r"\]\(([^()\s]+(?:\([^()\s]*\))?[^()\s]*)(?:\s+\"[^\"]*\")?\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_EXPLICIT = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.I)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, blanks
    to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found, seen = set(_EXPLICIT.findall(text)), {}
    for heading in _HEADING.findall(_FENCE.sub("", text)):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(text: str) -> list[str]:
    prose = _FENCE.sub("", text)
    prose = re.sub(r"`[^`\n]*`", "", prose)  # inline code is not a link
    return _INLINE.findall(prose) + _REFERENCE.findall(prose)


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # https:, mailto: and the like: not this repository's
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            broken.append(
                f"{target}: no such heading in {os.path.relpath(linked, document.parent)}"
            )
    return broken


def test_every_relative_link_and_anchor_in_the_markdown_leads_somewhere():
    documents = [ROOT / path for path in tracked_files() if path.endswith(".md")]
    assert len(documents) > 10
    broken = {
        str(document.relative_to(ROOT)): found
        for document in documents
        if (found := broken_links(document))
    }
    assert broken == {}


def test_the_link_check_sees_a_missing_file_a_missing_heading_and_a_good_link(tmp_path):
    (tmp_path / "other.md").write_text("# Title\n\n## Running `avshift report`, at last\n")
    document = tmp_path / "doc.md"
    document.write_text(
        "# Here\n\n[a](other.md#running-avshift-report-at-last) [b](other.md#gone) "
        "[c](missing.md) [d](#here) [e](https://example.org/x#y)\n\n"
        "```md\n[not a link](nowhere.md)\n```\n"
    )
    assert broken_links(document) == [
        "other.md#gone: no such heading in other.md",
        "missing.md: no such file",
    ]
