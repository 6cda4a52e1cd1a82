# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor catalogue: loads catalogue.yml and answers "whose software is this name?".

Names compare case-insensitively after a per-kind normalisation (".exe", ".service",
".sys"/".ko" are optional). Exact names are looked up in a dict; wildcard patterns are
bucketed by their first three characters, so a name costs one or two dict look-ups and
rarely a regular-expression match: classifying stays close to the cost of reading JSON.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from ansible_collections.avshift.remediation.plugins.module_utils import inventory_schema
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import (
    CatalogueError,
)

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yml")

# Inventory kinds, in the order the classifier reads them (the inventory schema's order).
KINDS = tuple(inventory_schema.KINDS)

_OTHER_PRODUCT_KEYS = {
    "paths",
    "status_part",
    "active_services",
    "active_processes",
    "uninstall_properties",
    "install",
}
_FAMILY_KEYS = {
    "name",
    "module_suffix",
    "shell_families",
    "ansible_systems",
    "state_dir",
    "signature_keys",
}
# When an installer can turn its product on while a disallowed product still runs:
# always; on servers only (Defender Antivirus steps aside on clients); never.
BEFORE_REMOVAL = ("always", "servers", "never")
_WILDCARDS = re.compile(r"[*?\[]")
_WILDCARD_RUNS = re.compile(r"\[[^\]]*\]|[*?]")
_BUCKET = 3  # a pattern's literal prefix length used as its bucket key
_NO_PRODUCTS: list = []  # shared and never mutated: most names match nothing
_FLOATING_MIN_LITERALS = 12  # a pattern with a leading "*" must still say much

_SUFFIXES = {
    "services": (".service",),
    "processes": (".exe",),
    "drivers": (".sys", ".ko", ".ko.xz", ".ko.gz", ".ko.zst"),
}


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def normalize(kind: str, name: str) -> str:
    """The form in which names of one inventory kind are compared."""
    folded = name.casefold()
    if kind in ("packages", "security_center"):
        # Display names come with stray double spaces and trailing blanks.
        return " ".join(folded.split())
    if kind == "paths":
        return folded.rstrip("/\\")
    return _strip_suffix(folded.strip(), _SUFFIXES.get(kind, ()))


# Publishers are written with and without quotes, dots and legal-form commas, and
# with Cyrillic letters that look Latin ("АО" vs "AO"); fold all of that away.  # noqa: RUF003
_LOOKALIKES = str.maketrans("аеокрсухтмвн", "aeokpcyxtmbh")
_EMAIL = re.compile(r"<[^>]*>")
_NON_WORD = re.compile(r"[\W_]+")


def fold_publisher(publisher: str) -> str:
    text = _EMAIL.sub(" ", publisher.casefold()).translate(_LOOKALIKES)
    return " ".join(_NON_WORD.sub(" ", text).split())


@dataclass(frozen=True, eq=False)
class Product:
    vendor: str
    id: str
    name: str
    role: str
    os_family: str
    # Running services / processes that mean the product protects the host; None means
    # any of the product's own (ClamAV narrows them: freshclam running protects nothing).
    active_services: frozenset[str] | None = None
    active_processes: frozenset[str] | None = None
    # The inventory part whose status decides whether the product protects the host,
    # over its running services (Windows Defender Antivirus: "defender"); None: none.
    status_part: str | None = None
    # Windows: msiexec properties of a password-protected uninstall, with {login},
    # {password} or {password_utf16le_hex} where the credentials go.
    uninstall_properties: tuple[str, ...] = ()
    # How avshift installs the product, when it can: the install role's task file and
    # when it may run (BEFORE_REMOVAL); None for products avshift does not install.
    installer: Installer | None = None


@dataclass(frozen=True)
class Installer:
    task_file: str
    before_removal: str
    # What the installer needs to know of the product (its unit, its files), named; the
    # catalogue writes each once, with YAML anchors where detection uses it too.
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OsFamily:
    id: str
    name: str
    module_suffix: str
    shell_families: tuple[str, ...]
    ansible_systems: tuple[str, ...]
    state_dir: str  # avshift's own state on such a host (the remediation lock)
    signature_keys: dict  # catalogue key -> the inventory kinds it matches
    signature_labels: dict  # catalogue key -> how the catalogue reference names it


