"""PowerShell read as a syntax tree (tree-sitter-pwsh), since no PowerShell runs here.

What the tests hold the scripts to without running them: that they parse, which cmdlets
they invoke with which parameters (a call in a comment or a string is not one), and the
keys of the objects they build. The fake WinRM host uses the same reading to recognise a
script by what it does rather than by its bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter
import tree_sitter_pwsh

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def _text(source: bytes, node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def syntax_errors(source: bytes) -> list[str]:
    """Where the parser found an error or had to invent a missing token. The grammar
    wrongly flags a few valid constructs (generic type literals, labelled `break`,
    `-cnotin`), so it only checks the project's own files."""
    tree = PARSER.parse(source)
    problems = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            line, column = node.start_point
            kind = f"missing {node.type}" if node.is_missing else "unexpected"
            text = source[node.start_byte : node.end_byte][:60].decode("utf-8", "replace")
            problems.append(f"line {line + 1}, column {column + 1}: {kind} {text!r}")
        if node.has_error:
            stack.extend(node.children)
    if tree.root_node.has_error and not problems:
        problems.append("the parser reports an error it did not locate")
    return sorted(problems)


@dataclass(frozen=True)
class Invocation:
    """One command a script runs: its name and parameter names in lower case (as
    PowerShell matches them), and its whole text."""

    name: str
    parameters: tuple[str, ...]
    text: str
    line: int

    def has(self, *parameters: str) -> bool:
        return all(parameter.lower() in self.parameters for parameter in parameters)


def invocations(source: bytes) -> list[Invocation]:
    found = []
    for node in _walk(PARSER.parse(source).root_node):
        if node.type != "command":
            continue
        name = next((c for c in node.children if c.type == "command_name"), None)
        if name is None:
            continue
        parameters = tuple(
            _text(source, child).lstrip("-").rstrip(":").lower()
            for child in _walk(node)
            if child.type == "command_parameter"
        )
        line = node.start_point[0] + 1
        found.append(Invocation(_text(source, name).lower(), parameters, _text(source, node), line))
    return found


def invoked(source: bytes, name: str, *parameters: str) -> list[Invocation]:
    """The calls of a command (by name, any case) that pass all these parameters."""
    return [
        call for call in invocations(source) if call.name == name.lower() and call.has(*parameters)
    ]


def hashtable_keys(source: bytes) -> set[str]:
    """Every key of every @{...} literal of the script."""
    keys = set()
    for node in _walk(PARSER.parse(source).root_node):
        if node.type == "key_expression":
            keys.add(_text(source, node).strip().strip("'\""))
    return keys


def member_writes(source: bytes, variable: str) -> set[str]:
    """The members assigned on $variable (`$variable.name = ...`)."""
    pattern = re.compile(r"^\$" + re.escape(variable) + r"\.([A-Za-z_][A-Za-z0-9_]*)$", re.I)
    names = set()
    for node in _walk(PARSER.parse(source).root_node):
        if node.type == "left_assignment_expression":
            match = pattern.match(_text(source, node).strip())
            if match:
                names.add(match.group(1))
    return names


def strings(source: bytes) -> list[str]:
    """The text of every string literal, without its quotes."""
    return [
        _text(source, node)[1:-1]
        for node in _walk(PARSER.parse(source).root_node)
        if node.type == "string_literal"
    ]


def without_comments(source: bytes) -> str:
    """The script's text with every comment blanked out (lengths kept), for checks of
    what the code itself says."""
    text = bytearray(source)
    for node in _walk(PARSER.parse(source).root_node):
        if node.type == "comment":
            text[node.start_byte : node.end_byte] = b" " * (node.end_byte - node.start_byte)
    return text.decode("utf-8", "replace")


def assigned_hashtable_keys(source: bytes, variable: str) -> set[str]:
    """The keys of the hashtable literal first assigned to $variable."""
    for node in _walk(PARSER.parse(source).root_node):
        if node.type != "assignment_expression":
            continue
        target = next((c for c in node.children if c.type == "left_assignment_expression"), None)
        if target is None or _text(source, target).strip().lower() != f"${variable.lower()}":
            continue
        return {
            _text(source, key).strip().strip("'\"")
            for key in _walk(node)
            if key.type == "key_expression"
        }
    return set()
