"""`order-saga local start-api` answers real HTTP requests with the whole system behind it."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest

from localcloud.api import serving
from order_saga_tools.identity import LOCAL_AUDIENCE, LOCAL_ISSUER, mint, signing_key
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import seed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base_url(cloud: SagaCloud) -> Iterator[str]:
    with serving(cloud) as url:
        yield url


def request(
    url: str,
    method: str = "GET",
    body: dict[str, object] | None = None,
    customer: str | None = "CUST-API-1",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    """One request; with `customer`, a valid local token for that customer."""
    data = json.dumps(body).encode() if body is not None else None
    sent = {"content-type": "application/json", **(headers or {})}
    if customer is not None:
        sent["authorization"] = f"Bearer {mint(ROOT, customer)}"
    req = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def what_the_saga_left(cloud: SagaCloud, order_id: str) -> dict[str, object]:
    """For a failure message: the order's executions (status, error, cause, path) and the
    cloud's failed deliveries, read without waiting, whatever state the saga is in."""
    client = cloud.client("stepfunctions")
    executions = []
    for listed in cloud.executions("OrderSagaStateMachine"):
        described = client.describe_execution(executionArn=listed["executionArn"])
        if order_id in described.get("input", ""):
            history = client.get_execution_history(executionArn=listed["executionArn"])
            executions.append({
                **{key: described.get(key) for key in ("status", "error", "cause")},
                "path": list(cloud.saga_path(listed["executionArn"])),
                "failures": [details for event in history["events"] for name, details in
                             event.items() if name.endswith("FailedEventDetails")],
            })
    return {"executions": executions, "deliveryFailures": cloud.delivery_failures}


def test_post_starts_a_real_saga_and_get_shows_it_reach_its_end(
    cloud: SagaCloud, base_url: str
) -> None:
    seed(cloud, {"SKU-API-1": 5}, {"CUST-API-1": 10_000}, "EUR")
    status, body = request(
        f"{base_url}/orders",
        "POST",
        {
            "currency": "EUR",
            "lines": [{"sku": "SKU-API-1", "quantity": 2, "unitPrice": "3.00"}],
        },
    )
    assert status == 202 and body["status"] == "PENDING"
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        status, order = request(f"{base_url}/orders/{body['orderId']}")
        assert status == 200
        seen.append(order["status"])
        if order["status"] in {"CONFIRMED", "CANCELLED", "COMPENSATION_FAILED"}:
            break
        time.sleep(0.02)
    assert seen[-1] == "CONFIRMED", (seen[-3:], what_the_saga_left(cloud, str(body["orderId"])))
    assert order["total"] == {"amount": "6.00", "currency": "EUR"}


def test_the_api_answers_400_404_and_405_like_api_gateway(base_url: str) -> None:
    assert request(f"{base_url}/orders", "POST", {"lines": "x"})[0] == 400
    assert request(f"{base_url}/orders/not-a-uuid")[0] == 400
    assert request(f"{base_url}/orders/7c9e6679-7425-40de-944b-e07fc1f90ae7")[0] == 404
    assert request(f"{base_url}/nowhere")[0] == 404
    assert request(f"{base_url}/orders", "DELETE")[0] == 405



def forged(claims: dict[str, object], key: bytes | None = None, algorithm: str = "HS256") -> str:
    now = int(time.time())
    base = {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": now, "exp": now + 60}
    signer = None if algorithm == "none" else key or signing_key(ROOT)
    return jwt.encode({**base, **claims}, signer, algorithm=algorithm)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("CUST-API-1", id="not-a-bearer-token"),
        pytest.param("Bearer ", id="empty-token"),
        pytest.param("Bearer not.a.jwt", id="garbage"),
        pytest.param("Basic Q1VTVDpwYXNz", id="basic-auth"),
        pytest.param(f"Bearer {forged({'sub': 'CUST-API-1'}, key=b'k' * 64)}", id="other-key"),
        pytest.param(f"Bearer {forged({'sub': 'CUST-API-1', 'exp': 1})}", id="expired"),
        pytest.param(f"Bearer {forged({'sub': 'CUST-API-1', 'aud': 'other'})}", id="wrong-aud"),
        pytest.param(f"Bearer {forged({'sub': 'CUST-API-1', 'iss': 'https://x'})}", id="wrong-iss"),
        pytest.param(f"Bearer {forged({'sub': 'CUST-API-1'}, algorithm='none')}", id="alg-none"),
        pytest.param(f"Bearer {forged({'name': 'no subject'})}", id="no-sub-claim"),
    ],
)
@pytest.mark.parametrize("route", ["POST /orders", "GET /orders/{id}"])
def test_a_request_without_a_valid_token_gets_401_and_stores_nothing(
    cloud: SagaCloud, base_url: str, authorization: str | None, route: str
) -> None:
    before = cloud.client("dynamodb").scan(TableName=cloud.ref("OrdersTable"))["Count"]
    headers = {"authorization": authorization} if authorization is not None else {}
    body = {"currency": "EUR", "lines": [{"sku": "SKU-API-1", "quantity": 1, "unitPrice": "1.00"}]}
    if route == "POST /orders":
        status, answer = request(f"{base_url}/orders", "POST", body, None, headers)
    else:
        status, answer = request(f"{base_url}/orders/{uuid.uuid4()}", "GET", None, None, headers)

    assert (status, answer) == (401, {"message": "Unauthorized"})
    assert cloud.client("dynamodb").scan(TableName=cloud.ref("OrdersTable"))["Count"] == before


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-content-type"),
        pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="curl-d-default"),
    ],
)
def test_a_post_without_a_json_content_type_is_a_415_as_api_gateway_passes_headers_as_sent(
    base_url: str, headers: dict[str, str]
) -> None:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=10)
    body = json.dumps({"currency": "EUR", "lines": []})
    try:
        token = {"authorization": f"Bearer {mint(ROOT, 'CUST-API-1')}"}
        connection.request("POST", "/orders", body, {**token, **headers})
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
    finally:
        connection.close()

    assert status == 415
    assert [error["field"] for error in answer["errors"]] == ["Content-Type"]
