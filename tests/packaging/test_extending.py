"""Adding an OS family and an installable product is a change of data and task files only.

In a copy of the collection, a made-up OS family (`solaris`) and a made-up vendor
(`acme`, installable on it and on Linux) are added the way docs/extending.md says; the
copy's git then shows which files had to change, and the engine, the policy loader, the
installable filter and the install role all take the new family and vendor without a
line of code changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from packaging_support import BIN, copy_tracked, isolated_env

ACME_INSTALLER = """\
---
# The made-up vendor's installer: what a real one does is its own business.
- name: Acme | install and activate
  ansible.builtin.set_fact:
    avshift_install_result:
      vendor: acme
      product: Acme Antivirus
      active: "{{ none if ansible_check_mode else true }}"
      deferred: false
      check_mode: "{{ ansible_check_mode }}"
      msg: the acme installer ran
"""


def _git(collection: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=collection,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _extend(collection: Path) -> None:
    path = collection / "plugins" / "plugin_utils" / "catalogue.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["os_families"]["solaris"] = {
        "name": "Solaris",
        "module_suffix": ".py",
        "shell_families": ["sh"],
        "ansible_systems": ["SunOS"],
        "state_dir": "/var/avshift",
        "signature_keys": {
            "packages": {"kinds": ["packages"], "label": "Packages (pkg)"},
            "services": {"kinds": ["services"], "label": "Services (SMF)"},
        },
    }
    data["references"]["acme-docs"] = {
        "title": "Acme Antivirus administrator guide",
        "url": "https://docs.acme.example/antivirus",
        "read": "2026-12-01",
        "grade": "primary",
    }
    shown = {"ref": "acme-docs", "excerpt": "install the acme-av package; acmed starts"}
    data["vendors"]["acme"] = {
        "name": "Acme",
        "publishers": ["Acme Corp"],
        "sources": [{**shown, "covers": ["Acme Corp"]}],
        "products": {
            "acme_av": {
                "name": "Acme Antivirus",
                "role": "antivirus",
                "solaris": {
                    "packages": ["acme-av"],
                    "services": ["acmed"],
                    "install": {"task_file": "acme", "before_removal": "always"},
                    "sources": [{**shown, "covers": ["acme-av", "acmed"]}],
                },
                "linux": {
                    "packages": ["acme-av"],
                    "services": ["acmed"],
                    "install": {"task_file": "acme", "before_removal": "always"},
                    "sources": [{**shown, "covers": ["acme-av", "acmed"]}],
                },
            }
        },
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    installer = collection / "roles" / "install" / "tasks" / "installers" / "acme.yml"
    installer.write_text(ACME_INSTALLER, encoding="utf-8")


def _python(collections: Path, code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**isolated_env(collections), "PYTHONPATH": str(collections)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_new_os_family_and_installable_vendor_touch_data_and_task_files_only(tmp_path):
    collection = copy_tracked(tmp_path)
    collections = tmp_path
    _git(collection, "init", "--quiet")
    _git(collection, "add", "-A")
    _git(collection, "commit", "--quiet", "-m", "as shipped")
    _extend(collection)

    changed = sorted(
        line[3:] for line in _git(collection, "status", "--porcelain", "-uall").splitlines()
    )
    assert changed == [
        "plugins/plugin_utils/catalogue.yml",
        "roles/install/tasks/installers/acme.yml",
    ]

    # The engine takes the family: the shipped policy stays valid and says what it lacks.
    result = _python(
        collections,
        """
        import json
        from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
        from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy
        host = {"os_family": "solaris", "services": [{"name": "acmed", "state": "running"}]}
        shipped = classify(host)
        own = load_policy({"disallowed_vendors": ["kaspersky"], "approved": {"solaris": ["acme"]}})
        print(json.dumps({"shipped": shipped, "own": classify(host, own)}))
        """,
    )
    assert result["shipped"]["reasons"] == [
        "no active approved antivirus; the policy approves no vendor for solaris"
    ]
    assert [f["vendor"] for f in result["shipped"]["other"]] == ["acme"]
    assert result["own"]["compliant"] is True

    # The install role dispatches to the new task file by the catalogue's name for it.
    playbook = tmp_path / "install.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: avshift.remediation.install\n"
        "      vars:\n        avshift_install_vendor: acme\n"
        "    - ansible.builtin.assert:\n        that: avshift_install_result.vendor == 'acme'\n"
    )
    done = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=isolated_env(collections),
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Install and activate Acme Antivirus" in done.stdout
    assert "Acme | install and activate" in done.stdout
