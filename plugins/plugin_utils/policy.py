# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy: which vendors are disallowed, which are approved per OS family."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    Catalogue,
    load_catalogue,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import (
    PolicyError,
    describe_type,
    show,
)

DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.yml")
_KEYS = ("disallowed_vendors", "approved")
# Optional: a policy without it asks an approved product only to be active.
_OPTIONAL_KEYS = ("protection",)
PROTECTION_KEYS = ("max_signature_age_days", "require_real_time")


@dataclass(frozen=True)
class ProtectionRule:
    """What "protecting" asks of an active approved product on one OS family."""

    max_signature_age_days: float | None = None  # None: signatures may be of any age
    require_real_time: bool = False

    @property
    def asks_anything(self) -> bool:
        return self.max_signature_age_days is not None or self.require_real_time

    def as_dict(self) -> dict:
        return {
            "max_signature_age_days": self.max_signature_age_days,
            "require_real_time": self.require_real_time,
        }


@dataclass(frozen=True)
class Policy:
    disallowed: frozenset[str]
    # os family -> vendor ids; every family of the catalogue is a key, and a family the
    # policy approves nothing for has none: its hosts cannot be compliant, and say why.
    approved: Mapping[str, tuple[str, ...]]
    source: str
    sha256: str  # of the policy as read (file bytes, or canonical JSON of a mapping)
    # os family -> its rule; a policy without `protection` asks nothing of any family.
    protection: Mapping[str, ProtectionRule] = field(default_factory=dict)

    def protection_for(self, os_family: str) -> ProtectionRule:
        return self.protection.get(os_family) or ProtectionRule()

    def as_dict(self) -> dict:
        result = {
            "disallowed_vendors": sorted(self.disallowed),
            "approved": {family: list(vendors) for family, vendors in self.approved.items()},
        }
        if self.protection:
            result["protection"] = {
                family: rule.as_dict() for family, rule in self.protection.items()
            }
        return result


def load_policy(
    policy: str | os.PathLike | Mapping | None = None,
    catalogue: Catalogue | None = None,
) -> Policy:
    """Read and validate a policy from a file path or a mapping (default: the shipped one)."""
    catalogue = catalogue or load_catalogue()
    if policy is None:
        policy = DEFAULT_POLICY_PATH
    if isinstance(policy, Mapping):
        # JSON, not YAML: Ansible hands over its own tagged dict and list types.
        canonical = json.dumps(policy, sort_keys=True, ensure_ascii=False, default=str).encode()
        return _validate(dict(policy), "policy", hashlib.sha256(canonical).hexdigest(), catalogue)
    path = os.fspath(policy)
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except OSError as exc:
        raise PolicyError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_StrictLoader)  # a SafeLoader
    except UnicodeDecodeError:
        raise PolicyError(path, None, "not UTF-8 text") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else None
        raise PolicyError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(path, None, f"invalid YAML: {exc}") from None
    return _validate(data, path, hashlib.sha256(raw).hexdigest(), catalogue)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice: YAML would keep only the last silently,
    and a policy whose second `disallowed_vendors: []` wins disallows nothing."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _unknown_vendor(vendor: object, known: list[str]) -> str:
    hint = ""
    if isinstance(vendor, str):
        close = difflib.get_close_matches(vendor.lower(), known, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]!r}? "
    return f"unknown vendor {show(vendor)} ({hint}known: {', '.join(known)})"


def _vendor_list(value: object, source: str, key: str, known: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(
            source,
            key,
            f"expected a list of vendor ids, got {describe_type(value)}"
            + ("" if value is None else f" {show(value)}"),
        )
    for position, vendor in enumerate(value):
        if vendor not in known:
            raise PolicyError(source, f"{key}[{position}]", _unknown_vendor(vendor, known))
    return tuple(dict.fromkeys(value))


def _validate(data: object, source: str, sha256: str, catalogue: Catalogue) -> Policy:
    if data is None:
        raise PolicyError(source, None, "the policy is empty")
    if not isinstance(data, dict):
        raise PolicyError(source, None, f"expected a mapping, got {describe_type(data)}")
    for key in data:
        if key not in _KEYS + _OPTIONAL_KEYS:
            known_keys = _KEYS + _OPTIONAL_KEYS
            close = difflib.get_close_matches(str(key), known_keys, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise PolicyError(
                source, str(key), f"unknown key ({hint}known: {', '.join(known_keys)})"
            )
    known = sorted(catalogue.vendors)
    for key in _KEYS:
        if key not in data:
            raise PolicyError(source, key, "missing")
    disallowed = _vendor_list(data["disallowed_vendors"], source, "disallowed_vendors", known)
    approved_spec = data["approved"]
    if not isinstance(approved_spec, dict):
        raise PolicyError(
            source,
            "approved",
            f"expected a mapping of OS family to vendor ids, got {describe_type(approved_spec)}",
        )
    families = catalogue.os_families
    for family in approved_spec:
        if family not in families:
            raise PolicyError(
                source, f"approved.{family}", f"unknown OS family (known: {', '.join(families)})"
            )
    approved: dict[str, tuple[str, ...]] = {}
    # A family the policy leaves out approves nothing: valid (a new family must not
    # invalidate every policy written before it), and reported on each of its hosts.
    for family in families:
        key = f"approved.{family}"
        vendors = _vendor_list(approved_spec.get(family, []), source, key, known)
        for position, vendor in enumerate(vendors):
            if vendor in disallowed:
                raise PolicyError(
                    source, f"{key}[{position}]", f"{show(vendor)} is also in disallowed_vendors"
                )
            if vendor not in catalogue.vendors_for(family):
                raise PolicyError(
                    source, f"{key}[{position}]", f"{show(vendor)} has no product for {family}"
                )
        approved[family] = vendors
    protection = _protection(data["protection"], source, families) if "protection" in data else {}
    return Policy(frozenset(disallowed), approved, source, sha256, protection)


def _per_family(value: object, source: str, key: str, families, check) -> dict:
    """A value for every family, or a mapping of family to value (families left out get
    the rule's neutral value from check(None))."""
    if isinstance(value, dict):
        for family in value:
            if family not in families:
                raise PolicyError(
                    source, f"{key}.{family}", f"unknown OS family (known: {', '.join(families)})"
                )
        return {family: check(value.get(family), f"{key}.{family}") for family in families}
    return {family: check(value, key) for family in families}


def _protection(spec: object, source: str, families) -> dict[str, ProtectionRule]:
    if not isinstance(spec, dict):
        raise PolicyError(
            source, "protection", f"expected a mapping of rules, got {describe_type(spec)}"
        )
    for key in spec:
        if key not in PROTECTION_KEYS:
            close = difflib.get_close_matches(str(key), PROTECTION_KEYS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise PolicyError(
                source,
                f"protection.{key}",
                f"unknown key ({hint}known: {', '.join(PROTECTION_KEYS)})",
            )

    def age(value: object, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise PolicyError(
                source,
                where,
                f"expected a number of days above 0, got {describe_type(value)} {show(value)}",
            )
        return float(value)

    def flag(value: object, where: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise PolicyError(
                source,
                where,
                f"expected true or false, got {describe_type(value)} {show(value)}",
            )
        return value

    ages = _per_family(
        spec.get("max_signature_age_days"),
        source,
        "protection.max_signature_age_days",
        families,
        age,
    )
    real_time = _per_family(
        spec.get("require_real_time"), source, "protection.require_real_time", families, flag
    )
    return {family: ProtectionRule(ages[family], real_time[family]) for family in families}
