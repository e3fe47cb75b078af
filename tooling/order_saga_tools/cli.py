"""The `order-saga` command: the demo and the no-Docker equivalents of `sam local`."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from order_saga_tools.operator import table
from order_saga_tools.redrive import add_commands as add_redrive_commands

DEFAULT_CLOCK_SCALE = 0.01
DEFAULT_AWS_PORT = 4566


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


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
    invoke.add_argument("function", metavar="FUNCTION", help="logical id, e.g. CreateOrderFunction")
    invoke.add_argument(
        "-e", "--event", required=True, help="event file, e.g. events/create-order-valid.json"
    )
    invoke.add_argument(
        "-n",
        "--env-vars",
        metavar="FILE",
        help='JSON of environment overrides, as sam takes it: {"Parameters": {...}, '
        '"FunctionLogicalId": {...}}',
    )
    invoke.add_argument(
        "--parameter-overrides",
        metavar="OVERRIDES",
        help="template parameters, as sam takes them: 'Stage=dev LogRetentionDays=7' or "
        "'ParameterKey=Stage,ParameterValue=dev'",
    )
    send = local_commands.add_parser(
        "send-event",
        help="put an EventBridge event from a file on the template's bus; show what it started",
    )
    send.add_argument(
        "-e", "--event", required=True, help="event file, e.g. events/order-created.json"
    )
    send.add_argument(
        "--bus", metavar="LOGICAL_ID", help="the bus (default: the template's only one)"
    )
    send.add_argument(
        "--clock-scale",
        type=float,
        default=DEFAULT_CLOCK_SCALE,
        help=f"saga timers run at this fraction of real time (default {DEFAULT_CLOCK_SCALE})",
    )
    api = local_commands.add_parser(
        "start",
        aliases=["start-api"],
        help="serve the HTTP API and an AWS endpoint for the emulated services on 127.0.0.1",
    )
    api.add_argument(
        "--port", "-p", type=int, default=3000, help="port of the HTTP API (default 3000)"
    )
    api.add_argument(
        "--aws-port",
        type=int,
        default=DEFAULT_AWS_PORT,
        help=f"port of the AWS endpoint (default {DEFAULT_AWS_PORT})",
    )
    api.add_argument(
        "--clock-scale",
        type=float,
        default=1.0,
        help="saga timers run at this fraction of real time (default 1.0, real time)",
    )
    api.add_argument(
        "--seed", action="store_true", help="put the demo's stock and balances in the tables first"
    )
    api.add_argument(
        "--quiet", action="store_true", help="do not show the functions' log lines as they run"
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


def _read_event(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read event file {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"event file {path} is not valid JSON: {exc}") from exc


def parameter_overrides(text: str | None) -> dict[str, str]:
    """`Key=Value` or `ParameterKey=Key,ParameterValue=Value` pairs, as sam takes them."""
    overrides: dict[str, str] = {}
    try:
        pairs = shlex.split(text or "")
    except ValueError as exc:
        raise UsageError(f"--parameter-overrides cannot be read: {exc}") from exc
    for pair in pairs:
        named = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", pair)
        key, separator, value = (
            (named.group(1), "=", named.group(2)) if named else (pair.partition("="))
        )
        if not separator or not key:
            raise UsageError(f"--parameter-overrides: {pair!r} is not Key=Value")
        overrides[key] = value
    return overrides


def _env_vars(path: str | None, cloud: Any, function: str) -> None:
    """Apply sam's --env-vars file to the function: only variables its template declares."""
    if path is None:
        return
    overrides = _read_event(path)
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise UsageError(f"{path} must map Parameters or function ids to objects of variables")
    spec = cloud.deployment.function_by_name_or_id(function)
    wanted = {**overrides.get("Parameters", {}), **overrides.get(spec.logical_id, {})}
    ignored = sorted(set(wanted) - set(spec.environment))
    if ignored:
        print(f"not declared by {spec.logical_id}, ignored: {', '.join(ignored)}", file=sys.stderr)
    spec.environment.update({k: str(v) for k, v in wanted.items() if k in spec.environment})


def _invoke(args: argparse.Namespace) -> int:
    from localcloud.runtime import HandlerError
    from order_saga_tools.saga import SagaCloud

    event = _read_event(args.event)
    parameters = parameter_overrides(args.parameter_overrides)
    with SagaCloud(args.root, parameters=parameters) as cloud:
        if cloud.deployment.function_by_name_or_id(args.function) is None:
            known = ", ".join(sorted(cloud.deployment.functions))
            raise UsageError(f"unknown function {args.function!r}; the template has {known}")
        _env_vars(args.env_vars, cloud, args.function)
        if cloud.runtime is not None:
            # As sam local invoke: the function's log on stderr, its result alone on stdout.
            cloud.runtime.logs.echo = sys.stderr
        try:
            response = cloud.invoke(args.function, event)
        except HandlerError as exc:
            print(json.dumps({"errorType": exc.error_type, "errorMessage": exc.error_message}))
            return 1
        print(json.dumps(response, indent=2))
    return 0


def _event_entry(path: str, event: Any) -> dict[str, str]:
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict):
        raise UsageError(f"{path} is not an EventBridge event: it needs an object `detail`")
    missing = [key for key in ("source", "detail-type") if not isinstance(event.get(key), str)]
    if missing:
        raise UsageError(f"{path} is not an EventBridge event: it has no {', '.join(missing)}")
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
    }


