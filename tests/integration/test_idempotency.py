"""An Idempotency-Key replay over HTTP: the same order back, another body refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .system import Customer, System, unique

UNITS, BALANCE = 5, 10_000
TOTAL = 300  # cents: one unit at 3.00


def _lines(sku: str, quantity: int = 1) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity, "unitPrice": "3.00"}]


@pytest.mark.parametrize(
    ("second_quantity", "second_status"),
    [pytest.param(1, 202, id="same body"), pytest.param(2, 409, id="other body")],
)
def test_a_repeated_key_returns_the_first_order_for_its_body_a_409_for_another_and_charges_once(
    system: System, customers: tuple[Customer, Customer], second_quantity: int, second_status: int
) -> None:
    customer, _ = customers
    sku, key = unique("SKU"), uuid.uuid4().hex
    system.seed_stock(sku, UNITS)
    system.seed_balance(customer, BALANCE)

    first = system.place(customer, _lines(sku), key)
    second = system.place(customer, _lines(sku, second_quantity), key)
    system.wait_for_terminal(customer, first.body["orderId"])

    assert (first.status, second.status) == (202, second_status)
    if second_status == 202:
        assert second.body["orderId"] == first.body["orderId"]
    assert system.balance(customer) == BALANCE - TOTAL
    assert system.available(sku) == UNITS - 1
