"""Environment variables, read once per cold start; a missing one fails with its name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class MissingSettingError(RuntimeError):
    """A required environment variable is not set (or is empty)."""


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise MissingSettingError(f"environment variable {name} is not set")
    return value


@dataclass(frozen=True)
class OrdersSettings:
    """What the order API, the order worker and the republisher need."""

    orders_table: str
    event_bus_name: str
    idempotency_table: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> OrdersSettings:
        return cls(
            orders_table=_require(environ, "ORDERS_TABLE"),
            event_bus_name=_require(environ, "EVENT_BUS_NAME"),
            idempotency_table=_require(environ, "IDEMPOTENCY_TABLE"),
        )


@dataclass(frozen=True)
class OrderReaderSettings:
    """What GetOrder needs: read access to the orders, nothing else."""

    orders_table: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> OrderReaderSettings:
        return cls(orders_table=_require(environ, "ORDERS_TABLE"))


@dataclass(frozen=True)
class InventorySettings:
    """What the inventory worker needs."""

    inventory_table: str
    idempotency_table: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> InventorySettings:
        return cls(
            inventory_table=_require(environ, "INVENTORY_TABLE"),
            idempotency_table=_require(environ, "IDEMPOTENCY_TABLE"),
        )


@dataclass(frozen=True)
class PaymentSettings:
    """What the payment worker needs."""

    payments_table: str
    idempotency_table: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> PaymentSettings:
        return cls(
            payments_table=_require(environ, "PAYMENTS_TABLE"),
            idempotency_table=_require(environ, "IDEMPOTENCY_TABLE"),
        )
