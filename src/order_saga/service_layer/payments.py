"""Use cases of the payment participant: charge and its inverse, refund."""

from __future__ import annotations

from typing import Any

from order_saga.domain.commands import ChargePayment, RefundPayment
from order_saga.service_layer.ports import PaymentLedger


def charge_payment(command: ChargePayment, ledger: PaymentLedger) -> dict[str, Any]:
    """Charge the order once; raises PaymentDeclinedError when the balance is short."""
    created = ledger.charge(command.order_id, command.customer_id, command.amount)
    return {
        "orderId": command.order_id,
        "charged": {"amount": command.amount.amount, "currency": command.amount.currency},
        "repeat": not created,
    }


def refund_payment(command: RefundPayment, ledger: PaymentLedger) -> dict[str, Any]:
    """Refund the order's charge once; a no-op when nothing was charged or it was refunded."""
    refunded = ledger.refund(command.order_id)
    return {
        "orderId": command.order_id,
        "refunded": None
        if refunded is None
        else {"amount": refunded.amount, "currency": refunded.currency},
    }
