# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy: which vendors are disallowed, which are approved per OS family."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Policy:
    disallowed: frozenset[str]
    # os family -> vendor ids; every family of the catalogue is a key, and a family the
    # policy approves nothing for has none: its hosts cannot be compliant, and say why.
    approved: Mapping[str, tuple[str, ...]]
    source: str
    sha256: str  # of the policy as read (file bytes, or canonical JSON of a mapping)

    def as_dict(self) -> dict:
        return {
            "disallowed_vendors": sorted(self.disallowed),
            "approved": {family: list(vendors) for family, vendors in self.approved.items()},
        }


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
        if key not in _KEYS:
            raise PolicyError(source, str(key), f"unknown key (known: {', '.join(_KEYS)})")
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
    return Policy(frozenset(disallowed), approved, source, sha256)
