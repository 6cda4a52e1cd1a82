"""Syntax check of the collection's PowerShell with tree-sitter-pwsh.

No PowerShell runtime exists here, so this is the only check that av_scan.ps1 and any
other .ps1/.psm1 under plugins/ parse. It catches syntax errors only (unbalanced
braces, broken strings, malformed statements); it is not PSScriptAnalyzer and proves
nothing about behaviour on Windows. The grammar wrongly flags a few valid constructs
(generic type literals, labelled `break`, `-cnotin`), which is why it only checks the
project's own files (the parser and its reading are tests/powershell_ast.py's).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from powershell_ast import syntax_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGINS = REPO_ROOT / "plugins"
ROLES = REPO_ROOT / "roles"
POWERSHELL_FILES = sorted(
    path
    for folder in (PLUGINS, ROLES)
    for pattern in ("*.ps1", "*.psm1")
    for path in folder.rglob(pattern)
)


def test_the_windows_collector_and_the_roles_scripts_are_among_the_checked_files():
    # Guards against a glob that silently matches nothing.
    assert PLUGINS / "modules" / "av_scan.ps1" in POWERSHELL_FILES
    assert ROLES / "uninstall" / "files" / "msiexec_log_tail.ps1" in POWERSHELL_FILES


@pytest.mark.parametrize(
    "path", POWERSHELL_FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in POWERSHELL_FILES]
)
def test_powershell_file_parses_without_errors(path):
    assert syntax_errors(path.read_bytes()) == []


@pytest.mark.parametrize(
    "snippet",
    [
        pytest.param(b"if ($x) {\n    'unclosed'\n", id="unclosed-block"),
        pytest.param(b"$spec = @{\n    options = @{\n}\n", id="unclosed-hashtable"),
        pytest.param(b'$module.FailJson("no closing paren"\n', id="unclosed-call"),
        pytest.param(b"foreach ($item in ) { $item }\n", id="foreach-without-collection"),
    ],
)
def test_broken_snippet_is_flagged(snippet):
    assert syntax_errors(snippet) != []


def test_collector_with_one_brace_removed_is_flagged():
    # The real file, broken the way an edit most often breaks it.
    source = (PLUGINS / "modules" / "av_scan.ps1").read_bytes()
    position = source.rindex(b"}")
    assert syntax_errors(source[:position] + source[position + 1 :]) != []
