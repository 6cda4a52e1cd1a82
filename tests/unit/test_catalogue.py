"""The catalogue against the research notes and hand-written host data.

The list of products to cover is read from catalogue.yml, but every product's inventory
entries are hand-written in tests/data/hand_written/products.yml: a product added to the
catalogue without a hand-written case fails here, and a catalogue edit that stops
matching what hosts really show fails here too.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from pathlib import Path

import pytest
import yaml
from activity_policy import ACTIVITY_POLICY

from ansible_collections.avshift.remediation.plugins.plugin_utils.catalogue import (
    CATALOGUE_PATH,
    load_catalogue,
    normalize,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import (
    classify as classify_under,
)
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import CatalogueError
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import load_policy


def classify(inventory, policy=None, *args, **kwargs):
    """The classifier, under the shipped policy without its protection rules unless a
    test gives its own: these inventories hold what makes a product active, and no
    signature times (tests/activity_policy.py)."""
    return classify_under(inventory, policy or ACTIVITY_POLICY, *args, **kwargs)


HAND_WRITTEN = Path(__file__).resolve().parents[1] / "data" / "hand_written"
CATALOGUE = load_catalogue()
PRODUCT_CASES = yaml.safe_load((HAND_WRITTEN / "products.yml").read_text(encoding="utf-8"))
NOTES = yaml.safe_load((HAND_WRITTEN / "notes_kaspersky.yml").read_text(encoding="utf-8"))

# The issue's list of vendor ids, written out rather than read from the catalogue.
REQUIRED_VENDORS = (
    "kaspersky",
    "drweb",
    "crowdstrike",
    "sophos",
    "trellix",
    "symantec",
    "eset",
    "trendmicro",
    "bitdefender",
    "microsoft",
    "clamav",
    # Software that arrives by itself after the US ban, and two more EDR vendors.
    "pango",
    "sentinelone",
    "paloalto",
)
EVIDENCE_KIND = {
    "packages": "package",
    "services": "service",
    "processes": "process",
    "drivers": "driver",
    "security_center": "security_center",
}
INVENTORY_KINDS = (*EVIDENCE_KIND, "paths")
CYRILLIC = re.compile("[\u0400-\u04ff]")

# (vendor, product, os family) for every product the catalogue has, on each OS family.
CATALOGUE_PRODUCTS = sorted(
    (product.vendor, product.id, product.os_family)
    for products in CATALOGUE.products.values()
    for product in products
)


def policy_disallowing(*vendors: str):
    """A valid policy that disallows the given vendors and approves others."""
    approved = {"linux": ["clamav"], "windows": ["microsoft"]}
    if "clamav" in vendors:
        approved["linux"] = ["microsoft"]
    if "microsoft" in vendors:
        approved["windows"] = ["eset"]
        if "clamav" not in vendors:
            approved["linux"] = ["clamav"]
    return load_policy({"disallowed_vendors": list(vendors), "approved": approved})


def inventory(os_family: str, **parts) -> dict:
    return {"schema": 1, "host": "test-host", "os_family": os_family, **parts}


def expected_evidence(case: dict) -> set[tuple[str, str]]:
    evidence = set()
    for kind, entries in case.items():
        assert kind in INVENTORY_KINDS, f"products.yml: unknown inventory kind {kind!r}"
        for entry in entries:
            if kind == "paths":
                evidence.add(("path", entry))
            elif kind == "security_center":
                evidence.add(("security_center", entry["display_name"]))
            else:
                evidence.add((EVIDENCE_KIND[kind], entry["name"]))
    return evidence


# -- the catalogue's own integrity ------------------------------------------------------


@pytest.mark.parametrize("vendor", REQUIRED_VENDORS)
def test_required_vendor_is_catalogued_with_a_product(vendor):
    assert vendor in CATALOGUE.vendors
    assert CATALOGUE.products[vendor], f"{vendor} has no product"


def test_vendor_ids_are_exact_lowercase():
    for vendor in CATALOGUE.vendors:
        assert re.fullmatch("[a-z][a-z0-9_]*", vendor), vendor


def test_every_product_has_live_signatures_on_each_os_family():
    """A product known only by paths could never be more than residue."""
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    live_keys = {"packages", "display_names", "security_center", "services", "processes"}
    live_keys.add("drivers")
    for vendor, spec in raw["vendors"].items():
        for product_id, product in spec["products"].items():
            families = [family for family in ("linux", "windows") if family in product]
            assert families, f"{vendor}/{product_id} exists on no OS family"
            for family in families:
                assert live_keys & set(product[family]), f"{vendor}/{product_id} on {family}"


def test_every_reference_is_cited_and_every_source_shows_what_it_covers():
    """A reference nobody cites is a stale entry; an excerpt without the words it is
    quoted for proves nothing (a pattern shows by its literal words, a path by itself)."""
    cited = set()
    blocks = [product.provenance for found in CATALOGUE.products.values() for product in found]
    blocks += CATALOGUE.vendor_provenance.values()
    for provenance in blocks:
        for source in provenance.sources:
            if source.reference is None:
                assert source.unverified.strip()
                continue
            cited.add(source.reference.id)
            assert source.excerpt.strip()
    assert cited == set(CATALOGUE.references)


def test_kaspersky_russian_names_and_publishers_are_present():
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    kaspersky = raw["vendors"]["kaspersky"]
    assert "АО «Лаборатория Касперского»" in kaspersky["publishers"]  # noqa: RUF001
    windows_names = [
        name
        for product in kaspersky["products"].values()
        for name in product.get("windows", {}).get("display_names", [])
    ]
    assert any(CYRILLIC.search(name) for name in windows_names)


def test_products_yml_has_no_case_for_a_product_the_catalogue_lacks():
    known = {(vendor, product, family) for vendor, product, family in CATALOGUE_PRODUCTS}
    for key, families in PRODUCT_CASES.items():
        vendor, product = key.split("/")
        for family in families:
            assert (vendor, product, family) in known, f"products.yml: stale case {key} {family}"


# -- one positive case per product and OS family -----------------------------------------


@pytest.mark.parametrize(
    ("vendor", "product", "os_family"),
    CATALOGUE_PRODUCTS,
    ids=[f"{v}/{p}/{f}" for v, p, f in CATALOGUE_PRODUCTS],
)
def test_product_is_found_on_each_os_family_where_it_exists(vendor, product, os_family):
    case = PRODUCT_CASES.get(f"{vendor}/{product}", {}).get(os_family)
    assert case, (
        f"catalogue product {vendor}/{product} exists on {os_family} but "
        f"tests/data/hand_written/products.yml has no hand-written case for it"
    )
    verdict = classify(inventory(os_family, **case), policy_disallowing(vendor))

    assert verdict["compliant"] is False
    assert verdict["approved"] == []
    assert verdict["other"] == []
    assert verdict["residue"] == []
    # Every hand-written entry belongs to this one product, so there is one finding.
    assert [(f["vendor"], f["product"]) for f in verdict["disallowed"]] == [(vendor, product)]
    finding = verdict["disallowed"][0]
    evidence = {(item["kind"], item["value"]) for item in finding["evidence"]}
    assert evidence == expected_evidence(case)
    # The finding is named by one of the names as found on the host.
    assert finding["name"] in {value for kind, value in evidence if kind != "path"}


APPROVED_BY_SHIPPED_POLICY = [
    (vendor, product, family)
    for vendor, product, family in CATALOGUE_PRODUCTS
    if vendor in load_policy().approved[family]
]


@pytest.mark.parametrize(
    ("vendor", "product", "os_family"),
    APPROVED_BY_SHIPPED_POLICY,
    ids=[f"{v}/{p}/{f}" for v, p, f in APPROVED_BY_SHIPPED_POLICY],
)
def test_approved_product_running_per_hand_written_case_is_active(vendor, product, os_family):
    """Every hand-written case of an approved product has a daemon running."""
    case = PRODUCT_CASES[f"{vendor}/{product}"][os_family]
    verdict = classify(inventory(os_family, **case))
    assert verdict["disallowed"] == []
    assert [(f["vendor"], f["product"], f["active"]) for f in verdict["approved"]] == [
        (vendor, product, True)
    ]
    assert verdict["compliant"] is True


# -- every Kaspersky name in the notes ----------------------------------------------------

NOTE_ITEMS = [(family, item) for family in ("linux", "windows") for item in NOTES[family]]


@pytest.mark.parametrize(
    ("os_family", "item"),
    NOTE_ITEMS,
    ids=[f"{family}-{item['kind']}-{item['name']}" for family, item in NOTE_ITEMS],
)
def test_every_kaspersky_name_in_the_notes_is_recognised(os_family, item):
    kind, name = item["kind"], item["name"]
    if kind == "paths":
        verdict = classify(inventory(os_family, paths=[name]))
        assert verdict["disallowed"] == []
        assert verdict["residue"] == [
            {"vendor": "kaspersky", "evidence": [{"kind": "path", "value": name}]}
        ]
        return
    if kind == "publisher":
        # A display name that names no vendor: the publisher alone must attribute it.
        entry = {"name": "Web Protection Helper", "publisher": name}
        verdict = classify(inventory(os_family, packages=[entry]))
        assert [(f["vendor"], f["product"], f["name"]) for f in verdict["disallowed"]] == [
            ("kaspersky", "other", "Web Protection Helper")
        ]
        return
    entry = {"name": name}
    if kind == "services":
        entry["state"] = "stopped"
    verdict = classify(inventory(os_family, **{kind: [entry]}))
    assert [f["vendor"] for f in verdict["disallowed"]] == ["kaspersky"], verdict
    finding = verdict["disallowed"][0]
    assert finding["name"] == name
    assert finding["evidence"] == [{"kind": EVIDENCE_KIND[kind], "value": name}]
    if item.get("product"):
        assert finding["product"] == item["product"]
    else:
        assert finding["product"] != "other"


# -- the loader --------------------------------------------------------------------------


# The shipped catalogue's OS families, for catalogues written by these tests.
FAMILIES = yaml.safe_dump(
    {"os_families": yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))["os_families"]}
)


def _write_catalogue(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.yml"
    path.write_text(FAMILIES + text, encoding="utf-8")
    return path


# A reference and sources for the catalogues these tests write: every name needs one.
REFERENCES = """\
references:
  vendor-docs:
    title: The vendor's documentation
    url: https://docs.example.org/av
    read: 2026-12-01
    grade: primary