@dataclass
class NameIndex:
    """Exact names and wildcard patterns of one inventory kind, for one OS family."""

    exact: dict[str, list[Product]] = field(default_factory=dict)
    buckets: dict[str, list[tuple[int, re.Pattern, Product]]] = field(default_factory=dict)
    floating: list[tuple[str, int, re.Pattern, Product]] = field(default_factory=list)

    def add(self, pattern: str, product: Product, kind: str, source: str) -> None:
        normalized = normalize(kind, pattern)
        wildcard = _WILDCARDS.search(normalized)
        if wildcard is None:
            candidates = self.exact.setdefault(normalized, [])
            if product not in candidates:
                candidates.append(product)
            return
        literal_chars = len(_WILDCARD_RUNS.sub("", normalized))
        entry = (literal_chars, re.compile(fnmatch.translate(normalized), re.DOTALL), product)
        if normalized.startswith("*") and literal_chars >= _FLOATING_MIN_LITERALS:
            # Localised names put the vendor's words anywhere ("Agent d'administration
            # de Kaspersky Security Center"); few patterns need this, so each name is
            # tested against all of them.
            required = max(_WILDCARD_RUNS.split(normalized), key=len)
            self.floating.append((required, *entry))
        elif wildcard.start() >= _BUCKET:
            self.buckets.setdefault(normalized[:_BUCKET], []).append(entry)
        else:
            raise CatalogueError(
                source,
                None,
                f"pattern {pattern!r} needs {_BUCKET} literal characters before its first "
                f"wildcard, or a leading '*' and {_FLOATING_MIN_LITERALS} literal characters",
            )

    def lookup(self, normalized: str) -> list[Product]:
        """Products whose signature matches, best match first (exact before pattern).

        Among patterns the most specific wins: "Kaspersky Security Center*Network
        Agent*" over "Kaspersky Security Center*".
        """
        found = self.exact.get(normalized)
        matched = None
        bucket = self.buckets.get(normalized[:_BUCKET])
        if bucket is not None:
            for literals, regex, product in bucket:
                if regex.match(normalized):
                    matched = matched or []
                    matched.append((literals, product))
        for required, literals, regex, product in self.floating:
            # A substring test first: it rules out nearly every name at C speed.
            if required in normalized and regex.match(normalized):
                matched = matched or []
                matched.append((literals, product))
        if matched is None:
            return found or _NO_PRODUCTS
        matches = list(found) if found else []
        for _literals, product in sorted(matched, key=lambda item: -item[0]):
            if product not in matches:
                matches.append(product)
        return matches


@dataclass
class Signatures:
    """Everything needed to attribute one OS family's inventory to vendors."""

    os_family: str
    indexes: dict[str, NameIndex]
    publishers: dict[str, str]  # folded publisher -> vendor id
    # normalized path -> (vendor id, product or None for vendor-wide paths)
    paths: dict[str, tuple[str, Product | None]]
    path_list: list[str]  # as written in the catalogue, for collectors to test


@dataclass
class Catalogue:
    vendors: dict[str, str]  # vendor id -> display name
    products: dict[str, list[Product]]  # vendor id -> its products, one per OS family
    signatures: dict[str, Signatures]  # os family -> Signatures
    source: str
    removal_order: tuple[str, ...] = ()  # product roles, first removed first
    os_families: dict[str, OsFamily] = field(default_factory=dict)

    def family_of_shell(self, shell_family: str) -> list[OsFamily]:
        """The OS families whose hosts a connection of this shell family can be."""
        return [f for f in self.os_families.values() if shell_family in f.shell_families]

    def family_of_system(self, ansible_system: str) -> OsFamily | None:
        return next(
            (f for f in self.os_families.values() if ansible_system in f.ansible_systems), None
        )

    def installable(self, os_family: str) -> list[Product]:
        """The products avshift can install on hosts of an OS family, in catalogue order."""
        return [
            product
            for products in self.products.values()
            for product in products
            if product.os_family == os_family and product.installer is not None
        ]

    def product(self, vendor: str, product_id: str, os_family: str) -> Product | None:
        for product in self.products.get(vendor, ()):
            if product.id == product_id and product.os_family == os_family:
                return product
        return None

    def removal_rank(self, role: str) -> int:
        """Position of a product role in the removal order; unknown roles go first."""
        return self.removal_order.index(role) + 1 if role in self.removal_order else 0

    def vendors_for(self, os_family: str) -> set[str]:
        """Vendors that have at least one product for the OS family."""
        return {
            vendor
            for vendor, products in self.products.items()
            if any(product.os_family == os_family for product in products)
        }


