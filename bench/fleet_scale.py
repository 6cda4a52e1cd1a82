"""The controller at fleet scale: the audit against the `ansible -m ping` floor.

At 100, 250 and 500 inventory hosts that share a few test containers (10 by default,
from bench/fleet_audit.py's fleet: half with the Kaspersky test doubles, half with
ClamAV), each inventory name mapped to one of them by ansible_host: the controller is
what is measured, not the hosts. For each size it runs, alternately (A B A B ...), with
the same inventory, forks and settings:

    A  playbooks/audit.yml as the avshift CLI runs it: ansible-runner, the fleet_report
       callback enabled (as bench/callback_plugins/fleet_report_probe.py, which also
       records the state the callback holds), reports, journal and history store in a
       scratch directory
    B  ansible -m ping: one connection and one module per host

and measures each run as fleet_audit.py does (wall time; user + sys of the ansible
process tree from getrusage in a fresh worker process; ru_maxrss and the tree's summed
PSS; load and other work), and the callback's held state per host. Every audit must
give every inventory name the verdict its container was built for, and every ping
must reach every host, or the benchmark fails.

    .venv/bin/python bench/fleet_scale.py [--hosts 100,250,500] [--pairs 3] [--json OUT]

Runs as root with the test bed set up (tests/testbed/setup.sh); not part of run.py.
"""

from __future__ import annotations

import argparse
import datetime
import json
import signal
import statistics
import sys
import time
from pathlib import Path

import fleet_audit
from fleet_audit import BenchmarkError

ROOT = fleet_audit.ROOT
PROBE_PLUGINS = ROOT / "bench" / "callback_plugins"
KINDS = ("audit", "ping")
# The avshift CLI passes --forks only when given one: ansible's own default then applies.
CLI_FORKS = 5
# The goals: audit / ping under this, the callback's state under this per host.
RATIO_GOAL = 1.3
HELD_GOAL_KIB = 20


def inventory_names(size: int) -> list[str]:
    return [f"scale-{index:04d}" for index in range(size)]


class ScaleBench(fleet_audit.Bench):
    """fleet_audit's runs, with the two kinds of this benchmark."""

    def __init__(self, args, log) -> None:
        super().__init__(args, log)
        # One store for the whole benchmark, as a user's store outlives the runs.
        self.history = self.workdir / "history.sqlite"

    def audit(self, inventory: Path, hosts: int) -> dict:
        reports = self.workdir / f"reports-{self.sequence + 1:03d}"
        probe = self.workdir / f"probe-{self.sequence + 1:03d}.json"
        callback = (
            {
                "ANSIBLE_CALLBACK_PLUGINS": str(PROBE_PLUGINS),
                "ANSIBLE_CALLBACKS_ENABLED": "fleet_report_probe",
                "AVSHIFT_BENCH_PROBE": str(probe),
            }
            if self.args.probe
            else {"ANSIBLE_CALLBACKS_ENABLED": "avshift.remediation.fleet_report"}
        )
        # What src/avshift/playbook_run.py gives ansible-runner, the callback included.
        envvars = {
            **callback,
            "AVSHIFT_REPORT_DIR": str(reports),
            "AVSHIFT_REPORT_MODE": "0o700",
            "AVSHIFT_HISTORY": str(self.history),
            "AVSHIFT_SYSLOG": "",
        }
        result = self.run("audit", inventory, hosts, envvars=envvars)
        if not (reports / "report.json").is_file():
            raise BenchmarkError(f"the audit at N={hosts} wrote no report in {reports}")
        result["held"] = json.loads(probe.read_text()) if self.args.probe else None
        return result

    def ping(self, inventory: Path, hosts: int) -> dict:
        result = self.run(
            "ping", inventory, hosts, target={"module": "ping", "host_pattern": "all"}
        )
        pinged = result["module_runs"]
        if len(pinged) != hosts or set(pinged.values()) != {1}:
            raise BenchmarkError(f"ping at N={hosts} reached {len(pinged)} hosts, not {hosts}")
        result["held"] = None
        return result


