"""The Linux collector's protection probes: ClamAV's database headers, plain signature
files and on-access scanning, and `mdatp health`, on hand-made files in tmp_path and
hand-written command output.

The ClamAV databases are built in libclamav's own layout (tests/clamav_databases.py);
the mdatp answers follow the field names of Microsoft's `mdatp health` page in the two
spellings and value shapes the collector reads (linux_inventory's comment says where
they come from). They are not recordings of a real mdatp.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from clamav_databases import padded, unsigned_database

from ansible_collections.avshift.remediation.plugins.module_utils import inventory_schema as schema
from ansible_collections.avshift.remediation.plugins.module_utils import linux_inventory as li

ROOT = Path(__file__).resolve().parents[2]
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 2, 7, 45, 12, tzinfo=UTC)
FRESH = NOW - datetime.timedelta(hours=20)
STALE = NOW - datetime.timedelta(days=94)
HDB = b"44d88612fea8a8f36de82e1278abb02f:68:Avshift.Test.EICAR\n"
CLAMAV = {
    "product": "clamav_linux",
    "probe": "clamav",
    "clamd_configs": [],
    "database_dirs": [],
    "on_access_process": "clamonacc",
}


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _database(directory: Path, name: str, built: datetime.datetime, version: int) -> Path:
    path = directory / name
    stem = name.rpartition(".")[0]
    path.write_bytes(unsigned_database(stem, built, version, {f"{stem}.hdb": HDB}))
    return path


def _plain(directory: Path, name: str, mtime: datetime.datetime) -> Path:
    path = directory / name
    path.write_bytes(HDB)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


# --- the database header -----------------------------------------------------------------


def test_a_header_as_sigtool_writes_it_gives_its_build_time_from_stime():
    # sigtool --build --unsigned, ClamAV 1.4.6, on the test bed's builder image.
    head = padded(
        "ClamAV-VDB:02 Dec 2026 07-41 +0000:1:1:216:dee880b6bc823a0d9b70c8e2ea0110eb:X:"
        "avshift-testbed:1796197282"
    )
    built, version = li.parse_cvd_header(head)
    assert (built.isoformat(), version) == ("2026-12-02T07:41:22+00:00", 1)


def test_a_header_of_the_old_format_without_stime_gives_its_text_time_in_utc():
    line = "ClamAV-VDB:09 Mar 2016 16-28 +0100:27480:4250000:63:abc:dsig:neo"
    built, version = li.parse_cvd_header(padded(line))
    assert (built.isoformat(), version) == ("2016-03-09T15:28:00+00:00", 27480)
    # A zero stime is what cl_cvdparse makes of a missing one: the text time stands.
    built, _ = li.parse_cvd_header(padded(line + ":0"))
    assert built.isoformat() == "2016-03-09T15:28:00+00:00"


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"PK\x03\x04 not a database", "not a ClamAV database header"),
        (padded("ClamAV-VDB:02 Dec 2026 07-41 +0000:1:1:216:md5:X"), "7 of its 9 fields"),
        (padded("ClamAV-VDB:02 Dec 2026 07-41 +0000:x1:1:216:md5:X:b:1"), "version 'x1'"),
        (padded("ClamAV-VDB:yesterday:1:1:216:md5:X:builder"), "build time 'yesterday'"),
        (padded("ClamAV-VDB:31 Feb 2026 07-41 +0000:1:1:216:md5:X:builder"), "build time"),
        (b"ClamAV-VDB:\xff\xfe:1:1:216:md5:X:builder:1", "not ASCII"),
    ],
    ids=["other-file", "cut", "version", "time", "no-such-day", "binary"],
)
def test_a_header_that_cannot_be_read_says_why(head, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        li.parse_cvd_header(head)


# --- the database directory --------------------------------------------------------------


def test_the_newest_header_wins_with_its_database_name_and_version(tmp_path):
    _database(tmp_path, "main.cvd", STALE, 62)
    _database(tmp_path, "daily.cld", FRESH, 27480)
    _database(tmp_path, "bytecode.cvd", STALE, 335)
    assert li.clamav_signatures(str(tmp_path)) == (
        _iso(FRESH),
        "database-header",
        "daily 27480",
        None,
    )


def test_a_stale_header_is_reported_as_it_is(tmp_path):
    _database(tmp_path, "daily.cvd", STALE, 27400)
    assert li.clamav_signatures(str(tmp_path))[:3] == (
        _iso(STALE),
        "database-header",
        "daily 27400",
    )


def test_a_header_dated_in_the_future_is_reported_for_the_classifier_to_judge(tmp_path):
    future = NOW + datetime.timedelta(days=400)
    _database(tmp_path, "daily.cvd", FRESH, 27480)
    _database(tmp_path, "local.cud", future, 3)
    assert li.clamav_signatures(str(tmp_path))[:3] == (_iso(future), "database-header", "local 3")


def test_a_header_beats_newer_plain_files_which_carry_no_build_time(tmp_path):
    """A site's own fresh .ndb beside stale official databases must not make the host
    look current: where any header can be read, plain files are not counted."""
    _database(tmp_path, "daily.cvd", STALE, 27400)
    _plain(tmp_path, "local.ndb", FRESH)
    assert li.clamav_signatures(str(tmp_path))[:2] == (_iso(STALE), "database-header")


def test_an_unreadable_header_is_skipped_and_named(tmp_path):
    _database(tmp_path, "main.cvd", STALE, 62)
    (tmp_path / "daily.cld").write_bytes(b"\0" * 512)  # an interrupted download
    updated, basis, version, detail = li.clamav_signatures(str(tmp_path))
    assert (updated, basis, version) == (_iso(STALE), "database-header", "main 62")
    assert detail == "unreadable database headers skipped: daily.cld (not a ClamAV database header)"


def test_plain_files_alone_give_the_newest_detecting_files_modification_time(tmp_path):
    _plain(tmp_path, "avshift-testbed.hdb", STALE)
    _plain(tmp_path, "local.ndb", FRESH)
    # Newer still, but settings and allow lists: they detect nothing.
    for name in ("local.ign2", "local.fp", "daily.cfg", "notes.txt"):
        _plain(tmp_path, name, NOW)
    (tmp_path / "sub.hdb").mkdir()  # clamd does not descend into directories
    updated, basis, version, detail = li.clamav_signatures(str(tmp_path))
    assert (updated, basis, version) == (_iso(FRESH), "file-mtime", None)
    assert detail.startswith(f"no database header in {tmp_path}: the modification time of")
    assert "(local.ndb)" in detail


def test_only_unreadable_headers_fall_back_to_plain_files_and_say_so(tmp_path):
    (tmp_path / "daily.cvd").write_bytes(padded("ClamAV-VDB:garbage"))
    _plain(tmp_path, "local.hdb", FRESH)
    updated, basis, _version, detail = li.clamav_signatures(str(tmp_path))
    assert (updated, basis) == (_iso(FRESH), "file-mtime")
    assert "unreadable database headers skipped: daily.cvd" in detail


def test_a_probe_may_name_its_own_signature_extensions(tmp_path):
    _plain(tmp_path, "site.hdb", STALE)
    _plain(tmp_path, "site.ndb", FRESH)
    assert li.clamav_signatures(str(tmp_path), ["hdb"])[0] == _iso(STALE)


@pytest.mark.parametrize(
    ("make", "detail"),
    [
        (lambda d: None, "no signature database in {d}"),
        (lambda d: (d / "daily.cvd").write_bytes(b""), "no signature database in {d}; "),
    ],
    ids=["empty", "only-an-empty-file"],
)
def test_no_signatures_at_all_is_unknown_with_the_reason(tmp_path, make, detail):
    make(tmp_path)
    updated, basis, version, said = li.clamav_signatures(str(tmp_path))
    assert (updated, basis, version) == (None, None, None)
    assert said.startswith(detail.format(d=tmp_path))


def test_a_database_directory_that_cannot_be_listed_is_unknown(tmp_path):
    missing = tmp_path / "gone"
    assert li.clamav_signatures(str(missing)) == (
        None,
        None,
        None,
        f"cannot list {missing}: No such file or directory",
    )


def test_the_extension_list_is_the_install_roles(tmp_path):
    role_vars = yaml.safe_load((ROOT / "roles/install/vars/main.yml").read_text())
    assert list(li.CLAMAV_DATABASE_EXTENSIONS) == role_vars["__install_clamav_signature_extensions"]


# --- the ClamAV probe ---------------------------------------------------------------------


def _fake_process(proc: Path, pid: str, name: str) -> None:
    (proc / pid / "ns").mkdir(parents=True)
    (proc / pid / "ns" / "pid").symlink_to("pid:[4026531836]")
    (proc / pid / "comm").write_text(name + "\n")
    (proc / pid / "stat").write_text(f"{pid} ({name}) S 1 1 1\n")


def _names(*names: str) -> set[str]:
    return set(names)


def _no_binaries(name):
    return None


def test_clamav_absent_from_the_host_gets_no_entry(tmp_path):
    spec = {
        **CLAMAV,
        "clamd_configs": [str(tmp_path / "clamd.conf")],
        "database_dirs": [str(tmp_path / "db")],
    }
    assert li.probe_clamav(spec, _names("clamd"), _no_binaries) is None


def test_the_database_directory_is_the_one_clamds_first_configuration_names(tmp_path):
    default, configured = tmp_path / "default", tmp_path / "configured"
    default.mkdir()
    configured.mkdir()
    _database(default, "daily.cvd", FRESH, 27480)
    _database(configured, "daily.cvd", STALE, 27400)
    first = tmp_path / "clamd.conf"
    first.write_text(
        "# Automatically Generated by clamav-daemon postinst\n"
        "LocalSocket /var/run/clamav/clamd.ctl\n"
        f"DatabaseDirectory {configured}\n"
    )
    second = tmp_path / "scan.conf"
    second.write_text(f"DatabaseDirectory {default}\n")
    spec = {
        **CLAMAV,
        "clamd_configs": [str(tmp_path / "missing.conf"), str(first), str(second)],
        "database_dirs": [str(default)],
    }
    entry = li.probe_clamav(spec, _names("clamd"), _no_binaries)
    assert entry == {
        "product": "clamav_linux",
        "signatures_updated": _iso(STALE),
        "signatures_basis": "database-header",
        "signatures_version": "daily 27400",
        "real_time": False,
        "healthy": None,
        "detail": None,
    }
    assert list(entry) == list(schema.PROTECTION_FIELDS)


def test_without_databasedirectory_the_first_existing_default_directory_is_read(tmp_path):
    db = tmp_path / "db"
    db.mkdir()
    _database(db, "daily.cvd", FRESH, 27480)
    config = tmp_path / "scan.conf"
    config.write_text("#DatabaseDirectory /var/lib/clamav\nLocalSocket /run/clamd.scan/c.sock\n")
    spec = {
        **CLAMAV,
        "clamd_configs": [str(config)],
        "database_dirs": [str(tmp_path / "nowhere"), str(db)],
    }
    assert li.probe_clamav(spec, _names(), _no_binaries)["signatures_version"] == "daily 27480"


def test_a_configuration_without_any_database_says_where_it_looked(tmp_path):
    config = tmp_path / "clamd.conf"
    config.write_text(f"DatabaseDirectory {tmp_path / 'empty'}\n")
    (tmp_path / "empty").mkdir()
    entry = li.probe_clamav({**CLAMAV, "clamd_configs": [str(config)]}, _names(), _no_binaries)
    assert entry["signatures_updated"] is None
    assert entry["detail"] == f"no signature database in {tmp_path / 'empty'}"


@pytest.mark.parametrize(
    ("config", "running", "binaries", "real_time"),
    [
        ("", ("clamd", "clamonacc"), (), True),
        ("", ("clamd",), ("clamonacc",), False),
        # clamd scanning on access itself, before ClamAV 0.102 brought clamonacc.
        ("ScanOnAccess yes\n", ("clamd",), (), True),
        ("ScanOnAccess true\n", ("clamd",), (), True),
        ("ScanOnAccess yes\n", (), (), False),
        ("ScanOnAccess no\n", ("clamd",), (), False),
        # With clamonacc installed, clamd no longer scans on access by that option.
        ("ScanOnAccess yes\n", ("clamd",), ("clamonacc",), False),
    ],
    ids=[
        "clamonacc",
        "no-clamonacc",
        "old-clamd",
        "old-clamd-true",
        "old-clamd-stopped",
        "old-clamd-off",
        "option-without-effect",
    ],
)
def test_real_time_protection_is_clamonacc_running_or_an_old_clamd_scanning_on_access(
    tmp_path, config, running, binaries, real_time
):
    (tmp_path / "clamd.conf").write_text(config)
    spec = {**CLAMAV, "clamd_configs": [str(tmp_path / "clamd.conf")]}

    def which(name):
        return f"/usr/sbin/{name}" if name in binaries else None

    assert li.probe_clamav(spec, set(running), which)["real_time"] is real_time


def test_real_time_protection_is_unknown_when_the_process_table_was_not_read(tmp_path):
    (tmp_path / "db").mkdir()
    entry = li.probe_clamav({**CLAMAV, "database_dirs": [str(tmp_path / "db")]}, None, _no_binaries)
    assert entry["real_time"] is None
    assert "the process table could not be read" in entry["detail"]


def test_an_unreadable_configuration_is_named_and_the_defaults_read(tmp_path):
    db = tmp_path / "db"
    db.mkdir()
    _database(db, "daily.cvd", FRESH, 27480)
    config = tmp_path / "clamd.conf"
    config.write_bytes(b"DatabaseDirectory \xff\xfe\n")
    spec = {**CLAMAV, "clamd_configs": [str(config)], "database_dirs": [str(db)]}
    entry = li.probe_clamav(spec, _names(), _no_binaries)
    assert entry["signatures_version"] == "daily 27480"
    assert entry["detail"].startswith(f"cannot read {config}: ")


def test_collect_probes_with_the_process_table_it_read(tmp_path):
    """The wiring: collect passes its own process list, so a fake /proc flips real_time."""
    db = tmp_path / "db"
    db.mkdir()
    _database(db, "daily.cvd", FRESH, 27480)
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "python3")
    _fake_process(proc, "100", "clamd")
    spec = {**CLAMAV, "database_dirs": [str(db)]}

    def run(argv):
        return 0, "", ""

    before = datetime.datetime.now(UTC).replace(microsecond=0)
    inventory, _, _ = li.collect(run, _no_binaries, [], proc=str(proc), protection=[spec])
    (entry,) = inventory["protection"]
    assert entry["real_time"] is False
    _fake_process(proc, "101", "clamonacc")
    inventory, _, _ = li.collect(run, _no_binaries, [], proc=str(proc), protection=[spec])
    assert inventory["protection"][0]["real_time"] is True
    collected = inventory["collected_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", collected), collected
    moment = datetime.datetime.fromisoformat(collected)
    assert before <= moment <= datetime.datetime.now(UTC)


def test_collect_without_probes_sends_an_empty_protection_list():
    inventory, _, _ = li.collect(lambda argv: (0, "", ""), _no_binaries, [])
    assert inventory["protection"] == []


def test_an_unknown_probe_is_refused():
    with pytest.raises(ValueError, match="unknown protection probe 'sophos'"):
        li.probe_protection([{"product": "x", "probe": "sophos"}], None, None, set(), NOW)


# --- mdatp --------------------------------------------------------------------------------

# `mdatp health --output json` as mdatp 101.x prints it: camelCase, definitionsUpdated in
# milliseconds in a string, managed settings wrapped (hand-written from the sources the
# collector names, not recorded).
JSON_101 = {
    "healthy": True,
    "healthIssues": [],
    "licensed": True,
    "definitionsUpdated": str(int(FRESH.timestamp() * 1000)),
    "definitionsUpdatedMinutesAgo": 1200,
    "definitionsVersion": "1.421.1234.0",
    "definitionsStatus": {"$type": "upToDate"},
    "realTimeProtectionEnabled": {"isManaged": True, "value": False},
}


def _mdatp(tmp_path: Path, answer: tuple[int, str, str], timeout: bool = True):
    command = tmp_path / "mdatp"
    command.write_text("#!/bin/sh\nexit 0\n")
    command.chmod(0o755)
    calls = []

    def run(argv):
        calls.append(argv)
        return answer

    def which(name):
        return "/usr/bin/timeout" if name == "timeout" and timeout else None

    spec = {"product": "mdatp_linux", "probe": "mdatp", "command": str(command)}
    return li.probe_mdatp(spec, run, which, NOW), calls, command


def test_mdatp_health_is_read_once_bounded_in_time(tmp_path):
    entry, calls, command = _mdatp(tmp_path, (0, json.dumps(JSON_101), ""))
    assert calls == [["/usr/bin/timeout", "60", str(command), "health", "--output", "json"]]
    assert entry == {
        "product": "mdatp_linux",
        "signatures_updated": _iso(FRESH),
        "signatures_basis": "product",
        "signatures_version": "1.421.1234.0",
        "real_time": False,
        "healthy": True,
        "detail": None,
    }


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (
            # The text output's names (Microsoft's page), values bare.
            {
                "healthy": "false",
                "health_issues": ["no active event provider"],
                "definitions_updated": _iso(STALE).replace("+00:00", "Z"),
                "real_time_protection_enabled": "enabled",
                "definitions_version": "1.400.0.0",
            },
            {
                "signatures_updated": _iso(STALE),
                "real_time": True,
                "healthy": False,
                "detail": "health issues: no active event provider",
            },
        ),
        (
            # Seconds instead of milliseconds, wrapped values everywhere.
            {
                "healthy": {"value": True},
                "definitionsUpdated": {"value": int(STALE.timestamp())},
                "realTimeProtectionEnabled": {"value": "disabled"},
            },
            {"signatures_updated": _iso(STALE), "real_time": False, "healthy": True},
        ),
        (
            # No usable time: the minutes since the update, from the host's clock.
            {"definitionsUpdated": "", "definitionsUpdatedMinutesAgo": 90, "healthy": True},
            {"signatures_updated": _iso(NOW - datetime.timedelta(minutes=90))},
        ),
        (
            {"healthy": True, "realTimeProtectionEnabled": "sometimes"},
            {
                "signatures_updated": None,
                "signatures_basis": None,
                "real_time": None,
                "detail": "mdatp health gave no definitions time",
            },
        ),
    ],
    ids=["text-names", "wrapped", "minutes-ago", "nothing"],
)
def test_mdatp_health_is_read_in_either_spelling_and_shape(tmp_path, health, expected):
    entry, _, _ = _mdatp(tmp_path, (0, "\n" + json.dumps(health) + "\n", ""))
    for field, value in expected.items():
        assert entry[field] == value, field


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ((0, "ATTENTION: No license found. Contact your administrator\n", ""), "printed no JSON"),
        ((0, "[1, 2]", ""), "printed no JSON"),
        ((1, "", "Daemon is not running\n"), "failed (rc=1): Daemon is not running"),
        ((124, "", ""), "did not answer in 60 s"),
    ],
    ids=["text", "not-an-object", "failed", "timed-out"],
)
def test_an_mdatp_answer_that_cannot_be_read_leaves_every_fact_unknown(tmp_path, answer, detail):
    entry, _, _ = _mdatp(tmp_path, answer)
    assert [entry[field] for field in ("signatures_updated", "real_time", "healthy")] == [
        None,
        None,
        None,
    ]
    assert detail in entry["detail"]


def test_mdatp_runs_without_timeout_where_the_host_has_none(tmp_path):
    entry, calls, command = _mdatp(tmp_path, (0, json.dumps(JSON_101), ""), timeout=False)
    assert calls == [[str(command), "health", "--output", "json"]]
    assert entry["healthy"] is True


def test_mdatp_absent_gets_no_entry_and_runs_nothing(tmp_path):
    calls = []
    spec = {"product": "mdatp_linux", "probe": "mdatp", "command": str(tmp_path / "mdatp")}
    assert li.probe_mdatp(spec, calls.append, _no_binaries, NOW) is None
    assert calls == []


def test_an_mdatp_that_cannot_be_executed_is_named_not_run(tmp_path):
    command = tmp_path / "mdatp"
    command.write_text("")
    command.chmod(0o644)
    calls = []
    spec = {"product": "mdatp_linux", "probe": "mdatp", "command": str(command)}
    entry = li.probe_mdatp(spec, calls.append, _no_binaries, NOW)
    assert (entry["detail"], calls) == (f"{command} is not executable", [])


def test_every_probe_entry_has_exactly_the_schemas_fields(tmp_path):
    entry, _, _ = _mdatp(tmp_path, (1, "", "x"))
    assert list(entry) == list(schema.PROTECTION_FIELDS)
    assert set(schema.SIGNATURE_BASES) == {"database-header", "file-mtime", "product"}
