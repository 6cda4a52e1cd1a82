"""The shipped inventories, read by the real ansible-inventory and ansible-playbook.

inventories/example is what operators copy: its groups, its WinRM settings per
authentication method, and its vault layout must work as its comments say. The vault
test encrypts a copy of the example secrets with ansible-vault and resolves every
host's connection through ansible-playbook, so a variable that is misspelt, missing
from the vault, or shadowed by another group_vars file fails here rather than in a
change window.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "inventories" / "example"
LOCAL = ROOT / "inventories" / "local"
VAULT_EXAMPLE = EXAMPLE / "group_vars" / "windows" / "vault.yml.example"
DOCUMENTATION_NET = ipaddress.ip_network("192.0.2.0/24")

GROUPS = {
    "debian": {"deb-web-01.example.org", "deb-web-02.example.org"},
    "rhel": {"rhel-db-01.example.org", "rhel-app-01.example.org"},
    "windows_ntlm": {"win-dmz-01.example.org", "win-dmz-02.example.org"},
    "windows_kerberos": {"win-fs-01.ad.example.org", "win-ws-0142.ad.example.org"},
}
LINUX = GROUPS["debian"] | GROUPS["rhel"]
WINDOWS = GROUPS["windows_ntlm"] | GROUPS["windows_kerberos"]


def _run(*argv: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        **(env or {}),
    }
    # An operator's own vault password must not decide whether these tests pass.
    for name in ("ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST", "ANSIBLE_CONFIG"):
        environment.pop(name, None)
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env=environment, timeout=180, check=False
    )


def _inventory(source: Path) -> dict:
    done = _run(str(BIN / "ansible-inventory"), "-i", str(source), "--list")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _members(inventory: dict, group: str) -> set[str]:
    """Every host of a group, through its child groups."""
    entry = inventory.get(group, {})
    hosts = set(entry.get("hosts", []))
    for child in entry.get("children", []):
        hosts |= _members(inventory, child)
    return hosts


@pytest.fixture(scope="module")
def example() -> dict:
    return _inventory(EXAMPLE)


def test_groups_hold_the_expected_hosts(example):
    for group, hosts in GROUPS.items():
        assert _members(example, group) == hosts, group
    assert set(example["linux"]["children"]) == {"debian", "rhel"}
    assert set(example["windows"]["children"]) == {"windows_ntlm", "windows_kerberos"}
    assert _members(example, "linux") == LINUX
    assert _members(example, "windows") == WINDOWS
    assert set(example["_meta"]["hostvars"]) == LINUX | WINDOWS


def test_linux_hosts_use_ssh_with_privilege_escalation(example):
    for host in LINUX:
        hostvars = example["_meta"]["hostvars"][host]
        assert hostvars["ansible_connection"] == "ssh", host
        assert hostvars["ansible_become"] is True, host
        # Offline hosts: signatures from the controller, freshclam off.
        assert hostvars["avshift_install_clamav_signature_source"].startswith("/"), host
        assert hostvars["avshift_install_clamav_freshclam"] is False, host


@pytest.mark.parametrize(
    ("group", "transport"),
    [("windows_ntlm", "ntlm"), ("windows_kerberos", "kerberos")],
)
def test_windows_groups_use_winrm_over_validated_https(example, group, transport):
    for host in GROUPS[group]:
        hostvars = example["_meta"]["hostvars"][host]
        assert hostvars["ansible_connection"] == "winrm", host
        assert hostvars["ansible_winrm_transport"] == transport, host
        assert hostvars["ansible_winrm_scheme"] == "https", host
        assert hostvars["ansible_port"] == 5986, host
        assert hostvars["ansible_winrm_server_cert_validation"] == "validate", host
        assert hostvars["ansible_winrm_ca_trust_path"] == "{{ avshift_winrm_ca_bundle }}", host
        assert hostvars["ansible_password"].startswith("{{ vault_"), host
        assert set(hostvars["avshift_remediate_passwords"]) == {"kes_windows", "klnagent"}, host


def test_ntlm_hosts_encrypt_messages(example):
    for host in GROUPS["windows_ntlm"]:
        assert example["_meta"]["hostvars"][host]["ansible_winrm_message_encryption"] == "always"


def test_kerberos_hosts_are_reached_by_name_with_a_managed_ticket(example):
    for host in GROUPS["windows_kerberos"]:
        hostvars = example["_meta"]["hostvars"][host]
        # The ticket is for the host's DNS name: an address would break authentication.
        assert "ansible_host" not in hostvars, host
        assert hostvars["ansible_winrm_kinit_mode"] == "managed", host
        user, _, realm = hostvars["ansible_user"].partition("@")
        assert user and realm == realm.upper() == "AD.EXAMPLE.ORG", host


def test_names_and_addresses_are_documentation_reserved(example):
    for host, hostvars in example["_meta"]["hostvars"].items():
        assert host.endswith(".example.org"), host
        if "ansible_host" in hostvars:
            assert ipaddress.ip_address(hostvars["ansible_host"]) in DOCUMENTATION_NET, host
    for path in EXAMPLE.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        for address in re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", text):
            assert ipaddress.ip_address(address) in DOCUMENTATION_NET, (path, address)
        for name in re.findall(r"\b(?:[a-z0-9-]+\.)+(?:org|com|net|local|lan)\b", text, re.I):
            assert name.lower().endswith("example.org"), (path, name)


def test_no_group_has_both_a_vars_file_and_a_vars_directory():
    """group_vars/<group>/ makes Ansible skip group_vars/<group>.yml without a word."""
    group_vars = EXAMPLE / "group_vars"
    for directory in (p for p in group_vars.iterdir() if p.is_dir()):
        shadowed = [directory.with_name(directory.name + ext) for ext in (".yml", ".yaml", ".json")]
        assert not any(p.exists() for p in shadowed), directory


def _top_level_keys(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text().splitlines()
    return [(n, m.group(1)) for n, line in enumerate(lines) if (m := re.match(r"^(\w+):", line))]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (EXAMPLE / "group_vars").rglob("*") if p.is_file()),
    ids=lambda p: str(p.relative_to(EXAMPLE)),
)
def test_every_variable_is_explained_by_a_comment(path):
    """Each variable belongs to a paragraph that opens with a comment."""
    lines = path.read_text().splitlines()
    for number, key in _top_level_keys(path):
        start = number
        while start > 0 and lines[start - 1].strip() and lines[start - 1] != "---":
            start -= 1
        assert lines[start].startswith("#"), f"{path.name}: {key} has no comment above it"


def test_the_vault_example_defines_exactly_the_secrets_the_inventory_uses():
    used = set()
    for path in (EXAMPLE / "group_vars").rglob("*.yml"):
        used |= set(re.findall(r"\{\{\s*(vault_\w+)\s*\}\}", path.read_text()))
    defined = set(yaml.safe_load(VAULT_EXAMPLE.read_text()))
    assert used == defined


def _resolve_playbook(tmp_path: Path) -> Path:
    playbook = tmp_path / "resolve.yml"
    playbook.write_text(
        """\
