"""The `order-saga` command: the demo and the no-Docker equivalents of `sam local`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from localcloud import cli as engine_cli
from localcloud.cli import UsageError
from localcloud.cli import parameter_overrides as parameter_overrides  # part of this interface
from localcloud.collector import freeze_at_exit
from order_saga_tools.operator import table
from order_saga_tools.redrive import add_commands as add_redrive_commands

DEFAULT_CLOCK_SCALE = 0.01


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="order-saga",
        description="Run the order saga on this machine: no Docker, no AWS account.",
    )
    parser.add_argument(
        "--root", default=".", help="project folder holding template.yaml (default: .)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="place four sample orders and show how each saga ended")
    demo.add_argument("--json", action="store_true", help="print the result as JSON")
    demo.add_argument(
        "--clock-scale",
        type=float,
        default=DEFAULT_CLOCK_SCALE,
        help=f"saga timers run at this fraction of real time (default {DEFAULT_CLOCK_SCALE})",
    )

    local = commands.add_parser("local", help="sam local equivalents on the embedded emulator")
    local_commands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")
    invoke = local_commands.add_parser("invoke", help="invoke one function with an event file")
    engine_cli.add_invoke_arguments(
        invoke, "CreateOrderFunction", "events/create-order-valid.json"
    )
    send = local_commands.add_parser(
        "send-event",
        help="put an EventBridge event from a file on the template's bus; show what it started",
    )
    engine_cli.add_send_event_arguments(send, DEFAULT_CLOCK_SCALE, "events/order-created.json")
    api = local_commands.add_parser(
        "start",
        aliases=["start-api"],
        help="serve the HTTP API and an AWS endpoint for the emulated services on 127.0.0.1",
    )
    engine_cli.add_start_arguments(api)
    api.add_argument(
        "--seed", action="store_true", help="put the demo's stock and balances in the tables first"
    )
    token = local_commands.add_parser(
        "token", help="print a JWT for a customer, signed with the local key start-api checks"
    )
    token.add_argument("customer", metavar="CUSTOMER", help="the customer id, e.g. CUST-ALICE")
    token.add_argument(
        "--claim", default="sub", help="the claim that names the customer (default sub)"
    )
    token.add_argument(
        "--ttl",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="how long the token is valid (default 3600)",
    )
    drill = commands.add_parser("drill", help="run the saga failure drills and print the report")
    drill.add_argument("--only", metavar="PATTERN", help="run only the cells whose name matches")
    drill.add_argument("--json", action="store_true", help="print the report as JSON")
    from order_saga_tools import cost, ops_inspect, ops_seed

    ops_seed.add_command(commands)
    ops_inspect.add_commands(commands)
    add_redrive_commands(commands)
    cost.add_command(commands)
    return parser


def _amount(minor_units: int, result: dict[str, Any]) -> str:
    from order_saga.domain.model import Money

    return Money(minor_units, result["currency"]).to_decimal_string()


def _print_demo(result: dict[str, Any]) -> None:
    rows = [
        [
            o["orderId"][:8],
            o["scenario"],
            o["status"],
            o["reason"] or "-",
            " > ".join(step for step in o["path"] if step != "Read order from event"),
        ]
        for o in result["orders"]
    ]
    print(table(["order", "scenario", "status", "reason", "saga path"], rows))
    print()
    before, after = result["before"], result["after"]
    stock_rows = [
        [sku, str(before["stock"][sku]), str(after["stock"][sku])] for sku in before["stock"]
    ]
    print(table(["sku", "stock before", "stock after"], stock_rows))
    print()
    money_rows = [
        [c, _amount(before["balances"][c], result), _amount(after["balances"][c], result)]
        for c in before["balances"]
    ]
    print(table(["customer", "balance before", "balance after"], money_rows))
    print()
    print(
        f"{len(rows)} sagas in {result['elapsedSeconds']:.2f} s "
        f"(engine start {result['engineStartSeconds']:.2f} s)"
    )


def _demo(args: argparse.Namespace) -> int:
    from order_saga_tools.demo import run_demo

    if not args.json:
        print("starting the local cloud and placing 4 orders...", file=sys.stderr, flush=True)
    result = run_demo(args.root, clock_scale=args.clock_scale)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_demo(result)
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from order_saga_tools.saga import SagaCloud

    return engine_cli.invoke(args, SagaCloud)


def _send_event(args: argparse.Namespace) -> int:
    from order_saga_tools.saga import SagaCloud

    return engine_cli.send_event(args, SagaCloud)


def _start(args: argparse.Namespace) -> int:
    from order_saga_tools.saga import SagaCloud

    def seed_demo_books(cloud: Any) -> None:
        from order_saga_tools.demo import BALANCES, CURRENCY, STOCK
        from order_saga_tools.seeding import seed

        seed(cloud, STOCK, BALANCES, CURRENCY)

    extras = engine_cli.StartExtras(
        prepare=seed_demo_books if args.seed else None, hints=_token_hint
    )
    return engine_cli.start(args, SagaCloud, extras)


def _token_hint(cloud: Any) -> list[str]:
    """How to mint a token the local JWT authorizers accept, when a route has one."""
    if not any(route.authorizer is not None for route in cloud.deployment.routes):
        return []
    command = "order-saga" if cloud.root == Path.cwd() else f"order-saga --root {cloud.root}"
    return [
        f'mint one: TOKEN=$({command} local token CUST-ALICE); curl -H "Authorization: '
        f'Bearer $TOKEN" ...'
    ]


def _token(args: argparse.Namespace) -> int:
    from order_saga_tools.identity import mint

    if args.ttl <= 0:
        raise UsageError("--ttl must be at least 1 second")
    if not args.customer.strip() or args.customer != args.customer.strip():
        raise UsageError("CUSTOMER must be a non-empty id without surrounding blanks")
    print(mint(args.root, args.customer, claim=args.claim, seconds=args.ttl))
    return 0


def _drill(args: argparse.Namespace) -> int:
    from order_saga_tools.drills import ScenarioError
    from order_saga_tools.drills import main as run_drills

    try:
        return run_drills(args.root, args.only, args.json)
    except ScenarioError as exc:  # a malformed scenarios file: bad input, as on the command line
        raise UsageError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    from localcloud.stack import StackUnreachableError
    from localcloud.template import TemplateError
    from order_saga_tools.ops_seed import SeedFileError

    args = _parser().parse_args(argv)
    try:
        if getattr(args, "run", None) is not None:
            return int(args.run(args))
        if args.command == "demo":
            return _demo(args)
        if args.command == "drill":
            return _drill(args)
        if args.local_command == "invoke":
            return _invoke(args)
        if args.local_command == "send-event":
            return _send_event(args)
        if args.local_command == "token":
            return _token(args)
        return _start(args)
    except (UsageError, TemplateError, StackUnreachableError, SeedFileError) as exc:
        print(f"order-saga: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> int:
    """The `order-saga` program: `main` in a process that ends with it (tests call `main`)."""
    freeze_at_exit()
    return main()


if __name__ == "__main__":
    sys.exit(run())
