# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/catalogue.md, the reference of the vendor catalogue, from catalogue.yml.

    .venv/bin/python docs/generate_catalogue_reference.py          # rewrite docs/catalogue.md
    .venv/bin/python docs/generate_catalogue_reference.py --check  # exit 1 when out of date

The catalogue is read twice: through the engine's own loader, so that the page only
ever describes a catalogue the engine accepts (and names products and removal steps as
the engine does), and as YAML, for the names as written and the comments beside them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

# The matching rules the page states are the engine's own constants.
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    _BUCKET as BUCKET,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    _FLOATING_MIN_LITERALS as FLOATING_MIN_LITERALS,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    _SUFFIXES as SUFFIXES,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    GRADES,
    UNVERIFIED,
    load_catalogue,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "plugins" / "plugin_utils" / "catalogue.yml"
POLICY = REPO / "plugins" / "plugin_utils" / "policy.yml"
OUTPUT = REPO / "docs" / "catalogue.md"
COMMAND = ".venv/bin/python docs/generate_catalogue_reference.py"

# The keys every OS family's products may have besides its signature keys (whose words
# the catalogue's os_families give), in the order and words of the page.
COMMON_ROWS = (
    ("paths", "Paths (and registry keys)"),
    ("status_part", "Whether it protects the host, decided by"),
    ("uninstall_properties", "Properties of a password-protected uninstall"),
    ("uninstall_note", "Told to the operator before its removal"),
    ("manual_removal", "Never removed unattended, because"),
    ("confirm_removal", "Removed once an operator confirms, after this"),
    ("refuse_removal_when", "Refused for a manual removal when found with it"),
    ("install", "Installed by avshift"),
    ("protection", "Signature time and real-time protection read by"),
    ("sources", "Where the names were seen"),
)
ACTIVE_KEYS = ("active_services", "active_processes")


def family_labels(catalogue) -> dict[str, str]:
    return {family.id: family.name for family in catalogue.os_families.values()}


def rows(catalogue) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per OS family: the catalogue keys of a product, in the order and words of the page."""
    return {
        family.id: (*family.signature_labels.items(), *COMMON_ROWS)
        for family in catalogue.os_families.values()
    }


def _row_value(key: str, value, grades=None) -> str:
    if key == "sources":
        return _grade_counts(grades.values()) + ", listed below"
    if key == "status_part":
        return f"the inventory's `{value}` part (running mode, real-time protection, policies)"
    if key in ("uninstall_note", "manual_removal", "confirm_removal"):
        return _text(value)
    if key == "refuse_removal_when":
        found = "; ".join(
            f"{kind} {_names(names, grades)}" for kind, names in value.items() if kind != "because"
        )
        return f"{found}: {_text(value['because'])}"
    if key == "install":
        facts = ", ".join(f"{name} `{fact}`" for name, fact in (value.get("facts") or {}).items())
        return (
            f"task file `{value['task_file']}`; turned on before the removal: "
            f"{value['before_removal']}" + (f"; it knows the {facts}" if facts else "")
        )
    if key == "protection":
        read = "; ".join(
            f"{name} "
            + ", ".join(f"`{item}`" for item in (spec if isinstance(spec, list) else [spec]))
            for name, spec in value.items()
            if name != "probe"
        )
        return f"the collector's `{value['probe']}` probe" + (f" ({read})" if read else "")
    return _names(value, grades)


def _grade_counts(grades) -> str:
    grades = list(grades)
    return ", ".join(
        f"{sum(1 for grade in grades if grade == name)} {name}" for name in GRADES if name in grades
    )


_COMMENT = re.compile(r"(?:^|\s)#\s?(?P<text>.*)$")


class UndescribedKeyError(Exception):
    """The catalogue holds something this page does not know how to describe."""


def _comment(line: str) -> str | None:
    """The comment on a YAML source line, if the '#' is outside any quotes."""
    match = _COMMENT.search(line)
    if match is None:
        return None
    before = line[: match.start()]
    if before.count('"') % 2 or before.count("'") % 2:
        return None
    return match["text"].strip() or None


def _notes(lines: list[str], key: yaml.Node, value: yaml.Node) -> list[str]:
    """Comments written about one key: just above it, beside it and inside its value.

    A comment that runs over several whole lines is one note.
    """
    first = key.start_mark.line
    while first > 0 and lines[first - 1].strip().startswith("#"):
        first -= 1
    # A block sequence ends where the next key starts: its last item ends it here.
    if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        last = value.value[-1].end_mark.line
    elif isinstance(value, yaml.ScalarNode) and value.style in (">", "|"):
        # A block scalar ends where the next line after it starts, and takes the
        # comments of the next key with it unless stopped before that line.
        last = value.end_mark.line - (value.end_mark.column == 0)
    else:
        last = value.end_mark.line
    notes: list[str] = []
    continues = False
    for line in lines[first : last + 1]:
        comment = _comment(line)
        whole_line = line.strip().startswith("#")
        if comment and whole_line and continues:
            notes[-1] = f"{notes[-1]} {comment}"
        elif comment:
            notes.append(comment)
        continues = bool(comment) and whole_line
    return notes


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {key.value: (key, value) for key, value in node.value}


def _names(values, grades=None) -> str:
    """Names as code, each unverified one said to be (grades: name -> grade)."""
    shown = []
    for value in values or ():
        mark = " (unverified)" if grades and grades.get(value) == UNVERIFIED else ""
        shown.append(f"`{value}`{mark}".replace("|", "\\|"))
    return ", ".join(shown) or "none"


def _text(text: str) -> str:
    """Catalogue text in a Markdown line or table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _sources(provenance) -> list[str]:
    """Where a block's names were seen, one line per source."""
    out = []
    for source in provenance.sources:
        names = ", ".join(f"`{name}`".replace("|", "\\|") for name in source.covers)
        if source.reference is not None:
            ref = source.reference
            out.append(
                f"- [{_text(ref.title)}]({ref.url}) ({ref.grade}, read {ref.read}): {names}. "
                f'"{_text(source.excerpt)}"'
            )
        else:
            seen = f' Seen: "{_text(source.excerpt)}"' if source.excerpt else ""
            out.append(f"- Unverified, {_text(source.unverified)}: {names}.{seen}")
    return out