- name: Resolve every host's connection without connecting
  hosts: all
  gather_facts: false
  tasks:
    - name: Show what Ansible would connect with
      ansible.builtin.debug:
        msg:
          connection: "{{ ansible_connection }}"
          address: "{{ ansible_host | default(inventory_hostname) }}"
          port: "{{ ansible_port | default(22) }}"
          user: "{{ ansible_user }}"
          password: "{{ ansible_password | default(None) }}"
          transport: "{{ ansible_winrm_transport | default(None) }}"
          ca: "{{ ansible_winrm_ca_trust_path | default(None) }}"
          passwords: "{{ avshift_remediate_passwords | default({}) }}"
"""
    )
    return playbook


@pytest.fixture
def vaulted_example(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the example whose vault.yml is made as vault.yml.example says."""
    inventory = tmp_path / "example"
    shutil.copytree(EXAMPLE, inventory)
    vault = inventory / "group_vars" / "windows" / "vault.yml"
    shutil.copy(VAULT_EXAMPLE, vault)
    password_file = tmp_path / "vault-password"
    password_file.write_text("correct horse battery staple\n")
    done = _run(
        str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file),
        str(vault),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    return inventory, password_file


def test_every_host_resolves_to_a_connection_with_the_vault(vaulted_example, tmp_path):
    inventory, password_file = vaulted_example
    done = _run(
        str(BIN / "ansible-playbook"), "-i", str(inventory), str(_resolve_playbook(tmp_path)),
        "--vault-password-file", str(password_file),
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]
    assert set(results) == LINUX | WINDOWS
    secrets = yaml.safe_load(VAULT_EXAMPLE.read_text())
    for host, result in results.items():
        resolved = result["msg"]  # each value a string before ansible-core 2.19 (no native types)
        if host in LINUX:
            assert (resolved["connection"], int(resolved["port"])) == ("ssh", 22), host
            assert ipaddress.ip_address(resolved["address"]) in DOCUMENTATION_NET, host
            continue
        assert (resolved["connection"], int(resolved["port"])) == ("winrm", 5986), host
        assert resolved["ca"] == "/etc/avshift/pki/example-org-root-ca.pem", host
        group = "windows_ntlm" if host in GROUPS["windows_ntlm"] else "windows_kerberos"
        assert resolved["password"] == secrets[f"vault_{group}_password"], host
        assert resolved["passwords"]["kes_windows"] == {
            "login": "KLAdmin",
            "password": secrets["vault_kes_password"],
        }
        assert resolved["passwords"]["klnagent"] == {"password": secrets["vault_klnagent_password"]}


def test_an_encrypted_vault_without_its_password_stops_the_run(vaulted_example, tmp_path):
    inventory, _ = vaulted_example
    done = _run(
        str(BIN / "ansible-playbook"), "-i", str(inventory), str(_resolve_playbook(tmp_path)),
        "--limit", "windows",
    )  # fmt: skip
    assert done.returncode != 0
    assert "no vault secrets" in " ".join((done.stdout + done.stderr).split())


@pytest.mark.parametrize("playbook", ["audit.yml", "remediate.yml"])
def test_playbooks_pass_syntax_check_with_the_example(playbook):
    done = _run(
        str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(EXAMPLE),
        str(ROOT / "playbooks" / playbook),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_local_inventory_is_this_machine_over_the_local_connection():
    inventory = _inventory(LOCAL)
    assert _members(inventory, "all") == {"localhost"}
    assert inventory["_meta"]["hostvars"]["localhost"]["ansible_connection"] == "local"
