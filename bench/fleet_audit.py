"""Fleet audit on the podman test bed: playbooks/audit.yml against a peer-style baseline.

Starts N systemd containers from localhost/avshift-debian12 (the test bed's Debian 12
host, docs/testbed.md), installs the Kaspersky test doubles (kesl, klnagent64) into every
other one and, unless --no-clamav, ClamAV with the test bed's offline signatures into
the rest, so half the fleet is non-compliant and half compliant. Then, for each fleet
size, runs the two audits alternately (A B A B ...) through ansible-runner over the
podman connection, with the same inventory, forks and settings:

    A  playbooks/audit.yml        one av_scan per host
    B  bench/baseline_audit.yml   gather_facts + package_facts + service_facts + stat

and measures per run: wall time, controller CPU (user + sys of the ansible-playbook
process tree, from getrusage(RUSAGE_CHILDREN) in a fresh worker process per run), peak
memory (ru_maxrss: the largest single process of the tree; and the tree's summed PSS,
sampled every 0.25 s) and remote module runs per host, counted from ansible-runner's
events. Both audits must reach the same verdict for every host in every run, or the
benchmark fails. Every container it starts is named bench-fleet-<run id>-NN and removed
at the end, also after a failure or an interrupt.

    .venv/bin/python bench/fleet_audit.py [--hosts 5,10,20,40] [--pairs 3] [--json OUT]

Runs as root with the test bed set up (tests/testbed/setup.sh). bench/run.py runs it
together with classify_throughput.py and writes bench/results/.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import glob
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDIT_PLAYBOOK = ROOT / "playbooks" / "audit.yml"
BASELINE_PLAYBOOK = ROOT / "bench" / "baseline_audit.yml"
CONTAINERS_CONF = ROOT / "tests" / "testbed" / "containers.conf"
IMAGE = "localhost/avshift-debian12"
TESTBED_OUT = Path(os.environ.get("AVSHIFT_TESTBED_OUT", "/var/lib/avshift-testbed"))
TESTBED_SRV = "/srv/avshift-testbed"
# ClamAV's Debian packages, downloaded once from the image's Debian mirror with apt and
# kept outside the working tree; installed from there into each compliant host.
CLAMAV_CACHE = Path(os.environ.get("AVSHIFT_BENCH_CACHE", "/var/tmp/avshift-bench")) / "clamav"
CLAMAV_SRV = "/srv/avshift-bench-clamav"
CONTAINER_PREFIX = "bench-fleet-"
# Each systemd in a container takes inotify instances, which count against the host's
# fs.inotify.max_user_instances for root (128 by default), shared with every other
# container on the machine; when they run out, systemd hangs in "initializing". These
# units, which neither audit uses (console password agents, logind, D-Bus: systemctl
# talks to systemd directly as root), are masked in the bench hosts, which leaves 2
# instances per host (measured).
MASKED_UNITS = (
    "systemd-ask-password-console.path",
    "systemd-ask-password-wall.path",
    "systemd-logind.service",
    "dbus.socket",
    "dbus.service",
)
INOTIFY_PER_HOST = 2
# Left free for other people's containers and tools on the machine.
INOTIFY_RESERVE = 32

PLAYBOOKS = {"audit": AUDIT_PLAYBOOK, "baseline": BASELINE_PLAYBOOK}
SCAN_ACTIONS = frozenset(("avshift.remediation.av_scan", "av_scan"))
# Tasks that run on the controller only: no remote module run.
CONTROLLER_ACTIONS = frozenset(
    (
        "meta",
        "debug",
        "set_fact",
        "assert",
        "fail",
        "validate_argument_spec",
        "include_tasks",
        "import_tasks",
        "include_role",
        "import_role",
        "include_vars",
        "add_host",
        "group_by",
        "set_stats",
        "pause",
    )
)
RESULT_EVENTS = frozenset(("runner_on_ok", "runner_on_failed", "runner_on_unreachable"))
ITEM_EVENTS = frozenset(("runner_item_on_ok", "runner_item_on_failed"))
PSS_SAMPLE_SECONDS = 0.25


class BenchmarkError(Exception):
    """The benchmark cannot give a valid figure: stop and say why."""


def _short_action(action: str | None) -> str:
    action = action or ""
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix) :]
    return action


def podman_env() -> dict:
    return dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))


def podman(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(
            ["podman", *args],
            env=podman_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"podman {' '.join(args[:3])} ... took over {timeout} s") from None
    if check and result.returncode != 0:
        raise BenchmarkError(
            f"podman {' '.join(args[:3])} ... failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-800:]}"
        )
    return result


def inotify_instances() -> tuple[int, int]:
    """(instances root holds now, root's limit)."""
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    used = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry.path).st_uid != 0:
                continue
            for fd in os.scandir(f"{entry.path}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(fd.path) == "anon_inode:inotify":
                        used += 1
        except OSError:
            continue
    return used, limit


class FleetTooLarge(Exception):
    """This machine cannot boot that many more systemd hosts without starving others."""


def load_1min() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cgroup_cpu_file(container_id: str) -> str | None:
    """The file with a container's CPU use: cgroup v1 cpuacct or cgroup v2 cpu.stat."""
    patterns = (
        f"/sys/fs/cgroup/cpuacct/*/libpod-{container_id}*/cpuacct.usage",
        f"/sys/fs/cgroup/cpu,cpuacct/*/libpod-{container_id}*/cpuacct.usage",
        f"/sys/fs/cgroup/*/libpod-{container_id}*/cpu.stat",
        f"/sys/fs/cgroup/unified/*/libpod-{container_id}*/cpu.stat",
    )
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def cgroup_cpu_s(path: str) -> float:
    text = Path(path).read_text()
    if path.endswith("cpuacct.usage"):
        return int(text) / 1e9
    for line in text.splitlines():
        if line.startswith("usage_usec "):
            return int(line.split()[1]) / 1e6
    return 0.0


# --------------------------------------------------------------------------------------
# The worker: one playbook run in a fresh process, so that RUSAGE_CHILDREN (CPU and
# ru_maxrss) covers exactly that run's ansible-playbook process tree.
# --------------------------------------------------------------------------------------


def _children(pid_root: int) -> list[int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid_root]
    while todo:
        for child in parents.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Peak of the summed PSS of this process's descendants, sampled."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.peak_processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._done.wait(PSS_SAMPLE_SECONDS):
            pids = _children(me)
            total = sum(_pss_kib(pid) for pid in pids)
            if total > self.peak_kib:
                self.peak_kib = total
            self.peak_processes = max(self.peak_processes, len(pids))

    def stop(self) -> None:
        self._done.set()
        self.join()


class EventCounter:
    """Remote module runs per host and each host's verdict, from ansible-runner events."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.tasks: dict[tuple[str, str], dict] = {}
        self.verdicts: dict[str, dict] = {}
        self.failures: list[str] = []

    def handle(self, event: dict) -> bool:
        kind = event.get("event")
        data = event.get("event_data") or {}
        host = data.get("host")
        if not host or (kind not in RESULT_EVENTS and kind not in ITEM_EVENTS):
            return True
        action = _short_action(data.get("resolved_action") or data.get("task_action"))
        res = data.get("res") or {}
        if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            self.failures.append(f"{host}: {data.get('task')}: {str(res.get('msg'))[:300]}")
        if action not in CONTROLLER_ACTIONS:
            task = self.tasks.setdefault(
                (host, data.get("task_uuid") or data.get("task", "")),
                {"action": action, "items": 0, "results": 0},
            )
            task["items" if kind in ITEM_EVENTS else "results"] += 1
        if kind == "runner_on_ok":
            self._verdict(host, action, res)
        return True

    def _verdict(self, host: str, action: str, res: dict) -> None:
        if self.kind == "audit" and action in SCAN_ACTIONS and "compliant" in res:
            packages = sorted(
                {
                    evidence["value"]
                    for finding in res.get("disallowed", [])
                    for evidence in finding.get("evidence", [])
                    if evidence.get("kind") == "package"
                }
            )
            self.verdicts[host] = {
                "compliant": bool(res["compliant"]),
                "disallowed_packages": packages,
            }
        elif self.kind == "baseline" and action == "debug" and "av_compliance" in res:
            verdict = res["av_compliance"]
            self.verdicts[host] = {
                "compliant": _as_bool(verdict.get("compliant")),
                "disallowed_packages": sorted(verdict.get("disallowed_packages") or []),
            }

    def module_runs(self) -> dict[str, int]:
        runs: dict[str, int] = {}
        for (host, _), task in self.tasks.items():
            # A loop's items are one module run each; its final result repeats them.
            count = task["items"] if task["items"] else task["results"]
            runs[host] = runs.get(host, 0) + count
        return runs


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BenchmarkError(f"the baseline's verdict is not a boolean: {value!r}")


def worker(spec_path: Path) -> None:
    import ansible_runner

    spec = json.loads(spec_path.read_text())
    counter = EventCounter(spec["kind"])
    memory = TreeMemory()
    cgroups = spec.get("cgroup_cpu_files") or []
    hosts_before = sum(cgroup_cpu_s(path) for path in cgroups)
    machine_before = machine_busy_s()
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = load_1min()
    memory.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="avshift-bench-runner-") as private:
        runner = ansible_runner.run(
            private_data_dir=private,
            # A playbook, or an ad hoc module (`ansible -m`) with its host pattern.
            **spec["target"],
            inventory=spec["inventory"],
            forks=spec["forks"],
            envvars=spec["envvars"],
            event_handler=counter.handle,
            quiet=True,
            suppress_env_files=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self_after = resource.getrusage(resource.RUSAGE_SELF)
        machine_after = machine_busy_s()
        hosts_after = sum(cgroup_cpu_s(path) for path in cgroups)
        memory.stop()
        stdout = runner.stdout.read() if runner.rc != 0 else ""
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    worker_cpu = (self_after.ru_utime - self_before.ru_utime) + (
        self_after.ru_stime - self_before.ru_stime
    )
    result = {
        "kind": spec["kind"],
        "hosts": spec["hosts"],
        "rc": runner.rc,
        "status": runner.status,
        "wall_s": round(wall, 3),
        "cpu_user_s": round(after.ru_utime - before.ru_utime, 3),
        "cpu_sys_s": round(after.ru_stime - before.ru_stime, 3),
        "cpu_s": round(cpu, 3),
        # What the test hosts (containers) spent, module runs included: podman exec
        # processes run in the container's cgroup. None when the cgroup was not found.
        "hosts_cpu_s": round(hosts_after - hosts_before, 3) if cgroups else None,
        # Everything else the machine did meanwhile, in cores: other people's work.
        "other_cores": round(
            max(
                0.0,
                machine_after - machine_before - cpu - worker_cpu - (hosts_after - hosts_before),
            )
            / wall,
            2,
        ),
        # Linux reports ru_maxrss in KiB.
        "max_rss_mib": round(after.ru_maxrss / 1024, 1),
        "tree_pss_peak_mib": round(memory.peak_kib / 1024, 1),
        "tree_peak_processes": memory.peak_processes,
        "load_1min_before": load_before,
        "load_1min_after": load_1min(),
        "module_runs": counter.module_runs(),
        "verdicts": counter.verdicts,
        "failures": counter.failures,
        "stdout_tail": stdout[-3000:],
    }
    spec_path.with_suffix(".out.json").write_text(json.dumps(result))


# --------------------------------------------------------------------------------------
# The fleet: containers that look like the scenarios' hosts.
# --------------------------------------------------------------------------------------


class Fleet:
    """bench-fleet-<run id>-NN containers; host i is Kaspersky when i is even.

    Odd fleet sizes carry Kaspersky on one host more than half (3 of 5).
    """

    def __init__(self, clamav: bool, log) -> None:
        self.run_id = secrets.token_hex(3)
        self.clamav = clamav
        self.log = log
        self.names: list[str] = []
        self.ids: list[str] = []

    def name(self, index: int) -> str:
        return f"{CONTAINER_PREFIX}{self.run_id}-{index:02d}"

    @staticmethod
    def kaspersky(index: int) -> bool:
        return index % 2 == 0

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def remove(self) -> None:
        for name in list(self.names):
            for attempt in range(5):
                result = podman("rm", "-f", "-t", "0", name, check=False, timeout=120)
                gone = podman("container", "exists", name, check=False).returncode != 0
                if gone:
                    break
                # A container of a killed run can refuse the first removal
                # ("container state improper").
                self.log(f"retrying removal of {name}: {result.stderr.strip()[:200]}")
                time.sleep(1 + attempt)
            else:
                self.log(f"WARNING: could not remove container {name}")
                continue
            self.names.remove(name)

    def grow(self, size: int) -> None:
        new = list(range(len(self.names), size))
        if not new:
            return
        used, limit = inotify_instances()
        needed = len(new) * INOTIFY_PER_HOST
        if used + needed > limit - INOTIFY_RESERVE:
            raise FleetTooLarge(
                f"{size} hosts need {needed} more inotify instances; root holds {used} of "
                f"fs.inotify.max_user_instances = {limit}, and {INOTIFY_RESERVE} stay free for "
                "others (raise the limit with sysctl to run this size)"
            )
        started = time.monotonic()
        if self.clamav and any(not self.kaspersky(i) for i in new):
            ensure_clamav_packages(self.log)
        for index in new:
            name = self.name(index)
            self.names.append(name)
            volumes = ["-v", f"{TESTBED_OUT}:{TESTBED_SRV}:ro"]
            if self.clamav:
                volumes += ["-v", f"{CLAMAV_CACHE}:{CLAMAV_SRV}:ro"]
            for unit in MASKED_UNITS:
                volumes += ["-v", f"/dev/null:/etc/systemd/system/{unit}:ro"]
            started_id = podman(
                "run",
                "-d",
                "--pull=never",
                "--name",
                name,
                "--hostname",
                name,
                "--label",
                "org.avshift.bench=fleet_audit",
                "--systemd=always",
                *volumes,
                IMAGE,
                "/sbin/init",
            ).stdout.strip()
            self.ids.append(started_id)
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._prepare, new))
        self.log(
            f"fleet: {size} hosts ({len(new)} started and prepared in "
            f"{time.monotonic() - started:.0f} s)"
        )

    def _exec(self, name: str, script: str) -> None:
        podman("exec", name, "bash", "-euc", textwrap.dedent(script), timeout=900)

    def _prepare(self, index: int) -> None:
        name = self.name(index)
        deadline = time.monotonic() + 180
        while True:
            # Polled: "--wait" never returns when a boot hangs.
            state = podman(
                "exec", name, "systemctl", "is-system-running", check=False, timeout=60
            ).stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                journal = (
                    podman(
                        "exec",
                        name,
                        "journalctl",
                        "-b",
                        "-p",
                        "warning",
                        "--no-pager",
                        "-q",
                        check=False,
                        timeout=60,
                    )
                    .stdout.strip()
                    .splitlines()
                )
                raise BenchmarkError(
                    f"{name}: systemd did not finish booting in 180 s ({state!r}); "
                    "its journal's last warnings:\n    " + "\n    ".join(journal[-8:])
                )
            time.sleep(1)
        if self.kaspersky(index):
            # The scenarios' way (molecule/_shared/tasks/testbed_repositories.yml): the
            # test bed's flat apt repository, mounted read-only; apt installs the doubles,
            # whose maintainer scripts enable and start their daemons.
            self._exec(
                name,
                f"""
                mkdir -p /etc/apt/avshift-bench.d
                cat >/etc/apt/avshift-bench.d/avshift-testbed.sources <<EOF
                Types: deb
                URIs: file://{TESTBED_SRV}/packages/apt
                Suites: ./
                Trusted: yes
                EOF
                opts='-o Dir::Etc::SourceList=/dev/null'
                opts="$opts -o Dir::Etc::SourceParts=/etc/apt/avshift-bench.d"
                apt-get -qq $opts update
                export DEBIAN_FRONTEND=noninteractive
                apt-get -qq -y $opts install kesl klnagent64 >/dev/null
                systemctl is-active --quiet kesl klnagent64
                """,
            )
        elif self.clamav:
            # docs/testbed.md, "Offline ClamAV signatures": the .hdb and the unit drop-in.
            # freshclam cannot reach anything here; it is disabled as on offline sites.
            self._exec(
                name,
                f"""
                DEBIAN_FRONTEND=noninteractive apt-get -qq -y --no-install-recommends \\
                    install {CLAMAV_SRV}/*.deb >/dev/null
                systemctl disable --now --quiet clamav-freshclam
                cp {TESTBED_SRV}/clamav/avshift-testbed.hdb /var/lib/clamav/
                mkdir -p /etc/systemd/system/clamav-daemon.service.d
                cp {TESTBED_SRV}/clamav/clamav-daemon-offline.conf \\
                    /etc/systemd/system/clamav-daemon.service.d/avshift-offline.conf
                systemctl daemon-reload
                systemctl restart clamav-daemon
                for _ in $(seq 60); do
                    systemctl is-active --quiet clamav-daemon && exit 0
                    sleep 1
                done
                systemctl status clamav-daemon >&2
                exit 1
                """,
            )

    def cgroup_files(self, size: int) -> list[str]:
        """Where the first size hosts' CPU use is counted; [] when any is not found."""
        files = [cgroup_cpu_file(container_id) for container_id in self.ids[:size]]
        return files if all(files) else []

    def expected(self, size: int) -> dict[str, dict]:
        """The verdict each host was built to get."""
        return {
            self.name(i): {
                "compliant": not self.kaspersky(i) and self.clamav,
                "disallowed_packages": ["kesl", "klnagent64"] if self.kaspersky(i) else [],
            }
            for i in range(size)
        }


def ensure_clamav_packages(log) -> None:
    """ClamAV's .debs (clamav-daemon and its dependencies) in CLAMAV_CACHE, once."""
    marker = CLAMAV_CACHE / ".complete"
    if marker.is_file() and any(CLAMAV_CACHE.glob("*.deb")):
        return
    log(f"downloading ClamAV packages with apt into {CLAMAV_CACHE} (once)")
    CLAMAV_CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="clamav-", dir=CLAMAV_CACHE.parent))
    name = f"{CONTAINER_PREFIX}dl-{secrets.token_hex(3)}"
    try:
        podman(
            "run",
            "--rm",
            "--pull=never",
            "--name",
            name,
            "-v",
            f"{staging}:/out",
            IMAGE,
            "bash",
            "-euc",
            "apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq -y "
            "--no-install-recommends --download-only -o Dir::Cache::archives=/out "
            "install clamav-daemon >/dev/null",
            timeout=900,
        )
        for leftover in ("lock", "partial"):
            path = staging / leftover
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        if not any(staging.glob("clamav-daemon_*.deb")):
            raise BenchmarkError("apt downloaded no clamav-daemon package")
        if CLAMAV_CACHE.exists():
            shutil.rmtree(CLAMAV_CACHE)
        staging.rename(CLAMAV_CACHE)
        (CLAMAV_CACHE / ".complete").write_text(
            "\n".join(sorted(p.name for p in CLAMAV_CACHE.glob("*.deb"))) + "\n"
        )
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------------------
# Running and checking
# --------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, log) -> None:
        self.args = args
        self.log = log
        self.workdir = Path(tempfile.mkdtemp(prefix="avshift-bench-fleet-"))
        self.current: subprocess.Popen | None = None
        self.cgroup_files: list[str] = []
        self.sequence = 0

    def close(self) -> None:
        if self.current and self.current.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.current.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.current.wait(30)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def config(self) -> Path:
        path = self.workdir / "ansible.cfg"
        path.write_text(
            "[defaults]\n"
            f"forks = {self.args.forks}\n"
            "retry_files_enabled = False\n"
            "host_key_checking = False\n"
            "[connection]\n"
            f"pipelining = {'True' if self.args.pipelining else 'False'}\n"
        )
        return path

    def inventory(self, names: list[str], addresses: dict[str, str] | None = None) -> Path:
        """addresses: the container each name connects to (ansible_host), when not its own."""
        path = self.workdir / f"inventory-{len(names)}.yml"
        lines = ["all:", "  vars:"]
        lines += [
            "    ansible_connection: containers.podman.podman",
            "    ansible_python_interpreter: /usr/bin/python3",
            "  hosts:",
        ]
        addresses = addresses or {}
        lines += [
            f"    {name}: {{ansible_host: {addresses[name]}}}"
            if name in addresses
            else f"    {name}: {{}}"
            for name in names
        ]
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(
        self,
        kind: str,
        inventory: Path,
        hosts: int,
        target: dict | None = None,
        envvars: dict[str, str] | None = None,
    ) -> dict:
        """target: ansible_runner.run's playbook= or module= and host_pattern= (default:
        the kind's playbook); envvars: added to the run's environment."""
        self.sequence += 1
        spec_path = self.workdir / f"run-{self.sequence:03d}-{kind}.json"
        bindir = Path(sys.executable).parent
        spec = {
            "kind": kind,
            "hosts": hosts,
            "target": target or {"playbook": str(PLAYBOOKS[kind])},
            "inventory": str(inventory),
            "forks": self.args.forks,
            "cgroup_cpu_files": self.cgroup_files,
            "envvars": {
                "ANSIBLE_CONFIG": str(self.config()),
                "CONTAINERS_CONF": str(CONTAINERS_CONF),
                "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
                **(envvars or {}),
            },
        }
        spec_path.write_text(json.dumps(spec))
        self.current = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)],
            start_new_session=True,
        )
        try:
            rc = self.current.wait()
        finally:
            if self.current.poll() is None:
                os.killpg(self.current.pid, signal.SIGTERM)
                self.current.wait()
        out = spec_path.with_suffix(".out.json")
        if rc != 0 or not out.is_file():
            raise BenchmarkError(f"the {kind} worker failed (exit {rc})")
        result = json.loads(out.read_text())
        if result["rc"] != 0 or result["failures"]:
            raise BenchmarkError(
                f"{kind} run at N={hosts} failed: rc {result['rc']}, {result['status']}; "
                + "; ".join(result["failures"][:5])
                + "\n"
                + result["stdout_tail"]
            )
        return result


def check_verdicts(expected: dict[str, dict], audit: dict, baseline: dict) -> None:
    """Both audits agree on every host, and with what the fleet was built to be."""
    problems = []
    for host, built in expected.items():
        a, b = audit["verdicts"].get(host), baseline["verdicts"].get(host)
        if a is None or b is None:
            problems.append(f"{host}: no verdict (audit {a}, baseline {b})")
            continue
        if a != b:
            problems.append(f"{host}: audit says {a}, baseline says {b}")
        elif a != built:
            problems.append(f"{host}: built to be {built}, both audits say {a}")
    extra = (set(audit["verdicts"]) | set(baseline["verdicts"])) - set(expected)
    if extra:
        problems.append(f"verdicts for hosts not in the fleet: {sorted(extra)}")
    if problems:
        raise BenchmarkError("the audits disagree:\n  " + "\n  ".join(problems))


def _median(values):
    return round(statistics.median(values), 3) if values else None


def summarise(size: int, pairs: list[dict]) -> dict:
    def figures(kind: str) -> dict:
        runs = [pair[kind] for pair in pairs]
        module_runs = sorted({n for run in runs for n in run["module_runs"].values()})
        return {
            "wall_s_median": _median([r["wall_s"] for r in runs]),
            "wall_s_min": min(r["wall_s"] for r in runs),
            "wall_s_max": max(r["wall_s"] for r in runs),
            "cpu_s_median": _median([r["cpu_s"] for r in runs]),
            "hosts_cpu_s_median": _median(
                [r["hosts_cpu_s"] for r in runs if r["hosts_cpu_s"] is not None]
            ),
            "other_cores_median": _median([r["other_cores"] for r in runs]),
            "max_rss_mib_max": max(r["max_rss_mib"] for r in runs),
            "tree_pss_peak_mib_max": max(r["tree_pss_peak_mib"] for r in runs),
            "module_runs_per_host": module_runs[0] if len(module_runs) == 1 else module_runs,
        }

    ratios = [pair["baseline"]["wall_s"] / pair["audit"]["wall_s"] for pair in pairs]
    cpu_ratios = [pair["baseline"]["cpu_s"] / pair["audit"]["cpu_s"] for pair in pairs]
    loads = [pair[kind]["load_1min_before"] for pair in pairs for kind in PLAYBOOKS]
    others = [pair[kind]["other_cores"] for pair in pairs for kind in PLAYBOOKS]
    return {
        "hosts": size,
        "pairs": len(pairs),
        "audit": figures("audit"),
        "baseline": figures("baseline"),
        "wall_ratio_pairs": [round(r, 2) for r in ratios],
        "wall_ratio_median": round(statistics.median(ratios), 2),
        "cpu_ratio_median": round(statistics.median(cpu_ratios), 2),
        "load_1min_median": round(statistics.median(loads), 2),
        "load_1min_max": max(loads),
        "other_cores_median": round(statistics.median(others), 2),
        "other_cores_max": max(others),
    }


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares cost per added host."""
    if len(points) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return round(sum((x - mean_x) * (y - mean_y) for x, y in points) / den, 3) if den else None


def scaling(sizes: list[dict]) -> dict:
    result = {}
    for kind in PLAYBOOKS:
        result[kind] = {
            "wall_s_per_host": slope([(s["hosts"], s[kind]["wall_s_median"]) for s in sizes]),
            "cpu_s_per_host": slope([(s["hosts"], s[kind]["cpu_s_median"]) for s in sizes]),
            "hosts_cpu_s_per_host": slope(
                [
                    (s["hosts"], s[kind]["hosts_cpu_s_median"])
                    for s in sizes
                    if s[kind]["hosts_cpu_s_median"] is not None
                ]
            ),
        }
    return result


def machine() -> dict:
    def cpu_model() -> str:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
        return platform.processor() or "unknown"

    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    os_name = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    from ansible.release import __version__ as ansible_core

    podman_version = podman("version", "--format", "{{.Client.Version}}", check=False)
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ansible_core": ansible_core,
        "podman": podman_version.stdout.strip() or "unknown",
    }


def preflight() -> None:
    if os.geteuid() != 0:
        raise BenchmarkError("run as root: the test bed's containers are rootful")
    if shutil.which("podman") is None:
        raise BenchmarkError("podman is missing: run tests/testbed/setup.sh")
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        raise BenchmarkError(f"{IMAGE} is missing: run tests/testbed/setup.sh")
    if not any((TESTBED_OUT / "packages" / "apt").glob("kesl_*.deb")):
        raise BenchmarkError(f"no test doubles in {TESTBED_OUT}: run tests/testbed/setup.sh")


def wait_for_quiet(max_load: float, wait_minutes: float, log) -> dict:
    """Wait (up to wait_minutes) until the 1-minute load is at most max_load."""
    started = time.monotonic()
    first = load_1min()
    while load_1min() > max_load and time.monotonic() - started < wait_minutes * 60:
        log(f"1-minute load {load_1min():.2f} > {max_load}: waiting 60 s")
        time.sleep(60)
    return {
        "max_load": max_load,
        "load_1min_at_request": first,
        "load_1min_at_start": load_1min(),
        "waited_s": round(time.monotonic() - started),
        "quiet": load_1min() <= max_load,
    }


def run(args, log=None, load_record: dict | None = None) -> dict:
    """The fleet benchmark; load_record: a wait_for_quiet result when the caller waited."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    preflight()
    sizes = sorted(set(args.hosts))
    if load_record is None:
        load_record = wait_for_quiet(args.max_load, args.wait_minutes, log) if args.max_load else {}
    started_at = datetime.datetime.now(datetime.UTC)
    started = time.monotonic()
    bench = Bench(args, log)
    results = []
    skipped_sizes = None
    try:
        with Fleet(args.clamav, log) as fleet:
            for position, size in enumerate(sizes):
                try:
                    fleet.grow(size)
                except FleetTooLarge as exc:
                    skipped = [n for n in sizes if n >= size]
                    log(f"N={size}: not run ({exc}); skipped sizes {skipped}")
                    skipped_sizes = {"sizes": skipped, "reason": str(exc)}
                    break
                inventory = bench.inventory([fleet.name(i) for i in range(size)])
                bench.cgroup_files = fleet.cgroup_files(size)
                if not bench.cgroup_files:
                    log("the containers' cgroups were not found: no figure for the hosts' CPU")
                expected = fleet.expected(size)
                pairs_wanted = args.pairs_largest if size == max(sizes) else args.pairs
                if position == 0 and args.warmup:
                    # The first runs compile and cache what later runs reuse.
                    log(f"N={size}: warm-up pair (not recorded)")
                    warm = {kind: bench.run(kind, inventory, size) for kind in PLAYBOOKS}
                    check_verdicts(expected, warm["audit"], warm["baseline"])
                pairs, durations = [], []
                for number in range(pairs_wanted):
                    pair_started = time.monotonic()
                    # At the largest size, stop early when another pair as long as the
                    # last one would overrun the budget; the table shows the pairs run.
                    if (
                        durations
                        and size == max(sizes)
                        and args.budget_minutes
                        and pair_started + durations[-1] - started > args.budget_minutes * 60
                    ):
                        log(f"N={size}: time budget reached after {len(pairs)} pairs")
                        break
                    pair = {}
                    for kind in PLAYBOOKS:  # A (audit) then B (baseline)
                        pair[kind] = bench.run(kind, inventory, size)
                    check_verdicts(expected, pair["audit"], pair["baseline"])
                    durations.append(time.monotonic() - pair_started)
                    log(
                        f"N={size} pair {number + 1}/{pairs_wanted}: "
                        f"audit {pair['audit']['wall_s']:.1f} s, "
                        f"baseline {pair['baseline']['wall_s']:.1f} s, "
                        f"ratio {pair['baseline']['wall_s'] / pair['audit']['wall_s']:.2f}, "
                        f"load {pair['audit']['load_1min_before']:.2f}"
                    )
                    pairs.append(pair)
                summary = summarise(size, pairs)
                summary["verdicts"] = {
                    "compliant": sum(v["compliant"] for v in expected.values()),
                    "non_compliant": sum(not v["compliant"] for v in expected.values()),
                    "audits_agree_every_run": True,
                }
                summary["runs"] = [
                    {kind: _trim(pair[kind]) for kind in PLAYBOOKS} for pair in pairs
                ]
                results.append(summary)
                if args.partial:
                    args.partial.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        bench.close()
    if not results:
        raise BenchmarkError(f"no fleet size could run: {skipped_sizes}")
    done = [s["hosts"] for s in results]
    goal_size = 20 if 20 in done else max(done)
    at_goal = next(s for s in results if s["hosts"] == goal_size)
    return {
        "started": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started),
        "settings": {
            "hosts": sizes,
            "forks": args.forks,
            "pipelining": args.pipelining,
            "connection": "containers.podman.podman",
            "clamav_in_clean_hosts": args.clamav,
            "warmup_pair": args.warmup,
            "pairs": args.pairs,
            "pairs_largest": args.pairs_largest,
            "budget_minutes": args.budget_minutes,
            "order": "A B A B ... (A = playbooks/audit.yml, B = bench/baseline_audit.yml)",
        },
        "load": load_record,
        "machine": machine(),
        "sizes": results,
        "skipped": skipped_sizes,
        "scaling": scaling(results),
        "goal": {
            "hosts": goal_size,
            "wall_ratio_median": at_goal["wall_ratio_median"],
            "target": 3.0,
            "met": at_goal["wall_ratio_median"] >= 3.0,
        },
    }


def _trim(result: dict) -> dict:
    keep = dict(result)
    keep.pop("stdout_tail", None)
    keep.pop("verdicts", None)
    keep.pop("failures", None)
    runs = sorted(set(keep.pop("module_runs").values()))
    keep["module_runs_per_host"] = runs[0] if len(runs) == 1 else runs
    return keep


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 5,10,20: {text!r}") from None
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError("every size must be at least 2")
    return sizes


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parse.add_argument("--hosts", type=_sizes, default=[5, 10, 20, 40], metavar="N,N,...")
    parse.add_argument("--pairs", type=int, default=3, help="A B pairs per fleet size")
    parse.add_argument(
        "--pairs-largest", type=int, default=None, help="pairs at the largest size (--pairs)"
    )
    parse.add_argument(
        "--budget-minutes",
        type=float,
        default=None,
        help="at the largest size, run fewer pairs (at least 1) rather than overrun this",
    )
    parse.add_argument("--forks", type=int, default=10)
    parse.add_argument(
        "--no-pipelining", dest="pipelining", action="store_false", help="for both audits"
    )
    parse.add_argument(
        "--no-clamav",
        dest="clamav",
        action="store_false",
        help="no ClamAV in the clean half: every host is then non-compliant",
    )
    parse.add_argument("--no-warmup", dest="warmup", action="store_false")
    parse.add_argument(
        "--max-load",
        type=float,
        default=2.0,
        help="wait until the 1-minute load is at most this (0: do not wait)",
    )
    parse.add_argument("--wait-minutes", type=float, default=30)
    parse.add_argument("--json", type=Path, help="also write the figures here")
    parse.add_argument(
        "--partial", type=Path, help="write the sizes done so far here after each size"
    )
    return parse


def on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        worker(Path(argv[1]))
        return 0
    args = parser().parse_args(argv)
    if args.pairs_largest is None:
        args.pairs_largest = args.pairs
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        figures = run(args)
    except BenchmarkError as exc:
        print(f"fleet_audit: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"fleet_audit: interrupted ({exc or 'Ctrl-C'}); containers removed", file=sys.stderr)
        return 130
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
