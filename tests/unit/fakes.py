"""In-memory fakes of the ports, honouring the same contracts as the DynamoDB adapters."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from order_saga.domain.commands import StockLine
from order_saga.domain.errors import (
    OrderNotConfirmableError,
    OrderNotFoundError,
    OutOfStockError,
    ParticipantUnavailableError,
    PaymentDeclinedError,
)
from order_saga.domain.model import Money, Order, OrderStatus

# Statuses from which DynamoDBOrderRepository.cancel moves an order to CANCELLED.
CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.RUNNING, OrderStatus.CONFIRMED})


class FakeOrderRepository:
    """OrderRepository in a dict, with the conditional status changes of the DynamoDB table."""

    def __init__(self, *orders: Order) -> None:
        self.orders: dict[str, Order] = {order.order_id: order for order in orders}

    def add(self, order: Order) -> bool:
        if order.order_id in self.orders:
            return False
        self.orders[order.order_id] = order
        return True

    def get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def claim(self, order_id: str, execution_id: str, now: str) -> bool:
        """PENDING -> RUNNING, as the state machine's ClaimOrder task does; False otherwise."""
        order = self.orders.get(order_id)
        if order is None or order.status is not OrderStatus.PENDING:
            return False
        self.orders[order_id] = replace(
            order, status=OrderStatus.RUNNING, execution_id=execution_id, updated_at=now
        )
        return True

    def confirm(self, order_id: str, now: str) -> None:
        order = self._existing(order_id)
        if order.status is OrderStatus.CONFIRMED:
            return
        if order.status is not OrderStatus.RUNNING:
            raise OrderNotConfirmableError(order_id, order.status.value)
        self.orders[order_id] = replace(order, status=OrderStatus.CONFIRMED, updated_at=now)

    def cancel(self, order_id: str, reason: str, now: str) -> None:
        order = self._existing(order_id)
        if order.status not in CANCELLABLE:
            return
        self.orders[order_id] = replace(
            order, status=OrderStatus.CANCELLED, reason=reason, updated_at=now
        )

    def pending_before(self, created_before: str, limit: int) -> list[Order]:
        # The sparse PendingOrders index: PENDING orders only, sorted by createdAt.
        pending = sorted(
            (
                order
                for order in self.orders.values()
                if order.status is OrderStatus.PENDING and order.created_at < created_before
            ),
            key=lambda order: order.created_at,
        )
        return pending[:limit]

    def _existing(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise OrderNotFoundError(order_id)
        return order


@dataclass(frozen=True)
class Reservation:
    """One order's reservation record: RESERVED, or RELEASED (a tombstone when it held nothing)."""

    status: str
    lines: tuple[StockLine, ...]


class FakeInventoryStore:
    """InventoryStore whose every change is all-or-nothing, like the adapter's transactions."""

    def __init__(self, stock: dict[str, int] | None = None) -> None:
        self.stock: dict[str, int] = dict(stock or {})
        self.reservations: dict[str, Reservation] = {}
        self.unavailable = False

    def reserve(self, order_id: str, lines: tuple[StockLine, ...]) -> bool:
        self._check_available()
        skus = [line.sku for line in lines]
        if len(set(skus)) != len(skus):
            # DynamoDB refuses a transaction that touches one item twice (ValidationException).
            raise ValueError(f"a transaction may touch each stock item once: {skus}")
        if order_id in self.reservations:
            return False
        short = [line.sku for line in lines if self.stock.get(line.sku, 0) < line.quantity]
        if short:
            raise OutOfStockError(short)
        for line in lines:
            self.stock[line.sku] -= line.quantity
        self.reservations[order_id] = Reservation("RESERVED", lines)
        return True

    def release(self, order_id: str) -> bool:
        self._check_available()
        reservation = self.reservations.get(order_id)
        if reservation is None:
            self.reservations[order_id] = Reservation("RELEASED", ())
            return False
        if reservation.status != "RESERVED":
            return False
        for line in reservation.lines:
            self.stock[line.sku] = self.stock.get(line.sku, 0) + line.quantity
        self.reservations[order_id] = replace(reservation, status="RELEASED")
        return True

    def _check_available(self) -> None:
        if self.unavailable:
            raise ParticipantUnavailableError("DynamoDB ThrottlingException")


@dataclass(frozen=True)
class Charge:
    """One order's charge record: CHARGED, REFUNDED, or VOID (a refund that found no charge)."""

    status: str
    customer_id: str | None
    amount: Money | None


class FakePaymentLedger:
    """PaymentLedger with balances per customer and one charge record per order."""

    def __init__(self, balances: dict[str, Money] | None = None) -> None:
        self.balances: dict[str, Money] = dict(balances or {})
        self.charges: dict[str, Charge] = {}
        self.unavailable = False

    def charge(self, order_id: str, customer_id: str, amount: Money) -> bool:
        self._check_available()
        if order_id in self.charges:
            return False
        balance = self.balances.get(customer_id)
        if balance is None or balance.currency != amount.currency or balance.amount < amount.amount:
            raise PaymentDeclinedError(customer_id, str(amount))
        self.balances[customer_id] = Money(balance.amount - amount.amount, balance.currency)
        self.charges[order_id] = Charge("CHARGED", customer_id, amount)
        return True

    def refund(self, order_id: str) -> Money | None:
        self._check_available()
        charge = self.charges.get(order_id)
        if charge is None:
            self.charges[order_id] = Charge("VOID", None, None)
            return None
        if charge.status != "CHARGED" or charge.customer_id is None or charge.amount is None:
            return None
        balance = self.balances[charge.customer_id]
        self.balances[charge.customer_id] = balance + charge.amount
        self.charges[order_id] = replace(charge, status="REFUNDED")
        return charge.amount

    def _check_available(self) -> None:
        if self.unavailable:
            raise ParticipantUnavailableError("DynamoDB ThrottlingException")


class FakeEventPublisher:
    """EventPublisher that keeps what it published; raises `fail_with` while it is set."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.fail_with = fail_with

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        # The EventBridge adapter sends the detail as JSON: what does not serialise must fail here.
        self.published.append((detail_type, json.loads(json.dumps(detail))))


class FakeTaskReporter:
    """TaskReporter that keeps every report; raises `fail_with` while it is set."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.successes: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, str, str]] = []
        self.fail_with = fail_with

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        # SendTaskSuccess takes the output as JSON, like the Step Functions adapter sends it.
        self.successes.append((task_token, json.loads(json.dumps(output))))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.failures.append((task_token, error, cause))


class FakeSagaExecutions:
    """SagaExecutions over a list of (start time, status) pairs."""

    def __init__(self, *executions: tuple[str, str]) -> None:
        self.executions = list(executions)

    def running_started_before(self, started_before: str) -> int:
        return sum(
            1
            for started, status in self.executions
            if status == "RUNNING" and started < started_before
        )


class FixedClock:
    """Clock that says what it is told."""

    def __init__(self, now: str = "2025-01-15T10:00:00.000Z") -> None:
        self.current = now

    def now(self) -> str:
        return self.current
