# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor catalogue: loads catalogue.yml and answers "whose software is this name?".

Names compare case-insensitively after a per-kind normalisation (".exe", ".service",
".sys"/".ko" are optional). Exact names are looked up in a dict; wildcard patterns are
bucketed by their first three characters, so a name costs one or two dict look-ups and
rarely a regular-expression match: classifying stays close to the cost of reading JSON.

Every name carries where it was seen (its provenance): a reference with a grade, or
"unverified" and why. The loader refuses a name without a source, and answers how well
the evidence of a finding is sourced (Catalogue.evidence_grade).
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import yaml

from ansible_collections.avshift.remediation.plugins.module_utils import (
    inventory_schema,
    linux_inventory,
)
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
    "protection",
    "uninstall_note",
    "manual_removal",
    "confirm_removal",
    "refuse_removal_when",
    "sources",
}
_VENDOR_KEYS = {"name", "publishers", "paths", "sources", "products"}
_SIGNATURE_KEY_KEYS = {"kinds", "label", "by_publisher"}
_REFERENCE_KEYS = {"title", "url", "read", "grade"}
_SOURCE_KEYS = {"ref", "excerpt", "unverified", "covers"}
# How well a name is sourced, best first: seen in the vendor's (or Microsoft's) own
# documentation or code; seen in public third-party material one can open; no source.
GRADES = ("primary", "secondary", "unverified")
UNVERIFIED = GRADES[-1]
# How an inventory entry of each kind shows in a finding's evidence.
EVIDENCE_KINDS = {
    "packages": "package",
    "services": "service",
    "processes": "process",
    "drivers": "driver",
    "security_center": "security_center",
}
_INVENTORY_KINDS = {evidence: kind for kind, evidence in EVIDENCE_KINDS.items()}
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
_CLASSES = re.compile(r"(\[[^\]]*\])")
_BUCKET = 3  # a pattern's literal prefix length used as its bucket key
_NO_PRODUCTS: list = []  # shared and never mutated: most names match nothing
_FLOATING_MIN_LITERALS = 12  # a pattern with a leading "*" must still say much

_SUFFIXES = {
    "services": (".service",),
    "processes": (".exe",),
    "drivers": (".sys", ".ko", ".ko.xz", ".ko.gz", ".ko.zst"),
}


def _any_case(pattern: str) -> str:
    """A glob for fnmatch(3) that matches what the lower-case pattern matches, in any
    letter case: systemd matches unit names case-sensitively, the catalogue does not."""
    parts = []
    for part in _CLASSES.split(pattern):
        if part.startswith("[") and part.endswith("]") and len(part) > 2:
            negate = part[1] if part[1] in "!^" else ""
            body = part[1 + len(negate) : -1]
            parts.append(f"[{negate}{body}{body.upper() if body.upper() != body else ''}]")
        else:
            parts.append("".join(f"[{c}{c.upper()}]" if c.upper() != c else c for c in part))
    return "".join(parts)


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# Windows' default values of the folder variables the catalogue uses ("Recognized
# environment variables", Microsoft Learn), casefolded; the longer prefix first.
_DEFAULT_FOLDERS = (
    ("c:\\program files (x86)\\", "%programfiles(x86)%\\"),
    ("c:\\program files\\", "%programfiles%\\"),
    ("c:\\programdata\\", "%programdata%\\"),
    ("c:\\windows\\", "%systemroot%\\"),
)


def normalize(kind: str, name: str) -> str:
    """The form in which names of one inventory kind are compared."""
    folded = name.casefold()
    if kind in ("packages", "security_center"):
        # Display names come with stray double spaces and trailing blanks.
        return " ".join(folded.split())
    if kind == "paths":
        folded = folded.rstrip("/\\")
        # The catalogue writes Windows folders by their environment variables (the
        # collector expands them on the host); a path written out in its default
        # expansion, as other tools report it, is the same path.
        for expanded, variable in _DEFAULT_FOLDERS:
            if folded.startswith(expanded):
                return variable + folded[len(expanded) :]
        return folded
    return _strip_suffix(folded.strip(), _SUFFIXES.get(kind, ()))


