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


def _options(role: str) -> list[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return list(specs["argument_specs"]["main"]["options"])


@pytest.mark.parametrize("role", ROLES)
def test_every_public_variable_is_prefixed_and_reads_its_old_name(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    for name in _options(role):
        assert name.startswith(f"avshift_{role}_"), name
        old = name.removeprefix("avshift_")
        assert re.match(rf"^{{{{ {old} \| default\(", str(defaults[name]).strip()), (
            f"roles/{role}/defaults/main.yml: {name} does not fall back to {old}"
        )


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
