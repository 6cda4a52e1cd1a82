"""The uninstall and remediate roles refuse a plan that holds a product, before anything
changes.

Run for real, in check mode on the controller (nothing could be removed even if the
refusal broke): the roles are given the scan av_scan would register for a host.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from packaging_support import BIN, ROOT, quiet_env

from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy

INVENTORIES = ROOT / "tests" / "data" / "inventories"
PLAYBOOK = """\
- name: Remove what the scan found
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: avshift.remediation.uninstall
"""


# The remediate role's planning step, after its scan: what it records and refuses.
PLAN_PLAYBOOK = """\
- name: Plan the remediation of what the scan found
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Plan, and show the plan it recorded even when it refuses the host
      block:
        - name: Plan
          ansible.builtin.include_role:
            name: avshift.remediation.remediate
            tasks_from: plan.yml
          vars:
            __remediate_before: "{{ scan }}"
      always:
        - name: Show the recorded plan
          ansible.builtin.debug:
            msg: >-
              recorded plan: held {{ __remediate_plan.held | length }};
              remove {{ __remediate_plan.remove | map(attribute='product') | join(',') }};
              missing passwords {{ __remediate_plan.missing_passwords | join(',') or 'none' }}
"""


def _scan(inventory: dict) -> dict:
    inventory = {**inventory, "host": "localhost"}
    policy = load_policy(None)
    verdict = classify(inventory, policy)
    return {**verdict, "host": "localhost", "inventory": inventory, "policy": policy.as_dict()}


def _uninstall(tmp_path: Path, playbook: str = PLAYBOOK, **variables):
    (tmp_path / "play.yml").write_text(playbook)
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "--check",
            "-e",
            "@vars.json",
            "play.yml",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=quiet_env(),
        check=False,
    )


def test_a_security_center_server_is_refused_naming_why(tmp_path):
    inventory = json.loads((INVENTORIES / "linux-ksc-server.json").read_text(encoding="utf-8"))
    done = _uninstall(tmp_path, avshift_uninstall_scan=_scan(inventory))
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "nothing was removed from localhost: ksc64 is never removed by avshift" in output
    assert "it manages other hosts and holds their keys and policies" in output
    # The server's own Network Agent is held with it; the Web Console is not held.
    assert "klnagent64 is the own agent of ksc64 on this host" in output
    assert "ksc-web-console is never removed" not in output


@pytest.mark.parametrize("confirmed", [[], ["kaspersky/kav4ws"]], ids=["unconfirmed", "confirmed"])
def test_a_product_found_by_unverified_names_alone_waits_for_its_confirmation(tmp_path, confirmed):
    inventory = {
        "schema": 1,
        "os_family": "linux",
        "packages": [{"name": "kav4ws", "version": "5.7-26", "publisher": None, "source": "rpm"}],
    }
    done = _uninstall(
        tmp_path, avshift_uninstall_scan=_scan(inventory), avshift_uninstall_confirmed=confirmed
    )
    output = done.stdout + done.stderr
    if confirmed:
        assert done.returncode == 0, output[-3000:]
        assert "kav4ws (kaspersky/kav4ws): remove rpm packages kav4ws" in output
    else:
        assert done.returncode != 0, output[-3000:]
        assert "found only by names no source confirms (kav4ws)" in output


@pytest.mark.parametrize("remove_residue", [False, True], ids=["left-alone", "removed"])
def test_residue_on_unverified_paths_holds_up_only_a_run_that_would_remove_it(
    tmp_path, remove_residue
):
    # /var/log/kaspersky has no source: a run that removes residue waits for confirmation,
    # one that leaves residue alone has nothing held to carry out.
    inventory = {"schema": 1, "os_family": "linux", "paths": ["/var/log/kaspersky"]}
    done = _uninstall(
        tmp_path,
        avshift_uninstall_scan=_scan(inventory),
        avshift_uninstall_remove_residue=remove_residue,
    )
    output = done.stdout + done.stderr
    if remove_residue:
        assert done.returncode != 0, output[-3000:]
        assert "found only by names no source confirms (/var/log/kaspersky)" in output
    else:
        assert done.returncode == 0, output[-3000:]


def test_remediate_records_what_it_holds_and_refuses_the_host(tmp_path):
    inventory = json.loads((INVENTORIES / "linux-ksc-server.json").read_text(encoding="utf-8"))
    done = _uninstall(tmp_path, PLAN_PLAYBOOK, scan=_scan(inventory))
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "not remediated, nothing was changed: ksc64 is never removed by avshift" in output
    assert "it manages other hosts and holds their keys and policies" in output
    # The plan was recorded before the refusal: the report shows what is held and why.
    # The plan was recorded before the refusal: the server and its own agent are held,
    # the Web Console alone is planned, and the held agent's password is not asked for.
    assert "recorded plan: held 2; remove ksc_web_console; missing passwords none" in output


def test_remediate_plans_a_confirmed_finding_like_any_other(tmp_path):
    inventory = {
        "schema": 1,
        "os_family": "linux",
        "packages": [{"name": "kav4ws", "version": "5.7-26", "publisher": None, "source": "rpm"}],
        "services": [{"name": "clamav-daemon", "state": "running"}],
    }
    held = _uninstall(tmp_path, PLAN_PLAYBOOK, scan=_scan(inventory))
    assert held.returncode != 0, (held.stdout + held.stderr)[-3000:]
    assert "avshift_remediate_confirmed" in held.stdout + held.stderr
    done = _uninstall(
        tmp_path,
        PLAN_PLAYBOOK,
        scan=_scan(inventory),
        avshift_remediate_confirmed=["kaspersky/kav4ws"],
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "recorded plan: held 0; remove kav4ws; missing passwords none" in output
