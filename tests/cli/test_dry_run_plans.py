"""What `avshift remediate --check` prints of each host's plan (the CLI's own output;
the reports' rendering of plans is tested in tests/report)."""

from __future__ import annotations

from avshift import cli

HELD = "ksc64 (kaspersky/ksc_server): held, not removed: it manages other hosts"


def test_the_dry_run_plan_names_what_it_holds_back_first(capsys):
    held = {"install": None, "remove": [], "held": [HELD], "missing_passwords": []}
    cli.print_plans({"hosts": [{"host": "ksc-lnx-01", "status": "failed", "plan": held}]})
    assert capsys.readouterr().out.splitlines()[1] == f"  ksc-lnx-01  HELD {HELD}"
