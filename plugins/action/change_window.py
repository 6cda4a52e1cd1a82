# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""change_window: refuse a run without a valid change id or outside its window.

Runs on the controller only. Before the first batch a closed window is a refusal (the
task fails and no host is touched); before a later batch it defers the rest of the
play, so hosts not started are reported `deferred`.
"""

from __future__ import annotations

import os
import pwd

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.avshift.remediation.plugins.plugin_utils.change import (
    ChangeRefused,
    batch_as_written,
    check_change_id,
    check_max_fail,
    check_reboot,
    now_utc,
    parse_batch,
    parse_window,
    refuse_to_start,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import CONFIRMATIONS

ARGUMENT_SPEC = {
    "change_id": {"type": "raw", "required": True},
    "window": {"type": "raw", "required": True},
    # None: the collection's own pattern (contract.CHANGE_ID_PATTERN).
    "change_id_pattern": {"type": "str"},
    # The name a person gives (avshift --operator, a survey); the OS account is read.
    "operator": {"type": "str"},
    # How a real run was allowed to start (the avshift command's prompt or --yes).
    "confirmation": {"type": "str", "choices": list(CONFIRMATIONS)},
    # gate: refuse or defer a batch when the window is not open; report: only say its state
    # (e.g. before a reboot, which is skipped outside the window).
    "mode": {"type": "str", "default": "gate", "choices": ["gate", "report"]},
    # Recorded for the change record, and validated like the CLI does.
    "batch": {"type": "raw"},
    "max_fail_percentage": {"type": "raw"},
    "reboot": {"type": "str"},
}


def _operator(task_vars: dict, given: str | None) -> str | None:
    """The person's name: the AWX/AAP user who launched the job, else the name given."""
    # AWX/AAP set these job variables from the logged-in user: an identity a survey
    # answer cannot override.
    for name in ("awx_user_name", "tower_user_name"):
        if task_vars.get(name):
            return str(task_vars[name])
    return given or None


def os_account() -> str:
    """The OS account running the play, from the process's user id.

    Not LOGNAME or USER, which anyone can set. An execution environment may run under
    an arbitrary uid without a passwd entry (OpenShift does): then the uid itself.
    """
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        task_vars = task_vars or {}
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        try:
            change_id = check_change_id(args["change_id"], args["change_id_pattern"])
            window = parse_window(args["window"])
            batch_spec = args["batch"]
            if batch_spec is not None:
                parse_batch(batch_spec)
            max_fail = args["max_fail_percentage"]
            if max_fail is not None:
                max_fail = check_max_fail(max_fail)
            reboot = check_reboot(args["reboot"]) if args["reboot"] is not None else None
        except ChangeRefused as exc:
            raise AnsibleActionFail(f"refused: {exc}") from None

        now = now_utc()
        state = window.state(now)
        play_hosts = list(task_vars.get("ansible_play_hosts_all") or [])
        batch = list(task_vars.get("ansible_play_batch") or [])
        first_batch = not play_hosts or play_hosts[0] in batch
        result.update(
            changed=False,
            change_id=change_id,
            window=window.as_dict(),
            window_state=state,
            checked_at=now.isoformat(timespec="seconds"),
            remaining_seconds=max(0, int((window.end - now).total_seconds())),
            operator=_operator(task_vars, args["operator"]),
            os_account=os_account(),
            # Only a site's own pattern: none means the collection's (contract.CHANGE_ID_PATTERN).
            change_id_pattern=args["change_id_pattern"],
            confirmation=args["confirmation"],
            play_hosts=play_hosts,
            batch=batch,
            deferred=False,
            batch_spec=batch_as_written(batch_spec),
            max_fail_percentage=max_fail,
            reboot_policy=reboot,
            mode=args["mode"],
        )
        if first_batch and args["mode"] != "report":
            try:
                refuse_to_start(window, now, dry_run=self._task.check_mode)
            except ChangeRefused as exc:
                # Not raised: the report needs play_hosts to list every host as not started.
                result.update(failed=True, msg=f"refused: {exc}; no host was touched")
                return result
        if state == "open" or self._task.check_mode or args["mode"] == "report":
            # A dry run is how a change is prepared, usually before its window opens.
            return result
        result["deferred"] = True
        result["msg"] = (
            f"the change window closed at {window.end.isoformat()}: "
            "hosts of this and later batches are not started"
        )
        return result
