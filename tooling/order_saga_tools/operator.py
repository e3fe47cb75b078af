"""What every operator command shares: which stack it acts on, its output, its confirmation."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from localcloud.stack import Stack, connect
from order_saga_tools.state import outputs_path


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
    return connect(args.stack, args.region, args.local, outputs_path(args.root))


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal before a change; --yes answers for the operator."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print(f"{question} [y/N] no (not a terminal: pass --yes)", file=sys.stderr)
        return False
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def _wrap(text: str, room: int, separator: str = " > ") -> list[str]:
    """Lines of at most `room` characters, broken after a separator rather than inside a name."""
    if separator not in text:
        return textwrap.wrap(text, room, break_on_hyphens=False) or [""]
    lines: list[str] = []
    current = ""
    for part in text.split(separator):
        candidate = f"{current}{separator}{part}" if current else part
        if current and len(candidate) > room:
            lines.append(current + separator.rstrip())
            current = part
        else:
            current = candidate
    return [*lines, current]


def table(headers: list[str], rows: list[list[str]], width: int = 100) -> str:
    """Columns padded to their widest cell, under a rule; the last column wraps to fit `width`."""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    indent = sum(widths[:-1]) + 2 * (len(widths) - 1)
    room = max(width - indent, 20)
    widths[-1] = min(widths[-1], room)
    lines = []
    for row in [headers, ["-" * w for w in widths], *rows]:
        *first, last = [str(cell) for cell in row]
        wrapped = _wrap(last, room)
        head = "  ".join(cell.ljust(w) for cell, w in zip(first, widths, strict=False))
        lines.append(f"{head}  {wrapped[0]}".rstrip() if first else wrapped[0])
        lines.extend(" " * indent + more for more in wrapped[1:])
    return "\n".join(lines)


def emit(result: Any, as_json: bool, headers: list[str], rows: list[list[str]]) -> None:
    """Print `result` as JSON, or `rows` as a table."""
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(table(headers, rows))
