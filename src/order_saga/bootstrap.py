"""The composition root: real adapters, built once per cold start."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from order_saga.adapters.dynamodb_inventory import DynamoDBInventoryStore
from order_saga.adapters.dynamodb_orders import DynamoDBOrderRepository
from order_saga.adapters.dynamodb_payments import DynamoDBPaymentLedger
from order_saga.adapters.eventbridge import EventBridgeEventPublisher
from order_saga.adapters.stepfunctions import (
    StepFunctionsSagaExecutions,
    StepFunctionsTaskReporter,
)
from order_saga.config import (
    InventorySettings,
    OrderReaderSettings,
    OrdersSettings,
    OrderWorkerSettings,
    PaymentSettings,
    RepublisherSettings,
)
from order_saga.service_layer.ports import (
    Clock,
    EventPublisher,
    InventoryStore,
    OrderIdSource,
    OrderRepository,
    PaymentLedger,
    SagaExecutions,
    TaskReporter,
)


class SystemClock:
    """Clock on the system time, with millisecond precision."""

    def now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RandomOrderIds:
    """Order ids from 122 random bits (UUID version 4): nothing about them can be guessed."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


@dataclass
class OrdersContainer:
    """CreateOrder's ports."""

    orders: OrderRepository
    publisher: EventPublisher
    clock: Clock
    order_ids: OrderIdSource
    settings: OrdersSettings


@dataclass
class OrderReaderContainer:
    """GetOrder's port."""

    orders: OrderRepository
    settings: OrderReaderSettings


@dataclass
class OrderWorkerContainer:
    """The order worker's ports."""

    orders: OrderRepository
    reporter: TaskReporter
    clock: Clock
    settings: OrderWorkerSettings


@dataclass
class RepublisherContainer:
    """The republisher's ports."""

    orders: OrderRepository
    publisher: EventPublisher
    sagas: SagaExecutions
    settings: RepublisherSettings


@dataclass
class InventoryContainer:
    """The inventory worker's ports."""

    store: InventoryStore
    reporter: TaskReporter
    settings: InventorySettings


@dataclass
class PaymentContainer:
    """The payment worker's ports."""

    ledger: PaymentLedger
    reporter: TaskReporter
    settings: PaymentSettings


# Each handler builds only the clients it calls: a client costs its service model at cold start.


def _orders(table_name: str) -> OrderRepository:
    return DynamoDBOrderRepository(boto3.resource("dynamodb").Table(table_name))


def _publisher(bus_name: str) -> EventPublisher:
    return EventBridgeEventPublisher(boto3.client("events"), bus_name)


def _reporter(on_closed_token: Any = None) -> TaskReporter:
    return StepFunctionsTaskReporter(boto3.client("stepfunctions"), on_closed_token)


def orders_container() -> OrdersContainer:
    settings = OrdersSettings.from_environ()
    return OrdersContainer(
        orders=_orders(settings.orders_table),
        publisher=_publisher(settings.event_bus_name),
        clock=SystemClock(),
        order_ids=RandomOrderIds(),
        settings=settings,
    )


def order_reader_container() -> OrderReaderContainer:
    settings = OrderReaderSettings.from_environ()
    return OrderReaderContainer(orders=_orders(settings.orders_table), settings=settings)


def order_worker_container(on_closed_token: Any = None) -> OrderWorkerContainer:
    settings = OrderWorkerSettings.from_environ()
    return OrderWorkerContainer(
        orders=_orders(settings.orders_table),
        reporter=_reporter(on_closed_token),
        clock=SystemClock(),
        settings=settings,
    )


def republisher_container() -> RepublisherContainer:
    settings = RepublisherSettings.from_environ()
    return RepublisherContainer(
        orders=_orders(settings.orders_table),
        publisher=_publisher(settings.event_bus_name),
        sagas=StepFunctionsSagaExecutions(
            boto3.client("stepfunctions"), settings.state_machine_arn
        ),
        settings=settings,
    )


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
