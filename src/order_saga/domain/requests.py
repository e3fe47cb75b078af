"""The API's request contract: turn a POST /orders body into a PlaceOrder, or say what is wrong."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from order_saga.domain.errors import CustomerMismatchError, FieldError, ValidationError
from order_saga.domain.model import Money, OrderLine, minor_units

MAX_BODY_BYTES = 16 * 1024
MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_UNIT_PRICE = Decimal("100000.00")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}\Z")
ORDER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}\Z")


@dataclass(frozen=True)
class PlaceOrder:
    """A customer's request to buy the given lines; the customer is the authenticated caller."""

    customer_id: str
    lines: tuple[OrderLine, ...]


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers the keys it held more than once."""

    repeated: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        decoded = cls(pairs)
        if len(decoded) < len(pairs):
            counts = Counter(key for key, _ in pairs)
            decoded.repeated = tuple(key for key, count in counts.items() if count > 1)
        return decoded


def _repeated_keys(body: Any) -> list[FieldError]:
    """Every key an object of the body repeats, named by its path, in document order."""
    errors: list[FieldError] = []
    # A stack, not recursion: a body nested almost to the decoder's limit must not overflow here.
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, _JsonObject):
            errors.extend(
                FieldError(f"{where}.{key}" if where else key, "appears more than once")
                for key in value.repeated
            )
            children = [(f"{where}.{key}" if where else key, item) for key, item in value.items()]
        elif isinstance(value, list):
            children = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
        else:
            continue
        pending.extend(reversed(children))
    return errors


def _decode(raw: str | bytes | None) -> Any:
    if raw is None or raw == "" or raw == b"":
        raise ValidationError([FieldError("body", "is required")])
    # surrogatepass: a lone surrogate in the text is the caller's error (400), not a crash (500).
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_BODY_BYTES:
        raise ValidationError([FieldError("body", f"is {size} bytes, more than {MAX_BODY_BYTES}")])
    try:
        body = json.loads(raw, parse_float=Decimal, object_pairs_hook=_JsonObject.from_pairs)
    except (ValueError, RecursionError) as exc:
        raise ValidationError([FieldError("body", "is not valid JSON")]) from exc
    # json keeps the last of two equal keys; another parser may keep the first: refuse both.
    repeated = _repeated_keys(body)
    if repeated:
        raise ValidationError(repeated)
    return body


def _currency(value: Any, errors: list[FieldError]) -> tuple[str, int] | None:
    """The currency and its decimal places, or None once what is wrong with it is listed."""
    try:
        places = minor_units(value if isinstance(value, str) else "")
    except ValueError:
        errors.append(FieldError("currency", "must be an ISO 4217 code such as EUR"))
        return None
    if places is None:
        errors.append(
            FieldError("currency", f"must be a currency with minor units such as EUR, not {value}")
        )
        return None
    return value, places


def _price(value: Any, where: str, places: int | None, errors: list[FieldError]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        errors.append(FieldError(where, "must be a decimal number such as 12.50"))
        return None
    try:
        price = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        errors.append(FieldError(where, "must be a decimal number such as 12.50"))
        return None
    if not price.is_finite() or price <= 0 or price > MAX_UNIT_PRICE:
        errors.append(FieldError(where, f"must be more than 0 and at most {MAX_UNIT_PRICE}"))
        return None
    # Without a currency there is no number of places to check; the currency has its own error.
    if places is not None and price != price.quantize(Decimal(1).scaleb(-places)):
        errors.append(FieldError(where, f"must have at most {places} decimal places"))
        return None
    return price


def _quantity(value: Any, where: str, errors: list[FieldError]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        errors.append(FieldError(where, f"must be an integer from 1 to {MAX_QUANTITY}"))
        return None
    return value


def _line(
    raw: Any, index: int, currency: tuple[str, int] | None, errors: list[FieldError]
) -> OrderLine | None:
    where = f"lines[{index}]"
    if not isinstance(raw, dict):
        errors.append(FieldError(where, "must be an object"))
        return None
    before = len(errors)
    sku = raw.get("sku")
    if not isinstance(sku, str) or not SKU.match(sku):
        errors.append(FieldError(f"{where}.sku", "must be 2-32 of A-Z, 0-9 and '-'"))
    quantity = _quantity(raw.get("quantity"), f"{where}.quantity", errors)
    places = None if currency is None else currency[1]
    price = _price(raw.get("unitPrice"), f"{where}.unitPrice", places, errors)
    unknown = sorted(set(raw) - {"sku", "quantity", "unitPrice"})
    if unknown:
        errors.append(FieldError(where, f"has unknown fields {unknown}"))
    if len(errors) > before or currency is None or quantity is None or price is None:
        return None
    code, places = currency
    return OrderLine(str(sku), quantity, Money(int(price.scaleb(places)), code))


def parse_place_order(raw: str | bytes | None, customer_id: str) -> PlaceOrder:
    """Validate a POST /orders body for the authenticated customer.

    Raises CustomerMismatchError when the body names another customer (whatever else is
    wrong with it), else ValidationError listing every field error.
    """
    body = _decode(raw)
    if not isinstance(body, dict):
        raise ValidationError([FieldError("body", "must be a JSON object")])
    errors: list[FieldError] = []
    if "customerId" in body:
        named = body["customerId"]
        if not isinstance(named, str):
            errors.append(FieldError("customerId", "must be the caller's own id, or absent"))
        elif named != customer_id:
            raise CustomerMismatchError("the body names another customer than the caller")
    currency = _currency(body.get("currency"), errors)
    raw_lines = body.get("lines")
    lines: list[OrderLine | None] = []
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES:
        errors.append(FieldError("lines", f"must be a list of 1 to {MAX_LINES} lines"))
    else:
        lines = [_line(line, i, currency, errors) for i, line in enumerate(raw_lines)]
    unknown = sorted(set(body) - {"customerId", "currency", "lines"})
    if unknown:
        errors.append(FieldError("body", f"has unknown fields {unknown}"))
    if errors:
        raise ValidationError(errors)
    return PlaceOrder(customer_id, tuple(line for line in lines if line is not None))


def check_order_id(order_id: Any) -> str:
    """Return the id when it has the shape of an order id; raise ValidationError otherwise."""
    if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
        raise ValidationError([FieldError("orderId", "must be a lowercase UUID")])
    return order_id


def check_idempotency_key(key: Any) -> str:
    """Return the Idempotency-Key when it is 1-128 printable ASCII characters."""
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise ValidationError(
            [FieldError("Idempotency-Key", "must be 1-128 printable ASCII characters")]
        )
    return key
