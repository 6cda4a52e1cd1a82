"""Remediation reports, deferred hosts and SHA256SUMS, read back the way consumers read them."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from report_page import as_shown, assert_self_contained, page_hosts, sort_keys
from report_sample import (
    BATCH_FAILED,
    CHANGE_ID,
    CHANGE_ID_PATTERN,
    CYRILLIC_HOST,
    CYRILLIC_PRODUCT,
    KES_CODE,
    OPERATOR,
    OS_ACCOUNT,
    REPLACEMENT_FAILED,
    WINDOW,
    WINDOW_CLOSED,
    XSS_IMG,
    XSS_NAME,
    remediation_report,
    sample_report,
)

from ansible_collections.avshift.remediation.plugins.plugin_utils import contract
from ansible_collections.avshift.remediation.plugins.plugin_utils import report as rep
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError
from ansible_collections.avshift.remediation.plugins.plugin_utils.report import model, writer

REPORT_FILES = ["report.json", "report.csv", "report.html", "report.junit.xml"]
FAILED_HOST = "=cmd|' /C calc'!A0"


@pytest.fixture
def written(tmp_path):
    return rep.write_reports(remediation_report(), tmp_path / "remediation")


@pytest.fixture
def dry_run(tmp_path):
    return rep.write_reports(remediation_report(check_mode=True), tmp_path / "dry-run")


def _rows(paths: dict) -> dict[str, dict]:
    with open(paths["csv"], encoding="utf-8-sig", newline="") as handle:
        return {row["host"]: row for row in csv.DictReader(handle)}


def _header(paths: dict) -> list[str]:
    with open(paths["csv"], encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def _cases(paths: dict) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in ET.parse(paths["junit"]).getroot().iter("testcase")}


def _html(paths: dict) -> str:
    return as_shown(Path(paths["html"]).read_text(encoding="utf-8"))


def _sha256sum() -> str:
    binary = shutil.which("sha256sum")
    if binary is None:
        pytest.fail("sha256sum (coreutils) is missing: the evidence check needs it", pytrace=False)
    return binary


# --- summary and JSON ----------------------------------------------------------------


def test_the_remediation_sample_has_every_status_and_deferred_is_counted():
    report = remediation_report()
    assert report["summary"] == {
        "total": 9,
        "compliant": 3,
        "non-compliant": 1,
        "unreachable": 1,
        "failed": 1,
        "deferred": 2,
        "interrupted": 1,
    }
    assert tuple(report["summary"])[1:] == rep.STATUSES


def test_remediation_json_round_trips_with_every_key_the_callback_writes(written):
    raw = Path(written["json"]).read_bytes()
    loaded = json.loads(raw.decode("utf-8"))
    assert loaded == remediation_report()
    run = loaded["run"]
    assert {k: run[k] for k in model.CHANGE_RUN_KEYS} == {
        "change_id": CHANGE_ID,
        "operator": OPERATOR,
        "os_account": OS_ACCOUNT,
        "change_id_pattern": CHANGE_ID_PATTERN,
        "confirmation": "typed",
        "window": WINDOW,
        "batch": "1,5,25%",
        "max_fail_percentage": 10,
        "reboot_policy": "if_required",
    }
    for host in loaded["hosts"]:
        assert set(model.REMEDIATION_HOST_KEYS) <= set(host)
    assert OPERATOR.encode("utf-8") in raw and b"\\u04" not in raw


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("plan", ["install clamav"], r"hosts\[1\]\.plan"),
        ("plan", {"remove": "kesl"}, r"hosts\[1\]\.plan\.remove"),
        ("plan", {"remove": [{"packages": "kesl"}]}, r"hosts\[1\]\.plan\.remove\[0\]\.packages"),
        ("plan", {"remove": [{"windows": ["{X}"]}]}, r"hosts\[1\]\.plan\.remove\[0\]\.windows"),
        ("actions", {"event": "plan"}, r"hosts\[1\]\.actions"),
        ("actions", ["plan"], r"hosts\[1\]\.actions"),
        ("before", "non-compliant", r"hosts\[1\]\.before"),
        ("after", {"compliant": True, "approved": "ClamAV"}, r"hosts\[1\]\.after\.approved"),
        ("reboot", True, r"hosts\[1\]\.reboot"),
    ],
)
def test_a_malformed_remediation_field_is_refused_and_nothing_is_written(
    tmp_path, field, value, where
):
    report = remediation_report()
    report["hosts"][1][field] = value
    with pytest.raises(InputError, match=where):
        rep.write_reports(report, tmp_path)
    assert not list(tmp_path.iterdir())


# --- SHA256SUMS ----------------------------------------------------------------------


def test_sha256sums_lists_every_report_file_in_sha256sum_format(written):
    directory = Path(written["sha256"]).parent
    text = Path(written["sha256"]).read_text(encoding="ascii")
    lines = text.splitlines()
    assert text.endswith("\n")
    assert [line.split("  ", 1)[1] for line in lines] == REPORT_FILES
    for line in lines:
        digest, name = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()
        assert digest == hashlib.sha256((directory / name).read_bytes()).hexdigest()
    assert sorted(os.listdir(directory)) == sorted([*REPORT_FILES, "SHA256SUMS"])


@pytest.mark.parametrize("kind", ["audit", "remediation"])
def test_sha256sum_c_passes_in_the_report_directory(tmp_path, kind):
    report = sample_report() if kind == "audit" else remediation_report()
    paths = rep.write_reports(report, tmp_path)
    done = subprocess.run(
        [_sha256sum(), "-c", "--strict", "SHA256SUMS"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"{name}: OK" for name in REPORT_FILES]
    assert paths["sha256"] == str(tmp_path / "SHA256SUMS")


def test_sha256sum_c_catches_a_report_file_changed_afterwards(written):
    directory = Path(written["sha256"]).parent
    csv_path = Path(written["csv"])
    csv_path.write_bytes(csv_path.read_bytes().replace(b"compliant", b"COMPLIANT", 1))
    done = subprocess.run(
        [_sha256sum(), "-c", "SHA256SUMS"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "report.csv: FAILED" in done.stdout
    assert "report.json: OK" in done.stdout


def test_sha256sums_is_written_last_and_atomically(tmp_path, monkeypatch):
    order = []
    real_write = writer.write_atomic

    def write(path, data):
        order.append(path.name)
        real_write(path, data)

    monkeypatch.setattr(writer, "write_atomic", write)
    rep.write_reports(remediation_report(), tmp_path)
    assert order == [*REPORT_FILES, "SHA256SUMS"]


def test_a_run_that_stops_before_sha256sums_leaves_no_sums_and_none_of_its_files(
    tmp_path, monkeypatch
):
    rep.write_reports(remediation_report(), tmp_path)
    before = (tmp_path / "SHA256SUMS").read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("SHA256SUMS"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    changed = remediation_report()
    changed["hosts"][0]["host"] = "renamed-01"
    with pytest.raises(OSError, match="disk full"):
        rep.write_reports(changed, tmp_path)
    # Nothing of the attempt is left, and no sums vouch for any file: no temp file,
    # neither the new reports nor the old SHA256SUMS.
    assert before
    assert os.listdir(tmp_path) == []


# --- CSV -----------------------------------------------------------------------------


def test_remediation_csv_appends_the_change_columns_and_audit_csv_does_not(written, tmp_path):
    assert _header(written) == [*rep.CSV_COLUMNS, *rep.REMEDIATION_CSV_COLUMNS]
    assert rep.REMEDIATION_CSV_COLUMNS == (
        "change_id",
        "plan_install",
        "plan_remove",
        "actions",
        "reboot",
        "before_status",
        "after_status",
        "remediation_seconds",
    )
    audit = rep.write_reports(sample_report(), tmp_path / "audit")
    assert _header(audit) == list(rep.CSV_COLUMNS)


def test_remediation_csv_rows_carry_plan_actions_reboot_and_both_verdicts(written):
    rows = _rows(written)
    assert list(rows) == [
        "web-01",
        "db-02",
        CYRILLIC_HOST,
        "kiosk-04",
        "'" + FAILED_HOST,
        "app-03",
        "lab-09",
        "pos-11",
        "pos-12",
    ]
    assert {row["change_id"] for row in rows.values()} == {CHANGE_ID}
    db = rows["db-02"]
    assert (db["status"], db["plan_install"], db["reboot"]) == ("compliant", "clamav", "not-needed")
    assert db["plan_remove"] == "Kaspersky Endpoint Security for Linux; Kaspersky Network Agent"
    assert db["actions"] == (
        "plan@2026-12-01T22:01:02+01:00; installed@2026-12-01T22:02:10+01:00; "
        "removed@2026-12-01T22:03:00+01:00; removed@2026-12-01T22:03:40+01:00; "
        "verified@2026-12-01T22:04:05+01:00"
    )
    assert (db["before_status"], db["after_status"]) == ("non-compliant", "compliant")
    # From the plan to the final scan; duration_seconds stays the scan's own time.
    assert (db["remediation_seconds"], db["duration_seconds"]) == ("183.0", "0.9")
    pc = rows[CYRILLIC_HOST]
    assert pc["plan_remove"] == f"{CYRILLIC_PRODUCT}; Kaspersky Network Agent"
    assert (pc["plan_install"], pc["reboot"]) == ("microsoft", "pending")
    kiosk = rows["kiosk-04"]
    assert (kiosk["before_status"], kiosk["after_status"]) == ("non-compliant", "non-compliant")
    failed = rows["'" + FAILED_HOST]
    assert failed["status"] == "failed" and failed["message"] == REPLACEMENT_FAILED
    # Scanned again after its replacement failed.
    assert (failed["before_status"], failed["after_status"], failed["reboot"]) == (
        "non-compliant",
        "non-compliant",
        "",
    )
    web = rows["web-01"]
    assert (web["plan_install"], web["plan_remove"], web["actions"]) == ("", "", "")
    assert web["remediation_seconds"] == ""
    assert (web["before_status"], web["after_status"]) == ("compliant", "")
    for name, why in (("pos-11", WINDOW_CLOSED), ("pos-12", BATCH_FAILED)):
        row = rows[name]
        assert (row["status"], row["message"]) == ("deferred", why)
        assert [row[c] for c in rep.REMEDIATION_CSV_COLUMNS[1:]] == [""] * 7


def test_remediation_csv_guards_plan_and_change_cells_against_formulas(tmp_path):
    report = remediation_report()
    report["run"]["change_id"] = '=HYPERLINK("x")'
    host = report["hosts"][1]
    host["plan"]["install"] = "+clamav"
    host["plan"]["remove"][0]["name"] = "@SUM(1)"
    host["actions"][0]["event"] = "-plan"
    host["reboot"] = "=pending"
    row = _rows(rep.write_reports(report, tmp_path))["db-02"]
    assert row["change_id"] == '\'=HYPERLINK("x")'
    assert row["plan_install"] == "'+clamav"
    assert row["plan_remove"].startswith("'@SUM(1); ")
    assert row["actions"].startswith("'-plan@")
    assert row["reboot"] == "'=pending"


def test_dry_run_csv_has_plans_but_nothing_done(dry_run):
    rows = _rows(dry_run)
    db = rows["db-02"]
    assert db["status"] == "non-compliant"
    assert db["plan_install"] == "clamav"
    assert db["actions"] == "plan@2026-12-01T22:01:02+01:00"
    assert (db["reboot"], db["after_status"]) == ("", "")
    # A plan alone is no remediation to time.
    assert db["remediation_seconds"] == ""


# --- JUnit ---------------------------------------------------------------------------


def test_junit_skips_deferred_hosts_and_counts_them(written):
    suite = ET.parse(written["junit"]).getroot()
    assert suite.get("name") == "avshift remediation"
    counts = {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}
    # Errors: the unreachable, the failed and the interrupted host.
    assert counts == {"tests": "9", "failures": "1", "errors": "3", "skipped": "2"}
    cases = _cases(written)
    for name, why in (("pos-11", WINDOW_CLOSED), ("pos-12", BATCH_FAILED)):
        assert [child.tag for child in cases[name]] == ["skipped"]
        assert cases[name].find("skipped").get("message") == why


def test_junit_skipped_message_has_a_default(tmp_path):
    report = remediation_report()
    report["hosts"][-1]["message"] = None
    cases = _cases(rep.write_reports(report, tmp_path))
    assert cases["pos-12"].find("skipped").get("message") == "deferred: not started"


def test_an_audit_junit_still_skips_nothing(tmp_path):
    suite = ET.parse(rep.write_reports(sample_report(), tmp_path)["junit"]).getroot()
    assert suite.get("skipped") == "0"
    assert suite.find(".//skipped") is None


def test_junit_properties_carry_the_change(written):
    suite = ET.parse(written["junit"]).getroot()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["kind"] == "remediation"
    assert props["run.change_id"] == CHANGE_ID
    assert props["run.operator"] == OPERATOR
    assert props["run.os_account"] == OS_ACCOUNT
    assert props["run.change_id_pattern"] == CHANGE_ID_PATTERN
    assert props["run.confirmation"] == "typed"
    assert props["run.batch"] == "1,5,25%"
    assert props["run.max_fail_percentage"] == "10"
    assert props["run.reboot_policy"] == "if_required"
    assert props["run.window.start"] == WINDOW["start"]
    assert props["run.window.end"] == WINDOW["end"]


def test_junit_tells_what_was_done_to_each_host(written):
    cases = _cases(written)
    # A host that passed keeps its record in system-out.
    out = cases[CYRILLIC_HOST].find("system-out").text
    assert [c.tag for c in cases[CYRILLIC_HOST]] == ["system-out"]
    assert "before: non-compliant; after: compliant" in out
    assert "remediation time: 16 min 49 s; scan time: 3.4 s" in out.splitlines()
    assert (
        f"plan: install microsoft after removing {CYRILLIC_PRODUCT} and Kaspersky Network "
        "Agent; reboot if required"
    ) in out.splitlines()
    assert f"no uninstall password: {CYRILLIC_PRODUCT} (kes)" in out.splitlines()
    assert f"display_name={XSS_IMG}" in out and f"note={XSS_NAME}" in out
    assert "2026-12-02T00:07:01+01:00 reboot: reboot pending; reason=msiexec 3010" in out
    # Evidence in words: a structure is its keys and values, never JSON.
    assert "defender=(RealTimeProtectionEnabled: yes, AMRunningMode: Normal)" in out
    assert '{"' not in out and "': " not in out
    assert out.splitlines()[-1] == "reboot: pending"
    # A failure or an error carries it after its own text.
    failure = cases["kiosk-04"].find("failure")
    assert "Kaspersky Network Agent" in failure.get("message")
    assert "verified: the scan after remediation finds the host still non-compliant" in (
        failure.text
    )
    error = cases[FAILED_HOST].find("error")
    assert error.get("message") == REPLACEMENT_FAILED
    assert error.text.splitlines()[0] == REPLACEMENT_FAILED
    assert "plan: install clamav before removing Kaspersky Endpoint" in error.text
    assert "installed: clamav installed, not active" in error.text
    assert (
        "changes: 2 packages installed, paths unknown; packages=(Installed: (Name: clamav, "
        "Source: deb, Version: 1.0.7), (Name: clamav-daemon, Source: deb, Version: 1.0.7), "
        "Removed: none, Upgraded: none)"
    ) in error.text
    # A host the run stopped before scanning again says why its state after is unknown.
    interrupted = cases["lab-09"].find("error").text
    assert (
        "after: not scanned after remediation: run interrupted after installing the replacement"
    ) in interrupted
    # A host left alone or never reached has nothing to add.
    assert "plan" not in "".join(cases["web-01"].itertext())
    assert [c.tag for c in cases["app-03"]] == ["error"]


# --- HTML ----------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [False, True])
def test_remediation_html_stays_self_contained_and_escapes_plan_and_action_data(
    tmp_path, check_mode
):
    written = rep.write_reports(remediation_report(check_mode), tmp_path)
    assert_self_contained(Path(written["html"]).read_text(encoding="utf-8"))
    page = _html(written)
    assert XSS_NAME not in page and XSS_IMG not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    if not check_mode:
        # Only the real run carried out the action whose data holds the <script> name.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert CYRILLIC_PRODUCT in page and OPERATOR in page and KES_CODE in page


def test_remediation_html_has_a_change_panel_and_no_dry_run_banner(written):
    page = _html(written)
    panel = re.search(r'<section class="change".*?</section>', page, re.S).group()
    assert f'<code class="change-id">{CHANGE_ID}</code>' in panel
    assert OPERATOR in panel
    assert f'<time datetime="{WINDOW["start"]}">2026-12-01 22:00:00 +0100</time>' in panel
    assert f'<time datetime="{WINDOW["end"]}">2026-12-02 04:00:00 +0100</time>' in panel
    assert "(6 h 0 min)" in panel
    assert '<dd data-field="batch">1,5,25%</dd>' in panel
    assert '<dd data-field="max-fail">10%</dd>' in panel
    assert '<dd data-field="reboot-policy">if required</dd>' in panel
    assert "DRY RUN" not in page
    # The change is shown once: the Run section leaves it to the panel.
    run = re.search(r'<section class="run".*?</section>', page, re.S).group()
    assert CHANGE_ID not in run and "Operator" not in run


def test_dry_run_html_says_nothing_was_changed(dry_run):
    page = _html(dry_run)
    panel = re.search(r'<section class="change".*?</section>', page, re.S).group()
    assert "DRY RUN: nothing was changed" in panel
    assert page.count("DRY RUN") == 1
    assert "Plan (dry run: not carried out)" in page
    assert "Dry run: not scanned after" in page


def test_change_panel_says_who_ran_the_change_how_it_started_and_the_sites_pattern(written):
    panel = re.search(r'<section class="change".*?</section>', _html(written), re.S).group()
    assert f'<dd data-field="operator">{OPERATOR}</dd>' in panel
    assert f'<dd data-field="os-account">{OS_ACCOUNT}</dd>' in panel
    meaning = contract.CONFIRMATIONS["typed"]
    assert f'<dd data-field="confirmation">{meaning}</dd>' in panel
    assert (
        f'<dd data-field="change-id"><code class="change-id">{CHANGE_ID}</code> '
        '<span class="origin">change id checked against '
        f"<code>{CHANGE_ID_PATTERN}</code> (site&#x27;s own)</span></dd>"
    ) in panel


def test_change_panel_says_what_an_older_or_plainer_run_did_not_record(tmp_path):
    report = remediation_report()
    for key in ("operator", "os_account", "change_id_pattern", "confirmation"):
        del report["run"][key]
    panel = re.search(
        r'<section class="change".*?</section>', _html(rep.write_reports(report, tmp_path)), re.S
    ).group()
    assert '<dd data-field="operator"><span class="none">not given</span></dd>' in panel
    assert '<dd data-field="os-account"><span class="none">not recorded</span></dd>' in panel
    assert (
        '<dd data-field="confirmation">not asked: started outside the avshift command</dd>'
    ) in panel
    # The collection's own pattern is not worth a note.
    assert f'<dd data-field="change-id"><code class="change-id">{CHANGE_ID}</code></dd>' in panel


def test_a_dry_run_was_not_asked_to_confirm_and_keeps_an_older_journals_batch_as_written(
    dry_run,
):
    page = _html(dry_run)
    assert '<dd data-field="confirmation">not asked: a dry run changes nothing</dd>' in page
    # The dry-run sample's journal kept serial's list, [1, 5, "25%"].
    assert remediation_report(check_mode=True)["run"]["batch"] == [1, 5, "25%"]
    assert '<dd data-field="batch">1,5,25%</dd>' in page
    assert "[1, 5" not in page
    props = {p.get("name"): p.get("value") for p in ET.parse(dry_run["junit"]).iter("property")}
    assert props["run.batch"] == "1,5,25%"
    assert "run.confirmation" not in props


def test_change_panel_shows_missing_change_fields_as_none(tmp_path):
    report = remediation_report()
    for key in ("window", "batch", "max_fail_percentage"):
        report["run"][key] = None
    page = _html(rep.write_reports(report, tmp_path))
    panel = re.search(r'<section class="change".*?</section>', page, re.S).group()
    assert '<dd data-field="window"><span class="none">none</span></dd>' in panel
    assert "all hosts at once" in panel
    assert '<dd data-field="max-fail"><span class="none">none</span></dd>' in panel


def test_remediation_html_shows_every_status_with_deferred(written):
    page = _html(written)
    shown = {k: int(v) for k, v in re.findall(r'data-count="([a-z-]+)">(\d+)<', page)}
    assert shown == remediation_report()["summary"]
    assert '<option value="deferred">Deferred (2)</option>' in page
    assert page.count('<tbody class="host" data-status="deferred">') == 2
    assert '<g class="s-deferred">' in page
    assert '<span class="badge s-deferred"><span class="sym" aria-hidden="true">»</span>' in page
    assert 'data-label="Reboot"' in page


def test_status_sort_keys_put_deferred_between_failed_and_compliant(written):
    # What the page's Status column sorts by: each host's key for the second column.
    hosts = page_hosts(Path(written["html"]).read_text(encoding="utf-8"))
    rank = {host.status: host.keys[1] for host in hosts}
    assert set(rank) == set(rep.STATUSES)
    assert rank["failed"] < rank["deferred"] < rank["compliant"]
    # Interrupted ranks with failed: somebody has to look at it before the deferred.
    assert rank["interrupted"] == rank["failed"]
    assert max(rank, key=rank.get) == "compliant"


def test_audit_html_has_no_change_panel_reboot_column_or_empty_deferred(tmp_path):
    page = _html(rep.write_reports(sample_report(), tmp_path))
    assert '<section class="change"' not in page
    assert 'data-label="Reboot"' not in page
    # Only the stylesheet knows about deferred hosts; nothing on the page mentions them.
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    assert "deferred" not in body.lower()


def test_an_audit_with_a_deferred_host_still_shows_it(tmp_path):
    report = sample_report()
    report["hosts"][3]["status"] = "deferred"
    report["summary"] = rep.summarize(report["hosts"])
    page = _html(rep.write_reports(report, tmp_path))
    assert 'data-count="deferred">1<' in page
    assert '<option value="deferred">Deferred (1)</option>' in page


HELD_SERVER = (
    "ksc64 (kaspersky/ksc_server): held, not removed: ksc64 is never removed by avshift: "
    "it manages other hosts and holds their keys and policies"
)


def test_junit_says_what_a_plan_holds_back_and_why():
    from ansible_collections.avshift.remediation.plugins.plugin_utils.report import junit_format

    host = {
        "host": "ksc-lnx-01",
        "plan": {"install": None, "remove": [], "held": [HELD_SERVER], "reboot_policy": "never"},
    }
    lines = junit_format._remediation_lines(host)
    assert lines[0] == "plan: nothing to install or remove; reboot never"
    assert lines[1] == f"held: {HELD_SERVER}"


# --- words for approvers (issue #22) --------------------------------------------------


def _host_body(page: str, name: str) -> str:
    """A host's tbody on the page: its row and what the row expands to."""
    start = page.index(f'<span class="host">{html.escape(name, quote=True)}</span></td>')
    return page[page.rindex('<tbody class="host"', 0, start) : page.index("\n</tbody>", start)]


