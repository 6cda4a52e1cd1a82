"""The HTML report in a real headless browser: Debian's chromium, driven by playwright.

Chromium comes from tests/report/setup.sh (bin/test runs it as root). Without it these
tests fail, on purpose: a skipped browser test would let a broken page pass.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright
from report_page import page_hosts
from report_sample import (
    CHANGE_ID,
    CHANGE_ID_PATTERN,
    CYRILLIC_HOST,
    CYRILLIC_PRODUCT,
    OPERATOR,
    OS_ACCOUNT,
    XSS_IMG,
    XSS_NAME,
    drift_report,
    fleet_report,
    remediation_report,
    sample_report,
)
from test_report_golden import CASES

from ansible_collections.avshift.remediation.plugins.plugin_utils.contract import (
    OCCASIONAL_STATUSES,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.report import write_reports

# AVSHIFT_CHROMIUM lets a test run point at a missing browser to see the failure it gives.
CHROMIUM = os.environ.get("AVSHIFT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAILED_HOST = "=cmd|' /C calc'!A0"


def require_chromium(path: str = CHROMIUM) -> str:
    if not Path(path).is_file():
        pytest.fail(
            f"{path} is missing: the HTML report tests need Debian's chromium. "
            "Run tests/report/setup.sh as root (bin/test does so when run as root).",
            pytrace=False,
        )
    return path


def test_missing_chromium_fails_and_says_how_to_install_it(tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"Run tests/report/setup\.sh as root"):
        require_chromium(str(tmp_path / "no-chromium"))


@pytest.fixture(scope="module")
def browser():
    executable = require_chromium()
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            pytest.fail(
                f"{executable} did not start ({error}). Run tests/report/setup.sh as root.",
                pytrace=False,
            )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report_files(tmp_path_factory):
    return write_reports(sample_report(), tmp_path_factory.mktemp("report"))


class Watched:
    """A page whose errors, dialogs and network requests are all recorded."""

    def __init__(self, page: Page):
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._dialog)
        page.on("request", self._request)
        # Anything that is not the file itself is refused before it leaves the browser.
        page.route("**/*", self._route)

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request):
        if not request.url.startswith("file://"):
            self.requests.append(request.url)

    def _route(self, route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def assert_clean(self):
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == []
        assert self.requests == []

    def assert_nothing_injected(self):
        """Only the report's own script and its data blocks exist in the document, and
        no element that a host's data could have smuggled in."""
        page = self.page
        assert page.locator("script:not([type])").count() == 1
        assert page.locator('script[type="application/json"]#host-data').count() == 1
        assert page.locator('script[type="text/plain"]#host-rows').count() == 1
        assert page.locator("script").count() == 3
        assert page.locator("img").count() == 0
        assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0

    # --- reading the page as a person sees it ---

    def visible_hosts(self) -> list[str]:
        cells = self.page.locator("tbody.host tr.main td:first-child")
        return [cell.inner_text() for cell in cells.all() if cell.is_visible()]

    def shown(self) -> str:
        return self.page.locator("#shown").inner_text()


@pytest.fixture
def watched(browser, report_files):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    watched = Watched(context.new_page())
    watched.page.goto(Path(report_files["html"]).as_uri())
    yield watched
    context.close()


def test_page_renders_and_its_counts_equal_report_json(watched, report_files):
    page = watched.page
    summary = json.loads(Path(report_files["json"]).read_text(encoding="utf-8"))["summary"]
    assert page.locator("h1").inner_text() == "avshift audit report"
    assert "2026-11-28 10:00:00 UTC" in page.title()
    shown = {
        key: int(page.locator(f'[data-count="{key}"]').inner_text())
        for key in ("total", "compliant", "non-compliant", "unreachable", "failed")
    }
    # An audit defers nothing: "deferred" is 0 in report.json and not shown on the page;
    # nor is "interrupted", as the run was not.
    for key in ("deferred", "interrupted"):
        assert summary.pop(key) == 0
        assert page.locator(f'[data-count="{key}"]').count() == 0
    assert shown == summary
    assert page.locator(".chart .count").all_text_contents() == [
        str(summary[s]) for s in ("compliant", "non-compliant", "unreachable", "failed")
    ]
    assert len(watched.visible_hosts()) == summary["total"]
    assert watched.shown() == f"Showing {summary['total']} of {summary['total']} hosts"
    run = page.locator("section.run").inner_text()
    assert "inventories/example" in run
    assert sample_report()["run"]["policy"]["sha256"] in run.replace("\n", "")
    watched.assert_clean()


