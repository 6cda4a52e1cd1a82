"""Role variables start with avshift_; their names before 0.2.0 still work, with a warning."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from packaging_support import ROOT, audit_locally

ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if path.is_dir())


def _specs(role: str) -> dict:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["options"]


def _options(role: str) -> list[str]:
    return list(_specs(role))


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_is_prefixed_and_defaults_to_a_plain_value(role):
    """A default that falls back to the old name ("{{ old | default(none) }}") renders as
    "" instead of null before ansible-core 2.19: tasks/main.yml takes the old names."""
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    for name in _specs(role):
        assert name.startswith(f"avshift_{role}_"), name
    templated = [name for name, value in defaults.items() if "{{" in str(value)]
    assert templated == [], f"roles/{role}/defaults/main.yml: templated defaults {templated}"


def _defined_names(node, found: list[str]) -> None:
    """Every variable name a role's task file defines: set_fact keys, registers, loop
    variables and task or block vars."""
    if isinstance(node, list):
        for item in node:
            _defined_names(item, found)
        return
    if not isinstance(node, dict):
        return
    for key in ("ansible.builtin.set_fact", "set_fact"):
        if isinstance(node.get(key), dict):
            # A templated key is tasks/main.yml's copy of old names into the role's own
            # public variables, which the argument spec lists (checked above).
            found += [name for name in node[key] if name != "cacheable" and "{{" not in name]
    if isinstance(node.get("register"), str):
        found.append(node["register"])
    if isinstance(node.get("loop_control"), dict) and "loop_var" in node["loop_control"]:
        found.append(node["loop_control"]["loop_var"])
    if isinstance(node.get("vars"), dict):
        found += list(node["vars"])
    for key in ("block", "rescue", "always"):
        _defined_names(node.get(key), found)


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_a_role_defines_carries_its_prefix(role):
    """What ansible-lint's var-naming[no-role-prefix] would check, with the collection's
    name in front (the rule is skipped in .ansible-lint for that reason)."""
    found: list[str] = []
    base = ROOT / "roles" / role
    for path in sorted((base / "tasks").rglob("*.yml")):
        _defined_names(yaml.safe_load(path.read_text()), found)
    for path in sorted((base / "vars").glob("*.yml")) if (base / "vars").is_dir() else ():
        found += list(yaml.safe_load(path.read_text()) or {})
    found += list(yaml.safe_load((base / "defaults" / "main.yml").read_text()) or {})
    # Another role's variables, passed when including it, are that role's to prefix.
    allowed = (f"avshift_{role}_", f"__{role}_", *(f"avshift_{r}_" for r in ROLES))
    assert [name for name in found if not name.startswith(allowed)] == []


@pytest.mark.parametrize("role", ROLES)
def test_every_role_warns_about_old_names_first_then_takes_their_values(role):
    tasks_dir = ROOT / "roles" / role / "tasks"
    tasks = yaml.safe_load((tasks_dir / "main.yml").read_text())
    included = tasks[0].get("ansible.builtin.include_tasks")
    if included:
        # The audit's: both run only where a variable is named like an old name (its
        # tasks/main.yml), a pattern that must match every one of them.
        [pattern] = re.findall(r"varnames', '([^']+)'", tasks[0]["when"])
        olds = [name[len("avshift_") :] for name in _options(role)]
        assert olds and all(re.match(pattern, old) for old in olds), (pattern, olds)
        assert not re.match(pattern, "avshift_audit_policy")
        tasks = yaml.safe_load((tasks_dir / included).read_text())
    assert "avshift.remediation.renamed_variables" in tasks[0]
    registered = tasks[0]["register"]
    taking = tasks[1]
    assert taking["loop"] == f"{{{{ {registered}.take | dict2items }}}}"
    assert taking["no_log"] is True


def test_an_old_name_still_works_and_says_it_is_deprecated(tmp_path):
    policy = ROOT / "tests" / "data" / "policies" / "strict.yml"
    reports = tmp_path / "reports"
    done = audit_locally(reports, f"audit_policy={policy}")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((reports / "report.json").read_text())
    assert report["run"]["policy"]["source"] == str(policy)
    output = " ".join((done.stdout + done.stderr).split())
    assert "the variable audit_policy is deprecated: set avshift_audit_policy instead" in output


def test_the_new_name_wins_over_the_old_one(tmp_path):
    policy = ROOT / "tests" / "data" / "policies" / "strict.yml"
    reports = tmp_path / "reports"
    done = audit_locally(
        reports, f"avshift_audit_policy={policy}", f"audit_policy={tmp_path / 'none.yml'}"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((reports / "report.json").read_text())
    assert report["run"]["policy"]["source"] == str(policy)


def test_a_value_under_an_old_name_is_checked_by_the_roles_argument_spec(tmp_path):
    done = audit_locally(tmp_path / "reports", "audit_fail_when_non_compliant=maybe")
    assert done.returncode != 0
    output = " ".join(done.stdout.split())
    assert (
        "values set under names before 0.2.0: argument 'avshift_audit_fail_when_non_compliant'"
        in output
    )
    assert "(given as audit_fail_when_non_compliant)" in output
