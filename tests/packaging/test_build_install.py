"""The collection as Galaxy and AWX get it: built with ansible-galaxy, installed, and run.

The tarball is built from a copy of the git-tracked files and installed into a clean
directory. Ansible then runs with only that directory on its collections path (and
ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false), so the working tree the venv links in is
out of reach: a file that the build leaves out breaks these runs.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

import pytest
from packaging_support import BIN, GALAXY, ROOT, isolated_env, tracked_files

# Development tooling, test doubles and benchmarks: never in the tarball.
LEFT_OUT = (
    "tests",
    "molecule",
    "bench",
    "bin",
    "src",
    ".venv",
    ".venv-ansible-2.16",
    ".ci",
    "examples",
    "requirements",
    "pyproject.toml",
    ".git",
)
LEFT_OUT_SUFFIXES = (".deb", ".rpm", ".pyc", ".tar.gz")
# What a user of the collection needs.
SHIPPED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "meta/runtime.yml",
    "plugins/plugin_utils/catalogue.yml",
    "plugins/plugin_utils/policy.yml",
    "playbooks/audit.yml",
)
SHIPPED_DIRECTORIES = ("plugins", "roles", "playbooks", "inventories", "docs", "meta")

WRAPPER_PLAYBOOK = """\
- name: The audit playbook of the installed collection
  ansible.builtin.import_playbook: avshift.remediation.audit

- name: Keep what the audit found
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the scan verdict
      ansible.builtin.copy:
        content: "{{ ansible_facts.avshift_scan | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def _members(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as archive:
        return [member.name for member in archive.getmembers() if member.isfile()]


@pytest.fixture(scope="module")
def installed(collection_tarball, tmp_path_factory) -> Path:
    """The collections path the tarball was installed into."""
    collections = tmp_path_factory.mktemp("installed")
    argv = [str(BIN / "ansible-galaxy"), "collection", "install", "--offline"]
    done = subprocess.run(
        [*argv, str(collection_tarball), "-p", str(collections)],
        capture_output=True,
        text=True,
        env=isolated_env(collections),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "was installed successfully" in done.stdout, done.stdout + done.stderr
    return collections


def _installed_root(collections: Path) -> Path:
    return collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]


def test_tarball_leaves_out_tests_tooling_and_package_files(collection_tarball):
    members = _members(collection_tarball)
    assert members
    leaked = sorted(
        name
        for name in members
        if PurePosixPath(name).parts[0] in LEFT_OUT
        or name.endswith(LEFT_OUT_SUFFIXES)
        or "__pycache__" in PurePosixPath(name).parts
    )
    assert leaked == [], f"the tarball ships development files: {leaked}"


def test_tarball_carries_every_tracked_file_of_the_collection(collection_tarball):
    members = set(_members(collection_tarball))
    missing = sorted(set(SHIPPED) - members)
    assert missing == [], f"missing from the tarball: {missing}"
    tracked = {
        path for path in tracked_files() if PurePosixPath(path).parts[0] in SHIPPED_DIRECTORIES
    }
    for directory in SHIPPED_DIRECTORIES:
        assert any(path.startswith(f"{directory}/") for path in tracked), directory
    assert sorted(tracked - members) == []


def test_manifest_names_the_collection_and_its_version(collection_tarball):
    with tarfile.open(collection_tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (
        GALAXY["namespace"],
        GALAXY["name"],
        GALAXY["version"],
    )


def test_ansible_finds_the_installed_collection_not_the_working_tree(installed):
    done = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", "avshift.remediation.av_scan"],
        capture_output=True,
        text=True,
        env=isolated_env(installed),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    filename = Path(json.loads(done.stdout)["avshift.remediation.av_scan"]["doc"]["filename"])
    assert filename == _installed_root(installed) / "plugins" / "modules" / "av_scan.py"


def test_audit_playbook_runs_from_the_installed_collection(installed, tmp_path):
    playbook = tmp_path / "audit_installed.yml"
    playbook.write_text(WRAPPER_PLAYBOOK)
    result_file = tmp_path / "verdict.json"
    report_dir = tmp_path / "report"
    argv = [str(BIN / "ansible-playbook"), "-vvv", "-i", "localhost,", "-c", "local"]
    argv += ["-e", "ansible_python_interpreter={{ ansible_playbook_python }}"]
    done = subprocess.run(
        [*argv, "-e", f"result_file={result_file}", str(playbook)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=isolated_env(
            installed,
            ANSIBLE_CALLBACKS_ENABLED="avshift.remediation.fleet_report",
            AVSHIFT_REPORT_DIR=str(report_dir),
        ),
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

    root = _installed_root(installed)
    assert f"task path: {root}/roles/audit/tasks/main.yml" in output
    assert f"Using module file {root}/plugins/modules/av_scan.py" in output
    for part in ("plugins", "roles", "playbooks"):
        assert f"{ROOT}/{part}/" not in output, f"the working tree's {part}/ was used"

    verdict = json.loads(result_file.read_text())
    assert verdict["host"] == "localhost"
    assert isinstance(verdict["compliant"], bool)
    for key in ("disallowed", "approved", "other", "residue"):
        assert isinstance(verdict[key], list), key
    # The shipped policy was read from the installed copy, through plugin_utils.
    assert verdict["policy"]["source"] == str(root / "plugins" / "plugin_utils" / "policy.yml")

    # The callback plugin loaded from the installed copy too, and saw the same verdict.
    report = json.loads((report_dir / "report.json").read_text())
    assert report["tool"]["version"] == GALAXY["version"]
    assert [(h["host"], h["status"]) for h in report["hosts"]] == [
        ("localhost", "compliant" if verdict["compliant"] else "non-compliant")
    ]