def test_text_filter_hides_hosts_that_do_not_match(watched):
    page = watched.page
    page.fill("#filter-text", "KASPERSKY")
    # Matches the disallowed column of both hosts, and evidence inside collapsed findings.
    assert watched.visible_hosts() == ["db-02", CYRILLIC_HOST]
    assert watched.shown() == "Showing 2 of 6 hosts"
    page.fill("#filter-text", "бухгалтерия")
    assert watched.visible_hosts() == [CYRILLIC_HOST]
    page.fill("#filter-text", "windefend")
    assert watched.visible_hosts() == ["mail-05"]
    page.fill("#filter-text", "no such host")
    assert watched.visible_hosts() == []
    assert page.locator("#no-match").is_visible()
    page.fill("#filter-text", "")
    assert len(watched.visible_hosts()) == 6
    assert not page.locator("#no-match").is_visible()
    watched.assert_clean()


def test_status_filter_combines_with_the_text_filter(watched):
    page = watched.page
    page.select_option("#filter-status", "unreachable")
    assert watched.visible_hosts() == ["app-03"]
    page.select_option("#filter-status", "non-compliant")
    assert watched.visible_hosts() == ["db-02", CYRILLIC_HOST]
    page.fill("#filter-text", "db")
    assert watched.visible_hosts() == ["db-02"]
    page.select_option("#filter-status", "compliant")
    assert watched.visible_hosts() == []
    page.select_option("#filter-status", "")
    assert watched.visible_hosts() == ["db-02"]
    watched.assert_clean()


def _header(page: Page, label: str):
    return page.locator("thead th", has=page.get_by_role("button", name=label, exact=True))


def test_sorting_a_column_reorders_rows_and_a_second_click_reverses(watched):
    page = watched.page
    time_header = _header(page, "Scan time")
    time_header.get_by_role("button").click()
    # Numeric order (12.5 after 3.2), and the host without a time stays last.
    assert watched.visible_hosts() == [
        "web-01",
        "db-02",
        "mail-05",
        CYRILLIC_HOST,
        FAILED_HOST,
        "app-03",
    ]
    assert time_header.get_attribute("aria-sort") == "ascending"
    time_header.get_by_role("button").click()
    assert watched.visible_hosts() == [
        FAILED_HOST,
        CYRILLIC_HOST,
        "mail-05",
        "db-02",
        "web-01",
        "app-03",
    ]
    assert time_header.get_attribute("aria-sort") == "descending"

    host_header = _header(page, "Host")
    host_header.get_by_role("button").click()
    assert host_header.get_attribute("aria-sort") == "ascending"
    assert time_header.get_attribute("aria-sort") is None
    ascending = watched.visible_hosts()
    latin = [h for h in ascending if h[0].isascii() and h[0].isalpha()]
    assert latin == ["app-03", "db-02", "mail-05", "web-01"]
    host_header.get_by_role("button").click()
    assert watched.visible_hosts() == ascending[::-1]

    _header(page, "Status").get_by_role("button").click()
    statuses = [
        page.locator("tbody.host", has_text=h).first.get_attribute("data-status")
        for h in watched.visible_hosts()
    ]
    assert statuses[:2] == ["non-compliant", "non-compliant"]
    assert statuses[-2:] == ["compliant", "compliant"]
    watched.assert_clean()


def test_sorting_keeps_a_filter_in_force(watched):
    page = watched.page
    page.select_option("#filter-status", "compliant")
    _header(page, "Host").get_by_role("button").click()
    _header(page, "Host").get_by_role("button").click()
    assert watched.visible_hosts() == ["web-01", "mail-05"]
    watched.assert_clean()