def _expect(value, kind, source, where):
    if not isinstance(value, kind):
        expected = {list: "a list", dict: "a mapping", str: "a string"}[kind]
        raise CatalogueError(source, where, f"expected {expected}")
    return value


def _string_list(value, source, where) -> list[str]:
    items = _expect(value if value is not None else [], list, source, where)
    for position, item in enumerate(items):
        _expect(item, str, source, f"{where}[{position}]")
    return items


def _active_names(block, kind, source, where) -> frozenset[str] | None:
    key = f"active_{kind}"
    if key not in block:
        return None
    return frozenset(
        normalize(kind, name) for name in _string_list(block[key], source, f"{where}.{key}")
    )


# Inventory parts that can decide a product's activity, each with its rule
# (plugin_utils/defender.py for "defender").
STATUS_PARTS = ("defender",)


def _status_part(block, source, where) -> str | None:
    part = block.get("status_part")
    if part is not None and part not in STATUS_PARTS:
        raise CatalogueError(
            source, f"{where}.status_part", f"expected one of {', '.join(STATUS_PARTS)}"
        )
    return part


def _installer(block, source, where) -> Installer | None:
    spec = block.get("install")
    if spec is None:
        return None
    _expect(spec, dict, source, f"{where}.install")
    unknown = set(spec) - {"task_file", "before_removal", "facts"}
    if unknown:
        raise CatalogueError(source, f"{where}.install", f"unknown keys {sorted(unknown)}")
    task_file = _expect(spec.get("task_file"), str, source, f"{where}.install.task_file")
    before = spec.get("before_removal")
    if before not in BEFORE_REMOVAL:
        raise CatalogueError(
            source,
            f"{where}.install.before_removal",
            f"expected one of {', '.join(BEFORE_REMOVAL)}",
        )
    facts = _expect(spec.get("facts") or {}, dict, source, f"{where}.install.facts")
    return Installer(task_file=task_file, before_removal=before, facts=dict(facts))


def _load_product(vendor, product_id, spec, source, signatures, products, families) -> None:
    where = f"vendors.{vendor}.products.{product_id}"
    _expect(spec, dict, source, where)
    unknown = set(spec) - {"name", "role", *families}
    if unknown:
        raise CatalogueError(source, where, f"unknown keys {sorted(unknown)}")
    for os_family, family in families.items():
        block = spec.get(os_family)
        if block is None:
            continue
        block_where = f"{where}.{os_family}"
        _expect(block, dict, source, block_where)
        allowed = set(family.signature_keys) | _OTHER_PRODUCT_KEYS
        unknown = set(block) - allowed
        if unknown:
            raise CatalogueError(source, block_where, f"unknown keys {sorted(unknown)}")
        product = Product(
            vendor=vendor,
            id=product_id,
            name=_expect(spec.get("name", product_id), str, source, f"{where}.name"),
            role=_expect(spec.get("role", "other"), str, source, f"{where}.role"),
            os_family=os_family,
            active_services=_active_names(block, "services", source, block_where),
            active_processes=_active_names(block, "processes", source, block_where),
            status_part=_status_part(block, source, block_where),
            uninstall_properties=tuple(
                _string_list(
                    block.get("uninstall_properties"), source, f"{block_where}.uninstall_properties"
                )
            ),
            installer=_installer(block, source, block_where),
        )
        products[vendor].append(product)
        sig = signatures[os_family]
        for key, kinds in family.signature_keys.items():
            for pattern in _string_list(block.get(key), source, f"{block_where}.{key}"):
                for kind in kinds:
                    sig.indexes[kind].add(pattern, product, kind, source)
        for path in _string_list(block.get("paths"), source, f"{block_where}.paths"):
            sig.paths[normalize("paths", path)] = (vendor, product)
            sig.path_list.append(path)


