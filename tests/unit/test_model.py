"""Money, orders and their totals; the error tree the state machine relies on; the events."""

from __future__ import annotations

import json

import pytest

from order_saga.domain import errors
from order_saga.domain.events import SOURCE, OrderCreated
from order_saga.domain.model import (
    TERMINAL_STATUSES,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    minor_units,
    quantities_by_sku,
)


def eur(cents: int) -> Money:
    return Money(cents, "EUR")


def test_money_of_one_currency_adds_up() -> None:
    assert eur(1250) + eur(75) == eur(1325)


def test_money_of_two_currencies_does_not_add_up() -> None:
    with pytest.raises(ValueError, match="cannot add USD to EUR"):
        eur(100) + Money(100, "USD")


def test_money_times_a_quantity_keeps_its_currency() -> None:
    assert eur(1250) * 3 == eur(3750)


def test_zero_money_is_zero_of_its_currency() -> None:
    assert Money.zero("GBP") == Money(0, "GBP")


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (5, "0.05"), (99, "0.99"), (1250, "12.50"), (10_000_000, "100000.00")],
)
def test_money_prints_as_a_two_decimal_amount(cents: int, text: str) -> None:
    assert eur(cents).to_decimal_string() == text
    assert str(eur(cents)) == f"{text} EUR"


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1500, "JPY"), "1500"),
        (Money(7, "JPY"), "7"),
        (Money(1250, "EUR"), "12.50"),
        (Money(1234, "KWD"), "1.234"),
        (Money(5, "KWD"), "0.005"),
        (Money(10_000, "CLF"), "1.0000"),
    ],
)
def test_money_prints_with_as_many_decimals_as_its_currency_has_minor_units(
    money: Money, text: str
) -> None:
    assert money.to_decimal_string() == text
    assert str(money) == f"{text} {money.currency}"


@pytest.mark.parametrize(
    ("currency", "places"),
    [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("CLF", 4), ("XAU", None), ("XXX", None)],
)
def test_the_minor_units_of_a_currency_come_from_iso_4217(
    currency: str, places: int | None
) -> None:
    assert minor_units(currency) == places


@pytest.mark.parametrize("code", ["ZZZ", "eur", "EURO", ""])
def test_a_code_iso_4217_does_not_list_has_no_minor_units(code: str) -> None:
    with pytest.raises(ValueError):
        minor_units(code)


@pytest.mark.parametrize("code", ["XAU", "XXX", "XTS", "ZZZ"])
def test_money_in_a_currency_without_minor_units_cannot_be_printed(code: str) -> None:
    with pytest.raises(ValueError, match=code):
        Money(100, code).to_decimal_string()


def test_money_is_immutable() -> None:
    money = eur(1)

    with pytest.raises(AttributeError):
        money.amount = 2  # type: ignore[misc]


def test_a_line_total_is_its_unit_price_times_its_quantity() -> None:
    assert OrderLine("SKU-1", 4, eur(1250)).total == eur(5000)


def test_an_order_total_is_the_sum_of_its_line_totals_in_its_currency() -> None:
    order = Order(
        "o-1",
        "cust-1",
        (OrderLine("SKU-1", 2, eur(1250)), OrderLine("SKU-2", 3, eur(99))),
    )

    assert order.currency == "EUR"
    assert order.total == eur(2797)


def test_a_new_order_is_pending_with_no_reason_and_no_execution() -> None:
    order = Order("o-1", "cust-1", (OrderLine("SKU-1", 1, eur(1)),))

    assert order.status is OrderStatus.PENDING
    assert order.reason is None
    assert order.execution_id is None


def test_quantities_by_sku_merges_lines_of_one_sku_and_sorts_them() -> None:
    lines = (
        OrderLine("SKU-B", 1, eur(1)),
        OrderLine("SKU-A", 2, eur(1)),
        OrderLine("SKU-B", 5, eur(2)),
    )

    quantities = quantities_by_sku(lines)

    assert quantities == {"SKU-A": 2, "SKU-B": 6}
    assert list(quantities) == ["SKU-A", "SKU-B"]


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        (OrderStatus.PENDING, False),
        (OrderStatus.RUNNING, False),
        (OrderStatus.CONFIRMED, True),
        (OrderStatus.CANCELLED, True),
        (OrderStatus.COMPENSATION_FAILED, True),
    ],
)
def test_only_confirmed_cancelled_and_compensation_failed_are_terminal(
    status: OrderStatus, terminal: bool
) -> None:
    assert status.is_terminal is terminal
    assert (status in TERMINAL_STATUSES) is terminal


