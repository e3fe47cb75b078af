"""The state machine's paths, run on the local cloud with the real workers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from order_saga.domain.errors import ParticipantUnavailableError
from order_saga_tools.demo import post_order
from order_saga_tools.faults import InjectedFaultError, wrap_port
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import balances, seed, stock

CLAIM = ("Read order from event", "Claim order")
CANCELLED_TAIL = ("Cancel order", "Publish OrderCancelled", "Order cancelled")


@dataclass(frozen=True)
class Case:
    name: str
    quantity: int
    balance: int
    fault: tuple[str, str, str] | None  # function, port attribute, port method
    status: str
    reason: str | None
    path: tuple[str, ...]
    charged: bool
    reserved: bool


CASES = [
    Case(
        "confirmed",
        2,
        10_000,
        None,
        "CONFIRMED",
        None,
        (
            *CLAIM,
            "Reserve inventory",
            "Charge payment",
            "Confirm order",
            "Publish OrderConfirmed",
            "Order confirmed",
        ),
        charged=True,
        reserved=True,
    ),
    Case(
        "out of stock",
        11,
        10_000,
        None,
        "CANCELLED",
        "OutOfStockError",
        (*CLAIM, "Reserve inventory", *CANCELLED_TAIL),
        charged=False,
        reserved=False,
    ),
    Case(
        "payment declined",
        2,
        100,
        None,
        "CANCELLED",
        "PaymentDeclinedError",
        (*CLAIM, "Reserve inventory", "Charge payment", "Release inventory", *CANCELLED_TAIL),
        charged=False,
        reserved=False,
    ),
    Case(
        "technical failure at confirm",
        2,
        10_000,
        ("OrderWorkerFunction", "orders", "confirm"),
        "CANCELLED",
        "InjectedFaultError",
        (
            *CLAIM,
            "Reserve inventory",
            "Charge payment",
            "Confirm order",
            "Refund payment",
            "Release inventory",
            *CANCELLED_TAIL,
        ),
        charged=False,
        reserved=False,
    ),
    Case(
        "technical failure at charge",
        2,
        10_000,
        ("PaymentWorkerFunction", "ledger", "charge"),
        "CANCELLED",
        "InjectedFaultError",
        (
            *CLAIM,
            "Reserve inventory",
            "Charge payment",
            "Refund payment",
            "Release inventory",
            *CANCELLED_TAIL,
        ),
        charged=False,
        reserved=False,
    ),
]


def place(
    cloud: SagaCloud, customer: str, sku: str, quantity: int, order_id: str | None = None
) -> str:
    body = json.dumps(
        {"currency": "EUR", "lines": [{"sku": sku, "quantity": quantity, "unitPrice": "2.50"}]}
    )
    response = post_order(cloud, customer, body, uuid.uuid4().hex, order_id)
    assert response["statusCode"] == 202, response
    return str(json.loads(response["body"])["orderId"])


def fresh_names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8].upper()
    return f"CUST-{suffix}", f"SKU-{suffix}"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_outcome_follows_its_exact_path_and_leaves_stock_and_money_right(
    cloud: SagaCloud, case: Case
) -> None:
    customer, sku = fresh_names()
    seed(cloud, {sku: 10}, {customer: case.balance}, "EUR")
    order_id = str(uuid.uuid4())
    if case.fault:
        function, attribute, method = case.fault
        port = wrap_port(cloud.container_of(function), attribute)
        port.inject(method, order_id, InjectedFaultError("refused on purpose"))

    place(cloud, customer, sku, case.quantity, order_id)
    saga = cloud.wait_for_saga(order_id, timeout=20)

    assert saga.path == case.path
    assert (saga.status, saga.reason) == (case.status, case.reason)
    assert saga.execution_status == "SUCCEEDED"
    assert saga.output is not None and saga.output["status"] == case.status
    units = 10 - case.quantity if case.reserved else 10
    assert stock(cloud, [sku]) == {sku: units}
    cost = case.quantity * 250 if case.charged else 0
    assert balances(cloud, [customer]) == {customer: case.balance - cost}


def test_a_transient_failure_is_retried_and_the_order_still_confirms(cloud: SagaCloud) -> None:
    customer, sku = fresh_names()
    seed(cloud, {sku: 10}, {customer: 10_000}, "EUR")
    ledger = wrap_port(cloud.container_of("PaymentWorkerFunction"), "ledger")
    order_id = str(uuid.uuid4())
    ledger.inject(
        "charge",
        order_id,
        ParticipantUnavailableError("throttled"),
        ParticipantUnavailableError("throttled"),
    )

    place(cloud, customer, sku, 3, order_id)
    saga = cloud.wait_for_saga(order_id, timeout=20)

    assert saga.status == "CONFIRMED"
    assert ledger.calls.count(("charge", order_id)) == 3
    assert balances(cloud, [customer]) == {customer: 10_000 - 750}
    assert stock(cloud, [sku]) == {sku: 7}


def test_a_compensation_that_fails_for_good_parks_the_order(cloud: SagaCloud) -> None:
    customer, sku = fresh_names()
    seed(cloud, {sku: 10}, {customer: 100}, "EUR")
    order_id = str(uuid.uuid4())
    store = wrap_port(cloud.container_of("InventoryWorkerFunction"), "store")
    store.inject("release", order_id, *[InjectedFaultError("store down")] * 20)

    place(cloud, customer, sku, 2, order_id)
    saga = cloud.wait_for_saga(order_id, timeout=30)

    assert saga.status == "COMPENSATION_FAILED"
    assert saga.execution_status == "FAILED"
    assert saga.path[-4:] == (
        "Release inventory",
        "Mark compensation failed",
        "Park on saga failures queue",
        "Compensation failed",
    )
    sqs = cloud.client("sqs")
    messages = sqs.receive_message(QueueUrl=cloud.ref("SagaFailuresQueue"), MaxNumberOfMessages=10)[
        "Messages"
    ]
    parked = [json.loads(m["Body"]) for m in messages]
    assert order_id in [p["orderId"] for p in parked]
    assert stock(cloud, [sku]) == {sku: 8}, "the reservation stays held until a person acts"


def test_a_duplicated_order_created_event_starts_no_second_saga(cloud: SagaCloud) -> None:
    customer, sku = fresh_names()
    seed(cloud, {sku: 10}, {customer: 10_000}, "EUR")
    order_id = place(cloud, customer, sku, 1)
    cloud.wait_for_saga(order_id, timeout=20)
    order = cloud.order(order_id)
    assert order is not None
    detail = {
        "orderId": order_id,
        "customerId": customer,
        "lines": [{"sku": sku, "quantity": 1, "unitPrice": 250}],
        "total": {"amount": 250, "currency": "EUR"},
        "createdAt": order["createdAt"],
    }
    events = cloud.client("events")
    for _ in range(2):
        events.put_events(
            Entries=[
                {
                    "EventBusName": cloud.ref("OrdersEventBus"),
                    "Source": "order-saga.orders",
                    "DetailType": "OrderCreated",
                    "Detail": json.dumps(detail),
                }
            ]
        )

    mine = wait_for_executions(cloud, order_id, count=3)

    paths = sorted(cloud.saga_path(e["executionArn"])[-1] for e in mine)
    assert paths == ["Ignore duplicate start", "Ignore duplicate start", "Order confirmed"]
    assert stock(cloud, [sku]) == {sku: 9}
    assert balances(cloud, [customer]) == {customer: 10_000 - 250}


def wait_for_executions(cloud: SagaCloud, order_id: str, count: int) -> list[dict[str, object]]:
    import time

    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mine = []
        for execution in cloud.sagas():
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            if order_id in described["input"] and described["status"] != "RUNNING":
                mine.append(execution)
        if len(mine) >= count:
            return mine
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} finished executions for {order_id} after 20 s")
