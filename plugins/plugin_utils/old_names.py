# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables set under their names before 0.2.0 (avshift_audit_X was audit_X): which
are set, which values a role takes from them, and the deprecation warnings to return.

The renamed_variables action gives a role the values to set with set_fact; av_scan with
take_old_names uses them as its options itself, so the audit stays one task per host."""

from __future__ import annotations

import os
from dataclasses import dataclass

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

PREFIX = "avshift_"
REMOVED_IN = "0.3.0"


def _role_file(task, *parts: str):
    role = getattr(task, "_role", None)
    if role is None:
        return None
    path = os.path.join(role._role_path, *parts)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def role_options(task) -> dict | None:
    """The options of the calling role's main entry point: its argument spec is the one
    list of a role's public variables. None outside a role."""
    specs = _role_file(task, "meta", "argument_specs.yml")
    if specs is None:
        return None
    return specs["argument_specs"]["main"].get("options") or {}


def role_prefix(task) -> str | None:
    """The prefix of the calling role's public variables (avshift_audit_), None outside a
    role."""
    role = getattr(task, "_role", None)
    if role is None:
        return None
    return f"{PREFIX}{os.path.basename(role._role_path)}_"


@dataclass(frozen=True)
class OldNames:
    variables: list[str]
    # Old name -> new name, for each old name that is set.
    renamed: dict[str, str]
    # New name -> old name, for each old name whose value is taken.
    take: dict[str, str]
    # New name -> the value taken, checked and converted by the role's argument spec.
    values: dict

    def deprecations(self, removed_in: str = REMOVED_IN) -> list[dict]:
        return [
            {
                "msg": f"the variable {old} is deprecated: set {new} instead",
                "version": removed_in,
                "collection_name": "avshift.remediation",
            }
            for old, new in sorted(self.renamed.items())
        ]


def _checked(take: dict, options: dict, values: dict) -> dict:
    """ansible-core checks a role's variables against its argument spec before its tasks
    run; the values taken from old names are checked here, against the same spec."""
    spec = {new: options[new] for new in take if new in options}
    if not spec:
        return values
    checked = ArgumentSpecValidator(spec).validate({new: values[new] for new in spec})
    if checked.error_messages:
        raise AnsibleActionFail(
            "values set under names before 0.2.0: "
            + "; ".join(checked.error_messages)
            + f" (given as {', '.join(sorted(take[new] for new in spec))})"
        )
    return {**values, **checked.validated_parameters}


def find(task, templar, task_vars: dict, variables: list[str] | None = None) -> OldNames:
    """The old names of `variables` (the calling role's public variables by default).

    An old name's value is taken while the new name still has the role's default (or,
    outside a role, is not set at all): a value given under the new name wins."""
    options = role_options(task)
    if not variables and options is None:
        raise AnsibleActionFail("renamed_variables: give variables, or call it from a role")
    variables = list(variables or options)
    renamed = {
        name[len(PREFIX) :]: name
        for name in variables
        if name.startswith(PREFIX) and name[len(PREFIX) :] in task_vars
    }
    defaults = _role_file(task, "defaults", "main.yml") or {}
    take = {}
    for old, new in renamed.items():
        if new not in task_vars or templar.template(task_vars[new]) == defaults.get(new):
            take[new] = old
    values = {new: templar.template(task_vars[old]) for new, old in take.items()}
    values = _checked(take, options or {}, values)
    return OldNames(variables=variables, renamed=renamed, take=take, values=values)
