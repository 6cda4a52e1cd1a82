"""A key given twice in a policy file is refused: YAML would silently keep the last."""

from __future__ import annotations

import pytest

from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import PolicyError
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy


def test_duplicate_key_is_refused_with_its_line(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "disallowed_vendors: [kaspersky]\n"
        "approved: {linux: [clamav], windows: [microsoft]}\n"
        "disallowed_vendors: []\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    assert (
        str(caught.value) == f"{policy}: line 3: invalid YAML: duplicate key 'disallowed_vendors'"
    )


def test_null_os_family_says_null_once(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text("disallowed_vendors: [kaspersky]\napproved: {linux: [clamav], windows:}\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    assert str(caught.value).endswith("approved.windows: expected a list of vendor ids, got null")
