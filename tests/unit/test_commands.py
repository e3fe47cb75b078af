"""How a queue message becomes a command, and every message that is not one."""

from __future__ import annotations

from typing import Any

import pytest

from order_saga.domain.commands import (
    CancelOrder,
    ChargePayment,
    Command,
    ConfirmOrder,
    RefundPayment,
    ReleaseInventory,
    ReserveInventory,
    StockLine,
    parse_command,
    parse_envelope,
)
from order_saga.domain.errors import InvalidCommandError
from order_saga.domain.events import OrderCreated
from order_saga.domain.model import Money, Order, OrderLine

ORDER_ID = "6f1c2a4e-7d55-4b1e-9a57-0a8c3e2f9b10"
TOKEN = "AAAAKgAAAAIAAAAAAAAAAT-token"

INVENTORY = frozenset({"ReserveInventory", "ReleaseInventory"})
PAYMENT = frozenset({"ChargePayment", "RefundPayment"})
ORDERS = frozenset({"ConfirmOrder", "CancelOrder"})
EVERY_ACTION = INVENTORY | PAYMENT | ORDERS


def message(action: str, **fields: Any) -> dict[str, Any]:
    """A body as the state machine's sqs:sendMessage.waitForTaskToken task sends it."""
    return {"action": action, "orderId": ORDER_ID, "taskToken": TOKEN, **fields}


VALID_MESSAGES = [
    pytest.param(
        message(
            "ReserveInventory",
            lines=[
                {"sku": "SKU-1", "quantity": 2, "unitPrice": 1250},
                {"sku": "SKU-2", "quantity": 1, "unitPrice": 300},
            ],
        ),
        INVENTORY,
        ReserveInventory(ORDER_ID, (StockLine("SKU-1", 2), StockLine("SKU-2", 1))),
        id="ReserveInventory",
    ),
    pytest.param(
        message("ReleaseInventory"), INVENTORY, ReleaseInventory(ORDER_ID), id="ReleaseInventory"
    ),
    pytest.param(
        message("ChargePayment", customerId="cust-1", amount={"amount": 2800, "currency": "EUR"}),
        PAYMENT,
        ChargePayment(ORDER_ID, "cust-1", Money(2800, "EUR")),
        id="ChargePayment",
    ),
    pytest.param(
        message("ChargePayment", customerId="cust-1", amount={"amount": 2800, "currency": "JPY"}),
        PAYMENT,
        ChargePayment(ORDER_ID, "cust-1", Money(2800, "JPY")),
        id="ChargePayment-JPY",
    ),
    pytest.param(message("RefundPayment"), PAYMENT, RefundPayment(ORDER_ID), id="RefundPayment"),
    pytest.param(message("ConfirmOrder"), ORDERS, ConfirmOrder(ORDER_ID), id="ConfirmOrder"),
    pytest.param(
        message("CancelOrder", reason="OutOfStockError"),
        ORDERS,
        CancelOrder(ORDER_ID, "OutOfStockError"),
        id="CancelOrder",
    ),
]


@pytest.mark.parametrize(("body", "accepted", "command"), VALID_MESSAGES)
def test_every_action_becomes_its_command_with_the_task_token(
    body: dict[str, Any], accepted: frozenset[str], command: Command
) -> None:
    envelope = parse_envelope(body, accepted)

    assert envelope.command == command
    assert envelope.task_token == TOKEN
    assert envelope.action == body["action"]
    assert envelope.order_id == ORDER_ID


def test_the_order_created_event_carries_what_the_reserve_and_charge_commands_need() -> None:
    order = Order(
        ORDER_ID,
        "cust-1",
        (OrderLine("SKU-1", 2, Money(1250, "EUR")), OrderLine("SKU-2", 1, Money(300, "EUR"))),
        created_at="2025-01-15T10:00:00.000Z",
    )
    detail = OrderCreated(order).detail()

    # The state machine copies $.lines and $.total from the event into these messages.
    reserve = parse_envelope(message("ReserveInventory", lines=detail["lines"]), INVENTORY)
    charge = parse_envelope(
        message("ChargePayment", customerId=detail["customerId"], amount=detail["total"]), PAYMENT
    )

    assert reserve.command == ReserveInventory(
        ORDER_ID, (StockLine("SKU-1", 2), StockLine("SKU-2", 1))
    )
    assert charge.command == ChargePayment(ORDER_ID, "cust-1", Money(2800, "EUR"))


