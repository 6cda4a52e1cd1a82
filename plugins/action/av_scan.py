# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""av_scan: run the host's collector once, classify its inventory on the controller."""

from __future__ import annotations

import time
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.avshift.remediation.plugins.plugin_utils import host_family
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    load_catalogue,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InputError
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy

COLLECTOR = "avshift.remediation.av_scan"
ARGUMENT_SPEC = {
    "policy": {"type": "raw"},
    "return_inventory": {"type": "bool", "default": False},
}


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _policy(self, spec, catalogue):
        if spec is None or isinstance(spec, Mapping):
            return load_policy(spec, catalogue)
        if not isinstance(spec, str):
            raise AnsibleActionFail("policy: expected a path or a mapping")
        return load_policy(self._find_needle("files", spec), catalogue)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        started = time.monotonic()
        try:
            catalogue = load_catalogue()
            policy = self._policy(args["policy"], catalogue)
        except InputError as exc:
            raise AnsibleActionFail(f"invalid policy: {exc}") from None

        # Families reached through the same shell share a collector, which says which
        # of them the host is.
        families = host_family.families_of(self, catalogue)
        collected = host_family.execute(
            self,
            COLLECTOR,
            families[0],
            {"paths": catalogue.signatures[families[0].id].path_list},
            task_vars,
        )
        result["warnings"] = list(result.get("warnings", [])) + list(
            collected.get("warnings") or []
        )
        if collected.get("failed") or collected.get("unreachable"):
            collected.setdefault("msg", "the av_scan collector failed")
            collected.pop("inventory", None)
            result.update(collected)
            result["failed"] = not collected.get("unreachable")
            return result

        host = (task_vars or {}).get("inventory_hostname")
        inventory = collected.get("inventory")
        try:
            verdict = classify(inventory, policy, catalogue, source=f"av_scan inventory of {host}")
        except InputError as exc:
            # Never let a malformed answer pass for a clean host.
            raise AnsibleActionFail(
                f"the collector returned an unusable inventory: {exc}"
            ) from None
        if verdict["os_family"] not in [family.id for family in families]:
            raise AnsibleActionFail(
                f"the collector reported os_family {verdict['os_family']!r} "
                f"on a {families[0].id} connection"
            )
        verdict["host"] = host or verdict["host"]
        verdict["scan_seconds"] = round(time.monotonic() - started, 3)
        verdict["policy"] = {"source": policy.source, "sha256": policy.sha256, **policy.as_dict()}
        result.update(verdict)
        result["changed"] = False
        result["ansible_facts"] = {"avshift_scan": verdict}
        if args["return_inventory"]:
            result["inventory"] = inventory
        return result
