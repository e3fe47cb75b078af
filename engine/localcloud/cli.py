"""The `localcloud` command: sam local's invoke, send-event and start-api, on the engine.

The command functions take the cloud to build (`LocalCloud` or a subclass with a project's
defaults), so that a project's own command runs the same code with its extras.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localcloud.collector import freeze_at_exit
from localcloud.template import TemplateError

if TYPE_CHECKING:  # the cloud (moto, boto3) is imported by the commands that build one
    from localcloud.cloud import LocalCloud

DEFAULT_AWS_PORT = 4566
CloudFactory = Callable[..., "LocalCloud"]


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


# ------------------------------------------------------------------ arguments
def add_invoke_arguments(
    parser: argparse.ArgumentParser,
    function_example: str = "HelloWorldFunction",
    event_example: str = "events/event.json",
) -> None:
    parser.add_argument("function", metavar="FUNCTION", help=f"logical id, e.g. {function_example}")
    parser.add_argument("-e", "--event", required=True, help=f"event file, e.g. {event_example}")
    parser.add_argument(
        "-n",
        "--env-vars",
        metavar="FILE",
        help='JSON of environment overrides, as sam takes it: {"Parameters": {...}, '
        '"FunctionLogicalId": {...}}',
    )
    add_parameter_overrides(parser)


def add_parameter_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parameter-overrides",
        metavar="OVERRIDES",
        help="template parameters, as sam takes them: 'Stage=dev LogRetentionDays=7' or "
        "'ParameterKey=Stage,ParameterValue=dev'",
    )


def add_clock_scale(parser: argparse.ArgumentParser, default: float) -> None:
    described = " (real time)" if default == 1.0 else ""
    parser.add_argument(
        "--clock-scale",
        type=float,
        default=default,
        help=f"timers (Retry, Wait, timeouts, visibility, schedules) run at this fraction of "
        f"real time (default {default}{described})",
    )


def add_send_event_arguments(
    parser: argparse.ArgumentParser, clock_scale: float = 1.0, event_example: str = "event.json"
) -> None:
    parser.add_argument("-e", "--event", required=True, help=f"event file, e.g. {event_example}")
    parser.add_argument(
        "--bus", metavar="LOGICAL_ID", help="the bus (default: the template's only one)"
    )
    add_clock_scale(parser, clock_scale)


def add_start_arguments(parser: argparse.ArgumentParser, clock_scale: float = 1.0) -> None:
    parser.add_argument(
        "--port", "-p", type=int, default=3000, help="port of the HTTP API (default 3000)"
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=DEFAULT_AWS_PORT,
        help=f"port of the AWS endpoint (default {DEFAULT_AWS_PORT})",
    )
    add_clock_scale(parser, clock_scale)
    parser.add_argument(
        "--quiet", action="store_true", help="do not show the functions' log lines as they run"
    )


# ------------------------------------------------------------------ input
def read_event(path: str) -> Any:
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


def apply_env_vars(path: str | None, cloud: LocalCloud, function: str) -> None:
    """Apply sam's --env-vars file to the function: only variables its template declares."""
    if path is None:
        return
    overrides = read_event(path)
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise UsageError(f"{path} must map Parameters or function ids to objects of variables")
    spec = cloud.deployment.function_by_name_or_id(function)
    assert spec is not None  # noqa: S101 - checked by the caller
    wanted = {**overrides.get("Parameters", {}), **overrides.get(spec.logical_id, {})}
    ignored = sorted(set(wanted) - set(spec.environment))
    if ignored:
        print(f"not declared by {spec.logical_id}, ignored: {', '.join(ignored)}", file=sys.stderr)
    spec.environment.update({k: str(v) for k, v in wanted.items() if k in spec.environment})


def build_cloud(args: argparse.Namespace, factory: CloudFactory | None) -> LocalCloud:
    """The cloud the command line asks for (the engine's own when no factory is given), not
    started yet."""
    if getattr(args, "clock_scale", 1.0) <= 0:
        raise UsageError("--clock-scale must be more than 0 (1.0 is real time)")
    if factory is None:
        from localcloud.cloud import LocalCloud

        factory = LocalCloud
    return factory(
        root=args.root,
        template=getattr(args, "template", "template.yaml"),
        clock_scale=getattr(args, "clock_scale", 1.0),
        parameters=parameter_overrides(getattr(args, "parameter_overrides", None)),
    )


def print_startup_lines(cloud: LocalCloud) -> None:
    """What the engine does not emulate or runs differently, one line each, on stderr."""
    for line in cloud.deployment.startup_lines():
        print(line, file=sys.stderr)