# Publishers are written with and without quotes, dots and legal-form commas, and
# with Cyrillic letters that look Latin ("АО" vs "AO"); fold all of that away.  # noqa: RUF003
_LOOKALIKES = str.maketrans("аеокрсухтмвн", "aeokpcyxtmbh")
_EMAIL = re.compile(r"<[^>]*>")
_NON_WORD = re.compile(r"[\W_]+")


def fold_publisher(publisher: str) -> str:
    text = _EMAIL.sub(" ", publisher.casefold()).translate(_LOOKALIKES)
    return " ".join(_NON_WORD.sub(" ", text).split())


def best_grade(grades) -> str:
    """The best of some grades (unverified when there are none)."""
    return min(grades, key=GRADES.index, default=UNVERIFIED)


@dataclass(frozen=True)
class Reference:
    """A page, document or repository file where names were seen."""

    id: str
    title: str
    url: str
    read: str  # the date it was read, ISO 8601
    grade: str  # primary or secondary


@dataclass(frozen=True)
class Source:
    """Where some of a product's (or a vendor's) names were seen, or that none was found."""

    covers: tuple[str, ...]  # the names as the catalogue writes them
    grade: str
    reference: Reference | None = None  # None: unverified
    excerpt: str | None = None  # the words of the reference (or of what was seen) that show them
    unverified: str | None = None  # why no source is given


@dataclass(frozen=True)
class Provenance:
    sources: tuple[Source, ...] = ()
    # name as written -> the best grade among the sources that cover it
    grades: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefuseWhen:
    """Evidence that makes a product's removal unsafe: names per evidence kind, and why."""

    names: dict[str, frozenset[str]]
    because: str


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
    # What the operator should know before its removal (a protection avshift cannot
    # pass, a vendor tool to use instead); the removal plan notes it.
    uninstall_note: str | None = None
    # Why it is never removed unattended (the removal plan refuses it, naming why), or
    # why it waits for an operator's confirmation; and what, found with it, makes the
    # plan refuse it (inventory kind -> names, and why).
    manual_removal: str | None = None
    confirm_removal: str | None = None
    refuse_removal_when: RefuseWhen | None = None
    # How avshift installs the product, when it can: the install role's task file and
    # when it may run (BEFORE_REMOVAL); None for products avshift does not install.
    installer: Installer | None = None
    # How the Linux collector reads its signature time and real-time protection: a
    # probe of linux_inventory.PROBES and what it needs (config files, directories);
    # None where the facts come from elsewhere (Defender Antivirus: its status part).
    protection_probe: dict[str, object] | None = None
    # Where its names were seen, on this OS family.
    provenance: Provenance = field(default_factory=Provenance)
    # The inventory kinds the product has names of (services, drivers, ...): where the
    # host should show it.
    kinds_named: frozenset[str] = frozenset()


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
    # Catalogue keys whose names count only for an entry published by the product's
    # vendor (its publisher, dpkg Maintainer or rpm Vendor, is one of the vendor's).
    by_publisher: frozenset = frozenset()


@dataclass
class NameIndex:
    """Exact names and wildcard patterns of one inventory kind, for one OS family."""

    exact: dict[str, list[Product]] = field(default_factory=dict)
    # (literal characters, regex, product, grade)
    buckets: dict[str, list[tuple[int, re.Pattern, Product, str]]] = field(default_factory=dict)
    floating: list[tuple[str, int, re.Pattern, Product, str]] = field(default_factory=list)
    exact_grades: dict[tuple[str, Product], str] = field(default_factory=dict)
    # Every name and pattern in its compared form, once, in catalogue order.
    written: list[str] = field(default_factory=list)

    def add(
        self, pattern: str, product: Product, kind: str, source: str, grade: str = UNVERIFIED
    ) -> None:
        normalized = normalize(kind, pattern)
        if normalized not in self.written:
            self.written.append(normalized)
        wildcard = _WILDCARDS.search(normalized)
        if wildcard is None:
            candidates = self.exact.setdefault(normalized, [])
            if product not in candidates:
                candidates.append(product)
            key = (normalized, product)
            self.exact_grades[key] = best_grade((self.exact_grades.get(key, UNVERIFIED), grade))
            return
        literal_chars = len(_WILDCARD_RUNS.sub("", normalized))
        regex = re.compile(fnmatch.translate(normalized), re.DOTALL)
        entry = (literal_chars, regex, product, grade)
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
            for literals, regex, product, _grade in bucket:
                if regex.match(normalized):
                    matched = matched or []
                    matched.append((literals, product))
        for required, literals, regex, product, _grade in self.floating:
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

    def grade(self, normalized: str, product: Product) -> str | None:
        """The best grade among the product's names that match; None when none does."""
        grades = []
        if (normalized, product) in self.exact_grades:
            grades.append(self.exact_grades[normalized, product])
        for _literals, regex, owner, grade in self.buckets.get(normalized[:_BUCKET], ()):
            if owner is product and regex.match(normalized):
                grades.append(grade)
        for required, _literals, regex, owner, grade in self.floating:
            if owner is product and required in normalized and regex.match(normalized):
                grades.append(grade)
        return best_grade(grades) if grades else None