def test_expanding_a_host_shows_its_evidence(watched):
    page = watched.page
    host = page.locator("tbody.host", has_text="db-02")
    evidence = host.get_by_text("/opt/kaspersky/kesl/libexec/kesl", exact=True)
    assert not evidence.is_visible()
    host.locator("summary").click()
    assert evidence.is_visible()
    assert host.get_by_text("No approved antivirus is active on this host.").is_visible()
    host.locator("summary").click()
    assert not evidence.is_visible()

    page.get_by_role("button", name="Expand all").click()
    residue = page.locator("tbody.host", has_text=CYRILLIC_HOST).get_by_text(
        "C:\\ProgramData\\Kaspersky Lab", exact=True
    )
    assert residue.is_visible()
    page.get_by_role("button", name="Collapse all").click()
    assert not residue.is_visible()
    watched.assert_clean()


def test_hostile_display_names_render_as_text(watched):
    page = watched.page
    host = page.locator("tbody.host", has_text=CYRILLIC_HOST)
    assert host.locator("tr.main").get_by_text(XSS_NAME, exact=True).is_visible()
    host.locator("summary").click()
    assert host.get_by_text(XSS_IMG, exact=True).is_visible()
    watched.assert_nothing_injected()
    assert page.get_by_text(FAILED_HOST, exact=True).is_visible()
    watched.assert_clean()


def test_the_page_fetches_nothing_while_used(watched):
    page = watched.page
    page.get_by_role("button", name="Expand all").click()
    page.fill("#filter-text", "kaspersky")
    _header(page, "Host").get_by_role("button").click()
    page.emulate_media(media="print")
    page.emulate_media(media="screen", color_scheme="dark")
    page.reload()
    assert page.locator("h1").is_visible()
    watched.assert_clean()


def test_the_request_watch_sees_a_request_that_would_leave_the_machine(browser):
    # The checks above prove nothing if the watch is blind; the request is refused.
    context = browser.new_context()
    watched = Watched(context.new_page())
    watched.page.set_content("<p>blank</p>")
    watched.page.evaluate("() => fetch('http://127.0.0.1:9/beacon').catch(() => null)")
    context.close()
    assert watched.requests and all(url == "http://127.0.0.1:9/beacon" for url in watched.requests)


def test_printing_drops_the_controls_and_opens_every_host(watched, tmp_path):
    page = watched.page
    # Paper shows every host, whatever the filter leaves on screen.
    page.fill("#filter-text", "web-01")
    assert watched.visible_hosts() == ["web-01"]
    page.emulate_media(media="print")
    assert not page.locator("#controls").is_visible()
    # page.pdf prints the way a person does, firing beforeprint and afterprint. This
    # listener comes after the report's own, so it sees what the report did on print.
    page.evaluate(
        """() => window.addEventListener('beforeprint', () => {
            window.openedWhilePrinting =
                Array.from(document.querySelectorAll('details')).map((d) => d.open);
        }, {once: true})"""
    )
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")
    opened = page.evaluate("() => window.openedWhilePrinting")
    assert len(opened) == 4 and all(opened)
    # Afterwards the page is as the reader left it.
    assert page.locator("details[open]").count() == 0
    page.emulate_media(media="screen")
    assert watched.visible_hosts() == ["web-01"]
    assert watched.shown() == "Showing 1 of 6 hosts"
    watched.assert_clean()


# --- the remediation report ----------------------------------------------------------

STATUS_KEYS = (
    "total",
    "compliant",
    "non-compliant",
    "unreachable",
    "failed",
    "deferred",
    "interrupted",
)


def _shown_keys(summary: dict) -> tuple[str, ...]:
    """The counts a remediation page shows: all, but an occasional status with no host."""
    return tuple(k for k in STATUS_KEYS if k not in OCCASIONAL_STATUSES or summary[k])


