"""The oldest host Python a scan runs on (plugins/action/av_scan.py host_python_floor):
the collector's own floor, or ansible-core's where that is newer."""

from __future__ import annotations

import pytest

from ansible_collections.avshift.remediation.plugins.action import av_scan


@pytest.mark.parametrize(
    ("core_floor", "floor"),
    [
        (True, (3, 6)),  # ansible-core 2.16: a bool, as it still runs modules on 2.7
        ((3, 7), (3, 7)),  # 2.17
        ((3, 9), (3, 9)),  # 2.21
        ((3, 5), (3, 6)),
    ],
)
def test_the_floor_is_the_newer_of_the_collectors_and_ansible_cores(monkeypatch, core_floor, floor):
    monkeypatch.setattr(av_scan.ansible_module_basic, "_PY_MIN", core_floor)
    assert av_scan.host_python_floor() == floor


def test_without_ansible_cores_floor_the_collectors_own_applies(monkeypatch):
    monkeypatch.delattr(av_scan.ansible_module_basic, "_PY_MIN")
    assert av_scan.host_python_floor() == (3, 6)
