"""The inventory schema is the collectors' contract: both collectors' outputs hold to it
exactly, the classifier validates by it, and docs/inventory.md is written from it."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.avshift.remediation.plugins.module_utils import inventory_schema as schema
from ansible_collections.avshift.remediation.plugins.module_utils import linux_inventory
from ansible_collections.avshift.remediation.plugins.plugin_utils.classifier import classify
from ansible_collections.avshift.remediation.plugins.plugin_utils.errors import InventoryError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "windows" / "fixtures"


def _assert_holds_to_the_schema(inventory: dict, os_family: str) -> None:
    assert set(inventory) == set(schema.header_fields(os_family)) | set(schema.kinds_for(os_family))
    assert inventory["schema"] == schema.SCHEMA_VERSION
    for kind in schema.kinds_for(os_family):
        for entry in inventory[kind] or ():
            assert set(entry) == set(schema.entry_fields(kind, os_family)), (kind, entry)
    for part in inventory["unreadable"]:
        assert set(part) == {"part", "reason"} and part["part"] in schema.PARTS


def _run(argv):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_the_linux_collector_on_this_machine_sends_exactly_the_schemas_fields():
    inventory, _warnings, error = linux_inventory.collect(_run, shutil.which, ["/etc"])
    assert error is None
    assert inventory["packages"] or not shutil.which("dpkg-query")
    _assert_holds_to_the_schema(inventory, "linux")


def _collector_results():
    for path in sorted(FIXTURES.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data.get("inventory"), dict):
            yield pytest.param(data["inventory"], id=str(path.relative_to(FIXTURES)))


@pytest.mark.parametrize("inventory", list(_collector_results()))
def test_windows_collector_results_send_exactly_the_schemas_fields(inventory):
    _assert_holds_to_the_schema(inventory, "windows")


@pytest.mark.parametrize(
    ("kind", "field", "value", "expected"),
    [
        ("packages", "system_component", "yes", "true, false or null"),
        ("packages", "publisher", 7, "a string or null"),
        ("services", "display_name", ["x"], "a string or null"),
        ("drivers", "state", "loaded", "expected one of running, stopped, unknown"),
    ],
)
def test_the_classifier_validates_by_the_schema(kind, field, value, expected):
    name_field = schema.KINDS[kind]["name_field"]
    entry = {name_field: "some-name", field: value}
    if kind == "services" and field != "state":
        entry["state"] = "running"
    inventory = {"schema": 1, "os_family": "windows", kind: [entry]}
    with pytest.raises(InventoryError) as caught:
        classify(inventory, source="inv.json")
    assert caught.value.field == f"{kind}[0].{field}"
    assert expected in caught.value.message


def test_inventory_md_is_written_from_the_schema():
    spec = importlib.util.spec_from_file_location(
        "generate_inventory_reference", ROOT / "docs" / "generate_inventory_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "inventory.md").read_text(encoding="utf-8") == module.render(), (
        f"docs/inventory.md is stale; run {module.COMMAND}"
    )
