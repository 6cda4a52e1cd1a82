"""The Molecule scenarios under molecule/, one test each, on the podman test bed.

tests/testbed/setup.sh builds the test bed (bin/test runs it first when it runs as root);
docs/testbed.md describes it. Running the scenarios under pytest gives CI a test summary,
which Molecule alone does not print.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ansible_cores import NEWEST_BIN, oldest_bin

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = ROOT / "molecule"
TESTBED_DIR = ROOT / "tests" / "testbed"
ARTEFACTS_DIR = Path(os.environ.get("AVSHIFT_TESTBED_OUT", "/var/lib/avshift-testbed"))
IMAGES = ("localhost/avshift-debian12", "localhost/avshift-rocky9-emu")
# A scenario takes about two minutes on 2 cores; far beyond that it hangs.
SCENARIO_TIMEOUT_S = 20 * 60
SETUP_HINT = (
    "build the test bed first: as root on Debian 12, run tests/testbed/setup.sh (bin/test does)"
)

pytestmark = pytest.mark.testbed


def _scenarios() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/molecule.yml"))


def _platform_names(scenario: str) -> list[str]:
    config = yaml.safe_load((SCENARIOS_DIR / scenario / "molecule.yml").read_text())
    return [platform["name"] for platform in config.get("platforms", [])]


# Run under the oldest supported ansible-core (tests/ansible_cores.py): the audit, which
# every use of the collection starts with. The others run under the newest, which also
# runs the audit's collector (av_scan) and its scan before every change (remediate).
OLDEST_CORE_SCENARIO = "audit"


def _runs() -> list:
    """(scenario, the ansible-core it runs under) for each scenario."""
    return [
        pytest.param(
            (scenario, "oldest" if scenario == OLDEST_CORE_SCENARIO else "newest"), id=scenario
        )
        for scenario in _scenarios()
    ]


def _environment(venv_bin: Path) -> dict[str, str]:
    """What tests/testbed/env.sh sets, plus a venv's tools first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["AVSHIFT_ROOT"] = str(ROOT)
    env["CONTAINERS_CONF"] = str(TESTBED_DIR / "containers.conf")
    env["AVSHIFT_TESTBED_OUT"] = str(ARTEFACTS_DIR)
    env["MOLECULE_GLOB"] = "molecule/*/molecule.yml"
    env["MOLECULE_PROJECT_DIRECTORY"] = str(ROOT)
    # The log ends up in pytest's report and CI logs, where colour codes are noise.
    env.update(NO_COLOR="1", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    return env


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def _missing_testbed(env: dict[str, str]) -> str | None:
    if os.geteuid() != 0:
        return f"the test bed runs rootful podman: run the tests as root; {SETUP_HINT}"
    if shutil.which("podman", path=env["PATH"]) is None:
        return f"podman is not installed; {SETUP_HINT}"
    missing = [i for i in IMAGES if _run(["podman", "image", "exists", i], env).returncode]
    if missing:
        return f"images missing: {', '.join(missing)}; {SETUP_HINT}"
    for repo in ("packages/apt/Packages", "packages/rpm/repodata/repomd.xml"):
        if not (ARTEFACTS_DIR / repo).is_file():
            return f"{ARTEFACTS_DIR / repo} is missing; {SETUP_HINT}"
    return None


def _remove_containers(names: list[str], env: dict[str, str]) -> list[str]:
    """Removes the scenario's own containers; returns those that would not go."""
    left = []
    for name in names:
        # A container of a killed run can refuse the first removal ("container state
        # improper"); a second or third attempt works.
        for attempt in range(4):
            if _run(["podman", "container", "exists", name], env).returncode != 0:
                break
            _run(["podman", "rm", "--force", "--time", "0", name], env)
            time.sleep(attempt)
        else:
            left.append(name)
    return left


def _lock_path(scenario: str) -> Path:
    # Container names are global to the host, so the lock is too: two checkouts (or two
    # test runs) take turns instead of removing each other's containers.
    lock_dir = Path("/run/lock")
    if not lock_dir.is_dir():
        lock_dir = Path(tempfile.gettempdir())
    return lock_dir / f"avshift-molecule-{scenario}.lock"


@pytest.fixture
def scenario_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The environment for one scenario, with its containers removed before and after."""
    scenario, core = request.param
    env = _environment(oldest_bin() if core == "oldest" else NEWEST_BIN)
    problem = _missing_testbed(env)
    if problem:
        pytest.fail(problem, pytrace=False)
    names = _platform_names(scenario)
    with _lock_path(scenario).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        left = _remove_containers(names, env)
        assert not left, f"containers of an earlier run would not go away: {left}"
        try:
            yield env
        finally:
            left = _remove_containers(names, env)
        assert not left, f"containers left after the scenario: {left}"


@pytest.mark.parametrize("scenario_env", _runs(), indirect=True)
def test_molecule_scenario(
    scenario_env: dict[str, str], request: pytest.FixtureRequest, capsys: pytest.CaptureFixture
) -> None:
    scenario, core = request.node.callspec.params["scenario_env"]
    venv_bin = Path(scenario_env["PATH"].split(os.pathsep, 1)[0])
    molecule = venv_bin / "molecule"
    assert molecule.exists(), f"molecule is not installed in {venv_bin.parent} (requirements/)"
    started = time.monotonic()
    # Its output goes to pytest's captured output, shown when the test fails. Its own
    # process group, so that a timeout stops ansible-playbook and podman children too.
    process = subprocess.Popen(
        [str(molecule), "test", "--scenario-name", scenario],
        cwd=ROOT,
        env=scenario_env,
        start_new_session=True,
    )
    try:
        returncode = process.wait(timeout=SCENARIO_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"molecule test -s {scenario} took over {SCENARIO_TIMEOUT_S} s")
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nmolecule test -s {scenario} ({core} ansible-core): "
            f"exit {returncode} in {elapsed:.1f} s"
        )
    assert returncode == 0, f"molecule test -s {scenario} failed (exit {returncode}), log above"
