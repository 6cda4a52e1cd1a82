"""What the report directory holds, and what the processes avshift starts show: no
secret and no environment, and permissions for evidence that names every host.

Real runs of `avshift audit` on this machine (connection local): the inline secret goes
through ansible-runner and ansible-playbook as a user's would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from leaks import files_under, find, marker, run_watched

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import Exit

AVSHIFT = str(Path(sys.executable).parent / "avshift")


def test_an_inline_secret_is_warned_about_and_reaches_no_command_line_or_file(tmp_path):
    password = marker("avshift_uninstall_passwords")
    canary = marker("AVSHIFT_TEST_CANARY")
    inline = json.dumps(
        {"avshift_uninstall_passwords": {"kes_windows": {"password": password}}},
        ensure_ascii=False,
    )
    reports = tmp_path / "reports"
    done, processes = run_watched(
        [AVSHIFT, "audit", "-e", inline, "--report-dir", str(reports), "-vvvv"],
        env={**os.environ, "AVSHIFT_TEST_CANARY": canary},
    )
    assert done.returncode in (Exit.OK, Exit.NON_COMPLIANT), done.stdout + done.stderr
    assert (
        "avshift: warning: avshift_uninstall_passwords given inline on the command line: "
        "pass secrets with -e @file, ideally vault-encrypted"
    ) in done.stderr
    # ansible-playbook ran (so the watch saw it), and every -e it got is a file.
    playbooks = [line for line in processes.values() if b"ansible-playbook" in line]
    assert playbooks, "the watch saw no ansible-playbook"
    arguments = playbooks[0].split(b"\0")
    given = [arguments[i + 1] for i, arg in enumerate(arguments) if arg in (b"-e", b"--extra-vars")]
    assert given and all(value.startswith(b"@") for value in given), given
    assert find({"password": password}, processes) == []
    # Nothing the run wrote holds the secret, or the environment it ran in.
    outputs = {"stdout": done.stdout.encode(), "stderr": done.stderr.encode()}
    assert find({"password": password, "environment": canary}, files_under(reports)) == []
    assert find({"password": password}, outputs) == []


def test_the_evidence_keeps_runners_output_and_command_never_its_environment(tmp_path):
    reports = tmp_path / "reports"
    done = subprocess.run(
        [AVSHIFT, "audit", "--report-dir", str(reports)],
        capture_output=True,
        text=True,
        env={**os.environ, "AVSHIFT_TEST_CANARY": "canary-value-4711"},
    )
    assert done.returncode in (Exit.OK, Exit.NON_COMPLIANT), done.stderr
    (run,) = (reports / "artifacts").iterdir()
    assert sorted(path.name for path in run.iterdir()) == ["command", "rc", "status", "stdout"]
    command = json.loads((run / "command").read_text())
    assert set(command) == {"command", "cwd"}
    assert "ansible-playbook" in command["command"][0]
    assert (run / "status").read_text().strip() in ("successful", "failed")
    assert b"canary-value-4711" not in b"".join(files_under(reports).values())


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_a_report_directory_is_the_owners_alone_by_default(tmp_path):
    reports = tmp_path / "reports"
    done = subprocess.run(
        [AVSHIFT, "audit", "--report-dir", str(reports)], capture_output=True, text=True
    )
    assert done.returncode in (Exit.OK, Exit.NON_COMPLIANT), done.stderr
    modes = _modes(reports)
    assert {"journal.jsonl", "report.html", "SHA256SUMS"} <= set(modes)
    for name, mode in modes.items():
        wanted = 0o700 if (reports / name).is_dir() else 0o600
        assert mode == wanted, f"{name}: {mode:o}"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_team_shares_its_reports_with_a_report_mode(tmp_path, how):
    reports = tmp_path / "reports"
    args, env = (
        (["--report-mode", "0750"], {}) if how == "option" else ([], {"AVSHIFT_REPORT_MODE": "750"})
    )
    done = subprocess.run(
        [AVSHIFT, "audit", "--report-dir", str(reports), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert done.returncode in (Exit.OK, Exit.NON_COMPLIANT), done.stderr
    for name, mode in _modes(reports).items():
        wanted = 0o750 if (reports / name).is_dir() else 0o640
        assert mode == wanted, f"{name}: {mode:o}"


@pytest.mark.parametrize("mode", ["0777", "0600", "rwx", "0702"])
def test_a_report_mode_others_could_write_or_the_owner_cannot_use_is_refused(tmp_path, mode):
    for args, env in ((["--report-mode", mode], {}), ([], {"AVSHIFT_REPORT_MODE": mode})):
        done = subprocess.run(
            [AVSHIFT, "audit", "--report-dir", str(tmp_path / "r"), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert done.returncode == Exit.INVALID, done.stderr
        assert "expected an octal mode" in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ('{"avshift_uninstall_passwords": {"kes": "S3cr3t-value"', "not valid YAML or JSON"),
        ("S3cr3t-value", "not key=value"),
        ("./S3cr3t-value.yml", "give it as -e @FILE"),
        ("[1, 2]", "must be a mapping"),
        ("a='S3cr3t-value", "not valid key=value pairs"),
    ],
)
def test_a_bad_inline_value_is_refused_without_repeating_it(tmp_path, value, message):
    done = subprocess.run(
        [AVSHIFT, "audit", "-e", value, "--report-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == Exit.INVALID, done.stderr
    assert message in done.stderr
    assert "S3cr3t-value" not in done.stdout + done.stderr
    assert not (tmp_path / "r").exists()


def test_inline_values_and_files_apply_in_the_order_given(tmp_path):
    """As ansible-playbook applies -e: a later one wins, files and inline alike."""
    broken = tmp_path / "broken.yml"
    broken.write_text("ansible_python_interpreter: /nonexistent/python\n")
    fixed = f"ansible_python_interpreter={sys.executable}"
    last_fixed = subprocess.run(
        [AVSHIFT, "audit", "-e", f"@{broken}", "-e", fixed, "--report-dir", str(tmp_path / "a")],
        capture_output=True,
        text=True,
    )
    assert last_fixed.returncode in (Exit.OK, Exit.NON_COMPLIANT), last_fixed.stderr
    last_broken = subprocess.run(
        [AVSHIFT, "audit", "-e", fixed, "-e", f"@{broken}", "--report-dir", str(tmp_path / "b")],
        capture_output=True,
        text=True,
    )
    assert last_broken.returncode == Exit.NOT_AUDITED, last_broken.stdout + last_broken.stderr
