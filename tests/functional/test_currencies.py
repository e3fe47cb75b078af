"""An order keeps its currency's minor units in the table, in its view and in the ledger."""

from __future__ import annotations

import json
import uuid

import pytest

from order_saga_tools.demo import http_event, post_order
from order_saga_tools.identity import caller_context
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import balances, seed

BALANCE = 1_000_000
QUANTITY = 2


@pytest.mark.parametrize(
    ("currency", "unit_price", "minor_units", "shown_price", "shown_total"),
    [
        pytest.param("JPY", "1500", 1500, "1500", "3000", id="JPY-no-decimals"),
        pytest.param("EUR", "12.5", 1250, "12.50", "25.00", id="EUR-two-decimals"),
        pytest.param("KWD", "1.234", 1234, "1.234", "2.468", id="KWD-three-decimals"),
    ],
)
def test_an_order_is_stored_shown_and_charged_in_the_minor_units_of_its_currency(
    cloud: SagaCloud,
    currency: str,
    unit_price: str,
    minor_units: int,
    shown_price: str,
    shown_total: str,
) -> None:
    suffix = uuid.uuid4().hex[:8].upper()
    customer, sku = f"CUST-{suffix}", f"SKU-{suffix}"
    seed(cloud, {sku: 10}, {customer: BALANCE}, currency)
    body = {
        "currency": currency,
        "lines": [{"sku": sku, "quantity": QUANTITY, "unitPrice": unit_price}],
    }
    total = minor_units * QUANTITY

    placed = post_order(cloud, customer, json.dumps(body))
    assert placed["statusCode"] == 202, placed
    order_id = json.loads(placed["body"])["orderId"]
    assert cloud.wait_for_saga(order_id, with_path=False).status == "CONFIRMED"

    stored = cloud.order(order_id) or {}
    assert (stored["currency"], stored["lines"][0]["unitPrice"], stored["total"]) == (
        currency,
        minor_units,
        total,
    )
    view = json.loads(
        cloud.invoke(
            "GetOrderFunction",
            http_event(
                "GET",
                f"/orders/{order_id}",
                path_parameters={"orderId": order_id},
                authorizer=caller_context(customer),
            ),
        )["body"]
    )
    assert view["lines"][0]["unitPrice"] == shown_price
    assert view["total"] == {"amount": shown_total, "currency": currency}
    charge = cloud.item("PaymentsTable", {"pk": f"CHARGE#{order_id}"}) or {}
    assert (charge["amount"], charge["currency"]) == (total, currency)
    assert balances(cloud, [customer]) == {customer: BALANCE - total}
