"""A small fleet report with every status, Cyrillic names and hostile display names.

Shared by the report tests and screenshot.py; each call returns a fresh dict.
"""

from __future__ import annotations

from ansible_collections.avshift.remediation.plugins.plugin_utils.report import summarize

XSS_NAME = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(2)>"
CYRILLIC_HOST = "бухгалтерия-пк"
CYRILLIC_PRODUCT = "Kaspersky Endpoint Security для Windows"


def _ev(*pairs: tuple[str, str]) -> list[dict]:
    return [{"kind": kind, "value": value} for kind, value in pairs]


def sample_hosts() -> list[dict]:
    return [
        {
            "host": "web-01",
            "status": "compliant",
            "os_family": "linux",
            "message": None,
            "duration_seconds": 0.41,
            "disallowed": [],
            "approved": [
                {
                    "vendor": "clamav",
                    "product": "clamav",
                    "name": "ClamAV",
                    "active": True,
                    "evidence": _ev(
                        ("package", "clamav-daemon 1.0.7"), ("service", "clamav-daemon")
                    ),
                }
            ],
            "other": [],
            "residue": [],
        },
        {
            "host": "db-02",
            "status": "non-compliant",
            "os_family": "linux",
            "message": None,
            "duration_seconds": 1.93,
            "disallowed": [
                {
                    "vendor": "kaspersky",
                    "product": "kesl",
                    "name": "Kaspersky Endpoint Security for Linux",
                    "evidence": _ev(
                        ("package", "kesl 12.1.0-1297"),
                        ("service", "kesl"),
                        ("process", "/opt/kaspersky/kesl/libexec/kesl"),
                    ),
                },
                {
                    "vendor": "kaspersky",
                    "product": "klnagent",
                    "name": "Kaspersky Network Agent",
                    "evidence": _ev(("package", "klnagent64 15.1.0-20748")),
                },
            ],
            "approved": [
                {
                    "vendor": "clamav",
                    "product": "clamav",
                    "name": "ClamAV",
                    "active": False,
                    "evidence": _ev(("package", "clamav 1.0.7")),
                }
            ],
            "other": [],
            "residue": [],
        },
        {
            "host": CYRILLIC_HOST,
            "status": "non-compliant",
            "os_family": "windows",
            "message": None,
            "duration_seconds": 3.2,
            "disallowed": [
                {
                    "vendor": "kaspersky",
                    "product": "kes",
                    "name": CYRILLIC_PRODUCT,
                    "evidence": _ev(
                        ("security_center", CYRILLIC_PRODUCT),
                        ("service", "AVP.KES.12.6.0"),
                        ("driver", "klif"),
                    ),
                }
            ],
            "approved": [],
            "other": [
                {
                    "vendor": "unknown",
                    "product": "unknown",
                    "name": XSS_NAME,
                    "evidence": _ev(("security_center", XSS_IMG)),
                }
            ],
            "residue": [
                {
                    "vendor": "kaspersky",
                    "evidence": _ev(
                        ("path", "C:\\ProgramData\\Kaspersky Lab"),
                        ("path", "C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent"),
                    ),
                }
            ],
        },
        {
            "host": "app-03",
            "status": "unreachable",
            "os_family": None,
            "message": "ssh: connect to host app-03 port 22: Connection timed out",
            "duration_seconds": None,
            "disallowed": [],
            "approved": [],
            "other": [],
            "residue": [],
        },
        {
            "host": "=cmd|' /C calc'!A0",
            "status": "failed",
            "os_family": "windows",
            "message": "@SUM(1+1) av_scan: WMI query timed out",
            "duration_seconds": 12.5,
            "disallowed": [],
            "approved": [],
            "other": [],
            "residue": [],
        },
        {
            "host": "mail-05",
            "status": "compliant",
            "os_family": "windows",
            "message": None,
            "duration_seconds": 2.07,
            "disallowed": [],
            "approved": [
                {
                    "vendor": "microsoft",
                    "product": "defender",
                    "name": "Microsoft Defender Antivirus",
                    "active": True,
                    "evidence": _ev(
                        ("security_center", "Windows Defender"), ("service", "WinDefend")
                    ),
                }
            ],
            "other": [
                {
                    "vendor": "acme",
                    "product": "acme",
                    "name": "-Acme Shield",
                    "evidence": _ev(("package", "+acme-shield 2.0")),
                }
            ],
            "residue": [],
        },
    ]


def sample_report(kind: str = "audit") -> dict:
    hosts = sample_hosts()
    return {
        "schema": 1,
        "kind": kind,
        "tool": {"name": "avshift", "version": "0.1.0"},
        "run": {
            "started": "2026-11-28T10:00:00+00:00",
            "ended": "2026-11-28T10:04:31+00:00",
            "inventory": "inventories/example",
            "playbook": "audit.yml",
            "check_mode": False,
            "policy": {
                "source": "plugins/plugin_utils/policy.yml",
                "sha256": "9f2c1e5b7a3d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6",
                "disallowed_vendors": ["kaspersky"],
                "approved": {"linux": ["clamav"], "windows": ["microsoft"]},
            },
        },
        "summary": summarize(hosts),
        "hosts": hosts,
    }