def _join_notes(notes: list[str]) -> str:
    return "; ".join(notes).replace("|", "\\|")


def _active_row(block: dict, os_family: str) -> str:
    """What the host must show for the product to count as protecting it."""
    parts = []
    for key, kind, one, many in (
        ("active_services", "services", "service", "services"),
        ("active_processes", "processes", "process", "processes"),
    ):
        if key in block:
            parts.append(f"running {one} {_names(block[key])}")
        elif block.get(kind):
            parts.append(f"any of its {many} running")
    if os_family == "windows" and (block.get("display_names") or block.get("security_center")):
        parts.append("a Security Center entry of it that is on")
    return "; ".join(parts) or "nothing: it lists no services or processes"


def _policy_words(vendor: str, policy, labels) -> str:
    if vendor in policy.disallowed:
        return "disallowed"
    approved = [labels[family] for family, vendors in policy.approved.items() if vendor in vendors]
    return f"approved on {' and '.join(approved)}" if approved else "reported as other"


def _product_section(catalogue, lines, product_id, spec_node, spec, product, rank) -> list[str]:
    step = f"removal step {rank}" if rank else "removed first: role not in the removal order"
    out = [
        f"### {product.name} (`{product_id}`)",
        "",
        f"Role: `{product.role}` ({step}).",
        "",
    ]
    nodes = _mapping(spec_node)
    labels = family_labels(catalogue)
    for os_family, family_rows in rows(catalogue).items():
        block = spec.get(os_family)
        if block is None:
            continue
        unknown = sorted(set(block) - {key for key, _label in family_rows} - set(ACTIVE_KEYS))
        if unknown:
            raise UndescribedKeyError(
                f"{product_id}.{os_family}: keys {unknown} are not described by "
                "docs/generate_catalogue_reference.py; add them to COMMON_ROWS or to the "
                "family's signature_keys"
            )
        block_nodes = _mapping(nodes[os_family][1])
        grades = catalogue.product(product.vendor, product_id, os_family).provenance.grades
        out += [f"| {labels[os_family]} | Names | Notes |", "|---|---|---|"]
        for key, label in family_rows:
            if key in block:
                # A source's excerpt may hold a "#": not a note of the catalogue's.
                notes = "" if key == "sources" else _join_notes(_notes(lines, *block_nodes[key]))
                value = _row_value(key, block[key], grades)
                out.append(f"| {label} | {value} | {notes} |".replace("|  |", "| |"))
        out += [f"| Counts as active | {_active_row(block, os_family)} | |", ""]
        provenance = catalogue.product(product.vendor, product_id, os_family).provenance
        out += [f"Where its {labels[os_family]} names were seen:", "", *_sources(provenance), ""]
    return out


def _optional_suffixes() -> str:
    kinds = {"services": "services", "processes": "processes", "drivers": "drivers and modules"}
    return "; ".join(
        f"{', '.join(f'`{suffix}`' for suffix in SUFFIXES[kind])} ({words})"
        for kind, words in kinds.items()
    )


def _all_grades(products, vendor_provenances) -> list[str]:
    """The grade of every name written: per product block, and per vendor."""
    grades = [grade for product in products for grade in product.provenance.grades.values()]
    for provenance in vendor_provenances:
        grades += provenance.grades.values()
    return grades