def _show_function_logs(cloud: LocalCloud) -> None:
    if cloud.runtime is not None:
        cloud.runtime.logs.echo = sys.stderr
    cloud.on_delivery_failure = _print_delivery_failure
    cloud.on_execution_failure = _print_execution_failure


def _print_execution_failure(failure: dict[str, Any]) -> None:
    why = ": ".join(str(part) for part in (failure["error"], failure["cause"]) if part)
    print(f"execution {failure['status']}: {failure['executionArn']}" + (f": {why}" if why else ""),
          file=sys.stderr, flush=True)


def _print_delivery_failure(failure: dict[str, Any]) -> None:
    source = f"rule {failure['rule']}" if "rule" in failure else f"topic {failure.get('topic')}"
    print(f"delivery failed: {source} -> {failure['target']}: {failure['error']}",
          file=sys.stderr, flush=True)


# ------------------------------------------------------------------ commands
def invoke(args: argparse.Namespace, factory: CloudFactory | None = None) -> int:
    """One function with an event file: its log on stderr, its result alone on stdout."""
    event = read_event(args.event)
    with build_cloud(args, factory) as cloud:
        if cloud.deployment.function_by_name_or_id(args.function) is None:
            known = ", ".join(sorted(cloud.deployment.functions))
            raise UsageError(f"unknown function {args.function!r}; the template has {known}")
        apply_env_vars(args.env_vars, cloud, args.function)
        _show_function_logs(cloud)
        from localcloud.runtime import HandlerError

        try:
            response = cloud.invoke(args.function, event)
        except HandlerError as exc:
            print(json.dumps({"errorType": exc.error_type, "errorMessage": exc.error_message}))
            return 1
        print(json.dumps(response, indent=2))
    return 0


def event_entry(path: str, event: Any) -> dict[str, str]:
    """A PutEvents entry from an EventBridge event as a rule's target receives it."""
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


def executions(cloud: LocalCloud) -> dict[str, str]:
    """Every execution of every state machine of the template: ARN to status."""
    found = {}
    for logical_id, kind in cloud.deployment.types.items():
        if kind == "AWS::StepFunctions::StateMachine":
            found.update({e["executionArn"]: e["status"] for e in cloud.executions(logical_id)})
    return found


def send_event(args: argparse.Namespace, factory: CloudFactory | None = None) -> int:
    """Put an event on a bus; print the executions it started, once they have ended."""
    entry = event_entry(args.event, read_event(args.event))
    with build_cloud(args, factory) as cloud:
        buses = [i for i, kind in cloud.deployment.types.items() if kind == "AWS::Events::EventBus"]
        bus = args.bus or (buses[0] if len(buses) == 1 else None)
        if bus not in buses:
            raise UsageError(
                f"name the bus with --bus; the template has {', '.join(buses) or 'none'}"
            )
        _show_function_logs(cloud)
        before = set(executions(cloud))
        answer = cloud.client("events").put_events(
            Entries=[{**entry, "EventBusName": cloud.ref(bus)}]
        )
        if answer.get("FailedEntryCount"):
            print(json.dumps(answer["Entries"]), file=sys.stderr)
            return 1
        deadline = time.monotonic() + 30
        # Rule targets are delivered on their own threads: wait for them, then for the
        # executions they started (none, when no rule matched or a delivery failed).
        cloud.wait_for_deliveries(30)
        started = {a: s for a, s in executions(cloud).items() if a not in before}
        while "RUNNING" in started.values() and time.monotonic() < deadline:
            time.sleep(0.05)
            started = {a: s for a, s in executions(cloud).items() if a not in before}
        result = [
            {"executionArn": arn, "status": status, "path": list(cloud.execution_path(arn))}
            for arn, status in started.items()
        ]
        print(json.dumps({"started": result}, indent=2))
    return 0


@dataclass(frozen=True)
class StartExtras:
    """What a project adds to `start`: work before serving, lines after the routes."""

    prepare: Callable[[LocalCloud], None] | None = None
    hints: Callable[[LocalCloud], list[str]] | None = None


def _listening(what: str, port: int, start: Callable[[], Any]) -> Any:
    try:
        return start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port} for {what}: {exc.strerror}") from exc


