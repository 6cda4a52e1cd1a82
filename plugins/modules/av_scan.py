#!/usr/bin/python
# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: av_scan
short_description: Find disallowed and approved antivirus on a Linux or Windows host
version_added: 0.1.0
description:
  - Collects a raw inventory of security software on the host in one remote module run
    (packages or uninstall-registry entries, services, processes, drivers or kernel
    modules, vendor paths, and on Windows clients Security Center), then classifies it on
    the controller against the vendor catalogue and a policy.
  - Read-only. Needs no M(ansible.builtin.gather_facts) and no privilege escalation; what
    it could not read is listed in RV(warnings).
  - The task is an action plugin. On Linux it runs the Python collector in this file; on
    Windows (PowerShell shell) it runs C(av_scan.ps1).
  - A host whose collector fails is reported as failed, never as compliant.
options:
  policy:
    description:
      - The policy, as a path to a YAML file or as a mapping with keys
        C(disallowed_vendors) and C(approved) (C(linux), C(windows)).
      - Relative paths are looked up like other task files (role C(files/), playbook dir).
      - Defaults to the policy shipped in the collection (Kaspersky disallowed, ClamAV
        approved on Linux, Microsoft Defender on Windows).
    type: raw
  return_inventory:
    description: Also return the raw inventory the collector gathered.
    type: bool
    default: false
  fail_when_non_compliant:
    description:
      - Fail the task when the host is not compliant, after the scan. The verdict is in
        the task's result and the fleet report either way; Ansible sets no facts from a
        failed task, so C(ansible_facts.avshift_scan) then stays unset.
    type: bool
    default: false
  take_old_names:
    description:
      - Inside a role whose variables are these options under the role's prefix (the
        audit role's C(avshift_audit_policy) gives O(policy)), take the values set under
        their names before 0.2.0 (C(audit_policy)) while the new names have the role's
        defaults, and say so as a deprecation warning. The old names go in 0.3.0.
      - The audit role's one task sets it, so the audit stays one task per host.
    type: bool
    default: false
  paths:
    description:
      - Internal; the action plugin passes the catalogue's paths for the host's OS family.
    type: list
    elements: str
    default: []
  protection:
    description:
      - Internal; the action plugin passes the catalogue's protection probes for the
        host's OS family, one per product whose signature time and real-time protection
        the collector reads.
      - A product found on the host gets an entry in the inventory's C(protection) list;
        a product whose files or command are absent gets none.
    type: list
    elements: dict
    default: []
    suboptions:
      product:
        description: The catalogue's product id, copied into the entry.
        type: str
        required: true
      probe:
        description:
          - How the product is read. V(clamav) reads the database headers in the
            C(DatabaseDirectory) of the first existing O(protection[].clamd_configs) and
            looks for O(protection[].on_access_process); V(mdatp) runs
            C(<command> health --output json) once.
        type: str
        required: true
        choices: [clamav, mdatp]
      clamd_configs:
        description: C(clamav) only. clamd configuration files, the first that exists is read.
        type: list
        elements: str
      database_dirs:
        description:
          - C(clamav) only. Database directories clamd uses when its configuration names
            none; the first that exists is read.
        type: list
        elements: str
      on_access_process:
        description:
          - C(clamav) only. The process whose running means on-access scanning is on.
          - Defaults to C(clamonacc).
        type: str
      extensions:
        description:
          - C(clamav) only. The file name extensions of signature databases.
          - Defaults to libclamav's list, the one the install role copies by.
        type: list
        elements: str
      command:
        description:
          - C(mdatp) only. The mdatp command; its presence means the product is on the host.
          - Defaults to C(/usr/bin/mdatp).
        type: str
  unit_file_patterns:
    description:
      - Internal; the action plugin passes systemd globs of the catalogue's service names
        for the host's OS family. Installed services that are not loaded are listed only
        when their unit file matches one; loaded services are all listed.
      - Not given, every unit file is listed, which makes systemd work out each one's
        enablement state (over a second on a host with a few hundred).
    type: list
    elements: str
  python_floor:
    description:
      - Internal; the action plugin passes the oldest host Python the collector
        supports under the controller's ansible-core, as C([major, minor]). An older
        Python fails the scan saying what to install, instead of collecting.
    type: list
    elements: int
attributes:
  check_mode:
    support: full
    description: The scan is read-only, so check mode changes nothing.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: [posix, windows]
    description: Linux (dpkg and/or rpm, systemd or SysV) and Windows.
author:
  - avshift maintainers (@avshift)