def _introduction(catalogue, products) -> list[str]:
    labels = family_labels(catalogue)
    grades = _all_grades(products, catalogue.vendor_provenance.values())
    per_family = {
        family: len({(p.vendor, p.id) for p in products if p.os_family == family})
        for family in labels
    }
    counts = ", ".join(f"{per_family[family]} for {label}" for family, label in labels.items())
    return [
        "# Vendor catalogue reference",
        "",
        "<!-- Generated from plugins/plugin_utils/catalogue.yml and policy.yml by",
        f"     docs/generate_catalogue_reference.py. Do not edit; regenerate: {COMMAND} -->",
        "",
        "What `avshift.remediation.av_scan` recognises on a host, vendor by vendor: "
        f"{len(catalogue.vendors)} vendors, {sum(per_family.values())} products "
        f"({counts}). "
        "The catalogue, `plugins/plugin_utils/catalogue.yml`, is the only place these "
        "names are written; this page is generated from it.",
        "",
        "## How names are matched",
        "",
        "- Every name compares case-insensitively. `*`, `?` and `[0-9]` are wildcards. A "
        f"pattern has {BUCKET} literal characters before its first wildcard, or starts "
        f"with `*` and has at least {FLOATING_MIN_LITERALS} literal characters.",
        f"- These endings are optional: {_optional_suffixes()}. Display names compare "
        "with their blanks folded.",
        "- An exact name beats a pattern; among patterns, the one with the most literal "
        "characters wins.",
        "- A package or uninstall entry whose publisher is one of a vendor's publishers, "
        "and that matches none of its products, is attributed to the vendor as `other`.",
        "- Vendor paths found on a host with no software of the vendor are reported as "
        "residue (files left behind by a removal).",
        "- A product counts as active (an approved one must, for its host to be "
        "compliant) when the host shows what its *Counts as active* row names.",
        "- Notes are the catalogue's own comments.",
        "",
        "## How a package is tied to a vendor",
        "",
        "A Linux package (dpkg or rpm) or a Windows uninstall entry is a vendor's in one of "
        "these ways, the first that applies:",
        "",
        "1. Its name is one of a product's package names (`kesl`, `klnagent64`), or on "
        "Windows matches one of its display-name patterns.",
        "2. Its name matches an anchored pattern of a product: the pattern spans the whole "
        f"name from its first character, with {BUCKET} literal characters before the first "
        "wildcard (`drweb-*` is every name that starts with `drweb-`, never one that only "
        "contains it).",
        "3. Its publisher (dpkg Maintainer, rpm Vendor, the uninstall entry's Publisher) is "
        "one of the vendor's publishers. Then a product's *published by the vendor* pattern "
        "names the product: builds named for a certified distribution (`kesl*` covers a "
        "`kesl-astra`). Without such a pattern the package is the vendor's as `other`.",
        "",
        "A package that only shares a vendor's prefix is not the vendor's: its name is no "
        "product's, and its publisher is someone else's or none. Publishers compare after "
        "folding case, quotes, punctuation, e-mail addresses and Cyrillic look-alike letters; "
        "a vendor named in a description or comment never counts.",
        "",
        "## Where the names come from",
        "",
        f"Every name carries its sources: {len(grades)} names, of them "
        f"{_grade_counts(grades)}, from {len(catalogue.references)} references. The "
        "catalogue loader refuses a name without a source.",
        "",
        "- *primary*: seen in the vendor's (or Microsoft's) own documentation or code.",
        "- *secondary*: seen in public third-party material one can open: community tables, "
        "public scripts, press.",
        "- *unverified*: no source one can open; the catalogue says why (often: seen only in "
        "a public script whose repository was not recorded). Unverified names are marked "
        "so in the tables below; they detect and report like any other, but a removal "
        "planned on unverified names alone is held in the removal plan until an operator "
        "confirms it (`avshift_remediate_confirmed`, `avshift_uninstall_confirmed`).",
        "",
        "Under each product, its sources: the page, its grade and the date it was read, the "
        "names it shows, and the words of it that show them.",
    ]


def _policy_section(catalogue, policy) -> list[str]:
    def named(vendors):
        return ", ".join(f"{catalogue.vendors[v]} (`{v}`)" for v in vendors) or "none"

    out = [
        "",
        "## Shipped policy",
        "",
        "`plugins/plugin_utils/policy.yml`, used when a run names no policy:",
        "",
        f"- Disallowed: {named(sorted(policy.disallowed))}",
    ]
    labels = family_labels(catalogue)
    for family, vendors in policy.approved.items():
        out.append(f"- Approved on {labels[family]}: {named(vendors)}")
    return out


