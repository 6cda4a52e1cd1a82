"""The report writer's four formats, read back the way their consumers read them."""

from __future__ import annotations

import csv
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import pytest
from report_page import EXTERNAL, as_shown, assert_self_contained, page_hosts
from report_sample import (
    CYRILLIC_HOST,
    CYRILLIC_PRODUCT,
    XSS_IMG,
    XSS_NAME,
    as_written,
    odd_audit_report,
    sample_report,
)

from ansible_collections.avshift.remediation.plugins.plugin_utils import report as rep
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError
from ansible_collections.avshift.remediation.plugins.plugin_utils.report import html_format

FILES = {"report.json", "report.csv", "report.html", "report.junit.xml", "SHA256SUMS"}


def _host(name: str, status: str, **fields) -> dict:
    host = {
        "host": name,
        "status": status,
        "os_family": "linux",
        "message": None,
        "duration_seconds": None,
        "disallowed": [],
        "approved": [],
        "other": [],
        "residue": [],
    }
    host.update(fields)
    return host


def _report(*hosts: dict, kind: str = "audit") -> dict:
    report = sample_report(kind)
    report["hosts"] = list(hosts)
    report["summary"] = rep.summarize(hosts)
    return report


def _csv_rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _junit_cases(path: str) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in ET.parse(path).getroot().iter("testcase")}


@pytest.fixture
def written(tmp_path):
    return rep.write_reports(sample_report(), tmp_path / "out" / "nested")


# --- writing -------------------------------------------------------------------------


def test_writes_the_four_files_and_their_sums_into_a_new_directory_and_returns_paths(tmp_path):
    target = tmp_path / "missing" / "dir"
    paths = rep.write_reports(sample_report(), target)
    assert paths == {
        "json": str(target / "report.json"),
        "csv": str(target / "report.csv"),
        "html": str(target / "report.html"),
        "junit": str(target / "report.junit.xml"),
        "sha256": str(target / "SHA256SUMS"),
    }
    # No temporary file is left beside the reports.
    assert set(os.listdir(target)) == FILES


