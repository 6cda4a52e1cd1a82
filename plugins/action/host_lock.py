# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_lock: one remediation at a time per host; the controller decides, the host acts."""

from __future__ import annotations

import datetime
import os
import socket
import uuid

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.avshift.remediation.plugins.plugin_utils import host_family, lock
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    load_catalogue,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    RUN_ENVIRONMENT,
)

MODULE = "avshift.remediation.host_lock"
ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["acquire", "release", "inspect"], "default": "acquire"},
    "change_id": {"type": "str"},
    "window": {"type": "str"},
    "break_lock": {"type": "bool", "default": False},
}
# Without the fleet_report callback (which names the run), the play's own process stands
# for the run: one id per ansible-playbook process.
_FALLBACK_RUN_ID = str(uuid.uuid4())


def _run() -> dict:
    """This run, as the fleet_report callback named it for every task's process."""
    return {
        "run_id": os.environ.get(RUN_ENVIRONMENT["run_id"]) or f"{_FALLBACK_RUN_ID}",
        "pid": int(os.environ.get(RUN_ENVIRONMENT["pid"]) or os.getppid()),
        "report_dir": os.environ.get(RUN_ENVIRONMENT["report_dir"]),
        "controller": socket.gethostname(),
    }


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        catalogue = load_catalogue()
        family = host_family.families_of(self, catalogue)[0]
        separator = "\\" if family.module_suffix == ".ps1" else "/"
        path = f"{family.state_dir}{separator}{lock.LOCK_NAME}"
        me = {
            **_run(),
            "change_id": args["change_id"],
            "window": _window(args["window"]),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }

        def on_host(**module_args):
            answer = host_family.execute(
                self, MODULE, family, {"path": path, **module_args}, task_vars
            )
            if answer.get("failed") or answer.get("unreachable"):
                result.update(answer)
                raise _Stop
            return answer

        try:
            found = on_host(state="inspect")
            holder = found.get("holder")
            result["holder"] = holder
            if args["state"] == "inspect":
                result.update(changed=False, held=False)
                return result
            if args["state"] == "release":
                result.update(on_host(state="release", run_id=me["run_id"]))
                return result
            if not args["change_id"]:
                raise AnsibleActionFail("host_lock: change_id is required to acquire the lock")
            decision = lock.decide(
                holder, me, datetime.datetime.now(datetime.timezone.utc), args["break_lock"]
            )
            if not decision.take:
                result.update(failed=True, held=False, msg=decision.reason)
                return result
            taken = on_host(
                state="acquire",
                record=me,
                expect_run=(holder or {}).get("run_id") if decision.takeover_of else None,
            )
        except _Stop:
            return result
        result.update(taken)
        if decision.takeover_of:
            result["takeover"] = {**dict(decision.takeover_of), "reason": decision.reason}
        return result


class _Stop(Exception):
    """The host's side failed; its answer is the task's result."""


def _window(text):
    if not text or "/" not in text:
        return None
    start, end = text.split("/", 1)
    return {"start": start, "end": end}
