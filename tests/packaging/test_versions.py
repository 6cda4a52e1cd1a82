"""One version, galaxy.yml's: every place that publishes a version says the same."""

from __future__ import annotations

import re
import subprocess

import yaml
from packaging_support import BIN, ROOT

from ansible_collections.avshift.remediation.plugins.plugin_utils.version import (
    collection_version,
)

VERSION = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]


def test_the_collection_reads_its_version_from_galaxy_yml():
    assert collection_version() == VERSION


def test_the_python_package_has_the_collections_version():
    text = (ROOT / "pyproject.toml").read_text()
    project = text[text.index("[project]") :].split("\n[", 1)[0]
    assert re.findall(r'^version = "([^"]+)"$', project, re.MULTILINE) == [VERSION]


def test_the_cli_reports_the_collections_version():
    done = subprocess.run([str(BIN / "avshift"), "--version"], capture_output=True, text=True)
    assert done.stdout.strip() == f"avshift {VERSION}"


def test_documented_image_tags_are_the_collections_version():
    tags = []
    for path in (ROOT / "docs" / "awx.md", ROOT / "execution-environment.yml"):
        tags += re.findall(r"(?:avshift-ee|avshift/ee):(\d+\.\d+\.\d+)", path.read_text())
    assert tags and set(tags) == {VERSION}


def test_no_module_carries_a_version_of_its_own():
    sources = [*(ROOT / "src").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    assert not [str(path) for path in sources if "__version__ =" in path.read_text()]