"""

EXAMPLES = r"""
- name: Scan the host with the shipped policy
  avshift.remediation.av_scan:
  register: scan

- name: Scan with a policy that also disallows Doctor Web
  avshift.remediation.av_scan:
    policy:
      disallowed_vendors: [kaspersky, drweb]
      approved:
        linux: [clamav]
        windows: [microsoft]

- name: Fail when the host is not compliant
  ansible.builtin.assert:
    that: ansible_facts.avshift_scan.compliant
    fail_msg: "{{ ansible_facts.avshift_scan.disallowed | map(attribute='name') | list }}"
"""

RETURN = r"""
compliant:
  description: True when no disallowed software was found and an approved product is active.
  returned: success
  type: bool
  sample: false
disallowed:
  description: Software of disallowed vendors, one entry per product.
  returned: success
  type: list
  elements: dict
  sample:
    - vendor: kaspersky
      product: kesl
      name: kesl
      evidence:
        - {kind: package, value: kesl}
        - {kind: service, value: kesl}
approved:
  description: Software of approved vendors; C(active) tells whether it protects the host.
  returned: success
  type: list
  elements: dict
  sample:
    - vendor: clamav
      product: clamav_linux
      name: clamav-daemon
      active: true
      evidence: [{kind: package, value: clamav-daemon}]
other:
  description: Security software of vendors neither disallowed nor approved.
  returned: success
  type: list
  elements: dict
  sample: []
residue:
  description: Disallowed vendors' paths found without any installed software.
  returned: success
  type: list
  elements: dict
  sample:
    - vendor: kaspersky
      evidence: [{kind: path, value: /var/opt/kaspersky}]
ansible_facts:
  description: The same verdict as C(avshift_scan).
  returned: success
  type: dict
  sample: {avshift_scan: {compliant: false}}
inventory:
  description: The raw inventory (schema 1), when O(return_inventory=true).
  returned: when requested
  type: dict
  sample:
    schema: 1
    os_family: linux
    collected_at: "2026-12-02T07:45:12+00:00"
    packages: [{name: kesl, source: dpkg}]
    protection:
      - product: clamav_linux
        signatures_updated: "2026-12-01T09:10:00+00:00"
        signatures_basis: database-header
        signatures_version: daily 27480
        real_time: false
        healthy: null
        detail: null
warnings:
  description: What the collector could not read.
  returned: when any
  type: list
  elements: str
  sample: ["executable paths of 3 processes are unreadable without root"]
"""

import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.avshift.remediation.plugins.module_utils.linux_inventory import (
    PROBES,
    collect,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "str", "default": []},
            "policy": {"type": "raw"},
            "return_inventory": {"type": "bool", "default": False},
            "fail_when_non_compliant": {"type": "bool", "default": False},
            "take_old_names": {"type": "bool", "default": False},
            "python_floor": {"type": "list", "elements": "int"},
            "unit_file_patterns": {"type": "list", "elements": "str"},
            "protection": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "product": {"type": "str", "required": True},
                    "probe": {"type": "str", "required": True, "choices": list(PROBES)},
                    "clamd_configs": {"type": "list", "elements": "str"},
                    "database_dirs": {"type": "list", "elements": "str"},
                    "on_access_process": {"type": "str"},
                    "extensions": {"type": "list", "elements": "str"},
                    "command": {"type": "str"},
                },
            },
        },
        supports_check_mode=True,
    )
    floor = tuple(module.params["python_floor"] or ())
    if floor and sys.version_info[: len(floor)] < floor:
        # ansible-core 2.16 still runs modules on Python 2.7, which the collector does
        # not support: this file and ansible-core's wrapper stay readable by it.
        module.fail_json(
            msg="{0} on this host is Python {1}: the collector needs Python {2} or newer; "
            "install it, or set ansible_python_interpreter to it".format(
                sys.executable,
                ".".join(str(part) for part in sys.version_info[:3]),
                ".".join(str(part) for part in floor),
            )
        )

    def run_command(argv):
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    inventory, warnings, error = collect(
        run_command,
        module.get_bin_path,
        module.params["paths"],
        protection=module.params["protection"],
        unit_file_patterns=module.params["unit_file_patterns"],
    )
    for warning in warnings:
        module.warn(warning)
    for part in inventory["unreadable"]:
        module.warn("av_scan could not read {0}: {1}".format(part["part"], part["reason"]))
    if error:
        module.fail_json(msg="cannot read this host's inventory: " + error)
    module.exit_json(changed=False, inventory=inventory)


if __name__ == "__main__":
    main()
