# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""renamed_variables: deprecation warnings for role variables set under their old names."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

PREFIX = "avshift_"
ARGUMENT_SPEC = {
    "variables": {"type": "list", "elements": "str"},
    "removed_in": {"type": "str", "default": "0.3.0"},
}


def _role_variables(task) -> list[str]:
    """The options of the calling role's main entry point: its argument spec is the one
    list of a role's public variables."""
    role = getattr(task, "_role", None)
    if role is None:
        raise AnsibleActionFail("renamed_variables: give variables, or call it from a role")
    path = os.path.join(role._role_path, "meta", "argument_specs.yml")
    with open(path, encoding="utf-8") as stream:
        specs = yaml.safe_load(stream)["argument_specs"]
    return list(specs["main"].get("options") or {})


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        task_vars = task_vars or {}
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        variables = args["variables"] or _role_variables(self._task)
        renamed = {
            name[len(PREFIX) :]: name
            for name in variables
            if name.startswith(PREFIX) and name[len(PREFIX) :] in task_vars
        }
        result["changed"] = False
        result["variables"] = variables
        result["renamed"] = renamed
        if renamed:
            result["deprecations"] = [
                {
                    "msg": f"the variable {old} is deprecated: set {new} instead",
                    "version": args["removed_in"],
                    "collection_name": "avshift.remediation",
                }
                for old, new in sorted(renamed.items())
            ]
        return result
