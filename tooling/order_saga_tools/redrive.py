"""Dead letters and failed saga executions of a running stack: look at them, redrive them.

`order-saga dlq list|show|redrive` and `order-saga executions failed|redrive` reach the stack
through its outputs and the AWS APIs only, so they act the same on AWS and on the local cloud.
Where an endpoint lacks an API that AWS has, they say so and take the way that endpoint allows.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localcloud.stack import Stack, StackUnreachableError
from order_saga.domain.commands import Command, parse_envelope
from order_saga.domain.errors import InvalidCommandError
from order_saga_tools.operator import add_target_arguments, confirm, emit, stack_of

ACTIONS = frozenset(command.__name__ for command in typing.get_args(Command))
PARTICIPANT, EVENTS, PARKED = "participant commands", "event target", "parked sagas"
# A peek never hides a message: every look may return the same ones, so stop when no look adds.
PEEK_QUIET_ROUNDS = 2
# Long enough to send a message on to its source before another reader could see it again.
MOVE_HOLD_SECONDS = 60
MOVE_POLL_SECONDS = 2.0
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
# An endpoint without an operation answers with one of these codes, or (moto) with a bare HTTP
# status and no AWS error at all.
UNKNOWN_OPERATION_CODES = frozenset(
    {"UnknownOperationException", "InvalidAction", "NotImplemented", "UnsupportedOperation"}
)
ERROR_WIDTH = 40


@dataclass(frozen=True)
class DeadLetterQueue:
    """A queue where messages wait for a person, and the queue a redrive returns them to."""

    name: str
    kind: str
    url: str
    arn: str
    source_url: str | None = None
    source_arn: str | None = None

    @property
    def queue_name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


def _label(output_key: str, suffix: str) -> str:
    """`OrderCreatedRuleDeadLetterQueueUrl` -> `order-created-rule`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", output_key.removesuffix(suffix)).lower()


def dead_letter_queues(stack: Stack) -> list[DeadLetterQueue]:
    """Every DLQ of the stack: each queue's RedrivePolicy, its DLQ outputs, its parking queue."""
    sqs = stack.client("sqs")
    found = []
    redrives_to: set[str] = set()
    for key, url in stack.outputs.items():
        if not key.endswith("QueueUrl") or key.endswith("DeadLetterQueueUrl"):
            continue
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"]
        )["Attributes"]
        if "RedrivePolicy" not in attributes:
            found.append(
                DeadLetterQueue(_label(key, "QueueUrl"), PARKED, url, attributes["QueueArn"])
            )
            continue
        dlq_arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
        _, _, _, _, account, dlq_name = dlq_arn.split(":")
        dlq_url = sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        redrives_to.add(dlq_arn)
        found.append(
            DeadLetterQueue(
                _label(key, "QueueUrl"), PARTICIPANT, dlq_url, dlq_arn, url, attributes["QueueArn"]
            )
        )
    for key, url in stack.outputs.items():
        if key.endswith("DeadLetterQueueUrl"):
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            if arn not in redrives_to:
                found.append(DeadLetterQueue(_label(key, "DeadLetterQueueUrl"), EVENTS, url, arn))
    order = {PARTICIPANT: 0, EVENTS: 1, PARKED: 2}
    return sorted(found, key=lambda queue: order[queue.kind])


def _named(queues: list[DeadLetterQueue], wanted: str) -> DeadLetterQueue | None:
    for queue in queues:
        if wanted in {queue.name, queue.queue_name, queue.url, queue.arn}:
            return queue
    return None


def message_count(stack: Stack, queue: DeadLetterQueue) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def peek(stack: Stack, queue: DeadLetterQueue, limit: int, expected: int) -> list[dict[str, Any]]:
    """Up to `limit` messages, received with VisibilityTimeout 0: none is hidden or deleted."""
    seen: dict[str, dict[str, Any]] = {}
    quiet = 0
    while len(seen) < min(limit, expected) and quiet < PEEK_QUIET_ROUNDS:
        received = (
            stack.client("sqs")
            .receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            .get("Messages", [])
        )
        new = {m["MessageId"]: m for m in received if m["MessageId"] not in seen}
        quiet = 0 if new else quiet + 1
        seen.update(new)
    return list(seen.values())[:limit]


def error_of(queue: DeadLetterQueue, message: dict[str, Any]) -> str:
    """What is knowable about why a message is here, from its body or its attributes."""
    attributes = message.get("MessageAttributes") or {}
    if "ERROR_CODE" in attributes:
        code = attributes["ERROR_CODE"].get("StringValue", "")
        text = (attributes.get("ERROR_MESSAGE") or {}).get("StringValue", "")
        return f"{code}: {text}" if text else code
    try:
        body = json.loads(message["Body"])
    except ValueError:
        return "not a command: the body is not JSON"
    if queue.kind == PARKED and isinstance(body, dict):
        return f"compensation: {(body.get('compensationError') or {}).get('Error', '?')}"
    try:
        return f"{parse_envelope(body, ACTIONS).action} command"
    except InvalidCommandError as exc:
        return f"not a command: {exc}"


