"""`order-saga seed`, `inspect` and `stuck` against a running `order-saga local start`."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from order_saga.adapters.dynamodb_orders import order_to_item
from order_saga.domain.model import Money, Order, OrderLine
from order_saga_tools.cli import main
from order_saga_tools.demo import BALANCES, CURRENCY, STOCK
from order_saga_tools.identity import mint
from order_saga_tools.ops_seed import read_seed_file

from .conftest import ROOT, free_port

HAPPY_PATH = ["Read order from event", "Claim order", "Reserve inventory", "Charge payment",
              "Confirm order", "Publish OrderConfirmed", "Order confirmed"]


def aws(service: str, outputs: dict[str, str]) -> Any:
    return boto3.client(service, endpoint_url=outputs["AwsEndpointUrl"], region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def order_saga(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `order-saga ARGV` from the project folder."""
    capsys.readouterr()
    status = main(["--root", str(ROOT), *argv])
    out, err = capsys.readouterr()
    return status, out, err


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def items(outputs: dict[str, str], table: str, keys: list[str]) -> list[dict[str, Any] | None]:
    ddb = aws("dynamodb", outputs)
    return [ddb.get_item(TableName=outputs[table], Key={"pk": {"S": key}},
                         ConsistentRead=True).get("Item") for key in keys]


