"""The commands the saga sends to its participants, and how a message becomes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from order_saga.domain.errors import InvalidCommandError
from order_saga.domain.model import Money, minor_units


@dataclass(frozen=True)
class StockLine:
    """Units of one SKU that a reservation holds."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class ReserveInventory:
    """Hold stock for every line of an order, all or nothing."""

    order_id: str
    lines: tuple[StockLine, ...]


@dataclass(frozen=True)
class ReleaseInventory:
    """Undo ReserveInventory: give the held stock back, once."""

    order_id: str


@dataclass(frozen=True)
class ChargePayment:
    """Take the order's total from the customer's balance, once."""

    order_id: str
    customer_id: str
    amount: Money


@dataclass(frozen=True)
class RefundPayment:
    """Undo ChargePayment: give the charge back, once, never more than was charged."""

    order_id: str


@dataclass(frozen=True)
class ConfirmOrder:
    """Mark a running order confirmed."""

    order_id: str


@dataclass(frozen=True)
class CancelOrder:
    """Mark an order cancelled with the reason its saga gave."""

    order_id: str
    reason: str


Command = (
    ReserveInventory | ReleaseInventory | ChargePayment | RefundPayment | ConfirmOrder | CancelOrder
)


@dataclass(frozen=True)
class Envelope:
    """A command as it travels on a participant's queue, with the saga's task token."""

    command: Command
    task_token: str
    # The id that follows the order from the API request through the saga, for the logs.
    correlation_id: str = ""

    def __post_init__(self) -> None:
        # A command sent before commands carried one is followed by its order id.
        if not self.correlation_id:
            object.__setattr__(self, "correlation_id", self.command.order_id)

    @property
    def action(self) -> str:
        return type(self.command).__name__

    @property
    def order_id(self) -> str:
        return self.command.order_id


def _text(body: dict[str, Any], key: str, max_length: int = 200) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidCommandError(f"'{key}' must be a non-empty string of at most {max_length}")
    return value


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidCommandError(f"'{name}' must be a positive integer")
    return value


def _stock_lines(body: dict[str, Any]) -> tuple[StockLine, ...]:
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidCommandError("'lines' must be a non-empty list")
    parsed = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise InvalidCommandError(f"'lines[{index}]' must be an object")
        parsed.append(
            StockLine(
                sku=_text(line, "sku"),
                quantity=_positive_int(line.get("quantity"), f"lines[{index}].quantity"),
            )
        )
    return tuple(parsed)


def _money(body: dict[str, Any]) -> Money:
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise InvalidCommandError("'amount' must be an object with amount and currency")
    units = _positive_int(amount.get("amount"), "amount.amount")
    currency = _text(amount, "currency", 3)
    try:
        places = minor_units(currency)
    except ValueError:
        places = None
    if places is None:
        raise InvalidCommandError("'currency' must be an ISO 4217 code with minor units")
    return Money(units, currency)


def _build(action: str, body: dict[str, Any]) -> Command:
    order_id = _text(body, "orderId")
    if action == "ReserveInventory":
        return ReserveInventory(order_id, _stock_lines(body))
    if action == "ReleaseInventory":
        return ReleaseInventory(order_id)
    if action == "ChargePayment":
        return ChargePayment(order_id, _text(body, "customerId"), _money(body))
    if action == "RefundPayment":
        return RefundPayment(order_id)
    if action == "ConfirmOrder":
        return ConfirmOrder(order_id)
    if action == "CancelOrder":
        return CancelOrder(order_id, _text(body, "reason", 500))
    raise InvalidCommandError(f"unknown action {action!r}")


def parse_command(body: Any, accepted: frozenset[str]) -> Command:
    """Read a message body (task token or not) as one of the commands in `accepted`."""
    if not isinstance(body, dict):
        raise InvalidCommandError("a command must be a JSON object")
    action = body.get("action")
    # A list or object is unhashable: `in` on the frozenset would raise TypeError, not refuse.
    if not isinstance(action, str) or action not in accepted:
        raise InvalidCommandError(f"action {action!r} is not one of {sorted(accepted)}")
    return _build(action, body)


def parse_envelope(body: Any, accepted: frozenset[str]) -> Envelope:
    """Read one queue message body as an Envelope for a worker that accepts `accepted`."""
    command = parse_command(body, accepted)
    correlation_id = body.get("correlationId")
    return Envelope(
        command=command,
        task_token=_text(body, "taskToken", 4096),
        # A malformed one costs the logs their link to the request, never the command.
        correlation_id=correlation_id
        if isinstance(correlation_id, str) and len(correlation_id) <= 200
        else "",
    )
