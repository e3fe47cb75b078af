"""`order-saga inspect ORDER_ID` and `order-saga stuck`: an order's timeline, and orders that wait.

Both read only what a deployed stack offers anyone with its outputs: the orders table, the
state machine's executions and their histories, and the queues. Queues are peeked, never
consumed: a receive with a visibility timeout of 0 and no delete.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from localcloud.stack import Stack
from order_saga.adapters.dynamodb_orders import PENDING_INDEX, PENDING_MARK
from order_saga.domain.model import Money
from order_saga_tools.operator import add_target_arguments, emit, stack_of, table

WIDTH = 100
DURATION = re.compile(r"^(\d+)([smhd])\Z")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PARTICIPANT_QUEUES = ("InventoryQueueUrl", "PaymentQueueUrl", "OrderQueueUrl")
# Duplicates of an order's saga start before its claim: a repeated OrderCreated, a republished
# one, or an EventBridge retry. Executions are searched from a little before the order was
# created to a while after its own execution started, not over the stack's whole history.
SEARCH_BEFORE = timedelta(minutes=1)
SEARCH_AFTER = timedelta(minutes=10)
MAX_DESCRIBED = 500
PEEK_ROUNDS = 10
PEEK_NOTE = (
    "A peek sees visible messages only: one being received (in flight) or delayed is missed, "
    "and a large queue may hide some."
)


class UnknownOrderError(LookupError):
    """The stack was reached, and holds no such order."""


def duration(text: str) -> timedelta:
    """A duration such as 90s, 15m, 2h or 1d."""
    match = DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 15m, 2h or 1d")
    return timedelta(seconds=int(match.group(1)) * UNIT_SECONDS[match.group(2)])


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


def _when(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _plain(value: Any) -> Any:
    """A DynamoDB value as JSON would hold it: whole numbers as int."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _item(raw: dict[str, Any]) -> dict[str, Any]:
    deserialize = TypeDeserializer().deserialize
    return {name: _plain(deserialize(value)) for name, value in raw.items()}


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def _fitted(headers: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Rows whose last column is cut so the table fits in WIDTH columns."""
    if not rows:
        return rows
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    room = WIDTH - sum(widths[:-1]) - 2 * (len(headers) - 1)
    return [[*row[:-1], _fit(row[-1], max(room, 10))] for row in rows]


# ---------------------------------------------------------------- executions


def _history(stack: Stack, execution_arn: str) -> list[dict[str, Any]]:
    pages = (
        stack.client("stepfunctions")
        .get_paginator("get_execution_history")
        .paginate(executionArn=execution_arn)
    )
    return [event for page in pages for event in page["events"]]


def _newest_events(stack: Stack, execution_arn: str) -> list[dict[str, Any]]:
    """The last page of a history, newest first (sorted too: not every endpoint reverses)."""
    page = stack.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, reverseOrder=True, maxResults=100
    )
    return sorted(page["events"], key=lambda event: int(event["id"]), reverse=True)


def _details(event: dict[str, Any]) -> dict[str, Any]:
    """The `...EventDetails` of a history event, whatever its type."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


@dataclass
class Step:
    """One entry into a state: when, with what, how it left, and every error on the way."""

    name: str
    entered: datetime
    input: Any
    exited: datetime | None = None
    output: Any = None
    attempts: int = 0
    submitted: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.name,
            "entered": _when(self.entered),
            "exited": _when(self.exited) if self.exited else None,
            "input": self.input,
            "output": self.output,
            "attempts": self.attempts,
            "errors": self.errors,
        }


