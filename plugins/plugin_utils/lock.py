# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One remediation at a time per host: what a run does with the lock it finds there.

The lock is a file on the host (under the OS family's state directory, catalogue.yml)
that names the change, the run, the controller and process holding it, when it was
taken and the run's report directory. The host_lock action reads it, and this module
decides, on the controller, whether the run may take it. The host's own module then
takes it atomically, and only if it still holds what was decided on.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ansible_collections.avshift.remediation.plugins.plugin_utils.journal import (
    JOURNAL_NAME,
    read_journal,
)

LOCK_NAME = "remediation.lock"


@dataclass(frozen=True)
class Decision:
    take: bool
    # The run this one takes the lock over from, when it does.
    takeover_of: Mapping | None = None
    reason: str = ""


def _since(holder: Mapping) -> str:
    return str(holder.get("started") or "an unknown time")


def _owner(holder: Mapping) -> str:
    return (
        f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('controller')}, "
        f"report directory {holder.get('report_dir')})"
    )


def run_has_ended(report_dir: str | None) -> bool:
    """Whether a run's journal on this controller says it ended or was interrupted."""
    if not report_dir:
        return False
    path = os.path.join(report_dir, JOURNAL_NAME)
    try:
        events = read_journal(path).events
    except OSError:
        return False
    return any(event.get("type") in ("end", "stats") for event in events)


def process_alive(pid: object) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True  # it exists, it is another user's
    return True


def decide(
    holder: Mapping | None,
    me: Mapping,
    now: datetime.datetime,
    break_lock: bool = False,
    alive: Callable[[object], bool] = process_alive,
    ended: Callable[[str | None], bool] = run_has_ended,
) -> Decision:
    """May the run `me` take the host's lock, which `holder` holds (None: free)?

    - free, or held by this very run: take it;
    - held for another change: refuse ("host is being remediated by change X since T");
    - held for this change by a run that is gone (its process no longer exists on this
      controller, or its journal says it ended or was interrupted): take it over;
    - held for this change by a run that still runs: refuse;
    - held by a run whose owner cannot be checked from here (another controller):
      refuse, and say --break-lock takes it when that run is known to be gone.
    `break_lock` takes any lock, and the takeover is recorded like the others.
    """
    if holder is None or holder.get("run_id") == me.get("run_id"):
        return Decision(take=True)
    if holder.get("unreadable"):
        return Decision(
            take=True, takeover_of=holder, reason="the lock file was cut short and names nobody"
        )
    if break_lock:
        return Decision(take=True, takeover_of=holder, reason="the lock was broken on request")
    if holder.get("change_id") != me.get("change_id"):
        return Decision(
            take=False,
            reason=(
                f"host is being remediated by change {holder.get('change_id')} since "
                f"{_since(holder)} ({_owner(holder)})"
            ),
        )
    if holder.get("controller") == me.get("controller"):
        if not alive(holder.get("pid")) or ended(holder.get("report_dir")):
            return Decision(
                take=True,
                takeover_of=holder,
                reason=f"continues {_owner(holder)}, which is gone",
            )
        return Decision(
            take=False,
            reason=f"host is being remediated by this change in {_owner(holder)}, still running",
        )
    window_end = _window_end(holder)
    closed = window_end is not None and now >= window_end
    return Decision(
        take=False,
        reason=(
            f"host is locked by change {holder.get('change_id')} from another controller "
            f"({_owner(holder)}) since {_since(holder)}"
            + (f"; its window closed at {window_end.isoformat()}" if closed else "")
            + "; its owner cannot be checked from here: if that run is gone, run again "
            "with --break-lock (avshift_remediate_break_lock: true)"
        ),
    )


def _window_end(holder: Mapping) -> datetime.datetime | None:
    window = holder.get("window")
    text = window.get("end") if isinstance(window, Mapping) else None
    try:
        return datetime.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