def start(
    args: argparse.Namespace,
    factory: CloudFactory | None = None,
    extras: StartExtras | None = None,
) -> int:
    """Serve the template's HTTP and REST APIs and an AWS endpoint until interrupted."""
    from localcloud.api import serve
    from localcloud.endpoint import (
        OUTPUTS_FILE,
        AwsEndpoint,
        endpoint_outputs_file,
        local_outputs,
        write_outputs,
    )

    extras = extras or StartExtras()
    own_file: Path | None = None
    with build_cloud(args, factory) as cloud:
        server = _listening("the HTTP API", args.port, lambda: serve(cloud, args.port))
        endpoint = AwsEndpoint(args.aws_port)
        previous_sigterm = signal.getsignal(signal.SIGTERM)
        try:
            endpoint_url = _listening("the AWS endpoint", args.aws_port, endpoint.start)
            print_startup_lines(cloud)
            if not args.quiet:
                _show_function_logs(cloud)
            if extras.prepare is not None:
                extras.prepare(cloud)
            api_url = f"http://127.0.0.1:{server.server_address[1]}"
            outputs = local_outputs(cloud, api_url, endpoint_url)
            # outputs.json describes the cloud started last; outputs-<aws port>.json this one,
            # while it runs, whatever other clouds start from the same folder meanwhile.
            written = write_outputs(cloud.state_dir / OUTPUTS_FILE, outputs)
            own_file = endpoint_outputs_file(written, endpoint_url)
            if own_file is not None:
                write_outputs(own_file, outputs)
                _remove_on_sigterm(own_file)
            print(json.dumps(outputs, indent=2), flush=True)
            print(f"outputs written to {written}", file=sys.stderr)
            _print_routes(cloud, api_url, endpoint_url, extras.hints)
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, previous_sigterm)
            endpoint.stop()
            server.server_close()
            if own_file is not None:
                own_file.unlink(missing_ok=True)
    return 0


def _remove_on_sigterm(path: Path) -> None:
    """SIGTERM (kill, a service manager) still ends the process at once, `path` removed first."""

    def terminate(signum: int, frame: Any) -> None:
        path.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)


def _print_routes(
    cloud: LocalCloud,
    api_url: str,
    endpoint_url: str,
    hints: Callable[[LocalCloud], list[str]] | None,
) -> None:
    from localcloud.identity import KEY_FILE

    out = sys.stderr
    for route in cloud.deployment.routes:
        check = {"NONE": "open", "JWT": "Authorization: Bearer <JWT>"}.get(
            route.authorization, f"{route.authorization}: refused locally"
        )
        api = "REST API" if route.payload_version == "1.0" else "HTTP API"
        print(
            f"  {route.method:6} {api_url}{route.path}  -> {route.function}  ({api}, {check})",
            file=out,
        )
    authorizers = {r.authorizer for r in cloud.deployment.routes if r.authorizer is not None}
    for authorizer in authorizers:
        print(
            f"tokens are checked as the JWT authorizer checks them: issuer {authorizer.issuer}, "
            f"audience {', '.join(authorizer.audiences)}, signed with {cloud.state_dir / KEY_FILE}",
            file=out,
        )
    for line in hints(cloud) if hints is not None else []:
        print(line, file=out)
    print(
        f"AWS endpoint {endpoint_url} (DynamoDB, SQS, SNS, Step Functions, EventBridge, Lambda): "
        f"aws --endpoint-url {endpoint_url} ... or boto3.client(..., endpoint_url=...)",
        file=out,
    )
    print(f"serving the APIs on {api_url}; Ctrl-C stops", file=out, flush=True)


# ------------------------------------------------------------------ the command
def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--template", "-t", default="template.yaml", help="the SAM template (default template.yaml)"
    )
    common.add_argument(
        "--root",
        default=".",
        help="project folder: the template's path starts here, and .localcloud/ (outputs, "
        "local signing key) is kept here (default: .)",
    )
    parser = argparse.ArgumentParser(
        prog="localcloud",
        description="Run a SAM application on this machine, in one process: no Docker, no AWS.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    invoke_parser = commands.add_parser(
        "invoke", parents=[common], help="invoke one function with an event file"
    )
    add_invoke_arguments(invoke_parser)
    send = commands.add_parser(
        "send-event",
        parents=[common],
        help="put an EventBridge event from a file on a bus; show the executions it started",
    )
    add_send_event_arguments(send)
    add_parameter_overrides(send)
    start_parser = commands.add_parser(
        "start",
        aliases=["start-api"],
        parents=[common],
        help="serve the HTTP and REST APIs and an AWS endpoint on 127.0.0.1",
    )
    add_start_arguments(start_parser)
    add_parameter_overrides(start_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = {"invoke": invoke, "send-event": send_event}.get(args.command, start)
    try:
        return run(args)
    except (UsageError, TemplateError) as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> int:
    """The `localcloud` program: `main` in a process that ends with it (tests call `main`)."""
    freeze_at_exit()
    return main()


if __name__ == "__main__":
    sys.exit(run())