@pytest.fixture(scope="module")
def remediation_files(tmp_path_factory):
    return write_reports(remediation_report(), tmp_path_factory.mktemp("remediation"))


@pytest.fixture(scope="module")
def dry_run_files(tmp_path_factory):
    return write_reports(remediation_report(check_mode=True), tmp_path_factory.mktemp("dry-run"))


@pytest.fixture
def open_report(browser):
    """Opens a report file in a fresh, watched page; closes every page afterwards."""
    contexts = []

    def open_(paths: dict, **options) -> Watched:
        options = {"viewport": {"width": 1366, "height": 900}, **options}
        context = browser.new_context(**options)
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.page.goto(Path(paths["html"]).as_uri())
        return watched

    yield open_
    for context in contexts:
        context.close()


@pytest.mark.parametrize("dry", [False, True], ids=["real-run", "dry-run"])
def test_remediation_page_renders_clean_and_its_counts_equal_report_json(
    open_report, remediation_files, dry_run_files, dry
):
    paths = dry_run_files if dry else remediation_files
    watched = open_report(paths)
    page = watched.page
    summary = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["summary"]
    assert page.locator("h1").inner_text() == "avshift remediation report"
    keys = _shown_keys(summary)
    shown = {key: int(page.locator(f'[data-count="{key}"]').inner_text()) for key in keys}
    assert shown == {key: summary[key] for key in keys}
    # The dry run of the interrupted host plans it like any other: none is interrupted.
    assert set(summary) - set(keys) == ({"interrupted"} if dry else set())
    assert page.locator(".chart .count").all_text_contents() == [str(summary[s]) for s in keys[1:]]
    assert len(watched.visible_hosts()) == summary["total"] == 9
    assert watched.shown() == "Showing 9 of 9 hosts"
    # Used the way a person would: every host open, filtered, sorted, printed, dark.
    page.get_by_role("button", name="Expand all").click()
    page.fill("#filter-text", "kaspersky")
    _header(page, "Reboot").get_by_role("button").click()
    page.emulate_media(media="print")
    page.emulate_media(media="screen", color_scheme="dark")
    page.reload()
    assert page.locator("section.change").is_visible()
    watched.assert_clean()


def test_the_change_panel_shows_the_change_and_no_dry_run_banner(open_report, remediation_files):
    watched = open_report(remediation_files)
    page = watched.page
    panel = page.locator("section.change")
    assert panel.locator(".change-id").inner_text() == CHANGE_ID
    text = panel.inner_text()
    assert OPERATOR in text
    assert "2026-12-01 22:00:00 +0100 to 2026-12-02 04:00:00 +0100 (6 h 0 min)" in " ".join(
        text.split()
    )
    assert "1,5,25%" in text and "10%" in text and "if required" in text
    assert page.get_by_text("DRY RUN", exact=False).count() == 0
    assert page.locator(".dry-run").count() == 0
    watched.assert_clean()


def test_the_dry_run_banner_shows_in_check_mode(open_report, dry_run_files):
    watched = open_report(dry_run_files)
    page = watched.page
    banner = page.locator("section.change .dry-run")
    assert banner.is_visible()
    assert banner.locator("strong").inner_text() == "DRY RUN: nothing was changed"
    assert page.locator("section.change .change-id").inner_text() == CHANGE_ID
    # It is the first thing in the panel, above the change's details.
    assert banner.bounding_box()["y"] < page.locator("section.change dl").bounding_box()["y"]
    host = page.locator("tbody.host", has_text="db-02")
    host.locator("summary").click()
    assert host.get_by_text("Plan (dry run: not carried out)").is_visible()
    assert host.get_by_text("Dry run: not scanned after").is_visible()
    watched.assert_clean()


