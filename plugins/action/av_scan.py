# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""av_scan: run the host's collector once, classify its inventory on the controller."""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic as ansible_module_basic
from ansible.module_utils.ansible_release import __version__ as ansible_core_version
from ansible.plugins.action import ActionBase

from ansible_collections.avshift.remediation.plugins.plugin_utils import (
    contract,
    host_family,
    old_names,
)
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
    "fail_when_non_compliant": {"type": "bool", "default": False},
    "take_old_names": {"type": "bool", "default": False},
}

# ansible-playbook's strategy imports this plugin in its own process, then forks a worker
# for each host's task: read the shipped catalogue here, once (load_catalogue keeps it),
# and every worker inherits it parsed instead of parsing its 140 KB of YAML again, 0.18 s
# of controller CPU a host on the 2-core test machine. One that cannot be read fails each
# scan in run(), with its message, as before.
with contextlib.suppress(InputError):
    load_catalogue()


def _dotted(version) -> str:
    return ".".join(str(part) for part in version)


def host_python_floor() -> tuple[int, ...]:
    """The oldest host Python a scan can run on under this controller's ansible-core: the
    collector's own floor, or ansible-core's for its module wrapper where that is newer
    (a version tuple from 2.17; 2.16 still runs modules on Python 2.7)."""
    core = getattr(ansible_module_basic, "_PY_MIN", None)
    return max(contract.COLLECTOR_PYTHON_FLOOR, core if isinstance(core, tuple) else ())


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _policy(self, spec, catalogue):
        if spec is None or isinstance(spec, Mapping):
            return load_policy(spec, catalogue)
        if not isinstance(spec, str):
            raise AnsibleActionFail("policy: expected a path or a mapping")
        return load_policy(self._find_needle("files", spec), catalogue)

    def _take_old_names(self, args, task_vars, result) -> dict:
        """The calling role's variables are this action's options under its prefix
        (avshift_audit_policy gives policy): values set under their names before 0.2.0
        replace the options their new names gave with the role's defaults, with a warning.
        Here rather than in a task of the role: every task costs every host a worker
        process of the controller, and the audit runs on whole fleets."""
        prefix = old_names.role_prefix(self._task)
        if prefix is None:
            raise AnsibleActionFail("take_old_names: call av_scan from a role")
        # The role's own variables, each of them one of these options under its prefix
        # (tests/packaging/test_renamed_variables.py).
        found = old_names.find(self._task, self._templar, task_vars)
        if found.renamed:
            result["deprecations"] = found.deprecations()
        # Checked against the role's argument spec, whose types are this action's.
        taken = {new[len(prefix) :]: value for new, value in found.values.items()}
        return {**args, **{key: value for key, value in taken.items() if value is not None}}

    def _interpreter(self, task_vars) -> str:
        discovered = getattr(self, "_discovered_interpreter", None)
        if isinstance(discovered, str) and discovered:
            return discovered
        configured = (task_vars or {}).get("ansible_python_interpreter")
        if isinstance(configured, str) and configured:
            return str(self._templar.template(configured))
        return "the host's Python"

    def _no_collector_python(self, collected, floor, task_vars) -> str | None:
        """One line for a host whose Python cannot even start the collector, instead of
        ansible-core's raw module failure: missing, or too old for ansible-core's own
        module wrapper. None for any other failure."""
        needed = f"Python {_dotted(floor)} or newer (ansible-core {ansible_core_version})"
        interpreter = self._interpreter(task_vars)
        message = str(collected.get("msg"))
        if "module_stderr" in collected and (
            collected.get("rc") == 127 or "was not found" in message
        ):
            return (
                f"no Python at {interpreter} on this host: the collector needs {needed}; "
                "install it, or set ansible_python_interpreter to it"
            )
        # ansible-core's wrapper cannot even be parsed by that Python, or ansible-core's
        # own version check refused it (a message that names no interpreter).
        if "SyntaxError" in str(collected.get("module_stderr", "")) or message.startswith(
            "Ansible requires Python"
        ):
            return (
                f"{interpreter} on this host is too old: the collector needs {needed}; "
                "install it, or set ansible_python_interpreter to it"
            )
        return None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        if args["take_old_names"]:
            args = self._take_old_names(args, task_vars or {}, result)
        started = time.monotonic()
        try:
            catalogue = load_catalogue()
            policy = self._policy(args["policy"], catalogue)
        except InputError as exc:
            raise AnsibleActionFail(f"invalid policy: {exc}") from None

        # Families reached through the same shell share a collector, which says which
        # of them the host is.
        families = host_family.families_of(self, catalogue)
        module_args = {"paths": catalogue.signatures[families[0].id].path_list}
        floor = host_python_floor()
        if families[0].module_suffix == ".py":
            module_args["python_floor"] = list(floor)
            # How to read each product's signature time and real-time protection: the
            # catalogue says; Windows reads Defender's from its own status part.
            module_args["protection"] = catalogue.protection_probes(families[0].id)
            module_args["unit_file_patterns"] = catalogue.unit_file_patterns(families[0].id)
        collected = host_family.execute(self, COLLECTOR, families[0], module_args, task_vars)
        result["warnings"] = list(result.get("warnings", [])) + list(
            collected.get("warnings") or []
        )
        if collected.get("failed") or collected.get("unreachable"):
            collected.setdefault("msg", "the av_scan collector failed")
            no_python = self._no_collector_python(collected, floor, task_vars)
            if no_python:
                collected["msg"] = no_python
            collected.pop("inventory", None)
            result.update(collected)
            result["failed"] = not collected.get("unreachable")
            return result

        host = (task_vars or {}).get("inventory_hostname")
        inventory = collected.get("inventory")
        try:
            verdict = classify(
                inventory,
                policy,
                catalogue,
                source=f"av_scan inventory of {host}",
                # The controller's clock as the answer came back: vendor-dated signature
                # ages, and the host's clock skew.
                now=datetime.datetime.now(datetime.timezone.utc),
            )
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
        if args["fail_when_non_compliant"] and not verdict["compliant"]:
            # Ansible sets no facts from a failed task: the verdict is in the result.
            result["failed"] = True
            result["msg"] = f"{verdict['host']} is not compliant: {'; '.join(verdict['reasons'])}"
        return result
