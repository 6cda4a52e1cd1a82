"""The shipped policy without its protection rules.

For the tests of what makes a product present and active: an inventory written by hand
for those rules carries no signature times, and the shipped policy's protection rules
(tested on their own in tests/unit/test_protection.py) would make every approved
product in it "not protecting". Everything else is the shipped policy's.
"""

from __future__ import annotations

import yaml

from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import (
    DEFAULT_POLICY_PATH,
    load_policy,
)

_SHIPPED = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
ACTIVITY_POLICY = load_policy(
    {key: value for key, value in _SHIPPED.items() if key != "protection"}
)


def activity_policy_file(directory) -> str:
    """ACTIVITY_POLICY as a policy file in directory, for the commands' --policy."""
    path = directory / "activity-policy.yml"
    path.write_text(
        yaml.safe_dump({key: value for key, value in _SHIPPED.items() if key != "protection"}),
        encoding="utf-8",
    )
    return str(path)
