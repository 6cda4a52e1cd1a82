# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a remediation changed on a host, read from the host itself.

The difference between the raw inventories of the scan before the remediation and the
scan after it (the same collector, the same parts): packages installed, removed or
upgraded with their versions, services started or stopped, catalogue paths deleted or
created. It is evidence because it does not depend on which task ran or how far the run
got: after a failed replacement it still names every package the package manager put
on the host. A part either scan could not read is "unknown", with the collector's
reason, never an empty list that would read as "nothing changed".

Pure Python on the controller.
"""

from __future__ import annotations

from collections.abc import Mapping

# The inventory parts a change is read from, and what is compared in each.
PARTS = ("packages", "services", "paths")


def _unreadable(inventory: Mapping) -> dict[str, str]:
    return {
        str(item.get("part")): str(item.get("reason") or "unreadable")
        for item in inventory.get("unreadable") or ()
        if isinstance(item, Mapping)
    }


def _versions(packages) -> dict[tuple[str, str | None], list[str]]:
    """Package versions by (name, source): a Windows product may be listed by both
    registry views, a Linux one by dpkg and rpm on a host that has both."""
    found: dict[tuple[str, str | None], set[str]] = {}
    for package in packages or ():
        key = (str(package.get("name")), package.get("source"))
        found.setdefault(key, set()).add(str(package.get("version") or ""))
    return {key: sorted(versions) for key, versions in found.items()}


def _shown(versions: list[str]) -> str | None:
    """One version as recorded: several are joined; none (an unknown one) is None."""
    return ", ".join(v for v in versions if v) or None


def _package_changes(before, after) -> dict:
    old, new = _versions(before), _versions(after)

    def entry(key, **fields):
        return {"name": key[0], "source": key[1], **fields}

    return {
        "installed": [entry(k, version=_shown(new[k])) for k in sorted(new.keys() - old.keys())],
        "removed": [entry(k, version=_shown(old[k])) for k in sorted(old.keys() - new.keys())],
        "upgraded": [
            entry(k, **{"from": _shown(old[k]), "to": _shown(new[k])})
            for k in sorted(old.keys() & new.keys())
            if old[k] != new[k]
        ],
    }


def _running(services) -> set[str]:
    return {str(s.get("name")) for s in services or () if s.get("state") == "running"}


def _service_changes(before, after) -> dict:
    old, new = _running(before), _running(after)
    return {"started": sorted(new - old), "stopped": sorted(old - new)}


def _path_changes(before, after) -> dict:
    old, new = set(before or ()), set(after or ())
    return {"deleted": sorted(old - new), "created": sorted(new - old)}


_COMPARE = {"packages": _package_changes, "services": _service_changes, "paths": _path_changes}


def host_changes(before: Mapping | None, after: Mapping | None) -> dict:
    """{part: its changes, or {"unknown": why}} from two raw inventories of one host."""
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        missing = "before" if not isinstance(before, Mapping) else "after"
        return {part: {"unknown": f"no inventory of the scan {missing}"} for part in PARTS}
    cannot_read = {"before": _unreadable(before), "after": _unreadable(after)}
    changes = {}
    for part in PARTS:
        reasons = [
            f"the scan {when} could not read it: {unreadable[part]}"
            for when, unreadable in cannot_read.items()
            if part in unreadable
        ]
        changes[part] = (
            {"unknown": "; ".join(reasons)}
            if reasons
            else _COMPARE[part](before.get(part), after.get(part))
        )
    return changes
