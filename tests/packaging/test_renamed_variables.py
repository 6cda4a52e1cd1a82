"""Role variables start with avshift_; their names before 0.2.0 still work, with a warning."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from packaging_support import BIN, ROOT, audit_locally, quiet_env

from ansible_collections.avshift.remediation.plugins.action import av_scan

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
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    scan = tasks[0].get("avshift.remediation.av_scan")
    if scan is not None:
        # The audit's one task: av_scan takes the old names itself, for options whose
        # role variables are its own options under the role's prefix, of the same
        # types and defaults (so the check of the scan's options is the role's).
        assert len(tasks) == 1 and scan["take_old_names"] is True
        prefix = f"avshift_{role}_"
        spec = av_scan.ARGUMENT_SPEC
        for name, option in _specs(role).items():
            own = spec[name[len(prefix) :]]
            assert option["type"] == own["type"], name
            assert option.get("default") == own.get("default"), name
            assert name in scan[name[len(prefix) :]], (name, scan)
        return
    assert "avshift.remediation.renamed_variables" in tasks[0]
    registered = tasks[0]["register"]
    taking = tasks[1]
    assert taking["loop"] == f"{{{{ {registered}.take | dict2items }}}}"
    assert taking["no_log"] is True


def test_the_audit_playbook_runs_one_task_per_host():
    """The scan checks the role's variables itself (above), so the playbook leaves out
    ansible-core's check: each task costs every host a worker process of the controller."""
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "--list-tasks",
            str(ROOT / "playbooks" / "audit.yml"),
        ],
        capture_output=True,
        text=True,
        env=quiet_env(),
        check=True,
    )
    listed = done.stdout.split("tasks:", 1)[1].strip().splitlines()
    assert [line.split("\t")[0].strip() for line in listed] == [
        "avshift.remediation.audit : Scan for disallowed and approved antivirus"
    ], done.stdout


def test_a_wrong_value_under_the_new_name_fails_the_audit_before_the_scan(tmp_path):
    reports = tmp_path / "reports"
    done = audit_locally(reports, "avshift_audit_fail_when_non_compliant=maybe")
    assert done.returncode != 0
    output = " ".join(done.stdout.split())
    assert "argument 'fail_when_non_compliant' is of type" in output, output[-2000:]
    assert "The value 'maybe' is not a valid boolean" in output
    report = json.loads((reports / "report.json").read_text())
    # Refused before the collector ran: the host is not reported compliant.
    assert [host["status"] for host in report["hosts"]] != ["compliant"]


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
