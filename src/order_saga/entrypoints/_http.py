"""HTTP API (payload format 2.0) requests and responses, without a web framework."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from order_saga.domain.errors import FieldError, ValidationError
from order_saga.domain.model import Order


def body_of(event: dict[str, Any]) -> str | None:
    """The request body as text, decoding base64 the way API Gateway may deliver it."""
    body = event.get("body")
    if body is None or not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError([FieldError("body", "is not UTF-8 text")]) from exc


def header(event: dict[str, Any], name: str) -> str | None:
    """A request header; HTTP APIs deliver header names in lower case."""
    headers = event.get("headers") or {}
    value = headers.get(name.lower())
    return None if value is None else str(value)


def respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def invalid(error: ValidationError) -> dict[str, Any]:
    return respond(
        400, {"message": "invalid request", "errors": [e.to_dict() for e in error.errors]}
    )


def internal_error() -> dict[str, Any]:
    return respond(500, {"message": "internal error"})


def order_view(order: Order) -> dict[str, Any]:
    """An order as GET /orders/{orderId} shows it."""
    return {
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "status": order.status.value,
        "reason": order.reason,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unitPrice": line.unit_price.to_decimal_string(),
            }
            for line in order.lines
        ],
        "total": {"amount": order.total.to_decimal_string(), "currency": order.currency},
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
    }