class PathOwner(NamedTuple):
    vendor: str
    product: Product | None  # None for a vendor-wide path
    grade: str


@dataclass
class Signatures:
    """Everything needed to attribute one OS family's inventory to vendors."""

    os_family: str
    indexes: dict[str, NameIndex]
    publishers: dict[str, str]  # folded publisher -> vendor id
    paths: dict[str, PathOwner]  # normalized path -> whose it is
    path_list: list[str]  # as written in the catalogue, for collectors to test
    # Names that count only for an entry of the product's own vendor (OsFamily.by_publisher).
    publisher_indexes: dict[str, NameIndex] = field(default_factory=dict)
    publisher_grades: dict[str, str] = field(default_factory=dict)  # folded publisher -> grade


@dataclass
class Catalogue:
    vendors: dict[str, str]  # vendor id -> display name
    products: dict[str, list[Product]]  # vendor id -> its products, one per OS family
    signatures: dict[str, Signatures]  # os family -> Signatures
    source: str
    removal_order: tuple[str, ...] = ()  # product roles, first removed first
    os_families: dict[str, OsFamily] = field(default_factory=dict)
    # Product roles avshift never removes -> why (the removal plan holds them).
    refused_roles: dict[str, str] = field(default_factory=dict)
    references: dict[str, Reference] = field(default_factory=dict)
    # vendor id -> where its publishers and vendor-wide paths were seen
    vendor_provenance: dict[str, Provenance] = field(default_factory=dict)

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

    def protection_probes(self, os_family: str) -> list[dict]:
        """What the collector of an OS family probes for each approved-capable product's
        protection: the probe's spec with the product id."""
        return [
            {"product": product.id, **product.protection_probe}
            for products in self.products.values()
            for product in products
            if product.os_family == os_family and product.protection_probe is not None
        ]

    def unit_file_patterns(self, os_family: str) -> list[str]:
        """systemd unit-file globs that match every unit file whose service the catalogue
        names for the OS family, in any letter case, and the template of a named
        instance (a loaded instance takes its start mode from it).

        The collector lists only these unit files: listing every one makes systemd work
        out each file's enablement state, 0.37 s on a test host with 99 service units
        and over a second with a few hundred (systemd/systemd#14730, #29181); with
        patterns systemd works out only the matching ones."""
        sig = self.signatures[os_family]
        indexes = (sig.indexes.get("services"), sig.publisher_indexes.get("services"))
        globs: list[str] = []
        for index in indexes:
            for name in index.written if index is not None else ():
                forms = [name]
                if "@" in name:
                    forms.append(name.split("@", 1)[0] + "@")
                for form in forms:
                    glob = _any_case(form) + ".service"
                    if glob not in globs:
                        globs.append(glob)
        return globs

    def product(self, vendor: str, product_id: str, os_family: str) -> Product | None:
        for product in self.products.get(vendor, ()):
            if product.id == product_id and product.os_family == os_family:
                return product
        return None

    def removal_rank(self, role: str) -> int:
        """Position of a product role in the removal order; unknown roles go first."""
        return self.removal_order.index(role) + 1 if role in self.removal_order else 0

    def evidence_grade(
        self, os_family: str, vendor: str, product: Product | None, kind: str, value: str
    ) -> str:
        """How well one item of a finding's evidence is sourced: the best grade among the
        catalogue names of the product (or, for a path or a publisher, of the vendor)
        that match it; unverified when none does."""
        sig = self.signatures[os_family]
        if kind == "path":
            owner = sig.paths.get(normalize("paths", value))
            return owner.grade if owner is not None and owner.vendor == vendor else UNVERIFIED
        if kind == "publisher":
            folded = fold_publisher(value)
            if sig.publishers.get(folded) != vendor:
                return UNVERIFIED
            return sig.publisher_grades.get(folded, UNVERIFIED)
        inventory_kind = _INVENTORY_KINDS.get(kind)
        if product is None or inventory_kind is None:
            return UNVERIFIED
        normalized = normalize(inventory_kind, value)
        grades = [
            index.grade(normalized, product)
            for index in (sig.indexes[inventory_kind], sig.publisher_indexes.get(inventory_kind))
            if index is not None
        ]
        return best_grade(grade for grade in grades if grade is not None)

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


