"""The events the saga publishes on its bus, shaped as their EventBridge detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from order_saga.domain.model import Order

SOURCE = "order-saga.orders"


@dataclass(frozen=True)
class OrderCreated:
    """An order was stored and its saga may start."""

    order: Order

    detail_type = "OrderCreated"

    def detail(self) -> dict[str, Any]:
        order = self.order
        return {
            "orderId": order.order_id,
            "customerId": order.customer_id,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unitPrice": line.unit_price.amount}
                for line in order.lines
            ],
            "total": {"amount": order.total.amount, "currency": order.currency},
            "createdAt": order.created_at,
            "correlationId": order.correlation_id,
        }
