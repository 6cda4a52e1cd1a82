#!/usr/bin/python
# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: evidence
short_description: Record a remediation step for the change record
version_added: 0.1.0
description:
  - Runs on the controller only and changes nothing. The
    P(avshift.remediation.fleet_report#callback) callback collects these results per host,
    in order, into the report's C(actions).
  - Never pass secrets in O(data); removal plans are recorded masked.
options:
  event:
    description:
      - What happened. C(changes) is what the host's own state shows changed between
        the scans before and after the remediation (the
        P(avshift.remediation.host_changes#filter) filter), recorded also after a
        failure.
    type: str
    required: true
    choices: [plan, installed, removed, reboot, changes, verified]
  data:
    description: Details of the step.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Records the step in check mode too (the plan of a dry run).
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
- name: Record that ClamAV was installed
  avshift.remediation.evidence:
    event: installed
    data: {vendor: clamav}
"""

RETURN = r"""
event:
  description: The event recorded.
  returned: success
  type: str
  sample: installed
at:
  description: When, in UTC, ISO 8601.
  returned: success
  type: str
  sample: "2026-12-01T22:14:03+00:00"
data:
  description: The details recorded.
  returned: success
  type: dict
  sample: {vendor: clamav}
"""