def check_audit(expected: dict[str, dict], audit: dict) -> None:
    """Every inventory name has the verdict of the container it is mapped to."""
    problems = [
        f"{name}: built to be {built}, the audit says {audit['verdicts'].get(name)}"
        for name, built in expected.items()
        if audit["verdicts"].get(name) != built
    ]
    if problems:
        raise BenchmarkError("wrong verdicts:\n  " + "\n  ".join(problems[:10]))


def summarise(size: int, pairs: list[dict]) -> dict:
    def figures(kind: str) -> dict:
        runs = [pair[kind] for pair in pairs]
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        pss = max(r["tree_pss_peak_mib"] for r in runs)
        return {
            "wall_s_median": round(wall, 2),
            "wall_ms_per_host": round(wall / size * 1000, 1),
            "cpu_s_median": round(cpu, 2),
            "cpu_ms_per_host": round(cpu / size * 1000, 1),
            "max_rss_mib_max": max(r["max_rss_mib"] for r in runs),
            "tree_pss_peak_mib_max": pss,
            "tree_pss_kib_per_host": round(pss * 1024 / size, 1),
            "other_cores_median": fleet_audit._median([r["other_cores"] for r in runs]),
        }

    def ratios(key: str) -> list[float]:
        return [round(pair["audit"][key] / pair["ping"][key], 2) for pair in pairs]

    held = [pair["audit"]["held"] for pair in pairs if pair["audit"]["held"]]
    loads = [pair[kind]["load_1min_before"] for pair in pairs for kind in KINDS]
    summary = {
        "hosts": size,
        "pairs": len(pairs),
        "audit": figures("audit"),
        "ping": figures("ping"),
        "loads": {"median": round(statistics.median(loads), 2), "max": max(loads)},
    }
    for key, name in (("wall_s", "wall"), ("cpu_s", "cpu"), ("tree_pss_peak_mib", "pss")):
        per_pair = ratios(key)
        summary[f"{name}_ratio_pairs"] = per_pair
        summary[f"{name}_ratio_median"] = round(statistics.median(per_pair), 2)
    summary["wall_goal_met"] = summary["wall_ratio_median"] < RATIO_GOAL
    if held:
        per_host = max(h["held_bytes"] / h["hosts"] / 1024 for h in held)
        summary["callback_held"] = {
            "bytes_max": max(h["held_bytes"] for h in held),
            "kib_per_host_max": round(per_host, 2),
            "measure_s_max": max(h["measure_s"] for h in held),
            "goal_met": per_host <= HELD_GOAL_KIB,
        }
    return summary