def _optional_text(block, key, source, where) -> str | None:
    if block.get(key) is None:
        return None
    return _nonempty_text(block[key], source, f"{where}.{key}")


def _refuse_when(block, family, source, where) -> RefuseWhen | None:
    spec = block.get("refuse_removal_when")
    if spec is None:
        return None
    where = f"{where}.refuse_removal_when"
    _expect(spec, dict, source, where)
    kinds = {kind for kinds in family.signature_keys.values() for kind in kinds}
    names = {}
    for kind, listed in spec.items():
        if kind == "because":
            continue
        if kind not in kinds:
            raise CatalogueError(source, f"{where}.{kind}", f"expected one of {sorted(kinds)}")
        names[kind] = frozenset(
            normalize(kind, name) for name in _string_list(listed, source, f"{where}.{kind}")
        )
    if not names:
        raise CatalogueError(source, where, "names no evidence")
    return RefuseWhen(names, _nonempty_text(spec.get("because"), source, f"{where}.because"))


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


# The collector's probes: what plugins/module_utils/linux_inventory.py can read.
PROTECTION_PROBES = linux_inventory.PROBES


def _protection_probe(block, source, where) -> dict | None:
    spec = block.get("protection")
    if spec is None:
        return None
    _expect(spec, dict, source, f"{where}.protection")
    probe = spec.get("probe")
    if probe not in PROTECTION_PROBES:
        raise CatalogueError(
            source, f"{where}.protection.probe", f"expected one of {', '.join(PROTECTION_PROBES)}"
        )
    return dict(spec)


def _nonempty_text(value, source, where) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(source, where, "expected a non-empty string")
    return value


def _references(spec, source) -> dict[str, Reference]:
    references = {}
    for ref_id, block in _expect(
        spec if spec is not None else {}, dict, source, "references"
    ).items():
        where = f"references.{ref_id}"
        _expect(block, dict, source, where)
        unknown = set(block) - _REFERENCE_KEYS
        if unknown:
            raise CatalogueError(source, where, f"unknown keys {sorted(unknown)}")
        url = _nonempty_text(block.get("url"), source, f"{where}.url")
        if not url.startswith(("https://", "http://")):
            raise CatalogueError(source, f"{where}.url", "expected an http(s) URL one can open")
        read = block.get("read")
        if isinstance(read, datetime.date):  # YAML reads an unquoted date as a date
            read = read.isoformat()
        try:
            datetime.date.fromisoformat(read if isinstance(read, str) else "")
        except ValueError:
            raise CatalogueError(
                source, f"{where}.read", "expected the date it was read, YYYY-MM-DD"
            ) from None
        grade = block.get("grade")
        if grade not in GRADES[:-1]:
            raise CatalogueError(
                source, f"{where}.grade", f"expected one of {', '.join(GRADES[:-1])}"
            )
        references[str(ref_id)] = Reference(
            id=str(ref_id),
            title=_nonempty_text(block.get("title"), source, f"{where}.title"),
            url=url,
            read=read,
            grade=grade,
        )
    return references


