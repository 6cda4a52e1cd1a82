"""Every history test runs on both kinds of store: SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from history_stores import KINDS, store_location

from ansible_collections.avshift.remediation.plugins.plugin_utils import history


@pytest.fixture(params=KINDS)
def location(request, tmp_path, monkeypatch):
    """Where an empty store of the parameter's kind is (a path or a URL)."""
    with store_location(request.param, tmp_path, monkeypatch) as where:
        yield where


@pytest.fixture
def store(location):
    return history.Store(location)
