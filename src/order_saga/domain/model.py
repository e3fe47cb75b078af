"""Orders, their lines and money: the saga's business objects."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order stands in its saga."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.CANCELLED, OrderStatus.COMPENSATION_FAILED}
)


def minor_units(currency: str) -> int | None:
    """Decimal places of an ISO 4217 code: JPY 0, EUR 2, KWD 3, XAU None; ValueError if unlisted."""
    # Imported here, not at the top: the table costs 70-100 ms of cold import, and the
    # inventory and order workers and the republisher never look a currency up.
    from iso4217 import Currency

    # Codes are matched as ISO 4217 writes them, upper case: "eur" is not a currency.
    return Currency(currency).exponent


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units of one ISO 4217 currency (cents, yen, fils); never a float."""

    amount: int
    currency: str

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(self.amount * factor, self.currency)

    def _check_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def places(self) -> int:
        places = minor_units(self.currency)
        if places is None:
            raise ValueError(f"{self.currency} has no minor units to count an amount in")
        return places

    def to_decimal_string(self) -> str:
        places = self.places
        return f"{Decimal(self.amount).scaleb(-places):.{places}f}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"


@dataclass(frozen=True)
class OrderLine:
    """One SKU, how many units of it and the price of one unit."""

    sku: str
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Order:
    """An order as stored, with the saga's view of it."""

    order_id: str
    customer_id: str
    lines: tuple[OrderLine, ...]
    status: OrderStatus = OrderStatus.PENDING
    reason: str | None = None
    created_at: str = ""
    updated_at: str = ""
    execution_id: str | None = None
    # The id that follows the order through its logs, from the request that placed it.
    correlation_id: str = ""

    def __post_init__(self) -> None:
        # An order placed before correlation ids existed is followed by its own id.
        if not self.correlation_id:
            object.__setattr__(self, "correlation_id", self.order_id)

    @property
    def currency(self) -> str:
        return self.lines[0].unit_price.currency

    @property
    def total(self) -> Money:
        total = Money.zero(self.currency)
        for line in self.lines:
            total = total + line.total
        return total


def quantities_by_sku(lines: tuple[OrderLine, ...]) -> dict[str, int]:
    """Units per SKU, merging lines that name the same SKU (one stock item per SKU)."""
    counts: Counter[str] = Counter()
    for line in lines:
        counts[line.sku] += line.quantity
    return dict(sorted(counts.items()))
