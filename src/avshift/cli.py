"""The avshift command: a thin layer over the avshift.remediation collection."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from avshift import __version__

EXIT_OK = 0
EXIT_NON_COMPLIANT = 1
EXIT_INVALID = 2


def _engine():
    """The collection's engine; the CLI holds no detection logic of its own."""
    try:
        from ansible_collections.avshift.remediation.plugins.plugin_utils import (
            classifier,
            errors,
            policy,
        )
    except ImportError:
        _fail(
            "the avshift.remediation collection is not importable; install it "
            "(ansible-galaxy collection install) or run bin/avshift from a checkout"
        )
    return classifier, errors, policy


def _fail(message: str) -> None:
    print(f"avshift: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_INVALID)


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


def cmd_classify(args: argparse.Namespace) -> int:
    classifier, errors, policy_module = _engine()
    try:
        policy = policy_module.load_policy(args.policy)
    except errors.InputError as exc:
        _fail(str(exc))
    several = len(args.inventories) > 1
    status = EXIT_OK
    invalid = False
    for path in args.inventories:
        try:
            verdict = classifier.classify(_read_inventory(path, errors), policy, source=path)
        except errors.InputError as exc:
            print(f"avshift: error: {exc}", file=sys.stderr)
            invalid = True
            continue
        if verdict["host"] is None:
            verdict["host"] = Path(path).stem
        print(json.dumps(verdict, ensure_ascii=False, indent=None if several else 2))
        if not verdict["compliant"]:
            status = EXIT_NON_COMPLIANT
    return EXIT_INVALID if invalid else status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        _fail(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="avshift",
        description="Find, remove and replace disallowed antivirus across a fleet.",
    )
    parser.add_argument("--version", action="version", version=f"avshift {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    classify = commands.add_parser(
        "classify",
        help="classify raw inventories (JSON) against the policy",
        description="Exit 0 when every host is compliant, 1 when any is not, 2 on invalid input.",
    )
    classify.add_argument("inventories", nargs="+", metavar="INVENTORY.json")
    classify.add_argument("--policy", metavar="POLICY.yml", help="default: the shipped policy")
    classify.set_defaults(handler=cmd_classify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("avshift: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
