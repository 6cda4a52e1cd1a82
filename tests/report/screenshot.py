"""Render the sample report and screenshot it the way a person would look at it.

Not a test: run it after changing the HTML report and look at the pictures. It writes an
audit, a remediation and a dry-run report, each into its own directory under the one given.
    .venv/bin/python tests/report/screenshot.py /tmp/avshift-report
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from report_sample import remediation_report, sample_report
from test_report_html_browser import CHROMIUM, CHROMIUM_ARGS

from ansible_collections.avshift.remediation.plugins.plugin_utils.report import write_reports


def _shoot(browser, report: dict, out: Path, expand: tuple[str, ...]) -> None:
    paths = write_reports(report, out)
    url = Path(paths["html"]).as_uri()
    for name, options in (
        ("desktop", {"viewport": {"width": 1366, "height": 900}}),
        ("narrow", {"viewport": {"width": 420, "height": 900}}),
        ("dark", {"viewport": {"width": 1366, "height": 900}, "color_scheme": "dark"}),
    ):
        page = browser.new_page(**options)
        page.goto(url)
        for host in expand:
            page.locator("tbody.host", has_text=host).locator("summary").click()
        page.screenshot(path=out / f"{name}.png", full_page=True)
        page.close()
    page = browser.new_page()
    page.goto(url)
    page.emulate_media(media="print")
    page.pdf(path=out / "print.pdf", format="A4")
    page.screenshot(path=out / "print.png", full_page=True)
    page.close()


def main(out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _shoot(browser, sample_report(), out / "audit", ("бухгалтерия", "db-02"))
        remediated = ("бухгалтерия", "db-02", "kiosk-04")
        _shoot(browser, remediation_report(), out / "remediation", remediated)
        _shoot(browser, remediation_report(check_mode=True), out / "dry-run", ("db-02",))
        browser.close()
    print("\n".join(str(p) for p in sorted(out.rglob("*.png"))))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/avshift-report"))
