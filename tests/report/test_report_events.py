"""A remediation's plans and evidence events in words (report/events.py): what the page
and the JUnit text say of each, never JSON nor a Python repr."""

from __future__ import annotations

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.report.events import (
    EVENT_LABELS,
    held_texts,
    label_and_value,
    missing_password_texts,
    plan_sentence,
    removal_steps,
    tell,
    words,
)

KESL = {"vendor": "kaspersky", "product": "kesl", "name": "Kaspersky Endpoint Security"}
AGENT = {"vendor": "kaspersky", "product": "klnagent", "name": "Kaspersky Network Agent"}


@pytest.mark.parametrize(
    ("plan", "sentence"),
    [
        (
            {"install": "clamav", "install_order": "before-removal", "remove": [KESL, AGENT]},
            "install clamav before removing Kaspersky Endpoint Security and Kaspersky Network "
            "Agent",
        ),
        (
            {"install": "microsoft", "install_order": "after-removal", "remove": [KESL]},
            "install microsoft after removing Kaspersky Endpoint Security",
        ),
        (
            {"install": "microsoft", "install_order": "around-removal", "remove": [KESL]},
            "prepare microsoft before removing Kaspersky Endpoint Security, turn it on right after",
        ),
        (
            {"install": "clamav", "install_order": "later", "remove": [KESL]},
            "install clamav (later) and remove Kaspersky Endpoint Security",
        ),
        ({"install": "clamav", "remove": []}, "install clamav"),
        (
            {"install": None, "remove": [{"name": "A"}, {"name": "B"}, {"name": "C"}]},
            "remove A, B and C",
        ),
        # An older plan event named the products it removes by id.
        ({"install": None, "remove": ["kesl", "klnagent"]}, "remove kesl and klnagent"),
        ({}, "nothing to install or remove"),
    ],
)
def test_a_plan_is_one_clause_of_what_it_installs_and_removes_in_order(plan, sentence):
    assert plan_sentence(plan) == sentence


def test_what_a_plan_holds_back_and_the_passwords_it_lacks_are_named():
    plan = {
        "remove": [{**KESL, "product": "kes", "name": "Kaspersky Endpoint Security"}],
        "held": [
            "Kaspersky Security Center (kaspersky/ksc): held, not removed: it manages hosts",
            {"name": "Acme Agent", "hold_reason": "no source confirms it"},
        ],
        "missing_passwords": ["kes", "ghost"],
    }
    assert held_texts(plan) == [
        "Kaspersky Security Center (kaspersky/ksc): held, not removed: it manages hosts",
        "Acme Agent: no source confirms it",
    ]
    assert missing_password_texts(plan) == ["Kaspersky Endpoint Security (kes)", "ghost"]
    assert held_texts({}) == [] and missing_password_texts({"missing_passwords": None}) == []


@pytest.mark.parametrize(
    ("summary", "steps"),
    [
        ("Kaspersky Endpoint Security (kaspersky/kesl): stop kesl; remove", "stop kesl; remove"),
        ("Kaspersky Endpoint Security: delete /opt", "delete /opt"),
        # A summary that does not start with this very product is shown whole.
        ("Other (kaspersky/kesl): stop", "Other (kaspersky/kesl): stop"),
        ("Kaspersky Endpoint Security (x/y): stop", "Kaspersky Endpoint Security (x/y): stop"),
        (None, None),
    ],
)
def test_a_removals_steps_are_the_planners_line_without_the_products_name(summary, steps):
    assert removal_steps({**KESL, "summary": summary}) == steps


@pytest.mark.parametrize(
    ("event", "data", "sentence", "rest"),
    [
        (
            "installed",
            {"vendor": "clamav", "active": ["ClamAV"]},
            "clamav installed; active: ClamAV",
            {},
        ),
        ("installed", {"vendor": "clamav", "active": True}, "clamav installed and active", {}),
        ("installed", {"vendor": "clamav", "active": []}, "clamav installed, not active", {}),
        (
            "installed",
            {"vendor": "microsoft", "deferred": True, "unprotected_seconds": None},
            "microsoft installed; it comes on after the restart",
            {"unprotected_seconds": None},
        ),
        ("installed", {}, "the replacement installed", {}),
        (
            "removed",
            {"products": ["A", "B"], "reboot_required": False},
            "removed A and B",
            {"reboot_required": False},
        ),
        ("removed", {"product": "kesl", "rc": 0}, "removed kesl", {"rc": 0}),
        # Nothing to say: every field is left to the table.
        ("removed", {"products": [], "rc": 1}, None, {"products": [], "rc": 1}),
        (
            "reboot",
            {"state": "pending", "for": "the removal", "policy": "if_required"},
            "reboot pending for the removal (policy: if required)",
            {},
        ),
        ("reboot", {"state": "not-needed"}, "no reboot needed", {}),
        ("reboot", {"for": "the removal"}, None, {"for": "the removal"}),
        (
            "verified",
            {"compliant": True},
            "the scan after remediation finds the host compliant",
            {},
        ),
        (
            "verified",
            {"compliant": False},
            "the scan after remediation finds the host still non-compliant",
            {},
        ),
        (
            "takeover",
            {"run_id": "r-1", "reason": "its process is gone", "pid": 7},
            "took over the host's lock from run r-1: its process is gone",
            {"pid": 7},
        ),
        ("rollback", {"ratio": 0.25}, None, {"ratio": 0.25}),
    ],
)
def test_each_event_kind_has_its_sentence_and_leaves_the_rest_to_a_table(
    event, data, sentence, rest
):
    told = tell(event, data)
    assert (told.sentence, told.rest) == (sentence, rest)
    assert told.label == EVENT_LABELS.get(event, "Rollback")


def test_a_plan_event_says_its_plan_and_leaves_only_keys_nobody_knows():
    told = tell("plan", {"install": "clamav", "remove": [KESL], "held": [], "owner": "desk"})
    assert told.label == "Planned"
    assert told.sentence == "install clamav and remove Kaspersky Endpoint Security"
    assert told.rest == {"owner": "desk"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "none"),
        (True, "yes"),
        ([1, 5, "25%"], "1, 5, 25%"),
        (
            {"RealTimeProtectionEnabled": True, "wait_seconds": 200},
            "RealTimeProtectionEnabled: yes, Wait: 3 min 20 s",
        ),
        (
            [{"name": "kes", "was": "12.6"}, {"name": "defender", "was": None}],
            "(Name: kes, Was: 12.6), (Name: defender, Was: none)",
        ),
        (
            {"installed": [], "services": {"started": ["a"]}},
            "Installed: none, Services: (Started: a)",
        ),
    ],
)
def test_any_value_is_words_never_json_or_a_repr(value, text):
    assert words(value) == text
    assert '{"' not in text and "': " not in text and "[1" not in text


def test_a_duration_field_is_labelled_without_its_unit_and_given_in_one():
    assert label_and_value("unprotected_seconds", 42.3) == ("Unprotected", "42.3 s")
    assert label_and_value("unprotected_seconds", None) == ("Unprotected", None)
    assert label_and_value("rc", 0) == ("Exit code", 0)
    assert label_and_value("reboot_required", True) == ("Reboot required", True)
