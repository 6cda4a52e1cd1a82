"""The avshift command: a thin layer over the avshift.remediation collection."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

try:
    from ansible_collections.avshift.remediation.plugins.plugin_utils import contract, history
    from ansible_collections.avshift.remediation.plugins.plugin_utils import report as report_writer
    from ansible_collections.avshift.remediation.plugins.plugin_utils.version import (
        collection_version,
    )
    from avshift.history_view import cmd_history
    from avshift.playbook_run import (
        Progress,
        ToolError,
        UsageError,
        collection_root,
        count_hosts,
        inline_extra_vars,
        prepare_report_dir,
        run_playbook,
    )
except ImportError:  # reported by main(): nothing works without the collection
    contract = None

NOT_IMPORTABLE = (
    "the avshift.remediation collection is not importable; install it "
    "(ansible-galaxy collection install) or run bin/avshift from a checkout"
)


def _engine():
    """The collection's engine; the CLI holds no detection logic of its own."""
    try:
        from ansible_collections.avshift.remediation.plugins.plugin_utils import (
            classifier,
            errors,
            policy,
        )
    except ImportError:
        raise ToolError(NOT_IMPORTABLE) from None
    return classifier, errors, policy


def _fail(message: str) -> None:
    """Invalid input or usage: nothing ran on any host."""
    raise UsageError(message)


