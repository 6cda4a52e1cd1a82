"""Role variables start with avshift_; their names before 0.2.0 still work, with a warning."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from packaging_support import BIN, ROOT, quiet_env

ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if path.is_dir())


def _specs(role: str) -> dict:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return specs["argument_specs"]["main"]["options"]


def _options(role: str) -> list[str]:
    return list(_specs(role))


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_is_prefixed_and_reads_its_old_name(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    for name, spec in _specs(role).items():
        assert name.startswith(f"avshift_{role}_"), name
        if str(spec.get("version_added")) == "0.2.0":
            continue  # new in the release that renamed the others: it had no old name
        old = name.removeprefix("avshift_")
        assert re.match(rf"^{{{{ {old} \| default\(", str(defaults[name]).strip()), (
            f"roles/{role}/defaults/main.yml: {name} does not fall back to {old}"
        )


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
            found += [name for name in node[key] if name != "cacheable"]
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
def test_every_role_warns_about_old_names_first(role):
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    assert "avshift.remediation.renamed_variables" in tasks[0]


def test_an_old_name_still_works_and_says_it_is_deprecated(tmp_path):
    policy = ROOT / "tests" / "data" / "policies" / "strict.yml"
    reports = tmp_path / "reports"
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(ROOT / "inventories" / "local"),
            "-e",
            f"audit_policy={policy}",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(ROOT / "playbooks" / "audit.yml"),
        ],
        capture_output=True,
        text=True,
        env=quiet_env(
            ANSIBLE_CALLBACKS_ENABLED="avshift.remediation.fleet_report",
            AVSHIFT_REPORT_DIR=str(reports),
        ),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((reports / "report.json").read_text())
    assert report["run"]["policy"]["source"] == str(policy)
    output = " ".join((done.stdout + done.stderr).split())
    assert "the variable audit_policy is deprecated: set avshift_audit_policy instead" in output
