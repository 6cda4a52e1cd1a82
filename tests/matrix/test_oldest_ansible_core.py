"""The collection under the oldest ansible-core it supports (meta/runtime.yml's
requires_ansible: 2.16, what AAP 2.5 ships), on the oldest controller Python (3.10).

The collection's own tests (everything but the CLI's, whose floor is Python 3.12, and
the PowerShell and browser checks, which hold no controller code), the Windows
contract tests against the fake WinRM host, and ansible-test sanity run again under
that ansible-core, in a pytest of its venv. The rest of the suite is the newest
ansible-core's run. The Molecule audit scenario under the oldest ansible-core is in
tests/integration/test_molecule.py; the Linux collector on the oldest host Python
that ansible-core supports is in tests/integration/test_host_python.py.
"""

from __future__ import annotations

import re
import subprocess

from ansible_cores import ROOT, core_version, environment, oldest_bin, supported_floor

# What ansible-core 2.16 does differently for Windows hosts: its winrm plugin and its
# PowerShell module payload (tests/windows/fake_winrm.py reads both forms), and text
# where a template made a number or none (the remediation's evidence). The uninstall and
# install contracts are not run here, for CI's time: under 2.16 the first passes, and
# the second but for its two onboarding tests, whose win_copy transfer there is a
# PowerShell script the fake's responders do not read (they answer the newer
# ansible-core's transfer actions).
WINDOWS_CONTRACTS = (
    "tests/windows/test_winrm_contract.py",
    "tests/windows/test_remediate_contract.py",
)
COLLECTION_TESTS = (
    "tests/unit",
    "tests/report",
    "tests/inventories",
    "tests/packaging/test_renamed_variables.py",
)
# Not the collection's controller code: the PowerShell parser's checks of the Windows
# scripts (tree-sitter, not ansible-core), and the headless browser's of the HTML report.
NOT_COLLECTION_CODE = (
    "tests/unit/test_powershell_syntax.py",
    "tests/report/test_report_html_browser.py",
)


def _pytest_under_oldest(*arguments: str) -> int:
    """Run pytest of the oldest ansible-core's venv; how many tests passed, all of them."""
    bin_dir = oldest_bin()
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment(bin_dir),
        timeout=1800,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    # Every test ran and passed: a skip would be a part of the matrix not run.
    passed = re.fullmatch(r"=* ?(\d+) passed in [^,]*", summary)
    assert passed, summary
    return int(passed.group(1))


def test_the_matrix_runs_the_oldest_ansible_core_the_collection_supports():
    assert core_version(oldest_bin()) == supported_floor()


def test_the_collections_tests_pass_under_the_oldest_ansible_core():
    ignored = [f"--ignore={path}" for path in NOT_COLLECTION_CODE]
    assert _pytest_under_oldest(*COLLECTION_TESTS, *ignored) > 900  # the unit tests alone are


def test_the_windows_contracts_hold_under_the_oldest_ansible_core():
    _pytest_under_oldest(*WINDOWS_CONTRACTS)


def test_ansible_test_sanity_passes_under_the_oldest_ansible_core():
    _pytest_under_oldest("tests/packaging/test_sanity.py")
