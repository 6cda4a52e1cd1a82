# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract between avshift's parts: every fact more than one part relies on.

The collectors, the classifier, the roles' plugins, the fleet report and the CLI all
import what they share from here, so that a status, an exit code or a file name is
written once. Pure Python on the controller, no Ansible imports: the CLI reads it too.
"""

from __future__ import annotations

import datetime
import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass


class Exit(enum.IntEnum):
    """Exit codes of every avshift command (and of `bin/avshift`, `bin/test` set-up)."""

    OK = 0
    NON_COMPLIANT = 1
    INVALID = 2
    NOT_AUDITED = 3
    TOOL_FAILURE = 4
    SIGINT = 130
    SIGTERM = 143


# What each code means, as --help, the README and the runbook say it.
EXIT_MEANINGS = {
    Exit.OK: "every host is compliant",
    Exit.NON_COMPLIANT: "a host is not compliant",
    Exit.INVALID: "invalid input or usage, or a refused change: nothing ran on any host",
    Exit.NOT_AUDITED: (
        "a host could not be audited or remediated (unreachable, failed, deferred or interrupted)"
    ),
    Exit.TOOL_FAILURE: (
        "avshift itself could not do its job: no trustworthy report (report directory, "
        "disk, Python, ansible-runner or ansible-playbook, internal error)"
    ),
    Exit.SIGINT: "interrupted by SIGINT (Ctrl-C)",
    Exit.SIGTERM: "interrupted by SIGTERM (a job cancel, a service stop)",
}

# When several apply, the first of this order wins: a run that did not start says so
# before anything else; a report that cannot be trusted outranks what it would say; an
# interrupted run is incomplete whatever its hosts show; a host nobody could check
# outranks one known to be non-compliant, which is the verdict a change is for.
EXIT_PRECEDENCE = (
    Exit.INVALID,
    Exit.TOOL_FAILURE,
    Exit.SIGINT,
    Exit.SIGTERM,
    Exit.NOT_AUDITED,
    Exit.NON_COMPLIANT,
    Exit.OK,
)


def combine_exits(codes: Iterable[int]) -> Exit:
    """The one code of a run in which each of `codes` applies (none: OK)."""
    present = {Exit(code) for code in codes}
    return next((code for code in EXIT_PRECEDENCE if code in present), Exit.OK)


@dataclass(frozen=True)
class Status:
    """A host's status in a run, and everything every format says about it."""

    id: str
    label: str
    # A shape next to the colour, so a status never depends on telling colours apart.
    symbol: str
    # Worst first: an ascending sort puts what needs action on top.
    rank: int
    exit: Exit
    # How JUnit shows it: a failure (the host is wrong), an error (nobody could check
    # it), skipped (never started), or a passing test case.
    junit: str


STATUSES = (
    Status("compliant", "Compliant", "✓", 4, Exit.OK, "pass"),
    Status("non-compliant", "Non-compliant", "✗", 0, Exit.NON_COMPLIANT, "failure"),
    Status("unreachable", "Unreachable", "?", 2, Exit.NOT_AUDITED, "error"),
    Status("failed", "Failed", "!", 1, Exit.NOT_AUDITED, "error"),
    # Not touched: it waits for the next window, after every problem.
    Status("deferred", "Deferred", "»", 3, Exit.NOT_AUDITED, "skipped"),
    # The run stopped before the host's outcome was known: what completed is in its
    # actions; ranked with failed, since somebody has to look.
    Status("interrupted", "Interrupted", "‖", 1, Exit.NOT_AUDITED, "error"),
)
# Statuses a report shows only when a host has them: an audit defers nothing, and most
# runs are not interrupted.
OCCASIONAL_STATUSES = ("interrupted",)
STATUS_BY_ID = {status.id: status for status in STATUSES}
# Statuses of a host that was read, whatever the verdict: what "last audited" means.
AUDITED_STATUSES = tuple(
    status.id for status in STATUSES if status.exit in (Exit.OK, Exit.NON_COMPLIANT)
)
STATUS_IDS = tuple(status.id for status in STATUSES)


# What an approved product found on a host does for it, the same words in every report
# format and in `avshift classify`: running and meeting the policy's protection rules
# (signature age, real-time protection); running but not meeting them (the reason is
# given); installed but not running (Defender in passive mode, a stopped clamd). Only a
# protecting product makes a host compliant.
PROTECTION_STATES = {
    "protecting": "active and protecting",
    "not-protecting": "active, not protecting",
    "not-active": "present, not active",
}


def exit_for_statuses(statuses: Iterable[str]) -> Exit:
    """The exit code that the hosts of a run decide (unknown statuses count as failed)."""
    failed = STATUS_BY_ID["failed"]
    return combine_exits(STATUS_BY_ID.get(status, failed).exit for status in statuses)


