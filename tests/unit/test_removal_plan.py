"""The removal planner: an av_scan result -> ordered removal steps.

Scans are built the way av_scan builds them (the classifier's verdict on a hand-written
inventory, plus that inventory), so the planner meets what the role will hand it. Every
expected command line, hex string and message is written out here by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.avshift.remediation.plugins.filter.removal_plan import (
    FilterModule,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    load_catalogue,
    normalize,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy
from ansible_collections.avshift.remediation.plugins.plugin_utils.removal import (
    HOLD_CONFIRM,
    HOLD_REFUSED,
    MASK,
    PlanError,
    mask_credentials,
    removal_plan,
    split_windows_command_line,
    uninstall_outcome,
)

HOST = "ws-0142"
KES_CODE = "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}"
AGENT_CODE = "{7D4E2A18-C3B5-4F69-8E01-A2B7C9D3E5F0}"
KES = "Kaspersky Endpoint Security for Windows"
AGENT = "Kaspersky Security Center Network Agent"
KASPERSKY = "AO Kaspersky Lab"
MSIEXEC = ["msiexec.exe", "/x"]
QUIET = ["/qn", "/norestart"]
PASSWORDS = {
    "kes_windows": {"login": "KLAdmin", "password": "P@ss"},
    "klnagent": {"password": "P@ss"},
}
# "P@ss" as UTF-16LE: P=0x50 @=0x40 s=0x73 s=0x73, each followed by a zero byte.
P_AT_SS_HEX = "5000400073007300"


def scan_of(inventory: dict, disallowed=("kaspersky",)) -> dict:
    """What av_scan registers with return_inventory: true."""
    policy = load_policy(
        {
            "disallowed_vendors": list(disallowed),
            "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
        }
    )
    return {**classify(inventory, policy), "host": inventory["host"], "inventory": inventory}


def windows_package(name: str, code: str | None, **extra) -> dict:
    entry = {
        "name": name,
        "version": "1.0",
        "publisher": KASPERSKY,
        "source": "uninstall-registry",
        "product_code": code,
        "uninstall_string": f"MsiExec.exe /I{code}" if code else None,
        "quiet_uninstall_string": None,
        "install_location": None,
        "registry_key": f"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{code}",
    }
    entry.update(extra)
    return entry


def windows_scan(packages: list[dict], services=(), paths=(), disallowed=("kaspersky",)) -> dict:
    return scan_of(
        {
            "schema": 1,
            "host": HOST,
            "os_family": "windows",
            "packages": packages,
            "services": [{"name": name, "state": "running"} for name in services],
            "paths": list(paths),
        },
        disallowed,
    )


def kes_and_agent(agent_first: bool = True) -> dict:
    packages = [windows_package(AGENT, AGENT_CODE), windows_package(KES, KES_CODE)]
    if not agent_first:
        packages.reverse()
    return windows_scan(packages, services=["klnagent", "AVP"])


def linux_scan(packages: list[tuple[str, str, str]], services=(), processes=(), paths=()):
    return scan_of(
        {
            "schema": 1,
            "host": HOST,
            "os_family": "linux",
            "packages": [
                {"name": name, "version": "1", "publisher": publisher, "source": source}
                for name, source, publisher in packages
            ],
            "services": [{"name": name, "state": "running"} for name in services],
            "processes": [{"name": name} for name in processes],
            "paths": list(paths),
        }
    )


def step_of(plan: list[dict], product: str) -> dict:
    found = [step for step in plan if step["product"] == product]
    assert len(found) == 1, [step["product"] for step in plan]
    return found[0]


def action_of(plan: list[dict], product: str) -> dict:
    actions = step_of(plan, product)["windows"]
    assert len(actions) == 1
    return actions[0]


# -- order ------------------------------------------------------------------------------


@pytest.mark.parametrize("agent_first", [True, False], ids=["agent-first", "kes-first"])
def test_kes_goes_before_the_network_agent_whatever_the_scan_order(agent_first):
    scan = kes_and_agent(agent_first)
    first_found = scan["disallowed"][0]["product"]
    assert first_found == ("klnagent" if agent_first else "kes_windows")
    assert [step["product"] for step in removal_plan(scan)] == ["kes_windows", "klnagent"]


def test_kesl_goes_before_klnagent_on_linux():
    scan = linux_scan([("klnagent64", "rpm", KASPERSKY), ("kesl", "rpm", KASPERSKY)])
    assert [f["product"] for f in scan["disallowed"]] == ["klnagent", "kesl"]
    assert [step["product"] for step in removal_plan(scan)] == ["kesl", "klnagent"]


def test_publisher_only_software_goes_after_known_products_before_the_agent():
    scan = linux_scan(
        [
            ("klnagent64", "dpkg", KASPERSKY),
            ("kaspersky-update-utility", "dpkg", "Kaspersky Lab <support@example.invalid>"),
            ("kesl", "dpkg", KASPERSKY),
        ]
    )
    plan = removal_plan(scan)
    assert [(step["product"], step["name"]) for step in plan] == [
        ("kesl", "kesl"),
        ("other", "kaspersky-update-utility"),
        ("klnagent", "klnagent64"),
    ]
    other = step_of(plan, "other")
    assert other["role"] == "other"
    assert other["packages"] == ["kaspersky-update-utility"]
    assert other["packages_by_source"] == {"dpkg": ["kaspersky-update-utility"]}


def test_publisher_only_windows_entry_gets_its_own_msiexec_command():
    code = "{11111111-2222-3333-4444-555555555555}"
    scan = windows_scan(
        [
            windows_package(AGENT, AGENT_CODE),
            windows_package("KL Update Utility", code),
            windows_package(KES, KES_CODE),
        ]
    )
    plan = removal_plan(scan)
    assert [step["product"] for step in plan] == ["kes_windows", "other", "klnagent"]
    other = step_of(plan, "other")
    assert other["protected"] is False
    assert other["windows"][0]["argv"] == [*MSIEXEC, code, *QUIET]


def test_residue_comes_last_and_only_with_catalogue_paths():
    scan = linux_scan([], paths=["/var/opt/kaspersky", "/opt/kaspersky"])
    assert scan["disallowed"] == []
    plan = removal_plan(scan)
    assert len(plan) == 1
    assert plan[0]["residue"] is True
    assert plan[0]["product"] == "residue"
    assert plan[0]["paths"] == ["/var/opt/kaspersky", "/opt/kaspersky"]
    assert plan[0]["packages"] == [] and plan[0]["services"] == []


def test_another_vendors_residue_goes_after_every_product_and_publisher_only_software():
    inventory = linux_scan(
        [
            ("klnagent64", "dpkg", KASPERSKY),
            ("kaspersky-update-utility", "dpkg", "Kaspersky Lab <support@example.invalid>"),
            ("kesl", "dpkg", KASPERSKY),
        ],
        paths=["/opt/drweb.com"],
    )["inventory"]
    scan = scan_of(inventory, disallowed=("kaspersky", "drweb"))
    assert [(step["vendor"], step["product"]) for step in removal_plan(scan)] == [
        ("kaspersky", "kesl"),
        ("kaspersky", "other"),
        ("kaspersky", "klnagent"),
        ("drweb", "residue"),
    ]


def test_nothing_found_plans_nothing():
    scan = linux_scan([("bash", "dpkg", "Debian")])
    assert removal_plan(scan) == []


# -- Windows command lines and passwords ---------------------------------------------------


def test_kes_command_line_carries_login_and_password():
    plan = removal_plan(kes_and_agent(), passwords=PASSWORDS)
    kes = step_of(plan, "kes_windows")
    assert kes["protected"] is True
    assert kes["needs_password"] is False
    assert kes["windows"][0]["argv"] == [
        *MSIEXEC,
        KES_CODE,
        *QUIET,
        "KLLOGIN=KLAdmin",
        "KLPASSWD=P@ss",
    ]
    assert kes["windows"][0]["product_code"] == KES_CODE


def test_network_agent_password_goes_as_utf16le_hex():
    plan = removal_plan(kes_and_agent(), passwords=PASSWORDS)
    agent = action_of(plan, "klnagent")
    assert agent["argv"] == [*MSIEXEC, AGENT_CODE, *QUIET, f"KLUNINSTPASSWD={P_AT_SS_HEX}"]


def test_network_agent_hex_covers_non_latin_passwords():
    # "Пароль": U+041F U+0430 U+0440 U+043E U+043B U+044C, low byte first. Encoding each
    # character as "{0:x2}" + "00" (as some scripts do) would get all of these wrong.
    passwords = {"klnagent": {"password": "Пароль"}}
    agent = action_of(removal_plan(kes_and_agent(), passwords=passwords), "klnagent")
    assert agent["argv"][-1] == "KLUNINSTPASSWD=1F04300440043E043B044C04"


def test_product_code_is_the_one_found_on_the_host():
    # Lower-case in the registry: msiexec is given the code in its canonical upper case.
    scan = windows_scan([windows_package(KES, KES_CODE.lower())])
    assert action_of(removal_plan(scan), "kes_windows")["argv"][2] == KES_CODE


def test_without_passwords_the_properties_are_masked():
    plan = removal_plan(kes_and_agent())
    assert action_of(plan, "kes_windows")["argv"][-2:] == [f"KLLOGIN={MASK}", f"KLPASSWD={MASK}"]
    assert action_of(plan, "klnagent")["argv"][-1] == f"KLUNINSTPASSWD={MASK}"
    assert all(step["needs_password"] for step in plan)
    assert MASK == "********"


def test_mask_keeps_the_credentials_out_of_the_plan():
    plan = removal_plan(kes_and_agent(), passwords=PASSWORDS, mask=True)
    text = json.dumps(plan)
    assert "P@ss" not in text and P_AT_SS_HEX not in text and "KLAdmin" not in text
    assert action_of(plan, "kes_windows")["argv"][-1] == f"KLPASSWD={MASK}"
    # Credentials were given: the masked plan says so.
    assert [step["needs_password"] for step in plan] == [False, False]


def test_summary_never_shows_a_password_even_unmasked():
    plan = removal_plan(kes_and_agent(), passwords=PASSWORDS)
    summaries = " ".join(step["summary"] for step in plan)
    assert "P@ss" not in summaries and P_AT_SS_HEX not in summaries
    assert f"{KES_CODE} /qn /norestart KLLOGIN={MASK} KLPASSWD={MASK}" in summaries


def test_protected_product_without_credentials_runs_bare_and_needs_a_password():
    plan = removal_plan(kes_and_agent(), passwords={"klnagent": {"password": "P@ss"}})
    kes = step_of(plan, "kes_windows")
    assert kes["needs_password"] is True
    assert kes["windows"][0]["argv"] == [*MSIEXEC, KES_CODE, *QUIET]
    assert any("avshift_uninstall_passwords.kes_windows" in note for note in kes["notes"])
    assert step_of(plan, "klnagent")["needs_password"] is False


def test_duplicate_uninstall_entries_give_one_command():
    wow = windows_package(KES, KES_CODE, registry_key="HKLM\\SOFTWARE\\WOW6432Node\\...")
    scan = windows_scan([windows_package(KES, KES_CODE), wow])
    assert len(step_of(removal_plan(scan), "kes_windows")["windows"]) == 1


# -- msiexec exit codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rc", "done", "reboot"),
    [(0, True, False), (1605, True, False), (3010, True, True), (1641, True, True)],
)
def test_msiexec_exit_codes_that_count_as_done(rc, done, reboot):
    action = action_of(removal_plan(kes_and_agent(), passwords=PASSWORDS), "kes_windows")
    outcome = uninstall_outcome(action, rc)
    assert (outcome["done"], outcome["reboot"]) == (done, reboot)


def test_1605_means_already_gone():
    action = action_of(removal_plan(kes_and_agent()), "klnagent")
    assert "not installed" in uninstall_outcome(action, 1605)["message"]


def test_1603_without_password_names_the_missing_password_as_the_likely_cause():
    action = action_of(removal_plan(kes_and_agent(), passwords={}), "kes_windows")
    outcome = uninstall_outcome(action, 1603)
    assert outcome["done"] is False and outcome["reboot"] is False
    # 1603 is any fatal error: the message says what is likely, not what is certain.
    assert outcome["message"] == (
        f"uninstall of {KES} failed (msiexec 1603) on {HOST}, a fatal error: {KES} is "
        "password-protected and no password was given "
        "(avshift_uninstall_passwords.kes_windows), the likely cause if its protection is "
        "on; its log says"
    )


def test_1603_with_password_names_a_wrong_password_as_one_cause():
    action = action_of(removal_plan(kes_and_agent(), passwords=PASSWORDS), "klnagent")
    message = uninstall_outcome(action, 1603)["message"]
    assert message.startswith(f"uninstall of {AGENT} failed (msiexec 1603) on {HOST}, ")
    assert "a wrong password in avshift_uninstall_passwords.klnagent is one cause" in message
    assert "P@ss" not in message


def test_msiexec_actions_say_what_to_retry_wait_for_and_mask():
    action = action_of(removal_plan(kes_and_agent(), passwords=PASSWORDS), "kes_windows")
    assert action["msiexec"] is True
    assert action["busy_exit_codes"] == [1618]
    assert action["restart_exit_codes"] == [1641]
    assert action["masked_properties"] == ["KLLOGIN", "KLPASSWD"]
    assert uninstall_outcome(action, 1641) == {
        "done": True,
        "reboot": True,
        "message": "removed; msiexec started a reboot (1641)",
    }
    busy = uninstall_outcome(action, 1618)["message"]
    assert "another installation kept running through every retry" in busy


def test_credentials_are_masked_plain_and_as_utf16le_hex():
    passwords = {"klnagent": {"password": "S3cret!"}, "kes_windows": {"login": "KLAdmin"}}
    hex_form = "S3cret!".encode("utf-16-le").hex()
    text = f"KLUNINSTPASSWD={hex_form.upper()} x {hex_form} y S3cret! KLAdmin"
    assert mask_credentials(text, passwords, "klnagent") == (
        "KLUNINSTPASSWD=******** x ******** y ******** KLAdmin"
    )
    assert mask_credentials(text, passwords, "other") == text
    assert mask_credentials(text, None, "klnagent") == text


def test_other_exit_codes_fail_naming_product_and_code():
    action = action_of(removal_plan(kes_and_agent(), passwords=PASSWORDS), "kes_windows")
    outcome = uninstall_outcome(action, 1618)
    assert outcome["done"] is False
    assert outcome["message"].startswith(f"uninstall of {KES} failed (msiexec 1618) on {HOST}")


def test_1603_on_an_unprotected_product_is_a_plain_failure():
    code = "{11111111-2222-3333-4444-555555555555}"
    scan = windows_scan([windows_package("KL Update Utility", code)])
    message = uninstall_outcome(action_of(removal_plan(scan), "other"), 1603)["message"]
    assert message.startswith("uninstall of KL Update Utility failed (msiexec 1603)")
    assert "password" not in message


# -- Windows entries without a product code -----------------------------------------------


def test_msi_code_is_read_from_the_uninstall_string_when_the_key_is_not_a_guid():
    entry = windows_package(AGENT, None, uninstall_string=f"MsiExec.exe /X{AGENT_CODE}")
    action = action_of(removal_plan(windows_scan([entry])), "klnagent")
    assert action["manual"] is False
    assert action["argv"][:3] == [*MSIEXEC, AGENT_CODE]


def test_non_msi_entry_runs_its_quiet_uninstall_string():
    entry = windows_package(
        "KL Update Utility",
        None,
        uninstall_string='"C:\\Program Files\\KL\\uninst.exe"',
        quiet_uninstall_string='"C:\\Program Files\\KL\\uninst.exe" /S "/LOG=C:\\a b.txt"',
    )
    action = action_of(removal_plan(windows_scan([entry])), "other")
    assert action["manual"] is False
    assert action["product_code"] is None
    assert action["argv"] == ["C:\\Program Files\\KL\\uninst.exe", "/S", "/LOG=C:\\a b.txt"]
    assert uninstall_outcome(action, 0)["done"] is True
    # 3010 is the installers' shared "done, restart to finish", not a failure.
    assert uninstall_outcome(action, 3010) == {
        "done": True,
        "reboot": True,
        "message": "removed; a reboot is required to finish (3010)",
    }
    assert uninstall_outcome(action, 1)["done"] is False
    assert uninstall_outcome(action, 5)["message"] == (
        f"uninstall of KL Update Utility failed (exit code 5) on {HOST}: "
        "C:\\Program Files\\KL\\uninst.exe /S /LOG=C:\\a b.txt"
    )
    assert action["msiexec"] is False and action["busy_exit_codes"] == []


def test_non_msi_entry_without_quiet_string_is_manual():
    entry = windows_package(
        "KL Update Utility", None, uninstall_string='"C:\\Program Files\\KL\\uninst.exe"'
    )
    step = step_of(removal_plan(windows_scan([entry])), "other")
    action = step["windows"][0]
    assert action["manual"] is True
    assert action["argv"] is None
    assert "QuietUninstallString" in action["reason"]
    assert '("C:\\Program Files\\KL\\uninst.exe") may wait for a user' in action["reason"]
    assert any("manual removal" in note for note in step["notes"])
    bare = windows_package("KL Update Utility", None)
    reason = action_of(removal_plan(windows_scan([bare])), "other")["reason"]
    assert "(none registered) may wait for a user" in reason


def test_protected_product_without_msi_code_is_manual():
    entry = windows_package(
        KES, None, uninstall_string="C:\\KES\\setup.exe /x", quiet_uninstall_string="x.exe /s"
    )
    action = action_of(removal_plan(windows_scan([entry]), passwords=PASSWORDS), "kes_windows")
    assert action["manual"] is True
    assert "password" in action["reason"]


@pytest.mark.parametrize(
    ("command_line", "argv"),
    [
        ('"C:\\Program Files\\X\\un.exe" /S', ["C:\\Program Files\\X\\un.exe", "/S"]),
        ("C:\\X\\un.exe /S /quiet", ["C:\\X\\un.exe", "/S", "/quiet"]),
        ('un.exe "a b" c\\\\"d e"', ["un.exe", "a b", "c\\d e"]),
        ('un.exe a\\"b', ["un.exe", 'a"b']),
        ('un.exe "C:\\dir\\\\"', ["un.exe", "C:\\dir\\"]),
        # A quote right after an unquoted program, blanks between arguments, a lone
        # backslash at the end, and a quoted program with nothing after it.
        ('un.exe "a b"', ["un.exe", "a b"]),
        ("un.exe  /S   /quiet ", ["un.exe", "/S", "/quiet"]),
        ("un.exe /D=C:\\", ["un.exe", "/D=C:\\"]),
        ("un.exe \\", ["un.exe", "\\"]),
        ('"C:\\X\\un.exe"', ["C:\\X\\un.exe"]),
        # Unsafe: an unterminated quote, an unquoted program path with blanks, nothing.
        ('"C:\\X\\un.exe /S', None),
        ('"C:\\X\\un.exe"/S', None),
        ('"', None),
        ('"" /S', None),
        ('"a" /S', ["a", "/S"]),  # a one-letter program is still a program
        ('un.exe a""b', ["un.exe", "ab"]),
        ('un.exe "a b', None),
        ("C:\\Program Files\\X\\un.exe /S", None),
        ("   ", None),
    ],
)
def test_windows_command_lines_split_by_the_windows_rules(command_line, argv):
    assert split_windows_command_line(command_line) == argv


# -- Linux packages -------------------------------------------------------------------------


def test_dpkg_packages_are_listed_for_purging():
    scan = linux_scan(
        [("kesl", "dpkg", KASPERSKY), ("kesl-gui", "dpkg", KASPERSKY)],
        services=["kesl", "kesl-supervisor"],
        processes=["kesl"],
        paths=["/opt/kaspersky/kesl", "/var/opt/kaspersky"],
    )
    step = step_of(removal_plan(scan), "kesl")
    assert step["packages"] == ["kesl", "kesl-gui"]
    assert step["packages_by_source"] == {"dpkg": ["kesl", "kesl-gui"]}
    assert step["services"] == ["kesl", "kesl-supervisor"]
    assert step["processes"] == ["kesl"]
    assert step["paths"] == ["/opt/kaspersky/kesl", "/var/opt/kaspersky"]
    assert step["windows"] == [] and step["protected"] is False


def test_rpm_packages_are_listed_for_removal():
    scan = linux_scan([("klnagent64", "rpm", KASPERSKY), ("kesl", "rpm", KASPERSKY)])
    plan = removal_plan(scan)
    assert [step["packages_by_source"] for step in plan] == [
        {"rpm": ["kesl"]},
        {"rpm": ["klnagent64"]},
    ]


def test_service_evidence_only_stops_the_service_and_says_no_package_was_found():
    scan = linux_scan([], services=["kesl-supervisor"])
    step = step_of(removal_plan(scan), "kesl")
    assert step["packages"] == [] and step["packages_by_source"] == {}
    assert step["services"] == ["kesl-supervisor"]
    assert any("no package was found" in note for note in step["notes"])
    assert "stop and disable kesl-supervisor" in step["summary"]


def test_windows_service_evidence_only_has_no_command():
    step = step_of(removal_plan(windows_scan([], services=["klnagent"])), "klnagent")
    assert step["windows"] == []
    assert any("no package was found" in note for note in step["notes"])
    assert "stop and disable klnagent" in step["summary"]


# -- bad input ----------------------------------------------------------------------------


def filter_error(*args, **kwargs) -> str:
    with pytest.raises(AnsibleFilterError) as raised:
        FilterModule().filters()["removal_plan"](*args, **kwargs)
    return str(raised.value)


def test_filter_returns_the_same_plan_as_the_engine():
    scan = kes_and_agent()
    assert FilterModule().filters()["removal_plan"](scan) == removal_plan(scan)


def test_scan_without_inventory_says_to_return_it():
    scan = kes_and_agent()
    del scan["inventory"]
    assert "return_inventory: true" in filter_error(scan)


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        ("a string", "expected the registered result of avshift.remediation.av_scan"),
        ({"failed": True, "msg": "collector broke"}, "the scan failed"),
        ({"skipped": True}, "skipped"),
        ({"compliant": False}, "not an avshift.remediation.av_scan result"),
        ({"disallowed": []}, "not an avshift.remediation.av_scan result"),
        ({"os_family": "linux"}, "not an avshift.remediation.av_scan result"),
        (
            {"os_family": "windows", "disallowed": [], "inventory": {"os_family": "zos"}},
            "does not match",
        ),
        (
            {"os_family": "windows", "disallowed": [], "inventory": {"os_family": "linux"}},
            "does not match",
        ),
        ({"os_family": "macos", "disallowed": [], "inventory": {}}, "os_family"),
        ({"os_family": "linux", "disallowed": {}, "inventory": {"os_family": "linux"}}, "list"),
    ],
    ids=[
        "string",
        "failed",
        "skipped",
        "facts-only",
        "no-os-family",
        "no-findings",
        "os-mismatch-after",
        "os-mismatch",
        "unknown-os",
        "not-list",
    ],
)
def test_bad_scans_fail_clearly(scan, expected):
    assert expected in filter_error(scan)


def test_unknown_catalogue_product_fails():
    scan = kes_and_agent()
    scan["disallowed"][0] = {**scan["disallowed"][0], "product": "no_such_product"}
    assert "not a windows product of the catalogue" in filter_error(scan)


def test_package_evidence_missing_from_the_inventory_fails():
    scan = linux_scan([("kesl", "dpkg", KASPERSKY)])
    scan["inventory"]["packages"] = []
    assert "'kesl' is not a dpkg or rpm package" in filter_error(scan)


def test_windows_package_evidence_missing_from_the_inventory_fails_naming_the_first():
    names = ["Kaspersky Endpoint Security 12 for Windows", KES]
    scan = windows_scan([windows_package(name, None) for name in names])
    assert [len(f["evidence"]) for f in scan["disallowed"]] == [2]
    scan["inventory"]["packages"] = []
    first = sorted(normalize("packages", name) for name in names)[0]
    assert f"no uninstall entry of the inventory is named {first!r}" in filter_error(scan)


def test_an_inventory_entry_that_is_not_a_package_is_passed_over():
    scan = linux_scan([("kesl", "dpkg", KASPERSKY)])
    scan["inventory"]["packages"].insert(0, "kesl")  # a malformed entry, not a mapping
    assert step_of(removal_plan(scan), "kesl")["packages"] == ["kesl"]


@pytest.mark.parametrize(
    "path",
    # The last two are catalogue paths, of other vendors (before and after kaspersky).
    ["/", "/etc", "/opt/other-vendor", "/opt/drweb.com", "/opt/Symantec"],
)
def test_paths_outside_the_catalogue_are_never_planned(path):
    scan = linux_scan([("kesl", "dpkg", KASPERSKY)])
    scan["disallowed"][0]["evidence"].append({"kind": "path", "value": path})
    assert "refusing to plan its removal" in filter_error(scan)


@pytest.mark.parametrize(
    ("passwords", "expected"),
    [
        ({"kes_windws": {"password": "S3cret-x"}}, "no such product"),
        ({"klnagent": "S3cret-x"}, "expected a mapping"),
        ({"klnagent": {"login": "KLAdmin"}}, "password is missing"),
        ({"klnagent": {"password": 12345678}}, "quote numbers in YAML"),
        ({"klnagent": {"password": "S3cret-x", "pin": "1"}}, "unknown keys"),
        ({"kes_windows": {"password": "S3cret-x"}}, "login is missing (KLLOGIN needs it)"),
        ({"kes_windows": {"login": "KLAdmin", "password": 'S3cret "x"'}}, "double quote"),
        ({"kes_windows": {"login": "KL Admin", "password": "S3cret-x"}}, "blank"),
    ],
    ids=["typo", "not-mapping", "no-password", "number", "extra-key", "no-login", "quote", "blank"],
)
def test_bad_passwords_fail_without_showing_them(passwords, expected):
    for mask in (False, True):
        message = filter_error(kes_and_agent(), passwords=passwords, mask=mask)
        assert expected in message
        assert "S3cret" not in message and "12345678" not in message


def test_ansible_doc_documents_the_filter():
    ansible_doc = Path(sys.executable).parent / "ansible-doc"
    result = subprocess.run(
        [str(ansible_doc), "-t", "filter", "avshift.remediation.removal_plan"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "removal_order" in result.stdout
    assert "passwords" in result.stdout and "mask" in result.stdout


def test_plan_error_is_a_value_error():
    # The filter turns it into AnsibleFilterError; other callers can catch ValueError.
    assert issubclass(PlanError, ValueError)


# -- holds: what the roles must not carry out ---------------------------------------------

SERVER = "Kaspersky Security Center 14.2 Administration Server"
SERVER_CODE = "{5D35B3D8-9F0A-4C61-8C5E-0A4F1F5B2C31}"
CONSOLE = "Kaspersky Security Center 14.2 Administration Console"
CONSOLE_CODE = "{8E2A91C4-1B77-4C0E-9A61-3D4C52F0E7A9}"
WHY_SERVER = "it manages other hosts and holds their keys and policies"


def security_center_host() -> dict:
    """An Administration Server host: the server, its own agent, the console, and KES."""
    return windows_scan(
        [
            windows_package(AGENT, AGENT_CODE),
            windows_package(SERVER, SERVER_CODE),
            windows_package(CONSOLE, CONSOLE_CODE),
            windows_package(KES, KES_CODE),
        ],
        services=["kladminserver", "klnagent", "AVP"],
    )


def test_an_administration_server_is_refused_saying_why_and_keeps_its_place():
    plan = removal_plan(security_center_host())
    assert [step["product"] for step in plan] == [
        "kes_windows",
        "ksc_console",
        "ksc_server",
        "klnagent",
    ]
    server = step_of(plan, "ksc_server")
    assert server["hold"] == HOLD_REFUSED
    assert server["hold_reason"].startswith(f"{SERVER} is never removed by avshift: ")
    assert WHY_SERVER in server["hold_reason"]
    assert server["summary"] == (
        f"{SERVER} (kaspersky/ksc_server): held, not removed: {server['hold_reason']}"
    )
    # Its uninstall command is still planned, for the record: the roles do not run it.
    assert server["windows"][0]["product_code"] == SERVER_CODE


def test_the_servers_own_network_agent_is_held_with_it_but_not_kes_or_the_console():
    plan = removal_plan(security_center_host())
    agent = step_of(plan, "klnagent")
    assert agent["hold"] == HOLD_REFUSED
    assert SERVER in agent["hold_reason"]
    assert step_of(plan, "kes_windows")["hold"] is None
    assert step_of(plan, "ksc_console")["hold"] is None
    # Elsewhere the Network Agent is removed as ever.
    assert [step["hold"] for step in removal_plan(kes_and_agent())] == [None, None]


def test_a_network_agent_beside_a_product_removed_by_hand_is_removed_as_ever():
    # Kaspersky Anti-Virus (a consumer line) is held to be removed by hand; it manages
    # no hosts, so the Network Agent is nobody's own agent and goes.
    scan = windows_scan(
        [windows_package("Kaspersky Anti-Virus 21.3", None), windows_package(AGENT, AGENT_CODE)],
        services=["klnagent", "AVP"],
    )
    holds = {step["product"]: step["hold"] for step in removal_plan(scan)}
    assert holds == {"kav": HOLD_REFUSED, "klnagent": None}


def test_a_security_center_for_linux_server_is_refused_with_its_own_agent():
    scan = linux_scan(
        [
            ("ksc64", "dpkg", KASPERSKY),
            ("ksc-web-console", "dpkg", KASPERSKY),
            ("klnagent64", "dpkg", KASPERSKY),
        ],
        services=["kladminserver_srv", "klnagent_srv", "KSCWebConsole"],
    )
    plan = removal_plan(scan)
    assert [(step["product"], step["hold"]) for step in plan] == [
        ("ksc_web_console", None),
        ("ksc_server", HOLD_REFUSED),
        ("klnagent", HOLD_REFUSED),
    ]
    server = step_of(plan, "ksc_server")
    # klnagent_srv is part of the server, not an agent to remove.
    assert server["services"] == ["kladminserver_srv", "klnagent_srv"]
    assert WHY_SERVER in server["hold_reason"]


def test_a_removal_on_unverified_names_alone_waits_for_confirmation():
    # kav4ws: neither its package name nor its directory has a source.
    scan = linux_scan([("kav4ws", "rpm", "")], paths=["/opt/kaspersky/kav4ws"])
    [step] = removal_plan(scan)
    assert step["hold"] == HOLD_CONFIRM
    assert "kav4ws, /opt/kaspersky/kav4ws" in step["hold_reason"]
    assert "avshift_remediate_confirmed" in step["hold_reason"]
    assert "[kaspersky/kav4ws]" in step["hold_reason"]
    assert step["packages_by_source"] == {"rpm": ["kav4ws"]}  # planned, not carried out
    [confirmed] = removal_plan(scan, confirmed=["kaspersky/kav4ws"])
    assert confirmed["hold"] is None
    assert confirmed["summary"].startswith("kav4ws (kaspersky/kav4ws): remove rpm packages kav4ws")


def test_a_sourced_publisher_is_enough_to_remove_also_in_a_scan_read_from_json():
    # kav4ws: its name has no source, the publisher of its package has.
    scan = linux_scan([("kav4ws", "rpm", KASPERSKY)])
    for read in (scan, json.loads(json.dumps(scan))):
        assert [step["hold"] for step in removal_plan(read)] == [None]


def test_one_sourced_piece_of_evidence_is_enough_to_remove():
    # kav4fs: its package name has no source, its kav4fs-control path does.
    unsourced = linux_scan([("kav4fs", "rpm", "")])
    assert [step["hold"] for step in removal_plan(unsourced)] == [HOLD_CONFIRM]
    sourced = linux_scan(
        [("kav4fs", "rpm", "")], paths=["/opt/kaspersky/kav4fs/bin/kav4fs-control"]
    )
    assert [step["hold"] for step in removal_plan(sourced)] == [None]
    # So is a publisher a source shows for the vendor, on the package itself.
    published = linux_scan([("kav4fs", "rpm", "Kaspersky Lab")])
    assert [step["hold"] for step in removal_plan(published)] == [None]
    other = linux_scan([("kaspersky-update-utility", "rpm", "Kaspersky Lab")])
    assert [(step["product"], step["hold"]) for step in removal_plan(other)] == [("other", None)]
    # A publisher string no source shows proves nothing more than the name.
    unsourced_publisher = linux_scan([("kav4fs", "rpm", "Kaspersky Lab UK Ltd")])
    assert [step["hold"] for step in removal_plan(unsourced_publisher)] == [HOLD_CONFIRM]


def test_residue_on_unverified_paths_alone_waits_for_confirmation():
    scan = linux_scan([], paths=["/var/log/kaspersky"])
    [step] = removal_plan(scan)
    assert step["residue"] is True
    assert step["hold"] == HOLD_CONFIRM
    assert "[kaspersky/residue]" in step["hold_reason"]
    assert removal_plan(scan, confirmed=["kaspersky/residue"])[0]["hold"] is None


@pytest.mark.parametrize(
    "confirmed", [["kaspersky/kav4wx"], ["kasperksy/kav4ws"], ["kav4ws"], [7], "kaspersky/kav4ws"]
)
def test_a_confirmation_that_names_no_catalogue_product_fails(confirmed):
    scan = linux_scan([("kav4ws", "rpm", "")])
    message = filter_error(scan, confirmed=confirmed)
    assert "confirmed" in message


def test_a_password_protected_server_product_waits_for_an_operators_confirmation():
    ksws = "Kaspersky Security for Windows Server"
    code = "{6A1D2B3C-4E5F-4061-8A9B-C0D1E2F3A4B5}"
    scan = windows_scan([windows_package(ksws, code)])
    step = step_of(removal_plan(scan), "ksws")
    assert step["hold"] == HOLD_CONFIRM
    assert "turn protection off in its policy first" in step["hold_reason"]
    assert "[kaspersky/ksws]" in step["hold_reason"]
    confirmed = step_of(removal_plan(scan, confirmed=["kaspersky/ksws"]), "ksws")
    assert confirmed["hold"] is None
    assert confirmed["windows"][0]["argv"][2] == code


def test_kes_with_its_encryption_installed_is_refused():
    code = "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}"
    kes = "Kaspersky Endpoint Security for Windows"

    def host(*drivers):
        inventory = windows_scan([windows_package(kes, code)])["inventory"]
        return scan_of({**inventory, "drivers": [{"name": d, "state": "running"} for d in drivers]})

    step = step_of(removal_plan(host("klif", "Klfle.sys"), confirmed=CONFIRM_ALL), "kes_windows")
    assert step["hold"] == HOLD_REFUSED
    assert step["hold_reason"].startswith(f"{kes} must be removed by hand: Klfle.sys found, ")
    assert "lose the keys users need to open encrypted files" in step["hold_reason"]
    # Without the encryption drivers the same host is removed as usual.
    assert step_of(removal_plan(host("klif"), confirmed=CONFIRM_ALL), "kes_windows")["hold"] is None


def test_an_uninstall_entry_and_services_that_disagree_are_refused_not_guessed():
    # KES's entry, but only the Network Agent's service runs and KES's AVP does not:
    # the entry may well be a localised agent that the catalogue took for KES.
    code = "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}"
    packages = [windows_package("Kaspersky Endpoint Security for Windows", code)]
    plan = removal_plan(windows_scan(packages, services=["klnagent"]), confirmed=CONFIRM_ALL)
    holds = {step["product"]: step["hold"] for step in plan}
    assert holds == {"kes_windows": HOLD_REFUSED, "klnagent": HOLD_REFUSED}
    reason = step_of(plan, "kes_windows")["hold_reason"]
    assert "the host runs none of its services and runs klnagent of" in reason
    # With KES's own service running, the two agree and nothing is held.
    agreed = removal_plan(
        windows_scan(packages, services=["klnagent", "AVP"]), confirmed=CONFIRM_ALL
    )
    assert [step["hold"] for step in agreed] == [None, None]


def test_sentinelone_takes_its_passphrase_as_uninstall_key():
    code = "{4F6A2E1B-3C5D-4E7F-8A9B-0C1D2E3F4A5B}"
    entry = windows_package("Sentinel Agent", code, publisher="SentinelOne, Inc.")
    scan = windows_scan([entry], disallowed=("kaspersky", "sentinelone"))
    passwords = {"sentinelone_windows": {"password": "S1-pass"}}
    action = action_of(removal_plan(scan, passwords=passwords), "sentinelone_windows")
    assert action["argv"] == [*MSIEXEC, code, *QUIET, "UNINSTALL_KEY=S1-pass"]
    assert step_of(removal_plan(scan), "sentinelone_windows")["needs_password"] is True


def test_the_filter_takes_the_confirmations():
    scan = linux_scan([("kav4ws", "rpm", "")])
    plan = FilterModule().filters()["removal_plan"](scan, confirmed=["kaspersky/kav4ws"])
    assert [step["hold"] for step in plan] == [None]


# -- every Kaspersky component: its place, its password, its refusal --------------------

# The hand-written cases use names without a source too: confirmed, so only the refusals
# the catalogue makes are held.
CONFIRM_ALL = [f"kaspersky/{product.id}" for product in load_catalogue().products["kaspersky"]] + [
    "kaspersky/other"
]

PRODUCT_CASES = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "data" / "hand_written" / "products.yml").read_text(
        encoding="utf-8"
    )
)
KASPERSKY_CASES = [
    (key.split("/")[1], family, entries)
    for key, families in PRODUCT_CASES.items()
    if key.startswith("kaspersky/")
    for family, entries in families.items()
]


def _case_scan(family: str, entries: dict) -> dict:
    inventory = {"schema": 1, "host": HOST, "os_family": family, **entries}
    return scan_of(inventory)


@pytest.mark.parametrize(
    ("product_id", "family", "entries"),
    KASPERSKY_CASES,
    ids=[f"{product}-{family}" for product, family, _ in KASPERSKY_CASES],
)
def test_every_kaspersky_component_has_its_place_password_and_refusal(product_id, family, entries):
    catalogue = load_catalogue()
    product = catalogue.product("kaspersky", product_id, family)
    step = step_of(removal_plan(_case_scan(family, entries), confirmed=CONFIRM_ALL), product_id)
    assert step["role"] == product.role
    # Which need a password: exactly those with a password-protected uninstall.
    assert step["needs_password"] is bool(product.uninstall_properties)
    # Which are refused: every product of a role the catalogue never removes, and every
    # product it says is removed by hand (the consumer line, installed by its own setup).
    refused = product.role in catalogue.refused_roles or product.manual_removal is not None
    assert (step["hold"] == HOLD_REFUSED) is refused
    if product.role in catalogue.refused_roles:
        assert "it manages other hosts and holds their keys and policies" in step["hold_reason"]
    elif refused:
        assert step["hold_reason"] == (
            f"{step['name']} must be removed by hand: {product.manual_removal}"
        )


def test_a_host_with_every_kaspersky_component_removes_them_in_the_catalogues_order():
    catalogue = load_catalogue()
    for family in ("linux", "windows"):
        merged: dict[str, list] = {}
        for _product, case_family, entries in KASPERSKY_CASES:
            if case_family == family:
                for kind, items in entries.items():
                    merged.setdefault(kind, []).extend(items)
        plan = removal_plan(_case_scan(family, merged), confirmed=CONFIRM_ALL)
        ranks = [catalogue.removal_rank(step["role"]) for step in plan if not step["residue"]]
        assert ranks == sorted(ranks), [step["product"] for step in plan]
        # Consoles go before the Administration Server, the Network Agent after it.
        products = [step["product"] for step in plan]
        assert products.index("ksc_server") < products.index("klnagent"), products
        console = "ksc_console" if family == "windows" else "ksc_web_console"
        assert products.index(console) < products.index("ksc_server"), products
        # The server's host keeps its own agent too: both are held.
        assert step_of(plan, "klnagent")["hold"] == HOLD_REFUSED


def test_a_scan_that_went_through_json_plans_the_same():
    scan = kes_and_agent()
    assert removal_plan(json.loads(json.dumps(scan))) == removal_plan(scan)


def test_failure_messages_name_the_host_the_scan_or_its_inventory_names():
    scan = kes_and_agent()
    scan["host"] = None
    assert f"on {HOST}" in action_of(removal_plan(scan), "kes_windows")["failure_messages"]["other"]
    scan["inventory"] = {**scan["inventory"], "host": None}
    assert (
        "on this host" in action_of(removal_plan(scan), "kes_windows")["failure_messages"]["other"]
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f.pop("vendor"), "disallowed[0].vendor"),
        (lambda f: f.update(product=""), "disallowed[0].product"),
        (lambda f: f.update(name=3), "disallowed[0].name"),
        (lambda f: f.update(evidence="kesl"), "disallowed[0].evidence"),
        (lambda f: f["evidence"].append("kesl"), "disallowed[0].evidence[1]"),
        (lambda f: f["evidence"].append({"value": "x"}), "disallowed[0].evidence[1].kind"),
        (lambda f: f["evidence"].append({"kind": "path"}), "disallowed[0].evidence[1].value"),
    ],
)
def test_a_malformed_finding_is_refused_naming_its_field(change, field):
    scan = linux_scan([("kesl", "dpkg", KASPERSKY)])
    change(scan["disallowed"][0])
    assert field in filter_error(scan)


def test_a_residue_scan_that_went_through_json_plans_the_same():
    scan = linux_scan([], paths=["/var/opt/kaspersky"])
    assert removal_plan(json.loads(json.dumps(scan))) == removal_plan(scan)


def test_unusable_uninstall_entries_are_passed_over_and_the_rest_planned():
    scan = kes_and_agent()
    scan["inventory"]["packages"] = [
        "not an entry",
        {"name": None},
        *scan["inventory"]["packages"],
    ]
    assert [step["product"] for step in removal_plan(scan)] == ["kes_windows", "klnagent"]


def test_entries_without_a_product_code_are_one_command_per_uninstaller():
    quiet = '"C:\\KL\\uninst.exe" /S'
    first = windows_package(
        "KL Update Utility",
        None,
        uninstall_string="C:\\KL\\uninst.exe",
        quiet_uninstall_string=quiet,
    )
    second = {**first, "uninstall_string": "C:\\KL\\other.exe"}
    plan = removal_plan(windows_scan([first, dict(first), second]))
    assert len(step_of(plan, "other")["windows"]) == 2


def test_an_empty_credential_masks_nothing():
    text = "msiexec /x {code} KLLOGIN=KLAdmin"
    assert mask_credentials(
        text, {"kes_windows": {"login": "", "password": ""}}, "kes_windows"
    ) == (text)


def test_linux_and_publisher_only_scans_that_went_through_json_plan_the_same():
    scan = linux_scan(
        [
            ("kesl", "dpkg", KASPERSKY),
            ("kaspersky-update-utility", "dpkg", "Kaspersky Lab <support@example.invalid>"),
        ]
    )
    assert removal_plan(json.loads(json.dumps(scan))) == removal_plan(scan)


def test_residue_takes_only_the_paths_of_its_evidence_and_protects_nothing():
    scan = linux_scan([], paths=["/var/opt/kaspersky"])
    scan["residue"][0]["evidence"] += [
        "/opt/kaspersky",
        {"kind": "package", "value": "kesl"},
        {"kind": "publisher", "value": KASPERSKY},
    ]
    [step] = removal_plan(scan)
    assert step["paths"] == ["/var/opt/kaspersky"]
    assert step["protected"] is False and step["needs_password"] is False
    assert step["summary"] == (
        "Kaspersky residue: with avshift_uninstall_remove_residue delete /var/opt/kaspersky"
    )


def test_a_remediation_plan_names_the_remediate_roles_variables():
    plan = removal_plan(
        kes_and_agent(), passwords={"klnagent": {"password": "P@ss"}}, role="remediate"
    )
    kes = step_of(plan, "kes_windows")
    assert any("avshift_remediate_passwords.kes_windows" in note for note in kes["notes"])
    message = uninstall_outcome(action_of(plan, "kes_windows"), 1603)["message"]
    assert "(avshift_remediate_passwords.kes_windows)" in message
    message = uninstall_outcome(action_of(plan, "klnagent"), 1603)["message"]
    assert "a wrong password in avshift_remediate_passwords.klnagent" in message
    # (avshift_uninstall_busy_retries stays: the remediate role has no name of its own for it.)
    assert "avshift_uninstall_passwords" not in str(plan)
    with pytest.raises(PlanError, match=r"avshift_remediate_passwords\.kes_wndows: no such"):
        removal_plan(kes_and_agent(), passwords={"kes_wndows": {}}, role="remediate")
    [residue] = removal_plan(linux_scan([], paths=["/var/opt/kaspersky"]), role="remediate")
    assert residue["notes"] == [
        "paths left without software: removed only with avshift_remediate_remove_residue"
    ]


@pytest.mark.parametrize(
    ("remove_residue", "says"),
    [
        (True, "delete /var/opt/kaspersky"),
        (False, "leave /var/opt/kaspersky (avshift_remediate_remove_residue is off)"),
        (None, "with avshift_remediate_remove_residue delete /var/opt/kaspersky"),
    ],
)
def test_the_summary_says_whether_the_residue_will_be_deleted(remove_residue, says):
    scan = linux_scan([], paths=["/var/opt/kaspersky"])
    [step] = removal_plan(scan, role="remediate", remove_residue=remove_residue)
    assert step["summary"] == f"Kaspersky residue: {says}"


def test_an_unknown_role_is_refused():
    with pytest.raises(PlanError, match="role: expected one of uninstall, remediate, got 'audit'"):
        removal_plan(linux_scan([]), role="audit")


def test_summaries_say_who_stops_the_services_and_mask_only_msiexec_properties():
    linux = step_of(
        removal_plan(linux_scan([("kesl", "dpkg", KASPERSKY)], services=["kesl"])), "kesl"
    )
    assert linux["summary"].startswith("kesl (kaspersky/kesl): stop and disable kesl; remove dpkg")
    assert "delete" not in linux["summary"]
    windows = removal_plan(kes_and_agent(), passwords=PASSWORDS)
    assert "its uninstaller stops AVP" in step_of(windows, "kes_windows")["summary"]
    quiet = windows_package(
        "KL Update Utility", None, quiet_uninstall_string='"C:\\KL\\uninst.exe" /S /quiet'
    )
    other = step_of(removal_plan(windows_scan([quiet])), "other")
    assert other["summary"].endswith(": C:\\KL\\uninst.exe /S /quiet")
    assert "uninstaller stops" not in other["summary"]


def _disagreeing(*packages, services=("klnagent",), disallowed=("kaspersky",)):
    code = "{3B2F1C9E-8A74-4E1D-B5C6-0D9A2E7F4C18}"
    entries = [*packages, windows_package("Kaspersky Endpoint Security for Windows", code)]
    return windows_scan(entries, services=list(services), disallowed=disallowed)


def test_a_disagreement_is_found_behind_a_held_step():
    # The Administration Server's entry comes first, and is held (refused) itself.
    plan = removal_plan(_disagreeing(windows_package(SERVER, SERVER_CODE)), confirmed=CONFIRM_ALL)
    kes = step_of(plan, "kes_windows")
    assert kes["hold"] == HOLD_REFUSED
    assert "the catalogue and the host disagree" in kes["hold_reason"]


def test_publisher_only_software_on_a_server_host_goes_after_the_server_before_its_agent():
    scan = security_center_host()
    scan = scan_of(
        {
            **scan["inventory"],
            "packages": [
                *scan["inventory"]["packages"],
                windows_package("KL Update Utility", "{11111111-2222-3333-4444-555555555555}"),
            ],
        }
    )
    assert [step["product"] for step in removal_plan(scan)] == [
        "kes_windows",
        "ksc_console",
        "ksc_server",
        "other",
        "klnagent",
    ]


def test_a_disagreement_is_found_behind_other_steps_and_in_a_scan_read_from_json():
    other = windows_package("KL Update Utility", "{11111111-2222-3333-4444-555555555555}")
    scan = json.loads(json.dumps(_disagreeing(other)))
    holds = {step["product"]: step["hold"] for step in removal_plan(scan, confirmed=CONFIRM_ALL)}
    assert holds == {"other": None, "kes_windows": HOLD_REFUSED, "klnagent": HOLD_REFUSED}


def test_no_disagreement_with_a_product_seen_by_its_process_alone_or_behind_a_held_entry():
    # The Network Agent's process, not its service: nothing says which entry it has.
    by_process = scan_of(
        {
            "schema": 1,
            "host": HOST,
            "os_family": "windows",
            "packages": [windows_package(KES, KES_CODE)],
            "processes": [{"name": "klnagent"}],
        }
    )
    assert [step["hold"] for step in removal_plan(by_process, confirmed=CONFIRM_ALL)] == [
        None,
        None,
    ]
    # A held entry (the Administration Server's) is not weighed against KES's service.
    held = windows_scan([windows_package(SERVER, SERVER_CODE)], services=["AVP"])
    holds = {step["product"]: step["hold"] for step in removal_plan(held, confirmed=CONFIRM_ALL)}
    assert holds == {"ksc_server": HOLD_REFUSED, "kes_windows": None}


def test_no_disagreement_with_another_vendors_services_or_an_agent_that_has_its_entry():
    sentinel = removal_plan(
        _disagreeing(services=("SentinelAgent",), disallowed=("kaspersky", "sentinelone")),
        confirmed=CONFIRM_ALL,
    )
    assert {step["product"]: step["hold"] for step in sentinel}["kes_windows"] is None
    # A vendor named before kaspersky as well as one after it.
    crowdstrike = removal_plan(
        _disagreeing(services=("CSFalconService",), disallowed=("kaspersky", "crowdstrike")),
        confirmed=CONFIRM_ALL,
    )
    assert {step["product"]: step["hold"] for step in crowdstrike}["kes_windows"] is None
    agent = windows_package(AGENT, AGENT_CODE)
    listed = removal_plan(_disagreeing(agent), confirmed=CONFIRM_ALL)
    assert [step["hold"] for step in listed] == [None, None]
