# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""defender_protection: whether Microsoft Defender Antivirus protects a host, and why not."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.avshift.remediation.plugins.plugin_utils import defender

DOCUMENTATION = r"""
---
name: defender_protection
version_added: 0.2.0
short_description: Whether Microsoft Defender Antivirus protects a Windows host
description:
  - Applies avshift's one rule for an active Defender (C(plugin_utils/defender.py), the
    same the classifier applies to a scan) to the state the install role's
    C(defender_status.ps1) reads. Active means running mode Normal (or, on a platform without
    AMRunningMode, the WinDefend service running), antivirus and real-time protection
    on, and no Group Policy in force that turns it off.
  - Pure Python on the controller.
positional: _input
options:
  _input:
    description:
      - The object C(defender_status.ps1) writes (C(server), C(service), C(status),
        C(status_error), C(disabled_by_policy)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Wait until Defender protects the host
  ansible.windows.win_powershell:
    script: "{{ lookup('ansible.builtin.file', 'defender_status.ps1') }}"
  register: probe
  until: (probe.output[0] | avshift.remediation.defender_protection).active
  retries: 30
  delay: 10
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    active:
      description: Whether Defender Antivirus protects the host.
      type: bool
    why:
      description: What keeps it from doing so, one reason each (empty when active).
      type: list
      elements: str
    mode:
      description: C(normal), C(passive), C(edr-block), C(off) or C(unknown) (no AMRunningMode).
      type: str
    policies:
      description: The disabling policies in force (registry key and value).
      type: list
      elements: str
"""


def defender_protection(state):
    if not isinstance(state, dict):
        raise AnsibleFilterError(
            f"defender_protection expects defender_status.ps1's object, got {type(state).__name__}"
        )
    status = state.get("status")
    if status is not None or state.get("status_error"):
        status = {
            **(status or {}),
            "error": state.get("status_error"),
            "disabled_by_policy": state.get("disabled_by_policy") or [],
        }
    service = state.get("service") or {}
    running = service.get("state") == "running"
    active, why = defender.protection(status, state.get("server"), running)
    policies = defender.policies_in_force(
        state.get("disabled_by_policy") or (), state.get("server")
    )
    if status is None and policies:
        active, why = False, [*why, *(f"turned off by policy {p}" for p in policies)]
    return {
        "active": active,
        "why": why,
        "mode": defender.running_mode((status or {}).get("am_running_mode")),
        "policies": policies,
    }


class FilterModule:
    def filters(self):
        return {"defender_protection": defender_protection}
