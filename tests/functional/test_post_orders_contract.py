"""POST /orders at its handler: the Content-Type it reads, and the bodies it refuses whole."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from order_saga_tools.demo import http_event
from order_saga_tools.faults import wrap_port
from order_saga_tools.identity import caller_context
from order_saga_tools.saga import SagaCloud

VALID_BODY = json.dumps(
    {
        "customerId": "CUST-CONTRACT",
        "currency": "EUR",
        "lines": [{"sku": "SKU-CONTRACT", "quantity": 1, "unitPrice": "1.00"}],
    }
)


def post(cloud: SagaCloud, body: str, content_type: str | None, key: str | None = None) -> Any:
    event = http_event(
        "POST",
        "/orders",
        body,
        {"Idempotency-Key": key} if key else None,
        authorizer=caller_context("CUST-CONTRACT"),
    )
    if content_type is None:
        del event["headers"]["content-type"]
    else:
        event["headers"]["content-type"] = content_type
    return cloud.invoke("CreateOrderFunction", event)


def count_items(cloud: SagaCloud, table: str) -> int:
    return int(cloud.client("dynamodb").scan(TableName=cloud.ref(table), Select="COUNT")["Count"])


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'APPLICATION/JSON;Charset="UTF-8"',
        "application/vnd.order-saga.order+json",
        "application/merge-patch+json ; charset=UTF-8",
    ],
)
def test_json_in_any_accepted_spelling_gets_past_the_content_type_to_the_body_checks(
    cloud: SagaCloud, content_type: str
) -> None:
    response = post(cloud, '{"customerId": 1}', content_type)

    assert response["statusCode"] == 400, response


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("application/x-www-form-urlencoded", id="curl-d-default"),
        pytest.param("text/plain", id="text"),
        pytest.param("text/json", id="text-json"),
        pytest.param("application/xml", id="xml"),
        pytest.param("application/jsonp", id="jsonp"),
        pytest.param("application/json-seq", id="json-seq"),
        pytest.param("application/+json", id="empty-subtype-prefix"),
        pytest.param("application/json; charset=iso-8859-1", id="not-utf-8"),
        pytest.param("application/json, text/plain", id="two-types"),
    ],
)
def test_any_other_content_type_is_a_415_before_the_body_is_read_and_leaves_no_trace(
    cloud: SagaCloud, content_type: str | None
) -> None:
    publisher = wrap_port(cloud.container_of("CreateOrderFunction"), "publisher")
    published, orders, keys = (
        len(publisher.calls),
        count_items(cloud, "OrdersTable"),
        count_items(cloud, "IdempotencyTable"),
    )

    refused = post(cloud, VALID_BODY, content_type, key=uuid.uuid4().hex)
    unreadable = post(cloud, "{not json", content_type)

    for response in (refused, unreadable):
        assert response["statusCode"] == 415, response
        answer = json.loads(response["body"])
        assert answer["message"] == "unsupported media type"
        assert [error["field"] for error in answer["errors"]] == ["Content-Type"]
        assert all(error["message"] for error in answer["errors"])
    assert len(publisher.calls) == published
    assert count_items(cloud, "OrdersTable") == orders
    assert count_items(cloud, "IdempotencyTable") == keys


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            VALID_BODY.replace('"currency": "EUR"', '"currency": "EUR", "currency": "USD"'),
            "currency",
            id="top-level",
        ),
        pytest.param(
            VALID_BODY.replace('"quantity": 1', '"quantity": 1, "quantity": 1000'),
            "lines[0].quantity",
            id="inside-a-line",
        ),
    ],
)
def test_a_body_that_repeats_a_key_is_a_400_naming_it_in_the_usual_error_shape(
    cloud: SagaCloud, body: str, field: str
) -> None:
    orders = count_items(cloud, "OrdersTable")

    response = post(cloud, body, "application/json")

    assert response["statusCode"] == 400, response
    assert json.loads(response["body"]) == {
        "message": "invalid request",
        "errors": [{"field": field, "message": "appears more than once"}],
    }
    assert count_items(cloud, "OrdersTable") == orders
