"""Environment variables, read once per cold start; a missing one fails with its name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Self


class MissingSettingError(RuntimeError):
    """A required environment variable is not set (or is empty)."""


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise MissingSettingError(f"environment variable {name} is not set")
    return value


class _FromEnviron:
    """Each field is read from the environment variable of the same name in upper case."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Self:
        names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
        return cls(**{name: _require(environ, name.upper()) for name in names})


@dataclass(frozen=True)
class OrdersSettings(_FromEnviron):
    """What CreateOrder needs."""

    orders_table: str
    event_bus_name: str
    idempotency_table: str
    customer_id_claim: str


@dataclass(frozen=True)
class OrderReaderSettings(_FromEnviron):
    """What GetOrder needs: read access to the orders, and where the caller's id is."""

    orders_table: str
    customer_id_claim: str


@dataclass(frozen=True)
class OrderWorkerSettings(_FromEnviron):
    """What the order worker needs."""

    orders_table: str
    idempotency_table: str


@dataclass(frozen=True)
class RepublisherSettings(_FromEnviron):
    """What the republisher needs."""

    orders_table: str
    event_bus_name: str
    state_machine_arn: str


@dataclass(frozen=True)
class InventorySettings(_FromEnviron):
    """What the inventory worker needs."""

    inventory_table: str
    idempotency_table: str


@dataclass(frozen=True)
class PaymentSettings(_FromEnviron):
    """What the payment worker needs."""

    payments_table: str
    idempotency_table: str
