"""Session fixtures: one copy of the git-tracked collection and one tarball built from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging_support import build, copy_tracked


@pytest.fixture(scope="session")
def tracked_collection(tmp_path_factory) -> Path:
    return copy_tracked(tmp_path_factory.mktemp("tracked"))


@pytest.fixture(scope="session")
def collection_tarball(tracked_collection, tmp_path_factory) -> Path:
    return build(tracked_collection, tmp_path_factory.mktemp("dist"))