def test_the_deferred_filter_shows_only_deferred_hosts(open_report, remediation_files):
    watched = open_report(remediation_files)
    page = watched.page
    option = page.locator('#filter-status option[value="deferred"]')
    assert option.inner_text() == "Deferred (2)"
    page.select_option("#filter-status", "deferred")
    assert watched.visible_hosts() == ["pos-11", "pos-12"]
    assert watched.shown() == "Showing 2 of 9 hosts"
    badges = page.locator('tbody.host[data-status="deferred"] .badge')
    assert badges.all_inner_texts() == ["» Deferred", "» Deferred"]
    page.fill("#filter-text", "window closed")
    assert watched.visible_hosts() == ["pos-11"]
    page.select_option("#filter-status", "")
    page.fill("#filter-text", "")
    assert len(watched.visible_hosts()) == 9
    watched.assert_clean()


def test_sorting_by_status_puts_deferred_between_failed_and_compliant(
    open_report, remediation_files
):
    watched = open_report(remediation_files)
    page = watched.page
    _header(page, "Status").get_by_role("button").click()
    statuses = [
        page.locator("tbody.host", has=page.get_by_text(h, exact=True)).get_attribute("data-status")
        for h in watched.visible_hosts()
    ]
    assert statuses == [
        "non-compliant",
        "failed",
        "interrupted",
        "unreachable",
        "deferred",
        "deferred",
        "compliant",
        "compliant",
        "compliant",
    ]
    # Pending reboots first: they are the ones somebody has to act on.
    _header(page, "Reboot").get_by_role("button").click()
    assert watched.visible_hosts()[0] == CYRILLIC_HOST
    watched.assert_clean()


def test_a_remediated_host_shows_plan_timeline_and_before_after_side_by_side(
    open_report, remediation_files
):
    watched = open_report(remediation_files)
    page = watched.page
    host = page.locator("tbody.host", has_text=CYRILLIC_HOST)
    summary = host.locator("summary")
    assert "non-compliant → compliant" in summary.inner_text()
    assert "reboot pending" in summary.inner_text()
    plan = host.locator(".g-plan")
    assert not plan.is_visible()
    summary.click()
    assert plan.is_visible()
    assert plan.get_by_text(CYRILLIC_PRODUCT, exact=True).first.is_visible()
    assert plan.get_by_text(
        f"Install microsoft after removing {CYRILLIC_PRODUCT} and Kaspersky Network Agent."
    ).is_visible()
    assert plan.get_by_text(XSS_IMG, exact=True).is_visible()
    assert host.locator("tr.main .reboot").inner_text() == "Pending"
    before, after = host.locator(".verdict").all()
    assert before.locator(".badge").inner_text() == "✗ Non-compliant"
    assert after.locator(".badge").inner_text() == "✓ Compliant"
    left, right = before.bounding_box(), after.bounding_box()
    assert abs(left["y"] - right["y"]) < 1 and left["x"] + left["width"] <= right["x"]
    timeline = host.locator("ol.timeline")
    events = timeline.locator("li:not(.day) .event").all_inner_texts()
    assert events == ["Planned", "Removed", "Removed", "Verified", "Reboot"]
    assert timeline.locator("li.day").all_inner_texts() == [
        "2026-12-01 (+0100)",
        "2026-12-02 (+0100)",
    ]
    assert timeline.get_by_text(XSS_NAME, exact=True).is_visible()
    # Markup in plan and action data stays text: nothing injected runs or loads.
    watched.assert_nothing_injected()
    watched.assert_clean()


def test_since_the_last_run_renders_clean_with_its_trend_chart(open_report, tmp_path):
    report = drift_report()
    watched = open_report(write_reports(report, tmp_path))
    section = watched.page.locator("section.drift")
    assert section.locator("h2").inner_text() == "Since the last run"
    regressed = section.locator("table.drift-table").first.locator("tbody tr")
    assert [row.locator("td").first.inner_text() for row in regressed.all()] == [
        item["host"] for item in report["drift"]["regressed"]
    ]
    columns = section.locator("svg.trend g")
    assert columns.count() == len(report["drift"]["trend"])
    # Each column's numbers are in its title, for a reader who cannot tell the colours.
    assert columns.last.locator("title").text_content() == (
        "2026-11-28 10:00:00 UTC: 2 of 6 hosts compliant"
    )
    assert section.locator(".legend li").all_inner_texts() == [
        "Compliant",
        "Unreachable",
        "Failed",
        "Non-compliant",
    ]
    # A host name from the store is text, never markup.
    assert section.locator("img").count() == 0
    assert "<img src=x onerror=alert(1)>" in section.inner_text()
    watched.assert_clean()


