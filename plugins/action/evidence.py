# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""evidence: record a remediation step for the change record (controller only).

The fleet_report callback collects these results per host, in order; the task changes
nothing itself and never receives secrets (plans are masked).
"""

from __future__ import annotations

import datetime

from ansible.plugins.action import ActionBase

EVENTS = ("plan", "installed", "removed", "reboot", "verified")
ARGUMENT_SPEC = {
    "event": {"type": "str", "required": True, "choices": list(EVENTS)},
    "data": {"type": "dict", "default": {}},
}


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
            data=args["data"],
        )
        return result