def load_catalogue(path: str | os.PathLike | None = None) -> Catalogue:
    """Read and index a catalogue file (the shipped one by default)."""
    return _load_catalogue(str(path or CATALOGUE_PATH))


@cache
def _load_catalogue(path: str) -> Catalogue:
    source = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as stream:
            data = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise CatalogueError(path, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(path, None, f"invalid YAML: {exc}") from None
    _expect(data, dict, source, None)
    if data.get("schema") != 1:
        raise CatalogueError(source, "schema", "expected 1")
    families = _load_families(data.get("os_families"), source)
    vendors_spec = _expect(data.get("vendors"), dict, source, "vendors")
    signatures = {
        os_family: Signatures(
            os_family=os_family,
            indexes={kind: NameIndex() for kind in KINDS},
            publishers={},
            paths={},
            path_list=[],
        )
        for os_family in families
    }
    vendors: dict[str, str] = {}
    products: dict[str, list[Product]] = {}
    for vendor, spec in vendors_spec.items():
        where = f"vendors.{vendor}"
        _expect(spec, dict, source, where)
        vendors[vendor] = _expect(spec.get("name", vendor), str, source, f"{where}.name")
        products[vendor] = []
        for publisher in _string_list(spec.get("publishers"), source, f"{where}.publishers"):
            for sig in signatures.values():
                sig.publishers[fold_publisher(publisher)] = vendor
        vendor_paths = _expect(spec.get("paths") or {}, dict, source, f"{where}.paths")
        for os_family, paths in vendor_paths.items():
            if os_family not in families:
                raise CatalogueError(source, f"{where}.paths", f"unknown OS family {os_family!r}")
            for path in _string_list(paths, source, f"{where}.paths.{os_family}"):
                signatures[os_family].paths[normalize("paths", path)] = (vendor, None)
                signatures[os_family].path_list.append(path)
        product_specs = _expect(spec.get("products"), dict, source, f"{where}.products")
        for product_id, product_spec in product_specs.items():
            _load_product(vendor, product_id, product_spec, source, signatures, products, families)
    removal_order = tuple(_string_list(data.get("removal_order"), source, "removal_order"))
    return Catalogue(
        vendors=vendors,
        products=products,
        signatures=signatures,
        source=source,
        removal_order=removal_order,
        os_families=families,
    )


def _load_families(spec, source) -> dict[str, OsFamily]:
    _expect(spec, dict, source, "os_families")
    families = {}
    for family_id, block in spec.items():
        where = f"os_families.{family_id}"
        _expect(block, dict, source, where)
        unknown = set(block) - _FAMILY_KEYS
        if unknown:
            raise CatalogueError(source, where, f"unknown keys {sorted(unknown)}")
        spec_keys = _expect(block.get("signature_keys"), dict, source, f"{where}.signature_keys")
        keys, labels = {}, {}
        for key, key_spec in spec_keys.items():
            key_where = f"{where}.signature_keys.{key}"
            _expect(key_spec, dict, source, key_where)
            # Several kinds: a name that several inventory kinds show.
            keys[key] = tuple(_string_list(key_spec.get("kinds"), source, f"{key_where}.kinds"))
            labels[key] = _expect(key_spec.get("label", key), str, source, f"{key_where}.label")
            for kind in keys[key]:
                if kind not in KINDS:
                    raise CatalogueError(source, key_where, f"unknown inventory kind {kind!r}")
        families[family_id] = OsFamily(
            id=family_id,
            name=_expect(block.get("name", family_id), str, source, f"{where}.name"),
            module_suffix=_expect(
                block.get("module_suffix"), str, source, f"{where}.module_suffix"
            ),
            shell_families=tuple(
                _string_list(block.get("shell_families"), source, f"{where}.shell_families")
            ),
            ansible_systems=tuple(
                _string_list(block.get("ansible_systems"), source, f"{where}.ansible_systems")
            ),
            state_dir=_expect(block.get("state_dir"), str, source, f"{where}.state_dir"),
            signature_keys=keys,
            signature_labels=labels,
        )
    return families
