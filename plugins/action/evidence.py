# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""evidence: record a remediation step for the change record (controller only).

The fleet_report callback collects these results per host, in order; the task changes
nothing itself and never receives secrets (plans are masked).
"""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

EVENTS = ("plan", "installed", "removed", "reboot", "changes", "verified")
ARGUMENT_SPEC = {
    "event": {"type": "str", "required": True, "choices": list(EVENTS)},
    "data": {"type": "dict", "default": {}},
}


def _flag(value):
    """True or False, or None where it is not known."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("", "none", "true", "false"):
        return {"true": True, "false": False}.get(value.strip().lower())
    raise ValueError("expected true or false")


def _seconds(value):
    """A duration in seconds, or None where there is none."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number of seconds")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number of seconds") from None


def _active(value):
    """The active replacement: a flag, or the names of the active products."""
    return value if isinstance(value, list) else _flag(value)


# The fields that hold one type in every event. Before ansible-core 2.19 a template
# renders as text unless it makes a list, a dict or a boolean: "{{ 7.3 }}" arrives as
# "7.3" and "{{ none }}" as "". The record keeps each field's type whatever ansible-core
# ran the play, so that reports and the history read the same evidence.
FIELD_TYPES = {
    "active": _active,
    "compliant": _flag,
    "deferred": _flag,
    "reboot_required": _flag,
    "unprotected_seconds": _seconds,
}


def typed_data(data: dict) -> dict:
    """An event's data with each field of FIELD_TYPES in its type."""
    typed = dict(data)
    for field, kind in FIELD_TYPES.items():
        if field in typed:
            try:
                typed[field] = kind(typed[field])
            except ValueError as error:
                raise AnsibleActionFail(f"data.{field}: {error}, got {typed[field]!r}") from None
    return typed


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        result.update(
            changed=False,
            event=args["event"],
            at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            data=typed_data(args["data"]),
        )
        return result
