"""What every operator command shares: which stack it acts on, its output, its confirmation."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from order_saga.local.stack import Stack, connect


def add_target_arguments(parser: argparse.ArgumentParser, changes: bool = False) -> None:
    """The target (`--stack NAME [--region R]` or `--local URL`), `--json`, and `--yes`."""
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--stack", metavar="NAME", help="a deployed stack, found with CloudFormation"
    )
    target.add_argument(
        "--local",
        metavar="URL",
        help="the local cloud's AWS endpoint, as `order-saga local start` prints it",
    )
    parser.add_argument("--region", metavar="R", help="the stack's region (with --stack)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    if changes:
        parser.add_argument(
            "--yes", action="store_true", help="do not ask before changing anything"
        )


def stack_of(args: argparse.Namespace) -> Stack:
    """The stack the command line names; StackUnreachableError says why it cannot be reached."""
    return connect(args.stack, args.region, args.local, args.root)


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal before a change; --yes answers for the operator."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print(f"{question} [y/N] no (not a terminal: pass --yes)", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, under a rule."""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in [headers, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)


def emit(result: Any, as_json: bool, headers: list[str], rows: list[list[str]]) -> None:
    """Print `result` as JSON, or `rows` as a table."""
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(table(headers, rows))