# --- words for approvers (issue #22) --------------------------------------------------

# What JSON and a Python repr look like in the text a person reads: an object's opening
# (indented or not), a dict's "key': value", and the batch [1, 5, '25%'] of an older
# journal.
RAW = {
    "JSON": re.compile(r'\{\s*"'),
    "a Python dict": re.compile(r"': "),
    "a Python list": re.compile(r"\[1, 5, '"),
}


def _everything_said(page: Page) -> str:
    """The page's text with every host open, as a person reads it (and prints it)."""
    page.get_by_role("button", name="Expand all").click()
    return page.locator("main").inner_text()


@pytest.mark.parametrize("case", CASES)
def test_no_page_shows_raw_json_or_a_python_repr(open_report, tmp_path, case):
    watched = open_report(write_reports(CASES[case](), tmp_path))
    text = _everything_said(watched.page)
    for what, pattern in RAW.items():
        assert not pattern.search(text), f"{case}: {what} in the page's text"
    watched.assert_clean()


@pytest.mark.parametrize("kind", ["audit", "dry-run"])
def test_a_run_that_changed_nothing_shows_no_changed_wording_or_section(
    open_report, tmp_path, kind
):
    report = sample_report() if kind == "audit" else remediation_report(check_mode=True)
    watched = open_report(write_reports(report, tmp_path))
    page = watched.page
    text = _everything_said(page)
    assert page.get_by_role("heading", name="Changed").count() == 0
    # The dry run's banner says nothing was changed; nothing else speaks of changes.
    assert "changed" not in text.lower().replace("nothing was changed", "")
    watched.assert_clean()


def test_durations_are_labelled_the_remediations_and_the_scans(open_report, remediation_files):
    watched = open_report(remediation_files)
    page = watched.page
    assert page.locator("#hosts > thead th").last.inner_text() == "Remediation time"
    host = page.locator("tbody.host", has=page.get_by_text("db-02", exact=True))
    assert host.locator("tr.main td").last.inner_text() == "3 min 3 s"
    host.locator("summary").click()
    assert "5 actions in 3 min 3 s" in host.locator("summary").inner_text()
    after = host.locator(".verdict").last
    assert after.locator("dt", has_text="Scan time").is_visible()
    assert "Scan time\n0.9 s" in after.inner_text()
    took = host.get_by_text("Remediation time: 3 min 3 s, from the first event to the last.")
    assert took.is_visible()
    # The column sorts by seconds (1 min 53 s, 3 min 3 s, 3 min 49 s, 11 min 42 s), not
    # by its text; hosts with no remediation to time go last.
    _header(page, "Remediation time").get_by_role("button").click()
    assert watched.visible_hosts()[:5] == [
        FAILED_HOST,
        "db-02",
        "lab-09",
        "kiosk-04",
        CYRILLIC_HOST,
    ]
    watched.assert_clean()


def test_an_audit_labels_each_hosts_time_as_its_scans(watched):
    page = watched.page
    assert page.locator("#hosts > thead th").last.inner_text() == "Scan time"
    times = page.locator("tbody.host tr.main td:last-child").all_inner_texts()
    assert times == ["0.4 s", "1.9 s", "3.2 s", "—", "12.5 s", "2.1 s"]
    watched.assert_clean()


def test_the_change_panel_says_who_ran_it_and_how_it_was_allowed_to_start(
    open_report, remediation_files
):
    watched = open_report(remediation_files)
    panel = watched.page.locator("section.change")
    assert panel.locator('[data-field="os-account"]').inner_text() == OS_ACCOUNT
    assert panel.locator('[data-field="operator"]').inner_text() == OPERATOR
    assert panel.locator('[data-field="confirmation"]').inner_text() == (
        "the operator typed the change id at the prompt"
    )
    assert panel.locator('[data-field="change-id"]').inner_text() == (
        f"{CHANGE_ID} change id checked against {CHANGE_ID_PATTERN} (site's own)"
    )
    watched.assert_clean()


