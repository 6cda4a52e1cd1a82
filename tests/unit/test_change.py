"""Change management rules: change id, window, batches, max-fail, reboot policy."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils import change

UTC = datetime.timezone.utc
WINDOW = "2026-12-01T22:00+01:00/2026-12-02T04:00+01:00"


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize("change_id", ["CHG0012345", "CHG-42", "RFC7"])
def test_change_ids_of_the_default_pattern(change_id):
    assert change.check_change_id(change_id) == change_id


@pytest.mark.parametrize(
    ("change_id", "message"),
    [
        (None, "required"),
        ("", "required"),
        ("   ", "required"),
        ("chg001", "does not match"),
        ("CHG001; rm -rf /", "does not match"),
        (12345, "expected text"),
    ],
)
def test_bad_change_ids_are_refused(change_id, message):
    with pytest.raises(change.ChangeRefused, match=message):
        change.check_change_id(change_id)


def test_a_site_pattern_replaces_the_default():
    assert change.check_change_id("INC-2026-0007", r"^INC-\d{4}-\d{4}$") == "INC-2026-0007"
    with pytest.raises(change.ChangeRefused, match="invalid"):
        change.check_change_id("X1", "([")


def test_window_state_respects_offsets():
    window = change.parse_window(WINDOW)
    # 22:00+01:00 is 21:00 UTC.
    assert window.state(at("2026-12-01T20:59:59+00:00")) == "not-open"
    assert window.state(at("2026-12-01T21:00:00+00:00")) == "open"
    assert window.state(at("2026-12-02T02:59:59+00:00")) == "open"
    assert window.state(at("2026-12-02T03:00:00+00:00")) == "closed"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-12-01T22:00/2026-12-02T04:00", "needs a UTC offset"),
        ("2026-12-01T22:00+01:00", "expected START/END"),
        ("tomorrow/2026-12-02T04:00Z", "not an ISO 8601"),
        ("2026-12-02T04:00Z/2026-12-01T22:00Z", "ends before it starts"),
        # No window at all: it would be closed the moment it opened.
        ("2026-12-01T22:00Z/2026-12-01T23:00+01:00", "ends before it starts"),
        ("2026-12-01T22:00Z/2026-12-02T01:00Z/2026-12-02T04:00Z", "expected START/END"),
        (None, "expected START/END"),
    ],
)
def test_bad_windows_are_refused(text, message):
    with pytest.raises(change.ChangeRefused, match=message):
        change.parse_window(text)


def test_refuse_outside_says_when_the_window_opens_or_closed():
    window = change.parse_window(WINDOW)
    with pytest.raises(change.ChangeRefused, match="opens at 2026-12-01T22:00:00"):
        change.refuse_outside(window, at("2026-12-01T12:00:00+00:00"))
    with pytest.raises(change.ChangeRefused, match="closed at 2026-12-02T04:00:00"):
        change.refuse_outside(window, at("2026-12-02T12:00:00+00:00"))
    change.refuse_outside(window, at("2026-12-01T23:00:00+00:00"))  # open: no refusal


@pytest.mark.parametrize(
    ("spec", "serial"),
    [("5", [5]), ("10%", ["10%"]), ("1,5,25%", [1, 5, "25%"]), (3, [3]), ("100%", ["100%"])],
)
def test_batches(spec, serial):
    assert change.parse_batch(spec) == serial


@pytest.mark.parametrize("spec", ["0", "-1", "101%", "0%", "ten", "", "1,,2", None])
def test_bad_batches(spec):
    with pytest.raises(change.ChangeRefused, match="batch"):
        change.parse_batch(spec)


@pytest.mark.parametrize(("value", "expected"), [(0, 0), ("10", 10), ("25%", 25), (100, 100)])
def test_max_fail(value, expected):
    assert change.check_max_fail(value) == expected


@pytest.mark.parametrize("value", [-1, 101, "x", True, None, 1.5, 5.0, [5], "²", "\uff150", "+5"])
def test_bad_max_fail(value):
    with pytest.raises(change.ChangeRefused, match="percentage"):
        change.check_max_fail(value)


def test_reboot_policies():
    assert [change.check_reboot(p) for p in change.REBOOT_POLICIES] == list(change.REBOOT_POLICIES)
    with pytest.raises(change.ChangeRefused, match="never, if_required, always"):
        change.check_reboot("sometimes")


def test_batch_ramps_in_list_form_as_ansible_serial_takes_them():
    assert change.parse_batch([1, "10%"]) == [1, "10%"]
    with pytest.raises(change.ChangeRefused):
        change.parse_batch([0])


def test_a_window_cannot_be_changed_once_parsed():
    window = change.parse_window(WINDOW)
    with pytest.raises(AttributeError):
        window.end = window.start


def test_the_clock_is_the_wall_clock_unless_a_clock_file_is_given(tmp_path, monkeypatch):
    monkeypatch.delenv(change.CLOCK_ENVIRONMENT, raising=False)
    before = datetime.datetime.now(UTC)
    now = change.now_utc()
    assert before <= now <= datetime.datetime.now(UTC) and now.tzinfo is not None
    clock = tmp_path / "clock"
    clock.write_text("2026-12-02T03:30:00+01:00\n")
    monkeypatch.setenv(change.CLOCK_ENVIRONMENT, str(clock))
    assert change.now_utc() == at("2026-12-02T02:30:00+00:00")
    assert change.now_utc().utcoffset() == datetime.timedelta(0)


def test_a_timestamp_without_an_offset_stays_naive_for_the_window_to_refuse():
    assert change.parse_timestamp("2026-12-01T22:00").tzinfo is None
    # The last ones Python 3.10's fromisoformat alone reads: refused on every Python.
    for text in (
        "",
        "Z",
        "2026-12-01T22:00ZZ",
        "2026-12-01T22:00X+01:00",
        "2026-12-01T22:00Z+00:00",
    ):
        with pytest.raises(ValueError):
            change.parse_timestamp(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Z means UTC, also where fromisoformat refuses it (Python 3.10).
        ("2026-12-01T22:00Z", "2026-12-01T22:00:00+00:00"),
        ("2026-12-01 22:00z", "2026-12-01T22:00:00+00:00"),
        (" 2026-12-01T22:00:00Z\n", "2026-12-01T22:00:00+00:00"),
        ("2026-12-01T22:00+00:00", "2026-12-01T22:00:00+00:00"),
        ("2026-12-01T22:00:30+01:00", "2026-12-01T22:00:30+01:00"),
        ("2026-12-01T22:00:30.250000-05:00", "2026-12-01T22:00:30.250000-05:00"),
    ],
)
def test_a_timestamp_reads_alike_on_every_controller_python(text, expected):
    assert change.parse_timestamp(text).isoformat() == expected


def test_a_dry_run_of_a_closed_window_is_refused_of_one_to_come_or_open_not():
    window = change.parse_window("2026-12-01T22:00+01:00/2026-12-02T04:00+01:00")
    for now in ("2026-12-01T12:00+00:00", "2026-12-01T23:00+00:00"):  # before it opens, inside
        change.refuse_closed_for_dry_run(window, at(now))
    with pytest.raises(change.ChangeRefused, match=r"it closed at 2026-12-02T04:00:00\+01:00"):
        change.refuse_closed_for_dry_run(window, at("2026-12-02T03:00:00+00:00"))


def test_a_window_longer_than_a_day_or_the_given_hours_is_warned_about():
    day = change.parse_window("2026-12-01T22:00Z/2026-12-02T22:00Z")
    assert change.window_warnings(day) == []
    night = change.parse_window("2026-12-01T22:00Z/2026-12-02T04:00Z")
    assert change.window_warnings(night) == []
    a_little_over = change.parse_window("2026-12-01T22:00Z/2026-12-02T22:30Z")
    assert change.window_warnings(a_little_over) == [
        "the window is 24.5 h long, over 24 h: check its dates"
    ]
    ten_days = change.parse_window("2026-12-01T22:00Z/2026-12-11T22:00Z")
    assert change.window_warnings(ten_days) == [
        "the window is 240 h long, over 24 h: check its dates"
    ]
    assert change.window_warnings(day, longest_hours=6) == [
        "the window is 24 h long, over 6 h: check its dates"
    ]