def place_order(outputs: dict[str, str], customer: str, sku: str, quantity: int) -> str:
    body = json.dumps({"currency": "EUR",
                       "lines": [{"sku": sku, "quantity": quantity, "unitPrice": "1.00"}]})
    request = urllib.request.Request(
        outputs["ApiUrl"] + "/orders", body.encode(), method="POST",
        headers={"authorization": f"Bearer {mint(ROOT, customer)}",
                 "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return str(json.loads(response.read())["orderId"])


def status_of(outputs: dict[str, str], order_id: str) -> str:
    item = aws("dynamodb", outputs).get_item(
        TableName=outputs["OrdersTableName"], Key={"orderId": {"S": order_id}},
        ConsistentRead=True)["Item"]
    return str(item["status"]["S"])


def wait_for_status(outputs: dict[str, str], order_id: str, wanted: set[str]) -> str:
    deadline = time.monotonic() + 30
    while (status := status_of(outputs, order_id)) not in wanted:
        assert time.monotonic() < deadline, f"order {order_id} is still {status}"
        time.sleep(0.1)
    return status


@pytest.fixture(scope="module")
def stocked(started: dict[str, str], tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[dict[str, str], str, str]:
    """The running stack with a fresh customer (100.00 EUR) and a fresh SKU (5 units)."""
    customer, sku = fresh("CUST"), fresh("SKU")
    seed = tmp_path_factory.mktemp("seed") / "stock.yaml"
    seed.write_text(f'currency: EUR\nstock: {{{sku}: 5}}\nbalances: {{{customer}: "100.00"}}\n')
    assert main(["--root", str(ROOT), "seed", str(seed), "--local", started["AwsEndpointUrl"],
                 "--yes"]) == 0
    return started, customer, sku


# ---------------------------------------------------------------- seed


def test_the_demo_seed_files_hold_the_demos_stock_and_balances() -> None:
    for name in ("demo.yaml", "demo.csv"):
        wanted = read_seed_file(ROOT / "seeds" / name)
        stock = {w.id: w.value for w in wanted if w.kind == "stock"}
        balances = {w.id: w.value for w in wanted if w.kind == "balance"}
        assert stock == STOCK
        assert {c: balances[c] for c in BALANCES} == {
            c: Money(amount, CURRENCY) for c, amount in BALANCES.items()}


def test_seeding_twice_writes_once_and_the_second_run_changes_nothing(
        started: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sku, euro, yen, dinar = fresh("SKU"), fresh("CUST"), fresh("CUST"), fresh("CUST")
    seed = tmp_path / "seed.yaml"
    seed.write_text(f"""currency: EUR
stock:
  {sku}: 7
balances:
  {euro}: "12.50"
  {yen}: {{amount: "1200", currency: JPY}}
  {dinar}: {{amount: "1.5", currency: KWD}}
""")
    stock_keys = [f"STOCK#{sku}"]
    balance_keys = [f"BALANCE#{c}" for c in (euro, yen, dinar)]
    target = ["--local", started["AwsEndpointUrl"], "--json"]

    first, out, _ = order_saga(capsys, "seed", str(seed), *target, "--yes")
    after_first = (items(started, "InventoryTableName", stock_keys),
                   items(started, "PaymentsTableName", balance_keys))
    second, out_again, _ = order_saga(capsys, "seed", str(seed), *target, "--yes")

    assert (first, second) == (0, 0)
    assert [c["action"] for c in json.loads(out)["changes"]] == ["created"] * 4
    assert [c["action"] for c in json.loads(out_again)["changes"]] == ["unchanged"] * 4
    assert json.loads(out_again)["written"] == 0
    assert (items(started, "InventoryTableName", stock_keys),
            items(started, "PaymentsTableName", balance_keys)) == after_first
    stock, balances = after_first
    assert stock[0] is not None and stock[0]["available"] == {"N": "7"}
    assert [(b["balance"]["N"], b["currency"]["S"]) for b in balances if b is not None] == [
        ("1250", "EUR"), ("1200", "JPY"), ("1500", "KWD")]


def test_seeding_a_changed_value_updates_only_that_record(
        started: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sku, other = fresh("SKU"), fresh("SKU")
    seed = tmp_path / "seed.csv"
    seed.write_text(f"kind,id,amount,currency\nstock,{sku},3,\nstock,{other},4,\n")
    target = ["--local", started["AwsEndpointUrl"], "--json", "--yes"]
    assert order_saga(capsys, "seed", str(seed), *target)[0] == 0
    seed.write_text(f"kind,id,amount,currency\nstock,{sku},9,\nstock,{other},4,\n")

    status, out, _ = order_saga(capsys, "seed", str(seed), *target)

    assert status == 0
    assert [(c["before"], c["after"], c["action"]) for c in json.loads(out)["changes"]] == [
        (3, 9, "updated"), (4, 4, "unchanged")]


def test_seeding_off_a_terminal_without_yes_writes_nothing_and_says_so(
        started: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sku = fresh("SKU")
    seed = tmp_path / "seed.csv"
    seed.write_text(f"kind,id,amount,currency\nstock,{sku},3,\n")

    status, out, err = order_saga(capsys, "seed", str(seed), "--local",
                                  started["AwsEndpointUrl"])

    assert status == 1
    assert "create" in out
    assert "pass --yes" in err and "nothing written" in err
    assert items(started, "InventoryTableName", [f"STOCK#{sku}"]) == [None]


@pytest.mark.parametrize(("name", "text", "message"), [
    pytest.param("bad.csv",
                 "kind,id,amount,currency\nstock,{sku},3,\nbalance,{customer},1.234,EUR\n",
                 "bad.csv line 3: amount 1.234 has more than 2 decimal places for EUR",
                 id="csv-too-many-places"),
    pytest.param("bad.csv", "kind,id,amount,currency\nstock,{sku},3,\nstock,{sku}-2,-1,\n",
                 "line 3: units '-1' is not a whole number", id="csv-negative-stock"),
    pytest.param("bad.csv", "kind,id,amount,currency\nstock,{sku},3,\nbalance,{customer},5,XXX\n",
                 "line 3: currency 'XXX' is not an ISO 4217 code", id="csv-no-minor-units"),
    pytest.param("bad.csv", "kind,id,amount,currency\nstock,{sku},3,\ngift,{customer},5,EUR\n",
                 "line 3: kind 'gift' is neither stock nor balance", id="csv-unknown-kind"),
    pytest.param("bad.csv", "kind,sku,units\nstock,{sku},3\n",
                 "bad.csv line 1: the header must be kind,id,amount,currency", id="csv-header"),
    pytest.param("bad.yaml", 'currency: EUR\nstock: {{{sku}: 3}}\nbalances: {{{customer}: 12.5}}\n',
                 "balances.{customer}: amount 12.5 must be quoted", id="yaml-float-amount"),
    pytest.param("bad.yaml", 'stock: {{{sku}: 3}}\nbalances: {{{customer}: "12.50"}}\n',
                 "balances.{customer}: no currency", id="yaml-no-currency"),
    pytest.param("bad.yaml", 'currency: EUR\nstock: {{{sku}: 3, sku-lower: 2}}\n',
                 "stock.sku-lower: SKU 'sku-lower' is not", id="yaml-bad-sku"),
    pytest.param("bad.yaml", "currency: EUR\nstock:\n  {sku}: 3\n  {sku}: 4\n",
                 "bad.yaml line 4: '{sku}' is given twice", id="yaml-repeated-key"),
])
def test_a_bad_seed_file_is_refused_in_one_line_naming_the_row_or_field_and_writes_nothing(
        started: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path,
        name: str, text: str, message: str) -> None:
    sku, customer = fresh("SKU"), fresh("CUST")
    seed = tmp_path / name
    seed.write_text(text.format(sku=sku, customer=customer))

    status, out, err = order_saga(capsys, "seed", str(seed), "--local",
                                  started["AwsEndpointUrl"], "--yes")

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and message.format(sku=sku, customer=customer) in err
    assert items(started, "InventoryTableName", [f"STOCK#{sku}"]) == [None]


# ---------------------------------------------------------------- inspect


def test_inspect_shows_a_confirmed_orders_path_through_the_saga(
        stocked: tuple[dict[str, str], str, str], capsys: pytest.CaptureFixture[str]) -> None:
    outputs, customer, sku = stocked
    order_id = place_order(outputs, customer, sku, 1)
    wait_for_status(outputs, order_id, {"CONFIRMED"})

    status, out, _ = order_saga(capsys, "inspect", order_id, "--local",
                                outputs["AwsEndpointUrl"], "--json")
    table_status, table, _ = order_saga(capsys, "inspect", order_id, "--local",
                                        outputs["AwsEndpointUrl"])

    assert (status, table_status) == (0, 0)
    found = json.loads(out)
    assert found["order"]["status"] == "CONFIRMED"
    (execution,) = found["executions"]
    assert execution["recordedOnOrder"] and execution["status"] == "SUCCEEDED"
    assert [step["state"] for step in execution["steps"]] == HAPPY_PATH
    assert all(step["exited"] and not step["errors"] for step in execution["steps"])
    assert execution["steps"][2]["input"]["orderId"] == order_id
    assert f"order {order_id}: CONFIRMED" in table
    assert max(len(line) for line in table.splitlines()) <= 100


def test_inspect_shows_where_a_cancelled_order_failed_and_its_compensations(
        stocked: tuple[dict[str, str], str, str], capsys: pytest.CaptureFixture[str]) -> None:
    outputs, customer, sku = stocked
    order_id = place_order(outputs, customer, sku, 1000)
    wait_for_status(outputs, order_id, {"CANCELLED"})

    status, out, _ = order_saga(capsys, "inspect", order_id, "--local",
                                outputs["AwsEndpointUrl"], "--json")

    assert status == 0
    (execution,) = json.loads(out)["executions"]
    steps = {step["state"]: step for step in execution["steps"]}
    assert list(steps) == ["Read order from event", "Claim order", "Reserve inventory",
                           "Cancel order", "Publish OrderCancelled", "Order cancelled"]
    assert [e["error"] for e in steps["Reserve inventory"]["errors"]] == ["OutOfStockError"]
    assert execution["output"]["reason"] == "OutOfStockError"


def test_inspect_finds_a_message_about_the_order_in_a_dead_letter_queue_and_leaves_it_there(
        stocked: tuple[dict[str, str], str, str], capsys: pytest.CaptureFixture[str]) -> None:
    outputs, customer, sku = stocked
    order_id = place_order(outputs, customer, sku, 1)
    wait_for_status(outputs, order_id, {"CONFIRMED"})
    sqs = aws("sqs", outputs)
    redrive = sqs.get_queue_attributes(QueueUrl=outputs["PaymentQueueUrl"],
                                       AttributeNames=["RedrivePolicy"])["Attributes"]
    dlq_name = json.loads(redrive["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[-1]
    dlq = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    sent = sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(
        {"action": "RefundPayment", "orderId": order_id, "taskToken": "t"}))["MessageId"]

    status, out, _ = order_saga(capsys, "inspect", order_id, "--local",
                                outputs["AwsEndpointUrl"], "--json")

    assert status == 0
    assert [(m["queue"], m["messageId"]) for m in json.loads(out)["messages"]] == [
        (dlq_name, sent)]
    still_there = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert sent in [m["MessageId"] for m in still_there.get("Messages", [])]


def test_inspect_of_an_unknown_order_says_so_in_one_line_and_exits_1(
        started: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    unknown = str(uuid.uuid4())

    status, out, err = order_saga(capsys, "inspect", unknown, "--local",
                                  started["AwsEndpointUrl"])

    assert (status, out) == (1, "")
    assert err == f"order-saga: no order {unknown} in {started['OrdersTableName']}\n"


# ---------------------------------------------------------------- stuck


def stuck_ids(capsys: pytest.CaptureFixture[str], outputs: dict[str, str], older_than: str
              ) -> dict[str, dict[str, Any]]:
    status, out, _ = order_saga(capsys, "stuck", "--older-than", older_than, "--local",
                                outputs["AwsEndpointUrl"], "--json")
    assert status == 0
    return {o["orderId"]: o for o in json.loads(out)["orders"]}


def test_stuck_lists_an_order_whose_order_created_was_lost_once_past_the_threshold(
        started: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    # What a lost emit leaves: the order stored PENDING, and no saga.
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = OrderLine(fresh("SKU"), 1, Money(100, "EUR"))
    order = Order(str(uuid.uuid4()), fresh("CUST"), (line,))
    order = replace(order, created_at=now, updated_at=now, correlation_id="lost-emit")
    serialize = TypeSerializer().serialize
    aws("dynamodb", started).put_item(
        TableName=started["OrdersTableName"],
        Item={k: serialize(v) for k, v in order_to_item(order).items()})
    time.sleep(2.1)

    included = stuck_ids(capsys, started, "2s")
    excluded = stuck_ids(capsys, started, "1h")

    assert included[order.order_id]["status"] == "PENDING"
    assert "republisher" in included[order.order_id]["waitingFor"]
    assert order.order_id not in excluded


def test_stuck_names_the_state_a_held_saga_waits_on(
        stocked: tuple[dict[str, str], str, str], capsys: pytest.CaptureFixture[str]) -> None:
    outputs, customer, sku = stocked
    sqs = aws("sqs", outputs)
    # Commands to the inventory worker are held back, as by a worker that does not answer.
    sqs.set_queue_attributes(QueueUrl=outputs["InventoryQueueUrl"],
                             Attributes={"DelaySeconds": "900"})
    try:
        order_id = place_order(outputs, customer, sku, 1)
        wait_for_status(outputs, order_id, {"RUNNING"})
    finally:
        sqs.set_queue_attributes(QueueUrl=outputs["InventoryQueueUrl"],
                                 Attributes={"DelaySeconds": "0"})
    time.sleep(2.1)

    included = stuck_ids(capsys, outputs, "2s")
    excluded = stuck_ids(capsys, outputs, "15m")
    _, text, _ = order_saga(capsys, "stuck", "--older-than", "2s", "--local",
                            outputs["AwsEndpointUrl"])

    assert included[order_id]["status"] == "RUNNING"
    assert included[order_id]["waitingFor"].startswith("Reserve inventory, since ")
    assert order_id not in excluded
    assert order_id in text and max(len(line) for line in text.splitlines()) <= 100


def test_a_threshold_that_is_not_a_duration_is_refused(
        started: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        order_saga(capsys, "stuck", "--older-than", "15x", "--local", started["AwsEndpointUrl"])

    assert exited.value.code == 2
    assert "'15x' is not a duration such as 90s, 15m, 2h" in capsys.readouterr().err


# ---------------------------------------------------------------- unreachable stacks


@pytest.mark.parametrize("command", [["seed", "seeds/demo.yaml", "--yes"],
                                     ["inspect", "00000000-0000-4000-8000-000000000000"],
                                     ["stuck"]])
def test_a_local_endpoint_where_nothing_listens_is_refused_in_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    (tmp_path / ".order-saga").mkdir()
    (tmp_path / ".order-saga" / "outputs.json").write_text(
        json.dumps([{"OutputKey": "AwsEndpointUrl", "OutputValue": url}]))
    command = [str(ROOT / part) if part.startswith("seeds/") else part for part in command]

    status = main(["--root", str(tmp_path), *command, "--local", url])

    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == f"order-saga: nothing answers at {url}: is the local cloud running?\n"


def test_a_stack_on_aws_without_credentials_is_refused_in_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    status = main(["stuck", "--stack", "order-saga-dev", "--region", "eu-west-1"])

    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("order-saga: no AWS credentials")
