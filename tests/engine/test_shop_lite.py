"""shop-lite through the engine's public interface: every kind of resource it declares runs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from localcloud.api import LocalApi
from localcloud.cloud import LocalCloud

from .conftest import SHOP

JSON = {"content-type": "application/json"}


def place(shop: LocalCloud, *lines: tuple[str, int, int]) -> tuple[int, dict[str, Any]]:
    body = {"lines": [{"sku": s, "quantity": q, "priceCents": p} for s, q, p in lines]}
    status, _, answer = LocalApi(shop).handle("POST", "/orders", dict(JSON), json.dumps(body))
    return status, json.loads(answer)


def eventually(read: Callable[[], Any], timeout: float = 20.0) -> Any:
    """The first truthy value `read` returns before the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"nothing after {timeout} s")


def reviewed(shop: LocalCloud, order_id: str) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        item = shop.item("OrdersTable", {"orderId": order_id})
        return item if item and item["status"] != "STORED" else None

    return dict(eventually(read))


def path_of(shop: LocalCloud, order_id: str) -> tuple[str, ...]:
    def read() -> str | None:
        for execution in shop.executions("ReviewStateMachine"):
            described = shop.client("stepfunctions").describe_execution(
                executionArn=execution["executionArn"]
            )
            if order_id in described["input"] and execution["status"] != "RUNNING":
                return str(execution["executionArn"])
        return None

    return shop.execution_path(eventually(read))


def test_a_small_order_goes_from_the_http_api_through_the_queue_to_an_approving_review(
    shop: LocalCloud,
) -> None:
    status, answer = place(shop, ("PEN", 3, 150))

    assert status == 202 and answer["route"] == "POST /orders"
    item = reviewed(shop, answer["orderId"])
    assert item["status"] == "APPROVED" and item["totalCents"] == 450
    assert path_of(shop, answer["orderId"]) == ("Price order", "Is it large?", "Approve order")


def test_a_large_order_is_held_and_the_topics_subscriber_hears_of_it(shop: LocalCloud) -> None:
    _, answer = place(shop, ("DESK", 1, 25_000), ("PEN", 2, 150))

    item = reviewed(shop, answer["orderId"])
    announced = eventually(
        lambda: shop.item("OrdersTable", {"orderId": answer["orderId"]}).get("announcedOn")  # type: ignore[union-attr]
    )
    assert item["status"] == "IN_REVIEW" and item["totalCents"] == 25_300
    assert announced == shop.ref("LargeOrdersTopic")
    assert path_of(shop, answer["orderId"])[-2:] == ("Hold for review", "Announce large order")


def test_the_rest_api_hands_the_function_a_payload_1_0_event(shop: LocalCloud) -> None:
    _, answer = place(shop, ("PEN", 1, 150))
    reviewed(shop, answer["orderId"])

    status, _, body = LocalApi(shop).handle("GET", f"/orders/{answer['orderId']}", {}, None)
    missing, _, _ = LocalApi(shop).handle("GET", "/orders/no-such-order", {}, None)

    assert status == 200 and missing == 404
    assert json.loads(body) == {
        "orderId": answer["orderId"],
        "status": "APPROVED",
        "totalCents": 150,
        "resource": "/orders/{orderId}",
        "method": "GET",
    }


def test_the_bad_request_of_a_function_is_its_own_answer_and_an_unknown_route_is_404(
    shop: LocalCloud,
) -> None:
    api = LocalApi(shop)

    bad, _, _ = api.handle("POST", "/orders", dict(JSON), "not json")
    unknown, _, _ = api.handle("GET", "/nothing", {}, None)
    wrong_method, _, _ = api.handle("DELETE", "/orders", {}, None)

    assert (bad, unknown, wrong_method) == (400, 404, 405)


def test_functions_of_different_code_folders_each_import_their_own_app_module(
    shop: LocalCloud,
) -> None:
    place_order = shop.handler_module("PlaceOrderFunction")
    store_orders = shop.handler_module("StoreOrderFunction")

    assert place_order.__name__ == store_orders.__name__ == "app"
    assert place_order.__file__ == str(SHOP / "src" / "api" / "app.py")
    assert store_orders.__file__ == str(SHOP / "src" / "worker" / "app.py")
    assert hasattr(place_order, "place_order") and not hasattr(place_order, "store_orders")


def test_both_kinds_of_schedule_fire_on_the_scaled_clock_with_their_own_input(
    shop: LocalCloud,
) -> None:
    assert shop.scheduler is not None
    before = dict(shop.scheduler.fired)

    def ticks(source: str) -> int:
        item = shop.item("OrdersTable", {"orderId": f"ticks-{source}"})
        return int(item["ticks"]) if item else 0

    # rate(1 minute) and rate(2 minutes) at 1/50: every 1.2 s and every 2.4 s.
    eventually(lambda: ticks("scheduler") >= 1 and ticks("aws.events") >= 2, timeout=15)
    fired = {k: shop.scheduler.fired[k] - before[k] for k in before}

    assert fired["CountTicksFunctionEveryMinute"] >= fired["CountTicksFunctionEveryTwoMinutes"]
    assert ticks("unknown") == 0  # a rule's Scheduled Event names its source, aws.events


def test_what_the_engine_does_not_emulate_is_named_once(shop: LocalCloud) -> None:
    assert shop.deployment.startup_lines() == [
        "not emulated: LargeOrdersTopicPolicy (AWS::SNS::TopicPolicy)"
    ]