def run(args, log) -> dict:
    fleet_audit.preflight()
    sizes = sorted(set(args.hosts))
    load_record = (
        fleet_audit.wait_for_quiet(args.max_load, args.wait_minutes, log) if args.max_load else {}
    )
    started_at = datetime.datetime.now(datetime.UTC)
    started = time.monotonic()
    bench = ScaleBench(args, log)
    results = []
    try:
        with fleet_audit.Fleet(True, log) as fleet:
            fleet.grow(args.containers)
            built = fleet.expected(args.containers)
            bench.cgroup_files = fleet.cgroup_files(args.containers)
            for position, size in enumerate(sizes):
                names = inventory_names(size)
                address = {name: fleet.name(i % args.containers) for i, name in enumerate(names)}
                inventory = bench.inventory(names, address)
                expected = {name: built[address[name]] for name in names}
                if position == 0 and args.warmup:
                    log(f"N={size}: warm-up pair (not recorded)")
                    check_audit(expected, bench.audit(inventory, size))
                    bench.ping(inventory, size)
                pairs_wanted = args.pairs_largest if size == max(sizes) else args.pairs
                pairs, durations = [], []
                for number in range(pairs_wanted):
                    pair_started = time.monotonic()
                    # Fewer pairs rather than overrun the budget; the table says how many.
                    if (
                        durations
                        and args.budget_minutes
                        and pair_started + durations[-1] - started > args.budget_minutes * 60
                    ):
                        log(f"N={size}: time budget reached after {len(pairs)} pairs")
                        break
                    pair = {
                        "audit": bench.audit(inventory, size),
                        "ping": bench.ping(inventory, size),
                    }
                    check_audit(expected, pair["audit"])
                    durations.append(time.monotonic() - pair_started)
                    held = pair["audit"]["held"]
                    log(
                        f"N={size} pair {number + 1}/{pairs_wanted}: "
                        f"audit {pair['audit']['wall_s']:.1f} s / {pair['audit']['cpu_s']:.1f} "
                        f"CPU s, ping {pair['ping']['wall_s']:.1f} s / "
                        f"{pair['ping']['cpu_s']:.1f} CPU s, wall ratio "
                        f"{pair['audit']['wall_s'] / pair['ping']['wall_s']:.2f}, load "
                        f"{pair['audit']['load_1min_before']:.2f}"
                        + (
                            f", callback {held['held_bytes'] / size / 1024:.1f} KiB/host"
                            if held
                            else ""
                        )
                    )
                    pairs.append(pair)
                summary = summarise(size, pairs)
                summary["runs"] = [{kind: _trim(pair[kind]) for kind in KINDS} for pair in pairs]
                results.append(summary)
                if args.partial:
                    args.partial.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        bench.close()
    return {
        "started": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started),
        "settings": {
            "hosts": sizes,
            "containers": args.containers,
            "forks": args.forks,
            "pipelining": args.pipelining,
            "connection": "containers.podman.podman",
            "callback": "fleet_report_probe" if args.probe else "avshift.remediation.fleet_report",
            "warmup_pair": args.warmup,
            "pairs": args.pairs,
            "pairs_largest": args.pairs_largest,
            "budget_minutes": args.budget_minutes,
            "order": "A B A B ... (A = playbooks/audit.yml, B = ansible -m ping)",
        },
        "load": load_record,
        "machine": fleet_audit.machine(),
        "sizes": results,
        "goals": {
            "wall_ratio_below": RATIO_GOAL,
            "wall_met_every_size": all(s["wall_goal_met"] for s in results),
            "callback_kib_per_host_at_most": HELD_GOAL_KIB,
            "callback_met_every_size": all(
                s.get("callback_held", {}).get("goal_met", False) for s in results
            ),
        },
    }


def _trim(result: dict) -> dict:
    keep = fleet_audit._trim(result)
    keep.pop("kind", None)
    return keep


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parse.add_argument("--hosts", type=fleet_audit._sizes, default=[100, 250, 500])
    parse.add_argument("--containers", type=int, default=10, help="test containers shared")
    parse.add_argument("--pairs", type=int, default=3, help="A B pairs per size")
    parse.add_argument("--pairs-largest", type=int, default=None, help="pairs at the largest size")
    parse.add_argument(
        "--budget-minutes", type=float, default=None, help="run fewer pairs rather than overrun"
    )
    parse.add_argument("--forks", type=int, default=CLI_FORKS)
    parse.add_argument(
        "--pipelining", action="store_true", help="for both (the CLI leaves ansible's default, off)"
    )
    parse.add_argument(
        "--no-probe",
        dest="probe",
        action="store_false",
        help="the shipped callback itself, without the held-state figure",
    )
    parse.add_argument("--no-warmup", dest="warmup", action="store_false")
    parse.add_argument("--max-load", type=float, default=0, help="wait for this load (0: no)")
    parse.add_argument("--wait-minutes", type=float, default=30)
    parse.add_argument("--json", type=Path, help="also write the figures here")
    parse.add_argument("--partial", type=Path, help="the sizes done so far, after each size")
    return parse


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.pairs_largest is None:
        args.pairs_largest = args.pairs

    def log(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, fleet_audit.on_sigterm)
    try:
        figures = run(args, log)
    except BenchmarkError as exc:
        print(f"fleet_scale: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"fleet_scale: interrupted ({exc or 'Ctrl-C'}); containers removed", file=sys.stderr)
        return 130
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
