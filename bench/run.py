"""Every benchmark in one command: classifier, Linux collector, then the fleet audit.

    .venv/bin/python bench/run.py [--hosts 5,10,20,40] [--pairs 3] [--pairs-largest 3]

Writes bench/results/latest.json (every figure and run) and bench/results/latest.md
(the table for the README's Performance section). Options other than --out and
--classify-hosts go to fleet_audit.py (see bench/README.md). Benchmarks are not tests:
nothing here asserts a timing; a goal that is missed shows as "no" in the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import classify_throughput
import collector_time
import fleet_audit

RESULTS = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python bench/run.py"


def _mib(value: float) -> str:
    return f"{value:.0f}"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _runs(value) -> str:
    return str(value) if isinstance(value, int) else "/".join(map(str, value))


def markdown(figures: dict) -> str:
    fleet, classify = figures["fleet_audit"], figures["classify_throughput"]
    collector = figures["collector_time"]
    machine, settings = fleet["machine"], fleet["settings"]
    sizes = {size["hosts"]: size for size in fleet["sizes"]}
    goal = fleet["goal"]
    at_goal = sizes[goal["hosts"]]
    largest = sizes[max(sizes)]
    scaling = fleet["scaling"]
    loads = [size["load_1min_median"] for size in fleet["sizes"]]
    load_max = max(size["load_1min_max"] for size in fleet["sizes"])
    others_max = max(size["other_cores_max"] for size in fleet["sizes"])
    pairs = ", ".join(f"{n}: {size['pairs']}" for n, size in sizes.items())

    lines = [
        "| measure | playbooks/audit.yml | peer-style baseline |",
        "| --- | --- | --- |",
        f"| fleet audit, {goal['hosts']} hosts: wall time (median of {at_goal['pairs']} runs) "
        f"| {_s(at_goal['audit']['wall_s_median'])} s "
        f"| {_s(at_goal['baseline']['wall_s_median'])} s |",
        f"| baseline / audit wall time at {goal['hosts']} hosts, median of pairs (goal >= 3) "
        f"| **{at_goal['wall_ratio_median']:.2f}** "
        f"({'met' if goal['met'] else 'not met'}; pairs "
        f"{', '.join(f'{r:.2f}' for r in at_goal['wall_ratio_pairs'])}) | |",
        f"| remote module runs per host | {_runs(at_goal['audit']['module_runs_per_host'])} "
        f"| {_runs(at_goal['baseline']['module_runs_per_host'])} |",
        f"| wall time per added host (least squares over N = "
        f"{', '.join(map(str, sizes))}) | {_s(scaling['audit']['wall_s_per_host'])} s "
        f"| {_s(scaling['baseline']['wall_s_per_host'])} s |",
        f"| controller CPU per added host | {_s(scaling['audit']['cpu_s_per_host'])} s "
        f"| {_s(scaling['baseline']['cpu_s_per_host'])} s |",
        f"| test hosts' CPU per added host | {_s(scaling['audit']['hosts_cpu_s_per_host'])} s "
        f"| {_s(scaling['baseline']['hosts_cpu_s_per_host'])} s |",
        f"| controller peak memory at {largest['hosts']} hosts: largest process (ru_maxrss) "
        f"| {_mib(largest['audit']['max_rss_mib_max'])} MiB "
        f"| {_mib(largest['baseline']['max_rss_mib_max'])} MiB |",
        f"| controller peak memory at {largest['hosts']} hosts: whole process tree (PSS) "
        f"| {_mib(largest['audit']['tree_pss_peak_mib_max'])} MiB "
        f"| {_mib(largest['baseline']['tree_pss_peak_mib_max'])} MiB |",
        f"| classify {classify['hosts']:,} Windows inventories, 300 uninstall entries each "
        f"(median of {classify['rounds']}) | {_s(classify['classify_seconds_median'])} s "
        f"({classify['classify_per_host_ms']} ms per host); json.load of the same "
        f"{_s(classify['json_load_seconds_median'])} s; classify / load "
        f"**{classify['ratio_classify_to_load_median']:.2f}** (goal <= 3; 1-min load "
        f"{classify['load_1min_before']:.1f} at the start) | |",
        f"| Linux collector on a host with {collector['packages']:,} packages "
        f"(median / max of {collector['runs']} runs; goal < 0.5 s) "
        f"| {collector['collector_seconds_median']:.3f} s / "
        f"{collector['collector_seconds_max']:.3f} s"
        + (
            ""
            if collector.get("systemd", True)
            else " (no systemd on this machine: systemctl is not in the figure)"
        )
        + " | |",
        "",
        "| hosts | pairs | wall s, audit | wall s, baseline | baseline / audit "
        "| controller CPU s, audit | controller CPU s, baseline "
        "| hosts' CPU s, audit | hosts' CPU s, baseline "
        "| peak MiB, audit (process / tree) | peak MiB, baseline (process / tree) "
        "| 1-min load | other work, cores |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, size in sizes.items():
        a, b = size["audit"], size["baseline"]
        lines.append(
            f"| {n} | {size['pairs']} | {_s(a['wall_s_median'])} | {_s(b['wall_s_median'])} "
            f"| {size['wall_ratio_median']:.2f} | {_s(a['cpu_s_median'])} "
            f"| {_s(b['cpu_s_median'])} | {_s(a['hosts_cpu_s_median'])} "
            f"| {_s(b['hosts_cpu_s_median'])} | {_mib(a['max_rss_mib_max'])} / "
            f"{_mib(a['tree_pss_peak_mib_max'])} | {_mib(b['max_rss_mib_max'])} / "
            f"{_mib(b['tree_pss_peak_mib_max'])} | {size['load_1min_median']:.1f} "
            f"| {size['other_cores_median']:.2f} |"
        )
    date = fleet["started"][:10]
    clean = "ClamAV active" if settings["clamav_in_clean_hosts"] else "no antivirus"
    odd = [n for n in sizes if n % 2]
    odd = f" ({', '.join(f'{(n + 1) // 2} of {n}' for n in odd)})" if odd else ""
    lines += [
        "",
        f"Fleet: N Debian 12 test-bed containers over `containers.podman.podman`, half with "
        f"the Kaspersky test doubles{odd}, half with {clean}; both audits "
        f"reached the same "
        f"verdict for every host in every run. Same inventory, forks = {settings['forks']}, "
        f"pipelining {'on' if settings['pipelining'] else 'off'} for both; runs A B A B "
        f"(pairs per size: {pairs}), one untimed warm-up pair first. Wall time and CPU are "
        "medians. Controller CPU: user + sys of the ansible-playbook process tree (the "
        "podman CLI included); hosts' CPU: the test containers' cgroups (module runs "
        "included); other work: the rest of the machine's busy time over the wall time, "
        "in cores (other people's work, plus podman's conmon and kernel threads). Peak "
        "memory: largest over the runs, of the largest single process (ru_maxrss) / of the "
        "whole tree (PSS, sampled every 0.25 s).",
        "",
        f"Measured on {date} on a {machine['cores']}-core {machine['cpu']} machine with "
        f"{machine['memory_gib']:.0f} GiB, {machine['os']}, Python {machine['python']}, "
        f"ansible-core {machine['ansible_core']}, podman {machine['podman']}; the test hosts "
        f"ran on the same machine, so their CPU competes with the controller's. 1-minute "
        f"load at the start of the runs (the benchmark's own work included): median "
        f"{min(loads):.1f}-{max(loads):.1f} per size, up to {load_max:.1f}, while other work "
        f"used at most {others_max:.2f} cores; "
        f"{_load_note(fleet['load'])}. Command: `{figures['command']}`.",
    ]
    if fleet.get("skipped"):
        skipped = fleet["skipped"]
        lines += [
            "",
            f"Not run: N = {', '.join(map(str, skipped['sizes']))}: {skipped['reason']}.",
        ]
    # Prose wrapped like the README's; table rows stay whole.
    return "\n".join(line if line.startswith("|") else _wrap(line) for line in lines) + "\n"


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=88, break_on_hyphens=False, break_long_words=False)


def _load_note(load: dict) -> str:
    if not load:
        return "no wait for a quiet machine was requested"
    if load.get("quiet"):
        return (
            f"the run started after waiting {load['waited_s']} s for a 1-minute load of at "
            f"most {load['max_load']:.0f} (it was {load['load_1min_at_request']:.1f})"
            if load["waited_s"]
            else f"the 1-minute load was {load['load_1min_at_start']:.1f} when the run started"
        )
    return (
        f"the machine stayed busy with other work: {load['waited_s']} s of waiting did not "
        f"bring the load below {load['max_load']:.0f}"
    )


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main() -> int:
    signal.signal(signal.SIGTERM, fleet_audit.on_sigterm)
    try:
        return run()
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}); containers removed, no results written")
        return 130


def run() -> int:
    fleet_parser = fleet_audit.parser()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--classify-hosts", type=int, default=2000)
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only write latest.md again from a results JSON; runs nothing",
    )
    args, rest = parser.parse_known_args()
    if args.render:
        table = markdown(json.loads(args.render.read_text()))
        (args.out / "latest.md").write_text("# Benchmark results\n\n" + table)
        print(table)
        return 0
    fleet_args = fleet_parser.parse_args(rest)
    if fleet_args.pairs_largest is None:
        fleet_args.pairs_largest = fleet_args.pairs
    args.out.mkdir(parents=True, exist_ok=True)
    if fleet_args.partial is None:
        # The sizes done so far, should a later one fail; removed after a complete run.
        fleet_args.partial = args.out / "partial.json"

    try:
        fleet_audit.preflight()
    except fleet_audit.BenchmarkError as exc:
        log(f"cannot run: {exc}")
        return 2
    # Wait for a quiet machine before anything runs; the classifier's run is short.
    load_record = (
        fleet_audit.wait_for_quiet(fleet_args.max_load, fleet_args.wait_minutes, log)
        if fleet_args.max_load
        else {}
    )
    log("Linux collector, 3,000 packages")
    collector_load = fleet_audit.load_1min()
    collector = collector_time.run(3000, 15)
    collector["load_1min_before"] = collector_load
    # The collector asks systemctl only where systemd runs (linux_inventory.collect).
    collector["systemd"] = os.path.isdir("/run/systemd/system")
    log(f"collector median {collector['collector_seconds_median']} s")
    log(f"classifier throughput, {args.classify_hosts} inventories")
    classify_load = fleet_audit.load_1min()
    classify = classify_throughput.run(args.classify_hosts, 5)
    classify["load_1min_before"] = classify_load
    log(
        f"classify / load {classify['ratio_classify_to_load_median']}, "
        f"{classify['classify_per_host_ms']} ms per host"
    )
    try:
        fleet = fleet_audit.run(fleet_args, log, load_record)
    except fleet_audit.BenchmarkError as exc:
        log(f"fleet audit FAILED: {exc}")
        if fleet_args.partial.is_file():
            log(f"the sizes done before are in {fleet_args.partial}")
        return 1
    figures = {
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": COMMAND + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        "classify_throughput": classify,
        "collector_time": collector,
        "fleet_audit": fleet,
    }
    (args.out / "latest.json").write_text(json.dumps(figures, indent=2) + "\n")
    table = markdown(figures)
    (args.out / "latest.md").write_text("# Benchmark results\n\n" + table)
    print(table)
    fleet_args.partial.unlink(missing_ok=True)
    log(f"wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
