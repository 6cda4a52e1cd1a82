"""The contract module's own promises: the exit codes scripts and AWX templates rely on,
the order statuses are shown in, report directory names and modes, the secret names."""

from __future__ import annotations

import dataclasses
import datetime
import re
import signal

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract
from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit


def test_exit_codes_are_the_documented_numbers_and_signals_follow_the_shell_convention():
    # Published in the README and the runbook; a job template's success rule reads them.
    assert [int(code) for code in (Exit.OK, Exit.NON_COMPLIANT, Exit.INVALID)] == [0, 1, 2]
    assert [int(code) for code in (Exit.NOT_AUDITED, Exit.TOOL_FAILURE)] == [3, 4]
    assert Exit.SIGINT == 128 + signal.SIGINT
    assert Exit.SIGTERM == 128 + signal.SIGTERM


def test_statuses_sort_worst_first_with_interrupted_beside_failed():
    ranked = sorted(contract.STATUSES, key=lambda status: status.rank)
    assert [status.id for status in ranked] == [
        "non-compliant",
        "failed",
        "interrupted",
        "unreachable",
        "deferred",
        "compliant",
    ]
    assert contract.STATUS_BY_ID["failed"].rank == contract.STATUS_BY_ID["interrupted"].rank


def test_a_status_cannot_be_changed_by_the_code_that_shows_it():
    with pytest.raises(dataclasses.FrozenInstanceError):
        contract.STATUS_BY_ID["compliant"].exit = Exit.NON_COMPLIANT


def test_the_report_schema_is_the_one_the_golden_reports_carry():
    assert contract.REPORT_SCHEMA == 1  # a new schema comes with new golden files


def test_report_files_take_the_directory_mode_without_execute_bits():
    assert contract.REPORT_DIR_MODE == 0o700
    assert contract.file_mode(contract.REPORT_DIR_MODE) == 0o600
    assert contract.file_mode(0o750) == 0o640
    assert contract.file_mode(0o1755) == 0o644


@pytest.mark.parametrize(
    "text, mode",
    [("0700", 0o700), ("700", 0o700), ("0750", 0o750), ("0770", 0o770), ("0701", 0o701)],
)
def test_a_report_mode_the_owner_can_use_and_nobody_else_can_write_is_taken(text, mode):
    assert contract.parse_mode(text) == mode


@pytest.mark.parametrize(
    "text",
    ["0600", "0500", "0300", "0702", "0706", "0777", "1700", "-700", "-100", "0", "800", "rwx"],
)
def test_a_report_mode_the_owner_cannot_use_or_others_can_write_is_refused(text):
    with pytest.raises(ValueError):
        contract.parse_mode(text)


def test_a_default_report_directory_is_named_after_the_kind_and_the_utc_start():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2026, 12, 1, 23, 30, 5, tzinfo=paris)
    assert contract.default_report_dir("audit", moment) == "reports/audit-20261201T223005Z"


def test_a_default_report_directory_without_a_time_is_named_after_now():
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = contract.default_report_dir("remediation")
    after = datetime.datetime.now(datetime.timezone.utc)
    match = re.fullmatch(r"reports/remediation-(\d{8}T\d{6}Z)", name)
    assert match, name
    stamp = datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    assert before <= stamp <= after


def test_secret_names_include_every_deprecated_role_variable_name():
    names = contract.secret_variables()
    assert set(contract.SECRET_VARIABLES) <= set(names)
    assert "remediate_passwords" in names and "install_mdatp_onboarding_json" in names
    # Connection passwords never had another name.
    assert "password" not in names and "winrm_password" not in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "count, word, many, text",
    [
        (0, "host", None, "0 hosts"),
        (1, "host", None, "1 host"),
        (2, "host", None, "2 hosts"),
        (1, "policy", "policies", "1 policy"),
        (3, "policy", "policies", "3 policies"),
    ],
)
def test_counts_read_as_words(count, word, many, text):
    assert contract.plural(count, word, many) == text