def _text(page: str) -> str:
    """What a page says, without its markup, style and script."""
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("check_mode", [False, True], ids=["real-run", "dry-run"])
def test_no_page_shows_json_or_a_python_repr(tmp_path, check_mode):
    page = _html(rep.write_reports(remediation_report(check_mode), tmp_path))
    text = _text(page)
    for raw in ('{"', "': ", "[1, 5, '", "{'", "[{"):
        assert raw not in text, raw


def test_an_audit_and_a_dry_run_say_nothing_of_changes_they_did_not_make(tmp_path, dry_run):
    audit = rep.write_reports(sample_report(), tmp_path / "audit")
    for paths in (audit, dry_run):
        text = _text(_html(paths))
        # "nothing was changed" is the dry run's banner, the one mention it makes.
        assert "changed" not in text.replace("nothing was changed", "").lower()
        assert "<h3>Changed</h3>" not in _html(paths)


def test_an_audit_that_changed_a_host_says_so(tmp_path):
    report = sample_report()
    report["hosts"][0]["changed"] = 2
    page = _html(rep.write_reports(report, tmp_path))
    assert "Ansible reported 2 changed tasks on this host, in an audit that changes nothing." in (
        page
    )
    assert page.count("changed tasks") == 2  # the warning, and the details' summary line


