# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors the engine raises for bad input: short, precise, never a traceback."""

from __future__ import annotations


class InputError(ValueError):
    """Input that the engine refuses: names the source, the field and what is wrong."""

    def __init__(self, source: str, field: str | None, message: str):
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")


class PolicyError(InputError):
    """An invalid policy file or mapping."""


class InventoryError(InputError):
    """A raw inventory that breaks the collector contract."""


class CatalogueError(InputError):
    """A malformed signature catalogue."""


def describe_type(value: object) -> str:
    """Name a JSON/YAML value's type the way an operator would read it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def show(value: object, limit: int = 60) -> str:
    """A bad value quoted for an error message, cut short so the message stays short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