def replaced(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**body, **fields}


def removed(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


RESERVE = message("ReserveInventory", lines=[{"sku": "SKU-1", "quantity": 2}])
CHARGE = message("ChargePayment", customerId="cust-1", amount={"amount": 2800, "currency": "EUR"})
CANCEL = message("CancelOrder", reason="PaymentDeclinedError")

INVALID_MESSAGES = [
    pytest.param(["ConfirmOrder"], id="not-an-object"),
    pytest.param("ConfirmOrder", id="a-string"),
    pytest.param(None, id="none"),
    pytest.param(removed(message("ConfirmOrder"), "action"), id="no-action"),
    pytest.param(message("ShipOrder"), id="unknown-action"),
    pytest.param(replaced(message("ConfirmOrder"), action=["ConfirmOrder"]), id="action-list"),
    pytest.param(replaced(message("ConfirmOrder"), action={"a": 1}), id="action-object"),
    pytest.param(replaced(message("ConfirmOrder"), action=7), id="action-number"),
    pytest.param(replaced(message("ConfirmOrder"), action="confirmorder"), id="action-case"),
    pytest.param(removed(message("ConfirmOrder"), "orderId"), id="no-order-id"),
    pytest.param(replaced(message("ConfirmOrder"), orderId=""), id="empty-order-id"),
    pytest.param(replaced(message("ConfirmOrder"), orderId=42), id="order-id-number"),
    pytest.param(replaced(message("ConfirmOrder"), orderId="x" * 201), id="order-id-too-long"),
    pytest.param(removed(message("ConfirmOrder"), "taskToken"), id="no-task-token"),
    pytest.param(replaced(message("ConfirmOrder"), taskToken=""), id="empty-task-token"),
    pytest.param(replaced(message("ConfirmOrder"), taskToken="t" * 4097), id="task-token-too-long"),
    pytest.param(removed(RESERVE, "lines"), id="no-lines"),
    pytest.param(replaced(RESERVE, lines=[]), id="empty-lines"),
    pytest.param(replaced(RESERVE, lines={"sku": "SKU-1"}), id="lines-object"),
    pytest.param(replaced(RESERVE, lines=["SKU-1"]), id="line-not-object"),
    pytest.param(replaced(RESERVE, lines=[{"quantity": 1}]), id="line-without-sku"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "", "quantity": 1}]), id="line-empty-sku"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "SKU-1"}]), id="line-without-quantity"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "SKU-1", "quantity": 0}]), id="quantity-0"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "SKU-1", "quantity": -3}]), id="quantity-neg"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "SKU-1", "quantity": True}]), id="quantity-bool"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "SKU-1", "quantity": "2"}]), id="quantity-str"),
    pytest.param(replaced(RESERVE, lines=[{"sku": "SKU-1", "quantity": 1.0}]), id="quantity-float"),
    pytest.param(removed(CHARGE, "customerId"), id="no-customer"),
    pytest.param(removed(CHARGE, "amount"), id="no-amount"),
    pytest.param(replaced(CHARGE, amount=2800), id="amount-number"),
    pytest.param(replaced(CHARGE, amount={"amount": 0, "currency": "EUR"}), id="amount-0"),
    pytest.param(replaced(CHARGE, amount={"amount": 28.5, "currency": "EUR"}), id="amount-float"),
    pytest.param(replaced(CHARGE, amount={"amount": True, "currency": "EUR"}), id="amount-bool"),
    pytest.param(replaced(CHARGE, amount={"amount": 2800}), id="amount-no-currency"),
    pytest.param(replaced(CHARGE, amount={"amount": 2800, "currency": "EURO"}), id="currency-4"),
    pytest.param(replaced(CHARGE, amount={"amount": 2800, "currency": "ZZZ"}), id="currency-zzz"),
    pytest.param(replaced(CHARGE, amount={"amount": 2800, "currency": "XAU"}), id="currency-xau"),
    pytest.param(replaced(CHARGE, amount={"amount": 2800, "currency": "eur"}), id="currency-eur"),
    pytest.param(removed(CANCEL, "reason"), id="no-reason"),
    pytest.param(replaced(CANCEL, reason="r" * 501), id="reason-too-long"),
]


@pytest.mark.parametrize("body", INVALID_MESSAGES)
def test_a_message_that_is_not_a_command_is_refused(body: Any) -> None:
    with pytest.raises(InvalidCommandError):
        parse_envelope(body, EVERY_ACTION)


