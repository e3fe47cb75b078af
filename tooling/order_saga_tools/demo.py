"""`order-saga demo`: four orders through the whole local system, one per outcome."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from localcloud import api
from order_saga_tools.faults import InjectedFaultError, plan_order_ids, wrap_port
from order_saga_tools.identity import caller_context
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import balances, seed, stock

STOCK = {"SKU-APPLE": 100, "SKU-PEAR": 3, "SKU-PLUM": 50}
CURRENCY = "EUR"
BALANCES = {"CUST-ALICE": 50_000, "CUST-BOB": 1_000, "CUST-CAROL": 30_000}  # minor units


@dataclass(frozen=True)
class Scenario:
    """One demo order: who buys what, and the outcome it shows."""

    name: str
    customer_id: str
    lines: tuple[tuple[str, int, str], ...]
    fault_at_confirm: bool = False

    def body(self) -> str:
        return json.dumps(
            {
                "currency": CURRENCY,
                "lines": [{"sku": s, "quantity": q, "unitPrice": p} for s, q, p in self.lines],
            }
        )


SCENARIOS = (
    Scenario("confirmed", "CUST-ALICE", (("SKU-APPLE", 2, "1.25"), ("SKU-PLUM", 1, "4.00"))),
    Scenario("out of stock", "CUST-ALICE", (("SKU-PEAR", 5, "2.00"),)),
    Scenario("payment declined", "CUST-BOB", (("SKU-PLUM", 10, "4.00"),)),
    Scenario("fails at confirm", "CUST-CAROL", (("SKU-APPLE", 3, "1.25"),), fault_at_confirm=True),
)


def http_event(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An HTTP API event for one of the saga's routes, as API Gateway hands it to a function."""
    route = "/orders/{orderId}" if path_parameters else path
    return api.http_event(
        method, path, body, headers, path_parameters, authorizer, route_key=f"{method} {route}"
    )


def post_order(
    cloud: SagaCloud,
    customer_id: str,
    body: str,
    key: str | None = None,
    order_id: str | None = None,
) -> dict[str, Any]:
    """POST /orders to CreateOrder as `customer_id` would through the API, token checked.

    With `order_id`, the order gets that id, so faults can be armed for it beforehand.
    """
    headers = {"Idempotency-Key": key} if key is not None else None
    event = http_event("POST", "/orders", body, headers, authorizer=caller_context(customer_id))
    if order_id is None:
        return dict(cloud.invoke("CreateOrderFunction", event))
    with plan_order_ids(cloud.container_of("CreateOrderFunction")).naming(order_id):
        return dict(cloud.invoke("CreateOrderFunction", event))


def run_demo(root: str = ".", clock_scale: float = 0.01, deadline: float = 20.0) -> dict[str, Any]:
    """Run the four scenarios and return what happened, with stock and balances in minor units."""
    started = time.perf_counter()
    with SagaCloud(root, clock_scale=clock_scale) as cloud:
        engine_ready = time.perf_counter() - started
        seed(cloud, STOCK, BALANCES, CURRENCY)
        before = {"stock": stock(cloud, STOCK), "balances": balances(cloud, BALANCES)}
        order_store = wrap_port(cloud.container_of("OrderWorkerFunction"), "orders")
        placed = []
        for number, scenario in enumerate(SCENARIOS, start=1):
            key = f"demo-{number}-{time.time_ns()}"
            order_id = str(uuid.uuid4())
            if scenario.fault_at_confirm:
                # The order is named in advance, so the fault is armed before its saga runs.
                order_store.inject(
                    "confirm", order_id, InjectedFaultError("the order store refused the write")
                )
            response = post_order(cloud, scenario.customer_id, scenario.body(), key, order_id)
            if response["statusCode"] != 202:
                raise RuntimeError(f"{scenario.name}: POST /orders answered {response}")
            placed.append((scenario, json.loads(response["body"])["orderId"]))
        results = []
        for scenario, order_id in placed:
            saga = cloud.wait_for_saga(order_id, timeout=deadline)
            results.append(
                {
                    "scenario": scenario.name,
                    "orderId": order_id,
                    "status": saga.status,
                    "reason": saga.reason,
                    "execution": saga.execution_status,
                    "path": list(saga.path),
                }
            )
        after = {"stock": stock(cloud, STOCK), "balances": balances(cloud, BALANCES)}
    return {
        "orders": results,
        "currency": CURRENCY,
        "before": before,
        "after": after,
        "engineStartSeconds": round(engine_ready, 3),
        "elapsedSeconds": round(time.perf_counter() - started, 3),
    }
