"""Use cases of the orders participant: place, read, confirm, cancel, republish."""

from __future__ import annotations

from dataclasses import dataclass

from order_saga.domain.commands import CancelOrder, ConfirmOrder
from order_saga.domain.errors import OrderNotFoundError
from order_saga.domain.events import OrderCreated
from order_saga.domain.model import Order, OrderStatus
from order_saga.domain.requests import PlaceOrder
from order_saga.service_layer.ports import (
    Clock,
    EventPublisher,
    OrderRepository,
    SagaExecutions,
)


@dataclass(frozen=True)
class PlacedOrder:
    """What POST /orders answers, and the error that kept OrderCreated off the bus, if any."""

    order: Order
    emit_error: Exception | None = None


def place_order(
    command: PlaceOrder,
    order_id: str,
    orders: OrderRepository,
    publisher: EventPublisher,
    clock: Clock,
    correlation_id: str = "",
) -> PlacedOrder:
    """Store the order PENDING, then announce it; a failed announcement is left to the republisher.

    The order is stored first, so a bus outage never loses it: it stays PENDING and
    `republish_pending` emits OrderCreated again later. A stored order with the same id
    (a retried request) is announced again, which the saga's claim makes harmless.
    """
    now = clock.now()
    order = Order(
        order_id,
        command.customer_id,
        command.lines,
        created_at=now,
        updated_at=now,
        correlation_id=correlation_id,
    )
    if not orders.add(order):
        existing = orders.get(order_id)
        if existing is None:
            raise OrderNotFoundError(order_id)
        # A retried request follows the order under the correlation id that stored it.
        order = existing
        if order.status is not OrderStatus.PENDING:
            return PlacedOrder(order)
    try:
        publisher.publish(OrderCreated.detail_type, OrderCreated(order).detail())
    except Exception as exc:  # noqa: BLE001 - the stored order waits for the republisher
        return PlacedOrder(order, emit_error=exc)
    return PlacedOrder(order)


def get_order(order_id: str, customer_id: str, orders: OrderRepository) -> Order:
    """The caller's own order; another customer's order is as unknown as a missing one."""
    order = orders.get(order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFoundError(order_id)
    return order


def confirm_order(command: ConfirmOrder, orders: OrderRepository, clock: Clock) -> dict[str, str]:
    orders.confirm(command.order_id, clock.now())
    return {"orderId": command.order_id, "status": OrderStatus.CONFIRMED}


def cancel_order(command: CancelOrder, orders: OrderRepository, clock: Clock) -> dict[str, str]:
    orders.cancel(command.order_id, command.reason, clock.now())
    return {"orderId": command.order_id, "status": OrderStatus.CANCELLED}


def republish_pending(
    orders: OrderRepository, publisher: EventPublisher, created_before: str, limit: int = 100
) -> tuple[list[Order], list[tuple[Order, Exception]]]:
    """Emit OrderCreated again for orders no saga claimed: those emitted, and those that failed.

    One order the bus refuses does not keep the others from being emitted.
    """
    emitted: list[Order] = []
    failed: list[tuple[Order, Exception]] = []
    for order in orders.pending_before(created_before, limit):
        try:
            publisher.publish(OrderCreated.detail_type, OrderCreated(order).detail())
        except Exception as exc:  # noqa: BLE001 - reported to the caller, who fails the run
            failed.append((order, exc))
            continue
        emitted.append(order)
    return emitted, failed


def count_stuck(
    orders: OrderRepository, sagas: SagaExecutions, before: str, limit: int = 1000
) -> int:
    """Orders waiting since before the given time: unclaimed (PENDING), or in a running saga."""
    return len(orders.pending_before(before, limit)) + sagas.running_started_before(before)
