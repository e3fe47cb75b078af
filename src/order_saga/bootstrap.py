"""The composition root: real adapters, built once per cold start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from order_saga.adapters.dynamodb_inventory import DynamoDBInventoryStore
from order_saga.adapters.dynamodb_orders import DynamoDBOrderRepository
from order_saga.adapters.dynamodb_payments import DynamoDBPaymentLedger
from order_saga.adapters.eventbridge import EventBridgeEventPublisher
from order_saga.adapters.stepfunctions import StepFunctionsTaskReporter
from order_saga.config import (
    InventorySettings,
    OrderReaderSettings,
    OrdersSettings,
    PaymentSettings,
)
from order_saga.service_layer.ports import (
    Clock,
    EventPublisher,
    InventoryStore,
    OrderRepository,
    PaymentLedger,
    TaskReporter,
)


class SystemClock:
    """Clock on the system time, with millisecond precision."""

    def now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class OrdersContainer:
    orders: OrderRepository
    publisher: EventPublisher
    reporter: TaskReporter
    clock: Clock
    settings: OrdersSettings


@dataclass
class OrderReaderContainer:
    orders: OrderRepository
    settings: OrderReaderSettings


@dataclass
class InventoryContainer:
    store: InventoryStore
    reporter: TaskReporter
    settings: InventorySettings


@dataclass
class PaymentContainer:
    ledger: PaymentLedger
    reporter: TaskReporter
    settings: PaymentSettings


def _reporter(on_closed_token: Any = None) -> TaskReporter:
    return StepFunctionsTaskReporter(boto3.client("stepfunctions"), on_closed_token)


def orders_container(on_closed_token: Any = None) -> OrdersContainer:
    settings = OrdersSettings.from_environ()
    return OrdersContainer(
        orders=DynamoDBOrderRepository(boto3.resource("dynamodb").Table(settings.orders_table)),
        publisher=EventBridgeEventPublisher(boto3.client("events"), settings.event_bus_name),
        reporter=_reporter(on_closed_token),
        clock=SystemClock(),
        settings=settings,
    )


def order_reader_container() -> OrderReaderContainer:
    settings = OrderReaderSettings.from_environ()
    table = boto3.resource("dynamodb").Table(settings.orders_table)
    return OrderReaderContainer(orders=DynamoDBOrderRepository(table), settings=settings)


def inventory_container(on_closed_token: Any = None) -> InventoryContainer:
    settings = InventorySettings.from_environ()
    return InventoryContainer(
        store=DynamoDBInventoryStore(boto3.client("dynamodb"), settings.inventory_table),
        reporter=_reporter(on_closed_token),
        settings=settings,
    )


def payment_container(on_closed_token: Any = None) -> PaymentContainer:
    settings = PaymentSettings.from_environ()
    return PaymentContainer(
        ledger=DynamoDBPaymentLedger(boto3.client("dynamodb"), settings.payments_table),
        reporter=_reporter(on_closed_token),
        settings=settings,
    )
