"""The four outcomes of an order, placed over HTTP at once, and the books read through the AWS APIs.

The failure after the charge needs no fault injection: the test cancels the order in its
table while the saga runs (between its claim and its confirm), as an operator might, so the
confirm fails for real and the saga refunds and releases. The write is conditional on the
order still running, so a saga that got there first just confirms and the test tries again.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from order_saga_tools.drills import SCENARIOS

from .system import ROOT, Customer, System, unique

PATHS: dict[str, list[str]] = yaml.safe_load((ROOT / SCENARIOS).read_text(encoding="utf-8"))[
    "paths"
]
INITIAL_STOCK = 10
RICH, POOR = 100_000, 100  # cents
UNIT_PRICE, QUANTITY = "2.50", 2
TOTAL = 500  # cents: QUANTITY x UNIT_PRICE
CANCEL_ATTEMPTS = 4
CANCELLED_BY_OPERATOR = "CancelledByOperator"


@dataclass
class Placed:
    """One outcome's orders (the last is the one checked), its SKU and its customer."""

    sku: str
    customer: Customer
    order_ids: list[str] = field(default_factory=list)
    order: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str
    reason: str | None
    path: str


OUTCOMES = [
    Outcome("confirmed", "CONFIRMED", None, "confirmed"),
    Outcome("out of stock", "CANCELLED", "OutOfStockError", "reserve-rejected"),
    Outcome("payment declined", "CANCELLED", "PaymentDeclinedError", "charge-rejected"),
    Outcome("cancelled while running", "CANCELLED", "OrderNotConfirmableError", "confirm-failed"),
]


def _lines(sku: str, quantity: int = QUANTITY) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity, "unitPrice": UNIT_PRICE}]


def _placed_id(system: System, customer: Customer, lines: list[dict[str, Any]]) -> str:
    answer = system.place(customer, lines)
    assert answer.status == 202, answer
    return str(answer.body["orderId"])


def _cancel_while_running(system: System, order_id: str) -> bool:
    """Cancel the order between the saga's claim and its confirm; False when the saga was first."""
    ddb, table = system.client("dynamodb"), system.stack.output("OrdersTableName")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = (system.item("OrdersTableName", {"orderId": order_id}) or {}).get("status")
        if status == "PENDING":
            continue
        if status != "RUNNING":
            return False
        try:
            ddb.update_item(
                TableName=table,
                Key={"orderId": {"S": order_id}},
                UpdateExpression="SET #s = :cancelled, reason = :reason",
                ConditionExpression="#s = :running",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":cancelled": {"S": "CANCELLED"},
                    ":reason": {"S": CANCELLED_BY_OPERATOR},
                    ":running": {"S": "RUNNING"},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
    return False


def _place_and_cancel_while_running(system: System, placed: Placed) -> None:
    for _ in range(CANCEL_ATTEMPTS):
        order_id = _placed_id(system, placed.customer, _lines(placed.sku))
        placed.order_ids.append(order_id)
        if _cancel_while_running(system, order_id):
            return
        system.wait_for_terminal(placed.customer, order_id)
    pytest.fail(f"the saga confirmed each of {CANCEL_ATTEMPTS} orders before it could be cancelled")


@pytest.fixture(scope="module")
def outcomes(system: System, customers: tuple[Customer, Customer]) -> dict[str, Placed]:
    rich, poor = customers
    placed = {
        "confirmed": Placed(unique("SKU"), rich),
        "out of stock": Placed(unique("SKU"), rich),
        "payment declined": Placed(unique("SKU"), poor),
        "cancelled while running": Placed(unique("SKU"), rich),
    }
    for each in placed.values():
        system.seed_stock(each.sku, INITIAL_STOCK)
    system.seed_balance(rich, RICH)
    system.seed_balance(poor, POOR)

    def place(name: str) -> None:
        each = placed[name]
        if name == "cancelled while running":
            _place_and_cancel_while_running(system, each)
        else:
            quantity = INITIAL_STOCK + 1 if name == "out of stock" else QUANTITY
            each.order_ids.append(_placed_id(system, each.customer, _lines(each.sku, quantity)))
        each.order = system.wait_for_terminal(each.customer, each.order_ids[-1])

    with ThreadPoolExecutor(max_workers=len(placed)) as pool:
        list(pool.map(place, placed))
    return placed


@pytest.mark.parametrize("outcome", OUTCOMES, ids=[o.name for o in OUTCOMES])
def test_each_outcome_ends_with_its_status_reason_and_saga_path(
    system: System, outcomes: dict[str, Placed], outcome: Outcome
) -> None:
    placed = outcomes[outcome.name]
    execution, path = system.execution(placed.order_ids[-1])
    output = json.loads(execution["output"])

    assert placed.order["status"] == outcome.status
    assert execution["status"] == "SUCCEEDED"
    assert (output["status"], output.get("reason")) == (outcome.status, outcome.reason)
    assert list(path) == PATHS[outcome.path]


def test_stock_is_conserved_for_every_sku(system: System, outcomes: dict[str, Placed]) -> None:
    for placed in outcomes.values():
        reservations = [system.reservation(order_id) for order_id in placed.order_ids]
        reserved = sum(
            int(line["quantity"])
            for record in reservations
            if record.get("status") == "RESERVED"
            for line in record["lines"]
            if line["sku"] == placed.sku
        )

        assert INITIAL_STOCK == system.available(placed.sku) + reserved, placed.sku


def test_money_is_conserved_for_every_customer(
    system: System, outcomes: dict[str, Placed], customers: tuple[Customer, Customer]
) -> None:
    for customer, initial in zip(customers, (RICH, POOR), strict=True):
        charges = [
            system.charge(order_id)
            for placed in outcomes.values()
            if placed.customer == customer
            for order_id in placed.order_ids
        ]
        taken = [c for c in charges if c.get("status") in {"CHARGED", "REFUNDED"}]
        charged = sum(int(c["amount"]) for c in taken)
        refunded = sum(int(c.get("refunded", 0)) for c in charges)

        assert initial == system.balance(customer) + charged - refunded, customer.customer_id


def test_a_confirmed_order_holds_its_stock_and_money_and_a_cancelled_one_neither(
    system: System, outcomes: dict[str, Placed]
) -> None:
    held = {
        name: (
            system.reservation(placed.order_ids[-1]).get("status"),
            system.charge(placed.order_ids[-1]).get("status"),
        )
        for name, placed in outcomes.items()
    }

    assert held == {
        "confirmed": ("RESERVED", "CHARGED"),
        "out of stock": (None, None),
        "payment declined": ("RELEASED", None),
        "cancelled while running": ("RELEASED", "REFUNDED"),
    }


def test_the_order_cancelled_while_running_was_charged_then_refunded_in_full(
    system: System, outcomes: dict[str, Placed]
) -> None:
    placed = outcomes["cancelled while running"]
    charge = system.charge(placed.order_ids[-1])

    assert (int(charge["amount"]), int(charge["refunded"])) == (TOTAL, TOTAL)
    assert placed.order["reason"] == CANCELLED_BY_OPERATOR
