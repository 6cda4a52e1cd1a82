# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""renamed_variables: deprecation warnings for role variables set under their old names,
and which of those values the role takes.

A role's defaults are plain values. Writing the fallback there ("{{ old | default(none) }}")
would not do: before 2.19 ansible-core renders a template whose value is None as "", so
every unset variable would look set. The role takes the old names' values with one
set_fact loop over what this returns instead (tasks/main.yml)."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

PREFIX = "avshift_"
ARGUMENT_SPEC = {
    "variables": {"type": "list", "elements": "str"},
    "removed_in": {"type": "str", "default": "0.3.0"},
}


def _role_file(task, *parts: str):
    role = getattr(task, "_role", None)
    if role is None:
        return None
    path = os.path.join(role._role_path, *parts)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def _role_options(task) -> dict | None:
    """The options of the calling role's main entry point: its argument spec is the one
    list of a role's public variables."""
    specs = _role_file(task, "meta", "argument_specs.yml")
    if specs is None:
        return None
    return specs["argument_specs"]["main"].get("options") or {}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def _check_taken(self, take: dict, options: dict, task_vars: dict) -> None:
        """The role's argument spec checked its variables before this task ran, so the
        values it takes from old names are checked here, against the same spec."""
        spec = {new: options[new] for new in take if new in options}
        if not spec:
            return
        values = {new: self._templar.template(task_vars[take[new]]) for new in spec}
        errors = ArgumentSpecValidator(spec).validate(values).error_messages
        if errors:
            raise AnsibleActionFail(
                "values set under names before 0.2.0: "
                + "; ".join(errors)
                + f" (given as {', '.join(sorted(take[new] for new in spec))})"
            )

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        task_vars = task_vars or {}
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        options = _role_options(self._task)
        if not args["variables"] and options is None:
            raise AnsibleActionFail("renamed_variables: give variables, or call it from a role")
        variables = args["variables"] or list(options)
        renamed = {
            name[len(PREFIX) :]: name
            for name in variables
            if name.startswith(PREFIX) and name[len(PREFIX) :] in task_vars
        }
        # An old name's value is taken while the new name still has the role's default
        # (or, outside a role, is not set at all): a value given under the new name wins.
        defaults = _role_file(self._task, "defaults", "main.yml") or {}
        take = {}
        for old, new in renamed.items():
            if new not in task_vars or self._templar.template(task_vars[new]) == defaults.get(new):
                take[new] = old
        self._check_taken(take, options or {}, task_vars)
        result["changed"] = False
        result["variables"] = variables
        result["renamed"] = renamed
        result["take"] = take
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
