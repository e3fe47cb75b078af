"""Dead letters and failed executions, from a real fault to a redrive that loses nothing.

The fault is one an operator meets: the idempotency table is gone, so the inventory worker
cannot run a command and every ReserveInventory and ReleaseInventory fails until the table is
back. The saga times out on Reserve, retries Release until it gives up and parks the order
(COMPENSATION_FAILED, a failed execution); every command lands in the inventory DLQ. Then the
table is restored and the DLQ redriven. Everything goes through `order-saga local start`'s
HTTP API and AWS endpoint, and the commands through `order_saga_tools.cli.main`.
"""

from __future__ import annotations

import io
import json
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from order_saga_tools.cli import main
from order_saga_tools.drills import DRILL_CLOCK_SCALE
from order_saga_tools.identity import mint

ROOT = Path(__file__).resolve().parents[2]
INITIAL_STOCK, QUANTITY, BALANCE = 10, 2, 10_000
# The inventory DLQ gets Reserve (once) and Release (once per attempt: HeartbeatTimeout is
# retried twice) before the saga parks the order.
PARKED_COMMANDS = {"ReserveInventory command": 1, "ReleaseInventory command": 3}
DEADLINE_SECONDS = 120.0


@pytest.fixture(scope="module")
def outputs(local_start: Any) -> Iterator[dict[str, str]]:
    """A running `local start` on the drill clock (heartbeat 1.92 s, visibility 0.36 s)."""
    with local_start("--clock-scale", str(DRILL_CLOCK_SCALE)) as started:
        yield started