def _json_or_text(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def steps_of(events: list[dict[str, Any]]) -> tuple[list[Step], list[dict[str, str]]]:
    """Each state's entries from a history, oldest first, and the execution's own errors."""
    steps: list[Step] = []
    execution_errors: list[dict[str, str]] = []
    for event in events:
        kind, details = event["type"], _details(event)
        if kind.endswith("StateEntered"):
            steps.append(
                Step(details["name"], event["timestamp"], _json_or_text(details.get("input")))
            )
        elif kind.endswith("StateExited") and steps:
            steps[-1].exited = event["timestamp"]
            steps[-1].output = _json_or_text(details.get("output"))
        elif kind == "TaskScheduled" and steps:
            steps[-1].attempts += 1
            steps[-1].submitted = False
        elif kind == "TaskSubmitted" and steps:
            steps[-1].submitted = True
        if "error" in details or kind.endswith(("TimedOut", "Aborted")):
            error = {
                "event": kind,
                "error": str(details.get("error", kind)),
                "cause": str(details.get("cause", "")),
            }
            (
                execution_errors if kind.startswith("Execution") or not steps else steps[-1].errors
            ).append(error)
    return steps, execution_errors


def current_state(events_newest_first: list[dict[str, Any]]) -> tuple[str, datetime | None]:
    """What a running execution waits on, from its newest events, and since when."""
    for event in events_newest_first:
        details = _details(event)
        if event["type"].endswith("StateEntered"):
            return str(details["name"]), event["timestamp"]
        if event["type"].endswith("StateExited"):
            return f"the state after {details['name']}", event["timestamp"]
    return "its first state", None


def _order_id_of(execution_input: str | None) -> str | None:
    document = _json_or_text(execution_input)
    if isinstance(document, dict):
        detail = document.get("detail")
        found = detail.get("orderId") if isinstance(detail, dict) else document.get("orderId")
        return str(found) if found else None
    return None


def _executions_naming(
    stack: Stack, order_id: str, since: datetime, until: datetime
) -> tuple[list[str], bool]:
    """Executions started in [since, until] whose input names the order; and whether cut short."""
    sfn = stack.client("stepfunctions")
    found: list[str] = []
    described = 0
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.output("StateMachineArn")
    )
    for page in pages:
        for execution in page["executions"]:  # newest first
            started = execution["startDate"]
            if started > until:
                continue
            if started < since:
                return found, False
            if described == MAX_DESCRIBED:
                return found, True
            described += 1
            arn = execution["executionArn"]
            if _order_id_of(sfn.describe_execution(executionArn=arn).get("input")) == order_id:
                found.append(arn)
    return found, False


def _execution(stack: Stack, arn: str, recorded: str | None) -> dict[str, Any]:
    described = stack.client("stepfunctions").describe_execution(executionArn=arn)
    steps, errors = steps_of(_history(stack, arn))
    return {
        "executionArn": arn,
        "name": described["name"],
        "recordedOnOrder": arn == recorded,
        "status": described["status"],
        "started": _when(described["startDate"]),
        "stopped": _when(described["stopDate"]) if described.get("stopDate") else None,
        "output": _json_or_text(described.get("output")),
        "errors": errors
        + (
            [
                {
                    "event": "Execution" + described["status"].title(),
                    "error": described["error"],
                    "cause": described.get("cause", ""),
                }
            ]
            if described.get("error") and not errors
            else []
        ),
        "steps": steps,
    }


# ---------------------------------------------------------------- queues


def _queue_name(url_or_arn: str) -> str:
    return url_or_arn.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _queues_to_peek(stack: Stack) -> dict[str, str]:
    """Dead-letter and parking queues by name: the participants' DLQs, the saga failures
    queue, and the DLQs of the bus's rule targets (an OrderCreated that started no saga)."""
    sqs, events = stack.client("sqs"), stack.client("events")
    arns = []
    for key in PARTICIPANT_QUEUES:
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.output(key), AttributeNames=["RedrivePolicy"]
        ).get("Attributes", {})
        if "RedrivePolicy" in attributes:
            arns.append(json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"])
    bus = stack.output("EventBusName")
    for rule in events.list_rules(EventBusName=bus).get("Rules", []):
        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)
        arns += [
            t["DeadLetterConfig"]["Arn"]
            for t in targets.get("Targets", [])
            if (t.get("DeadLetterConfig") or {}).get("Arn")
        ]
    urls = {
        _queue_name(arn): sqs.get_queue_url(QueueName=_queue_name(arn))["QueueUrl"] for arn in arns
    }
    urls[_queue_name(stack.output("SagaFailuresQueueUrl"))] = stack.output("SagaFailuresQueueUrl")
    return urls


def _peek(stack: Stack, url: str) -> list[dict[str, Any]]:
    """The messages a few receives see, left where they are (visibility timeout 0)."""
    sqs, seen = stack.client("sqs"), {}
    for _ in range(PEEK_ROUNDS):
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            WaitTimeSeconds=0,
            AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
        ).get("Messages", [])
        fresh = [m for m in received if m["MessageId"] not in seen]
        if not fresh:
            break
        seen.update({m["MessageId"]: m for m in fresh})
    return list(seen.values())