def _provenance(spec, names, references, source, where) -> Provenance:
    """The sources of a block's names; every name needs one, and each covers only names
    the block has."""
    where = f"{where}.sources"
    entries = _expect(spec if spec is not None else [], list, source, where)
    known = set(names)
    grades: dict[str, str] = {}
    sources = []
    for position, entry in enumerate(entries):
        entry_where = f"{where}[{position}]"
        _expect(entry, dict, source, entry_where)
        unknown = set(entry) - _SOURCE_KEYS
        if unknown:
            raise CatalogueError(source, entry_where, f"unknown keys {sorted(unknown)}")
        covers = tuple(_string_list(entry.get("covers"), source, f"{entry_where}.covers"))
        if not covers:
            raise CatalogueError(source, f"{entry_where}.covers", "expected the names it shows")
        stray = [name for name in covers if name not in known]
        if stray:
            raise CatalogueError(
                source, f"{entry_where}.covers", f"{stray[0]!r} is not a name of this block"
            )
        if ("ref" in entry) == ("unverified" in entry):
            raise CatalogueError(
                source, entry_where, "expected either ref (a reference) or unverified (why none)"
            )
        excerpt = entry.get("excerpt")
        if "ref" in entry:
            reference = references.get(entry["ref"])
            if reference is None:
                raise CatalogueError(
                    source, f"{entry_where}.ref", f"no reference {entry['ref']!r} in references"
                )
            found = Source(
                covers=covers,
                grade=reference.grade,
                reference=reference,
                excerpt=_nonempty_text(excerpt, source, f"{entry_where}.excerpt"),
            )
        else:
            found = Source(
                covers=covers,
                grade=UNVERIFIED,
                excerpt=None
                if excerpt is None
                else _nonempty_text(excerpt, source, f"{entry_where}.excerpt"),
                unverified=_nonempty_text(entry["unverified"], source, f"{entry_where}.unverified"),
            )
        sources.append(found)
        for name in covers:
            grades[name] = best_grade((grades.get(name, UNVERIFIED), found.grade))
    missing = [name for name in names if name not in grades]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CatalogueError(
            source,
            where,
            f"no source for {missing[0]!r}{more}: cite a reference, or say unverified and why",
        )
    return Provenance(sources=tuple(sources), grades=grades)


def _block_names(block, family, source, where) -> list[str]:
    """Every name of a product block that needs a source: its signatures and paths."""
    names: list[str] = []
    for key in (*family.signature_keys, "paths"):
        for name in _string_list(block.get(key), source, f"{where}.{key}"):
            if name not in names:
                names.append(name)
    return names


def _load_product(
    vendor, product_id, spec, source, signatures, products, families, references
) -> None:
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
        provenance = _provenance(
            block.get("sources"),
            _block_names(block, family, source, block_where),
            references,
            source,
            block_where,
        )
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
            protection_probe=_protection_probe(block, source, block_where),
            uninstall_note=(
                None
                if block.get("uninstall_note") is None
                else _nonempty_text(
                    block["uninstall_note"], source, f"{block_where}.uninstall_note"
                )
            ),
            manual_removal=_optional_text(block, "manual_removal", source, block_where),
            confirm_removal=_optional_text(block, "confirm_removal", source, block_where),
            refuse_removal_when=_refuse_when(block, family, source, block_where),
            provenance=provenance,
            kinds_named=frozenset(
                kind
                for key, kinds in family.signature_keys.items()
                if block.get(key)
                for kind in kinds
            ),
        )
        products[vendor].append(product)
        sig = signatures[os_family]
        for key, kinds in family.signature_keys.items():
            indexes = sig.publisher_indexes if key in family.by_publisher else sig.indexes
            for pattern in _string_list(block.get(key), source, f"{block_where}.{key}"):
                for kind in kinds:
                    indexes[kind].add(pattern, product, kind, source, provenance.grades[pattern])
        for path in _string_list(block.get("paths"), source, f"{block_where}.paths"):
            sig.paths[normalize("paths", path)] = PathOwner(
                vendor, product, provenance.grades[path]
            )
            sig.path_list.append(path)