def test_a_failed_write_leaves_no_half_report_that_looks_valid(tmp_path, monkeypatch):
    """The previous report.html stays whole; what this attempt wrote goes, and so does the
    SHA256SUMS that would have vouched for a mix of the two attempts."""
    rep.write_reports(sample_report(), tmp_path)
    before = (tmp_path / "report.html").read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("report.html"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    changed = sample_report()
    changed["hosts"][0]["host"] = "renamed-01"
    with pytest.raises(OSError, match="disk full"):
        rep.write_reports(changed, tmp_path)
    assert (tmp_path / "report.html").read_bytes() == before
    # JSON and CSV were replaced before the failure: removed; JUnit was never reached.
    assert set(os.listdir(tmp_path)) == {"report.html", "report.junit.xml"}


def test_a_report_that_cannot_be_rendered_leaves_every_previous_file_untouched(tmp_path):
    rep.write_reports(sample_report(), tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in FILES}
    broken = sample_report()
    broken["hosts"][-1]["status"] = "fine"
    broken.pop("summary")
    with pytest.raises(InputError, match=r"hosts\[5\]\.status"):
        rep.write_reports(broken, tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in FILES} == before


def test_a_summary_that_disagrees_with_the_hosts_is_refused(tmp_path):
    report = sample_report()
    report["summary"]["compliant"] += 1
    with pytest.raises(InputError, match="summary"):
        rep.write_reports(report, tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_report_without_summary_gets_one_computed_from_its_hosts(tmp_path):
    report = sample_report()
    expected = report.pop("summary")
    paths = rep.write_reports(report, tmp_path)
    assert json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["summary"] == expected


def test_the_reports_line_names_every_file_the_page_first():
    assert rep.reports_line("reports/audit-20261128T100000Z") == (
        "Reports: reports/audit-20261128T100000Z/report.{html,json,csv,junit.xml}"
    )
    assert rep.reports_line(Path("/tmp/r")) == "Reports: /tmp/r/report.{html,json,csv,junit.xml}"


def test_the_format_table_names_the_files_that_are_written_and_summed(written):
    assert [fmt.filename for fmt in rep.FORMATS] == [
        "report.json",
        "report.csv",
        "report.html",
        "report.junit.xml",
    ]
    expected = {**{fmt.id: fmt.filename for fmt in rep.FORMATS}, "sha256": "SHA256SUMS"}
    assert expected == rep.FILENAMES
    sums = Path(written["sha256"]).read_text(encoding="ascii")
    assert [line.split("  ")[1] for line in sums.splitlines()] == [
        fmt.filename for fmt in rep.FORMATS
    ]
    footer = re.search(r"<footer>(.*?)</footer>", _html(written)).group(1)
    assert "report.json, report.csv and report.junit.xml beside this file" in footer
    assert "SHA256SUMS holds the SHA-256 of all four" in footer


# --- summary -------------------------------------------------------------------------


def test_summary_counts_every_status_and_shows_zeros():
    assert rep.summarize([]) == {
        "total": 0,
        "compliant": 0,
        "non-compliant": 0,
        "unreachable": 0,
        "failed": 0,
        "deferred": 0,
        "interrupted": 0,
    }
    assert rep.summarize(sample_report()["hosts"]) == {
        "total": 6,
        "compliant": 2,
        "non-compliant": 2,
        "unreachable": 1,
        "failed": 1,
        "deferred": 0,
        "interrupted": 0,
    }


def test_summary_never_counts_unreachable_failed_or_deferred_hosts_as_compliant():
    # Findings that would look compliant (an active approved product, nothing disallowed)
    # do not make a host compliant when it was not, or not fully, checked.
    clean = {
        "approved": [{"vendor": "clamav", "product": "clamav", "name": "ClamAV", "active": True}]
    }
    hosts = [
        _host("a", "unreachable", **clean),
        _host("b", "failed", **clean),
        _host("c", "deferred", **clean, before={"compliant": True, **clean}),
    ]
    assert rep.summarize(hosts) == {
        "total": 3,
        "compliant": 0,
        "non-compliant": 0,
        "unreachable": 1,
        "failed": 1,
        "deferred": 1,
        "interrupted": 0,
    }


def test_summary_refuses_an_unknown_status():
    with pytest.raises(InputError, match=r"hosts\[0\]\.status.*'ok'"):
        rep.summarize([_host("a", "ok")])


# --- JSON ----------------------------------------------------------------------------


def test_json_round_trips_and_keeps_cyrillic_readable(written):
    raw = Path(written["json"]).read_bytes()
    assert json.loads(raw.decode("utf-8")) == as_written(sample_report())
    # Written as UTF-8 text, not \u escapes, and indented by two spaces.
    assert CYRILLIC_PRODUCT.encode("utf-8") in raw
    assert b"\\u04" not in raw
    assert b'\n  "kind": "audit"' in raw


def test_json_keeps_keys_it_does_not_know(tmp_path):
    report = sample_report("remediation")
    report["run"]["change_id"] = "CHG-2026-0042"
    report["run"]["window"] = {"start": "22:00", "end": "02:00"}
    report["hosts"][1]["actions"] = [{"action": "uninstall", "product": "kesl", "rc": 0}]
    report["hosts"][1]["before"] = {"compliant": False}
    report["future_field"] = ["kept"]
    paths = rep.write_reports(report, tmp_path)
    assert json.loads(Path(paths["json"]).read_text(encoding="utf-8")) == as_written(report)


def test_a_lone_surrogate_in_a_name_still_writes_every_format(tmp_path):
    # Undecodable bytes in a Windows name can reach us as a lone surrogate.
    name = "kasp\udcc3rsky"
    report = _report(_host("win-09", "non-compliant", disallowed=[_finding(name)]))
    paths = rep.write_reports(report, tmp_path)
    assert json.loads(Path(paths["json"]).read_text(encoding="utf-8")) == as_written(report)
    assert "kasp\ufffdrsky" in Path(paths["html"]).read_text(encoding="utf-8")
    assert _csv_rows(paths["csv"])[0]["disallowed"] == "kasp\ufffdrsky"
    ET.parse(paths["junit"])


def _finding(name: str, vendor: str = "kaspersky") -> dict:
    return {
        "vendor": vendor,
        "product": "kes",
        "name": name,
        "evidence": [{"kind": "package", "value": name}],
    }


# --- CSV -----------------------------------------------------------------------------


def test_csv_has_one_row_per_host_with_the_documented_columns(written):
    with open(written["csv"], encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == list(rep.CSV_COLUMNS)
    rows = _csv_rows(written["csv"])
    assert [row["host"] for row in rows] == [
        "web-01",
        "db-02",
        CYRILLIC_HOST,
        "app-03",
        "'=cmd|' /C calc'!A0",
        "mail-05",
    ]
    by_host = {row["host"]: row for row in rows}
    assert by_host["web-01"] == {
        "host": "web-01",
        "status": "compliant",
        "os_family": "linux",
        "disallowed": "",
        "disallowed_vendors": "",
        "approved": "ClamAV[active and protecting]",
        "active_approved": "yes",
        "protecting_approved": "yes",
        "other": "",
        "residue": "",
        "message": "",
        "duration_seconds": "0.41",
    }
    db = by_host["db-02"]
    assert db["disallowed"] == "Kaspersky Endpoint Security for Linux; Kaspersky Network Agent"
    assert db["disallowed_vendors"] == "kaspersky"
    assert db["approved"] == "ClamAV[present, not active]"
    assert db["active_approved"] == db["protecting_approved"] == "no"
    cyr = by_host[CYRILLIC_HOST]
    assert cyr["disallowed"] == CYRILLIC_PRODUCT
    assert cyr["other"] == XSS_NAME
    assert cyr["residue"] == (
        "C:\\ProgramData\\Kaspersky Lab; C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent"
    )
    assert float(cyr["duration_seconds"]) == 3.2
    app = by_host["app-03"]
    assert (app["os_family"], app["duration_seconds"]) == ("", "")
    assert app["message"] == "ssh: connect to host app-03 port 22: Connection timed out"


def test_csv_starts_with_a_byte_order_mark_so_spreadsheets_read_utf8(written):
    raw = Path(written["csv"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfhost,status,")
    assert CYRILLIC_HOST.encode("utf-8") in raw


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(tmp_path, prefix):
    payload = f'{prefix}HYPERLINK("x")'
    report = _report(
        _host(
            payload,
            "non-compliant",
            message=payload,
            disallowed=[_finding(payload, vendor=payload)],
            other=[_finding(payload)],
        )
    )
    row = _csv_rows(rep.write_reports(report, tmp_path)["csv"])[0]
    for column in ("host", "message", "disallowed", "disallowed_vendors", "other"):
        assert row[column] == "'" + payload, column


def test_csv_leaves_ordinary_text_and_numbers_alone(written):
    rows = {row["host"]: row for row in _csv_rows(written["csv"])}
    assert rows["'=cmd|' /C calc'!A0"]["message"] == "'@SUM(1+1) av_scan: WMI query timed out"
    assert rows["mail-05"]["other"] == "'-Acme Shield"
    assert rows["mail-05"]["approved"] == "Microsoft Defender Antivirus[active and protecting]"
    assert rows["'=cmd|' /C calc'!A0"]["duration_seconds"] == "12.5"


# --- JUnit ---------------------------------------------------------------------------


def test_junit_suite_counts_hosts_failures_and_errors(written):
    suite = ET.parse(written["junit"]).getroot()
    assert suite.tag == "testsuite"
    assert suite.get("name") == "avshift audit"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "2", "2")
    cases = list(suite.iter("testcase"))
    assert len(cases) == 6
    assert {case.get("classname") for case in cases} == {"avshift.audit"}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["policy.sha256"] == sample_report()["run"]["policy"]["sha256"]
    assert props["run.check_mode"] == "false"


def test_junit_marks_each_status_with_its_own_element(written):
    cases = _junit_cases(written["junit"])
    for compliant in ("web-01", "mail-05"):
        assert list(cases[compliant]) == []
    failure = cases["db-02"].find("failure")
    assert [child.tag for child in cases["db-02"]] == ["failure"]
    assert "Kaspersky Endpoint Security for Linux" in failure.get("message")
    assert "Kaspersky Network Agent" in failure.get("message")
    assert "no active approved antivirus" in failure.get("message")
    assert "package: kesl 12.1.0-1297" in failure.text
    cyrillic = cases[CYRILLIC_HOST].find("failure")
    assert CYRILLIC_PRODUCT in cyrillic.get("message")
    unreachable = cases["app-03"]
    assert [child.tag for child in unreachable] == ["error"]
    assert unreachable.find("error").get("type") == "unreachable"
    assert "Connection timed out" in unreachable.find("error").get("message")
    failed = cases["=cmd|' /C calc'!A0"].find("error")
    assert failed.get("type") == "failed"
    assert failed.get("message") == "@SUM(1+1) av_scan: WMI query timed out"


def test_junit_failure_names_a_missing_active_approved_product(tmp_path):
    host = _host(
        "bare-01",
        "non-compliant",
        approved=[{"vendor": "clamav", "product": "clamav", "name": "ClamAV", "active": False}],
    )
    paths = rep.write_reports(_report(host), tmp_path)
    message = _junit_cases(paths["junit"])["bare-01"].find("failure").get("message")
    assert message.startswith("no active approved antivirus (ClamAV installed but not active)")
    assert "disallowed" not in message
    assert "the policy approves for linux: clamav" in message


def test_junit_survives_markup_and_control_characters_in_host_text(tmp_path):
    host = _host(
        'a"<b>&\x07',
        "failed",
        message="boom \x1b[31m<fail/> & ]]>",
    )
    paths = rep.write_reports(_report(host, kind="remediation"), tmp_path)
    suite = ET.parse(paths["junit"]).getroot()
    assert suite.get("name") == "avshift remediation"
    case = next(suite.iter("testcase"))
    assert case.get("classname") == "avshift.remediation"
    assert case.get("name") == 'a"<b>&\ufffd'
    assert case.find("error").get("message") == "boom \ufffd[31m<fail/> & ]]>"


# --- HTML ----------------------------------------------------------------------------


def _raw(paths: dict) -> str:
    return Path(paths["html"]).read_text(encoding="utf-8")


def _html(paths: dict) -> str:
    return as_shown(_raw(paths))


def test_html_references_nothing_and_runs_only_its_own_code(written):
    assert_self_contained(_raw(written))


def test_html_guard_patterns_would_catch_external_references():
    # The check above is only worth something if it sees what it looks for.
    samples = [
        '<script src="https://cdn.example/x.js"></script>',
        "<link rel=stylesheet href=x.css>",
        '<img src="//tracker.example/p.gif">',
        "body { background: url(http://x.example/a.png) }",
        "@import 'x.css';",
    ]
    for sample in samples:
        assert any(p.search(sample) for p in EXTERNAL), sample


def test_html_escapes_host_provided_text(written):
    # Neither in the page's source nor in the rows its script makes of the data.
    assert XSS_NAME not in _raw(written) and XSS_IMG not in _raw(written)
    page = _html(written)
    assert XSS_NAME not in page
    assert XSS_IMG not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert CYRILLIC_HOST in page
    # The spreadsheet guard belongs to the CSV only: the page shows the name as it is.
    assert '<span class="host">=cmd|&#x27; /C calc&#x27;!A0</span>' in page


# What a host's data could hold to end the page's data block early or make the browser
# read it another way (HTML's rules for a script's contents), in the cases it accepts.
SCRIPT_BREAKERS = ("</script><script>alert(3)</script>", "<!--<script>", "</SCRIPT >", "<ScRiPt")


@pytest.mark.parametrize("breaker", SCRIPT_BREAKERS)
def test_html_data_blocks_hold_every_host_whatever_its_text(tmp_path, breaker):
    hosts = [
        _host(f"{breaker}-{n}", "failed", message=f"{breaker} message", os_family=breaker)
        for n in range(2)
    ]
    hosts.append(_host("plain", "compliant"))
    page = _raw(rep.write_reports(_report(*hosts), tmp_path))
    for opening in ('<script type="text/plain" id="host-rows">', '<script type="application/json"'):
        start = page.index(opening) + len(opening)
        # The browser ends a block at the first "</script" in any case: it must be its own,
        # and nothing before it may open a comment or a script.
        end = page.lower().index("</script", start)
        inside = page[start:end].lower()
        assert "<!--" not in inside and "<script" not in inside
        assert page[end:].startswith("</script>\n")
    shown = page_hosts(page)
    assert [host.keys[0] for host in shown] == [h["host"].lower() for h in hosts]
    assert all(f"{breaker.lower()} message" in host.text for host in shown[:2])
    assert breaker not in page


def test_a_row_that_would_end_its_data_block_is_refused_not_written(tmp_path, monkeypatch):
    # The rows' text is escaped and the templates hold no script nor comment; were a
    # template to write one, the page would break: rendering stops instead.
    macros = Path(html_format.__file__).with_name("templates") / "macros.html.j2"
    broken = macros.read_text(encoding="utf-8").replace(
        '<span class="host">{{ host.name }}</span>', '<span class="host"><!--{{ host.name }}</span>'
    )
    monkeypatch.setattr(
        html_format,
        "_ENVIRONMENT",
        html_format._ENVIRONMENT.overlay(loader=jinja2.DictLoader({"macros.html.j2": broken})),
    )
    with pytest.raises(ValueError, match="would end its data block"):
        html_format.render_html(_report(_host("web-01", "compliant")), ["report.json"], "SUMS")


def test_html_counts_are_the_report_summary(written):
    page = _html(written)
    shown = dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', page))
    summary = json.loads(Path(written["json"]).read_text(encoding="utf-8"))["summary"]
    # An audit defers nothing: its page has no "Deferred" card, its summary a 0; and
    # an uninterrupted run shows no "Interrupted" card.
    assert summary.pop("deferred") == 0
    assert summary.pop("interrupted") == 0
    assert {key: int(value) for key, value in shown.items()} == summary
    assert page.count('<tbody class="host"') == summary["total"]


def test_html_shows_remediation_extras_and_check_mode(tmp_path):
    report = sample_report("remediation")
    report["run"]["check_mode"] = True
    report["run"]["change_id"] = "CHG-2026-0042"
    report["hosts"][1]["actions"] = [{"action": "uninstall", "product": "<kesl>"}]
    page = _html(rep.write_reports(report, tmp_path))
    assert "<title>avshift remediation report" in page
    assert "Check mode: nothing was changed" in page
    assert "CHG-2026-0042" in page
    assert "&lt;kesl&gt;" in page and "<kesl>" not in page


def test_html_of_an_empty_report_says_so(tmp_path):
    page = _html(rep.write_reports(_report(), tmp_path))
    assert "This report has no hosts." in page
    assert 'data-count="total">0<' in page


def test_software_that_arrived_by_itself_is_in_every_format_as_other_antivirus(tmp_path):
    """Kaspersky's update put UltraAV on US consumer PCs: an audit under the shipped
    policy must show it as other antivirus, whatever format its reader opens."""
    from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify

    inventory = (
        Path(__file__).resolve().parents[1] / "data" / "inventories" / "windows-ultraav.json"
    )
    verdict = classify(json.loads(inventory.read_text(encoding="utf-8")))
    host = _host(
        "HOME-PC-7",
        "non-compliant",
        os_family="windows",
        **{key: verdict[key] for key in ("disallowed", "approved", "other", "residue")},
    )
    paths = rep.write_reports(_report(host), tmp_path / "out")
    [row] = _csv_rows(paths["csv"])
    assert "UltraAV" in row["other"] and "UltraVPN" in row["other"]
    assert row["disallowed"] == ""
    html = Path(paths["html"]).read_text(encoding="utf-8")
    other = html.split("<h3>Other antivirus</h3>")[1].split("</section>")[0]
    assert "UltraAV" in other and "UltraVPN" in other
    saved = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert [f["product"] for f in saved["hosts"][0]["other"]] == ["ultraav", "ultravpn"]


@pytest.mark.parametrize("mode", ["Passive", "Passive Mode", "EDR Block Mode"])
def test_defender_in_passive_or_edr_block_mode_is_present_not_active_in_every_format(
    tmp_path, mode
):
    from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify

    inventory = {
        "schema": 1,
        "host": "WS-0142",
        "os_family": "windows",
        "os": {"name": "Windows 11 Enterprise", "version": "10.0.26100", "server": False},
        "services": [{"name": "WinDefend", "state": "running"}],
        "defender": {
            "am_service_enabled": True,
            "antivirus_enabled": True,
            "real_time_protection_enabled": True,
            "am_running_mode": mode,
            "error": None,
        },
    }
    verdict = classify(inventory)
    host = _host(
        "WS-0142",
        "non-compliant",
        os_family="windows",
        **{key: verdict[key] for key in ("disallowed", "approved", "other", "residue")},
    )
    paths = rep.write_reports(_report(host), tmp_path / "out")
    why = f"running mode {mode}, not Normal"
    [row] = _csv_rows(paths["csv"])
    assert f"[present, not active: {why}]" in row["approved"] and why in row["message"], row
    assert why in _junit_cases(paths["junit"])["WS-0142"].find("failure").get("message")
    assert why in Path(paths["html"]).read_text(encoding="utf-8")
    saved = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))["hosts"][0]
    assert saved["approved"][0]["active"] is False
    assert saved["approved"][0]["inactive_because"] == [why]
    assert why in saved["message"]


def test_a_running_product_that_does_not_protect_says_so_and_why_in_every_format(tmp_path):
    report = odd_audit_report()
    written = rep.write_reports(report, tmp_path)
    row = {r["host"]: r for r in _csv_rows(written["csv"])}["bare-02"]
    assert row["approved"] == "ClamAV[active, not protecting: signatures 94 days old (policy: 7)]"
    assert (row["active_approved"], row["protecting_approved"]) == ("yes", "no")
    page = _html(written)
    assert '<span class="tag p-not-protecting">active, not protecting</span>' in page
    assert "signatures 94 days old (policy: 7)" in page
    saved = json.loads(Path(written["json"]).read_text(encoding="utf-8"))
    [clamav] = {h["host"]: h for h in saved["hosts"]}["bare-02"]["approved"]
    assert clamav["protection"] == "not-protecting" and clamav["signature_age_days"] == 94.3
