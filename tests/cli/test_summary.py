"""The summary `avshift audit` and `avshift remediate` end with (cli.print_summary): what
an operator reads first, so a host that needs attention is listed with its reason."""

from __future__ import annotations

from pathlib import Path

from avshift import cli

REASON = (
    "left protected by Kaspersky Endpoint Security for Linux; replacement failed: "
    "clamav-daemon did not become active within 300 s: clamd: LibClamAV Error: "
    "cli_loaddbdir(): No supported database files found in /var/lib/clamav; check "
    "avshift_install_clamav_signature_source on the controller and run again"
)
KESL = {"vendor": "kaspersky", "product": "kesl", "name": "Kaspersky Endpoint Security"}


def _summary(capsys, hosts: list[dict]) -> list[str]:
    statuses = [host["status"] for host in hosts]
    report = {
        "kind": "remediation",
        "run": {},
        "summary": {"total": len(hosts), **{s: statuses.count(s) for s in set(statuses)}},
        "hosts": hosts,
    }
    cli.print_summary("remediation", report, Path("/srv/evidence/run-1"), 44.0)
    return capsys.readouterr().out.splitlines()


def test_a_failed_host_is_listed_with_its_whole_reason_not_its_findings(capsys):
    lines = _summary(
        capsys,
        [
            {"host": "web-01", "status": "compliant", "message": None, "disallowed": []},
            # The scan after the failure still finds Kaspersky: the reason is what matters.
            {"host": "db-01", "status": "failed", "message": REASON, "disallowed": [KESL]},
            {
                "host": "kiosk-04",
                "status": "non-compliant",
                "message": "the scan after remediation still finds Kaspersky Network Agent",
                "disallowed": [KESL],
            },
        ],
    )
    attention = lines[lines.index("Needs attention:") + 1 :]
    assert attention[0] == f"  db-01     failed         {REASON}"
    assert attention[1] == (
        "  kiosk-04  non-compliant  the scan after remediation still finds Kaspersky Network Agent"
    )
    assert not any("web-01" in line for line in attention)


def test_a_reason_over_several_lines_is_listed_on_one(capsys):
    tail = "MSI (s) (7C:18) Product: Kaspersky Endpoint Security -- Removal failed.\r\n  1603"
    lines = _summary(
        capsys,
        [{"host": "win-01", "status": "failed", "message": f"uninstall failed:\n{tail}"}],
    )
    (line,) = [line for line in lines if line.startswith("  win-01")]
    assert line.endswith(
        "uninstall failed: MSI (s) (7C:18) Product: Kaspersky Endpoint Security -- "
        "Removal failed. 1603"
    )
