# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether an active approved product protects its host, by the policy's protection rules.

An approved product is active when its service runs (the classifier decides). The
policy may ask more of it (policy.ProtectionRule): signatures no older than a number of
days, real-time (on-access) protection on. The facts come from the product itself, read
by the collectors: the ClamAV and Defender for Endpoint probes on Linux (the inventory's
`protection` entries), Get-MpComputerStatus on Windows (the inventory's `defender`).

Ages are measured against the right clock. A time the host wrote itself (a file's
modification time, Defender's AntivirusSignatureLastUpdated, mdatp's health) is compared
with the host's own clock when the inventory was read (`collected_at`), so a host whose
clock is off still gets its true age. A time the vendor wrote (the build time in a
ClamAV database header) is compared with the controller's clock during a live scan, and
with the host's when a recorded inventory is classified later. Missing data is never a
pass: an unknown signature time does not meet a maximum age.

Pure Python on the controller.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from ansible_collections.avshift.remediation.plugins.plugin_utils.change import parse_timestamp
from ansible_collections.avshift.remediation.plugins.plugin_utils.policy import ProtectionRule

# Signature times a vendor wrote, not the host: compared with the controller's clock.
VENDOR_CLOCK_BASES = frozenset({"database-header"})
# A signature time this far after the reference clock is an error, not "fresh".
FUTURE_TOLERANCE = datetime.timedelta(hours=24)
# A host clock this far from the controller's is reported with the finding.
SKEW_REPORTED = datetime.timedelta(minutes=5)
DAY_SECONDS = 86400


def _time(value: object) -> datetime.datetime | None:
    """A collector's ISO 8601 time with its offset ("Z" or "+00:00"); None otherwise: a
    time without an offset could be any time of day."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_timestamp(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _days(delta: datetime.timedelta) -> float:
    return round(delta.total_seconds() / DAY_SECONDS, 1)


def _shown_days(days: float) -> str:
    whole = int(days)
    return f"{whole} day" if whole == 1 else f"{whole} days" if days >= 1 else "under a day"


def product_facts(inventory: Mapping, finding: Mapping) -> dict:
    """The protection facts the inventory holds for one approved finding (may be empty)."""
    if inventory.get("os_family") == "windows" and finding.get("vendor") == "microsoft":
        defender = inventory.get("defender")
        if not isinstance(defender, Mapping):
            return {"detail": "the Defender status (Get-MpComputerStatus) was not read"}
        return {
            "signatures_updated": defender.get("antivirus_signature_last_updated"),
            "signatures_basis": "product",
            "real_time": defender.get("real_time_protection_enabled"),
            "detail": defender.get("error"),
        }
    for entry in inventory.get("protection") or ():
        if isinstance(entry, Mapping) and entry.get("product") == finding.get("product"):
            return dict(entry)
    return {"detail": "the collector reported no protection facts for this product"}


def assess(
    facts: Mapping,
    rule: ProtectionRule,
    os_family: str,
    collected_at: object = None,
    now: datetime.datetime | None = None,
) -> dict:
    """What an active product's facts mean under the rule.

    Returns "protection" (a key of contract.PROTECTION_STATES: protecting or
    not-protecting), "not_protecting_because" (reasons, when not protecting) and the
    facts as read: signatures_updated, signature_age_days, signatures_basis, real_time,
    and clock_skew_seconds where the host's clock is off.
    """
    host_now = _time(collected_at)
    updated = _time(facts.get("signatures_updated"))
    basis = facts.get("signatures_basis")
    real_time = facts.get("real_time")
    result: dict = {
        "signatures_updated": facts.get("signatures_updated"),
        "signatures_basis": basis,
        "signature_age_days": None,
        "real_time": real_time if isinstance(real_time, bool) else None,
    }
    if now is not None and host_now is not None and abs(host_now - now) > SKEW_REPORTED:
        result["clock_skew_seconds"] = int((host_now - now).total_seconds())
    reference = now if (basis in VENDOR_CLOCK_BASES and now is not None) else (host_now or now)
    age_unknown = None
    if updated is None:
        age_unknown = str(facts.get("detail") or "its signature time could not be read")
    elif reference is None:
        age_unknown = "the host's clock was not reported"
    elif updated - reference > FUTURE_TOLERANCE:
        age_unknown = (
            f"its signature time {facts.get('signatures_updated')} is after the host's clock "
            f"({collected_at}): the clock or the database is wrong"
        )
    else:
        age = max(datetime.timedelta(0), reference - updated)
        result["signature_age_days"] = _days(age)
    reasons = []
    limit = rule.max_signature_age_days
    if limit is not None:
        if age_unknown is not None:
            reasons.append(f"signature age unknown (policy: {limit:g} days): {age_unknown}")
        elif age > datetime.timedelta(days=limit):  # compared unrounded
            age = _shown_days(result["signature_age_days"])
            reasons.append(f"signatures {age} old (policy: {limit:g})")
    if rule.require_real_time and result["real_time"] is not True:
        state = "off" if result["real_time"] is False else "unknown"
        reasons.append(f"real-time protection {state} (policy requires it on {os_family})")
    result["protection"] = "not-protecting" if reasons else "protecting"
    if reasons:
        result["not_protecting_because"] = reasons
    return result
