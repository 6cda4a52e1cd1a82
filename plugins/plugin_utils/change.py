# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Change management: the change id, the window, batches and the reboot policy.

One set of rules, used by the change_window task before each batch (so that
ansible-playbook and AWX refuse the same way) and by the CLI before it starts a run.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    CHANGE_ID_PATTERN as DEFAULT_CHANGE_ID_PATTERN,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError, show

REBOOT_POLICIES = ("never", "if_required", "always")
_BATCH_ITEM = re.compile(r"^(?:[1-9][0-9]*|(?:[1-9][0-9]?|100)%)$")
# The one ISO 8601 shape a window is written in: date, time to the minute (seconds and
# a fraction optional), and an optional offset. Checked before fromisoformat, which
# reads more on Python 3.11+ and, on 3.10, lets a stray character through before an
# offset ("22:00X+01:00").
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:[Zz]|[+-]\d{2}:\d{2})?"
)


class ChangeRefused(InputError):
    """The run must not start (or go on): no valid change id, or outside the window."""


@dataclass(frozen=True)
class Window:
    start: datetime.datetime
    end: datetime.datetime

    def state(self, now: datetime.datetime) -> str:
        if now < self.start:
            return "not-open"
        if now >= self.end:
            return "closed"
        return "open"

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_timestamp(text: str) -> datetime.datetime:
    """An ISO 8601 date and time (_TIMESTAMP), read alike on every controller Python:
    "Z" for UTC too, which fromisoformat refuses before 3.11."""
    text = text.strip()
    if not _TIMESTAMP.fullmatch(text):
        raise ValueError(f"not an ISO 8601 date and time: {text!r}")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


def _timestamp(text: str, field: str) -> datetime.datetime:
    try:
        value = parse_timestamp(text)
    except ValueError:
        raise ChangeRefused(
            "window", field, f"not an ISO 8601 date and time: {show(text)}"
        ) from None
    if value.tzinfo is None:
        # A window without an offset means different things on the controller, the
        # hosts and the approver's calendar: refuse to guess.
        raise ChangeRefused("window", field, f"needs a UTC offset (e.g. +01:00 or Z): {show(text)}")
    return value


def parse_window(text: object) -> Window:
    """START/END, both ISO 8601 with an offset."""
    if not isinstance(text, str) or text.count("/") != 1:
        raise ChangeRefused("window", None, f"expected START/END in ISO 8601, got {show(text)}")
    start_text, end_text = text.split("/")
    window = Window(_timestamp(start_text, "start"), _timestamp(end_text, "end"))
    if window.end <= window.start:
        raise ChangeRefused("window", None, f"ends before it starts: {text}")
    return window


def check_change_id(change_id: object, pattern: str | None = None) -> str:
    pattern = pattern or DEFAULT_CHANGE_ID_PATTERN
    if change_id is None or (isinstance(change_id, str) and not change_id.strip()):
        raise ChangeRefused("change id", None, "required: name the approved change")
    if not isinstance(change_id, str):
        raise ChangeRefused("change id", None, f"expected text, got {show(change_id)}")
    try:
        matches = re.search(pattern, change_id)
    except re.error as exc:
        raise ChangeRefused("change id pattern", None, f"invalid: {exc}") from None
    if not matches:
        raise ChangeRefused("change id", None, f"{show(change_id)} does not match {pattern}")
    return change_id


def parse_batch(spec: object) -> list[int | str]:
    """An Ansible `serial` value: "5", "10%", a ramp such as "1,5,25%", or its list form."""
    if isinstance(spec, list | tuple):
        items = [str(part).strip() for part in spec]
    else:
        items = [part.strip() for part in str(spec).split(",")] if spec is not None else []
    if not items or not all(_BATCH_ITEM.match(item) for item in items):
        raise ChangeRefused(
            "batch", None, f"expected counts or percentages such as 1,5,25%, got {show(spec)}"
        )
    return [item if item.endswith("%") else int(item) for item in items]


def check_max_fail(value: object) -> int:
    # ASCII digits only: a bool ("True"), a float ("5.0"), a sign, a list or a digit of
    # another script ("²", which int() refuses) are refused alike.
    text = str(value).strip().rstrip("%")
    if not (text.isascii() and text.isdigit()) or int(text) > 100:
        raise ChangeRefused("max fail", None, f"expected a percentage 0-100, got {show(value)}")
    return int(text)


def check_reboot(policy: object) -> str:
    if policy not in REBOOT_POLICIES:
        raise ChangeRefused(
            "reboot", None, f"expected one of {', '.join(REBOOT_POLICIES)}, got {show(policy)}"
        )
    return policy


def refuse_outside(window: Window, now: datetime.datetime) -> None:
    outside = {
        "not-open": f"it opens at {window.start.isoformat()}",
        "closed": f"it closed at {window.end.isoformat()}",
    }.get(window.state(now))
    if outside:
        raise ChangeRefused("window", None, f"outside the change window: {outside}")


def refuse_closed_for_dry_run(window: Window, now: datetime.datetime) -> None:
    """A dry run prepares a change whose window is open or to come: one that has closed
    is a mistake (a mistyped year), better found the day before than inside the window."""
    if window.state(now) == "closed":
        raise ChangeRefused(
            "window",
            None,
            f"it closed at {window.end.isoformat()}: a dry run is of a change still to come",
        )


def refuse_to_start(window: Window, now: datetime.datetime, dry_run: bool) -> None:
    """The window rule before a run's first batch, for the CLI and the change_window task
    alike: a real run needs the window open, a dry run needs it not closed."""
    (refuse_closed_for_dry_run if dry_run else refuse_outside)(window, now)


# How long a window may be before avshift asks whether its dates are right.
LONGEST_WINDOW_HOURS = 24


def window_warnings(window: Window, longest_hours: float = LONGEST_WINDOW_HOURS) -> list[str]:
    hours = (window.end - window.start).total_seconds() / 3600
    if hours > longest_hours:
        length = f"{hours:.1f}".rstrip("0").rstrip(".")
        return [f"the window is {length} h long, over {longest_hours:g} h: check its dates"]
    return []


# The one clock the change rules read. Unset, it is the wall clock; set to a file that
# holds an ISO 8601 time, it is that time, read anew at each call: the window and batch
# tests drive it instead of waiting for a real window to close.
CLOCK_ENVIRONMENT = "AVSHIFT_CLOCK"


def now_utc() -> datetime.datetime:
    clock = os.environ.get(CLOCK_ENVIRONMENT)
    if clock:
        with open(clock, encoding="utf-8") as stream:
            return parse_timestamp(stream.read()).astimezone(datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc)


def batch_as_written(batch: object) -> str | None:
    """The batch ramp as the operator wrote it: serial's list form [1, 5, "25%"] is
    1,5,25%. None for no batch (a journal may hold "" or [])."""
    if batch is None or batch == "" or batch == []:
        return None
    if isinstance(batch, list | tuple):
        return ",".join(str(step) for step in batch)
    return str(batch)
