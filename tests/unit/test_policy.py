"""Policy validation: every problem is a short error naming the file, the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import load_catalogue
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import PolicyError
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import (
    DEFAULT_POLICY_PATH,
    load_policy,
)

POLICIES = Path(__file__).resolve().parents[1] / "data" / "policies"
INVALID = POLICIES / "invalid"
CATALOGUE = load_catalogue()


def test_shipped_policy_disallows_kaspersky_and_approves_clamav_and_defender():
    policy = load_policy()
    assert policy.source == str(DEFAULT_POLICY_PATH)
    assert policy.disallowed == {"kaspersky"}
    assert dict(policy.approved) == {"linux": ("clamav",), "windows": ("microsoft",)}


def test_policy_file_with_more_disallowed_vendors():
    policy = load_policy(POLICIES / "strict.yml")
    assert policy.disallowed == {"kaspersky", "drweb", "crowdstrike"}
    assert dict(policy.approved) == {"linux": ("clamav", "microsoft"), "windows": ("microsoft",)}


@pytest.mark.parametrize(
    ("name", "family"),
    [("approves_nothing_for_linux.yml", "linux"), ("no_windows_family.yml", "windows")],
)
def test_a_family_the_policy_approves_nothing_for_is_valid_and_empty(name, family):
    policy = load_policy(POLICIES / name)
    assert policy.approved[family] == ()
    assert set(policy.approved) == set(CATALOGUE.os_families)


def test_empty_disallowed_list_is_valid():
    assert load_policy(POLICIES / "nothing_disallowed.yml").disallowed == frozenset()


def test_policy_from_a_mapping_equals_the_same_policy_from_a_file():
    from_file = load_policy(POLICIES / "strict.yml")
    from_mapping = load_policy(
        {
            "disallowed_vendors": ["kaspersky", "drweb", "crowdstrike"],
            "approved": {"linux": ["clamav", "microsoft"], "windows": ["microsoft"]},
        }
    )
    assert from_mapping.as_dict() == from_file.as_dict()


def _approved_without(vendor: str) -> dict:
    """One approved vendor per OS family that has a product there and is not `vendor`."""
    approved = {}
    for family in ("linux", "windows"):
        candidates = sorted(CATALOGUE.vendors_for(family) - {vendor})
        approved[family] = [candidates[0]]
    return approved


@pytest.mark.parametrize("vendor", sorted(CATALOGUE.vendors))
def test_any_catalogued_vendor_may_be_disallowed(vendor):
    policy = load_policy({"disallowed_vendors": [vendor], "approved": _approved_without(vendor)})
    assert policy.disallowed == {vendor}


# (file, field the error must name, fragments the message must contain)
INVALID_CASES = [
    ("unknown_key.yml", "exceptions", ["unknown key"]),
    ("unknown_vendor.yml", "disallowed_vendors[1]", ["'kasperksy'", "did you mean 'kaspersky'"]),
    ("uppercase_vendor.yml", "approved.windows[0]", ["'Microsoft'", "did you mean 'microsoft'"]),
    ("disallowed_and_approved.yml", None, ["'microsoft'", "disallowed_vendors"]),
    ("string_not_list.yml", "disallowed_vendors", ["a list", "a string", "'kaspersky'"]),
    ("approved_string.yml", "approved.linux", ["a list", "a string", "'clamav'"]),
    ("no_product_for_family.yml", "approved.windows[0]", ["'clamav'", "windows"]),
    ("unknown_os_family.yml", "approved.macos", ["unknown OS family"]),
    ("syntax_error.yml", "line 8", ["invalid YAML"]),
    ("missing_disallowed.yml", "disallowed_vendors", ["missing"]),
]


@pytest.mark.parametrize(("name", "field", "fragments"), INVALID_CASES)
def test_invalid_policy_file_is_a_short_precise_error(name, field, fragments):
    path = INVALID / name
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    message = str(error)
    assert error.source == str(path)
    assert message.startswith(f"{path}: ")
    if field is None:
        # Both sides of the conflict are legitimate places to report it.
        assert error.field in ("approved.windows[0]", "disallowed_vendors[1]")
    else:
        assert error.field == field
        assert f": {field}: " in message
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    assert len(message) < 400


def test_unknown_vendor_error_lists_every_known_vendor():
    with pytest.raises(PolicyError) as caught:
        load_policy(INVALID / "unknown_vendor.yml")
    for vendor in CATALOGUE.vendors:
        assert vendor in caught.value.message


def test_unknown_vendor_without_a_close_match_gets_no_suggestion():
    with pytest.raises(PolicyError) as caught:
        load_policy(
            {
                "disallowed_vendors": ["avast"],
                "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
            }
        )
    assert caught.value.field == "disallowed_vendors[0]"
    assert "'avast'" in caught.value.message
    assert "did you mean" not in caught.value.message


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (
            {
                "disallowed_vendors": [1],
                "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
            },
            "disallowed_vendors[0]",
        ),
        (
            {
                "disallowed_vendors": [" kaspersky"],
                "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
            },
            "disallowed_vendors[0]",
        ),
        (
            {
                "disallowed_vendors": None,
                "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
            },
            "disallowed_vendors",
        ),
        ({"disallowed_vendors": [], "approved": ["clamav", "microsoft"]}, "approved"),
        (
            {"disallowed_vendors": [], "approved": {"linux": ["clamav"], "windows": None}},
            "approved.windows",
        ),
        (
            {
                "disallowed_vendors": [],
                "approved": {"linux": ["clamav"], "windows": ["microsoft", "clamav"]},
            },
            "approved.windows[1]",
        ),
    ],
)
def test_invalid_policy_mapping_names_the_key(policy, field):
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    assert caught.value.field == field
    assert caught.value.source == "policy"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- kaspersky\n", "kaspersky\n"])
def test_policy_that_is_not_a_mapping_is_refused(tmp_path, text):
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.source == str(path)


def test_missing_policy_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "absent.yml"
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)


def test_a_policy_is_known_by_its_content_whatever_the_order_of_its_keys():
    one = load_policy(
        {"disallowed_vendors": ["kaspersky"], "approved": {"linux": ["clamav"], "windows": []}}
    )
    other = load_policy(
        {"approved": {"windows": [], "linux": ["clamav"]}, "disallowed_vendors": ["kaspersky"]}
    )
    assert one.sha256 == other.sha256
    different = load_policy(
        {"disallowed_vendors": ["drweb"], "approved": {"linux": ["clamav"], "windows": []}}
    )
    assert different.sha256 != one.sha256


def test_a_loaded_policy_cannot_be_changed_by_its_readers():
    policy = load_policy()
    with pytest.raises(AttributeError):
        policy.source = "elsewhere"


def test_a_policy_file_that_is_not_yaml_is_a_short_error(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("disallowed_vendors: [kaspersky\napproved: {")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(path) in str(caught.value) and "YAML" in str(caught.value)


def test_an_unknown_vendor_gets_the_closest_known_one_only():
    with pytest.raises(PolicyError) as caught:
        load_policy({"disallowed_vendors": ["pangolto"], "approved": {}})
    assert "did you mean 'pango'? " in caught.value.message
    assert "did you mean 'paloalto'" not in caught.value.message


def test_a_policy_file_with_characters_yaml_refuses_is_a_short_error(tmp_path):
    path = tmp_path / "bell.yml"
    path.write_text("disallowed_vendors: [kaspersky]\x07\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert "invalid YAML" in str(caught.value) and "#x0007" in str(caught.value)