def _receives(message: dict[str, Any]) -> int:
    return int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0"))


def _groups(queue: DeadLetterQueue, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[int]] = {}
    for message in messages:
        groups.setdefault(error_of(queue, message), []).append(_receives(message))
    return [
        {"error": error, "messages": len(counts), "receives": [min(counts), max(counts)]}
        for error, counts in sorted(groups.items())
    ]


def _redrive_note(queue: DeadLetterQueue) -> str:
    if queue.kind == PARTICIPANT:
        return "to source"
    return "no: parked" if queue.kind == PARKED else "no: no source"


def _short(text: str, width: int = ERROR_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def _refuse(message: str, status: int = 2) -> int:
    print(f"order-saga: {message}", file=sys.stderr)
    return status


def _unsupported(exc: ClientError) -> bool:
    """The endpoint does not have the operation at all (as opposed to refusing this call)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in UNKNOWN_OPERATION_CODES or code.isdigit()


def dlq_list(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    result, rows = [], []
    for queue in dead_letter_queues(stack):
        count = message_count(stack, queue)
        groups = _groups(queue, peek(stack, queue, args.max, count) if count else [])
        result.append(
            {
                "name": queue.name,
                "queue": queue.queue_name,
                "url": queue.url,
                "kind": queue.kind,
                "redrivesTo": queue.source_url,
                "messages": count,
                "groups": groups,
            }
        )
        for group in groups or [{"error": "-", "messages": count, "receives": None}]:
            receives = group["receives"]
            rows.append(
                [
                    queue.name,
                    str(group["messages"]),
                    _span(*receives) if receives else "-",
                    _short(group["error"]),
                    _redrive_note(queue),
                ]
            )
    emit({"queues": result}, args.json, ["dlq", "messages", "receives", "error", "redrive"], rows)
    return 0


def _sent_at(message: dict[str, Any]) -> str:
    millis = int(message.get("Attributes", {}).get("SentTimestamp", "0"))
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _order_of(message: dict[str, Any]) -> str:
    try:
        body = json.loads(message["Body"])
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    order_id = body.get("orderId") or (body.get("detail") or {}).get("orderId")
    return order_id if isinstance(order_id, str) else ""


def dlq_show(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    queue = _named(dead_letter_queues(stack), args.queue)
    if queue is None:
        return _unknown_queue(stack, args.queue)
    count = message_count(stack, queue)
    messages = peek(stack, queue, args.max, count) if count else []
    shown = [
        {
            "messageId": m["MessageId"],
            "receives": _receives(m),
            "sentAt": _sent_at(m),
            "orderId": _order_of(m) or None,
            "error": error_of(queue, m),
            "body": m["Body"],
            "messageAttributes": m.get("MessageAttributes") or {},
        }
        for m in messages
    ]
    rows = [
        [
            m["messageId"][:8],
            str(m["receives"]),
            m["sentAt"],
            (m["orderId"] or "-")[:8],
            _short(m["error"]),
        ]
        for m in shown
    ]
    emit(
        {"queue": queue.queue_name, "url": queue.url, "messages": count, "shown": shown},
        args.json,
        ["message", "receives", "sent (UTC)", "order", "error"],
        rows,
    )
    if not args.json:
        print(f"{len(shown)} of {count} messages in {queue.queue_name}; none was consumed")
    return 0


def _unknown_queue(stack: Stack, wanted: str) -> int:
    names = ", ".join(queue.name for queue in dead_letter_queues(stack))
    return _refuse(f"no dead-letter queue {wanted!r}; the stack has {names}")


def _move_tasks(stack: Stack, queue: DeadLetterQueue) -> list[dict[str, Any]] | None:
    """The DLQ's message move tasks, or None where the endpoint has no such API."""
    try:
        return list(
            stack.client("sqs").list_message_move_tasks(SourceArn=queue.arn, MaxResults=10)[
                "Results"
            ]
        )
    except ClientError as exc:
        if _unsupported(exc):
            return None
        raise


def _move_with_a_task(stack: Stack, queue: DeadLetterQueue, wait: float) -> dict[str, Any]:
    """SQS moves the messages itself; follow the task until it ends or `wait` passes."""
    sqs = stack.client("sqs")
    handle = sqs.start_message_move_task(SourceArn=queue.arn, DestinationArn=queue.source_arn)[
        "TaskHandle"
    ]
    deadline = time.monotonic() + wait
    while True:
        tasks = _move_tasks(stack, queue) or []
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        if task.get("Status") != "RUNNING" or time.monotonic() >= deadline:
            break
        time.sleep(MOVE_POLL_SECONDS)
    return {
        "way": "StartMessageMoveTask",
        "status": task.get("Status", "UNKNOWN"),
        "moved": int(task.get("ApproximateNumberOfMessagesMoved", 0)),
        "toMove": task.get("ApproximateNumberOfMessagesToMove"),
        "failureReason": task.get("FailureReason"),
    }


def _attributes_to_send(message: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {k: v for k, v in value.items() if k in {"DataType", "StringValue", "BinaryValue"}}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }


def _move_one_by_one(stack: Stack, queue: DeadLetterQueue) -> dict[str, Any]:
    """Receive, send to the source, then delete: a crash between them duplicates, never loses."""
    sqs = stack.client("sqs")
    moved = 0
    while True:
        received = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=1,
            VisibilityTimeout=MOVE_HOLD_SECONDS,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        message = received[0]
        attributes = _attributes_to_send(message)
        sqs.send_message(
            QueueUrl=queue.source_url,
            MessageBody=message["Body"],
            **({"MessageAttributes": attributes} if attributes else {}),
        )
        sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        moved += 1
    return {
        "way": "one by one: receive, send, delete",
        "status": "COMPLETED",
        "moved": moved,
        "toMove": moved,
        "failureReason": None,
    }


def dlq_redrive(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    queue = _named(dead_letter_queues(stack), args.queue)
    if queue is None:
        return _unknown_queue(stack, args.queue)
    if queue.kind == PARKED:
        return _refuse(
            f"{queue.name} parks sagas that could not compensate: each needs a person (its "
            "order is COMPENSATION_FAILED), so it is never redriven to a source"
        )
    if queue.source_url is None:
        return _refuse(
            f"{queue.name} holds events its target did not take, and has no source queue to "
            "move them back to; the republisher starts their orders again"
        )
    count = message_count(stack, queue)
    if count == 0:
        print(f"{queue.queue_name} is empty: nothing to redrive")
        return 0
    tasks = _move_tasks(stack, queue)
    if tasks is not None and any(task.get("Status") == "RUNNING" for task in tasks):
        return _refuse(f"a message move task is already running on {queue.queue_name}", 1)
    source = queue.source_url.rsplit("/", 1)[-1]
    if not confirm(f"Move {count} messages from {queue.queue_name} back to {source}?", args.yes):
        return _refuse("nothing moved", 1)
    if tasks is None:
        print(
            "this endpoint does not support StartMessageMoveTask: moving one message at a "
            "time (receive, send to the source, then delete)",
            file=sys.stderr,
        )
        outcome = _move_one_by_one(stack, queue)
    else:
        outcome = _move_with_a_task(stack, queue, args.wait)
    result = {"queue": queue.queue_name, "to": source, **outcome}
    emit(
        result,
        args.json,
        ["dlq", "to", "way", "status", "moved"],
        [[queue.name, source, outcome["way"], outcome["status"], str(outcome["moved"])]],
    )
    return 0 if outcome["status"] in {"COMPLETED", "RUNNING"} else 1


def _order_id_of(execution_input: str | None) -> str | None:
    try:
        document = json.loads(execution_input or "")
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    detail = document.get("detail")
    order_id = (detail if isinstance(detail, dict) else document).get("orderId")
    return order_id if isinstance(order_id, str) else None


def _describe(stack: Stack, arn: str) -> dict[str, Any]:
    described = stack.client("stepfunctions").describe_execution(executionArn=arn)
    return {
        "executionArn": arn,
        "name": described["name"],
        "status": described["status"],
        "startDate": described.get("startDate"),
        "stopDate": described.get("stopDate"),
        "orderId": _order_id_of(described.get("input")),
        "error": described.get("error"),
        "cause": described.get("cause"),
        "redriveStatus": described.get("redriveStatus"),
    }


def failed_executions(stack: Stack, limit: int) -> list[dict[str, Any]]:
    """The saga's failed, timed-out and aborted executions, newest first, described."""
    paginator = stack.client("stepfunctions").get_paginator("list_executions")
    arns = []
    for status in FAILED_STATUSES:
        pages = paginator.paginate(
            stateMachineArn=stack.output("StateMachineArn"),
            statusFilter=status,
            PaginationConfig={"MaxItems": limit},
        )
        arns += [e["executionArn"] for page in pages for e in page["executions"]]
    described = [_describe(stack, arn) for arn in arns]
    described.sort(key=lambda e: str(e["stopDate"] or ""), reverse=True)
    return described[:limit]


def _execution_rows(executions: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            e["name"],
            e["status"],
            (e["orderId"] or "-")[:8],
            _short(": ".join(part for part in (e["error"], e["cause"]) if part) or "-"),
        ]
        for e in executions
    ]


def executions_failed(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    executions = failed_executions(stack, args.max)
    emit(
        {"executions": executions},
        args.json,
        ["execution", "status", "order", "error"],
        _execution_rows(executions),
    )
    return 0


def _execution_arn(stack: Stack, wanted: str) -> str:
    if wanted.startswith("arn:"):
        return wanted
    machine = stack.output("StateMachineArn")
    return f"{machine.replace(':stateMachine:', ':execution:', 1)}:{wanted}"


def _redrive_supported(stack: Stack) -> bool:
    """Ask the engine to redrive an execution that cannot exist: nothing changes either way."""
    probe = _execution_arn(stack, f"redrive-probe-{uuid.uuid4()}")
    try:
        stack.client("stepfunctions").redrive_execution(executionArn=probe)
    except ClientError as exc:
        return not _unsupported(exc)
    return True


def _targets(stack: Stack, args: argparse.Namespace) -> list[dict[str, Any]] | None:
    if args.all:
        return failed_executions(stack, args.max)
    try:
        return [_describe(stack, _execution_arn(stack, args.execution))]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in {"ExecutionDoesNotExist", "InvalidArn"}:
            return None
        raise


def executions_redrive(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    targets = _targets(stack, args)
    if targets is None:
        return _refuse(f"no execution {args.execution} of {stack.output('StateMachineArn')}")
    if not targets:
        print("no failed executions: nothing to redrive")
        return 0
    if not _redrive_supported(stack):
        return _refuse(
            "this endpoint does not support RedriveExecution; nothing was redriven (on AWS it "
            "restarts a STANDARD execution that failed within 14 days from the failed step)",
            1,
        )
    if not confirm(f"Redrive {len(targets)} executions from the step that failed?", args.yes):
        return _refuse("nothing redriven", 1)
    sfn = stack.client("stepfunctions")
    results = []
    for target in targets:
        try:
            sfn.redrive_execution(executionArn=target["executionArn"])
            outcome = "redriven"
        except ClientError as exc:
            error = exc.response.get("Error", {})
            outcome = f"{error.get('Code')}: {error.get('Message')}"
        results.append({**target, "redrive": outcome})
    emit(
        {"executions": results},
        args.json,
        ["execution", "order", "redrive"],
        [[r["name"], (r["orderId"] or "-")[:8], _short(r["redrive"], 50)] for r in results],
    )
    return 0 if all(r["redrive"] == "redriven" for r in results) else 1


def _reaching(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command whose lost connection is an unreachable stack and whose refusal is one line."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except BotoCoreError as exc:
            raise StackUnreachableError(f"lost the stack: {exc}") from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return _refuse(f"{exc.operation_name}: {error.get('Code')}: {error.get('Message')}", 1)

    return run


def add_commands(commands: Any) -> None:
    """`dlq list|show|redrive` and `executions failed|redrive` on the main parser's commands."""
    dlq = commands.add_parser("dlq", help="dead-letter queues of a running stack")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="COMMAND")
    listing = dlq_commands.add_parser("list", help="every DLQ with its messages grouped by error")
    show = dlq_commands.add_parser("show", help="the messages of one DLQ, left in the queue")
    redrive = dlq_commands.add_parser("redrive", help="move a DLQ's messages back to their source")
    for parser in (show, redrive):
        parser.add_argument("queue", metavar="QUEUE", help="a name `dlq list` shows, or its URL")
    for parser, run in ((listing, dlq_list), (show, dlq_show), (redrive, dlq_redrive)):
        add_target_arguments(parser, changes=parser is redrive)
        parser.set_defaults(run=_reaching(run))
    for parser in (listing, show):
        parser.add_argument("--max", type=int, default=100, help="messages to look at per queue")
    redrive.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to follow a message move task (default 60)",
    )

    executions = commands.add_parser("executions", help="failed executions of the saga")
    execution_commands = executions.add_subparsers(
        dest="executions_command", required=True, metavar="COMMAND"
    )
    failed = execution_commands.add_parser(
        "failed", help="failed, timed-out and aborted executions, with error, cause and order"
    )
    again = execution_commands.add_parser(
        "redrive", help="restart failed executions from the step that failed (RedriveExecution)"
    )
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("execution", nargs="?", metavar="ARN", help="an execution's ARN or name")
    which.add_argument("--all", action="store_true", help="every execution `failed` lists")
    for parser, run in ((failed, executions_failed), (again, executions_redrive)):
        add_target_arguments(parser, changes=parser is again)
        parser.add_argument("--max", type=int, default=100, help="executions to look at")
        parser.set_defaults(run=_reaching(run))