"""
UNVERIFIED = "sources: [{unverified: written for this test, covers: %s}]"
MINIMAL_VENDORS = """\
  clamav:
    name: ClamAV
    products:
      clamav_linux:
        linux:
          packages: [clamav]
          active_services: [clamd]
          sources: [{ref: vendor-docs, excerpt: apt install clamav, covers: [clamav]}]
  microsoft:
    name: Microsoft
    products:
      defender_antivirus:
        windows:
          services: [WinDefend]
          active_services: [WinDefend]
          %s
""" % (UNVERIFIED % "[WinDefend]")
# The smallest catalogue the loader takes, for the tests to add a vendor to.
MINIMAL_CATALOGUE = "schema: 1\n" + REFERENCES + "vendors:\n" + MINIMAL_VENDORS


def test_linux_kernel_module_matches_with_or_without_ko(tmp_path):
    """The shipped catalogue names no Linux module yet; the rule holds for any vendor."""
    path = _write_catalogue(
        tmp_path,
        MINIMAL_CATALOGUE
        + "  kaspersky:\n    name: Kaspersky\n    products:\n      kesl:\n"
        + "        linux: {drivers: [kav4fs_module], %s}\n" % (UNVERIFIED % "[kav4fs_module]"),
    )
    catalogue = load_catalogue(path)
    policy = load_policy(
        {
            "disallowed_vendors": ["kaspersky"],
            "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
        },
        catalogue=catalogue,
    )
    for name in ("kav4fs_module", "kav4fs_module.ko", "KAV4FS_MODULE.ko.xz"):
        verdict = classify(inventory("linux", drivers=[{"name": name}]), policy, catalogue)
        assert [(f["product"], f["name"]) for f in verdict["disallowed"]] == [("kesl", name)]


SOURCED = UNVERIFIED % "[kesl]"


@pytest.mark.parametrize(
    ("fragment", "bad"),
    [
        # "K*s..." would match any K-name: patterns need a literal prefix.
        (
            "      bad:\n        windows: {display_names: ['K*spersky'], %s}\n"
            % (UNVERIFIED % "['K*spersky']"),
            "K*spersky",
        ),
        ("      bad:\n        windows: {servcies: [AVP]}\n", "servcies"),
        ("      bad:\n        solaris: {packages: [kesl]}\n", "solaris"),
        (
            "      bad:\n        linux: {packages: [kesl], install: {task_file: x}, "
            + SOURCED
            + "}\n",
            "before_removal",
        ),
        # Provenance: every name has a source, and a source is one of the references.
        ("      bad:\n        linux: {packages: [kesl]}\n", "no source for 'kesl': cite"),
        (
            "      bad:\n        linux: {packages: [kesl, kesl-gui, kesl-x]}\n",
            "no source for 'kesl' (and 2 more): cite",
        ),
        (
            "      bad:\n        linux: {packages: [kesl, kesl-gui], " + SOURCED + "}\n",
            "no source for 'kesl-gui'",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], sources: [{ref: no-such-page, "
            "excerpt: kesl, covers: [kesl]}]}\n",
            "no reference 'no-such-page'",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], sources: [{ref: vendor-docs, "
            "covers: [kesl]}]}\n",
            "sources[0].excerpt",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], sources: [{unverified: x, "
            "covers: [kesl, kesl-old]}]}\n",
            "'kesl-old' is not a name of this block",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], sources: [{unverified: x, "
            "covers: [kesl, kesl-a, kesl-b]}]}\n",
            "'kesl-a' is not a name of this block",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], sources: [{ref: vendor-docs, "
            "unverified: x, excerpt: kesl, covers: [kesl]}]}\n",
            "either ref",
        ),
        # A note for the operator is words, not an empty placeholder.
        (
            "      bad:\n        linux: {packages: [kesl], uninstall_note: '  ', "
            + SOURCED
            + "}\n",
            "uninstall_note",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], manual_removal: '', " + SOURCED + "}\n",
            "manual_removal",
        ),
        # A refusal names the evidence kind it looks at, and says why.
        (
            "      bad:\n        linux: {packages: [kesl], refuse_removal_when: "
            "{registry: [x], because: y}, " + SOURCED + "}\n",
            "refuse_removal_when.registry",
        ),
        (  # the same, with its reason written first
            "      bad:\n        linux: {packages: [kesl], refuse_removal_when: "
            "{because: y, registry: [x]}, " + SOURCED + "}\n",
            "refuse_removal_when.registry",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], refuse_removal_when: "
            "{drivers: [kl1]}, " + SOURCED + "}\n",
            "refuse_removal_when.because",
        ),
        (
            "      bad:\n        linux: {packages: [kesl], refuse_removal_when: "
            "{because: y}, " + SOURCED + "}\n",
            "names no evidence",
        ),
        (
            "      bad:\n        windows: {services: [AVP], status_part: registry, "
            "sources: [{ref: vendor-docs, excerpt: AVP, covers: [AVP]}]}\n",
            "status_part",
        ),
    ],
)
def test_malformed_catalogue_is_refused_naming_the_bad_entry(tmp_path, fragment, bad):
    text = MINIMAL_CATALOGUE + "  kaspersky:\n    products:\n" + fragment
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write_catalogue(tmp_path, text))
    assert bad in str(caught.value)
    assert "catalogue.yml" in str(caught.value)


@pytest.mark.parametrize(
    ("reference", "bad"),
    [
        ("{title: t, url: docs.example.org, read: 2026-12-01, grade: primary}", "http(s) URL"),
        ("{title: t, url: 'https://x.example', read: last week, grade: primary}", "YYYY-MM-DD"),
        (
            "{title: t, url: 'https://x.example', read: 2026-12-01, grade: unverified}",
            "grade: expected one of primary, secondary",
        ),
        ("{url: 'https://x.example', read: 2026-12-01, grade: primary}", "title"),
    ],
)
def test_a_reference_without_a_page_date_or_grade_is_refused(tmp_path, reference, bad):
    text = f"schema: 1\nreferences:\n  page: {reference}\nvendors:\n" + MINIMAL_VENDORS
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write_catalogue(tmp_path, text))
    assert bad in str(caught.value)
    assert "references.page" in str(caught.value)


@pytest.mark.parametrize("schema", ["0", "2", "'1'"])
def test_a_catalogue_of_another_schema_is_refused(tmp_path, schema):
    text = f"schema: {schema}\n" + REFERENCES + "vendors:\n" + MINIMAL_VENDORS
    with pytest.raises(CatalogueError, match="schema: expected 1"):
        load_catalogue(_write_catalogue(tmp_path, text))


def test_a_vendor_publisher_without_a_source_is_refused(tmp_path):
    text = MINIMAL_CATALOGUE + "  kaspersky:\n    publishers: [Kaspersky Lab]\n    products: {}\n"
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write_catalogue(tmp_path, text))
    assert caught.value.field == "vendors.kaspersky.sources"
    assert "'Kaspersky Lab'" in str(caught.value)


def test_catalogue_with_another_schema_is_refused(tmp_path):
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write_catalogue(tmp_path, "schema: 2\nvendors: {}\n"))
    assert caught.value.field == "schema"


def _shipped(vendor: str, product_id: str, os_family: str):
    return CATALOGUE.product(vendor, product_id, os_family)


@pytest.mark.parametrize(
    ("os_family", "product", "kind", "value", "grade"),
    [
        # Microsoft's table of filter altitudes names klif.sys for Kaspersky Lab.
        ("windows", "kes_windows", "driver", "KLIF.SYS", "primary"),
        ("linux", "kesl", "process", "wdserver", "unverified"),
        # A path or a publisher is the vendor's, whichever product it joined.
        ("linux", "kesl", "path", "/var/opt/kaspersky", "primary"),
        ("windows", None, "publisher", "Kaspersky Lab", "primary"),
        ("windows", None, "publisher", '"AO Kaspersky Lab"', "primary"),
        ("windows", None, "publisher", "Kaspersky Lab UK Ltd", "unverified"),
        # Not a name of this product, or of this vendor, at all.
        ("linux", "kesl", "package", "klnagent64", "unverified"),
        ("linux", "kesl", "path", "/opt/CrowdStrike", "unverified"),
        ("linux", "kesl", "path", "/opt/Symantec", "unverified"),
        ("windows", None, "publisher", "Doctor Web", "unverified"),
        ("windows", None, "publisher", "Symantec Corporation", "unverified"),
        ("windows", "kes_windows", "registry", "HKLM\\SOFTWARE\\KasperskyLab", "unverified"),
        # A service: graded by the product's names, never read as a publisher.
        ("linux", "kesl", "service", "kesl", "primary"),
        ("linux", "kesl", "service", "kesl-supervisor", "secondary"),
        ("windows", None, "package", "Kaspersky Endpoint Security for Windows", "unverified"),
        # A name pattern, and a pattern that may match anywhere in a localised name.
        (
            "windows",
            "klnagent",
            "package",
            "Kaspersky Security Center 14.2 Network Agent",
            "primary",
        ),
        (
            "windows",
            "klnagent",
            "package",
            "Agent de gestion Kaspersky Security Center du réseau",
            "unverified",
        ),
    ],
)
def test_evidence_grade_is_the_best_grade_of_the_names_it_matches(
    os_family, product, kind, value, grade
):
    owner = _shipped("kaspersky", product, os_family) if product else None
    assert CATALOGUE.evidence_grade(os_family, "kaspersky", owner, kind, value) == grade


BY_PUBLISHER = (
    MINIMAL_CATALOGUE
    + """\
  kaspersky:
    name: Kaspersky
    publishers: [Kaspersky Lab]
    sources: [{unverified: written for this test, covers: [Kaspersky Lab]}]
    products:
      kesl:
        role: antivirus
        linux:
          packages: [kesl]
          vendor_packages: ["kesl*"]
          sources: [{unverified: written for this test, covers: [kesl, "kesl*"]}]
