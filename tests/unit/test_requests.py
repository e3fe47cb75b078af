"""The POST /orders contract: what parse_place_order accepts, and every way it says no."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from order_saga.domain.errors import CustomerMismatchError, FieldError, ValidationError
from order_saga.domain.model import Money, OrderLine
from order_saga.domain.requests import (
    MAX_BODY_BYTES,
    MAX_LINES,
    check_idempotency_key,
    check_order_id,
    parse_place_order,
)

Body = dict[str, Any]

# The authenticated caller: the customer every parsed order belongs to.
CALLER = "cust-1"


def valid_body() -> Body:
    return {
        "customerId": "cust-1",
        "currency": "EUR",
        "lines": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "12.50"}],
    }


def with_customer(value: Any) -> Callable[[Body], None]:
    return lambda body: body.__setitem__("customerId", value)


def with_currency(value: Any) -> Callable[[Body], None]:
    return lambda body: body.__setitem__("currency", value)


def with_lines(value: Any) -> Callable[[Body], None]:
    return lambda body: body.__setitem__("lines", value)


def with_line_field(name: str, value: Any) -> Callable[[Body], None]:
    return lambda body: body["lines"][0].__setitem__(name, value)


def without(name: str) -> Callable[[Body], None]:
    return lambda body: body.pop(name)


def without_line_field(name: str) -> Callable[[Body], None]:
    return lambda body: body["lines"][0].pop(name)


def priced(currency: Any, unit_price: Any) -> Body:
    body = valid_body()
    body["currency"] = currency
    body["lines"][0]["unitPrice"] = unit_price
    return body


def line(sku: str = "SKU-1") -> Body:
    return {"sku": sku, "quantity": 1, "unitPrice": "1.00"}


def field_errors(raw: str | bytes | None) -> list[FieldError]:
    with pytest.raises(ValidationError) as caught:
        parse_place_order(raw, CALLER)
    return caught.value.errors


def test_a_valid_body_becomes_a_place_order_with_prices_in_cents() -> None:
    command = parse_place_order(json.dumps(valid_body()), CALLER)

    assert command.customer_id == "cust-1"
    assert command.lines == (OrderLine("SKU-1", 2, Money(1250, "EUR")),)


def test_a_body_given_as_bytes_is_read_like_text() -> None:
    command = parse_place_order(json.dumps(valid_body()).encode(), CALLER)

    assert command.lines == (OrderLine("SKU-1", 2, Money(1250, "EUR")),)


def test_lines_keep_their_order_and_the_same_sku_may_appear_twice() -> None:
    body = valid_body()
    body["lines"] = [
        {"sku": "B-2", "quantity": 1, "unitPrice": 3},
        {"sku": "A-1", "quantity": 4, "unitPrice": "0.99"},
        {"sku": "B-2", "quantity": 2, "unitPrice": "3.00"},
    ]

    command = parse_place_order(json.dumps(body), CALLER)

    assert command.lines == (
        OrderLine("B-2", 1, Money(300, "EUR")),
        OrderLine("A-1", 4, Money(99, "EUR")),
        OrderLine("B-2", 2, Money(300, "EUR")),
    )


@pytest.mark.parametrize(
    ("raw_price", "cents"),
    [
        pytest.param("12.50", 1250, id="string"),
        pytest.param("0.01", 1, id="smallest"),
        pytest.param("100000.00", 10_000_000, id="largest"),
        pytest.param(7, 700, id="json-integer"),
        pytest.param("1E+2", 10_000, id="exponent"),
    ],
)
def test_a_unit_price_in_any_decimal_form_becomes_exact_cents(raw_price: Any, cents: int) -> None:
    body = valid_body()
    body["lines"][0]["unitPrice"] = raw_price

    command = parse_place_order(json.dumps(body), CALLER)

    assert command.lines[0].unit_price == Money(cents, "EUR")


@pytest.mark.parametrize(
    ("currency", "raw_price", "amount"),
    [
        pytest.param("JPY", "1500", 1500, id="JPY-has-no-minor-unit"),
        pytest.param("JPY", 1500, 1500, id="JPY-json-integer"),
        pytest.param("JPY", "1E+3", 1000, id="JPY-exponent"),
        pytest.param("EUR", "12.5", 1250, id="EUR-cents"),
        pytest.param("KWD", "1.234", 1234, id="KWD-fils"),
        pytest.param("KWD", "0.001", 1, id="KWD-smallest"),
        pytest.param("CLF", "1.2345", 12345, id="CLF-four-places"),
    ],
)
def test_a_unit_price_becomes_whole_minor_units_of_its_currency(
    currency: str, raw_price: Any, amount: int
) -> None:
    command = parse_place_order(json.dumps(priced(currency, raw_price)), CALLER)

    assert command.lines[0].unit_price == Money(amount, currency)


@pytest.mark.parametrize(
    ("currency", "price", "places"),
    [
        pytest.param("JPY", "1.5", 0, id="JPY"),
        pytest.param("EUR", "1.005", 2, id="EUR"),
        pytest.param("KWD", "1.0005", 3, id="KWD"),
        pytest.param("CLF", "1.00005", 4, id="CLF"),
    ],
)
def test_a_unit_price_has_no_more_decimal_places_than_its_currency(
    currency: str, price: str, places: int
) -> None:
    assert field_errors(json.dumps(priced(currency, price))) == [
        FieldError("lines[0].unitPrice", f"must have at most {places} decimal places")
    ]


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        pytest.param("ZZZ", "must be an ISO 4217 code such as EUR", id="ZZZ-unlisted"),
        pytest.param("eur", "must be an ISO 4217 code such as EUR", id="eur-lowercase"),
        pytest.param("Eur", "must be an ISO 4217 code such as EUR", id="Eur-mixed-case"),
        pytest.param(
            "XXX", "must be a currency with minor units such as EUR, not XXX", id="XXX-no-currency"
        ),
        pytest.param(
            "XAU", "must be a currency with minor units such as EUR, not XAU", id="XAU-gold"
        ),
        pytest.param(
            "XTS", "must be a currency with minor units such as EUR, not XTS", id="XTS-testing"
        ),
    ],
)
def test_a_currency_is_an_iso_4217_code_that_has_minor_units(currency: str, message: str) -> None:
    body = valid_body()
    body["currency"] = currency

    assert field_errors(json.dumps(body)) == [FieldError("currency", message)]


@pytest.mark.parametrize("currency", ["ZZZ", "XAU", None])
def test_without_a_currency_a_price_is_not_held_to_any_number_of_decimal_places(
    currency: Any,
) -> None:
    errors = field_errors(json.dumps(priced(currency, "1.0001")))

    assert [error.field for error in errors] == ["currency"]


def test_a_json_number_price_is_read_as_an_exact_decimal_never_a_float() -> None:
    raw = (
        '{"customerId": "cust-1", "currency": "EUR", '
        '"lines": [{"sku": "SKU-1", "quantity": 3, "unitPrice": 0.10}]}'
    )

    command = parse_place_order(raw, CALLER)

    assert command.lines[0].unit_price == Money(10, "EUR")
    assert command.lines[0].total == Money(30, "EUR")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(with_lines([line(f"SKU-{i}") for i in range(MAX_LINES)]), id="50-lines"),
        pytest.param(with_line_field("quantity", 1), id="quantity-1"),
        pytest.param(with_line_field("quantity", 1000), id="quantity-1000"),
        pytest.param(with_line_field("sku", "AB"), id="sku-2-chars"),
        pytest.param(with_line_field("sku", "A" * 32), id="sku-32-chars"),
        pytest.param(with_customer(CALLER), id="customer-is-the-caller"),
        pytest.param(without("customerId"), id="customer-omitted"),
    ],
)
def test_values_on_the_edge_of_each_rule_are_accepted(change: Callable[[Body], None]) -> None:
    body = valid_body()
    change(body)

    command = parse_place_order(json.dumps(body), CALLER)

    assert command.customer_id == CALLER
    assert [(line.sku, line.quantity) for line in command.lines] == [
        (raw["sku"], raw["quantity"]) for raw in body["lines"]
    ]


BAD_FIELDS = [
    # customerId: absent, or the caller's own id as a string
    pytest.param(with_customer(12345), "customerId", id="customer-number"),
    pytest.param(with_customer(None), "customerId", id="customer-null"),
    # currency
    pytest.param(with_currency("eur"), "currency", id="currency-lowercase"),
    pytest.param(with_currency("ZZZ"), "currency", id="currency-unlisted"),
    pytest.param(with_currency("XXX"), "currency", id="currency-without-minor-units"),
    pytest.param(with_currency("EURO"), "currency", id="currency-four-letters"),
    pytest.param(with_currency("EU"), "currency", id="currency-two-letters"),
    pytest.param(with_currency("EUR\n"), "currency", id="currency-trailing-newline"),
    pytest.param(with_currency(978), "currency", id="currency-number"),
    pytest.param(without("currency"), "currency", id="currency-missing"),
    # lines
    pytest.param(with_lines([]), "lines", id="no-lines"),
    pytest.param(with_lines([line(f"SKU-{i}") for i in range(51)]), "lines", id="51-lines"),
    pytest.param(with_lines({"sku": "SKU-1"}), "lines", id="lines-object"),
    pytest.param(without("lines"), "lines", id="lines-missing"),
    pytest.param(with_lines(["SKU-1"]), "lines[0]", id="line-not-object"),
    # quantity
    pytest.param(with_line_field("quantity", 0), "lines[0].quantity", id="quantity-0"),
    pytest.param(with_line_field("quantity", 1001), "lines[0].quantity", id="quantity-1001"),
    pytest.param(with_line_field("quantity", -1), "lines[0].quantity", id="quantity-negative"),
    pytest.param(with_line_field("quantity", True), "lines[0].quantity", id="quantity-bool"),
    pytest.param(with_line_field("quantity", "2"), "lines[0].quantity", id="quantity-string"),
    pytest.param(with_line_field("quantity", 2.5), "lines[0].quantity", id="quantity-fraction"),
    pytest.param(without_line_field("quantity"), "lines[0].quantity", id="quantity-missing"),
    # sku
    pytest.param(with_line_field("sku", "sku-1"), "lines[0].sku", id="sku-lowercase"),
    pytest.param(with_line_field("sku", "A"), "lines[0].sku", id="sku-too-short"),
    pytest.param(with_line_field("sku", "A" * 33), "lines[0].sku", id="sku-too-long"),
    pytest.param(with_line_field("sku", "-AB"), "lines[0].sku", id="sku-leading-dash"),
    pytest.param(with_line_field("sku", "SKU 1"), "lines[0].sku", id="sku-space"),
    pytest.param(with_line_field("sku", "SKU-1\n"), "lines[0].sku", id="sku-trailing-newline"),
    pytest.param(with_line_field("sku", 42), "lines[0].sku", id="sku-number"),
    pytest.param(without_line_field("sku"), "lines[0].sku", id="sku-missing"),
    # unitPrice
    pytest.param(with_line_field("unitPrice", 0), "lines[0].unitPrice", id="price-0"),
    pytest.param(with_line_field("unitPrice", "0.00"), "lines[0].unitPrice", id="price-0.00"),
    pytest.param(with_line_field("unitPrice", -5), "lines[0].unitPrice", id="price-negative"),
    pytest.param(
        with_line_field("unitPrice", "100000.01"), "lines[0].unitPrice", id="price-too-high"
    ),
    pytest.param(with_line_field("unitPrice", "12.345"), "lines[0].unitPrice", id="price-3dp"),
    pytest.param(with_line_field("unitPrice", 0.005), "lines[0].unitPrice", id="price-3dp-number"),
    pytest.param(with_line_field("unitPrice", "abc"), "lines[0].unitPrice", id="price-text"),
    pytest.param(with_line_field("unitPrice", "NaN"), "lines[0].unitPrice", id="price-nan"),
    pytest.param(
        with_line_field("unitPrice", "Infinity"), "lines[0].unitPrice", id="price-infinity"
    ),
    pytest.param(with_line_field("unitPrice", True), "lines[0].unitPrice", id="price-bool"),
    pytest.param(with_line_field("unitPrice", None), "lines[0].unitPrice", id="price-null"),
    pytest.param(with_line_field("unitPrice", [1]), "lines[0].unitPrice", id="price-list"),
    pytest.param(without_line_field("unitPrice"), "lines[0].unitPrice", id="price-missing"),
    # unknown fields
    pytest.param(
        lambda body: body.__setitem__("coupon", "FREE"), "body", id="unknown-top-level-field"
    ),
    pytest.param(with_line_field("discount", 5), "lines[0]", id="unknown-line-field"),
]


@pytest.mark.parametrize(("change", "field"), BAD_FIELDS)
def test_a_body_that_breaks_one_rule_is_refused_naming_that_field(
    change: Callable[[Body], None], field: str
) -> None:
    body = valid_body()
    change(body)

    errors = field_errors(json.dumps(body))

    assert [error.field for error in errors] == [field]
    assert errors[0].message


@pytest.mark.parametrize(
    ("price", "message"),
    [
        pytest.param("0", "must be more than 0 and at most 100000.00", id="zero"),
        pytest.param("12.345", "must have at most 2 decimal places", id="three-decimals"),
        pytest.param("twelve", "must be a decimal number such as 12.50", id="not-a-number"),
    ],
)
def test_each_price_rule_explains_itself(price: str, message: str) -> None:
    body = valid_body()
    body["lines"][0]["unitPrice"] = price

    assert field_errors(json.dumps(body)) == [FieldError("lines[0].unitPrice", message)]


def test_unknown_fields_are_named_in_the_error() -> None:
    body = valid_body()
    body["zeta"] = 1
    body["alpha"] = 2

    assert field_errors(json.dumps(body)) == [
        FieldError("body", "has unknown fields ['alpha', 'zeta']")
    ]


def test_every_field_error_is_reported_together_in_body_order() -> None:
    body = {
        "customerId": ["cust-1"],
        "currency": "euro",
        "lines": [
            {"sku": "ok-lower", "quantity": 0, "unitPrice": "-1.00"},
            {"sku": "SKU-2", "quantity": 1, "unitPrice": "2.00"},
            "not-a-line",
        ],
        "note": "please hurry",
    }

    errors = field_errors(json.dumps(body))

    assert [error.field for error in errors] == [
        "customerId",
        "currency",
        "lines[0].sku",
        "lines[0].quantity",
        "lines[0].unitPrice",
        "lines[2]",
        "body",
    ]


def test_the_validation_error_message_lists_every_field() -> None:
    body = valid_body()
    body["customerId"] = 1
    body["currency"] = "x"

    with pytest.raises(ValidationError) as caught:
        parse_place_order(json.dumps(body), CALLER)

    assert str(caught.value) == (
        "customerId: must be the caller's own id, or absent; "
        "currency: must be an ISO 4217 code such as EUR"
    )
    assert caught.value.errors[1].to_dict() == {
        "field": "currency",
        "message": "must be an ISO 4217 code such as EUR",
    }


def test_a_bad_currency_does_not_hide_the_errors_in_the_lines() -> None:
    body = valid_body()
    body["currency"] = None
    body["lines"][0]["quantity"] = 0

    errors = field_errors(json.dumps(body))

    assert [error.field for error in errors] == ["currency", "lines[0].quantity"]


def oversized_body() -> str:
    body = valid_body()
    body["lines"][0]["sku"] = "C" * MAX_BODY_BYTES
    return json.dumps(body)


def multibyte_oversized_body() -> str:
    # Fewer characters than the limit, more bytes: the limit counts bytes.
    text = '{"currency": "' + "é" * (MAX_BODY_BYTES // 2) + '"}'
    assert len(text) < MAX_BODY_BYTES < len(text.encode())
    return text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(None, "is required", id="none"),
        pytest.param("", "is required", id="empty-text"),
        pytest.param(b"", "is required", id="empty-bytes"),
        pytest.param("{", "is not valid JSON", id="truncated-json"),
        pytest.param("{'customerId': 'cust-1'}", "is not valid JSON", id="single-quotes"),
        pytest.param(b"\xff\xfe\x00", "is not valid JSON", id="not-utf8"),
        pytest.param("[" * 5000 + "]" * 5000, "is not valid JSON", id="nested-too-deep"),
        pytest.param("[]", "must be a JSON object", id="array"),
        pytest.param('"text"', "must be a JSON object", id="string"),
        pytest.param("42", "must be a JSON object", id="number"),
        pytest.param("null", "must be a JSON object", id="null"),
        pytest.param(oversized_body(), f"more than {MAX_BODY_BYTES}", id="over-the-limit"),
        pytest.param(
            oversized_body().encode(), f"more than {MAX_BODY_BYTES}", id="over-the-limit-bytes"
        ),
        pytest.param(multibyte_oversized_body(), f"more than {MAX_BODY_BYTES}", id="multibyte"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_as_a_whole(
    raw: str | bytes | None, message: str
) -> None:
    errors = field_errors(raw)

    assert len(errors) == 1
    assert errors[0].field == "body"
    assert message in errors[0].message


VALID_TEXT = json.dumps(valid_body())


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        pytest.param(
            VALID_TEXT.replace('"currency": "EUR"', '"currency": "EUR", "currency": "USD"'),
            ["currency"],
            id="top-level",
        ),
        pytest.param(
            VALID_TEXT.replace('"currency": "EUR"', '"currency": "EUR", "currency": "EUR"'),
            ["currency"],
            id="same-value-twice",
        ),
        pytest.param(
            VALID_TEXT.replace('"sku": "SKU-1"', '"sku": "SKU-1", "sku": "SKU-2"'),
            ["lines[0].sku"],
            id="inside-a-line",
        ),
        pytest.param(
            VALID_TEXT[:-1] + ', "note": {"a": [1, {"b": 1, "b": 2}]}}',
            ["note.a[1].b"],
            id="deep-inside-an-unknown-field",
        ),
        pytest.param(
            VALID_TEXT.replace('"sku": "SKU-1"', '"sku": "SKU-1", "sku": "SKU-1"').replace(
                '"currency": "EUR"', '"currency": "EUR", "currency": "USD"'
            ),
            ["currency", "lines[0].sku"],
            id="every-repeat-in-document-order",
        ),
    ],
)
def test_a_key_repeated_in_any_object_of_the_body_is_refused_naming_its_path(
    raw: str, fields: list[str]
) -> None:
    errors = field_errors(raw)

    assert [error.field for error in errors] == fields
    assert {error.message for error in errors} == {"appears more than once"}


def test_the_same_key_in_two_different_objects_is_no_repeat() -> None:
    body = valid_body()
    body["lines"].append({"sku": "SKU-2", "quantity": 1, "unitPrice": "1.00"})

    command = parse_place_order(json.dumps(body), CALLER)

    assert [line.sku for line in command.lines] == ["SKU-1", "SKU-2"]


def test_a_key_repeated_deep_inside_the_body_is_named_by_its_full_path() -> None:
    depth = 800
    raw = '{"x": ' + "[" * depth + '{"k": 1, "k": 2}' + "]" * depth + "}"

    assert field_errors(raw) == [FieldError("x" + "[0]" * depth + ".k", "appears more than once")]


def test_a_body_exactly_at_the_size_limit_is_read() -> None:
    body = valid_body()
    text = json.dumps(body)
    padded = text[:-1] + " " * (MAX_BODY_BYTES - len(text)) + "}"
    assert len(padded.encode()) == MAX_BODY_BYTES

    assert parse_place_order(padded, CALLER).customer_id == CALLER


def test_a_body_holding_a_lone_surrogate_is_refused_rather_than_crashing() -> None:
    body = json.dumps(valid_body()).replace("SKU-1", "SKU-\ud800")

    errors = field_errors(body)

    assert [error.field for error in errors] == ["lines[0].sku"]


def test_the_input_body_is_never_modified() -> None:
    body = valid_body()
    before = copy.deepcopy(body)

    parse_place_order(json.dumps(body), CALLER)

    assert body == before


ORDER_ID = "6f1c2a4e-7d55-4b1e-9a57-0a8c3e2f9b10"


def test_a_lowercase_uuid_is_an_order_id() -> None:
    assert check_order_id(ORDER_ID) == ORDER_ID


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(ORDER_ID.upper(), id="uppercase"),
        pytest.param(ORDER_ID.replace("-", ""), id="no-dashes"),
        pytest.param(ORDER_ID[:-1], id="too-short"),
        pytest.param(ORDER_ID + "0", id="too-long"),
        pytest.param(ORDER_ID + "\n", id="trailing-newline"),
        pytest.param("../" + ORDER_ID, id="path"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(42, id="number"),
    ],
)
def test_anything_else_is_not_an_order_id(value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        check_order_id(value)

    assert [error.field for error in caught.value.errors] == ["orderId"]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("k", id="one-char"),
        pytest.param("x" * 128, id="128-chars"),
        pytest.param("!~#$%&'()*+,-./:;<=>?@[]^_`{|}", id="punctuation"),
        pytest.param(ORDER_ID, id="uuid"),
    ],
)
def test_printable_ascii_of_1_to_128_characters_is_an_idempotency_key(key: str) -> None:
    assert check_idempotency_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 129, id="129-chars"),
        pytest.param("two words", id="space"),
        pytest.param("key\n", id="trailing-newline"),
        pytest.param("key\t1", id="tab"),
        pytest.param("clé", id="non-ascii"),
        pytest.param(None, id="none"),
        pytest.param(12, id="number"),
    ],
)
def test_anything_else_is_not_an_idempotency_key(key: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        check_idempotency_key(key)

    assert [error.field for error in caught.value.errors] == ["Idempotency-Key"]


# ---------------------------------------------------------------- the customer is the caller


@pytest.mark.parametrize(
    "named",
    [
        pytest.param("cust-2", id="another-customer"),
        pytest.param("CUST-1", id="the-caller-in-another-case"),
        pytest.param("cust-1 ", id="the-caller-with-a-trailing-blank"),
        pytest.param("", id="empty"),
    ],
)
def test_a_body_that_names_another_customer_is_refused_as_a_mismatch(named: str) -> None:
    body = valid_body()
    body["customerId"] = named

    with pytest.raises(CustomerMismatchError):
        parse_place_order(json.dumps(body), CALLER)


def test_the_mismatch_wins_over_any_other_field_error() -> None:
    body = {"customerId": "cust-2", "currency": "??", "lines": "none"}

    with pytest.raises(CustomerMismatchError):
        parse_place_order(json.dumps(body), CALLER)


def test_the_order_belongs_to_the_caller_whatever_the_body_leaves_out() -> None:
    body = valid_body()
    del body["customerId"]

    assert parse_place_order(json.dumps(body), "someone-else").customer_id == "someone-else"
