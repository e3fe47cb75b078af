"""The payment participant: charge, and its compensation, refund."""

from __future__ import annotations

import pytest

from order_saga.domain.commands import ChargePayment, RefundPayment
from order_saga.domain.errors import ParticipantUnavailableError, PaymentDeclinedError
from order_saga.domain.model import Money
from order_saga.service_layer.payments import charge_payment, refund_payment

from .fakes import FakePaymentLedger

ORDER_ID = "6f1c2a4e-7d55-4b1e-9a57-0a8c3e2f9b10"
START = Money(10_000, "EUR")


def charge(cents: int, customer_id: str = "cust-1", order_id: str = ORDER_ID) -> ChargePayment:
    return ChargePayment(order_id, customer_id, Money(cents, "EUR"))


def test_a_charge_takes_the_amount_from_the_balance(ledger: FakePaymentLedger) -> None:
    result = charge_payment(charge(2800), ledger)

    assert result == {
        "orderId": ORDER_ID,
        "charged": {"amount": 2800, "currency": "EUR"},
        "repeat": False,
    }
    assert ledger.balances["cust-1"] == Money(7200, "EUR")


def test_a_repeated_charge_changes_nothing(ledger: FakePaymentLedger) -> None:
    charge_payment(charge(2800), ledger)

    result = charge_payment(charge(2800), ledger)

    assert result["repeat"] is True
    assert result["charged"] == {"amount": 2800, "currency": "EUR"}
    assert ledger.balances["cust-1"] == Money(7200, "EUR")


def test_charging_the_whole_balance_succeeds(ledger: FakePaymentLedger) -> None:
    charge_payment(charge(10_000), ledger)

    assert ledger.balances["cust-1"] == Money(0, "EUR")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(charge(10_001), id="balance-short-by-a-cent"),
        pytest.param(charge(100, customer_id="cust-unknown"), id="no-balance"),
        pytest.param(ChargePayment(ORDER_ID, "cust-1", Money(100, "USD")), id="other-currency"),
    ],
)
def test_a_charge_the_balance_cannot_cover_is_declined_and_takes_nothing(
    ledger: FakePaymentLedger, command: ChargePayment
) -> None:
    with pytest.raises(PaymentDeclinedError) as caught:
        charge_payment(command, ledger)

    assert caught.value.customer_id == command.customer_id
    assert str(command.amount) in str(caught.value)
    assert ledger.balances == {"cust-1": START}
    assert ORDER_ID not in ledger.charges


def test_a_declined_order_can_be_charged_after_a_top_up(ledger: FakePaymentLedger) -> None:
    with pytest.raises(PaymentDeclinedError):
        charge_payment(charge(12_000), ledger)
    ledger.balances["cust-1"] = Money(20_000, "EUR")

    assert charge_payment(charge(12_000), ledger)["repeat"] is False
    assert ledger.balances["cust-1"] == Money(8000, "EUR")


def test_a_refund_gives_back_exactly_what_was_charged(ledger: FakePaymentLedger) -> None:
    charge_payment(charge(2800), ledger)

    result = refund_payment(RefundPayment(ORDER_ID), ledger)

    assert result == {"orderId": ORDER_ID, "refunded": {"amount": 2800, "currency": "EUR"}}
    assert ledger.balances["cust-1"] == START


def test_a_repeated_refund_gives_nothing_more(ledger: FakePaymentLedger) -> None:
    charge_payment(charge(2800), ledger)
    refund_payment(RefundPayment(ORDER_ID), ledger)

    result = refund_payment(RefundPayment(ORDER_ID), ledger)

    assert result == {"orderId": ORDER_ID, "refunded": None}
    assert ledger.balances["cust-1"] == START


def test_refunding_with_nothing_charged_is_a_no_op(ledger: FakePaymentLedger) -> None:
    result = refund_payment(RefundPayment(ORDER_ID), ledger)

    assert result == {"orderId": ORDER_ID, "refunded": None}
    assert ledger.balances == {"cust-1": START}


def test_a_charge_arriving_after_its_refund_takes_nothing(ledger: FakePaymentLedger) -> None:
    # The saga gave up on a slow charge and compensated before it landed.
    refund_payment(RefundPayment(ORDER_ID), ledger)

    result = charge_payment(charge(2800), ledger)

    assert result["repeat"] is True
    assert ledger.balances["cust-1"] == START
    assert refund_payment(RefundPayment(ORDER_ID), ledger)["refunded"] is None
    assert ledger.balances["cust-1"] == START


def test_a_refunded_order_cannot_be_charged_again(ledger: FakePaymentLedger) -> None:
    charge_payment(charge(2800), ledger)
    refund_payment(RefundPayment(ORDER_ID), ledger)

    assert charge_payment(charge(2800), ledger)["repeat"] is True
    assert ledger.balances["cust-1"] == START


def test_a_refund_touches_only_its_own_order(ledger: FakePaymentLedger) -> None:
    other = "00000000-0000-4000-8000-000000000001"
    charge_payment(charge(2800), ledger)
    charge_payment(charge(1000, order_id=other), ledger)

    refund_payment(RefundPayment(ORDER_ID), ledger)

    assert ledger.balances["cust-1"] == Money(9000, "EUR")
    assert ledger.charges[other].status == "CHARGED"


def test_an_unavailable_ledger_raises_a_transient_error_and_changes_nothing(
    ledger: FakePaymentLedger,
) -> None:
    ledger.unavailable = True

    with pytest.raises(ParticipantUnavailableError):
        charge_payment(charge(2800), ledger)
    with pytest.raises(ParticipantUnavailableError):
        refund_payment(RefundPayment(ORDER_ID), ledger)

    assert ledger.balances == {"cust-1": START}
    assert ledger.charges == {}