def test_a_real_run_leaves_its_changed_count_to_report_json(written):
    # The actions say what changed; Ansible's count of changed tasks is no section.
    assert remediation_report()["hosts"][1]["changed"] == 7
    assert "<h3>Changed</h3>" not in _html(written)
    assert "changed task" not in _html(written)


def test_a_key_nobody_knows_is_a_section_only_when_it_holds_something(tmp_path):
    report = sample_report()
    report["hosts"][1].update(ticket="T-1", empty_list=[], nothing=None)
    page = _html(rep.write_reports(report, tmp_path))
    assert '<section class="group extra"><h3>Ticket</h3>T-1</section>' in page
    assert "Empty list" not in page and "Nothing" not in page


def test_what_the_scan_could_not_read_is_named_with_why(tmp_path):
    page = _html(rep.write_reports(sample_report(), tmp_path))
    assert "<h3>Not read by the scan</h3>" in page
    assert "<li>services: systemctl list-units failed: Failed to connect to bus</li>" in page
    assert "<h3>Unreadable</h3>" not in page


def test_a_failed_hosts_details_start_with_its_reason_not_its_findings(written):
    page = _html(written)
    body = _host_body(page, FAILED_HOST)
    reason = html.escape(REPLACEMENT_FAILED, quote=True)
    assert f'<td class="message">{reason}</td>' in body
    # The Message column sorts by the message, whatever its case.
    raw = Path(written["html"]).read_text(encoding="utf-8")
    assert REPLACEMENT_FAILED.lower() in sort_keys(raw, FAILED_HOST)
    assert f'<div class="groups"><p class="why">{reason}</p>' in body