def _removal_section(catalogue, products) -> list[str]:
    out = [
        "",
        "## Removal order",
        "",
        "The products found on one host are removed in this order of their role (a role "
        "missing from the list goes first):",
        "",
        "| Step | Role | Products |",
        "|---|---|---|",
    ]
    for step, role in enumerate(catalogue.removal_order, start=1):
        names = sorted({p.name for p in products if p.role == role})
        out.append(f"| {step} | `{role}` | {', '.join(names) or 'none'} |")
    out += [
        "",
        "Products of these roles are never removed: the removal plan holds them, with the "
        "reason, and a host that has one is not remediated. The management agent a vendor's "
        "management server runs on its own host is held with it.",
        "",
    ]
    out += [f"- `{role}`: {_text(why)}" for role, why in catalogue.refused_roles.items()]
    protected = sorted({p.name for p in products if p.uninstall_properties}, key=str.casefold)
    out += [
        "",
        "Products whose removal takes a password when the vendor's password protection is "
        f"on (the uninstall properties under each product): {', '.join(protected) or 'none'}.",
    ]
    return out


def _vendor_table(catalogue, policy) -> list[str]:
    labels = family_labels(catalogue)
    out = [
        "",
        "## Vendors",
        "",
        "| Vendor | Id | Shipped policy | "
        + " | ".join(f"{label} products" for label in labels.values())
        + " | Names | Unverified |",
        "|---|---|---|" + "---|" * len(labels) + "---|---|",
    ]
    for vendor, name in catalogue.vendors.items():
        counts = " | ".join(
            str(sum(1 for p in catalogue.products[vendor] if p.os_family == family))
            for family in labels
        )
        grades = _all_grades(catalogue.products[vendor], [catalogue.vendor_provenance[vendor]])
        unverified = sum(1 for grade in grades if grade == UNVERIFIED)
        words = _policy_words(vendor, policy, labels)
        out.append(
            f"| [{name}](#{vendor}) | `{vendor}` | {words} | {counts} | {len(grades)} "
            f"| {unverified} |"
        )
    return out


def _vendor_section(catalogue, policy, lines, vendor, spec, node) -> list[str]:
    nodes = _mapping(node)
    publisher_notes = _notes(lines, *nodes["publishers"])
    note = f" Note: {_join_notes(publisher_notes)}" if publisher_notes else ""
    out = [
        "",
        f'<a id="{vendor}"></a>',
        "",
        f"## {catalogue.vendors[vendor]} (`{vendor}`)",
        "",
        f"Shipped policy: {_policy_words(vendor, policy, family_labels(catalogue))}.",
        "",
        f"Publishers: {_names(spec.get('publishers'), catalogue.vendor_provenance[vendor].grades)}."
        f"{note}",
        "",
        "Vendor paths (residue when found alone):",
        "",
    ]
    labels = family_labels(catalogue)
    provenance = catalogue.vendor_provenance[vendor]
    for family, label in labels.items():
        paths = (spec.get("paths") or {}).get(family)
        out.append(f"- {label}: {_names(paths, provenance.grades)}")
    out += ["", "Where its publishers and vendor paths were seen:", "", *_sources(provenance), ""]
    product_nodes = _mapping(nodes["products"][1])
    for product_id, product_spec in spec["products"].items():
        family = next(family for family in labels if family in product_spec)
        product = catalogue.product(vendor, product_id, family)
        rank = catalogue.removal_rank(product.role)
        out += _product_section(
            catalogue, lines, product_id, product_nodes[product_id][1], product_spec, product, rank
        )
    return out


def render(catalogue_path: Path = CATALOGUE, policy_path: Path = POLICY) -> str:
    """The reference page for a catalogue and a policy, as Markdown."""
    catalogue = load_catalogue(catalogue_path)
    policy = load_policy(policy_path, catalogue)
    text = Path(catalogue_path).read_text(encoding="utf-8")
    lines = text.splitlines()
    data = yaml.safe_load(text)
    vendor_nodes = _mapping(_mapping(yaml.compose(text))["vendors"][1])
    products = [product for found in catalogue.products.values() for product in found]

    out = _introduction(catalogue, products)
    out += _policy_section(catalogue, policy)
    out += _removal_section(catalogue, products)
    out += _vendor_table(catalogue, policy)
    for vendor, spec in data["vendors"].items():
        out += _vendor_section(catalogue, policy, lines, vendor, spec, vendor_nodes[vendor][1])
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", type=Path, default=CATALOGUE)
    parser.add_argument("--policy", type=Path, default=POLICY)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="only report whether the output is up to date"
    )
    args = parser.parse_args(argv)
    page = render(args.catalogue, args.policy)
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != page:
            print(f"{args.output} is out of date; regenerate it with: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if current != page:
        args.output.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
