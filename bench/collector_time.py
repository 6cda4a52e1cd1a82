"""Linux collector time on a host with 3,000 packages (goal: under 0.5 s).

Runs the collector's own code (plugins/module_utils/linux_inventory.collect) on this
machine: real dpkg-query, systemctl where systemd runs, /proc, the catalogue's paths.
The package database is this host's own, grown to N packages by copying its entries
under new names into a private dpkg admin directory that dpkg-query is pointed at.

    .venv/bin/python bench/collector_time.py [--packages 3000] [--runs 15] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.module_utils import linux_inventory
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import load_catalogue

DPKG_STATUS = Path("/var/lib/dpkg/status")


def grown_status(target: int) -> str:
    """This host's status file, its stanzas repeated under new names up to `target`."""
    stanzas = [s for s in DPKG_STATUS.read_text().split("\n\n") if s.startswith("Package:")]
    grown, copy = list(stanzas), 0
    while len(grown) < target:
        copy += 1
        for stanza in stanzas[: target - len(grown)]:
            name = stanza.split("\n", 1)[0].split(": ", 1)[1]
            grown.append(stanza.replace(f"Package: {name}", f"Package: {name}-copy{copy}", 1))
    return "\n\n".join(grown) + "\n"


def run(packages: int, runs: int) -> dict:
    if shutil.which("dpkg-query") is None:
        raise SystemExit("needs a dpkg host")
    paths = load_catalogue().signatures["linux"].path_list
    with tempfile.TemporaryDirectory() as admin:
        Path(admin, "status").write_text(grown_status(packages))
        Path(admin, "info").mkdir()

        def run_command(argv):
            if argv[0].endswith("dpkg-query"):
                argv = [argv[0], f"--admindir={admin}", *argv[1:]]
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            return done.returncode, done.stdout, done.stderr

        times, inventory = [], None
        for _ in range(runs):
            started = time.perf_counter()
            inventory, _warnings, errors = linux_inventory.collect(run_command, shutil.which, paths)
            times.append(time.perf_counter() - started)
            if errors:
                raise SystemExit(f"collector errors: {errors}")
    return {
        "packages": len(inventory["packages"]),
        "services": len(inventory["services"]),
        "processes": len(inventory["processes"]),
        "runs": runs,
        "collector_seconds_median": round(statistics.median(times), 3),
        "collector_seconds_max": round(max(times), 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run(args.packages, args.runs)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
