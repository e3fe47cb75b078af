"""Two customers attack each other's orders through the HTTP API; nothing of either moves.

Each customer places an order of their own, then tries to read, charge and replay the
other's: read it by id, place an order whose body names the other, replay the other's
Idempotency-Key with the other's exact body, and send a token for the other signed with a
key the API does not trust. Afterwards: 0 reads, 0 charges and 0 orders in the other's
name; each balance moved by the customer's own orders only.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from localcloud.api import serving
from order_saga_tools.identity import LOCAL_AUDIENCE, LOCAL_ISSUER, mint
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import balances, seed, stock

ROOT = Path(__file__).resolve().parents[2]
BALANCE = 10_000
STOCK = 100
PRICE_CENTS = 400


@pytest.fixture(scope="module")
def api(drill_cloud: SagaCloud) -> Iterator[str]:
    with serving(drill_cloud) as url:
        yield url


def call(
    url: str, token: str, method: str = "GET", body: str | None = None, key: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    if key is not None:
        headers["idempotency-key"] = key
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def order_body(sku: str, quantity: int, customer: str | None = None) -> str:
    body: dict[str, Any] = {
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unitPrice": f"{PRICE_CENTS / 100:.2f}"}],
    }
    if customer is not None:
        body["customerId"] = customer
    return json.dumps(body)


def orders_of(cloud: SagaCloud, customer: str) -> dict[str, str]:
    """Order id to status, for every stored order of the customer."""
    items = cloud.client("dynamodb").scan(
        TableName=cloud.ref("OrdersTable"),
        FilterExpression="customerId = :c",
        ExpressionAttributeValues={":c": {"S": customer}},
        ConsistentRead=True,
    )["Items"]
    return {item["orderId"]["S"]: item["status"]["S"] for item in items}


def wait_terminal(cloud: SagaCloud, order_ids: list[str]) -> None:
    for order_id in order_ids:
        cloud.wait_for_saga(order_id, timeout=30, with_path=False)


def forged_token(customer: str) -> str:
    """A well-formed token for `customer`, signed with a key the API does not know."""
    now = int(time.time())
    claims = {"sub": customer, "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "exp": now + 600}
    return jwt.encode(claims, uuid.uuid4().hex * 2, algorithm="HS256")


def test_two_customers_cannot_read_charge_or_replay_each_others_orders(
    drill_cloud: SagaCloud, api: str
) -> None:
    suffix = uuid.uuid4().hex[:8].upper()
    alice, bob, sku = f"CUST-ALICE-{suffix}", f"CUST-BOB-{suffix}", f"SKU-OWN-{suffix}"
    seed(drill_cloud, {sku: STOCK}, {alice: BALANCE, bob: BALANCE}, "EUR")
    tokens = {alice: mint(ROOT, alice), bob: mint(ROOT, bob)}
    quantities = {alice: 1, bob: 2}
    keys = {alice: f"own-{uuid.uuid4()}", bob: f"own-{uuid.uuid4()}"}
    own: dict[str, list[str]] = {alice: [], bob: []}

    # Each places an order of their own, with an Idempotency-Key.
    for customer in (alice, bob):
        body = order_body(sku, quantities[customer])
        status, answer = call(f"{api}/orders", tokens[customer], "POST", body, keys[customer])
        assert status == 202, answer
        own[customer].append(str(answer["orderId"]))
    wait_terminal(drill_cloud, own[alice] + own[bob])
    unknown = call(f"{api}/orders/{uuid.uuid4()}", tokens[alice])

    reads = charges = impersonations = 0
    for attacker, victim in ((bob, alice), (alice, bob)):
        token = tokens[attacker]
        victim_order = own[victim][0]
        # Read the other's order: the same answer as for an id that does not exist.
        answer = call(f"{api}/orders/{victim_order}", token)
        assert answer == (404, unknown[1])
        reads += answer[0] == 200
        # Charge the other: a body that names them.
        status, refused = call(
            f"{api}/orders", token, "POST", order_body(sku, 1, customer=victim)
        )
        assert status == 403, refused
        assert refused["errors"][0]["field"] == "customerId"
        charges += status == 202
        # Replay the other's Idempotency-Key with the other's body: the attacker's own order.
        body = order_body(sku, quantities[victim])
        status, replayed = call(f"{api}/orders", token, "POST", body, keys[victim])
        assert status == 202, replayed
        assert replayed["orderId"] not in own[victim]
        own[attacker].append(str(replayed["orderId"]))
        # Claim to be the other with a token the API does not trust.
        status, _ = call(f"{api}/orders", forged_token(victim), "POST", order_body(sku, 1))
        assert status == 401
        impersonations += status == 202
    wait_terminal(drill_cloud, own[alice][1:] + own[bob][1:])

    assert (reads, charges, impersonations) == (0, 0, 0)
    for customer in (alice, bob):
        stored = orders_of(drill_cloud, customer)
        assert set(stored) == set(own[customer]), "no order was created in the other's name"
        assert set(stored.values()) == {"CONFIRMED"}
    # Every balance moved by the customer's own orders only: the original and the replay.
    spent = {
        alice: (quantities[alice] + quantities[bob]) * PRICE_CENTS,
        bob: (quantities[bob] + quantities[alice]) * PRICE_CENTS,
    }
    assert balances(drill_cloud, [alice, bob]) == {c: BALANCE - spent[c] for c in (alice, bob)}
    units = 2 * (quantities[alice] + quantities[bob])
    assert stock(drill_cloud, [sku]) == {sku: STOCK - units}


def test_a_replayed_key_returns_the_callers_first_order_from_the_stored_record(
    drill_cloud: SagaCloud, api: str
) -> None:
    customer = f"CUST-REPLAY-{uuid.uuid4().hex[:8].upper()}"
    sku = f"SKU-{customer}"
    seed(drill_cloud, {sku: STOCK}, {customer: BALANCE}, "EUR")
    token, key, body = mint(ROOT, customer), f"replay-{uuid.uuid4()}", order_body(sku, 1)

    first = call(f"{api}/orders", token, "POST", body, key)
    second = call(f"{api}/orders", token, "POST", body, key)
    other_body = call(f"{api}/orders", token, "POST", order_body(sku, 2), key)

    assert first[0] == 202 and second == first
    assert other_body[0] == 409
    wait_terminal(drill_cloud, [str(first[1]["orderId"])])
    assert list(orders_of(drill_cloud, customer)) == [first[1]["orderId"]]
    assert balances(drill_cloud, [customer]) == {customer: BALANCE - PRICE_CENTS}