def _refused_roles(spec, removal_order, source) -> dict[str, str]:
    refused = _expect(spec if spec is not None else {}, dict, source, "removal_refused")
    for role in refused:
        if role not in removal_order:
            raise CatalogueError(source, f"removal_refused.{role}", "not a role of removal_order")
    return {
        str(role): _nonempty_text(why, source, f"removal_refused.{role}")
        for role, why in refused.items()
    }


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
    references = _references(data.get("references"), source)
    vendors_spec = _expect(data.get("vendors"), dict, source, "vendors")
    signatures = {
        os_family: Signatures(
            os_family=os_family,
            indexes={kind: NameIndex() for kind in KINDS},
            publishers={},
            paths={},
            path_list=[],
            publisher_indexes={
                kind: NameIndex()
                for key in family.by_publisher
                for kind in family.signature_keys[key]
            },
        )
        for os_family, family in families.items()
    }
    vendors: dict[str, str] = {}
    products: dict[str, list[Product]] = {}
    vendor_provenance: dict[str, Provenance] = {}
    for vendor, spec in vendors_spec.items():
        where = f"vendors.{vendor}"
        _expect(spec, dict, source, where)
        unknown = set(spec) - _VENDOR_KEYS
        if unknown:
            raise CatalogueError(source, where, f"unknown keys {sorted(unknown)}")
        vendors[vendor] = _expect(spec.get("name", vendor), str, source, f"{where}.name")
        products[vendor] = []
        publishers = _string_list(spec.get("publishers"), source, f"{where}.publishers")
        vendor_paths = _expect(spec.get("paths") or {}, dict, source, f"{where}.paths")
        for os_family, paths in vendor_paths.items():
            if os_family not in families:
                raise CatalogueError(source, f"{where}.paths", f"unknown OS family {os_family!r}")
            _string_list(paths, source, f"{where}.paths.{os_family}")
        names = [*publishers, *(path for paths in vendor_paths.values() for path in paths)]
        provenance = _provenance(spec.get("sources"), names, references, source, where)
        vendor_provenance[vendor] = provenance
        for publisher in publishers:
            for sig in signatures.values():
                sig.publishers[fold_publisher(publisher)] = vendor
                sig.publisher_grades[fold_publisher(publisher)] = provenance.grades[publisher]
        for os_family, paths in vendor_paths.items():
            for path in paths:
                signatures[os_family].paths[normalize("paths", path)] = PathOwner(
                    vendor, None, provenance.grades[path]
                )
                signatures[os_family].path_list.append(path)
        product_specs = _expect(spec.get("products"), dict, source, f"{where}.products")
        for product_id, product_spec in product_specs.items():
            _load_product(
                vendor, product_id, product_spec, source, signatures, products, families, references
            )
    removal_order = tuple(_string_list(data.get("removal_order"), source, "removal_order"))
    return Catalogue(
        vendors=vendors,
        products=products,
        signatures=signatures,
        source=source,
        removal_order=removal_order,
        os_families=families,
        refused_roles=_refused_roles(data.get("removal_refused"), removal_order, source),
        references=references,
        vendor_provenance=vendor_provenance,
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
        keys, labels, by_publisher = {}, {}, set()
        for key, key_spec in spec_keys.items():
            key_where = f"{where}.signature_keys.{key}"
            _expect(key_spec, dict, source, key_where)
            unknown = set(key_spec) - _SIGNATURE_KEY_KEYS
            if unknown:
                raise CatalogueError(source, key_where, f"unknown keys {sorted(unknown)}")
            # Several kinds: a name that several inventory kinds show.
            keys[key] = tuple(_string_list(key_spec.get("kinds"), source, f"{key_where}.kinds"))
            labels[key] = _expect(key_spec.get("label", key), str, source, f"{key_where}.label")
            for kind in keys[key]:
                if kind not in KINDS:
                    raise CatalogueError(source, key_where, f"unknown inventory kind {kind!r}")
            if key_spec.get("by_publisher", False) is not False:
                # Only the package kind has a publisher to check.
                if key_spec["by_publisher"] is not True or keys[key] != ("packages",):
                    raise CatalogueError(
                        source, f"{key_where}.by_publisher", "expected true, on packages only"
                    )
                by_publisher.add(key)
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
            by_publisher=frozenset(by_publisher),
        )
    return families
