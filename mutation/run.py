"""Mutation testing of the engine and the collector: how many deliberate bugs the fast
tests catch, and which they do not.

    .venv/bin/python mutation/run.py [--modules classifier,policy] [--jobs 2]

For each module of mutation/config.toml, cosmic-ray makes every mutant it knows (an
operator replaced, a constant changed, a condition negated, ...) one at a time and runs
the module's fast tests against it. cosmic-ray edits the file it mutates in place, so
the run works on copies of the checkout (one per job) that the tests import the
collection from; the checkout itself is never touched, even by a run that is killed.

Writes mutation/results/latest.json (every mutant's outcome) and latest.md (the score
per module, for the README), and compares the survivors with mutation/survivors.toml:
a survivor not listed there, or one listed that no longer survives, is printed, and the
command exits 1 until the list is reviewed. Not a test: it takes an hour or more.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
RESULTS = HERE / "results"


def _tracked_copy(target: Path) -> Path:
    """The checkout's tracked files under target/ansible_collections/avshift/remediation,
    which PYTHONPATH=target puts before the venv's link to the checkout."""
    collection = target / "ansible_collections" / "avshift" / "remediation"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (item.decode() for item in files)):
        source = ROOT / name
        if source.is_file():
            destination = collection / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return collection


def _session(module: dict, timeout: float, copy: Path, work: Path) -> dict:
    """Run every mutant of one module in one copy; its outcome per mutant."""
    name = Path(module["path"]).stem
    config = work / f"{name}.toml"
    tests = " ".join(module["tests"])
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module["path"]}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        # A temporary directory of its own: pytest's shared one under /tmp rotates, and a
        # test run beside it (another checkout's) could remove a mutant's files, which
        # would count as a kill.
        f'test-command = "{BIN / "python"} -m pytest -x -q -p no:cacheprovider -p no:xdist '
        f'-p no:randomly --basetemp {work / f"pytest-{name}"} {tests}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    database = work / f"{name}.sqlite"
    environment = {**os.environ, "PYTHONPATH": str(copy.parents[2])}
    started = time.monotonic()
    cosmic_ray = [str(BIN / "cosmic-ray"), "--verbosity=ERROR"]
    subprocess.run([*cosmic_ray, "init", str(config), str(database)], cwd=copy, check=True)
    _skip_annotations(database, copy / module["path"])
    subprocess.run(
        [*cosmic_ray, "exec", str(config), str(database)], cwd=copy, env=environment, check=True
    )
    return {
        "module": module["path"],
        "seconds": round(time.monotonic() - started, 1),
        "mutants": _outcomes(database, copy),
    }


def _annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's type annotations are: with postponed evaluation (PEP 563, which
    every module here uses) they never run, so a mutant inside one changes nothing."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        annotations = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotations.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            annotations.append(node.returns)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in annotations]
    return spans


def _skip_annotations(database: Path, module: Path) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans = _annotation_spans(module)
    with use_db(str(database), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            (mutation,) = item.mutations
            start = tuple(mutation.start_pos)
            if any(low <= start < high for low, high in spans):
                db.set_result(
                    item.job_id,
                    WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="in an annotation"),
                )


