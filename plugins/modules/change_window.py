#!/usr/bin/python
# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: change_window
short_description: Refuse a remediation without a valid change id or outside its window
version_added: 0.1.0
description:
  - Runs on the controller only. Validates the change id against a pattern and the change
    window (ISO 8601 C(START/END) with UTC offsets).
  - Before the first batch of a play, a window that is not open fails the task, so no
    host is touched. Before a later batch, a closed window returns RV(deferred)=true and
    the caller ends the play; hosts not started are reported C(deferred).
  - In check mode the window is reported but never enforced, so a dry run can prepare a
    change before its window opens.
options:
  change_id:
    description: The approved change, for example C(CHG0012345).
    type: raw
    required: true
  window:
    description:
      - C(START/END), ISO 8601 with offsets,
        e.g. C(2026-12-01T22:00+01:00/2026-12-02T04:00+01:00).
    type: raw
    required: true
  change_id_pattern:
    description:
      - Regular expression the change id must match.
      - Null (the default) uses the collection's own, C(^[A-Z][A-Z0-9]*-?[0-9]+$).
    type: str
  operator:
    description:
      - The name of the person who runs the change (C(avshift remediate --operator), a
        survey answer), recorded beside RV(os_account).
      - The AWX/AAP user who launched the job (C(awx_user_name)) takes its place.
    type: str
  confirmation:
    description:
      - How a real run was allowed to start, recorded in the change record; set by the
        C(avshift) command. C(typed) is the change id typed at its prompt, C(yes) its
        C(--yes). Null, for a run started another way, records that it was not asked.
    type: str
    choices: [typed, "yes"]
  mode:
    description:
      - C(gate) refuses the first batch and defers later ones when the window is not open.
      - C(report) only reports RV(window_state), e.g. before a reboot that must be skipped
        outside the window.
    type: str
    default: gate
    choices: [gate, report]
  batch:
    description: The play's C(serial) (e.g. C(1,5,25%)), validated and recorded.
    type: raw
  max_fail_percentage:
    description: The play's C(max_fail_percentage), validated and recorded.
    type: raw
  reboot:
    description: The reboot policy, validated and recorded.
    type: str
    choices: [never, if_required, always]
attributes:
  check_mode:
    support: full
    description: Reports the window without enforcing it.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: all
    description: Controller only.
author:
  - avshift maintainers (@avshift)
"""

EXAMPLES = r"""
- name: Check the change before touching this batch
  avshift.remediation.change_window:
    change_id: CHG0012345
    window: 2026-12-01T22:00+01:00/2026-12-02T04:00+01:00
  run_once: true
  register: change

- name: Start no new batch after the window
  ansible.builtin.meta: end_play
  when: change.deferred
"""

RETURN = r"""
change_id:
  description: The validated change id.
  returned: success
  type: str
  sample: CHG0012345
window:
  description: The window's start and end.
  returned: success
  type: dict
  sample: {start: "2026-12-01T22:00:00+01:00", end: "2026-12-02T04:00:00+01:00"}
window_state:
  description: C(not-open), C(open) or C(closed) at the time of the check.
  returned: success
  type: str
  sample: open
remaining_seconds:
  description: Seconds until the window closes.
  returned: success
  type: int
  sample: 3600
deferred:
  description: True when the window closed before this (later) batch.
  returned: success
  type: bool
  sample: false
operator:
  description: The person's name (AWX/AAP user, else O(operator)); null when none was given.
  returned: success
  type: str
  sample: Jane Doe
os_account:
  description:
    - The OS account that ran the play, read from the process's user id (not from
      C(LOGNAME)); C(uid N) for a uid without a passwd entry.
  returned: success
  type: str
  sample: jdoe
change_id_pattern:
  description: O(change_id_pattern) when a site gave its own; null for the collection's.
  returned: success
  type: str
  sample: "^CHG[0-9]{7}$"
confirmation:
  description: O(confirmation) as given.
  returned: success
  type: str
  sample: typed
batch_spec:
  description: O(batch) as written, a ramp list joined with commas (C(1,5,25%)).
  returned: success
  type: str
  sample: 1,5,25%
play_hosts:
  description: Every host of the play, all batches.
  returned: success
  type: list
  elements: str
  sample: [web-01, web-02]
"""
