"""The fleet report at fleet sizes: how long each format takes to render, how large it is,
and how the HTML page behaves in headless Chromium (open, one filter keystroke, one sort).

The hosts are the report tests' sample fleet (tests/report/report_sample.py: every
status, Cyrillic names, hostile display names) repeated under numbered names, so every
size holds the same mix. Rendering is timed on the renderers formats.py lists, the ones
write_reports() runs; the page is opened from a file, as a person opens it. Nothing is
asserted: the goals of issue #19 show as "met" or "not met".

    .venv/bin/python bench/report_scale.py [--hosts 1000,5000,20000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
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


def page_times(browser, html: Path) -> dict:
    opened, filtered, sorted_ = [], [], []
    for _ in range(ROUNDS):
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        started = time.perf_counter()
        page.goto(html.as_uri(), wait_until="load")
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        opened.append(time.perf_counter() - started)
        filtered.append(page.evaluate(_TIMED_ACTION, "filter"))
        sorted_.append(page.evaluate(_TIMED_ACTION, "sort"))
        page.close()
    return {
        "open": statistics.median(opened),
        "filter": statistics.median(filtered),
        "sort": statistics.median(sorted_),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1000,5000,20000")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = [int(size) for size in args.hosts.split(",")]
    results = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as scratch:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size in sizes:
            figures = render_times(fleet_report(size))
            html = Path(scratch) / f"report-{size}.html"
            html.write_text(figures["html"].pop("text"), encoding="utf-8")
            files = sum(figures[fmt]["seconds"] for fmt in ("json", "csv", "junit"))
            result = {"hosts": size, "render": figures, "json_csv_junit": files}
            result["page"] = page_times(browser, html)
            results.append(result)
            page = result["page"]
            print(
                f"{size:>6} hosts: JSON+CSV+JUnit {files:.2f} s"
                f" ({'met' if files < GOALS['files'] else 'not met'}),"
                f" HTML {figures['html']['seconds']:.2f} s {figures['html']['bytes'] / 1e6:.1f} MB;"
                + "".join(
                    f" {what} {page[what]:.2f} s"
                    f" ({'met' if page[what] < GOALS[what] else 'not met'})"
                    for what in ("open", "filter", "sort")
                ),
                flush=True,
            )
        browser.close()
    if args.json:
        args.json.write_text(json.dumps({"goals": GOALS, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