def test_the_hosts_time_is_the_remediations_and_each_scan_keeps_its_own(written, dry_run):
    page = _html(written)
    assert 'data-label="Remediation time"' in page and 'data-label="Scan time"' not in page
    db = _host_body(page, "db-02")
    # From the plan at 22:01:02 to the final scan at 22:04:05; the scan took 0.9 s.
    assert "<td>3 min 3 s</td></tr>" in db
    # The column sorts by the seconds.
    assert sort_keys(Path(written["html"]).read_text(encoding="utf-8"), "db-02")[-1] == 183.0
    assert "<dt>Scan time</dt><dd>0.9 s</dd>" in db
    assert "Remediation time: 3 min 3 s, from the first event to the last." in db
    # A dry run remediated nothing: its hosts' time is the scan's.
    page = _html(dry_run)
    assert 'data-label="Scan time"' in page and 'data-label="Remediation time"' not in page
    assert "<td>0.9 s</td></tr>" in page
    assert sort_keys(Path(dry_run["html"]).read_text(encoding="utf-8"), "db-02")[-1] == 0.9


def test_junit_times_a_remediated_host_by_its_remediation(written, dry_run):
    cases = _cases(written)
    assert cases["db-02"].get("time") == "183.000"
    assert cases["web-01"].get("time") == "0.520"
    assert _cases(dry_run)["db-02"].get("time") == "0.900"


