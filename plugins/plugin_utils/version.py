# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, read from its own metadata (galaxy.yml or MANIFEST.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import yaml

COLLECTION_ROOT = Path(__file__).resolve().parents[2]


@cache
def collection_version() -> str:
    manifest = COLLECTION_ROOT / "MANIFEST.json"  # an installed collection
    if manifest.is_file():
        return json.loads(manifest.read_text())["collection_info"]["version"]
    galaxy = COLLECTION_ROOT / "galaxy.yml"  # a source checkout
    return yaml.safe_load(galaxy.read_text())["version"]