def _messages_about(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    found = []
    for name, url in sorted(_queues_to_peek(stack).items()):
        for message in _peek(stack, url):
            if order_id in message["Body"]:
                sent = int(message.get("Attributes", {}).get("SentTimestamp", "0")) / 1000
                found.append(
                    {
                        "queue": name,
                        "messageId": message["MessageId"],
                        "sent": _when(datetime.fromtimestamp(sent, UTC)),
                        "body": _json_or_text(message["Body"]),
                    }
                )
    return found


def _waiting_commands(stack: Stack) -> list[dict[str, str]]:
    """How many messages each participant queue holds (visible, in flight, delayed)."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    depths = []
    for key in PARTICIPANT_QUEUES:
        url = stack.output(key)
        attributes = (
            stack.client("sqs")
            .get_queue_attributes(QueueUrl=url, AttributeNames=names)
            .get("Attributes", {})
        )
        depths.append(
            {
                "queue": _queue_name(url),
                **{n.removeprefix("ApproximateNumberOf"): attributes.get(n, "0") for n in names},
            }
        )
    return depths


# ---------------------------------------------------------------- inspect


def _order(stack: Stack, order_id: str) -> dict[str, Any] | None:
    raw = (
        stack.client("dynamodb")
        .get_item(
            TableName=stack.output("OrdersTableName"),
            Key={"orderId": {"S": order_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return None if raw is None else _item(raw)


def inspect_order(stack: Stack, order_id: str) -> dict[str, Any]:
    """The order's record, its saga executions step by step, and messages about it."""
    order = _order(stack, order_id)
    if order is None:
        raise UnknownOrderError(f"no order {order_id} in {stack.output('OrdersTableName')}")
    recorded = order.get("executionId")
    created = _parse_time(str(order["createdAt"]))
    until = datetime.now(UTC)
    if recorded:
        started = stack.client("stepfunctions").describe_execution(executionArn=recorded)
        until = min(until, started["startDate"] + SEARCH_AFTER)
    found, cut_short = _executions_naming(stack, order_id, created - SEARCH_BEFORE, until)
    arns = ([recorded] if recorded else []) + [arn for arn in reversed(found) if arn != recorded]
    return {
        "stack": stack.name,
        "order": order,
        "executions": [_execution(stack, arn, recorded) for arn in arns],
        "executionsSearched": {
            "startedFrom": _when(created - SEARCH_BEFORE),
            "startedUntil": _when(until),
            "cutShort": cut_short,
        },
        "messages": _messages_about(stack, order_id),
        "participantQueues": _waiting_commands(stack),
        "note": PEEK_NOTE,
    }


def _step_row(execution: dict[str, Any], step: Step) -> list[str]:
    took = "..."
    if step.exited is not None:
        seconds = (step.exited - step.entered).total_seconds()
        took = f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"
        took = took if seconds < 60 else _age(seconds)
    tries = f"{step.attempts} tries" if step.attempts > 1 else ""
    waiting = "waiting for its answer" if step.submitted else "waiting"
    outcome = "; ".join(e["error"] for e in step.errors) or ("ok" if step.exited else waiting)
    return [
        _when(step.entered)[11:],
        execution["name"][:8],
        step.name,
        took,
        f"{tries} {outcome}".strip(),
    ]


def _print_inspection(result: dict[str, Any]) -> None:
    order = result["order"]
    total = Money(int(order.get("total", 0)), str(order.get("currency", "")))
    reason = f" ({order['reason']})" if order.get("reason") else ""
    print(f"order {order['orderId']}: {order.get('status')}{reason}")
    print(_fit(f"  customer {order.get('customerId')}, total {total}", WIDTH))
    print(f"  created {order.get('createdAt')}, updated {order.get('updatedAt')}")
    runs = result["executions"]
    print(f"  {len(runs)} execution(s)" + (" - duplicate starts" if len(runs) > 1 else ""))
    headers = ["time (UTC)", "saga", "state", "took", "outcome"]
    rows = []
    for run in runs:
        mark = "recorded on the order" if run["recordedOnOrder"] else "duplicate start"
        rows.append(
            [
                run["started"][11:],
                run["name"][:8],
                "(execution started)",
                "",
                f"{mark}; {run['status']}",
            ]
        )
        rows += [_step_row(run, step) for step in run["steps"]]
        for error in run["errors"]:
            rows.append(
                [
                    (run["stopped"] or "")[11:],
                    run["name"][:8],
                    "(execution)",
                    "",
                    f"{error['error']}: {error['cause']}",
                ]
            )
    if rows:
        print(table(headers, _fitted(headers, rows)))
    for step in (s for run in runs for s in run["steps"] if s.errors):
        for error in step.errors:
            if error["cause"]:
                print(_fit(f"  {step.name}: {error['error']}: {error['cause']}", WIDTH))
    print()
    if result["messages"]:
        headers = ["queue", "message", "sent (UTC)"]
        print(table(headers, [[m["queue"], m["messageId"], m["sent"]] for m in result["messages"]]))
    else:
        print("no message about this order in a dead-letter or the saga failures queue")
    print()
    headers = ["participant queue", "visible", "in flight", "delayed"]
    print(
        table(
            headers,
            [
                [q["queue"], q["Messages"], q["MessagesNotVisible"], q["MessagesDelayed"]]
                for q in result["participantQueues"]
            ],
        )
    )
    print(textwrap.fill(PEEK_NOTE, WIDTH))


def run_inspect(args: argparse.Namespace) -> int:
    """Print one order's timeline; 1 when the stack holds no such order."""
    stack = stack_of(args)
    try:
        result = inspect_order(stack, args.order_id)
    except UnknownOrderError as exc:
        print(f"order-saga: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for run in result["executions"]:
            run["steps"] = [step.as_json() for step in run["steps"]]
        print(json.dumps(result, indent=2, default=str))
    else:
        _print_inspection(result)
    return 0


# ---------------------------------------------------------------- stuck


def _pending_before(stack: Stack, cutoff: datetime, now: datetime) -> list[dict[str, Any]]:
    """PENDING orders created before the cutoff, from the sparse PendingOrders index."""
    pages = (
        stack.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=stack.output("OrdersTableName"),
            IndexName=PENDING_INDEX,
            KeyConditionExpression="pending = :p AND createdAt < :c",
            ExpressionAttributeValues={":p": {"S": PENDING_MARK}, ":c": {"S": _when(cutoff)}},
        )
    )
    found = []
    for order in (_item(raw) for page in pages for raw in page["Items"]):
        since = _parse_time(str(order["createdAt"]))
        found.append(
            {
                "orderId": order["orderId"],
                "status": "PENDING",
                "since": _when(since),
                "ageSeconds": int((now - since).total_seconds()),
                "executionArn": None,
                "waitingFor": "a saga to claim it (the republisher's job)",
            }
        )
    return found


def _running_before(stack: Stack, cutoff: datetime, now: datetime) -> list[dict[str, Any]]:
    """Sagas still running that started before the cutoff, each with its order and state."""
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.output("StateMachineArn"), statusFilter="RUNNING"
    )
    found = []
    for execution in (e for page in pages for e in page["executions"]):
        if execution["startDate"] >= cutoff:
            continue
        arn = execution["executionArn"]
        order_id = _order_id_of(sfn.describe_execution(executionArn=arn).get("input"))
        where, entered = current_state(_newest_events(stack, arn))
        order = _order(stack, order_id) if order_id else None
        since = entered or execution["startDate"]
        found.append(
            {
                "orderId": order_id,
                "status": str(order.get("status")) if order else "no order",
                "since": _when(since),
                "ageSeconds": int((now - execution["startDate"]).total_seconds()),
                "executionArn": arn,
                "waitingFor": f"{where}, since {_when(since)[11:19]}",
            }
        )
    return found


