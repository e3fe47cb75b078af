"""The ports: what the services need from the outside world, named for their role."""

from __future__ import annotations

from typing import Any, Protocol

from order_saga.domain.commands import StockLine
from order_saga.domain.model import Money, Order


class OrderRepository(Protocol):
    """Stores orders and their status."""

    def add(self, order: Order) -> bool:
        """Store a new order; False when an order with that id already exists."""
        ...

    def get(self, order_id: str) -> Order | None: ...

    def confirm(self, order_id: str, now: str) -> None:
        """RUNNING -> CONFIRMED; a repeat is a no-op; raises OrderNotConfirmableError otherwise."""
        ...

    def cancel(self, order_id: str, reason: str, now: str) -> None:
        """PENDING, RUNNING or CONFIRMED -> CANCELLED with the reason; other statuses stay."""
        ...

    def pending_before(self, created_before: str, limit: int) -> list[Order]:
        """Orders still PENDING that were created before the given time."""
        ...


class SagaExecutions(Protocol):
    """The saga's executions, as its state machine lists them."""

    def running_started_before(self, started_before: str) -> int:
        """How many executions still run that started before the given time."""
        ...


class InventoryStore(Protocol):
    """Holds stock per SKU and one reservation record per order."""

    def reserve(self, order_id: str, lines: tuple[StockLine, ...]) -> bool:
        """Reserve all lines at once; False when the order already has a reservation record."""
        ...

    def release(self, order_id: str) -> bool:
        """Give a reservation back; False when there was nothing to give back."""
        ...


class PaymentLedger(Protocol):
    """Balances per customer and one charge record per order."""

    def charge(self, order_id: str, customer_id: str, amount: Money) -> bool:
        """Charge once; False when the order already has a charge record."""
        ...

    def refund(self, order_id: str) -> Money | None:
        """Refund a charge once; the amount refunded, or None when there was nothing to refund."""
        ...


class EventPublisher(Protocol):
    """Puts domain events on the bus."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Publish one event; raises when the bus did not take it."""
        ...


class TaskReporter(Protocol):
    """Tells a waiting saga how its command ended."""

    def succeed(self, task_token: str, output: dict[str, Any]) -> None: ...

    def fail(self, task_token: str, error: str, cause: str) -> None: ...


class OrderIdSource(Protocol):
    """Names new orders: random and unguessable, never derived from what the caller sent."""

    def new_id(self) -> str: ...


class Clock(Protocol):
    """The current time, as an ISO 8601 string in UTC."""

    def now(self) -> str: ...