def test_a_failed_host_opens_on_its_reason_and_a_plan_reads_as_sentences(
    open_report, remediation_files
):
    watched = open_report(remediation_files)
    page = watched.page
    failed = page.locator("tbody.host", has=page.get_by_text(FAILED_HOST, exact=True))
    failed.locator("summary").click()
    reason = failed.locator(".why")
    assert reason.inner_text().startswith("left protected by Kaspersky Endpoint Security")
    timeline = failed.locator("ol.timeline")
    assert timeline.locator(".sentence").all_inner_texts() == [
        "Install clamav before removing Kaspersky Endpoint Security for Linux",
        "Clamav installed, not active",
        "2 packages installed, paths unknown",
    ]
    # What the host's own scans show changed: a table of the packages, not JSON.
    changes = timeline.locator("li.e-changes table.data")
    assert changes.locator("th").all_inner_texts() == ["Name", "Source", "Version"]
    assert changes.locator("tbody tr").first.inner_text().split() == ["clamav", "deb", "1.0.7"]
    removals = failed.locator("table.removals")
    assert removals.locator("thead th").all_inner_texts() == ["Product", "Packages", "Steps"]
    assert removals.locator("tbody td").all_inner_texts()[1:] == [
        "kesl",
        "stop and disable kesl; remove deb packages kesl",
    ]
    watched.assert_clean()


# --- a fleet-sized report -------------------------------------------------------------

FLEET_SIZE = 20_000
# The rows the page makes at once, and each time the reader nears their end (report.js).
STEP = 50