def stuck_orders(stack: Stack, older_than: timedelta) -> list[dict[str, Any]]:
    """PENDING orders created, and running sagas started, before now minus `older_than`."""
    now = datetime.now(UTC)
    cutoff = now - older_than
    found = _pending_before(stack, cutoff, now) + _running_before(stack, cutoff, now)
    return sorted(found, key=lambda o: str(o["since"]))


def run_stuck(args: argparse.Namespace) -> int:
    """List orders waiting longer than --older-than."""
    stack = stack_of(args)
    found = stuck_orders(stack, args.older_than)
    seconds = int(args.older_than.total_seconds())
    result = {"stack": stack.name, "olderThanSeconds": seconds, "orders": found}
    headers = ["order", "status", "age", "waiting for"]
    rows = [
        [
            o["orderId"] or o["executionArn"].rsplit(":", 1)[-1],
            o["status"],
            _age(o["ageSeconds"]),
            o["waitingFor"],
        ]
        for o in found
    ]
    if args.json or rows:
        emit(result, args.json, headers, _fitted(headers, rows))
    if not args.json:
        print(f"{len(found)} order(s) waiting longer than {_age(seconds)}")
    return 0


def add_commands(commands: Any) -> None:
    """`order-saga inspect ORDER_ID` and `order-saga stuck --older-than D`."""
    inspect = commands.add_parser(
        "inspect", help="one order's record, saga executions and queued messages, as a timeline"
    )
    inspect.add_argument("order_id", metavar="ORDER_ID")
    add_target_arguments(inspect)
    inspect.set_defaults(run=run_inspect)
    stuck = commands.add_parser(
        "stuck",
        help="orders PENDING or RUNNING for longer than a threshold, and what they wait for",
    )
    stuck.add_argument(
        "--older-than",
        type=duration,
        default=timedelta(minutes=15),
        metavar="D",
        help="a duration such as 90s, 15m, 2h (default 15m)",
    )
    add_target_arguments(stuck)
    stuck.set_defaults(run=run_stuck)
