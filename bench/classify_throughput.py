"""Classifier throughput against the cost of reading the same inventories.

Writes N Windows inventories of 300 uninstall entries (plus services, drivers and
processes in the numbers a real client has), then in one process times json.load of
every file and classify() of every loaded inventory. Goal: classify / load <= 3.

    .venv/bin/python bench/classify_throughput.py [--hosts 2000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import load_catalogue
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy

_VENDORS = ["Microsoft Corporation", "Google LLC", "Adobe Inc.", "Oracle Corporation", "Intel"]
_PRODUCTS = [
    "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.{n}",
    "Microsoft Edge WebView2 Runtime {n}",
    "Google Chrome {n}",
    "Adobe Acrobat Reader DC {n}",
    "Intel(R) Management Engine Components {n}",
    "Java 8 Update {n}",
    "7-Zip {n} (x64)",
    "Update for Windows 10 for x64-based Systems (KB50{n})",
]
_KASPERSKY = [
    {"name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab"},
    {"name": "Kaspersky Security Center Network Agent", "publisher": "AO Kaspersky Lab"},
]


def make_inventory(rng: random.Random, host: int) -> dict:
    packages = [
        {
            "name": rng.choice(_PRODUCTS).format(n=rng.randrange(10_000)),
            "version": f"{rng.randrange(30)}.{rng.randrange(100)}.{rng.randrange(10_000)}",
            "publisher": rng.choice(_VENDORS),
            "source": "uninstall-registry",
            "product_code": f"{{{rng.randrange(2**32):08X}-0000-0000-0000-000000000000}}",
            "uninstall_string": "MsiExec.exe /X{...}",
            "install_location": None,
        }
        for _ in range(300 - 2)
    ]
    if host % 4 == 0:  # a quarter of the fleet still runs Kaspersky
        packages += [dict(entry, source="uninstall-registry") for entry in _KASPERSKY]
    else:
        packages += [dict(packages[0]), dict(packages[1])]
    return {
        "schema": 1,
        "host": f"ws-{host:05d}",
        "os_family": "windows",
        "os": {"name": "Windows 11 Enterprise", "version": "10.0.22631", "server": False},
        "packages": packages,
        "services": [
            {
                "name": f"Svc{i}",
                "display_name": f"Service {i}",
                "state": rng.choice(("running", "stopped")),
                "start_mode": "auto",
                "path": f"C:\\Windows\\system32\\svc{i}.exe",
            }
            for i in range(250)
        ]
        + [
            {
                "name": "WinDefend",
                "display_name": "Microsoft Defender Antivirus Service",
                "state": "running",
                "start_mode": "auto",
                "path": None,
            }
        ],
        "processes": [{"name": f"proc{i}.exe", "path": None} for i in range(120)],
        "drivers": [{"name": f"drv{i}", "path": None} for i in range(150)],
        "paths": [],
        "security_center": [{"display_name": "Windows Defender", "product_state": 397568}],
    }


def run(hosts: int, rounds: int) -> dict:
    rng = random.Random(2026)
    catalogue = load_catalogue()
    policy = load_policy(catalogue=catalogue)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for host in range(hosts):
            path = Path(tmp) / f"ws-{host:05d}.json"
            path.write_text(json.dumps(make_inventory(rng, host)))
            files.append(path)
        ratios, loads, classifies = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            inventories = []
            for path in files:
                with path.open("rb") as stream:
                    inventories.append(json.load(stream))
            load_seconds = time.perf_counter() - started
            started = time.perf_counter()
            verdicts = [classify(inv, policy, catalogue) for inv in inventories]
            classify_seconds = time.perf_counter() - started
            loads.append(load_seconds)
            classifies.append(classify_seconds)
            ratios.append(classify_seconds / load_seconds)
        non_compliant = sum(not v["compliant"] for v in verdicts)
    return {
        "hosts": hosts,
        "uninstall_entries_per_host": 300,
        "rounds": rounds,
        "json_load_seconds_median": round(statistics.median(loads), 3),
        "classify_seconds_median": round(statistics.median(classifies), 3),
        "classify_per_host_ms": round(statistics.median(classifies) / hosts * 1000, 3),
        "ratio_classify_to_load_median": round(statistics.median(ratios), 2),
        "non_compliant_hosts": non_compliant,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'unknown cpu'}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run(args.hosts, args.rounds)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
