"""ansible-test sanity on the collection as it ships, offline. No PowerShell check runs.

What is checked: the git-tracked files less what galaxy.yml's build_ignore keeps out
of the tarball (development scripts, test doubles, the CLI package), plus
tests/sanity/ for the ignore files and tests/config.yml for the modules' host Python
floor. That is the content Galaxy and Automation Hub check. ansible-test takes every
file under bin/ for Python, so the bash scripts there
cannot pass its compile, pep8 and pylint tests; they never ship.

Two adjustments make it run here (docs: /work/shared/notes/windows-testing.md, 4):
- ansible-test bootstraps pip in its virtual environments with a get-pip.py it
  downloads from ci-files.testing.ansible.com. get_pip_standin.py does the same job
  from PyPI and is put in ansible-test's cache under the name ansible-test looks for.
- Its PowerShell checks need pwsh, which cannot be installed here: pslint skips itself
  with a warning, and validate-modules skips av_scan.ps1 through the ignore file. A
  green run says nothing about the PowerShell module.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import ansible_test
from ansible.release import __version__ as ansible_core_version
from ansible_cores import supported_floor
from packaging_support import BIN, GALAXY, ROOT, copy_tracked, quiet_env, tracked_files

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SANITY_DIR = "tests/sanity"
# ansible-test's collection configuration: the modules' host Python floor.
CONFIG = "tests/config.yml"
STANDIN = Path(__file__).with_name("get_pip_standin.py")
STANDIN_MARKER = "Offline stand-in for the get-pip.py that ansible-test downloads"
# One ignore file per supported ansible-core release, from requires_ansible's up.
IGNORE_FILES = sorted(path.name for path in (ROOT / SANITY_DIR).glob("ignore-*.txt"))
IGNORE_LINE = re.compile(r"^(?P<path>\S+) (?P<check>\S+) # (?P<reason>\S.*)$")


def _get_pip_cache_path() -> Path:
    """Where ansible-test looks for its pip bootstrap script before downloading one."""
    from ansible_test._internal.python_requirements import get_venv_packages

    setup = Path(ansible_test.__file__).parent / "_util" / "target" / "setup" / "requirements.py"
    source = setup.read_text()
    assert '\'~/.ansible/test/cache/get_pip_%s.py\' % pip_version.replace(".", "_")' in source, (
        f"ansible-test {ansible_core_version} names its get-pip cache file differently; "
        f"update this test from {setup}"
    )
    pip_version = get_venv_packages(SimpleNamespace(version=PYTHON))["pip"].replace(".", "_")
    return Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{pip_version}.py"


def _install_standin() -> Path:
    cached = _get_pip_cache_path()
    # A real get-pip.py that is already there serves as well; an older stand-in is replaced.
    if not cached.exists() or STANDIN_MARKER in cached.read_text(errors="replace"):
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(STANDIN.read_text())
    return cached


def _ships(path: str) -> bool:
    """False for what galaxy.yml's build_ignore keeps out of the tarball."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    return not any(
        fnmatch.fnmatch(prefix, pattern)
        for prefix in prefixes
        for pattern in GALAXY.get("build_ignore", [])
    )


def _checked_files() -> list[str]:
    return [
        path
        for path in tracked_files()
        if _ships(path)
        or PurePosixPath(path).parts[:2] == tuple(SANITY_DIR.split("/"))
        or path == CONFIG
    ]


def test_get_pip_standin_bootstraps_the_pip_ansible_test_pins(tmp_path):
    """Run the stand-in the way ansible-test does: through quiet_pip.py with GET_PIP set."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    quiet_pip = Path(ansible_test.__file__).parent / "_util" / "target" / "setup" / "quiet_pip.py"
    pip_version = _get_pip_cache_path().stem.removeprefix("get_pip_").replace("_", ".")
    script = tmp_path / _get_pip_cache_path().name
    script.write_text(STANDIN.read_text())
    argv = [str(venv / "bin" / "python"), str(quiet_pip), "--disable-pip-version-check"]
    done = subprocess.run(
        [*argv, f"pip=={pip_version}", "--no-setuptools", "--no-wheel"],
        capture_output=True,
        text=True,
        env=quiet_env(GET_PIP=str(script), PIP_CONFIG_FILE="/dev/null"),
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.startswith(f"pip {pip_version} "), version


def test_there_is_an_ignore_file_for_every_supported_release_and_no_other():
    major, floor = supported_floor()
    running = tuple(int(part) for part in ansible_core_version.split(".")[:2])
    newest = max(int(name.split(".")[1]) for name in IGNORE_FILES)
    assert (
        sorted(f"ignore-{major}.{minor}.txt" for minor in range(floor, newest + 1)) == IGNORE_FILES
    )
    assert f"ignore-{running[0]}.{running[1]}.txt" in IGNORE_FILES


def test_sanity_ignore_files_give_a_reason_for_every_line():
    tracked = set(tracked_files())
    entries = {}
    for name in IGNORE_FILES:
        lines = (ROOT / SANITY_DIR / name).read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            match = IGNORE_LINE.match(line)
            assert match, f"{SANITY_DIR}/{name}:{number}: want 'PATH CHECK # reason', got {line!r}"
            assert match["path"] in tracked, f"{SANITY_DIR}/{name}:{number}: no such file"
        entries[name] = [line.split(" # ")[0] for line in lines]
    # The same code is supported on every release; so are its exceptions.
    assert len({tuple(lines) for lines in entries.values()}) == 1, entries


def test_checked_files_are_the_shipped_collection_and_its_ignore_files():
    checked = _checked_files()
    assert "plugins/modules/av_scan.py" in checked
    assert "galaxy.yml" in checked
    assert f"{SANITY_DIR}/ignore-2.21.txt" in checked
    assert CONFIG in checked
    assert not [path for path in checked if path.startswith(("bin/", "src/", "tests/unit/"))]


def test_ansible_test_sanity_passes_without_powershell_checks(tmp_path):
    _install_standin()
    collection = copy_tracked(tmp_path, _checked_files())
    done = subprocess.run(
        [str(BIN / "ansible-test"), "sanity", "--python", PYTHON, "--venv", "--color", "no"],
        cwd=collection,
        capture_output=True,
        text=True,
        env=quiet_env(),
        timeout=1800,
        check=False,
    )
    output = done.stdout + done.stderr
    findings = [line for line in output.splitlines() if line.startswith(("ERROR:", "FATAL:"))]
    assert done.returncode == 0, "\n".join(findings) or output[-4000:]
    assert 'Running sanity test "validate-modules"' in output
    assert 'Running sanity test "pylint"' in output