def aws(service: str, outputs: dict[str, str]) -> Any:
    return boto3.client(service, endpoint_url=outputs["AwsEndpointUrl"], region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def run(outputs: dict[str, str], *arguments: str) -> int:
    return main(["--root", str(ROOT), *arguments, "--local", outputs["AwsEndpointUrl"]])


def listed(outputs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert run(outputs, "dlq", "list", "--json") == 0
    return {q["name"]: q for q in json.loads(capsys.readouterr().out)["queues"]}


def queue_size(outputs: dict[str, str], url: str, hidden_too: bool = True) -> int:
    names = ["ApproximateNumberOfMessages"]
    names += ["ApproximateNumberOfMessagesNotVisible"] if hidden_too else []
    attributes = aws("sqs", outputs).get_queue_attributes(QueueUrl=url, AttributeNames=names)
    return sum(int(value) for value in attributes["Attributes"].values())


def inventory_dlq(outputs: dict[str, str]) -> str:
    return outputs["InventoryQueueUrl"].rsplit("/", 1)[0] + "/order-saga-local-inventory-dlq"


def item(outputs: dict[str, str], table: str, key: dict[str, str]) -> dict[str, Any] | None:
    found = aws("dynamodb", outputs).get_item(
        TableName=outputs[table], Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
    return found.get("Item")


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"still not {what} after {DEADLINE_SECONDS} s"
        time.sleep(0.5)


def place_order(outputs: dict[str, str], customer: str, sku: str) -> str:
    body = {"currency": "EUR", "lines": [{"sku": sku, "quantity": QUANTITY, "unitPrice": "2.50"}]}
    request = urllib.request.Request(
        outputs["ApiUrl"] + "/orders", json.dumps(body).encode(), method="POST",
        headers={"authorization": f"Bearer {mint(ROOT, customer)}",
                 "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return str(json.loads(response.read())["orderId"])


def idempotency_table_schema(outputs: dict[str, str]) -> dict[str, Any]:
    table = aws("dynamodb", outputs).describe_table(
        TableName=outputs["IdempotencyTableName"])["Table"]
    return {"TableName": table["TableName"], "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST"}


@pytest.fixture(scope="module")
def parked(outputs: dict[str, str]) -> dict[str, Any]:
    """An order whose saga could not run for want of the idempotency table, fully parked."""
    sku, customer = f"SKU-DLQ-{uuid.uuid4().hex[:6].upper()}", f"CUST-DLQ-{uuid.uuid4().hex[:6]}"
    ddb = aws("dynamodb", outputs)
    ddb.put_item(TableName=outputs["InventoryTableName"],
                 Item={"pk": {"S": f"STOCK#{sku}"}, "available": {"N": str(INITIAL_STOCK)}})
    ddb.put_item(TableName=outputs["PaymentsTableName"],
                 Item={"pk": {"S": f"BALANCE#{customer}"}, "balance": {"N": str(BALANCE)},
                       "currency": {"S": "EUR"}})
    schema = idempotency_table_schema(outputs)
    ddb.delete_table(TableName=outputs["IdempotencyTableName"])
    order_id = place_order(outputs, customer, sku)

    def all_parked() -> bool:
        order = item(outputs, "OrdersTableName", {"orderId": order_id}) or {}
        return (order.get("status", {}).get("S") == "COMPENSATION_FAILED"
                and queue_size(outputs, inventory_dlq(outputs)) == 4
                and queue_size(outputs, outputs["InventoryQueueUrl"]) == 0)

    wait_until("parked with every command in the DLQ", all_parked)
    order = item(outputs, "OrdersTableName", {"orderId": order_id}) or {}
    return {"order": order_id, "sku": sku, "customer": customer, "schema": schema,
            "execution": order["executionId"]["S"]}


def test_dlq_list_groups_the_inventory_dead_letters_by_command_and_shows_the_parked_saga(
        outputs: dict[str, str], parked: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    queues = listed(outputs, capsys)

    inventory = queues["inventory"]
    assert inventory["messages"] == 4
    assert inventory["redrivesTo"] == outputs["InventoryQueueUrl"]
    assert {g["error"]: g["messages"] for g in inventory["groups"]} == PARKED_COMMANDS
    # Each failed five times before SQS moved it; every later look counts as a receive too.
    assert all(g["receives"][0] >= 5 for g in inventory["groups"])
    assert queues["saga-failures"]["kind"] == "parked sagas"
    assert queues["saga-failures"]["redrivesTo"] is None
    assert [g["error"] for g in queues["saga-failures"]["groups"]] == [
        "compensation: States.HeartbeatTimeout"]
    assert {"payment", "order", "order-created-rule", "republish-schedule"} <= set(queues)


def test_dlq_list_prints_a_table_that_fits_a_hundred_columns(
        outputs: dict[str, str], parked: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(outputs, "dlq", "list") == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split() == ["dlq", "messages", "receives", "error", "redrive"]
    assert max(len(line) for line in lines) <= 100
    assert any(line.split()[:2] == ["inventory", "3"] and "ReleaseInventory" in line
               for line in lines)


def test_dlq_show_prints_each_message_and_consumes_none(
        outputs: dict[str, str], parked: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(outputs, "dlq", "show", "inventory", "--json") == 0
    shown = json.loads(capsys.readouterr().out)

    assert shown["messages"] == 4
    assert sorted(json.loads(m["body"])["action"] for m in shown["shown"]) == [
        "ReleaseInventory", "ReleaseInventory", "ReleaseInventory", "ReserveInventory"]
    assert {m["orderId"] for m in shown["shown"]} == {parked["order"]}
    # Still there and still visible: a look neither deletes nor hides.
    assert queue_size(outputs, inventory_dlq(outputs), hidden_too=False) == 4


def test_without_yes_and_without_a_terminal_a_redrive_moves_nothing(
        outputs: dict[str, str], parked: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Even a "y" piped in is no answer: only a terminal or --yes may say yes.
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))

    status = run(outputs, "dlq", "redrive", "inventory")

    err = capsys.readouterr().err
    assert status == 1
    assert "pass --yes" in err and "nothing moved" in err
    assert queue_size(outputs, inventory_dlq(outputs)) == 4
    assert queue_size(outputs, outputs["InventoryQueueUrl"]) == 0


def test_executions_failed_lists_the_parked_saga_with_its_error_cause_and_order(
        outputs: dict[str, str], parked: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(outputs, "executions", "failed", "--json") == 0
    executions = json.loads(capsys.readouterr().out)["executions"]

    mine = [e for e in executions if e["orderId"] == parked["order"]]
    assert [(e["executionArn"], e["status"], e["error"]) for e in mine] == [
        (parked["execution"], "FAILED", "CompensationFailed")]
    assert mine[0]["cause"] == "A compensation was exhausted; the order is parked on SagaFailures."


@pytest.mark.parametrize("which", [["--all"], ["EXECUTION"]], ids=["--all", "one ARN"])
def test_executions_redrive_says_plainly_this_endpoint_cannot_and_changes_nothing(
        outputs: dict[str, str], parked: dict[str, Any], which: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    targets = [parked["execution"] if w == "EXECUTION" else w for w in which]

    status = run(outputs, "executions", "redrive", *targets, "--yes")

    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err.splitlines() == [err] and err.startswith(
        "order-saga: this endpoint does not support RedriveExecution; nothing was redriven")
    described = aws("stepfunctions", outputs).describe_execution(
        executionArn=parked["execution"])
    assert described["status"] == "FAILED"


def test_the_parked_sagas_queue_is_never_redriven(
        outputs: dict[str, str], parked: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    status = run(outputs, "dlq", "redrive", "saga-failures", "--yes")

    err = capsys.readouterr().err.strip()
    assert status == 2 and err.splitlines() == [err] and "never redriven" in err
    assert queue_size(outputs, outputs["SagaFailuresQueueUrl"]) == 1


def test_once_the_cause_is_fixed_a_redrive_applies_each_command_once_and_loses_none(
        outputs: dict[str, str], parked: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    aws("dynamodb", outputs).create_table(**parked["schema"])

    status = run(outputs, "dlq", "redrive", "inventory", "--yes", "--json")

    captured = capsys.readouterr()
    moved = json.loads(captured.out)
    assert status == 0
    assert (moved["moved"], moved["way"]) == (4, "one by one: receive, send, delete")
    assert "does not support StartMessageMoveTask" in captured.err

    def settled() -> bool:
        reservation = item(outputs, "InventoryTableName",
                           {"pk": f"RESERVATION#{parked['order']}"}) or {}
        return (reservation.get("status", {}).get("S") == "RELEASED"
                and queue_size(outputs, outputs["InventoryQueueUrl"]) == 0)

    wait_until("every redriven command applied", settled)
    stock = item(outputs, "InventoryTableName", {"pk": f"STOCK#{parked['sku']}"})
    balance = item(outputs, "PaymentsTableName", {"pk": f"BALANCE#{parked['customer']}"})
    order = item(outputs, "OrdersTableName", {"orderId": parked["order"]})
    # Stock conserved with nothing reserved (released once, not three times), no charge.
    assert stock is not None and int(stock["available"]["N"]) == INITIAL_STOCK
    assert balance is not None and int(balance["balance"]["N"]) == BALANCE
    assert item(outputs, "PaymentsTableName", {"pk": f"CHARGE#{parked['order']}"}) is None
    # The redrive applied the commands; the parked saga still waits for a person.
    assert order is not None and order["status"]["S"] == "COMPENSATION_FAILED"
    assert queue_size(outputs, inventory_dlq(outputs)) == 0
    assert listed(outputs, capsys)["inventory"]["messages"] == 0


def test_the_rule_dlq_groups_by_eventbridges_error_attributes_and_has_no_source_to_redrive_to(
        outputs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url = outputs["OrderCreatedRuleDeadLetterQueueUrl"]
    # As EventBridge leaves an event its target refused: the event, and why, in attributes.
    aws("sqs", outputs).send_message(
        QueueUrl=url, MessageBody=json.dumps({"detail-type": "OrderCreated", "detail": {}}),
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": "Rate exceeded"}})

    groups = listed(outputs, capsys)["order-created-rule"]["groups"]
    status = run(outputs, "dlq", "redrive", "order-created-rule", "--yes")

    assert [(g["error"], g["messages"]) for g in groups] == [
        ("SDK_CLIENT_ERROR: Rate exceeded", 1)]
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.splitlines() == [err] and "no source queue" in err
    assert queue_size(outputs, url) == 1
