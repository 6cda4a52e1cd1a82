# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""removal_plan: an av_scan result -> the ordered steps that remove what it found."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError
from ansible_collections.avshift.remediation.plugins.plugin_utils.removal import (
    PlanError,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.removal import (
    removal_plan as _removal_plan,
)

DOCUMENTATION = r"""
---
name: removal_plan
version_added: 0.1.0
short_description: Plan the removal of the disallowed software an av_scan result lists
description:
  - Turns the registered result of M(avshift.remediation.av_scan), run with
    O(avshift.remediation.av_scan#module:return_inventory=true), into an ordered list of
    removal steps, one per disallowed finding, followed by one step per vendor whose
    paths were left without any software (residue).
  - Pure Python on the controller; it never touches a host. The
    C(avshift.remediation.uninstall) role runs the steps.
  - Order follows the catalogue's C(removal_order) of each product's role, so an
    endpoint product is removed before the agent that manages it (Kaspersky Endpoint
    Security before the Network Agent). A catalogue role missing from that list goes
    first. Software attributed by its publisher alone (product C(other)) goes after every
    known product except management agents, which stay until the end so the host remains
    under management while anything else of the vendor is removed. Ties keep the scan's
    order; residue comes last.
  - Linux steps list the packages to purge by the database they came from (dpkg, rpm).
    Windows steps give one command per matching uninstall-registry entry
    C(msiexec.exe /x {ProductCode} /qn /norestart) with the product code found on the
    host, plus the catalogue's C(uninstall_properties) for password-protected products.
    An entry without an MSI product code runs its QuietUninstallString, split by the
    Windows rules, or is marked C(manual) with the reason when that cannot be done
    safely.
  - Without O(passwords), property values are masked as C(********), so the plan can be
    shown and kept as evidence. With O(passwords), products that have credentials get
    them (masked again with O(mask=true)); protected products without credentials run
    msiexec without them and are marked C(needs_password). The plan never contains a
    password unless O(passwords) were given and O(mask) is false; error messages never
    contain one.
  - Only paths that the catalogue lists for the finding's vendor are planned for
    removal; any other path fails the filter.
  - Some steps are held, not carried out, and say why in C(hold) and C(hold_reason); they
    keep their place in the plan, so that the plan shows them. C(refused) means the
    catalogue never removes the product's role (its C(removal_refused); a Kaspersky
    Security Center Administration Server manages other hosts and holds their keys and
    policies), or that it is the management agent such a server runs on its own host.
    C(confirm) means every piece of its evidence is a catalogue name no source confirms,
    and O(confirmed) does not list it. The roles refuse a host whose plan holds a step,
    before changing anything.
positional: _input
options:
  _input:
    description: The registered av_scan result, with its C(inventory).
    type: dict
    required: true
  passwords:
    description:
      - Catalogue product id -> C({login, password}), for example
        C(kes_windows) (C(KLLOGIN)/C(KLPASSWD)) and C(klnagent) (C(KLUNINSTPASSWD), sent
        hex-encoded as UTF-16LE). Keep them in Ansible Vault and use the result only in
        C(no_log) tasks.
      - An unknown product id, a missing password, or a login missing where the product
        needs one fails the filter. Values with blanks or double quotes are refused, as
        msiexec parses its own command line and cannot receive them intact.
    type: dict
  mask:
    description: Mask the credentials of O(passwords) as C(********) in the result.
    type: bool
    default: false
  confirmed:
    description:
      - Findings an operator has checked, as C(vendor/product) (C(kaspersky/klms),
        C(kaspersky/other), C(kaspersky/residue)). A finding whose every piece of evidence
        is a name no source confirms is held (C(hold=confirm)) unless it is listed here.
      - An entry that names no catalogue vendor and product fails the filter.
    type: list
    elements: str
  role:
    description:
      - The role whose variables the plan's notes and messages name
        (C(avshift_<role>_passwords), C(avshift_<role>_remove_residue)).
    type: str
    choices: [uninstall, remediate]
    default: uninstall
  remove_residue:
    description:
      - Whether the run deletes the paths the products leave behind; the summary then
        says C(delete <paths>) or C(leave <paths>). Null names the variable that decides.
    type: bool
notes:
  - C(msiexec) exit codes 0, 1605 (already gone), 1641 and 3010 (reboot) count as done;
    1618 (another installation running) is tried again and 1641 waited out; 1603 on a
    protected product names the missing (or a wrong) password as a likely cause. Each
    Windows command carries these tables (C(exit_codes), C(reboot_exit_codes),
    C(busy_exit_codes), C(restart_exit_codes), C(failure_messages)) and the properties
    whose values its log masks (C(masked_properties)), so callers need no rules of their
    own.
seealso:
  - module: avshift.remediation.av_scan
author:
  - avshift maintainers (@avshift)
"""

EXAMPLES = r"""
- name: Scan, keeping the raw inventory the planner needs
  avshift.remediation.av_scan:
    return_inventory: true
  register: scan

- name: Show what would be removed, in order (passwords masked)
  ansible.builtin.debug:
    msg: "{{ scan | avshift.remediation.removal_plan }}"

- name: Run the Windows uninstall commands with the real passwords
  ansible.windows.win_command:
    argv: "{{ item.argv }}"
  loop: >-
    {{ scan | avshift.remediation.removal_plan(passwords=avshift_uninstall_passwords)
       | map(attribute='windows') | flatten | rejectattr('manual') }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The removal steps, first to run first.
  type: list
  elements: dict
  contains:
    vendor:
      description: Vendor id.
      type: str
    product:
      description: Catalogue product id, C(other) (publisher only) or C(residue).
      type: str
    name:
      description: The name the scan found the software under.
      type: str
    os_family:
      description: C(linux) or C(windows).
      type: str
    role:
      description: The product's catalogue role, C(other) or C(residue).
      type: str
    residue:
      description: True for a step that only removes paths left without software.
      type: bool
    services:
      description: Services to stop (and disable) first.
      type: list
      elements: str
    processes:
      description: Processes that must be gone afterwards.
      type: list
      elements: str
    drivers:
      description: Drivers or Linux kernel modules of the product.
      type: list
      elements: str
    packages:
      description: Linux package names to purge; on Windows the uninstall entries' names.
      type: list
      elements: str
    packages_by_source:
      description: Linux packages by the database they came from (C(dpkg), C(rpm)).
      type: dict
    windows:
      description:
        - One uninstall command per uninstall-registry entry, with C(display_name),
          C(product_code), C(registry_key), C(argv) (null when C(manual)), C(manual),
          C(reason), C(exit_codes) (exit code -> meaning, all of them done),
          C(reboot_exit_codes) and C(failure_messages) (exit code or C(other) -> message,
          C({rc}) standing for the code).
      type: list
      elements: dict
    protected:
      description: The product takes uninstall properties (a password) in the catalogue.
      type: bool
    needs_password:
      description: Protected, and no credentials were given for it.
      type: bool
    paths:
      description: Catalogue paths of the vendor found on the host (residue to remove).
      type: list
      elements: str
    hold:
      description:
        - Null for a step to carry out; C(refused) or C(confirm) for one the roles must
          not carry out (see the description).
      type: str
    hold_reason:
      description: Why the step is held, in words; null when it is not.
      type: str
    notes:
      description: What the operator should know about this step.
      type: list
      elements: str
  sample:
    - vendor: kaspersky
      product: kes_windows
      name: Kaspersky Endpoint Security for Windows
      os_family: windows
      role: antivirus
      residue: false
      services: [AVP]
      processes: [avp.exe, avpui.exe]
      drivers: [klif, klim]
      packages: [Kaspersky Endpoint Security for Windows]
      packages_by_source: {}
      windows:
        - display_name: Kaspersky Endpoint Security for Windows
          product_code: "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}"
          argv: [msiexec.exe, /x, "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}", /qn, /norestart,
                 KLLOGIN=********, KLPASSWD=********]
          manual: false
      protected: true
      needs_password: true
      paths: ["C:\\Program Files (x86)\\Kaspersky Lab"]
      hold: null
      hold_reason: null
      notes: []
"""


def removal_plan(
    scan, passwords=None, mask=False, confirmed=None, role="uninstall", remove_residue=None
):
    try:
        return _removal_plan(
            scan,
            passwords=passwords,
            mask=bool(mask),
            confirmed=confirmed,
            role=role,
            remove_residue=None if remove_residue is None else bool(remove_residue),
        )
    except (PlanError, InputError) as exc:
        raise AnsibleFilterError(f"removal_plan: {exc}") from None


class FilterModule:
    def filters(self):
        return {"removal_plan": removal_plan}