def test_a_plan_is_a_sentence_and_a_table_of_its_removals(written):
    page = _html(written)
    body = _host_body(page, CYRILLIC_HOST)
    assert (
        f'<p class="sentence">Install microsoft after removing {CYRILLIC_PRODUCT} and '
        "Kaspersky Network Agent.</p>"
    ) in body
    assert (
        '<table class="removals"><thead><tr><th scope="col">Product</th>'
        '<th scope="col">Packages</th><th scope="col">Steps</th></tr></thead>'
    ) in body
    assert f'<code class="code">{KES_CODE}</code>' in body
    assert f"<td>msiexec.exe /x {KES_CODE} /qn /norestart<p class=" in body
    assert (
        '<p class="warning" role="note"><strong>No uninstall password given: the uninstaller '
        "runs without one and fails if the product&#x27;s protection is on:</strong> "
        f"{CYRILLIC_PRODUCT} (kes)</p>"
    ) in body


def test_a_regressed_host_that_could_not_be_checked_shows_its_reason(tmp_path):
    from report_sample import drift_report

    page = _html(rep.write_reports(drift_report(), tmp_path))
    row = re.search(r"<tr><td>app-03</td>.*?</tr>", page).group()
    assert "ssh: connect to host app-03 port 22: Connection timed out" in row
