# -*- coding: utf-8 -*-
# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The raw inventory's schema: the contract between the collectors and the classifier.

Declarative, so that one description drives the classifier's validation on the
controller, the tests of both collectors' outputs and docs/inventory.md. It lives in
module_utils because the Linux collector runs it on the host; it is written for every
Python a managed host may have (no f-strings, no annotations), so that an old
interpreter gets a clean error from av_scan instead of a SyntaxError.

Field types: "string", "boolean", "integer", "string_list", "object", "state"
(running/stopped/unknown) and "product_state" (an integer or a numeric string, as
Security Center's productState comes). A kind's entries are objects with a required
`name` field (its "name_field") and the optional fields listed; a collector sends every
listed field of the OS families it serves (null where it has no value) and no other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SCHEMA_VERSION = 1

SERVICE_STATES = ("running", "stopped", "unknown")

# Top-level fields besides the kinds below. "required": the classifier refuses an
# inventory without it. "families": the OS families whose collector sends it.
HEADER_FIELDS = {
    "schema": {
        "type": "integer",
        "required": False,
        "families": ("linux", "windows"),
        "doc": "the schema version (1); assumed when missing",
    },
    "host": {
        "type": "string",
        "required": False,
        "families": ("linux", "windows"),
        "doc": "the host's own name (the controller uses its inventory name)",
    },
    "os_family": {
        "type": "string",
        "required": True,
        "families": ("linux", "windows"),
        "doc": "the catalogue's OS family: which signatures apply",
    },
    "collected_at": {
        "type": "string",
        "required": False,
        "families": ("linux", "windows"),
        "doc": "the host's own clock when the inventory was read, ISO 8601 with its offset "
        "(2026-12-02T07:45:12+00:00); signature ages of times the host wrote are measured "
        "against it, and the controller reports how far it is off",
    },
    "os": {
        "type": "object",
        "required": False,
        "families": ("linux", "windows"),
        "doc": "name, version, and server (true, false or null when unknown)",
    },
    "paths": {
        "type": "string_list",
        "required": False,
        "families": ("linux", "windows"),
        "doc": "which of the catalogue's paths exist (their catalogue spelling)",
    },
    "protection": {
        "type": "protection",
        "required": False,
        "families": ("linux",),
        "doc": "what each probed product found on the host says of its own protection, one "
        "entry per product: see PROTECTION_FIELDS",
    },
    "unreadable": {
        "type": "unreadable",
        "required": False,
        "families": ("linux", "windows"),
        "doc": "parts the collector could not read, each {part, reason}; "
        "a host with any is never compliant",
    },
    "defender": {
        "type": "object",
        "required": False,
        "families": ("windows",),
        "doc": "Microsoft Defender's Get-MpComputerStatus (am_running_mode, "
        "am_service_enabled, antivirus_enabled, real_time_protection_enabled, error) and "
        "disabled_by_policy, the policy values in force that turn it off; null where the "
        "Defender module is absent. It decides whether Defender is active",
    },
}

# Where a protection entry's signatures_updated comes from: the build time in a
# database's header (the vendor's clock), a signature file's modification time (the
# host's clock, and only when the file was written), or the product's own report (the
# host's clock).
SIGNATURE_BASES = ("database-header", "file-mtime", "product")

# The fields of each `protection` entry, all sent, null where unknown: (type, doc).
PROTECTION_FIELDS = {
    "product": ("string", "the catalogue's product id; never null"),
    "signatures_updated": (
        "string",
        "when the signatures were last built or updated, ISO 8601 UTC with its offset",
    ),
    "signatures_basis": ("string", "what that time is: one of SIGNATURE_BASES"),
    "signatures_version": ("string", "the newest database's name and version (daily 27480)"),
    "real_time": ("boolean", "whether real-time (on-access) protection is on"),
    "healthy": ("boolean", "the product's own health verdict (mdatp only)"),
    "detail": ("string", "why a fact is unknown, or what it rests on"),
}

# Entry kinds, in the order the classifier reads them: the first evidence of a finding
# names it, so packages (the most telling names) come first.
KINDS = {
    "packages": {
        "name_field": "name",
        "families": ("linux", "windows"),
        "doc": "dpkg / rpm packages; Windows uninstall-registry entries (both views, and "
        "loaded user hives)",
        "fields": {
            "version": ("string", ("linux", "windows")),
            "publisher": ("string", ("linux", "windows")),
            "source": ("string", ("linux", "windows")),
            "product_code": ("string", ("windows",)),
            "uninstall_string": ("string", ("windows",)),
            "quiet_uninstall_string": ("string", ("windows",)),
            "install_location": ("string", ("windows",)),
            "system_component": ("boolean", ("windows",)),
            "registry_key": ("string", ("windows",)),
        },
    },
    "security_center": {
        "name_field": "display_name",
        "families": ("windows",),
        "doc": "root/SecurityCenter2 AntiVirusProduct (Windows clients only)",
        "fields": {
            "product_state": ("product_state", ("windows",)),
            "path": ("string", ("windows",)),
        },
    },
    "services": {
        "name_field": "name",
        "families": ("linux", "windows"),
        "doc": "systemd units (or SysV scripts) / Windows services. On systemd: every "
        "loaded unit, and installed units that are not loaded when the catalogue names "
        "their service; a unit's start_mode is read only for those",
        "fields": {
            "display_name": ("string", ("linux", "windows")),
            "state": ("state", ("linux", "windows")),
            "start_mode": ("string", ("linux", "windows")),
            "path": ("string", ("linux", "windows")),
        },
        "required": ("state",),
    },
    "processes": {
        "name_field": "name",
        "families": ("linux", "windows"),
        "doc": "running processes of the host's own PID namespace",
        "fields": {
            "path": ("string", ("linux", "windows")),
        },
    },
    "drivers": {
        "name_field": "name",
        "families": ("linux", "windows"),
        "doc": "loaded kernel modules / Windows drivers",
        "fields": {
            "path": ("string", ("linux", "windows")),
            "display_name": ("string", ("windows",)),
            "state": ("state", ("windows",)),
        },
    },
}

# The parts a collector reads; a part it could not read is named in "unreadable".
PARTS = (
    "os",
    "packages",
    "user_packages",
    "services",
    "processes",
    "drivers",
    "security_center",
    "defender",
    "paths",
)


def entry_fields(kind, os_family):
    """The fields a collector of os_family sends for each entry of kind, name first."""
    spec = KINDS[kind]
    names = [spec["name_field"]]
    names.extend(
        name for name, (_type, families) in spec["fields"].items() if os_family in families
    )
    return names


def header_fields(os_family):
    return [name for name, spec in HEADER_FIELDS.items() if os_family in spec["families"]]


def kinds_for(os_family):
    return [kind for kind, spec in KINDS.items() if os_family in spec["families"]]