"""
)


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        # A build named for its distribution, published by the vendor: the product.
        (
            {"name": "kesl-astra", "publisher": "Kaspersky Lab <support@kaspersky.com>"},
            [("kesl", "kesl-astra", [("package", "kesl-astra"), ("publisher", "Kaspersky Lab")])],
        ),
        # The exact name needs no publisher.
        ({"name": "kesl"}, [("kesl", "kesl", [("package", "kesl")])]),
        # The vendor's publisher on a name no product has: the vendor's "other".
        (
            {"name": "klupdater", "publisher": "Kaspersky Lab"},
            [("other", "klupdater", [("package", "klupdater"), ("publisher", "Kaspersky Lab")])],
        ),
        # The prefix without the vendor's publisher is someone else's package.
        ({"name": "kesl-astra"}, []),
        ({"name": "kesl-cleanup", "publisher": "IT Operations <itops@example.org>"}, []),
    ],
    ids=["published-build", "exact", "publisher-only", "no-publisher", "other-publisher"],
)
def test_a_vendor_package_pattern_counts_only_with_the_vendors_publisher(
    tmp_path, package, expected
):
    catalogue = load_catalogue(_write_catalogue(tmp_path, BY_PUBLISHER))
    policy = load_policy(
        {
            "disallowed_vendors": ["kaspersky"],
            "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
        },
        catalogue=catalogue,
    )
    package = {**package, "source": "dpkg"}
    verdict = classify(inventory("linux", packages=[package]), policy, catalogue)
    found = [
        (
            f["product"],
            f["name"],
            [(e["kind"], e["value"].split(" <")[0]) for e in f["evidence"]],
        )
        for f in verdict["disallowed"]
    ]
    assert found == expected
    assert verdict["other"] == []


@pytest.mark.parametrize(
    ("family", "key", "value"),
    [
        ("windows", "services", True),
        ("linux", "drivers", True),  # a key whose kinds sort before packages
        ("linux", "packages", "yes"),  # only true itself
        ("linux", "packages", 0),  # not false either, though equal to it
    ],
)
def test_by_publisher_is_refused_unless_true_on_a_packages_key(tmp_path, family, key, value):
    data = yaml.safe_load(FAMILIES)
    data["os_families"][family]["signature_keys"][key]["by_publisher"] = value
    path = tmp_path / "catalogue.yml"
    path.write_text(yaml.safe_dump(data) + "schema: 1\nvendors:\n" + MINIMAL_VENDORS)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert caught.value.field == f"os_families.{family}.signature_keys.{key}.by_publisher"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            MINIMAL_CATALOGUE
            + "  kaspersky:\n    publishers: [Kaspersky Lab, 7]\n    products: {}\n",
            "vendors.kaspersky.publishers[1]",
            "expected a string",
        ),
        (
            MINIMAL_CATALOGUE
            + "  kaspersky:\n    paths: {solaris: [/opt/kaspersky]}\n    products: {}\n",
            "vendors.kaspersky.paths",
            "unknown OS family 'solaris'",
        ),
        (
            MINIMAL_CATALOGUE
            + "removal_order: [antivirus]\nremoval_refused: {server: it manages hosts}\n",
            "removal_refused.server",
            "not a role of removal_order",
        ),
    ],
)
def test_a_wrong_vendor_list_path_family_or_refused_role_is_refused_naming_it(
    tmp_path, text, field, message
):
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write_catalogue(tmp_path, text))
    assert caught.value.field == field
    assert message in str(caught.value)


def test_a_signature_key_of_an_unknown_inventory_kind_is_refused(tmp_path):
    data = yaml.safe_load(FAMILIES)
    data["os_families"]["linux"]["signature_keys"]["drivers"]["kinds"] = ["drivers", "modules"]
    path = tmp_path / "catalogue.yml"
    path.write_text(yaml.safe_dump(data) + "schema: 1\nvendors:\n" + MINIMAL_VENDORS)
    with pytest.raises(CatalogueError, match="unknown inventory kind 'modules'") as caught:
        load_catalogue(path)
    assert caught.value.field == "os_families.linux.signature_keys.drivers"


def test_a_product_is_looked_up_in_its_own_os_family_only():
    defender = CATALOGUE.product("microsoft", "defender_antivirus", "windows")
    assert defender is not None and defender.os_family == "windows"
    assert CATALOGUE.product("microsoft", "defender_antivirus", "linux") is None


def test_windows_folders_are_written_by_their_environment_variables():
    # The system drive is not always C:; the collector expands the variables on the host.
    paths = load_catalogue().signatures["windows"].path_list
    assert paths
    assert [path for path in paths if path[1:3] == ":\\"] == []


@pytest.mark.parametrize(
    ("written", "reported"),
    [
        ("%ProgramFiles(x86)%\\Kaspersky Lab", "C:\\Program Files (x86)\\Kaspersky Lab\\"),
        ("%ProgramFiles%\\ESET", "c:\\program files\\eset"),
        ("%ProgramData%\\Kaspersky Lab", "C:\\ProgramData\\Kaspersky Lab"),
        (
            "%SystemRoot%\\System32\\drivers\\CrowdStrike",
            "C:\\Windows\\System32\\drivers\\CrowdStrike",
        ),
    ],
)
def test_a_path_written_out_in_its_default_expansion_is_the_same_path(written, reported):
    assert normalize("paths", written) == normalize("paths", reported)
    assert normalize("paths", written) != normalize("paths", "D:\\Program Files\\ESET")


def _floating_catalogue(tmp_path: Path, pattern: str) -> Path:
    names = f"['{pattern}']"
    fragment = (
        f"      agent:\n        windows: {{display_names: {names}, sources: [{{ref: vendor-docs, "
        f"excerpt: x, covers: {names}}}]}}\n"
    )
    text = MINIMAL_CATALOGUE + "  kaspersky:\n    products:\n" + fragment
    return _write_catalogue(tmp_path, text)


def test_a_pattern_that_may_match_anywhere_needs_twelve_literal_characters(tmp_path):
    catalogue = load_catalogue(_floating_catalogue(tmp_path, "*kaspersky ab*"))
    agent = catalogue.product("kaspersky", "agent", "windows")
    name = "Agent der Kaspersky AB Werkzeuge"
    assert catalogue.evidence_grade("windows", "kaspersky", agent, "package", name) == "primary"
    assert catalogue.evidence_grade("windows", "kaspersky", agent, "package", "Kaspersky") == (
        "unverified"
    )
    (tmp_path / "short").mkdir()
    with pytest.raises(CatalogueError):
        load_catalogue(_floating_catalogue(tmp_path / "short", "*kaspersky a*"))


def test_the_shared_catalogue_cannot_be_changed_by_any_of_its_readers():
    """load_catalogue() hands every caller of a controller process the same objects: a
    reader that changed one would change every later verdict."""
    kes = CATALOGUE.product("kaspersky", "kes_windows", "windows")
    records = [
        kes,
        next(iter(CATALOGUE.references.values())),
        CATALOGUE.os_families["windows"],
        kes.refuse_removal_when,
        kes.provenance,
        kes.provenance.sources[0],
        CATALOGUE.product("clamav", "clamav_linux", "linux").installer,
    ]
    for record in records:
        assert record is not None
        field = dataclasses.fields(record)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)


def test_each_family_installs_its_own_products_only():
    assert [p.id for p in CATALOGUE.installable("linux")] == [
        "defender_for_endpoint_linux",
        "clamav_linux",
    ]
    assert [p.id for p in CATALOGUE.installable("windows")] == ["defender_antivirus"]


def test_a_product_is_found_by_its_own_id_and_family_only():
    for products in CATALOGUE.products.values():
        for product in products:
            assert CATALOGUE.product(product.vendor, product.id, product.os_family) is product
    assert CATALOGUE.product("kaspersky", "kesl", "windows") is None
    assert CATALOGUE.product("kaspersky", "kes", "linux") is None  # a prefix of kesl


def test_a_vendor_counts_for_the_families_it_has_products_for():
    assert "clamav" in CATALOGUE.vendors_for("linux")
    assert "clamav" not in CATALOGUE.vendors_for("windows")
    assert "pango" in CATALOGUE.vendors_for("windows")
    assert "pango" not in CATALOGUE.vendors_for("linux")


def test_removal_ranks_follow_the_removal_order_and_unknown_roles_go_first():
    ranks = [CATALOGUE.removal_rank(role) for role in CATALOGUE.removal_order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert CATALOGUE.removal_rank("no-such-role") < min(ranks)


def test_grades_are_the_same_for_kinds_and_names_read_from_json():
    kes = _shipped("kaspersky", "kes_windows", "windows")
    for kind, value in (
        ("path", "%ProgramFiles(x86)%\\Kaspersky Lab"),
        ("publisher", "Kaspersky Lab"),
        ("driver", "klif.sys"),
    ):
        read = json.loads(json.dumps([kind, value]))
        assert CATALOGUE.evidence_grade("windows", "kaspersky", kes, *read) == (
            CATALOGUE.evidence_grade("windows", "kaspersky", kes, kind, value)
        )
        assert CATALOGUE.evidence_grade("windows", "kaspersky", kes, *read) == "primary", kind


def test_a_catalogue_that_cannot_be_read_or_parsed_is_a_short_error(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("schema: 1\nvendors: [\n")
    with pytest.raises(CatalogueError, match="invalid YAML"):
        load_catalogue(broken)


def test_two_names_without_a_source_are_counted(tmp_path):
    text = (
        MINIMAL_CATALOGUE
        + "  kaspersky:\n    products:\n      bad:\n        linux: {packages: [kesl, kesl-x]}\n"
    )
    with pytest.raises(CatalogueError, match=r"no source for 'kesl' \(and 1 more\): cite"):
        load_catalogue(_write_catalogue(tmp_path, text))


def test_a_floating_pattern_grades_only_its_own_product(tmp_path):
    names = "['*kaspersky other thing*']"
    text = (
        MINIMAL_CATALOGUE
        + "  kaspersky:\n    products:\n"
        + "      agent:\n        windows: {display_names: ['*kaspersky ab thing*'], "
        "sources: [{unverified: x, covers: ['*kaspersky ab thing*']}]}\n"
        + f"      other:\n        windows: {{display_names: {names}, sources: [{{ref: "
        f"vendor-docs, excerpt: x, covers: {names}}}]}}\n"
    )
    catalogue = load_catalogue(_write_catalogue(tmp_path, text))
    agent = catalogue.product("kaspersky", "agent", "windows")
    name = "The Kaspersky Other Thing"
    assert catalogue.evidence_grade("windows", "kaspersky", agent, "package", name) == "unverified"


def _unit_files_listed(globs: list[str], unit_file: str) -> bool:
    # systemd matches list-unit-files patterns with fnmatch(3), case-sensitively.
    return any(fnmatch.fnmatchcase(unit_file, glob) for glob in globs)


@pytest.mark.parametrize("os_family", sorted(CATALOGUE.signatures))
def test_the_unit_files_listed_are_those_whose_service_the_catalogue_names(os_family):
    """The collector asks systemd only for unit files matching these globs, so a
    catalogued service that is installed but not loaded must match one in any letter
    case, and names the catalogue would not attribute need not."""
    globs = CATALOGUE.unit_file_patterns(os_family)
    index = CATALOGUE.signatures[os_family].indexes["services"]
    names = set()
    for written in index.written:
        for concrete in (written.replace("*", "x-2").replace("?", "q"), written):
            concrete = re.sub(r"\[!?\^?([^\]-])[^\]]*\]", r"\1", concrete)
            names |= {concrete, concrete.upper(), concrete.title(), concrete + "x", "x" + concrete}
    names |= {"cron", "ssh", "getty@tty1", "kesl-lookalike", "clamav-freshclam"}
    assert names
    for name in sorted(names):
        attributed = bool(index.lookup(normalize("services", name)))
        assert _unit_files_listed(globs, name + ".service") == attributed, (name, attributed)


def test_a_named_service_instance_lists_its_template_for_its_start_mode(tmp_path):
    path = _write_catalogue(
        tmp_path,
        MINIMAL_CATALOGUE
        + "  clamav:\n    name: ClamAV\n    products:\n      clamav_linux:\n"
        + "        linux: {services: [clamd@scan, 'Kav[0-9]-x*'], %s}\n"
        % (UNVERIFIED % "[clamd@scan, 'Kav[0-9]-x*']"),
    )
    globs = load_catalogue(path).unit_file_patterns("linux")
    assert _unit_files_listed(globs, "clamd@scan.service")
    assert _unit_files_listed(globs, "clamd@.service")
    assert _unit_files_listed(globs, "CLAMD@.service")
    assert not _unit_files_listed(globs, "clamd@other.service")
    assert not _unit_files_listed(globs, "clamd.service")
    assert _unit_files_listed(globs, "KAV7-Xyz.service")
    assert not _unit_files_listed(globs, "kavx-x.service")
    assert not _unit_files_listed(globs, "kav7-x.socket")
