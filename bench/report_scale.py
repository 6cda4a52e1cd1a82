"""The fleet report at fleet sizes: how long each format takes to render, how large it is,
and how the HTML page behaves in headless Chromium (open, one filter keystroke, one sort);
the page side by side with an earlier one, in the same run.

The hosts are the report tests' sample fleet (tests/report/report_sample.py: every
status, Cyrillic names, hostile display names) repeated under numbered names, so every
size holds the same mix. Rendering is timed on the renderers formats.py lists, the ones
write_reports() runs; the page is opened from a file, as a person opens it.

The earlier page is the collection at --baseline (a git revision of this repository;
by default the last one whose page held every host as a table row), extracted into a
scratch directory and rendered there, from the same report, in a process of its own.
The browser opens the two pages in turn, round by round. Nothing is asserted: the goals
of issue #19 show as "met" or "not met".

    .venv/bin/python bench/report_scale.py [--hosts 1000,5000,20000] [--baseline REV]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "report"))

from playwright.sync_api import sync_playwright  # noqa: E402
from report_sample import fleet_report  # noqa: E402
from test_report_html_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from ansible_collections.avshift.remediation.plugins.plugin_utils.report import (  # noqa: E402
    FORMATS,
)

# Issue #19's goals, in seconds.
GOALS = {"files": 2.0, "open": 2.0, "filter": 0.2, "sort": 0.3}
ROUNDS = 3
# The last commit whose page wrote every host as a row group of its table.
BASELINE = "aaf2fb4"

# One keystroke in the filter box, or one click on a column heading, until the browser
# has laid the page out again and painted the next frame.
_TIMED_ACTION = """async (action) => {
  const started = performance.now();
  if (action === 'filter') {
    const box = document.getElementById('filter-text');
    box.value = box.value === 'web' ? 'we' : 'web';
    box.dispatchEvent(new Event('input', {bubbles: true}));
  } else {
    document.querySelector('#hosts thead th:first-child button').click();
  }
  document.body.getBoundingClientRect();
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return (performance.now() - started) / 1000;
}"""

# Run by the baseline's own Python path: renders its page of a report, timed.
_RENDER_BASELINE = """
import json, sys, time
from ansible_collections.avshift.remediation.plugins.plugin_utils.report import FORMATS
[page] = [fmt for fmt in FORMATS if fmt.id == "html"]
report = json.load(open(sys.argv[1], encoding="utf-8"))
started = time.perf_counter()
text = page.render(report)
seconds = time.perf_counter() - started
open(sys.argv[2], "w", encoding="utf-8").write(text)
print(json.dumps({"seconds": seconds, "bytes": len(text.encode(page.encoding))}))
"""


def render_times(report: dict) -> dict:
    figures = {}
    for fmt in FORMATS:
        started = time.perf_counter()
        text = fmt.render(report)
        seconds = time.perf_counter() - started
        figures[fmt.id] = {"seconds": seconds, "bytes": len(text.encode(fmt.encoding))}
        if fmt.id == "html":
            figures[fmt.id]["text"] = text
    return figures


def extract_baseline(revision: str, scratch: Path) -> Path:
    """The collection at `revision`, as a Python path on which it imports."""
    archive = scratch / "baseline.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), revision],
        check=True,
    )
    path = scratch / "baseline"
    collection = path / "ansible_collections" / "avshift" / "remediation"
    collection.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(collection, filter="data")
    return path


def render_baseline(python_path: Path, report: Path, html: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _RENDER_BASELINE, str(report), str(html)],
        env={**os.environ, "PYTHONPATH": str(python_path)},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def page_round(browser, html: Path) -> dict:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    started = time.perf_counter()
    # The earlier page takes tens of seconds at 20,000 hosts: no time limit but the run's.
    page.goto(html.as_uri(), wait_until="load", timeout=0)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
    figures = {"open": time.perf_counter() - started}
    figures["filter"] = page.evaluate(_TIMED_ACTION, "filter")
    figures["sort"] = page.evaluate(_TIMED_ACTION, "sort")
    page.close()
    return figures


def page_times(browser, pages: dict[str, Path]) -> dict:
    """Each page's median of ROUNDS loads, the pages taking turns round by round."""
    rounds = {name: [] for name in pages}
    for _ in range(ROUNDS):
        for name, html in pages.items():
            rounds[name].append(page_round(browser, html))
    return {
        name: {what: statistics.median(r[what] for r in runs) for what in runs[0]}
        for name, runs in rounds.items()
    }


def _goal(what: str, seconds: float) -> str:
    return f"{seconds:.2f} s ({'met' if seconds < GOALS[what] else 'not met'})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1000,5000,20000")
    parser.add_argument("--baseline", default=BASELINE, help="git revision (default %(default)s)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = [int(size) for size in args.hosts.split(",")]
    results = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        baseline = extract_baseline(args.baseline, scratch)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in sizes:
            report = fleet_report(size)
            figures = render_times(report)
            html = scratch / f"report-{size}.html"
            html.write_text(figures["html"].pop("text"), encoding="utf-8")
            report_file = scratch / f"report-{size}.json"
            report_file.write_text(json.dumps(report), encoding="utf-8")
            earlier = scratch / f"baseline-{size}.html"
            earlier_render = render_baseline(baseline, report_file, earlier)
            files = sum(figures[fmt]["seconds"] for fmt in ("json", "csv", "junit"))
            pages = page_times(browser, {"current": html, "baseline": earlier})
            result = {
                "hosts": size,
                "load_1min": os.getloadavg()[0],
                "render": figures,
                "json_csv_junit": files,
                "page": pages["current"],
                "baseline": {"revision": args.baseline, "render": earlier_render},
            }
            result["baseline"]["page"] = pages["baseline"]
            results.append(result)
            for name, render, page in (
                ("current", figures["html"], pages["current"]),
                (args.baseline, earlier_render, pages["baseline"]),
            ):
                print(
                    f"{size:>6} hosts, {name:>8}: HTML {render['seconds']:.2f} s"
                    f" {render['bytes'] / 1e6:.1f} MB;"
                    + "".join(f" {what} {_goal(what, page[what])}" for what in page),
                    flush=True,
                )
            print(f"{size:>6} hosts: JSON+CSV+JUnit {_goal('files', files)}", flush=True)
        browser.close()
    if args.json:
        args.json.write_text(json.dumps({"goals": GOALS, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
