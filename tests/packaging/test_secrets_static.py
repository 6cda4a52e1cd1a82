"""The collection's secret variables: one list (contract.SECRET_VARIABLES), every role's
argument spec marks them no_log, and no task that handles one logs it.

Static, over the roles' own files, so that a `no_log: false` slipped onto the onboarding
JSON's task fails at once; the leak tests then look for the values in every byte a run
writes.
"""

from __future__ import annotations

import re

import pytest
import yaml
from packaging_support import ROOT

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    SECRET_VARIABLES,
    secret_variables,
)

# The words that name a secret (the rule); a variable named so is on the list.
SECRET_NAME = re.compile(r"(?i)(pass(word|wd)?|secret|token|onboarding|credential|key)")
ROLES = sorted(path for path in (ROOT / "roles").iterdir() if path.is_dir())
# Tasks that may name a secret without showing its value: an assert shows its condition
# as written, and an include hands variables to tasks that are checked themselves.
SHOWS_NO_VALUE = {
    "ansible.builtin.assert",
    "ansible.builtin.include_role",
    "ansible.builtin.include_tasks",
    "ansible.builtin.import_role",
    "ansible.builtin.import_tasks",
}
TASK_KEYWORDS = {"name", "when", "tags", "register", "loop_control", "notify", "vars"}


def _options(role) -> dict:
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"][
        "main"
    ]["options"]


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_every_variable_named_like_a_secret_is_on_the_list_and_no_log(role):
    for name, spec in _options(role).items():
        if SECRET_NAME.search(name):
            assert name in SECRET_VARIABLES, f"{role.name}: {name} is not in SECRET_VARIABLES"
        if name in SECRET_VARIABLES:
            assert spec.get("no_log") is True, f"{role.name}: {name} is not no_log"


def test_every_listed_role_variable_is_an_option_of_some_role():
    options = {name for role in ROLES for name in _options(role)}
    listed = {name for name in SECRET_VARIABLES if name.startswith("avshift_")}
    assert listed <= options, listed - options


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if any(key in node for key in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                yield from _tasks(node.get(key))
        else:
            yield node


def _module(task: dict) -> str:
    return next(key for key in task if key not in TASK_KEYWORDS and not key.startswith("no_"))


def _secret_tasks():
    names = re.compile(r"\b(" + "|".join(map(re.escape, secret_variables())) + r")\b")
    for role in ROLES:
        for path in sorted((role / "tasks").rglob("*.yml")):
            for task in _tasks(yaml.safe_load(path.read_text())):
                module = _module(task)
                # Conditions are evaluated, never shown with the values they read.
                conditions = ("name", "when", "until", "failed_when", "changed_when")
                body = {k: v for k, v in task.items() if k not in conditions}
                if names.search(yaml.safe_dump(body)) and module not in SHOWS_NO_VALUE:
                    yield pytest.param(task, id=f"{path.relative_to(ROOT)}:{task.get('name')}")


@pytest.mark.parametrize("task", list(_secret_tasks()))
def test_every_task_that_handles_a_secret_logs_nothing(task):
    assert task.get("no_log") is True or "protected" in str(task.get("no_log")), task


def test_the_static_check_finds_the_tasks_it_is_meant_to():
    # The onboarding file's task, the passwords' planning and the repository tasks at least.
    found = {param.id.split(":", 1)[1] for param in _secret_tasks()}
    assert {
        "MDE | put the onboarding file in place",
        "Uninstall | plan the removal, credentials masked",
        "MDE | add the mdatp repository (dnf)",
    } <= found
