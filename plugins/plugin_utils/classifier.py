# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The classifier: raw inventory + policy + catalogue -> the verdict for one host.

Pure Python on the controller; it never touches a host. It validates the raw inventory
(the collectors' contract) in the same pass that matches it, because checking and
matching a name cost about the same as reading it.
"""

from __future__ import annotations

import datetime

from ansible_collections.avshift.remediation.plugins.module_utils import inventory_schema
from ansible_collections.avshift.remediation.plugins.plugin_utils import defender, protection
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    EVIDENCE_KINDS,
    Catalogue,
    Product,
    Signatures,
    fold_publisher,
    load_catalogue,
    normalize,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import (
    InventoryError,
    describe_type,
    show,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import (
    Policy,
    load_policy,
)

INVENTORY_SCHEMA = inventory_schema.SCHEMA_VERSION
SERVICE_STATES = frozenset(inventory_schema.SERVICE_STATES)
KINDS = tuple(inventory_schema.KINDS)

# Per kind, from the schema: the field that names an entry, and (field, type) of the rest.
_NAME_FIELD = {kind: spec["name_field"] for kind, spec in inventory_schema.KINDS.items()}
_FIELDS = {
    kind: tuple((name, field_type) for name, (field_type, _families) in spec["fields"].items())
    for kind, spec in inventory_schema.KINDS.items()
}
_REQUIRED = {
    kind: frozenset(spec.get("required", ())) for kind, spec in inventory_schema.KINDS.items()
}
_TYPE_CHECKS = {
    "string": (lambda value: isinstance(value, str), "a string or null"),
    "boolean": (lambda value: isinstance(value, bool), "true, false or null"),
}
# Security Center productState: bits 0xF000 hold the state, 0x1000 meaning "on".
_STATE_MASK = 0xF000
_STATE_ON = 0x1000
UNKNOWN_VENDOR = "unknown"


def security_center_on(product_state: int | str, source: str = "inventory", field="") -> bool:
    """Decode a Security Center productState (an integer or a numeric string)."""
    if isinstance(product_state, bool) or not isinstance(product_state, int | str):
        raise InventoryError(
            source,
            field,
            f"expected an integer or a numeric string, got {describe_type(product_state)}",
        )
    if isinstance(product_state, str):
        text = product_state.strip()
        try:
            product_state = int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            raise InventoryError(source, field, f"not a number: {show(text)}") from None
    return product_state & _STATE_MASK == _STATE_ON


class _Finding:
    __slots__ = (
        "active",
        "evidence",
        "inactive_because",
        "name",
        "observed",
        "product",
        "seen",
        "status_part",
        "vendor",
    )

    def __init__(self, vendor: str, product: str, name: str):
        self.vendor = vendor
        self.product = product
        self.name = name
        self.evidence: list[dict] = []
        self.seen: set[tuple[str, str]] = set()
        self.active = False
        self.inactive_because: list[str] = []
        # For a product whose activity a status part decides: kind -> running or not,
        # per entry seen (its services, its Security Center entries).
        self.status_part: str | None = None
        self.observed: dict[str, list[bool]] = {}

    def add(self, kind: str, value: str) -> None:
        if (kind, value) not in self.seen:
            self.seen.add((kind, value))
            self.evidence.append({"kind": kind, "value": value})

    def as_dict(self, with_active: bool) -> dict:
        result = {
            "vendor": self.vendor,
            "product": self.product,
            "name": self.name,
            "evidence": self.evidence,
        }
        if with_active:
            result["active"] = self.active
            if not self.active and self.inactive_because:
                result["inactive_because"] = list(self.inactive_because)
        return result

    def decide_by_status(
        self, status: object, server: object, source: str, centre_running: bool = True
    ) -> None:
        """Activity from the status part (only Defender's so far, plugin_utils/defender.py),
        over the running-service rule."""
        part = self.status_part
        if status is not None and not isinstance(status, dict):
            raise InventoryError(source, part, f"expected an object, got {describe_type(status)}")
        if status is not None:
            policies = status.get("disabled_by_policy")
            if policies is not None and (
                not isinstance(policies, list) or not all(isinstance(p, str) for p in policies)
            ):
                raise InventoryError(
                    source, f"{part}.disabled_by_policy", "expected a list of strings"
                )
        service_running = any(self.observed.get("services", ()))
        server = server if isinstance(server, bool) else None
        active, why = defender.protection(status, server, service_running)
        # With the Security Center service (wscsvc) stopped, its states say nothing:
        # "If the WSC service is not running, the health is always POOR"
        # (WscGetSecurityProviderHealth, Microsoft Learn).
        centre = self.observed.get("security_center") if centre_running else None
        if status is None and active and centre and not any(centre):
            # No Defender status (an older collector, an inventory from another tool):
            # where Security Center lists Defender, it must say on as well.
            active, why = False, ["Security Center says it is off"]
        self.active, self.inactive_because = active, why


class _Classification:
    """Findings of one host, keyed by (vendor, product) or (vendor, "other", name)."""

    def __init__(self, signatures: Signatures, source: str):
        self.signatures = signatures
        self.source = source
        self.findings: dict[tuple, _Finding] = {}

    def finding(self, key: tuple, vendor: str, product: str, name: str) -> _Finding:
        found = self.findings.get(key)
        if found is None:
            found = self.findings[key] = _Finding(vendor, product, name)
        return found

    def for_product(
        self, candidates: list[Product], name: str, shared: bool
    ) -> tuple[_Finding, Product]:
        # A shared service, process or driver (Kaspersky's AVP) belongs to the product
        # whose package is on the host, else to the first listed. A display name always
        # goes to its most specific match.
        if shared:
            for product in candidates:
                key = (product.vendor, product.id)
                if key in self.findings:
                    return self.findings[key], product
        product = candidates[0]
        return self.finding((product.vendor, product.id), product.vendor, product.id, name), product

    def read(self, kind: str, entries: object) -> None:
        if entries is None:
            return
        source = self.source
        if not isinstance(entries, list):
            raise InventoryError(source, kind, f"expected a list, got {describe_type(entries)}")
        index = self.signatures.indexes[kind]
        by_publisher = self.signatures.publisher_indexes.get(kind)
        name_field = _NAME_FIELD[kind]
        fields = _FIELDS[kind]
        evidence_kind = EVIDENCE_KINDS[kind]
        publishers = self.signatures.publishers
        shared_names = kind in ("services", "processes", "drivers")
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise InventoryError(
                    source, f"{kind}[{position}]", f"expected an object, got {describe_type(entry)}"
                )
            name = entry.get(name_field)
            if not isinstance(name, str) or not name.strip():
                problem = "missing" if name is None else f"expected a name, got {show(name)}"
                raise InventoryError(source, f"{kind}[{position}].{name_field}", problem)
            for key, field_type in fields:
                value = entry.get(key)
                check = _TYPE_CHECKS.get(field_type)
                if value is not None and check is not None and not check[0](value):
                    raise InventoryError(
                        source,
                        f"{kind}[{position}].{key}",
                        f"expected {check[1]}, got {describe_type(value)}",
                    )
            running = self._state_check(kind, entry, position)
            normalized = normalize(kind, name)
            candidates = index.lookup(normalized)
            if candidates:
                finding, product = self.for_product(candidates, name, shared_names)
                finding.add(evidence_kind, name)
                if product.status_part is not None:
                    finding.status_part = product.status_part
                    finding.observed.setdefault(kind, []).append(running)
                if running and self._makes_active(kind, product, name):
                    finding.active = True
            elif kind == "packages" and entry.get("publisher"):
                vendor = publishers.get(fold_publisher(entry["publisher"]))
                if vendor is not None:
                    # The publisher names the vendor; a name pattern of one of its
                    # products (a certified build's "kesl-astra") names the product.
                    own = [
                        product
                        for product in (by_publisher.lookup(normalized) if by_publisher else ())
                        if product.vendor == vendor
                    ]
                    if own:
                        finding, _product = self.for_product(own, name, False)
                    else:
                        finding = self.finding((vendor, "other", name), vendor, "other", name)
                    finding.add("package", name)
                    finding.add("publisher", entry["publisher"])
            elif kind == "security_center":
                # An antivirus registered in Security Center that no catalogue entry knows
                # is still an antivirus on the host: report it rather than drop it.
                finding = self.finding(
                    (UNKNOWN_VENDOR, "other", name), UNKNOWN_VENDOR, "other", name
                )
                finding.add(evidence_kind, name)

    def _state_check(self, kind: str, entry: dict, position: int) -> bool:
        """Whether the entry is running, validating the fields that say so."""
        if kind in ("services", "drivers"):
            state = entry.get("state")
            if state is None and "state" not in _REQUIRED[kind]:
                return kind == "drivers"  # a loaded module is a running one
            if state not in SERVICE_STATES:
                raise InventoryError(
                    self.source,
                    f"{kind}[{position}].state",
                    f"expected one of {', '.join(sorted(SERVICE_STATES))}, got {show(state)}",
                )
            return state == "running"
        if kind == "security_center":
            state = entry.get("product_state")
            if state is None:
                return False
            return security_center_on(
                state, self.source, f"security_center[{position}].product_state"
            )
        return kind == "processes"

    @staticmethod
    def _makes_active(kind: str, product: Product, name: str) -> bool:
        if kind == "services":
            names = product.active_services
        elif kind == "processes":
            names = product.active_processes
        else:
            return kind == "security_center"
        return names is None or normalize(kind, name) in names

    def read_paths(self, paths: object) -> list[tuple[str, Product | None, str]]:
        if paths is None:
            return []
        if not isinstance(paths, list):
            raise InventoryError(
                self.source, "paths", f"expected a list, got {describe_type(paths)}"
            )
        found = []
        for position, path in enumerate(paths):
            if not isinstance(path, str):
                raise InventoryError(
                    self.source,
                    f"paths[{position}]",
                    f"expected a string, got {describe_type(path)}",
                )
            owner = self.signatures.paths.get(normalize("paths", path))
            if owner is not None:
                found.append((owner[0], owner[1], path))
        return found


def _check_header(inventory: object, source: str, families) -> str:
    if not isinstance(inventory, dict):
        raise InventoryError(
            source, None, f"expected a JSON object, got {describe_type(inventory)}"
        )
    schema = inventory.get("schema", INVENTORY_SCHEMA)
    if schema != INVENTORY_SCHEMA or isinstance(schema, bool):
        raise InventoryError(source, "schema", f"unsupported schema {show(schema)} (expected 1)")
    os_family = inventory.get("os_family")
    if os_family is None:
        raise InventoryError(source, "os_family", "missing")
    if os_family not in families:
        raise InventoryError(
            source, "os_family", f"expected one of {', '.join(families)}, got {show(os_family)}"
        )
    host = inventory.get("host")
    if host is not None and not isinstance(host, str):
        raise InventoryError(source, "host", f"expected a string, got {describe_type(host)}")
    os_info = inventory.get("os")
    if os_info is not None and not isinstance(os_info, dict):
        raise InventoryError(source, "os", f"expected an object, got {describe_type(os_info)}")
    collected_at = inventory.get("collected_at")
    if collected_at is not None and not isinstance(collected_at, str):
        raise InventoryError(
            source, "collected_at", f"expected a string, got {describe_type(collected_at)}"
        )
    _check_protection(inventory.get("protection"), source)
    return os_family


_JSON_TYPES = {"string": str, "boolean": bool}


def _check_protection(entries: object, source: str) -> None:
    """The collector's protection entries: a wrong type is refused with its position,
    as for any other part, never read as "unknown" (which would hide a broken collector
    behind a reason that sounds like the host's)."""
    if entries is None:
        return
    if not isinstance(entries, list):
        raise InventoryError(source, "protection", f"expected a list, got {describe_type(entries)}")
    for position, entry in enumerate(entries):
        where = f"protection[{position}]"
        if not isinstance(entry, dict):
            raise InventoryError(source, where, f"expected an object, got {describe_type(entry)}")
        if not isinstance(entry.get("product"), str) or not entry["product"]:
            raise InventoryError(source, f"{where}.product", "expected a product id")
        for name, (kind, _doc) in inventory_schema.PROTECTION_FIELDS.items():
            value = entry.get(name)
            if value is not None and not isinstance(value, _JSON_TYPES[kind]):
                raise InventoryError(
                    source,
                    f"{where}.{name}",
                    f"expected {kind} or null, got {describe_type(value)}",
                )
        basis = entry.get("signatures_basis")
        if basis is not None and basis not in inventory_schema.SIGNATURE_BASES:
            raise InventoryError(
                source,
                f"{where}.signatures_basis",
                f"expected one of {', '.join(inventory_schema.SIGNATURE_BASES)}, got {show(basis)}",
            )


def classify(
    inventory: object,
    policy: Policy | None = None,
    catalogue: Catalogue | None = None,
    source: str = "inventory",
    now: datetime.datetime | None = None,
) -> dict:
    """The verdict for one raw inventory. Raises InventoryError on a broken contract.

    now: the controller's clock during a live scan (signature ages of vendor-dated
    databases, the host's clock skew); None for a recorded inventory read later.
    """
    catalogue = catalogue or load_catalogue()
    policy = policy or load_policy(catalogue=catalogue)
    os_family = _check_header(inventory, source, catalogue.os_families)
    run = _Classification(catalogue.signatures[os_family], source)
    for kind in KINDS:
        run.read(kind, inventory.get(kind))
    paths = run.read_paths(inventory.get("paths"))
    server = (inventory.get("os") or {}).get("server")
    centre_running = _security_center_running(inventory.get("services"))
    for finding in run.findings.values():
        if finding.status_part is not None:
            finding.decide_by_status(
                inventory.get(finding.status_part), server, source, centre_running
            )

    approved_vendors = set(policy.approved[os_family])
    by_vendor: dict[str, list[_Finding]] = {}
    for finding in run.findings.values():
        by_vendor.setdefault(finding.vendor, []).append(finding)

    residue: dict[str, list[dict]] = {}
    for vendor, product, path in paths:
        findings = by_vendor.get(vendor)
        if findings:
            # Paths of a product that is present are part of its evidence.
            owner = next((f for f in findings if product and f.product == product.id), findings[0])
            owner.add("path", path)
        elif vendor in policy.disallowed:
            evidence = residue.setdefault(vendor, [])
            if {"kind": "path", "value": path} not in evidence:
                evidence.append({"kind": "path", "value": path})

    disallowed, approved, other = [], [], []
    for finding in run.findings.values():
        if finding.vendor in policy.disallowed:
            disallowed.append(finding.as_dict(with_active=False))
        elif finding.vendor in approved_vendors:
            approved.append(finding.as_dict(with_active=True))
        else:
            other.append(finding.as_dict(with_active=False))
    rule = policy.protection_for(os_family)
    for item in approved:
        if item["active"]:
            facts = protection.product_facts(inventory, item)
            item.update(
                protection.assess(facts, rule, os_family, inventory.get("collected_at"), now)
            )
        else:
            item["protection"] = "not-active"
    unreadable = _unreadable(inventory.get("unreadable"), source)
    verdict = {
        "host": inventory.get("host"),
        "os_family": os_family,
        "compliant": False,
        "disallowed": disallowed,
        "approved": approved,
        "other": other,
        "residue": [{"vendor": vendor, "evidence": ev} for vendor, ev in residue.items()],
    }
    if unreadable:
        verdict["unreadable"] = unreadable
    # Which rules "protecting" was held to, for the host's family (None: active enough).
    verdict["protection_rules"] = rule.as_dict() if rule.asks_anything else None
    verdict["reasons"] = explain(verdict, policy.approved[os_family])
    verdict["compliant"] = not verdict["reasons"]
    return verdict


def _security_center_running(services: object) -> bool:
    """False when the inventory lists the Security Center service (wscsvc) not running;
    the services were validated by then."""
    for entry in services or ():
        if str(entry.get("name", "")).casefold() == "wscsvc":
            return entry.get("state") == "running"
    return True


def _protecting(item: dict) -> bool:
    """An active approved product meets the protection rules (a verdict from before the
    rules existed has no "protection": active was all it asked)."""
    return item.get("protection", "protecting") == "protecting"


def _label(item: dict) -> str:
    return str(item.get("name") or item.get("product") or item.get("vendor") or "unknown")


def explain(verdict: dict, approved_vendors=None) -> list[str]:
    """Why a verdict is not compliant, one reason each (none: compliant). The rule itself:
    nothing disallowed, every part read, and an approved product active.

    It reads a verdict dict (or a report's host entry, which has the same findings), so
    the report writer states the same reasons for hosts the classifier did not word.
    approved_vendors: what the policy approves for the host's family (None: not known).
    """
    reasons = []
    disallowed = verdict.get("disallowed") or []
    approved = verdict.get("approved") or []
    if disallowed:
        names = ", ".join(f"{_label(f)} ({f.get('vendor')})" for f in disallowed)
        reasons.append(f"disallowed antivirus found: {names}")
    active = [item for item in approved if item.get("active")]
    if active and not any(_protecting(item) for item in active):
        why = "; ".join(
            f"{_label(item)}: {', '.join(item.get('not_protecting_because') or ['not protecting'])}"
            for item in active
        )
        reasons.append(f"no approved antivirus protects the host ({why})")
    if not active:
        reason = "no active approved antivirus"
        if any(item.get("inactive_because") for item in approved):
            why = "; ".join(
                _label(item)
                + (
                    f": {', '.join(item['inactive_because'])}"
                    if item.get("inactive_because")
                    else ""
                )
                for item in approved
            )
            reason += f" (installed but not active: {why})"
        elif approved:
            reason += f" ({', '.join(_label(item) for item in approved)} installed but not active)"
        family = verdict.get("os_family")
        if approved_vendors:
            reason += f"; the policy approves for {family}: {', '.join(map(str, approved_vendors))}"
        elif approved_vendors is not None:
            reason += f"; the policy approves no vendor for {family}"
        reasons.append(reason)
    # A part of the host the collector could not read may hide anything.
    for part in verdict.get("unreadable") or []:
        why = part.get("reason") if isinstance(part, dict) else None
        name = part.get("part") if isinstance(part, dict) else part
        reasons.append(f"could not read {name}" + (f": {why}" if why else ""))
    return reasons


def _unreadable(value: object, source: str) -> list[dict]:
    """Parts the collector says it could not read: {part, reason} objects (a bare part
    name, as older collectors send, has no reason)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InventoryError(source, "unreadable", f"expected a list, got {describe_type(value)}")
    parts = []
    for position, item in enumerate(value):
        if isinstance(item, str):
            item = {"part": item, "reason": None}
        if not isinstance(item, dict) or not isinstance(item.get("part"), str):
            raise InventoryError(
                source, f"unreadable[{position}]", "expected {part, reason} or a part name"
            )
        reason = item.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise InventoryError(
                source,
                f"unreadable[{position}].reason",
                f"expected a string or null, got {describe_type(reason)}",
            )
        parts.append({"part": item["part"], "reason": reason})
    return parts