def _outcomes(database: Path, copy: Path) -> list[dict]:
    from cosmic_ray.work_db import WorkDB, use_db

    found = []
    with use_db(str(database), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            (mutation,) = item.mutations
            lines = (copy / mutation.module_path).read_text().splitlines()
            line, column = mutation.start_pos
            found.append(
                {
                    "operator": mutation.operator_name,
                    "occurrence": mutation.occurrence,
                    "line": line,
                    "column": column,
                    "source": lines[line - 1].strip() if line <= len(lines) else "",
                    "outcome": (result.test_outcome or result.worker_outcome).value,
                    "diff": result.diff,
                }
            )
    return found


def _key(module: str, mutant: dict) -> tuple:
    # A survivor is known by what it changes, not by its line number, which moves.
    return (module, mutant["operator"], mutant["source"], mutant["column"])


def _score(mutants: list[dict]) -> tuple[int, int, int]:
    killed = sum(m["outcome"] == "killed" for m in mutants)
    survived = sum(m["outcome"] == "survived" for m in mutants)
    return killed, survived, len(mutants) - killed - survived


def _table(sessions: list[dict]) -> str:
    # "other": mutants not run (inside an annotation) or that broke the test run itself.
    rows = [
        "| module | mutants | killed | survived | other | score | run |",
        "|---|---|---|---|---|---|---|",
    ]
    totals = [0, 0, 0]
    for session in sessions:
        killed, survived, other = _score(session["mutants"])
        totals = [totals[0] + killed, totals[1] + survived, totals[2] + other]
        score = 100.0 * killed / (killed + survived) if killed + survived else 100.0
        commit = session.get("commit", "?")
        run = f"{session.get('at', '?')[:10]} {commit[:7]}{'+' if '+' in commit else ''}"
        rows.append(
            f"| `{session['module']}` | {len(session['mutants'])} | {killed} | {survived} "
            f"| {other} | {score:.1f}% | {run} |"
        )
    killed, survived, other = totals
    score = 100.0 * killed / (killed + survived) if killed + survived else 100.0
    rows.append(
        f"| **all** | {killed + survived + other} | {killed} | {survived} | {other} "
        f"| **{score:.1f}%** | |"
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", help="comma-separated module names (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="modules mutated side by side")
    args = parser.parse_args()
    config = tomllib.loads((HERE / "config.toml").read_text())
    modules = config["module"]
    if args.modules:
        wanted = set(args.modules.split(","))
        modules = [m for m in modules if Path(m["path"]).stem in wanted]
    reviewed = tomllib.loads((HERE / "survivors.toml").read_text()).get("survivor", [])
    # What the copies are made of: the checkout as it is now, changes not yet committed
    # included (then the commit says "+changes").
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    commit += "+changes" if changed else ""
    with tempfile.TemporaryDirectory(prefix="avshift-mutation-") as scratch:
        copies = [_tracked_copy(Path(scratch) / f"copy-{n}") for n in range(args.jobs)]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [
                pool.submit(
                    _session,
                    module,
                    config["timeout"],
                    copies[number % args.jobs],
                    Path(scratch),
                )
                for number, module in enumerate(modules)
            ]
            sessions = [future.result() for future in futures]
    at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for session in sessions:
        session.update(at=at, commit=commit)
    # A run of some modules replaces their results and keeps the others' (each session
    # says when, and at which commit, it ran), in config.toml's order.
    RESULTS.mkdir(exist_ok=True)
    latest = RESULTS / "latest.json"
    kept = json.loads(latest.read_text()).get("sessions", []) if latest.exists() else []
    ran = {session["module"]: session for session in sessions}
    previous = {session["module"]: session for session in kept}
    sessions = [
        ran.get(module["path"]) or previous[module["path"]]
        for module in config["module"]
        if module["path"] in ran or module["path"] in previous
    ]
    latest.write_text(
        json.dumps({"python": platform.python_version(), "sessions": sessions}, indent=1) + "\n"
    )
    table = _table(sessions)
    (RESULTS / "latest.md").write_text(table + "\n")
    print(table)
    known = {
        (entry["module"], entry["operator"], entry["source"], entry["column"]) for entry in reviewed
    }
    surviving = {
        _key(session["module"], mutant): mutant
        for session in sessions
        for mutant in session["mutants"]
        if mutant["outcome"] == "survived"
    }
    checked = {session["module"] for session in sessions}
    new = [key for key in surviving if key not in known]
    gone = [key for key in known if key[0] in checked and key not in surviving]
    for module, operator, source, column in new:
        print(f"NEW SURVIVOR {module}: {operator} at column {column} of: {source}")
        print(surviving[(module, operator, source, column)]["diff"] or "")
        # What survivors.toml takes, once the reason is written in.
        print(
            f"[[survivor]]\nmodule = {json.dumps(module)}\noperator = {json.dumps(operator)}\n"
            f'source = {json.dumps(source)}\ncolumn = {column}\nreason = ""\n'
        )
    for module, operator, source, _column in gone:
        print(f"NO LONGER SURVIVES (remove from survivors.toml) {module}: {operator}: {source}")
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
