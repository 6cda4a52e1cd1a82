# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which OS family a connection reaches, and running that family's side of a module.

The collection's modules come as one file per family (av_scan.py, av_scan.ps1, ...); the
catalogue's os_families say which suffix a family's hosts run and which connection
shells reach them. Action plugins use this to pick the file.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    Catalogue,
    OsFamily,
)


def families_of(action, catalogue: Catalogue) -> list[OsFamily]:
    """The catalogue's OS families a host behind the action's connection can be."""
    shell = getattr(getattr(action, "_connection", None), "_shell", None)
    shell_family = getattr(shell, "SHELL_FAMILY", "")
    families = catalogue.family_of_shell(shell_family)
    if not families:
        raise AnsibleActionFail(
            f"no OS family of the catalogue is reached through a {shell_family or 'unknown'!r} "
            "shell"
        )
    return families


def execute(action, module_name: str, family: OsFamily, module_args: dict, task_vars) -> dict:
    """Run the family's own file of a module: POSIX connections accept any suffix, and
    the plugin loader would take whichever file it lists first."""
    connection = action._connection
    preferences = connection.module_implementation_preferences
    connection.module_implementation_preferences = (family.module_suffix,)
    try:
        return action._execute_module(
            module_name=module_name, module_args=module_args, task_vars=task_vars
        )
    finally:
        connection.module_implementation_preferences = preferences