def _read_inventory(path: str, errors) -> object:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise errors.InventoryError(path, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise errors.InventoryError(path, None, "not UTF-8 text") from None
    if not text.strip():
        raise errors.InventoryError(path, None, "empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InventoryError(
            path, None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        # Nesting too deep or a number too long for Python: still just bad input.
        message = str(exc).split(";")[0] if isinstance(exc, ValueError) else "nested too deeply"
        raise errors.InventoryError(path, None, f"invalid JSON: {message}") from None


def cmd_classify(args: argparse.Namespace) -> int:
    classifier, errors, policy_module = _engine()
    try:
        policy = policy_module.load_policy(args.policy)
    except errors.InputError as exc:
        _fail(str(exc))
    several = len(args.inventories) > 1
    codes = []
    for path in args.inventories:
        try:
            verdict = classifier.classify(_read_inventory(path, errors), policy, source=path)
        except errors.InputError as exc:
            print(f"avshift: error: {exc}", file=sys.stderr)
            codes.append(contract.Exit.INVALID)
            continue
        if verdict["host"] is None:
            verdict["host"] = Path(path).stem
        print(json.dumps(verdict, ensure_ascii=False, indent=None if several else 2))
        codes.append(contract.exit_for_statuses([verdict_status(verdict)]))
    return contract.combine_exits(codes)


def verdict_status(verdict: dict) -> str:
    return "compliant" if verdict["compliant"] else "non-compliant"


def _inventory_sources(inventories: list[str] | None) -> list[str]:
    """Every -i given, as ansible-playbook takes them all; none is this machine."""
    if not inventories:
        return [str(collection_root() / "inventories" / "local")]
    return [_inventory_source(inventory) for inventory in inventories]


def _inventory_source(inventory: str) -> str:
    if Path(inventory).exists():
        # ansible-runner runs from a private directory: relative paths would be lost.
        return str(Path(inventory).resolve())
    if "," not in inventory:
        raise UsageError(f"inventory {inventory}: no such file or directory")
    return inventory  # a host list such as "web-01,web-02,"


def _passthrough(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(-e values, other ansible-playbook options): files made absolute, inline values
    checked (ansible-runner writes them to a private file, never a command line), and a
    warning for each secret given inline, which the shell's history and the process list
    of this command have already seen."""
    extra_vars = []
    for value in args.extra_vars or ():
        if not value:
            continue
        if value.startswith("@"):
            path = Path(value[1:])
            if not path.is_file():
                raise UsageError(f"extra vars file {value[1:]}: no such file")
            value = f"@{path.resolve()}"
        else:
            secret = sorted(set(inline_extra_vars(value)) & set(contract.secret_variables()))
            for name in secret:
                print(
                    f"avshift: warning: {name} given inline on the command line: pass "
                    "secrets with -e @file, ideally vault-encrypted (ansible-vault)",
                    file=sys.stderr,
                )
        extra_vars.append(value)
    options = []
    if args.vault_password_file:
        path = Path(args.vault_password_file)
        if not path.is_file():
            raise UsageError(f"vault password file {path}: no such file")
        options += ["--vault-password-file", str(path.resolve())]
    return extra_vars, options


def _no_report(kind: str, outcome) -> int:
    """The playbook ended without a report: say why, with the code the contract gives."""
    if outcome.write_error:
        raise ToolError(
            f"{outcome.write_error}; free space or fix the directory's permissions, then "
            "run the command again"
        )
    where = f"see {outcome.report_dir / 'artifacts'}"
    reason = "; ".join(outcome.errors) or f"{outcome.status}, rc={outcome.rc}"
    if outcome.refused_input:
        # ansible-playbook rejected its input (syntax, options, vault) before any host.
        raise UsageError(f"ansible-playbook refused to run the {kind}: {reason} ({where})")
    raise ToolError(f"the {kind} playbook ended without a report ({reason}); {where}")


def print_summary(kind: str, report: dict, report_dir: Path, seconds: float | None) -> None:
    summary = report["summary"]
    total = summary.get("total", 0)
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    print(f"avshift {kind}: {contract.plural(total, 'host')}{took}")
    rules = protection_rules_line((report["run"].get("policy") or {}).get("protection"))
    if rules:
        print(rules)
    for status in contract.STATUS_IDS:
        if status not in contract.OCCASIONAL_STATUSES or summary.get(status):
            print(f"  {status:<15}{summary.get(status, 0):>6}")
    attention = [h for h in report["hosts"] if h["status"] != "compliant"]
    if attention:
        print("Needs attention:")
        width = max(len(h["host"]) for h in attention)
        for host in attention:
            print(f"  {host['host']:<{width}}  {host['status']:<14} {attention_reason(host)}")
    print_drift(report.get("drift"))
    for warning in report["run"].get("history_warnings") or ():
        print(f"avshift: warning: {warning}", file=sys.stderr)
    print(report_writer.reports_line(report_dir))


def protection_rules_line(rules: dict | None) -> str | None:
    """Which protection rules the hosts were held to, per OS family, in one line."""
    if not rules:
        return None
    parts = []
    for family, rule in sorted(rules.items()):
        asked = []
        if rule.get("max_signature_age_days") is not None:
            asked.append(f"signatures at most {rule['max_signature_age_days']:g} days old")
        if rule.get("require_real_time"):
            asked.append("real-time protection on")
        parts.append(f"{family}: {' and '.join(asked) or 'active is enough'}")
    return "Protection rules: " + "; ".join(parts)


def attention_reason(host: dict) -> str:
    """Why a host needs attention: its report entry's message, in full and on one line.
    For a failed host that is what went wrong ("left protected by ...; replacement
    failed: ..."), whatever its scan found; for a non-compliant one, what was found."""
    return " ".join(str(host.get("message") or "").split()) or "-"


def print_drift(drift: dict | None) -> None:
    """What changed since the last run of the same inventory and limit, in a few lines."""
    if not drift:
        return
    previous = drift.get("previous_run")
    if previous is None:
        print("Since the last run: none recorded of this inventory and limit")
    else:
        counts = [
            contract.plural(len(drift["regressed"]), "host") + " regressed",
            f"{len(drift['fixed'])} fixed",
            f"{len(drift['newly_seen'])} antivirus newly seen",
            f"{len(drift['missing'])} missing",
        ]
        print(f"Since the last run ({previous['started']}): {', '.join(counts)}")
    for host in drift["regressed"]:
        appeared = ", ".join(item["name"] for item in host["appeared"]) or host["status"]
        print(f"  regressed  {host['host']}: {appeared}")
    if drift.get("stale"):
        print(f"  stale: {contract.plural(len(drift['stale']), 'host')} not audited lately")


def _run_fleet(
    args: argparse.Namespace,
    kind: str,
    playbook: str,
    extravars: dict,
    policy_var: str,
    check: bool = False,
    confirm: Callable[[int], None] | None = None,
) -> int:
    """Check the policy, inventory and pass-through options before any host is touched,
    run the playbook, print the summary and return the exit code.

    confirm(total), when given, is asked once everything is checked and before anything
    is done: it raises UsageError to refuse the run.
    """
    _, errors, policy_module = _engine()
    if args.report_mode is None:
        try:
            args.report_mode = _report_mode(
                os.environ.get("AVSHIFT_REPORT_MODE") or oct(contract.REPORT_DIR_MODE)
            )
        except argparse.ArgumentTypeError as exc:
            _fail(f"AVSHIFT_REPORT_MODE: {exc}")
    try:
        if args.policy:
            policy_module.load_policy(args.policy)
            extravars[policy_var] = str(Path(args.policy).resolve())
        inventory = _inventory_sources(args.inventory)
        extra_vars, extra_args = _passthrough(args)
        if args.limit and args.limit.startswith("@"):
            # ansible-runner starts ansible-playbook in a directory of its own.
            args.limit = "@" + str(Path(args.limit[1:]).resolve())
        total = count_hosts(inventory, args.limit)
    except errors.InputError as exc:
        _fail(str(exc))
    except UsageError:
        raise
    except Exception as exc:  # inventory plugins raise AnsibleError and friends
        given = ", ".join(args.inventory or ["(this machine)"])
        _fail(f"inventory {given}: {' '.join(str(exc).split())[:300]}")
    # Relative to the directory the command was started in, as every path a user types.
    report_dir = Path(
        args.report_dir or os.environ.get("AVSHIFT_REPORT_DIR") or contract.default_report_dir(kind)
    )
    existed = report_dir.exists()
    report_dir, held = prepare_report_dir(
        report_dir, force_new=args.force_new, mode=args.report_mode
    )
    if confirm is not None:
        # After the report directory's checks, which refuse with exit 2 too: an operator
        # who typed the change id is not then told the run cannot start.
        try:
            confirm(total)
        except UsageError:
            os.close(held)
            if not existed:
                # Nothing ran: leave nothing behind either (the directory is still empty).
                with contextlib.suppress(OSError):
                    report_dir.rmdir()
            raise
    started = time.monotonic()
    outcome = run_playbook(
        playbook,
        inventory,
        report_dir,
        extravars,
        limit=args.limit,
        forks=args.forks,
        check=check,
        progress=Progress(total),
        extra_vars=extra_vars,
        extra_args=extra_args,
        verbosity=args.verbose,
        syslog=args.syslog,
        environment=_callback_environment(args),
    )
    interrupted = {signal.SIGINT: contract.Exit.SIGINT, signal.SIGTERM: contract.Exit.SIGTERM}
    if outcome.report is None:
        if outcome.signal and not outcome.write_error:
            print("avshift: interrupted before any host was recorded", file=sys.stderr)
            return interrupted[outcome.signal]
        return _no_report(kind, outcome)
    if check and kind == "remediation":
        print_plans(outcome.report)
    print_summary(kind, outcome.report, report_dir, time.monotonic() - started)
    codes = [contract.exit_for_summary(outcome.report["summary"])]
    if outcome.signal:
        print(
            f"avshift: the {kind} was interrupted; the reports show where it stopped",
            file=sys.stderr,
        )
        codes.append(interrupted[outcome.signal])
    return contract.combine_exits(codes)


def cmd_report(args: argparse.Namespace) -> int:
    """Render a run's reports from its journal (a run that was killed), or verify them."""
    from ansible_collections.avshift.remediation.plugins.plugin_utils import record

    directory = Path(os.path.abspath(args.directory))
    try:
        if args.verify:
            return _verify(record, directory, args)
        rendered = record.render(
            directory, record.HistoryOptions(choice=args.history, stale_days=args.stale_days)
        )
        if args.sign_key:
            record.sign(directory, args.sign_key)
    except record.NoRecord as exc:
        _fail(str(exc))
    except record.SigningError as exc:
        raise ToolError(str(exc)) from None
    except OSError as exc:
        raise ToolError(
            f"cannot write the reports in {directory}: {exc.strerror or exc}; free space or "
            "fix the directory's permissions, then run it again"
        ) from None
    if rendered.journal.truncated:
        print(f"avshift: warning: journal.jsonl {rendered.journal.truncated}", file=sys.stderr)
    for problem in rendered.journal.problems:
        print(f"avshift: warning: journal.jsonl {problem}", file=sys.stderr)
    report = rendered.report
    print(f"Rendered from journal.jsonl: the run {report['run'].get('completion')}.")
    print_summary(report["kind"], report, directory, None)
    return contract.exit_for_summary(report["summary"])


def _verify(record, directory: Path, args: argparse.Namespace) -> int:
    result = record.verify(directory, args.allowed_signers, args.identity)
    for line in result.checked:
        print(f"  ok  {line}")
    for problem in result.problems:
        print(f"  BAD {problem}")
    if not result.ok:
        print(f"avshift: error: {directory} does not verify", file=sys.stderr)
        return contract.Exit.INVALID
    print(f"{directory}: the journal, the reports and their sums verify")
    return contract.Exit.OK


def cmd_audit(args: argparse.Namespace) -> int:
    return _run_fleet(args, "audit", "audit.yml", {}, policy_var="avshift_audit_policy")


def _change_engine():
    try:
        from ansible_collections.avshift.remediation.plugins.plugin_utils import change
    except ImportError:
        _engine()  # reports the missing collection
    return change


def print_plans(report: dict) -> None:
    """A dry run's plan per host, as the roles will carry it out."""
    print("Plan (nothing was changed):")
    width = max((len(h["host"]) for h in report["hosts"]), default=0)
    for host in report["hosts"]:
        plan = host.get("plan")
        if not plan:
            print(f"  {host['host']:<{width}}  {host['status']}: {host.get('message') or '-'}")
            continue
        steps = []
        if plan.get("install"):
            steps.append(f"install {plan['install']} ({plan.get('install_order')})")
        for item in plan.get("remove") or []:
            packages = ", ".join(item.get("packages") or []) or ", ".join(
                entry.get("display_name", "?") for entry in item.get("windows") or []
            )
            steps.append(f"remove {item.get('name')}" + (f" [{packages}]" if packages else ""))
        if steps:
            steps.append(f"reboot: {plan.get('reboot_policy')}")
        for product in plan.get("missing_passwords") or []:
            steps.append(f"WARNING no uninstall password for {product}")
        # A held product keeps the whole host from being remediated: say so first.
        steps[:0] = [f"HELD {summary}" for summary in plan.get("held") or []]
        print(f"  {host['host']:<{width}}  {'; '.join(steps) or 'nothing to do'}")


def cmd_remediate(args: argparse.Namespace) -> int:
    _, errors, _ = _engine()
    change = _change_engine()
    try:
        change.check_change_id(args.change_id, args.change_id_pattern)
        window = change.parse_window(args.window)
        change.refuse_to_start(window, change.now_utc(), dry_run=args.check)
        for warning in change.window_warnings(window, args.longest_window):
            print(f"avshift: warning: {warning}", file=sys.stderr)
        extravars = {
            "avshift_remediate_change_id": args.change_id,
            "avshift_remediate_window": args.window,
            "avshift_remediate_reboot": change.check_reboot(args.reboot),
        }
        if args.operator is not None:
            extravars["avshift_remediate_operator"] = args.operator
        if args.break_lock:
            extravars["avshift_remediate_break_lock"] = True
        if args.change_id_pattern is not None:
            extravars["avshift_remediate_change_id_pattern"] = args.change_id_pattern
        if args.batch is not None:
            # serial takes a ramp such as 1,5,25% only in its list form.
            extravars["avshift_remediate_batch"] = change.parse_batch(args.batch)
        if args.max_fail is not None:
            extravars["avshift_remediate_max_fail_percentage"] = change.check_max_fail(
                args.max_fail
            )
    except errors.InputError as exc:
        _fail(str(exc))

    def confirm(total: int) -> None:
        extravars["avshift_remediate_confirmation"] = confirmation(args, total)

    return _run_fleet(
        args,
        "remediation",
        "remediate.yml",
        extravars,
        policy_var="avshift_remediate_policy",
        check=args.check,
        # A dry run changes nothing: nobody is asked.
        confirm=None if args.check else confirm,
    )


def confirmation(args: argparse.Namespace, total: int) -> str:
    """How a real remediation may start (a key of contract.CONFIRMATIONS): --yes, or the
    operator types the change id at the prompt. Otherwise UsageError: nothing runs."""
    if args.yes:
        return "yes"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        # Nobody could answer: an unattended run must not start unconfirmed.
        raise UsageError(
            "a real remediation asks for the change id on a terminal, and this is not one: "
            "pass --yes for automation (AWX, cron, CI)"
        )
    sys.stderr.write(
        f"avshift: about to change {contract.plural(total, 'host')} for change "
        f"{args.change_id} inside {args.window}: type the change id to go on: "
    )
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise UsageError("not confirmed (interrupted at the prompt): nothing ran") from None
    if not answer:
        sys.stderr.write("\n")
        raise UsageError("not confirmed (no answer, end of input): nothing ran")
    # Blanks around it are the terminal's, never part of a change id.
    if answer.strip() != args.change_id:
        raise UsageError(f"not confirmed: the change id is {args.change_id}: nothing ran")
    return "typed"


def _operator_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise argparse.ArgumentTypeError("expected a name, got an empty one")
    return name


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 hours, got {text}")
    return value


def _report_mode(text: str) -> int:
    try:
        return contract.parse_mode(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an octal mode with the owner's rwx that others cannot write (0700, "
            f"0750), got {text!r}"
        ) from None


def _add_passthrough(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        metavar="VARS",
        help="passed to ansible-playbook, e.g. -e @vault.yml for uninstall passwords",
    )
    parser.add_argument(
        "--vault-password-file", metavar="FILE", help="for encrypted inventory or vars files"
    )


def _add_fleet_options(parser: argparse.ArgumentParser, kind: str) -> None:
    """What avshift audit and avshift remediate both take: the hosts, the policy, the
    report directory and how the run is recorded."""
    parser.add_argument(
        "-i",
        "--inventory",
        action="append",
        metavar="INVENTORY",
        help="default: this machine (connection local); several -i are all used",
    )
    parser.add_argument("--limit", metavar="PATTERN", help="only hosts matching PATTERN")
    parser.add_argument("--policy", metavar="FILE", help="default: the shipped policy")
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help=f"default: $AVSHIFT_REPORT_DIR, else reports/{kind}-<UTC time>; relative to "
        "the current directory",
    )
    parser.add_argument(
        "--report-mode",
        type=_report_mode,
        metavar="MODE",
        help="permissions of a report directory it creates, e.g. 0750 to share it with the "
        "group (default: $AVSHIFT_REPORT_MODE, else 0700); its files take the same without "
        "execute bits",
    )
    parser.add_argument(
        "--force-new",
        action="store_true",
        help="when the report directory holds a run, keep that run aside (DIR.<time>-<id>) "
        "instead of refusing",
    )
    parser.add_argument("--forks", type=_positive_int, metavar="N", help="parallel hosts")
    _add_history_choice(parser)
    parser.add_argument(
        "--stale-days",
        type=_positive_int,
        metavar="N",
        help=f"list hosts not audited for N days as stale (default: {history.DEFAULT_STALE_DAYS})",
    )
    parser.add_argument(
        "--syslog",
        nargs="?",
        const="1",
        metavar="SOCKET",
        help="also send every journal event to syslog (/dev/log, or this Unix socket)",
    )


def _add_history_choice(parser: argparse.ArgumentParser, reading: bool = False) -> None:
    """--history PATH|URL, and (for what records) --no-history."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--history",
        metavar="PATH|URL",
        help=f"the history store{'' if reading else ' the run is recorded in'}: a SQLite "
        "file, or postgresql://user@host/db (its password from PGPASSWORD or ~/.pgpass, "
        "never the URL); default: $AVSHIFT_HISTORY, else "
        "$XDG_DATA_HOME/avshift/history.sqlite",
    )
    if not reading:
        group.add_argument(
            "--no-history",
            dest="history",
            action="store_const",
            const="off",
            help="record nothing and compare with nothing",
        )


def _callback_environment(args: argparse.Namespace) -> dict[str, str]:
    """What the fleet_report callback reads the CLI's choices from."""
    environment = {"AVSHIFT_REPORT_MODE": oct(args.report_mode)}
    if args.history:
        environment["AVSHIFT_HISTORY"] = args.history
    if args.stale_days:
        environment["AVSHIFT_STALE_DAYS"] = str(args.stale_days)
    return environment


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="ansible-playbook verbosity, into the run's artifacts (-vvv for connection debug)",
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        _fail(message)


def exit_codes_help() -> str:
    """The exit-code contract as --help shows it, from the one definition."""
    lines = ["exit codes (when several apply, the first in this order wins: "]
    lines[0] += ", ".join(str(int(code)) for code in contract.EXIT_PRECEDENCE) + "):"
    lines += [f"  {int(code):<4} {contract.EXIT_MEANINGS[code]}" for code in contract.Exit]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    common = {"epilog": exit_codes_help(), "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = _Parser(
        prog="avshift",
        description="Find, remove and replace disallowed antivirus across a fleet.",
        **common,
    )
    # The collection's version (galaxy.yml): the CLI ships with it and has none of its own.
    parser.add_argument("--version", action="version", version=f"avshift {collection_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    classify = commands.add_parser(
        "classify",
        help="classify raw inventories (JSON) against the policy",
        description="The detection engine on raw inventories, one verdict per file.",
        **common,
    )
    classify.add_argument("inventories", nargs="+", metavar="INVENTORY.json")
    classify.add_argument("--policy", metavar="POLICY.yml", help="default: the shipped policy")
    classify.set_defaults(handler=cmd_classify)

    audit = commands.add_parser(
        "audit",
        help="dry-run compliance audit of a fleet (changes nothing)",
        description="One read-only scan per host; the fleet report in every format.",
        **common,
    )
    _add_fleet_options(audit, "audit")
    _add_passthrough(audit)
    _add_verbose(audit)
    audit.set_defaults(handler=cmd_audit)

    remediate = commands.add_parser(
        "remediate",
        help="replace disallowed antivirus inside a change window",
        description="Installs the approved antivirus, removes the disallowed one and scans "
        "again, host by host in batches; with --check only plans.",
        **common,
    )
    _add_fleet_options(remediate, "remediation")
    remediate.add_argument("--change-id", required=True, metavar="ID", help="e.g. CHG0012345")
    remediate.add_argument(
        "--change-id-pattern",
        metavar="REGEX",
        help=f"what a change id must match (default: {contract.CHANGE_ID_PATTERN})",
    )
    remediate.add_argument(
        "--window",
        required=True,
        metavar="START/END",
        help="ISO 8601 with offsets, e.g. 2026-12-01T22:00+01:00/2026-12-02T04:00+01:00",
    )
    remediate.add_argument(
        "--longest-window",
        type=_positive_hours,
        default=_change_engine().LONGEST_WINDOW_HOURS,
        metavar="HOURS",
        help="warn when the window is longer than HOURS (default: %(default)g)",
    )
    remediate.add_argument("--batch", metavar="SPEC", help="hosts per batch: 5, 10%%, 1,5,25%%")
    remediate.add_argument("--max-fail", metavar="PCT", help="stop when a batch fails above PCT")
    remediate.add_argument(
        "--reboot", default="if_required", metavar="POLICY", help="never, if_required, always"
    )
    remediate.add_argument("--check", action="store_true", help="plan only; change nothing")
    remediate.add_argument(
        "--yes",
        action="store_true",
        help="start without asking for the change id (automation, AWX); without it a real "
        "run asks on a terminal and refuses elsewhere; recorded in the evidence",
    )
    remediate.add_argument(
        "--operator",
        type=_operator_name,
        metavar="NAME",
        help="the person running (or approving) the change, recorded beside the OS account",
    )
    remediate.add_argument(
        "--break-lock",
        action="store_true",
        help="take each host's remediation lock whoever holds it (a run on another "
        "controller known to be gone); recorded in the evidence",
    )
    _add_passthrough(remediate)
    _add_verbose(remediate)
    remediate.set_defaults(handler=cmd_remediate)

    report = commands.add_parser(
        "report",
        help="render a run's reports from its journal, or verify them",
        description="Renders report.json, .csv, .html, .junit.xml and SHA256SUMS from a "
        "report directory's journal.jsonl (after a run that was killed: hosts it had not "
        "finished are reported interrupted), or with --verify checks the journal's hash "
        "chain, SHA256SUMS and its signature; a record that does not verify exits 2.",
        **common,
    )
    report.add_argument("directory", metavar="DIR", help="a run's report directory")
    report.add_argument("--verify", action="store_true", help="check, change nothing")
    report.add_argument(
        "--sign-key", metavar="KEY", help="sign SHA256SUMS with this SSH private key"
    )
    report.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="with --verify: ssh-keygen's allowed signers file the signature must match",
    )
    report.add_argument(
        "--identity", metavar="ID", help="with --allowed-signers: the signer's identity"
    )
    _add_history_choice(report)
    report.add_argument(
        "--stale-days", type=_positive_int, metavar="N", help="as the run was started with"
    )
    report.set_defaults(handler=cmd_report)

    history_command = commands.add_parser(
        "history",
        help="the runs a history store holds, a host's timeline and the fleet trend",
        description="Every recorded audit and remediation: without --host the runs and the "
        "fleet's compliance over them; with --host each matching host's timeline (the runs "
        "in which its status or findings changed, with the evidence). The exit code "
        "follows the latest result of each host in scope; an empty scope exits 2, a store "
        "that cannot be read 4.",
        **common,
    )
    _add_history_choice(history_command, reading=True)
    history_command.add_argument(
        "--host", metavar="PATTERN", help="hosts whose name matches (* and ? as wildcards)"
    )
    history_command.add_argument(
        "--since", metavar="DATE", help="runs started on or after DATE (ISO 8601)"
    )
    history_command.add_argument("--change", metavar="ID", help="the runs of this change id")
    history_command.add_argument("--json", action="store_true", help="machine-readable output")
    history_command.add_argument(
        "--purge-before",
        metavar="DATE",
        help="remove every run started before DATE, and what only those runs referenced",
    )
    history_command.add_argument(
        "--erase-operator",
        metavar="NAME",
        help="replace a person's name in every run they ran by (erased)",
    )
    history_command.set_defaults(handler=cmd_history)
    return parser


class _Terminated(BaseException):
    """SIGTERM, unwound like Ctrl-C's KeyboardInterrupt."""


def _on_sigterm(signum, frame):
    raise _Terminated


def _tool_failure(message: str) -> int:
    print(f"avshift: error: {message}", file=sys.stderr)
    if os.environ.get("AVSHIFT_DEBUG") == "1":
        traceback.print_exc()
    else:
        print("  (for a bug report, run it again with AVSHIFT_DEBUG=1)", file=sys.stderr)
    return contract.Exit.TOOL_FAILURE


def main(argv: list[str] | None = None) -> int:
    if contract is None:
        print(f"avshift: error: {NOT_IMPORTABLE}", file=sys.stderr)
        return 4  # the contract's TOOL_FAILURE, which could not be imported
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except UsageError as exc:
        print(f"avshift: error: {exc}", file=sys.stderr)
        return contract.Exit.INVALID
    except ToolError as exc:
        print(f"avshift: error: {exc}", file=sys.stderr)
        return contract.Exit.TOOL_FAILURE
    except KeyboardInterrupt:
        print("avshift: interrupted", file=sys.stderr)
        return contract.Exit.SIGINT
    except _Terminated:
        print("avshift: terminated", file=sys.stderr)
        return contract.Exit.SIGTERM
    except BrokenPipeError:
        # Whoever read the output went away: what they got may be incomplete.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the exit-time flush
        return contract.Exit.TOOL_FAILURE
    except SystemExit:
        raise
    except Exception as exc:  # a bug: one line, never a traceback that looks like a verdict
        return _tool_failure(f"internal error: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
