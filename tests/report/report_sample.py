"""A small fleet report with every status, Cyrillic names and hostile display names.

Shared by the report tests and screenshot.py; each call returns a fresh dict.
"""

from __future__ import annotations

import itertools

from ansible_collections.avshift.remediation.plugins.plugin_utils.report import (
    non_compliance_reason,
    summarize,
)

XSS_NAME = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(2)>"
CYRILLIC_HOST = "бухгалтерия-пк"
CYRILLIC_PRODUCT = "Kaspersky Endpoint Security для Windows"


def _ev(*pairs: tuple[str, str]) -> list[dict]:
    return [{"kind": kind, "value": value} for kind, value in pairs]


def sample_hosts() -> list[dict]:
    hosts = [
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
                    "protection": "protecting",
                    "signatures_updated": "2026-11-28T03:12:00+00:00",
                    "signatures_basis": "database-header",
                    "signature_age_days": 0.3,
                    "real_time": False,
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
    # What av_scan could not read, as outcome.py keeps it.
    hosts[1]["unreadable"] = [
        {"part": "services", "reason": "systemctl list-units failed: Failed to connect to bus"}
    ]
    for host in hosts:
        # Ansible's count of the host's changed tasks, outcome.py's proof that an audit
        # changed nothing.
        host["changed"] = 0
    return hosts


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


# --- a change-managed remediation run --------------------------------------------------

CHANGE_ID = "CHG0012345"
OPERATOR = "Ирина Петрова"
OS_ACCOUNT = "ipetrova"
CHANGE_ID_PATTERN = "^CHG[0-9]{7}$"
WINDOW = {"start": "2026-12-01T22:00:00+01:00", "end": "2026-12-02T04:00:00+01:00"}
KES_CODE = "{7A4192A1-84C4-4E90-A31B-B4E3E8E4CFC1}"
KLNAGENT_CODE = "{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}"
WINDOW_CLOSED = "deferred: the change window closed at 2026-12-02T04:00:00+01:00 before batch 3"
BATCH_FAILED = "deferred: batch 2 failed above max_fail_percentage (2 of 5 hosts, 40% > 10%)"
REPLACEMENT_FAILED = (
    "left protected by Kaspersky Endpoint Security for Linux; "
    "replacement failed: clamav-daemon did not become active"
)

CLAMAV_INACTIVE = {
    "vendor": "clamav",
    "product": "clamav",
    "name": "ClamAV",
    "active": False,
    "evidence": _ev(("package", "clamav-daemon 1.0.7")),
}
CLAMAV_ACTIVE = {
    "vendor": "clamav",
    "product": "clamav",
    "name": "ClamAV",
    "active": True,
    "evidence": _ev(("package", "clamav-daemon 1.0.7"), ("service", "clamav-daemon")),
}
DEFENDER_ACTIVE = {
    "vendor": "microsoft",
    "product": "defender",
    "name": "Microsoft Defender Antivirus",
    "active": True,
    "evidence": _ev(("security_center", "Windows Defender"), ("service", "WinDefend")),
}
KESL = {
    "vendor": "kaspersky",
    "product": "kesl",
    "name": "Kaspersky Endpoint Security for Linux",
    "evidence": _ev(("package", "kesl 12.1.0-1297"), ("service", "kesl")),
}
KLNAGENT_LINUX = {
    "vendor": "kaspersky",
    "product": "klnagent",
    "name": "Kaspersky Network Agent",
    "evidence": _ev(("package", "klnagent64 15.1.0-20748")),
}
KES_WINDOWS = {
    "vendor": "kaspersky",
    "product": "kes",
    "name": CYRILLIC_PRODUCT,
    "evidence": _ev(("security_center", CYRILLIC_PRODUCT), ("service", "AVP.KES.12.6.0")),
}
KLNAGENT_WINDOWS = {
    "vendor": "kaspersky",
    "product": "klnagent",
    "name": "Kaspersky Network Agent",
    "evidence": _ev(("service", "klnagent"), ("msi", KLNAGENT_CODE)),
}


def fleet_report(size: int) -> dict:
    """The sample fleet at a fleet's size: its hosts repeated under numbered names
    (web-01-00000, db-02-00001, ...), so that every size holds the same mix of statuses,
    Cyrillic names and hostile display names."""
    report = sample_report()
    hosts = [
        {**host, "host": f"{host['host']}-{number:05d}"}
        for number, host in enumerate(itertools.islice(itertools.cycle(report["hosts"]), size))
    ]
    report["hosts"] = hosts
    report["summary"] = summarize(hosts)
    return report


def _verdict(compliant: bool, **findings: list) -> dict:
    return {
        "compliant": compliant,
        "disallowed": findings.get("disallowed", []),
        "approved": findings.get("approved", []),
        "other": findings.get("other", []),
        "residue": findings.get("residue", []),
    }


def _action(event: str, at: str, **data) -> dict:
    return {"event": event, "at": at, "data": data}


def _remove(item: dict, packages=(), windows=(), services=(), needs_password=False) -> dict:
    """A removal step of a plan, as the removal planner writes it (removal.py), with the
    one line that says what it does."""
    where = f"{item['name']} ({item['vendor']}/{item['product']})"
    steps = [f"stop and disable {', '.join(services)}"] if services else []
    if packages:
        steps.append(f"remove deb packages {', '.join(packages)}")
    steps += [f"msiexec.exe /x {code} /qn /norestart" for _, code in windows]
    notes = []
    if needs_password:
        notes.append(
            f"password-protected: without avshift_remediate_passwords.{item['product']} "
            "msiexec runs without the password, and fails with 1603 if protection is on"
        )
    return {
        "vendor": item["vendor"],
        "product": item["product"],
        "name": item["name"],
        "os_family": "windows" if windows else "linux",
        "residue": False,
        "services": list(services),
        "packages": list(packages) or [name for name, _ in windows],
        "packages_by_source": {"deb": list(packages)} if packages else {},
        "windows": [
            {
                "display_name": name,
                "product_code": code,
                "argv": ["msiexec.exe", "/x", code, "/qn", "/norestart"],
                "manual": False,
                "reason": None,
            }
            for name, code in windows
        ],
        "protected": needs_password,
        "needs_password": needs_password,
        "paths": [],
        "hold": None,
        "hold_reason": None,
        "notes": notes,
        "summary": f"{where}: {'; '.join(steps)}",
    }


def _plan(install, order, remove, missing_passwords=()) -> dict:
    """A host's plan, as the remediate role records it (plan.yml)."""
    return {
        "install": install,
        "install_order": order,
        "remove": remove,
        "held": [],
        "missing_passwords": list(missing_passwords),
        "reboot_policy": "if_required",
    }


def _remediated(host: dict, before: dict, after: dict | None, plan, actions, reboot) -> dict:
    """A host entry whose findings are those of its last scan, as the callback writes it."""
    last = after or before
    host.update({key: last[key] for key in ("disallowed", "approved", "other", "residue")})
    host.update(before=before, after=after, plan=plan, actions=actions, reboot=reboot)
    return host


def _entry(name: str, status: str, os_family: str | None, seconds=None, message=None) -> dict:
    return {
        "host": name,
        "status": status,
        "os_family": os_family,
        "message": message,
        "duration_seconds": seconds,
        "disallowed": [],
        "approved": [],
        "other": [],
        "residue": [],
        "before": None,
        "after": None,
        "plan": None,
        "actions": [],
        "reboot": None,
        "changed": 0,
    }


# Ansible's count of changed tasks on each host the real run changed.
CHANGED_TASKS = {"db-02": 7, CYRILLIC_HOST: 9, "kiosk-04": 6, "=cmd|' /C calc'!A0": 2, "lab-09": 3}


def remediation_hosts(check_mode: bool = False) -> list[dict]:
    """Every status: remediated (compliant), left alone, still non-compliant, failed,
    unreachable, interrupted after the install, and two deferred hosts; Cyrillic and
    markup inside plans and actions."""
    residue = [
        {
            "vendor": "kaspersky",
            "evidence": _ev(("path", "C:\\ProgramData\\Kaspersky Lab")),
        }
    ]
    db_plan = _plan(
        "clamav",
        "before-removal",
        [
            _remove(KESL, ["kesl"], services=["kesl"]),
            _remove(KLNAGENT_LINUX, ["klnagent64"], services=["klnagent"]),
        ],
    )
    pc_plan = _plan(
        "microsoft",
        "after-removal",
        [
            _remove(KES_WINDOWS, windows=[(CYRILLIC_PRODUCT, KES_CODE)], needs_password=True),
            _remove(KLNAGENT_WINDOWS, windows=[(XSS_IMG, KLNAGENT_CODE)]),
        ],
        missing_passwords=["kes"],
    )
    kiosk_plan = _plan(
        "microsoft",
        "after-removal",
        [
            _remove(KES_WINDOWS, windows=[(CYRILLIC_PRODUCT, KES_CODE)]),
            _remove(KLNAGENT_WINDOWS, windows=[("Kaspersky Network Agent", KLNAGENT_CODE)]),
        ],
    )
    failed_plan = _plan("clamav", "before-removal", [_remove(KESL, ["kesl"], services=["kesl"])])
    plan_at = "2026-12-01T22:01:02+01:00"
    hosts = [
        _remediated(
            _entry("web-01", "compliant", "linux", 0.52),
            _verdict(True, approved=[CLAMAV_ACTIVE]),
            None,
            None,
            [],
            None,
        ),
        _remediated(
            _entry("db-02", "compliant", "linux", 0.9),
            _verdict(False, disallowed=[KESL, KLNAGENT_LINUX], approved=[]),
            _verdict(True, approved=[CLAMAV_ACTIVE]),
            db_plan,
            [
                _action("plan", plan_at, **db_plan),
                _action(
                    "installed",
                    "2026-12-01T22:02:10+01:00",
                    vendor="clamav",
                    packages=["clamav", "clamav-daemon"],
                    active=True,
                ),
                _action("removed", "2026-12-01T22:03:00+01:00", product="kesl", rc=0),
                _action("removed", "2026-12-01T22:03:40+01:00", product="klnagent", rc=0),
                _action("verified", "2026-12-01T22:04:05+01:00", compliant=True),
            ],
            "not-needed",
        ),
        _remediated(
            _entry(CYRILLIC_HOST, "compliant", "windows", 3.4),
            _verdict(False, disallowed=[KES_WINDOWS, KLNAGENT_WINDOWS]),
            _verdict(True, approved=[DEFENDER_ACTIVE], residue=residue),
            pc_plan,
            [
                _action("plan", "2026-12-01T23:50:12+01:00", **pc_plan),
                _action(
                    "removed",
                    "2026-12-01T23:58:40+01:00",
                    product="kes",
                    display_name=CYRILLIC_PRODUCT,
                    msiexec=3010,
                ),
                _action(
                    "removed",
                    "2026-12-02T00:03:17+01:00",
                    product="klnagent",
                    display_name=XSS_IMG,
                    note=XSS_NAME,
                    msiexec=1605,
                ),
                _action(
                    "verified",
                    "2026-12-02T00:06:55+01:00",
                    compliant=True,
                    defender={"RealTimeProtectionEnabled": True, "AMRunningMode": "Normal"},
                ),
                _action(
                    "reboot", "2026-12-02T00:07:01+01:00", state="pending", reason="msiexec 3010"
                ),
            ],
            "pending",
        ),
        _remediated(
            _entry(
                "kiosk-04",
                "non-compliant",
                "windows",
                2.6,
                "the scan after remediation still finds Kaspersky Network Agent",
            ),
            _verdict(False, disallowed=[KES_WINDOWS, KLNAGENT_WINDOWS]),
            _verdict(False, disallowed=[KLNAGENT_WINDOWS], approved=[DEFENDER_ACTIVE]),
            kiosk_plan,
            [
                _action("plan", plan_at, **kiosk_plan),
                _action("removed", "2026-12-01T22:09:30+01:00", product="kes", msiexec=0),
                _action("removed", "2026-12-01T22:10:02+01:00", product="klnagent", msiexec=1605),
                _action("verified", "2026-12-01T22:12:44+01:00", compliant=False),
            ],
            "not-needed",
        ),
        # Its replacement failed: scanned again, and what its own state shows changed.
        _remediated(
            _entry("=cmd|' /C calc'!A0", "failed", "linux", 0.8, REPLACEMENT_FAILED),
            _verdict(False, disallowed=[KESL]),
            _verdict(False, disallowed=[KESL], approved=[CLAMAV_INACTIVE]),
            failed_plan,
            [
                _action("plan", plan_at, **failed_plan),
                _action(
                    "installed",
                    "2026-12-01T22:02:55+01:00",
                    vendor="clamav",
                    active=[],
                    note='=HYPERLINK("x")',
                ),
                _action(
                    "changes",
                    "2026-12-01T22:03:20+01:00",
                    packages={
                        "installed": [
                            {"name": "clamav", "source": "deb", "version": "1.0.7"},
                            {"name": "clamav-daemon", "source": "deb", "version": "1.0.7"},
                        ],
                        "removed": [],
                        "upgraded": [],
                    },
                    services={"started": [], "stopped": []},
                    paths={"unknown": "the scan after could not read it: permission denied"},
                ),
            ],
            None,
        ),
        _entry(
            "app-03",
            "unreachable",
            None,
            message="ssh: connect to host app-03 port 22: Connection timed out",
        ),
        _remediated(
            _entry(
                "lab-09",
                "interrupted",
                "linux",
                0.7,
                "run interrupted after installing the replacement",
            ),
            _verdict(False, disallowed=[KESL]),
            None,
            failed_plan,
            [
                _action("plan", plan_at, **failed_plan),
                _action("installed", "2026-12-01T22:04:51+01:00", vendor="clamav"),
            ],
            None,
        ),
        _entry("pos-11", "deferred", "windows", message=WINDOW_CLOSED),
        _entry("pos-12", "deferred", "linux", message=BATCH_FAILED),
    ]
    for host in hosts:
        host["changed"] = 0 if check_mode else CHANGED_TASKS.get(host["host"], 0)
    if not check_mode:
        # The run stopped before it scanned the host again: its state after is unknown.
        interrupted = next(host for host in hosts if host["status"] == "interrupted")
        interrupted["after_unknown"] = (
            "not scanned after remediation: run interrupted after installing the replacement"
        )
    if check_mode:
        for host in hosts:
            # A dry run scans and plans; nothing is installed, removed or rebooted.
            if host["plan"] is None:
                continue
            before = host["before"]
            host.update(
                {key: before[key] for key in ("disallowed", "approved", "other", "residue")}
            )
            host.update(
                status="non-compliant",
                message=None,
                after=None,
                reboot=None,
                actions=[a for a in host["actions"] if a["event"] == "plan"],
            )
    return hosts


def remediation_report(check_mode: bool = False) -> dict:
    hosts = remediation_hosts(check_mode)
    report = sample_report("remediation")
    report["run"].update(
        {
            "ended": "2026-12-02T03:12:09+00:00",
            "started": "2026-12-01T21:00:41+00:00",
            "playbook": "remediate.yml",
            "check_mode": check_mode,
            "change_id": CHANGE_ID,
            "operator": OPERATOR,
            "os_account": OS_ACCOUNT,
            "change_id_pattern": CHANGE_ID_PATTERN,
            # The real run was confirmed at the prompt; a dry run is never asked.
            "confirmation": None if check_mode else "typed",
            "window": dict(WINDOW),
            # The dry run's journal is an older one's: it kept serial's list, which the
            # reports show as the operator wrote it, 1,5,25%.
            "batch": [1, 5, "25%"] if check_mode else "1,5,25%",
            "max_fail_percentage": 10,
            "reboot_policy": "if_required",
        }
    )
    report["hosts"] = hosts
    report["summary"] = summarize(hosts)
    return report


def as_written(report: dict) -> dict:
    """The report as report.json holds it: a non-compliant host without a message gets
    its reason, the one field the writer derives."""
    for host in report["hosts"]:
        if host.get("status") == "non-compliant" and not host.get("message"):
            host["message"] = non_compliance_reason(host, report.get("run") or {})
    return report


# --- a report compared with the last run (the history store's drift) -----------------


def drift_report() -> dict:
    """The sample audit compared with the day before's, as record.render adds it: two
    hosts regressed, one fixed, one gone from the inventory, two not audited lately."""
    report = sample_report()
    report["drift"] = {
        "previous_run": {
            "run_id": "0c6f4a5e-2d7b-4a47-9a55-1d3c8f0e9b21",
            "kind": "audit",
            "started": "2026-11-27T10:00:00+00:00",
            "change_id": None,
        },
        "regressed": [
            {
                "host": "db-02",
                "status": "non-compliant",
                "was": "compliant",
                "appeared": [
                    {"vendor": "kaspersky", "name": KESL["name"]},
                    {"vendor": "kaspersky", "name": KLNAGENT_LINUX["name"]},
                ],
                "message": None,
            },
            {
                "host": "app-03",
                "status": "unreachable",
                "was": "compliant",
                "appeared": [],
                "message": "ssh: connect to host app-03 port 22: Connection timed out",
            },
        ],
        "fixed": ["mail-05"],
        "newly_seen": [
            {"host": "db-02", "kind": "disallowed", "vendor": "kaspersky", "name": KESL["name"]},
            {
                "host": "db-02",
                "kind": "disallowed",
                "vendor": "kaspersky",
                "name": KLNAGENT_LINUX["name"],
            },
        ],
        "missing": ["old-04"],
        "added": ["бухгалтерия-пк"],
        "stale": [
            {"host": "<img src=x onerror=alert(1)>", "last_audited": None},
            {"host": "old-04", "last_audited": "2026-10-01T10:00:00+00:00"},
        ],
        "trend": [
            {
                "run_id": f"run-{day}",
                "started": f"2026-11-{day:02}T10:00:00+00:00",
                "kind": "audit",
                "counts": {"compliant": 2 + day % 3, "non-compliant": 6 - day % 3, "failed": 1},
            }
            for day in range(20, 28)
        ]
        + [
            {
                "run_id": "this-run",
                "started": "2026-11-28T10:00:00+00:00",
                "kind": "audit",
                "counts": {"compliant": 2, "non-compliant": 2, "unreachable": 1, "failed": 1},
            }
        ],
    }
    return report


# --- odd shapes the writer accepts, for the golden files -------------------------------
# Nothing a real run writes looks like these; each one takes a branch of the renderers
# that the samples above leave alone, so the golden files pin every branch's output.


def odd_audit_report() -> dict:
    """An audit in check mode with a deferred host, a policy of unusual shape, unknown
    run and host keys, a lone surrogate, control characters and a host with no findings."""
    report = sample_report()
    report["tool"] = {"name": "avshift"}
    report["run"].update(
        {
            "started": "2026-11-28T10:00:00+02:00",
            "ended": "2026-11-28T12:00:05+02:00",
            "check_mode": True,
            "change_id": "CHG-in-an-audit",
            "tags": ["nightly", 7],
            "flag": True,
            "empty": "",
            "extra_note": {"why": ["a", "b"], "n": 1.5},
            "policy": {
                "source": None,
                "sha256": "",
                "approved": ["clamav"],
                "updated_at": "2026-01-01",
            },
        }
    )
    report["hosts"] = [
        {
            "host": "mac-\udcc3",
            "status": "non-compliant",
            "os_family": "macos",
            "message": "two\nlines \x07 & <b>",
            "duration_seconds": 3,
            "disallowed": [
                {"vendor": "kaspersky", "product": "kaspersky", "evidence": []},
                {"vendor": None, "product": None, "name": None},
            ],
            "approved": [{"vendor": "clamav", "product": "clamav", "active": True}],
            "other": [
                {
                    "vendor": "acme",
                    "name": "Acme",
                    "evidence": ["a bare string", {"kind": "path", "value": None}],
                }
            ],
            "residue": [{"vendor": None, "evidence": _ev(("path", "/opt/kaspersky"))}],
            "notes": "x<y & 'z'",
            "labels": {"site": "Москва", "rack": [1, 2]},
            "empty_list": [],
            # An audit that changed something: the page warns.
            "changed": 2,
            # An older collector named the part alone.
            "unreadable": ["packages"],
        },
        {
            "host": "pos-01",
            "status": "deferred",
            "os_family": "linux",
            "message": None,
            "duration_seconds": True,
            "disallowed": None,
            "approved": None,
            "other": None,
            "residue": None,
        },
        {
            "host": "bare-02",
            "status": "non-compliant",
            "os_family": "linux",
            # Given, not derived: non_compliance_reason reads policy.approved as a mapping.
            "message": "no approved antivirus protects the host",
            "duration_seconds": 0,
            "disallowed": [],
            # Running, on signatures three months old: active, not protecting.
            "approved": [
                {
                    "vendor": "clamav",
                    "product": "clamav",
                    "name": "ClamAV",
                    "active": True,
                    "evidence": _ev(("service", "clamav-daemon")),
                    "protection": "not-protecting",
                    "not_protecting_because": ["signatures 94 days old (policy: 7)"],
                    "signatures_updated": "2026-08-26T03:12:00+00:00",
                    "signatures_basis": "file-mtime",
                    "signature_age_days": 94.3,
                    "real_time": False,
                }
            ],
            "other": [],
            "residue": [],
        },
    ]
    report["summary"] = summarize(report["hosts"])
    return report


def odd_remediation_report() -> dict:
    """A remediation whose change fields, plans, verdicts and actions take every odd shape:
    a window as text, no batch, unknown labels, actions without or with odd times."""
    report = remediation_report()
    report["run"].update(
        {
            "started": "2026-12-01T21:00:41",
            "ended": "2026-12-02T03:12:09",
            "window": "tonight",
            "batch": "",
            "max_fail_percentage": "ten",
            "reboot_policy": "weekly",
            "operator": None,
            "os_account": None,
            "change_id_pattern": None,
            "confirmation": "maybe",
            "ticket_url": "https://example.invalid/CHG?a=1&b=<2>",
        }
    )
    odd_plan = {
        "install": "microsoft",
        "install_order": "during-removal",
        "remove": [
            {"vendor": "kaspersky", "product": "kaspersky", "name": "kaspersky"},
            {
                "vendor": "kaspersky",
                "product": "kes",
                "packages": None,
                "windows": [{"display_name": "KES <11>"}, {"product_code": KES_CODE}, {}],
                "summary": "not this product's summary",
            },
        ],
        "held": [
            "Kaspersky Security Center (kaspersky/ksc): held, not removed: it manages other hosts",
            {"name": "Acme Agent", "hold_reason": "no source confirms it"},
        ],
        "missing_passwords": ["kes", "ghost"],
        "notes": ["first", "second"],
        "owner": {"team": "desktop"},
        "wait_seconds": 90,
    }
    actions = [
        # An older plan named what it removes, nothing more.
        {"event": "plan", "data": {"install": None, "remove": ["klnagent"], "why": ""}},
        {"event": "removed", "at": "yesterday", "data": "raw text"},
        {"event": "removed", "at": "2026-12-01T23:59:30", "data": {"rc": 0, "ok": False}},
        {"event": "rollback", "at": "2026-12-01T23:59:59+00:00", "data": {"ratio": 0.25}},
        {"event": "verified", "at": "2026-12-02T00:00:10+00:00", "data": {"ids": [1, 2, 3]}},
        {"action": "uninstall", "at": "2026-12-02T00:00:11+00:00", "product": "<kesl>"},
        {"at": "2026-12-02T00:00:12+05:30", "data": None, "extra": {"x": [None]}},
        {
            "event": "takeover",
            "at": "2026-12-02T00:00:13+00:00",
            "data": {"run_id": "r-1", "pid": 4242, "reason": "its process is gone"},
        },
        {
            "event": "installed",
            "at": "2026-12-02T00:00:14+00:00",
            "data": {"vendor": "microsoft", "active": True, "unprotected_seconds": 200.4},
        },
        {
            "event": "installed",
            "at": "2026-12-02T00:00:15+00:00",
            "data": {"vendor": None, "deferred": True, "reboot_required": True},
        },
        {"event": "installed", "at": "2026-12-02T00:00:16+00:00", "data": {"active": None}},
        {
            "event": "removed",
            "at": "2026-12-02T00:00:17+00:00",
            "data": {"products": ["A", "B"], "reboot_required": False},
        },
        {
            "event": "reboot",
            "at": "2026-12-02T00:00:18+00:00",
            "data": {"state": "done", "for": "the removal", "policy": "if_required"},
        },
        {"event": "reboot", "at": "2026-12-02T00:00:19+00:00", "data": {"state": "maybe"}},
        {"event": "verified", "at": "2026-12-02T00:00:20+00:00", "data": {"compliant": True}},
        # An event kind that came after this renderer: a table of what it holds.
        {
            "event": "changes",
            "at": "2026-12-02T00:00:21+00:00",
            "data": {
                "packages": [
                    {"name": "kes", "was": "12.6.0", "now": None},
                    {"name": "defender", "now": "4.18"},
                ],
                "services": {"stopped": ["AVP.KES.12.6.0"], "started": []},
                "mixed": [1, {"a": 2}],
            },
        },
    ]
    first = _entry("odd-01", "compliant", "windows", 12)
    first.update(
        before=_verdict(False, disallowed=[KES_WINDOWS]),
        after=_verdict(True, approved=[dict(DEFENDER_ACTIVE, active=False)]),
        plan=odd_plan,
        actions=actions,
        reboot="done",
        approved=[dict(DEFENDER_ACTIVE, active=False)],
    )
    unknown_verdict = _entry("odd-02", "failed", "linux", 1.5, "rpm database locked")
    unknown_verdict.update(before={"compliant": None}, reboot="pending")
    left_alone = _entry("odd-03", "compliant", "linux", 0.2)
    left_alone.update(before=_verdict(True, approved=[CLAMAV_ACTIVE]))
    not_started = _entry("odd-04", "deferred", "windows")
    not_started.update(before=_verdict(False, disallowed=[KLNAGENT_WINDOWS]), message=None)
    residue = [{"vendor": "kaspersky", "evidence": _ev(("path", "/var/opt/kaspersky"))}]
    rebooting = _entry("odd-05", "non-compliant", "linux", 50.25)
    rebooting.update(
        before=_verdict(False, disallowed=[KESL], residue=residue),
        after=_verdict(False, residue=residue),
        plan={"install": None, "remove": [], "reboot_policy": "always"},
        reboot="maybe",
        residue=residue,
        ticket="T-1",
    )
    no_plan = _entry("odd-06", "unreachable", None, None, None)
    no_plan.update(actions=[{"event": "reboot", "at": "2026-12-02T01:00:00+01:00"}])
    # A failed host whose state after the remediation is unknown, and why.
    unknown_after = _entry("odd-07", "failed", "linux", 0.3, "the scan after remediation failed")
    unknown_after.update(
        before=_verdict(False, disallowed=[KESL]),
        plan={"install": "clamav", "install_order": "around-removal", "remove": []},
        after_unknown="not scanned after remediation: the scan after remediation failed",
    )
    report["hosts"] = [
        first,
        unknown_verdict,
        left_alone,
        not_started,
        rebooting,
        no_plan,
        unknown_after,
    ]
    report["summary"] = summarize(report["hosts"])
    return report


def empty_report() -> dict:
    """An audit that found no hosts at all."""
    report = sample_report()
    report["hosts"] = []
    report["summary"] = summarize([])
    return report
