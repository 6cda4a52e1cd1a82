# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What "active" means for Microsoft Defender Antivirus, under every avshift policy.

Defender's service runs in several modes, most of which do not protect the host: passive
mode (another antivirus is primary), EDR block mode (Defender for Endpoint remediates,
another antivirus scans), or with real-time protection or the whole antivirus turned off
by policy. So WinDefend running is not enough. Defender is active only when
Get-MpComputerStatus says its running mode is Normal (or, on a platform older than
4.18.2008.9, which has no AMRunningMode, WinDefend runs and real-time protection is on),
antivirus and real-time protection are enabled, and no Group Policy in force disables it.

Sources:
- "Microsoft Defender Antivirus in Windows Overview" (running modes: Normal, Passive
  mode, EDR Block Mode, SxS Passive Mode) and "Microsoft Defender Antivirus compatibility
  with other security products" (Normal, Passive, EDR Block Mode), learn.microsoft.com/
  defender-endpoint; AMRunningMode was added in platform 4.18.2008.9 (August 2020,
  "Microsoft Defender Antivirus updates - previous versions"). Spellings seen in the
  field besides those: "Not running", "Passive Audit Mode" and an empty value: anything
  that is not Normal is not active, and an unknown value is reported as it is.
- "Policy CSP - ADMX_MicrosoftDefenderAntivirus": DisableAntiSpyware (and the legacy
  DisableAntiVirus) under HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender,
  DisableRealtimeMonitoring under its Real-Time Protection key. "DisableAntiSpyware"
  (unattend reference): "Setting this value to true will not change Microsoft Defender
  Antivirus behavior on client devices ... This setting only applies to Windows Server."
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Policy values (their registry value names) that turn Defender off where they apply.
SERVER_ONLY_POLICIES = ("DisableAntiSpyware", "DisableAntiVirus")
POLICIES = (*SERVER_ONLY_POLICIES, "DisableRealtimeMonitoring")


def running_mode(value: object) -> str:
    """normal, passive, edr-block, off, or unknown (AMRunningMode not reported)."""
    if value is None:
        return "unknown"
    text = " ".join(str(value).split()).lower()
    if text == "normal":
        return "normal"
    if "passive" in text:
        return "passive"
    if text == "edr block mode":
        return "edr-block"
    return "off"


def policies_in_force(names: Sequence[str], server: bool | None) -> list[str]:
    """The disabling policies (value names, or key\\value paths ending in them) that
    apply on this host: on a client, DisableAntiSpyware and DisableAntiVirus are ignored."""
    found = []
    for name in names:
        value = str(name).rsplit("\\", 1)[-1]
        if value not in POLICIES:
            continue
        if value in SERVER_ONLY_POLICIES and server is False:
            continue
        found.append(str(name))
    return found


def protection(
    status: Mapping | None, server: bool | None, service_running: bool
) -> tuple[bool, list[str]]:
    """(active, why not) from av_scan's "defender" part and whether WinDefend runs.

    status None: no Get-MpComputerStatus at all (older collectors, hand-written
    inventories); the caller then falls back to the service and Security Center.
    """
    if status is None:
        return service_running, ([] if service_running else ["WinDefend is not running"])
    why = []
    if status.get("error"):
        why.append(f"Get-MpComputerStatus failed: {status['error']}")
    mode = running_mode(status.get("am_running_mode"))
    if mode == "unknown":
        # A platform too old to say: the service and real-time protection decide.
        if not service_running:
            why.append("WinDefend is not running")
    elif mode != "normal":
        why.append(f"running mode {status.get('am_running_mode') or 'empty'}, not Normal")
    for key, label in (
        ("am_service_enabled", "the antimalware service"),
        ("antivirus_enabled", "antivirus"),
        ("real_time_protection_enabled", "real-time protection"),
    ):
        if status.get(key) is not True and not status.get("error"):
            why.append(f"{label} is off")
    for policy in policies_in_force(status.get("disabled_by_policy") or (), server):
        why.append(f"turned off by policy {policy}")
    return not why, why
