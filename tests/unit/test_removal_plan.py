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
from ansible.errors import AnsibleFilterError

from ansible_collections.avshift.remediation.plugins.filter.removal_plan import (
    FilterModule,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.removal import (
    MASK,
    PlanError,
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


def scan_of(inventory: dict) -> dict:
    """What av_scan registers with return_inventory: true."""
    return {**classify(inventory), "host": inventory["host"], "inventory": inventory}


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


def windows_scan(packages: list[dict], services=(), paths=()) -> dict:
    return scan_of(
        {
            "schema": 1,
            "host": HOST,
            "os_family": "windows",
            "packages": packages,
            "services": [{"name": name, "state": "running"} for name in services],
            "paths": list(paths),
        }
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


def test_1603_without_password_says_a_password_is_required():
    action = action_of(removal_plan(kes_and_agent(), passwords={}), "kes_windows")
    outcome = uninstall_outcome(action, 1603)
    assert outcome == {
        "done": False,
        "reboot": False,
        "message": f"uninstall password required for {KES} on {HOST}",
    }


def test_1603_with_password_blames_the_password():
    action = action_of(removal_plan(kes_and_agent(), passwords=PASSWORDS), "klnagent")
    message = uninstall_outcome(action, 1603)["message"]
    assert message.startswith(f"uninstall of {AGENT} failed (msiexec 1603) on {HOST}: ")
    assert "avshift_uninstall_passwords.klnagent" in message
    assert "P@ss" not in message


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
    assert uninstall_outcome(action, 3010)["done"] is False


def test_non_msi_entry_without_quiet_string_is_manual():
    entry = windows_package(
        "KL Update Utility", None, uninstall_string='"C:\\Program Files\\KL\\uninst.exe"'
    )
    step = step_of(removal_plan(windows_scan([entry])), "other")
    action = step["windows"][0]
    assert action["manual"] is True
    assert action["argv"] is None
    assert "QuietUninstallString" in action["reason"]
    assert any("manual removal" in note for note in step["notes"])


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
        # Unsafe: an unterminated quote, an unquoted program path with blanks, nothing.
        ('"C:\\X\\un.exe /S', None),
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
        (
            {"os_family": "windows", "disallowed": [], "inventory": {"os_family": "linux"}},
            "does not match",
        ),
        ({"os_family": "macos", "disallowed": [], "inventory": {}}, "os_family"),
        ({"os_family": "linux", "disallowed": {}, "inventory": {"os_family": "linux"}}, "list"),
    ],
    ids=["string", "failed", "skipped", "facts-only", "os-mismatch", "unknown-os", "not-list"],
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


@pytest.mark.parametrize("path", ["/", "/etc", "/opt/other-vendor"])
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
        ({"kes_windows": {"password": "S3cret-x"}}, "login is missing"),
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
