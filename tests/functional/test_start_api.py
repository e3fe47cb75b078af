"""`order-saga local start-api` answers real HTTP requests with the whole system behind it."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from order_saga.local.api import serve
from order_saga.local.cloud import LocalCloud
from order_saga.local.seeding import seed


@pytest.fixture(scope="module")
def base_url(cloud: LocalCloud) -> Iterator[str]:
    server = serve(cloud, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def request(
    url: str, method: str = "GET", body: dict[str, object] | None = None
) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_post_starts_a_real_saga_and_get_shows_it_reach_its_end(
    cloud: LocalCloud, base_url: str
) -> None:
    seed(cloud, {"SKU-API-1": 5}, {"CUST-API-1": 10_000}, "EUR")
    status, body = request(
        f"{base_url}/orders",
        "POST",
        {
            "customerId": "CUST-API-1",
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
    assert seen[-1] == "CONFIRMED", seen
    assert order["total"] == {"amount": "6.00", "currency": "EUR"}


def test_the_api_answers_400_404_and_405_like_api_gateway(base_url: str) -> None:
    assert request(f"{base_url}/orders", "POST", {"customerId": "x"})[0] == 400
    assert request(f"{base_url}/orders/not-a-uuid")[0] == 400
    assert request(f"{base_url}/orders/7c9e6679-7425-40de-944b-e07fc1f90ae7")[0] == 404
    assert request(f"{base_url}/nowhere")[0] == 404
    assert request(f"{base_url}/orders", "DELETE")[0] == 405


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
    body = json.dumps({"customerId": "CUST-API-1", "currency": "EUR", "lines": []})
    try:
        connection.request("POST", "/orders", body, headers)
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
    finally:
        connection.close()

    assert status == 415
    assert [error["field"] for error in answer["errors"]] == ["Content-Type"]
