"""The README's two set-up commands, exactly as written, in a fresh clone.

The commands are read from the README's first code block, so the README and this test
cannot drift apart. The clone is of the tested commit (HEAD); it reuses this test run's
virtual environment (through AVSHIFT_VENV) to spare the download, and runs the command
as a user types it, in the clone, with no other argument.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert block, "the README opens with a sh code block of set-up commands"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_opens_with_exactly_two_commands_and_ci_runs_the_second():
    audit, tests = readme_commands()
    assert shlex.split(audit)[:2] == ["bin/avshift", "audit"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^exec {re.escape(tests)}$", ci, re.MULTILINE), ci


def test_the_first_command_in_a_fresh_clone_writes_its_reports_where_the_readme_says(tmp_path):
    clone = tmp_path / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # A link, not the directory: were the pins to differ, bin/_venv.sh would rebuild in
    # the link's place and leave this run's environment alone.
    venv = tmp_path / "venv"
    venv.symlink_to(VENV)
    command = readme_commands()[0]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AVSHIFT_", "ANSIBLE_"))
    }
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env={**env, "AVSHIFT_VENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" not in done.stderr, done.stderr
    reports = sorted((clone / "reports").glob("audit-*"))
    assert len(reports) == 1, done.stdout + done.stderr
    (report_dir,) = reports
    assert re.fullmatch(r"audit-\d{8}T\d{6}Z", report_dir.name)
    assert f"Reports: {report_dir}/report." in done.stdout
    for name in ("report.json", "report.csv", "report.html", "report.junit.xml", "SHA256SUMS"):
        assert (report_dir / name).is_file(), name
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=report_dir, capture_output=True)
    assert check.returncode == 0, check.stdout
    report = json.loads((report_dir / "report.json").read_text())
    assert [host["host"] for host in report["hosts"]] == ["localhost"]
    # The exit code is the one the report's hosts decide, whatever this machine runs.
    assert done.returncode == contract.exit_for_summary(report["summary"])
    assert done.returncode in (contract.Exit.OK, contract.Exit.NON_COMPLIANT)
