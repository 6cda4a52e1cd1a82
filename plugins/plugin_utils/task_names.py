# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's tasks as a task result names them: by FQCN, or by short name in a
play that lists the collection under `collections:`. Read by the fleet_report callback
and by the CLI's progress display, which must recognise the same results."""

from __future__ import annotations


def _names(short: str) -> frozenset[str]:
    return frozenset((f"avshift.remediation.{short}", short))


SCAN_ACTIONS = _names("av_scan")
WINDOW_ACTIONS = _names("change_window")
EVIDENCE_ACTIONS = _names("evidence")
LOCK_ACTIONS = _names("host_lock")