def test_a_status_is_stored_and_compared_as_its_plain_name() -> None:
    assert OrderStatus.CONFIRMED == "CONFIRMED"
    assert json.dumps({"status": OrderStatus.CANCELLED}) == '{"status": "CANCELLED"}'


@pytest.mark.parametrize(
    ("error_class", "branch"),
    [
        (errors.OutOfStockError, errors.BusinessRuleError),
        (errors.PaymentDeclinedError, errors.BusinessRuleError),
        (errors.OrderNotConfirmableError, errors.BusinessRuleError),
        (errors.ParticipantUnavailableError, errors.TransientError),
        (errors.BusinessRuleError, errors.OrderSagaError),
        (errors.TransientError, errors.OrderSagaError),
        (errors.InvalidCommandError, errors.OrderSagaError),
        (errors.ValidationError, errors.OrderSagaError),
        (errors.IdempotencyKeyReusedError, errors.OrderSagaError),
        (errors.OrderNotFoundError, errors.OrderSagaError),
    ],
)
def test_each_error_sits_on_its_documented_branch(
    error_class: type[Exception], branch: type[Exception]
) -> None:
    # The state machine's Retry and Catch match these class names and branches.
    assert error_class.__bases__ == (branch,)
    assert error_class.__name__.endswith("Error")


def test_business_and_transient_errors_never_overlap() -> None:
    assert not issubclass(errors.BusinessRuleError, errors.TransientError)
    assert not issubclass(errors.TransientError, errors.BusinessRuleError)
    assert not issubclass(
        errors.InvalidCommandError, errors.BusinessRuleError | errors.TransientError
    )


def test_business_errors_say_what_the_business_refused() -> None:
    assert str(errors.OutOfStockError(["SKU-1", "SKU-2"])) == "not enough stock for SKU-1, SKU-2"
    assert errors.OutOfStockError(["SKU-1"]).skus == ["SKU-1"]
    assert str(errors.PaymentDeclinedError("cust-1", "28.00 EUR")) == (
        "balance of cust-1 cannot cover 28.00 EUR"
    )
    declined = errors.OrderNotConfirmableError("o-1", "CANCELLED")
    assert (declined.order_id, declined.status) == ("o-1", "CANCELLED")
    assert str(declined) == "order o-1 is CANCELLED, not RUNNING"
    assert errors.OrderNotFoundError("o-9").order_id == "o-9"


def test_an_order_is_followed_by_the_correlation_id_it_was_placed_with() -> None:
    order = Order("o-1", "cust-1", (OrderLine("SKU-1", 1, eur(100)),), correlation_id="req-1")

    assert order.correlation_id == "req-1"
    assert OrderCreated(order).detail()["correlationId"] == "req-1"


def test_an_order_placed_before_correlation_ids_is_followed_by_its_own_id() -> None:
    order = Order("o-1", "cust-1", (OrderLine("SKU-1", 1, eur(100)),))

    assert order.correlation_id == "o-1"


def test_order_created_detail_is_the_order_as_json_with_its_total() -> None:
    order = Order(
        "o-1",
        "cust-1",
        (OrderLine("SKU-1", 2, eur(1250)), OrderLine("SKU-2", 1, eur(300))),
        created_at="2025-01-15T10:00:00.000Z",
    )

    detail = OrderCreated(order).detail()

    assert OrderCreated.detail_type == "OrderCreated"
    assert SOURCE == "order-saga.orders"
    assert json.loads(json.dumps(detail)) == {
        "orderId": "o-1",
        "customerId": "cust-1",
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "unitPrice": 1250},
            {"sku": "SKU-2", "quantity": 1, "unitPrice": 300},
        ],
        "total": {"amount": 2800, "currency": "EUR"},
        "createdAt": "2025-01-15T10:00:00.000Z",
        "correlationId": "o-1",
    }
