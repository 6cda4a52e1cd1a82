"""The evidence action keeps each typed field in its type whatever ansible-core rendered
it: before 2.19 a template's number or none arrives as text."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.avshift.remediation.plugins.action.evidence import typed_data


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        # As ansible-core 2.16 renders them, and as 2.19+ do.
        ({"unprotected_seconds": "7.3"}, {"unprotected_seconds": 7.3}),
        ({"unprotected_seconds": 7.3}, {"unprotected_seconds": 7.3}),
        ({"unprotected_seconds": 12}, {"unprotected_seconds": 12.0}),
        ({"unprotected_seconds": ""}, {"unprotected_seconds": None}),
        ({"unprotected_seconds": None}, {"unprotected_seconds": None}),
        ({"active": ""}, {"active": None}),
        ({"active": "True", "deferred": "false"}, {"active": True, "deferred": False}),
        ({"active": ["defender_antivirus"]}, {"active": ["defender_antivirus"]}),
        (
            {"compliant": True, "reboot_required": False},
            {"compliant": True, "reboot_required": False},
        ),
        # Untyped fields are left as they came.
        ({"vendor": "microsoft", "state": "7"}, {"vendor": "microsoft", "state": "7"}),
    ],
)
def test_typed_fields_keep_their_type_whatever_rendered_them(given, kept):
    assert typed_data(given) == kept
    for field, value in typed_data(given).items():
        assert type(value) is type(kept[field])


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"unprotected_seconds": "soon"},
            "data.unprotected_seconds: expected a number of seconds, got 'soon'",
        ),
        (
            {"unprotected_seconds": True},
            "data.unprotected_seconds: expected a number of seconds, got True",
        ),
        ({"compliant": "yes please"}, "data.compliant: expected true or false, got 'yes please'"),
        ({"deferred": 1}, "data.deferred: expected true or false, got 1"),
    ],
)
def test_a_typed_field_that_holds_something_else_fails_the_task_naming_it(given, message):
    with pytest.raises(AnsibleActionFail) as caught:
        typed_data(given)
    assert str(caught.value) == message
