# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mask_credentials: a product's uninstall credentials masked out of text a host sent."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.avshift.remediation.plugins.plugin_utils import removal

DOCUMENTATION = r"""
---
name: mask_credentials
version_added: 0.2.0
short_description: Mask a product's uninstall credentials in text a host sent back
description:
  - Replaces every login and password of one catalogue product, as given in the
    uninstall role's passwords, with C(********), both as written and in the UTF-16LE hex
    form the Kaspersky Network Agent takes (C(plugin_utils/removal.py), the planner's
    own masking).
  - For text such as the end of a verbose msiexec log, which the host already masks by
    property name; this catches what that missed. Use it in a C(no_log) task or on text
    that is shown only afterwards.
positional: _input, passwords, product
options:
  _input:
    description: The text.
    type: str
    required: true
  passwords:
    description: Catalogue product id -> C({login, password}), as the uninstall role takes them.
    type: dict
    required: true
  product:
    description: The catalogue product id whose credentials are masked.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Show the end of a failed uninstall's log
  ansible.builtin.debug:
    msg: "{{ tail | join(' | ') | avshift.remediation.mask_credentials(passwords, 'kes_windows') }}"
"""

RETURN = r"""
_value:
  description: The text with the credentials masked.
  type: str
"""


def mask_credentials(text, passwords, product):
    if not isinstance(text, str):
        raise AnsibleFilterError(f"mask_credentials expects text, got {type(text).__name__}")
    if passwords is not None and not isinstance(passwords, dict):
        raise AnsibleFilterError("mask_credentials expects the passwords as a mapping")
    return removal.mask_credentials(text, passwords, str(product))


class FilterModule:
    def filters(self):
        return {"mask_credentials": mask_credentials}
