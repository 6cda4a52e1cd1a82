# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""installable: the approved products avshift can install on a kind of host."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    load_catalogue,
)

DOCUMENTATION = r"""
---
name: installable
version_added: 0.2.0
short_description: The products avshift can install on hosts of an OS family
description:
  - Lists, from the vendor catalogue, every product the C(avshift.remediation.install)
    role can install on hosts of an OS family, in catalogue order, with the install
    role's task file for it and the facts that task file needs.
  - The install role dispatches on it and the remediate role plans with it, so what
    avshift can install is written once, in the catalogue.
  - Pure Python on the controller.
positional: _input
options:
  _input:
    description:
      - The catalogue's OS family (C(linux), C(windows)), or what
        C(ansible_facts['system']) says on the host (C(Linux), C(Win32NT)), or C(any) for
        the products of every family.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The vendors avshift can install on this Linux host
  ansible.builtin.debug:
    msg: "{{ 'linux' | avshift.remediation.installable | map(attribute='vendor') | list }}"

- name: The installer of an approved vendor, from the host's own facts
  ansible.builtin.set_fact:
    installer: >-
      {{ ansible_facts['system'] | avshift.remediation.installable
         | selectattr('vendor', 'equalto', 'clamav') | first }}
"""

RETURN = r"""
_value:
  description: One entry per installable product.
  type: list
  elements: dict
  contains:
    os_family:
      description: The catalogue's OS family.
      type: str
    vendor:
      description: The vendor id, as policies name it.
      type: str
    product:
      description: The catalogue product id.
      type: str
    name:
      description: The product's name.
      type: str
    task_file:
      description: The install role's C(tasks/installers/<task_file>.yml).
      type: str
    before_removal:
      description: >-
        When it can be turned on while a disallowed product still runs: C(always),
        C(servers) (Windows servers, not clients), C(never).
      type: str
    facts:
      description: What the task file needs to know of the product (units, files).
      type: dict
  sample:
    - os_family: linux
      vendor: clamav
      product: clamav_linux
      name: ClamAV
      task_file: clamav
      before_removal: always
      facts: {}
"""


ANY = "any"


def installable(os_family):
    catalogue = load_catalogue()
    if os_family == ANY:
        families = list(catalogue.os_families.values())
    else:
        family = catalogue.os_families.get(os_family) or catalogue.family_of_system(os_family)
        if family is None:
            raise AnsibleFilterError(
                f"installable: {os_family!r} is neither an OS family of the catalogue "
                f"({', '.join(catalogue.os_families)}), nor a system one of them runs, nor {ANY}"
            )
        families = [family]
    return [
        {
            "os_family": product.os_family,
            "vendor": product.vendor,
            "product": product.id,
            "name": product.name,
            "task_file": product.installer.task_file,
            "before_removal": product.installer.before_removal,
            "facts": dict(product.installer.facts),
        }
        for family in families
        for product in catalogue.installable(family.id)
    ]


class FilterModule:
    def filters(self):
        return {"installable": installable}
