# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_changes: what a remediation changed on a host, from its scans before and after."""

from __future__ import annotations

from ansible_collections.avshift.remediation.plugins.plugin_utils.host_changes import (
    host_changes,
)

DOCUMENTATION = r"""
---
name: host_changes
version_added: 0.2.0
short_description: What changed on a host between two of its scans
description:
  - Compares the raw inventories (C(return_inventory=true)) of two
    M(avshift.remediation.av_scan) results of one host, the one before a remediation and
    the one after it, and lists the packages installed, removed and upgraded (with their
    versions), the services started and stopped, and the catalogue paths deleted and
    created.
  - Read from the host, not from the tasks that ran, so a failed replacement's evidence
    still names every package the package manager put on the host.
  - "A part either scan could not read is C({unknown: <why>}), never an empty list."
  - Pure Python on the controller.
positional: _input, after
options:
  _input:
    description: The inventory of the scan before (C(result.inventory)).
    type: dict
    required: true
  after:
    description: The inventory of the scan after.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Record what the remediation changed on the host
  avshift.remediation.evidence:
    event: changes
    data: "{{ before_scan.inventory | avshift.remediation.host_changes(after_scan.inventory) }}"
"""

RETURN = r"""
_value:
  description: One entry per part; each is its changes, or C(unknown) with the reason.
  type: dict
  contains:
    packages:
      description: >-
        C(installed) and C(removed) (C(name), C(source), C(version)), C(upgraded)
        (C(name), C(source), C(from), C(to)).
      type: dict
    services:
      description: C(started) and C(stopped), service names.
      type: dict
    paths:
      description: C(deleted) and C(created), catalogue paths.
      type: dict
  sample:
    packages:
      installed: [{name: clamav-daemon, source: dpkg, version: 1.0.9+dfsg-1~deb12u1}]
      removed: [{name: kesl, source: dpkg, version: 12.1.0.1297}]
      upgraded: []
    services: {started: [clamav-daemon], stopped: [kesl]}
    paths: {deleted: [/opt/kaspersky/kesl], created: []}
"""


class FilterModule:
    def filters(self):
        return {"host_changes": host_changes}
