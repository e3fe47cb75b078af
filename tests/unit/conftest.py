"""Fakes for every port, fresh for each test."""

from __future__ import annotations

import pytest

from order_saga.domain.model import Money

from .fakes import (
    FakeEventPublisher,
    FakeInventoryStore,
    FakeOrderRepository,
    FakePaymentLedger,
    FakeTaskReporter,
    FixedClock,
)


@pytest.fixture
def orders() -> FakeOrderRepository:
    return FakeOrderRepository()


@pytest.fixture
def publisher() -> FakeEventPublisher:
    return FakeEventPublisher()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock("2025-01-15T10:00:00.000Z")


@pytest.fixture
def inventory() -> FakeInventoryStore:
    return FakeInventoryStore({"SKU-1": 10, "SKU-2": 5})


@pytest.fixture
def ledger() -> FakePaymentLedger:
    return FakePaymentLedger({"cust-1": Money(10_000, "EUR")})


@pytest.fixture
def reporter() -> FakeTaskReporter:
    return FakeTaskReporter()
