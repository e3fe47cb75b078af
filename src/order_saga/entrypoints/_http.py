"""HTTP API (payload format 2.0) requests and responses, without a web framework."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from order_saga.domain.errors import (
    FieldError,
    NotAuthenticatedError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from order_saga.domain.model import Order

# application/json, or a JSON type with a name of its own such as application/merge-patch+json.
JSON_MEDIA_TYPE = re.compile(r"application/(?:[a-z0-9][a-z0-9!#$&^_.+-]*\+)?json\Z")
# A caller's X-Correlation-Id is used only when it is a token a log search can take as it is.
CORRELATION_ID = re.compile(r"^[\x21-\x7e]{1,128}\Z")
# What a customer id taken from an identity may look like: a JWT subject, a Cognito identity
# id or an IAM principal's ARN all fit; control characters and blanks never do.
CALLER_ID = re.compile(r"^[\x21-\x7e]{1,256}\Z")


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


def caller_of(event: dict[str, Any], claim: str) -> str:
    """The customer making the request, as the API's authorizer vouched for it.

    JWT authorizer: the value of `claim` among the token's claims. IAM authorizer: the
    Cognito identity id when the request was signed with Cognito identity pool credentials,
    else the caller's principal ARN (`userArn`: an IAM user, or an assumed-role session).
    Nothing in the body or the headers counts: API Gateway alone writes requestContext.
    """
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    value: Any = None
    if isinstance(authorizer.get("jwt"), dict):
        value = (authorizer["jwt"].get("claims") or {}).get(claim)
    elif isinstance(authorizer.get("iam"), dict):
        iam = authorizer["iam"]
        value = (iam.get("cognitoIdentity") or {}).get("identityId") or iam.get("userArn")
    if not isinstance(value, str) or not CALLER_ID.match(value):
        raise NotAuthenticatedError("the request carries no identity from the API's authorizer")
    return value


def caller_correlation_id(event: dict[str, Any]) -> str | None:
    """The caller's X-Correlation-Id when it is 1-128 printable ASCII characters, else None."""
    value = header(event, "X-Correlation-Id")
    return value if value is not None and CORRELATION_ID.match(value) else None


def request_id(event: dict[str, Any]) -> str:
    """The id API Gateway gave the request."""
    return str((event.get("requestContext") or {}).get("requestId") or "")


def require_json(event: dict[str, Any]) -> None:
    """Refuse (415) a request that does not say its body is JSON in UTF-8, or says nothing."""
    content_type = header(event, "Content-Type")
    if content_type is None:
        raise UnsupportedMediaTypeError(
            [FieldError("Content-Type", "is required: application/json")]
        )
    media_type, *parameters = content_type.split(";")
    charset = "utf-8"
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if not JSON_MEDIA_TYPE.match(media_type.strip().lower()) or charset != "utf-8":
        raise UnsupportedMediaTypeError(
            [FieldError("Content-Type", "must be application/json or application/*+json, UTF-8")]
        )


def respond(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


def invalid(error: ValidationError) -> dict[str, Any]:
    errors = [e.to_dict() for e in error.errors]
    if isinstance(error, UnsupportedMediaTypeError):
        return respond(415, {"message": "unsupported media type", "errors": errors})
    return respond(400, {"message": "invalid request", "errors": errors})


def unauthorized() -> dict[str, Any]:
    """What API Gateway itself answers a request without a valid identity."""
    return respond(401, {"message": "Unauthorized"})


def forbidden(field: str, message: str) -> dict[str, Any]:
    """The caller may not do this; the same shape as a 400, naming the field at fault."""
    return respond(
        403, {"message": "forbidden", "errors": [FieldError(field, message).to_dict()]}
    )


def not_found() -> dict[str, Any]:
    """One answer for an unknown order and for another customer's: ids reveal nothing."""
    return respond(404, {"message": "order not found"})


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
