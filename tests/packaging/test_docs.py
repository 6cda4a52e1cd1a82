"""ansible-doc documents every plugin and role; roles refuse wrong variables at once.

Plugins and roles are discovered from the collection's directories, so one added later
is covered without touching this file.
"""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest
from packaging_support import BIN, ROOT, quiet_env

COLLECTION = "avshift.remediation"
PLUGINS = ROOT / "plugins"
ROLES = sorted(path for path in (ROOT / "roles").iterdir() if path.is_dir())


def _stems(directory: Path, *suffixes: str) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(
        {
            path.stem
            for path in directory.iterdir()
            if path.suffix in suffixes and not path.name.startswith("_")
        }
    )


def _filter_names() -> list[str]:
    """Names each plugins/filter/*.py returns from FilterModule.filters()."""
    names = []
    for path in sorted((PLUGINS / "filter").glob("*.py")) if (PLUGINS / "filter").is_dir() else []:
        module = ast.parse(path.read_text(), filename=str(path))
        returned = [
            node.value
            for node in ast.walk(module)
            if isinstance(node, ast.FunctionDef) and node.name == "filters"
            for node in ast.walk(node)
            if isinstance(node, ast.Return)
        ]
        keys = [
            key.value
            for value in returned
            if isinstance(value, ast.Dict)
            for key in value.keys
            if isinstance(key, ast.Constant)
        ]
        assert keys, f"{path}: filters() must return a literal dict for the docs test to list"
        names.extend(keys)
    return sorted(names)


# Modules (Python and PowerShell) and action plugins, which ansible-doc documents by the
# module of the same name.
MODULES = sorted({*_stems(PLUGINS / "modules", ".py", ".ps1"), *_stems(PLUGINS / "action", ".py")})
CALLBACKS = _stems(PLUGINS / "callback", ".py")
FILTERS = _filter_names()
DOCUMENTED_ROLES = [role.name for role in ROLES if (role / "meta/argument_specs.yml").is_file()]


def _ansible_doc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "ansible-doc"), *args],
        capture_output=True,
        text=True,
        env=quiet_env(),
        check=False,
    )


def _warnings(stderr: str) -> list[str]:
    """ansible-doc's warnings, less ansible-core's own about its internal collections."""
    return [
        line
        for line in stderr.splitlines()
        if "WARNING" in line and "/ansible/_internal/ansible_collections/" not in line
    ]


def _assert_documented(plugin_type: str, name: str) -> dict:
    """ansible-doc shows the plugin or role cleanly; returns its JSON documentation."""
    fqcn = f"{COLLECTION}.{name}"
    shown = _ansible_doc("-t", plugin_type, fqcn)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert _warnings(shown.stderr) == [], shown.stderr
    assert "ERROR" not in shown.stderr, shown.stderr
    assert fqcn in shown.stdout
    as_json = _ansible_doc("-t", plugin_type, "--json", fqcn)
    assert as_json.returncode == 0, as_json.stderr
    entry = json.loads(as_json.stdout)[fqcn]
    # Roles are documented per entry point, plugins in one "doc" block.
    docs = entry["entry_points"].values() if plugin_type == "role" else [entry["doc"]]
    for doc in docs:
        assert doc.get("short_description"), f"{fqcn} has no short_description"
        assert doc.get("description"), f"{fqcn} has no description"
        for option, spec in (doc.get("options") or {}).items():
            assert spec.get("description"), f"{fqcn}: option {option} has no description"
    return entry


def test_discovery_found_the_known_plugins_and_roles():
    assert {"av_scan", "change_window", "evidence"} <= set(MODULES)
    assert "fleet_report" in CALLBACKS
    assert {"audit", "remediate"} <= {role.name for role in ROLES}


@pytest.mark.parametrize("name", MODULES)
def test_module_is_documented_with_examples_and_return_values(name):
    entry = _assert_documented("module", name)
    assert entry.get("examples"), f"{name}: no EXAMPLES"
    assert entry.get("return"), f"{name}: no RETURN"
    assert "check_mode" in entry["doc"].get("attributes", {}), f"{name}: no check_mode attribute"


@pytest.mark.parametrize("name", CALLBACKS)
def test_callback_is_documented(name):
    _assert_documented("callback", name)


@pytest.mark.parametrize("name", FILTERS)
def test_filter_is_documented(name):
    entry = _assert_documented("filter", name)
    assert entry.get("examples"), f"{name}: no EXAMPLES"
    assert entry.get("return"), f"{name}: no RETURN"


@pytest.mark.parametrize("role", [role.name for role in ROLES])
def test_every_role_has_an_argument_spec(role):
    assert (ROOT / "roles" / role / "meta" / "argument_specs.yml").is_file(), (
        f"roles/{role}/meta/argument_specs.yml is missing: every role entry point declares "
        "its variables, so that ansible-doc shows them and wrong values fail at once"
    )


@pytest.mark.parametrize("role", DOCUMENTED_ROLES)
def test_role_is_documented(role):
    entry = _assert_documented("role", role)
    assert "main" in entry["entry_points"]


ROLE_PLAYBOOK = """\
- name: Run one role with the given variables
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  roles:
    - role: {role}
      vars: {variables}
"""


def _run_role(tmp_path: Path, role: str, variables: dict) -> subprocess.CompletedProcess:
    playbook = tmp_path / "role.yml"
    playbook.write_text(ROLE_PLAYBOOK.format(role=role, variables=json.dumps(variables)))
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=quiet_env(),
        check=False,
    )


@pytest.mark.parametrize(
    ("role", "variables", "message", "first_task"),
    [
        (
            "avshift.remediation.audit",
            {"avshift_audit_fail_when_non_compliant": "notabool"},
            "argument 'avshift_audit_fail_when_non_compliant' is of type str",
            "Scan for disallowed and approved antivirus",
        ),
        (
            "avshift.remediation.remediate",
            {
                "avshift_remediate_change_id": "CHG0012345",
                "avshift_remediate_window": "2030-01-01T00:00:00+00:00/2030-01-01T04:00:00+00:00",
                "avshift_remediate_reboot": "sometimes",
            },
            "value of avshift_remediate_reboot must be one of: never, if_required, always, "
            "got: sometimes",
            "Check the change id and the window before touching this batch",
        ),
    ],
    ids=["audit-not-a-bool", "remediate-unknown-reboot"],
)
def test_wrong_role_variable_fails_before_any_task(tmp_path, role, variables, message, first_task):
    done = _run_role(tmp_path, role, variables)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Validating arguments against arg spec 'main'" in output
    assert message in output, output[-3000:]
    assert first_task not in output, "the role ran a task before refusing its variables"