def exit_for_summary(summary: dict) -> Exit:
    """The same, from a report's summary (status -> count)."""
    return exit_for_statuses(status for status in STATUS_IDS if summary.get(status))


# The oldest host Python the Linux collector is written and tested for. Where the
# controller's ansible-core needs a newer one on targets (2.17: 3.7, 2.18: 3.8, 2.21:
# 3.9; its module_utils/basic.py _PY_MIN), that one is the floor: plugins/action/av_scan.py.
COLLECTOR_PYTHON_FLOOR = (3, 6)


# What a change id must match unless a site says otherwise (--change-id-pattern,
# avshift_remediate_change_id_pattern): a ticket prefix and a number, e.g. CHG0012345.
CHANGE_ID_PATTERN = r"^[A-Z][A-Z0-9]*-?[0-9]+$"


# How a real remediation run was allowed to start, as the change record shows it
# (avshift_remediate_confirmation, set by the avshift command): the operator typed the
# change id at its prompt, or --yes (automation, AWX) skipped the prompt. A run started
# any other way (ansible-playbook, an AWX template) records none: it was not asked.
CONFIRMATIONS = {
    "typed": "the operator typed the change id at the prompt",
    "yes": "--yes: started without a prompt",
}
# The fleet report's own format (report.json "schema"); bumped when a field changes meaning.
REPORT_SCHEMA = 1

# Report directories: one per run, named after the run's kind and its UTC start time.
# A relative path means relative to the directory the command was started in.
REPORT_DIR_PARENT = "reports"


# A report directory avshift creates is the owner's alone: the reports name every host
# and what runs on it (--report-mode, AVSHIFT_REPORT_MODE, [avshift] report_mode for
# teams that share them). Its files take its permissions without the execute bits.
REPORT_DIR_MODE = 0o700


def file_mode(directory_mode: int) -> int:
    """The mode of the files avshift writes into a directory of this mode."""
    return directory_mode & 0o666


def parse_mode(text: str) -> int:
    """A report directory mode as given (octal, e.g. 0750); ValueError when it is not
    one for evidence: the owner's rwx, and nobody else may write."""
    mode = int(text, 8)
    if not 0 <= mode <= 0o777 or mode & 0o700 != 0o700 or mode & 0o002:
        raise ValueError(text)
    return mode


def default_report_dir(kind: str, now: datetime.datetime | None = None) -> str:
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = moment.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return os.path.join(REPORT_DIR_PARENT, f"{kind}-{stamp}")


# What the fleet_report callback tells every task of its run (environment variables set
# in ansible-playbook's own process, which its workers inherit): which run they are part
# of, the process that stands for it, and where its record is kept. host_lock writes them
# into the host's lock.
RUN_ENVIRONMENT = {
    "run_id": "AVSHIFT_RUN_ID",
    "pid": "AVSHIFT_RUN_PID",
    "report_dir": "AVSHIFT_RUN_REPORT_DIR",
}

# The lines the fleet_report callback prints when it cannot write the reports or the
# journal; the CLI exits 4 with them (and stops a run whose journal broke).
REPORT_WRITE_ERROR = "avshift: cannot write the fleet report"
JOURNAL_WRITE_ERROR = "avshift: cannot write the run journal"


# Variables whose values are secrets: uninstall passwords, the tenant's onboarding (its
# content, or the file that holds it), URLs of internal mirrors (which may carry an
# access token) and the connection's own passwords. Every role's argument spec marks them
# no_log, no task shows them, and the CLI warns when one is given on its command line.
SECRET_VARIABLES = (
    "avshift_remediate_passwords",
    "avshift_uninstall_passwords",
    "avshift_install_mdatp_onboarding_json",
    "avshift_install_mdatp_onboarding_file",
    "avshift_install_defender_onboarding_script",
    "avshift_install_mdatp_repository_url",
    "avshift_install_mdatp_repository_key_url",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_become_password",
    "ansible_become_pass",
    "ansible_winrm_password",
    "ansible_httpapi_password",
)
# Role variables are renamed with the avshift_ prefix; their names before 0.2.0 are
# secrets too while they still work.
DEPRECATED_PREFIX = "avshift_"


def secret_variables() -> tuple[str, ...]:
    """Every name a secret may be set under: the current ones and the deprecated ones."""
    old = tuple(
        name[len(DEPRECATED_PREFIX) :]
        for name in SECRET_VARIABLES
        if name.startswith(DEPRECATED_PREFIX)
    )
    return SECRET_VARIABLES + old


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 host", "2 hosts": every count a person reads goes through here."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
