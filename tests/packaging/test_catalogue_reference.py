"""docs/catalogue.md is the catalogue as it is now, and says what the catalogue says."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import yaml
from packaging_support import ROOT

GENERATOR = ROOT / "docs" / "generate_catalogue_reference.py"
PAGE = ROOT / "docs" / "catalogue.md"
CATALOGUE = ROOT / "plugins" / "plugin_utils" / "catalogue.yml"
POLICY = ROOT / "plugins" / "plugin_utils" / "policy.yml"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_catalogue_reference", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_md_is_up_to_date():
    generator = _generator()
    assert PAGE.read_text(encoding="utf-8") == generator.render(), (
        "docs/catalogue.md differs from plugins/plugin_utils/catalogue.yml; regenerate it "
        f"with: {generator.COMMAND}"
    )


def test_check_option_fails_on_a_stale_page_and_names_the_command(tmp_path):
    stale = tmp_path / "catalogue.md"
    stale.write_text(PAGE.read_text(encoding="utf-8").replace("`kesl-gui`", "`kesl-old`"))
    argv = [sys.executable, str(GENERATOR), "--check"]
    fresh = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert fresh.returncode == 0, fresh.stderr
    done = subprocess.run(
        [*argv, "--output", str(stale)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "docs/generate_catalogue_reference.py" in done.stderr
    assert "kesl-old" in stale.read_text(encoding="utf-8"), "--check must not rewrite the page"


def test_every_name_the_catalogue_lists_is_on_the_page():
    page = PAGE.read_text(encoding="utf-8")
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    missing = []
    for vendor_id, vendor in data["vendors"].items():
        names = [vendor_id, vendor["name"], *vendor.get("publishers", [])]
        for paths in (vendor.get("paths") or {}).values():
            names += paths
        for product_id, product in vendor["products"].items():
            names += [product_id, product["name"]]
            for family in data["os_families"]:
                for key, values in (product.get(family) or {}).items():
                    if key == "sources":
                        continue  # test_page_shows_every_source_and_counts_the_unverified_names
                    if key == "install":
                        names += [values["task_file"], *(values.get("facts") or {}).values()]
                    elif key == "uninstall_note":
                        names.append(" ".join(values.split()))
                    else:
                        names += values
        missing += [name for name in names if f"`{name}`" not in page and name not in page]
    assert missing == []


def test_page_follows_a_changed_catalogue(tmp_path):
    """A new service, a new product and a note in the catalogue all reach the page."""
    generator = _generator()
    text = CATALOGUE.read_text(encoding="utf-8")
    # The first product block's sources are kesl's.
    changed = (
        text.replace(
            "          services: [kesl, kesl-supervisor]\n",
            "          services: [kesl, kesl-supervisor, kesl-new]  # seen on 12.2\n",
        )
        .replace(
            "          sources:\n",
            "          sources:\n            - {unverified: one host only, covers: [kesl-new]}\n",
            1,
        )
        .replace(
            "      kav4ws:\n",
            "      kesl_edr:\n"
            "        name: Kaspersky EDR for Linux\n"
            "        role: edr-agent\n"
            "        linux:\n"
            "          packages: [kesl-edr]\n"
            "          sources: [{ref: kaspersky-kes-for-linux-11.4.0-250484, excerpt: kesl-edr,"
            " covers: [kesl-edr]}]\n"
            "      kav4ws:\n",
        )
    )
    assert changed != text
    catalogue = tmp_path / "catalogue.yml"
    catalogue.write_text(changed, encoding="utf-8")
    page = generator.render(catalogue, POLICY)
    services = "| Services (systemd, SysV) | `kesl`, `kesl-supervisor`, `kesl-new` (unverified) |"
    assert f"{services} seen on 12.2 |" in page
    assert "- Unverified, one host only: `kesl-new`." in page
    assert "### Kaspersky EDR for Linux (`kesl_edr`)" in page
    edr = page.split("### Kaspersky EDR for Linux (`kesl_edr`)")[1].split("### ")[0]
    assert '(primary, read 2026-12-01): `kesl-edr`. "kesl-edr"' in edr
    assert "Role: `edr-agent` (removal step 2)." in page
    assert "Kaspersky EDR for Linux" in page.split("## Removal order")[1].split("## Vendors")[0]


def test_page_shows_every_source_and_counts_the_unverified_names():
    from ansible_collections.avshift.remediation.plugins.plugin_utils import catalogue

    page = PAGE.read_text(encoding="utf-8")
    shipped = catalogue.load_catalogue()
    for reference in shipped.references.values():
        assert f"({reference.url}) ({reference.grade}, read {reference.read})" in page, reference.id
    blocks = [product.provenance for found in shipped.products.values() for product in found]
    blocks += shipped.vendor_provenance.values()
    grades = [grade for provenance in blocks for grade in provenance.grades.values()]
    unverified = grades.count(catalogue.UNVERIFIED)
    assert 0 < unverified < len(grades)
    assert f"{len(grades)} names, of them " in page
    assert f", {unverified} unverified, from {len(shipped.references)} references" in page
    # Per vendor, in its row of the vendor table.
    kaspersky = [p.provenance for p in shipped.products["kaspersky"]]
    kaspersky.append(shipped.vendor_provenance["kaspersky"])
    names = [grade for provenance in kaspersky for grade in provenance.grades.values()]
    row = next(line for line in page.splitlines() if line.startswith("| [Kaspersky](#kaspersky)"))
    assert row.endswith(f"| {len(names)} | {names.count(catalogue.UNVERIFIED)} |")


def test_page_says_how_a_package_is_tied_to_a_vendor():
    page = PAGE.read_text(encoding="utf-8")
    section = page.split("## How a package is tied to a vendor")[1].split("\n## ")[0]
    for way in ("package names", "anchored pattern", "Maintainer", "rpm Vendor", "`other`"):
        assert way in section, way


def test_active_row_shows_what_makes_an_approved_product_active():
    page = PAGE.read_text(encoding="utf-8")
    clamav = page.split("### ClamAV (`clamav_linux`)")[1]
    active = next(line for line in clamav.splitlines() if line.startswith("| Counts as active"))
    # freshclam running protects nothing: only the daemon counts.
    assert "running service `clamav-daemon`, `clamd`, `clamd@scan`" in active
    assert "running process `clamd`" in active
    assert "freshclam" not in active


def test_generator_describes_every_key_the_engine_accepts():
    from ansible_collections.avshift.remediation.plugins.plugin_utils import catalogue

    generator = _generator()
    shipped = catalogue.load_catalogue()
    for family, rows in generator.rows(shipped).items():
        described = {key for key, _ in rows} | set(generator.ACTIVE_KEYS)
        accepted = set(shipped.os_families[family].signature_keys) | catalogue._OTHER_PRODUCT_KEYS
        assert described == accepted, family


def test_catalogue_key_unknown_to_the_page_fails_the_generation(tmp_path, monkeypatch):
    generator = _generator()
    monkeypatch.setattr(
        generator, "COMMON_ROWS", tuple(row for row in generator.COMMON_ROWS if row[0] != "paths")
    )
    with pytest.raises(generator.UndescribedKeyError, match=r"kesl\.linux: keys \['paths'\]"):
        generator.render()


def test_page_says_which_removals_are_refused_and_which_take_a_password():
    from ansible_collections.avshift.remediation.plugins.plugin_utils import catalogue

    page = PAGE.read_text(encoding="utf-8")
    section = page.split("## Removal order")[1].split("\n## ")[0]
    shipped = catalogue.load_catalogue()
    assert shipped.refused_roles, "the shipped catalogue refuses the management servers"
    for role, why in shipped.refused_roles.items():
        assert f"- `{role}`: {' '.join(why.split())}" in section
    assert "holds their keys and policies" in section
    protected = section.split("takes a password")[1]
    for name in (
        "Kaspersky Endpoint Security for Windows",
        "Kaspersky Security Center Network Agent",
        "SentinelOne Singularity Agent for Windows",
    ):
        assert name in protected, name
    # What avshift cannot do for a product is told under it.
    kea = page.split("### Kaspersky Endpoint Agent (`kea`)")[1].split("### ")[0]
    [note] = [line for line in kea.splitlines() if line.startswith("| Removed once an operator")]
    assert note.startswith(
        "| Removed once an operator confirms, after this | with password protection"
    )
    # A folded note ends at its own last line; its own comment is its source column.
    assert "remove it by themselves) | Kaspersky Endpoint Agent 3.16 help" in note
    paths = next(line for line in kea.splitlines() if line.startswith("| Paths"))
    assert paths.endswith(
        "| Its process is agent.exe, a name many agents share: not a signature. |"
    )
