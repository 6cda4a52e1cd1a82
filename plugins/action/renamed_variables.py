# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""renamed_variables: deprecation warnings for role variables set under their old names,
and which of those values the role takes.

A role's defaults are plain values. Writing the fallback there ("{{ old | default(none) }}")
would not do: before 2.19 ansible-core renders a template whose value is None as "", so
every unset variable would look set. The role takes the old names' values with one
set_fact loop over what this returns instead (tasks/main.yml)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.avshift.remediation.plugins.plugin_utils import old_names

ARGUMENT_SPEC = {
    "variables": {"type": "list", "elements": "str"},
    "removed_in": {"type": "str", "default": old_names.REMOVED_IN},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        found = old_names.find(self._task, self._templar, task_vars or {}, args["variables"])
        result["changed"] = False
        result["variables"] = found.variables
        result["renamed"] = found.renamed
        result["take"] = found.take
        if found.renamed:
            result["deprecations"] = found.deprecations(args["removed_in"])
        return result
