"""Log lines on the local cloud: no key outlives its invocation; one id follows an order."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from order_saga.adapters.dynamodb_orders import order_to_item
from order_saga.domain.errors import ParticipantUnavailableError
from order_saga.domain.model import Money, Order, OrderLine
from order_saga_tools.demo import http_event, post_order
from order_saga_tools.faults import plan_order_ids, wrap_port
from order_saga_tools.identity import caller_context
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import seed

SAGA_FUNCTIONS = (
    "CreateOrderFunction",
    "InventoryWorkerFunction",
    "PaymentWorkerFunction",
    "OrderWorkerFunction",
)


class LogWatch:
    """The Logger lines each function writes from the moment the watch starts."""

    def __init__(self, cloud: SagaCloud) -> None:
        assert cloud.runtime is not None
        self.logs = cloud.runtime.logs.lines
        self.start = {function: len(lines) for function, lines in self.logs.items()}

    def lines(self, function: str) -> list[dict[str, Any]]:
        written = list(self.logs.get(function, ()))[self.start.get(function, 0) :]
        decoded = []
        for line in written:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            # Metrics are JSON too, with no level: they are not log lines.
            if isinstance(record, dict) and "level" in record:
                decoded.append(record)
        return decoded

    def wait_for_saga(self, cloud: SagaCloud, order_id: str) -> str:
        """The saga's final status once it has ended and the order worker's last line is written."""
        saga = cloud.wait_for_saga(order_id, timeout=20, with_path=False)
        # The execution may end before the worker that answered it writes its own line.
        deadline = time.monotonic() + 10
        while not any(
            line.get("order_id") == order_id and "settled" in line["message"]
            for line in self.lines("OrderWorkerFunction")
        ):
            assert time.monotonic() < deadline, "the order worker never logged the order's end"
            time.sleep(0.01)
        return saga.status


def order_body(customer: str, sku: str) -> str:
    return json.dumps(
        {
            "customerId": customer,
            "currency": "EUR",
            "lines": [{"sku": sku, "quantity": 1, "unitPrice": "2.00"}],
        }
    )


def fresh_names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8].upper()
    return f"CUST-{suffix}", f"SKU-{suffix}"


def command_record(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inventory",
        "awsRegion": "us-east-1",
    }


IGNORED = "X-Correlation-Id ignored: it is not 1-128 printable ASCII characters"


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        pytest.param("checkout-7f3a9b21", True, id="the-callers-x-correlation-id"),
        pytest.param(None, False, id="api-gateways-request-id-without-one"),
        pytest.param("two words", False, id="api-gateways-request-id-for-a-bad-one"),
    ],
)
def test_every_line_of_an_order_from_its_post_through_the_workers_has_one_correlation_id(
    cloud: SagaCloud, given: str | None, taken: bool
) -> None:
    customer, sku = fresh_names()
    seed(cloud, {sku: 5}, {customer: 10_000}, "EUR")
    headers = {"X-Correlation-Id": given} if given else None
    event = http_event(
        "POST", "/orders", order_body(customer, sku), headers, authorizer=caller_context(customer)
    )
    correlation_id = given if taken else event["requestContext"]["requestId"]
    watch = LogWatch(cloud)

    response = cloud.invoke("CreateOrderFunction", event)
    order_id = json.loads(response["body"])["orderId"]

    assert watch.wait_for_saga(cloud, order_id) == "CONFIRMED"
    assert response["headers"]["x-correlation-id"] == correlation_id
    assert cloud.order(order_id)["correlationId"] == correlation_id  # type: ignore[index]
    for function in SAGA_FUNCTIONS:
        lines = watch.lines(function)
        assert lines, f"{function} wrote no log line for the order"
        assert {line.get("correlation_id") for line in lines} == {correlation_id}, lines
        # Only the warning about a refused header comes before the order has an id.
        without_order = [line["message"] for line in lines if line.get("order_id") != order_id]
        warned = function == "CreateOrderFunction" and given is not None and not taken
        assert without_order == ([IGNORED] if warned else []), lines


def test_a_log_key_of_one_invocation_never_reaches_the_next_one_in_the_same_process(
    cloud: SagaCloud,
) -> None:
    customer, sku = fresh_names()
    seed(cloud, {sku: 5}, {customer: 10_000}, "EUR")
    watch = LogWatch(cloud)
    first = post_order(cloud, customer, order_body(customer, sku))
    assert watch.wait_for_saga(cloud, json.loads(first["body"])["orderId"]) == "CONFIRMED"
    refused = http_event("POST", "/orders", "{}", {"X-Correlation-Id": "not\ta token"})
    watch = LogWatch(cloud)

    cloud.invoke("CreateOrderFunction", refused)

    lines = watch.lines("CreateOrderFunction")
    assert [line["message"] for line in lines] == [IGNORED]
    assert "order_id" not in lines[0]
    assert lines[0]["correlation_id"] == refused["requestContext"]["requestId"]


def test_a_worker_logs_each_record_under_its_own_order_and_nothing_after_it(
    cloud: SagaCloud,
) -> None:
    traced, untraced = str(uuid.uuid4()), str(uuid.uuid4())
    batch = {
        "Records": [
            command_record(
                {
                    "action": "ReleaseInventory",
                    "orderId": traced,
                    "correlationId": "checkout-1",
                    "taskToken": "closed-token-1",
                }
            ),
            # Sent before commands carried a correlation id: the order id stands in.
            command_record(
                {"action": "ReleaseInventory", "orderId": untraced, "taskToken": "closed-token-2"}
            ),
            command_record({"action": "ReleaseInventory"}),
        ]
    }
    watch = LogWatch(cloud)

    cloud.invoke("InventoryWorkerFunction", batch)

    lines = watch.lines("InventoryWorkerFunction")
    keys = [(line.get("order_id"), line.get("correlation_id")) for line in lines]
    assert set(keys[:-1]) == {(traced, "checkout-1"), (untraced, untraced)}
    assert keys[-1] == (None, None)
    assert lines[-1]["message"].startswith("poison message")


def test_get_order_logs_under_its_own_request_id_and_the_order_id(cloud: SagaCloud) -> None:
    order_id = str(uuid.uuid4())
    wrap_port(cloud.container_of("GetOrderFunction"), "orders").inject(
        "get", order_id, ParticipantUnavailableError("throttled")
    )
    event = http_event(
        "GET",
        f"/orders/{order_id}",
        headers={"X-Correlation-Id": "not-used-by-get"},
        path_parameters={"orderId": order_id},
        authorizer=caller_context("CUST-LOGS"),
    )
    watch = LogWatch(cloud)

    response = cloud.invoke("GetOrderFunction", event)

    assert response["statusCode"] == 500
    lines = watch.lines("GetOrderFunction")
    assert lines
    assert {(line["correlation_id"], line["order_id"]) for line in lines} == {
        (event["requestContext"]["requestId"], order_id)
    }


def test_an_invocation_of_one_function_leaves_another_functions_log_keys_alone(
    cloud: SagaCloud,
) -> None:
    get_order_logger = cloud.handler_module("GetOrderFunction").logger
    get_order_logger.append_keys(kept_by="GetOrderFunction")
    watch = LogWatch(cloud)
    try:
        cloud.invoke(
            "CreateOrderFunction",
            http_event("POST", "/orders", "{}", {"X-Correlation-Id": "not\ta token"}),
        )

        assert get_order_logger.get_current_keys().get("kept_by") == "GetOrderFunction"
    finally:
        get_order_logger.remove_keys(["kept_by"])
    lines = watch.lines("CreateOrderFunction")
    assert lines and all("kept_by" not in line for line in lines)


def test_a_metric_one_function_is_adding_stays_out_of_another_functions_flush(
    cloud: SagaCloud,
) -> None:
    # In Lambda each function's metrics live in a process of its own. Shared, a flush by one
    # function published another's metrics and emptied its set, and a flush racing another
    # raised SchemaValidationError "Must contain at least one metric".
    inventory_metrics = cloud.handler_module("InventoryWorkerFunction").metrics
    inventory_metrics.add_metric(name="AddedByInventory", unit="Count", value=1)
    assert cloud.runtime is not None
    logs = cloud.runtime.logs.lines
    start = len(logs.get("CreateOrderFunction", ()))
    try:
        response = cloud.invoke(
            "CreateOrderFunction",
            http_event(
                "POST",
                "/orders",
                "{}",
                {"X-Correlation-Id": "not\ta token"},
                authorizer=caller_context("CUST-METRICS"),
            ),
        )

        assert response["statusCode"] == 400
        assert "AddedByInventory" in inventory_metrics.metric_set
    finally:
        inventory_metrics.clear_metrics()
    written = list(logs.get("CreateOrderFunction", ()))[start:]
    assert any(IGNORED in line for line in written)
    assert not [line for line in written if "AddedByInventory" in line]


def test_the_republisher_logs_and_emits_each_order_under_its_stored_correlation_id(
    cloud: SagaCloud,
) -> None:
    customer, sku = fresh_names()
    # An order stored before correlation ids existed: no correlationId in its item.
    old = Order(str(uuid.uuid4()), customer, (OrderLine(sku, 1, Money(200, "EUR")),))
    old = replace(old, created_at="2020-01-01T00:00:00.000Z", updated_at="2020-01-01T00:00:00.000Z")
    item = {k: v for k, v in order_to_item(old).items() if k != "correlationId"}
    serialize = TypeSerializer().serialize
    cloud.client("dynamodb").put_item(
        TableName=cloud.ref("OrdersTable"), Item={k: serialize(v) for k, v in item.items()}
    )
    # An order whose OrderCreated never left: it waits, PENDING, under its request's id.
    key = uuid.uuid4().hex
    stuck = str(uuid.uuid4())
    wrap_port(cloud.container_of("CreateOrderFunction"), "publisher").inject(
        "publish", stuck, ConnectionError("the bus is down")
    )
    placed = http_event(
        "POST",
        "/orders",
        order_body(customer, sku),
        {"Idempotency-Key": key, "X-Correlation-Id": "req-stuck"},
        authorizer=caller_context(customer),
    )
    with plan_order_ids(cloud.container_of("CreateOrderFunction")).naming(stuck):
        assert cloud.invoke("CreateOrderFunction", placed)["statusCode"] == 202
    emitted: list[dict[str, Any]] = []
    republisher = wrap_port(cloud.container_of("RepublishPendingOrdersFunction"), "publisher")
    for order_id in (old.order_id, stuck):
        # Kept off the bus: the point is what would be emitted, not a second saga.
        republisher.inject("publish", order_id, lambda _real, _kind, detail: emitted.append(detail))
    watch = LogWatch(cloud)

    cloud.invoke("RepublishPendingOrdersFunction", {"time": "2999-01-01T00:00:00Z"})

    expected = {(old.order_id, old.order_id), (stuck, "req-stuck")}
    assert {(d["orderId"], d["correlationId"]) for d in emitted} == expected
    logged = {
        (line["order_id"], line["correlation_id"])
        for line in watch.lines("RepublishPendingOrdersFunction")
        if line["message"].startswith("OrderCreated emitted again")
    }
    assert logged == expected