def _executions(cloud: Any) -> dict[str, str]:
    """Every execution of every state machine of the template: ARN to status."""
    sfn = cloud.client("stepfunctions")
    found = {}
    for logical_id, kind in cloud.deployment.types.items():
        if kind == "AWS::StepFunctions::StateMachine":
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=cloud.ref(logical_id)
            )
            found.update({e["executionArn"]: e["status"] for p in pages for e in p["executions"]})
    return found


def _send_event(args: argparse.Namespace) -> int:
    from order_saga_tools.saga import SagaCloud

    entry = _event_entry(args.event, _read_event(args.event))
    with SagaCloud(args.root, clock_scale=args.clock_scale) as cloud:
        buses = [i for i, kind in cloud.deployment.types.items() if kind == "AWS::Events::EventBus"]
        bus = args.bus or (buses[0] if len(buses) == 1 else None)
        if bus not in buses:
            raise UsageError(f"name the bus with --bus; the template has {', '.join(buses)}")
        if cloud.runtime is not None:
            cloud.runtime.logs.echo = sys.stderr
        before = set(_executions(cloud))
        answer = cloud.client("events").put_events(
            Entries=[{**entry, "EventBusName": cloud.ref(bus)}]
        )
        if answer.get("FailedEntryCount"):
            print(json.dumps(answer["Entries"]), file=sys.stderr)
            return 1
        deadline = time.monotonic() + 30
        started: dict[str, str] = {}
        # Rule targets are delivered on their own threads: wait for what the event started.
        while time.monotonic() < deadline:
            started = {a: s for a, s in _executions(cloud).items() if a not in before}
            if started and "RUNNING" not in started.values():
                break
            time.sleep(0.05)
        result = [
            {"executionArn": arn, "status": status, "path": list(cloud.saga_path(arn))}
            for arn, status in started.items()
        ]
        print(json.dumps({"started": result}, indent=2))
    return 0


def _listening(what: str, port: int, start: Any) -> Any:
    try:
        return start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port} for {what}: {exc.strerror}") from exc


def _start(args: argparse.Namespace) -> int:
    from localcloud.api import serve
    from localcloud.endpoint import AwsEndpoint, local_outputs, write_outputs
    from order_saga_tools.saga import SagaCloud
    from order_saga_tools.state import outputs_path

    with SagaCloud(args.root, clock_scale=args.clock_scale) as cloud:
        server = _listening("the HTTP API", args.port, lambda: serve(cloud, args.port))
        endpoint = AwsEndpoint(args.aws_port)
        try:
            endpoint_url = _listening("the AWS endpoint", args.aws_port, endpoint.start)
            if cloud.runtime is not None and not args.quiet:
                cloud.runtime.logs.echo = sys.stderr
            if args.seed:
                from order_saga_tools.demo import BALANCES, CURRENCY, STOCK
                from order_saga_tools.seeding import seed

                seed(cloud, STOCK, BALANCES, CURRENCY)
            api_url = f"http://127.0.0.1:{server.server_address[1]}"
            outputs = local_outputs(cloud, api_url, endpoint_url)
            written = write_outputs(outputs_path(cloud.root), outputs)
            print(json.dumps(outputs, indent=2), flush=True)
            print(f"outputs written to {written}", file=sys.stderr)
            _print_routes(cloud, api_url, endpoint_url)
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            endpoint.stop()
            server.server_close()
    return 0


def _print_routes(cloud: Any, api_url: str, endpoint_url: str) -> None:
    from order_saga_tools.state import key_path

    out = sys.stderr
    for route in cloud.deployment.routes:
        check = {"NONE": "open", "JWT": "Authorization: Bearer <JWT>"}.get(
            route.authorization, f"{route.authorization}: refused locally"
        )
        print(
            f"  {route.method:6} {api_url}{route.path}  -> {route.function}  ({check})",
            file=out,
        )
    authorizers = {r.authorizer for r in cloud.deployment.routes if r.authorizer is not None}
    for authorizer in authorizers:
        print(
            f"tokens are checked as the JWT authorizer checks them: issuer {authorizer.issuer}, "
            f"audience {', '.join(authorizer.audiences)}, signed with {key_path(cloud.root)}",
            file=out,
        )
    if authorizers:
        command = "order-saga" if cloud.root == Path.cwd() else f"order-saga --root {cloud.root}"
        print(
            f'mint one: TOKEN=$({command} local token CUST-ALICE); curl -H "Authorization: '
            f'Bearer $TOKEN" ...',
            file=out,
        )
    print(
        f"AWS endpoint {endpoint_url} (DynamoDB, SQS, Step Functions, EventBridge, Lambda): "
        f"aws --endpoint-url {endpoint_url} ... or boto3.client(..., endpoint_url=...)",
        file=out,
    )
    print(f"serving the HTTP API on {api_url}; Ctrl-C stops", file=out, flush=True)


def _token(args: argparse.Namespace) -> int:
    from order_saga_tools.identity import mint

    if args.ttl <= 0:
        raise UsageError("--ttl must be at least 1 second")
    if not args.customer.strip() or args.customer != args.customer.strip():
        raise UsageError("CUSTOMER must be a non-empty id without surrounding blanks")
    print(mint(args.root, args.customer, claim=args.claim, seconds=args.ttl))
    return 0


def _drill(args: argparse.Namespace) -> int:
    from order_saga_tools.drills import main as run_drills

    return run_drills(args.root, args.only, args.json)


def main(argv: list[str] | None = None) -> int:
    from localcloud.stack import StackUnreachableError
    from localcloud.template import TemplateError
    from order_saga_tools.drills import ScenarioError
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
    except (UsageError, TemplateError, ScenarioError, StackUnreachableError, SeedFileError) as exc:
        print(f"order-saga: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