@pytest.mark.parametrize(
    ("action", "accepted"),
    [
        pytest.param("ChargePayment", INVENTORY, id="charge-sent-to-inventory"),
        pytest.param("ReserveInventory", PAYMENT, id="reserve-sent-to-payment"),
        pytest.param("RefundPayment", ORDERS, id="refund-sent-to-orders"),
        pytest.param("CancelOrder", INVENTORY, id="cancel-sent-to-inventory"),
    ],
)
def test_a_worker_refuses_an_action_that_belongs_to_another_participant(
    action: str, accepted: frozenset[str]
) -> None:
    body = {**RESERVE, **CHARGE, **CANCEL, "action": action}

    with pytest.raises(InvalidCommandError, match=action):
        parse_envelope(body, accepted)


def test_an_accepted_action_the_domain_does_not_know_is_refused() -> None:
    with pytest.raises(InvalidCommandError, match="unknown action 'ShipOrder'"):
        parse_envelope(message("ShipOrder"), EVERY_ACTION | {"ShipOrder"})


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        pytest.param(removed(message("ConfirmOrder"), "orderId"), "'orderId'", id="order-id"),
        pytest.param(
            replaced(RESERVE, lines=[{"sku": "SKU-1", "quantity": 0}]),
            "'lines[0].quantity'",
            id="quantity",
        ),
        pytest.param(replaced(CHARGE, amount={"amount": 1}), "'currency'", id="currency"),
        pytest.param(removed(message("ConfirmOrder"), "taskToken"), "'taskToken'", id="token"),
    ],
)
def test_the_refusal_names_the_field_at_fault(body: dict[str, Any], message_part: str) -> None:
    with pytest.raises(InvalidCommandError) as caught:
        parse_envelope(body, EVERY_ACTION)

    assert message_part in str(caught.value)


def test_the_longest_allowed_fields_are_accepted() -> None:
    body = replaced(CANCEL, orderId="o" * 200, taskToken="t" * 4096, reason="r" * 500)

    envelope = parse_envelope(body, ORDERS)

    assert envelope.command == CancelOrder("o" * 200, "r" * 500)
    assert len(envelope.task_token) == 4096


def test_extra_fields_in_a_message_are_ignored() -> None:
    body = replaced(message("ReleaseInventory"), lines=[{"sku": "SKU-1", "quantity": 1}], x=1)

    assert parse_envelope(body, INVENTORY).command == ReleaseInventory(ORDER_ID)


@pytest.mark.parametrize(("body", "accepted", "command"), VALID_MESSAGES)
def test_a_command_reads_the_same_without_its_task_token(
    body: dict[str, Any], accepted: frozenset[str], command: Command
) -> None:
    # The idempotency record is keyed on the body without the token, which changes per retry.
    assert parse_command(removed(body, "taskToken"), accepted) == command


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="not-an-object"),
        pytest.param({"orderId": ORDER_ID}, id="no-action"),
        pytest.param({"action": ["ConfirmOrder"], "orderId": ORDER_ID}, id="action-list"),
        pytest.param({"action": "ChargePayment", "orderId": ORDER_ID}, id="not-accepted"),
        pytest.param({"action": "ConfirmOrder"}, id="no-order-id"),
    ],
)
def test_parse_command_refuses_what_parse_envelope_refuses(body: Any) -> None:
    with pytest.raises(InvalidCommandError):
        parse_command(body, ORDERS)


def test_an_envelope_carries_the_correlation_id_the_saga_passed_on() -> None:
    body = message("ConfirmOrder", correlationId="checkout-7f3a9b21")

    assert parse_envelope(body, ORDERS).correlation_id == "checkout-7f3a9b21"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="sent-before-commands-carried-one"),
        pytest.param({"correlationId": ""}, id="empty"),
        pytest.param({"correlationId": None}, id="null"),
        pytest.param({"correlationId": 42}, id="number"),
        pytest.param({"correlationId": "x" * 201}, id="too-long"),
    ],
)
def test_a_command_without_a_usable_correlation_id_is_followed_by_its_order_id(
    fields: dict[str, Any],
) -> None:
    envelope = parse_envelope(message("ConfirmOrder", **fields), ORDERS)

    assert envelope.command == ConfirmOrder(ORDER_ID)
    assert envelope.correlation_id == ORDER_ID