@pytest.fixture(scope="session")
def fleet_files(tmp_path_factory):
    """The sample fleet at 20,000 hosts, written once for all of the run's workers: the
    first to come writes it, under a lock, the others read it (pytest-xdist's way of a
    fixture made once, https://pytest-xdist.readthedocs.io/en/stable/how-to.html)."""
    shared = tmp_path_factory.getbasetemp().parent / "fleet-report"
    with open(tmp_path_factory.getbasetemp().parent / "fleet-report.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "written.json"
        if not done.is_file():
            written = write_reports(fleet_report(FLEET_SIZE), shared)
            done.write_text(json.dumps(written), encoding="utf-8")
        return json.loads(done.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def fleet_hosts(fleet_files) -> list[dict]:
    return json.loads(Path(fleet_files["json"]).read_text(encoding="utf-8"))["hosts"]


def _rows(watched: Watched) -> int:
    return watched.page.locator("tbody.host").count()


def test_a_fleet_sized_report_opens_on_a_few_screenfuls_and_makes_more_as_one_scrolls(
    open_report, fleet_files, fleet_hosts
):
    watched = open_report(fleet_files)
    page = watched.page
    summary = json.loads(Path(fleet_files["json"]).read_text(encoding="utf-8"))["summary"]
    assert int(page.locator('[data-count="total"]').inner_text()) == FLEET_SIZE
    assert watched.shown() == f"Showing {FLEET_SIZE} of {FLEET_SIZE} hosts"
    assert (
        int(page.locator('[data-count="non-compliant"]').inner_text()) == (summary["non-compliant"])
    )
    # The first rows, in the report's order; not the twenty thousand.
    assert watched.visible_hosts() == [host["host"] for host in fleet_hosts[:STEP]]
    more = page.locator("#show-more")
    assert more.inner_text() == f"Show {STEP} more ({FLEET_SIZE - STEP} not shown yet)"
    # Scrolling to the end of the rows makes the next ones, as the button does.
    more.scroll_into_view_if_needed()
    page.wait_for_function(f"() => document.querySelectorAll('tbody.host').length >= {2 * STEP}")
    before = _rows(watched)
    more.click()
    assert _rows(watched) >= before + STEP
    shown = watched.visible_hosts()
    assert shown == [host["host"] for host in fleet_hosts[: len(shown)]]
    watched.assert_clean()


def test_a_fleet_sized_report_filters_and_sorts_every_host_not_only_those_on_screen(
    open_report, fleet_files, fleet_hosts
):
    watched = open_report(fleet_files)
    page = watched.page
    last = fleet_hosts[-1]["host"]
    # The last host, far below what is on screen, found by name.
    page.fill("#filter-text", last)
    assert watched.visible_hosts() == [last]
    assert watched.shown() == f"Showing 1 of {FLEET_SIZE} hosts"
    # By what only its findings say: the Defender service of every mail host.
    page.fill("#filter-text", "windefend")
    mail = [host["host"] for host in fleet_hosts if host["host"].startswith("mail-05-")]
    assert watched.shown() == f"Showing {len(mail)} of {FLEET_SIZE} hosts"
    assert watched.visible_hosts() == mail[:STEP]
    # Sorted by name, the highest first, among the hosts the filter lets through.
    _header(page, "Host").get_by_role("button").click()
    _header(page, "Host").get_by_role("button").click()
    assert watched.visible_hosts() == sorted(mail, reverse=True)[:STEP]
    page.fill("#filter-text", "")
    page.select_option("#filter-status", "unreachable")
    unreachable = [host["host"] for host in fleet_hosts if host["status"] == "unreachable"]
    assert watched.shown() == f"Showing {len(unreachable)} of {FLEET_SIZE} hosts"
    assert set(watched.visible_hosts()) <= set(unreachable)
    # The scan time, a number: the hosts without one go last, whichever way.
    page.select_option("#filter-status", "")
    _header(page, "Scan time").get_by_role("button").click()
    timed = [h for h in fleet_hosts if h.get("duration_seconds") is not None]
    fastest = min(h["duration_seconds"] for h in timed)
    first = watched.visible_hosts()[0]
    assert {h["host"]: h for h in fleet_hosts}[first]["duration_seconds"] == fastest
    watched.assert_clean()


def test_a_fleet_sized_report_keeps_a_hosts_findings_open_and_prints_every_host(
    open_report, fleet_files, fleet_hosts
):
    watched = open_report(fleet_files)
    page = watched.page
    name = next(h["host"] for h in reversed(fleet_hosts) if h["host"].startswith("db-02-"))
    page.fill("#filter-text", name)
    host = page.locator("tbody.host", has_text=name)
    evidence = host.get_by_text("/opt/kaspersky/kesl/libexec/kesl", exact=True)
    host.locator("summary").click()
    assert evidence.is_visible()
    # Filtered away and back, the host's findings are as the reader left them.
    page.fill("#filter-text", "")
    page.fill("#filter-text", name)
    assert evidence.is_visible()
    # Printing lays out every host with its findings open, whatever the screen shows;
    # afterwards the screen is as it was.
    printed = page.evaluate(
        """() => {
            window.dispatchEvent(new Event('beforeprint'));
            const bodies = document.querySelectorAll('tbody.host');
            const details = Array.from(document.querySelectorAll('tbody.host details'));
            const seen = {bodies: bodies.length, details: details.length,
                          open: details.filter((d) => d.open).length};
            window.dispatchEvent(new Event('afterprint'));
            return seen;
        }"""
    )
    page_data = page_hosts(Path(fleet_files["html"]).read_text(encoding="utf-8"))
    with_findings = sum(1 for host in page_data if "<details>" in host.markup)
    assert printed == {"bodies": FLEET_SIZE, "details": with_findings, "open": with_findings}
    assert watched.visible_hosts() == [name]
    assert evidence.is_visible()
    watched.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_fleet_sized_report_fits_a_phone_in_either_colour_scheme(
    open_report, fleet_files, scheme
):
    watched = open_report(fleet_files, viewport={"width": 390, "height": 844}, color_scheme=scheme)
    page = watched.page
    # The page is no wider than the phone: the table scrolls sideways in its own box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    background = page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")
    assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
    assert _rows(watched) == STEP
    watched.assert_clean()
