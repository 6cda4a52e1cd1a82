#!/usr/bin/python
# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: renamed_variables
short_description: Warn about role variables set under their old, deprecated names
version_added: 0.2.0
description:
  - Runs on the controller only and changes nothing. Each of the collection's roles calls
    it first. For every public variable it names (C(avshift_<role>_...)), a value set
    under the name before 0.2.0 (the same name without the C(avshift_) prefix) is still
    used, and this task says so as a deprecation warning.
  - It returns in RV(take) the old names whose values the role takes, those whose new
    name still has the role's default (C(defaults/main.yml)) or, outside a role, is not
    set. The role sets them with M(ansible.builtin.set_fact).
  - The old names were generic verbs (C(install_timeout), C(audit_policy)) that collide in
    a site's shared group_vars.
options:
  variables:
    description:
      - The public variable names, with their C(avshift_) prefix.
      - Defaults to the options of the calling role's C(main) entry point
        (C(meta/argument_specs.yml)), the one list of a role's public variables.
    type: list
    elements: str
  removed_in:
    description: The collection version that drops the old names.
    type: str
    default: 0.3.0
attributes:
  check_mode:
    support: full
    description: Changes nothing, so it runs the same in check mode.
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
- name: Warn about this role's variables set under their old names
  avshift.remediation.renamed_variables:

- name: Warn about some variables set under their old names
  avshift.remediation.renamed_variables:
    variables: [avshift_install_vendor, avshift_install_timeout]
"""

RETURN = r"""
variables:
  description: The public variable names checked (the role's own by default).
  returned: success
  type: list
  elements: str
  sample: [avshift_install_vendor, avshift_install_timeout]
renamed:
  description: Old name -> new name, for each old name that is set.
  returned: success
  type: dict
  sample: {install_timeout: avshift_install_timeout}
take:
  description: New name -> old name, for each old name whose value the role takes.
  returned: success
  type: dict
  sample: {avshift_install_timeout: install_timeout}
"""
