"""200 orders race for 50 units of one SKU: exactly 50 win, 150 are out of stock, none is lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from order_saga_tools.demo import post_order
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import balances, seed, stock

from .conftest import ROOT

ORDERS, UNITS = 200, 50


@pytest.fixture(scope="module")
def race_cloud() -> Iterator[SagaCloud]:
    """A backlog of 200 sagas takes seconds to drain here, so the timers run at 1/5, not 1/500:
    the scaled visibility timeout (36 s) outlasts a slow batch and the heartbeat (192 s) the
    whole backlog, as the real ones do in AWS, even on a loaded machine."""
    with SagaCloud(ROOT, clock_scale=0.2) as running:
        yield running


def test_two_hundred_concurrent_orders_for_fifty_units_confirm_exactly_fifty(
    race_cloud: SagaCloud,
) -> None:
    drill_cloud = race_cloud
    customers = [f"CUST-RACE-{n:03d}" for n in range(ORDERS)]
    seed(drill_cloud, {"SKU-RACE": UNITS}, dict.fromkeys(customers, 10_000), "EUR")

    def place(customer: str) -> str:
        body = json.dumps(
            {"currency": "EUR", "lines": [{"sku": "SKU-RACE", "quantity": 1, "unitPrice": "9.99"}]}
        )
        response = post_order(drill_cloud, customer, body)
        assert response["statusCode"] == 202, response
        return str(json.loads(response["body"])["orderId"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        order_ids = list(pool.map(place, customers))
    results = [
        drill_cloud.wait_for_saga(order_id, timeout=120, with_path=False) for order_id in order_ids
    ]

    confirmed = [r for r in results if r.status == "CONFIRMED"]
    cancelled = [r for r in results if r.status == "CANCELLED"]
    assert len(confirmed) == UNITS
    assert len(cancelled) == ORDERS - UNITS
    assert {r.reason for r in cancelled} == {"OutOfStockError"}
    assert stock(drill_cloud, ["SKU-RACE"]) == {"SKU-RACE": 0}
    money = balances(drill_cloud, customers)
    assert sum(10_000 - left for left in money.values()) == UNITS * 999
    assert sorted(set(money.values())) == [10_000 - 999, 10_000]
