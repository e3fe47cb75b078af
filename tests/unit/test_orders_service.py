"""The orders participant: place, read, confirm, cancel, republish."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from order_saga.bootstrap import RandomOrderIds
from order_saga.domain.commands import CancelOrder, ConfirmOrder
from order_saga.domain.errors import OrderNotConfirmableError, OrderNotFoundError
from order_saga.domain.model import Money, Order, OrderLine, OrderStatus
from order_saga.domain.requests import PlaceOrder, check_order_id
from order_saga.service_layer.orders import (
    cancel_order,
    confirm_order,
    count_stuck,
    get_order,
    place_order,
    republish_pending,
)

from .fakes import FakeEventPublisher, FakeOrderRepository, FakeSagaExecutions, FixedClock

ORDER_ID = "6f1c2a4e-7d55-4b1e-9a57-0a8c3e2f9b10"
LINES = (OrderLine("SKU-1", 2, Money(1250, "EUR")), OrderLine("SKU-2", 1, Money(300, "EUR")))
REQUEST = PlaceOrder("cust-1", LINES)


class BusDown(Exception):
    """What a publisher raises when the bus does not take the event."""


def ids(orders: list[Order]) -> list[str]:
    return [order.order_id for order in orders]


def stored(order_id: str = ORDER_ID, status: OrderStatus = OrderStatus.PENDING, **kw: Any) -> Order:
    fields: dict[str, Any] = {"created_at": "2025-01-15T09:00:00.000Z", **kw}
    fields.setdefault("updated_at", fields["created_at"])
    return Order(order_id, "cust-1", LINES, status=status, **fields)


# place_order


def test_placing_an_order_stores_it_pending_at_the_current_time(
    orders: FakeOrderRepository, publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    placed = place_order(REQUEST, ORDER_ID, orders, publisher, clock)

    expected = Order(
        ORDER_ID,
        "cust-1",
        LINES,
        status=OrderStatus.PENDING,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    assert orders.get(ORDER_ID) == expected
    assert placed.order == expected
    assert placed.emit_error is None


def test_placing_an_order_announces_it_once_with_its_total(
    orders: FakeOrderRepository, publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    place_order(REQUEST, ORDER_ID, orders, publisher, clock)

    assert publisher.published == [
        (
            "OrderCreated",
            {
                "orderId": ORDER_ID,
                "customerId": "cust-1",
                "lines": [
                    {"sku": "SKU-1", "quantity": 2, "unitPrice": 1250},
                    {"sku": "SKU-2", "quantity": 1, "unitPrice": 300},
                ],
                "total": {"amount": 2800, "currency": "EUR"},
                "createdAt": clock.now(),
                "correlationId": ORDER_ID,
            },
        )
    ]


def test_an_order_is_stored_and_announced_with_the_correlation_id_of_its_request(
    orders: FakeOrderRepository, publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    placed = place_order(REQUEST, ORDER_ID, orders, publisher, clock, "req-1")

    assert placed.order.correlation_id == "req-1"
    assert orders.get(ORDER_ID) == placed.order
    assert [detail["correlationId"] for _, detail in publisher.published] == ["req-1"]


def test_a_retried_request_keeps_the_correlation_id_of_the_request_that_stored_the_order(
    orders: FakeOrderRepository, publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    place_order(REQUEST, ORDER_ID, orders, publisher, clock, "req-1")

    again = place_order(REQUEST, ORDER_ID, orders, publisher, clock, "req-2")

    assert again.order.correlation_id == "req-1"
    assert [detail["correlationId"] for _, detail in publisher.published] == ["req-1", "req-1"]


class StoreWatchingPublisher(FakeEventPublisher):
    """Notes, at each publish, whether the announced order was already stored."""

    def __init__(self, orders: FakeOrderRepository) -> None:
        super().__init__()
        self.orders = orders
        self.stored_at_publish: list[bool] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.stored_at_publish.append(self.orders.get(detail["orderId"]) is not None)
        super().publish(detail_type, detail)


def test_the_order_is_stored_before_it_is_announced(
    orders: FakeOrderRepository, clock: FixedClock
) -> None:
    publisher = StoreWatchingPublisher(orders)

    place_order(REQUEST, ORDER_ID, orders, publisher, clock)

    assert publisher.stored_at_publish == [True]


def test_a_bus_outage_keeps_the_order_pending_and_returns_the_error(
    orders: FakeOrderRepository, clock: FixedClock
) -> None:
    outage = BusDown("EventBridge refused the entry")
    publisher = FakeEventPublisher(fail_with=outage)

    placed = place_order(REQUEST, ORDER_ID, orders, publisher, clock)

    assert placed.emit_error is outage
    assert placed.order.order_id == ORDER_ID
    stored_order = orders.get(ORDER_ID)
    assert stored_order is not None
    assert stored_order.status is OrderStatus.PENDING
    assert publisher.published == []


def test_an_order_whose_announcement_failed_is_announced_by_the_republisher(
    orders: FakeOrderRepository, clock: FixedClock
) -> None:
    publisher = FakeEventPublisher(fail_with=BusDown("down"))
    place_order(REQUEST, ORDER_ID, orders, publisher, clock)
    publisher.fail_with = None

    emitted, failed = republish_pending(orders, publisher, "2025-01-15T10:05:00.000Z")

    assert (ids(emitted), failed) == ([ORDER_ID], [])
    assert [(kind, detail["orderId"]) for kind, detail in publisher.published] == [
        ("OrderCreated", ORDER_ID)
    ]


def test_a_repeated_request_for_a_pending_order_announces_the_stored_order_again(
    orders: FakeOrderRepository, publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    first = place_order(REQUEST, ORDER_ID, orders, publisher, clock)
    clock.current = "2025-01-15T10:00:30.000Z"
    other_lines = (OrderLine("SKU-9", 1, Money(100, "EUR")),)

    again = place_order(PlaceOrder("cust-1", other_lines), ORDER_ID, orders, publisher, clock)

    assert again.order == first.order
    assert again.emit_error is None
    assert orders.get(ORDER_ID) == first.order
    assert len(publisher.published) == 2
    assert publisher.published[1] == publisher.published[0]


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.RUNNING,
        OrderStatus.CONFIRMED,
        OrderStatus.CANCELLED,
        OrderStatus.COMPENSATION_FAILED,
    ],
)
def test_a_repeated_request_for_an_order_past_pending_is_not_announced_again(
    publisher: FakeEventPublisher, clock: FixedClock, status: OrderStatus
) -> None:
    existing = stored(status=status)
    orders = FakeOrderRepository(existing)

    placed = place_order(REQUEST, ORDER_ID, orders, publisher, clock)

    assert placed.order == existing
    assert placed.emit_error is None
    assert publisher.published == []
    assert orders.get(ORDER_ID) == existing


class VanishingOrders(FakeOrderRepository):
    """Says the id is taken, then finds no order under it."""

    def add(self, order: Order) -> bool:
        return False


def test_an_id_that_is_taken_but_holds_no_order_is_reported_not_found(
    publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    with pytest.raises(OrderNotFoundError) as caught:
        place_order(REQUEST, ORDER_ID, VanishingOrders(), publisher, clock)

    assert caught.value.order_id == ORDER_ID
    assert publisher.published == []


# order ids


def test_every_order_id_is_random_and_one_that_get_order_accepts() -> None:
    ids = [RandomOrderIds().new_id() for _ in range(200)]

    assert len(set(ids)) == 200
    assert all(check_order_id(order_id) == order_id for order_id in ids)
    # Version 4: 122 random bits, nothing derived from the customer or the key.
    assert {uuid.UUID(order_id).version for order_id in ids} == {4}


# get_order


def test_get_order_returns_the_stored_order() -> None:
    order = stored(status=OrderStatus.RUNNING)

    assert get_order(ORDER_ID, "cust-1", FakeOrderRepository(order)) == order


def test_get_order_of_an_unknown_id_raises_order_not_found(orders: FakeOrderRepository) -> None:
    with pytest.raises(OrderNotFoundError) as caught:
        get_order(ORDER_ID, "cust-1", orders)

    assert caught.value.order_id == ORDER_ID


def test_another_customers_order_is_as_unknown_as_a_missing_one() -> None:
    orders = FakeOrderRepository(stored(status=OrderStatus.CONFIRMED))

    with pytest.raises(OrderNotFoundError) as caught:
        get_order(ORDER_ID, "cust-2", orders)

    assert caught.value.order_id == ORDER_ID
    assert str(caught.value) == str(OrderNotFoundError(ORDER_ID))


# confirm_order


def test_confirming_a_running_order_marks_it_confirmed_at_the_current_time(
    clock: FixedClock,
) -> None:
    orders = FakeOrderRepository(stored(status=OrderStatus.RUNNING))

    result = confirm_order(ConfirmOrder(ORDER_ID), orders, clock)

    assert result == {"orderId": ORDER_ID, "status": "CONFIRMED"}
    order = orders.get(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.CONFIRMED
    assert order.updated_at == clock.now()


def test_a_repeated_confirmation_changes_nothing(clock: FixedClock) -> None:
    orders = FakeOrderRepository(stored(status=OrderStatus.RUNNING))
    confirm_order(ConfirmOrder(ORDER_ID), orders, clock)
    after_first = orders.get(ORDER_ID)
    clock.current = "2025-01-15T11:00:00.000Z"

    result = confirm_order(ConfirmOrder(ORDER_ID), orders, clock)

    assert result == {"orderId": ORDER_ID, "status": "CONFIRMED"}
    assert orders.get(ORDER_ID) == after_first


@pytest.mark.parametrize(
    "status",
    [OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.COMPENSATION_FAILED],
)
def test_an_order_that_is_not_running_cannot_be_confirmed(
    clock: FixedClock, status: OrderStatus
) -> None:
    before = stored(status=status)
    orders = FakeOrderRepository(before)

    with pytest.raises(OrderNotConfirmableError) as caught:
        confirm_order(ConfirmOrder(ORDER_ID), orders, clock)

    assert (caught.value.order_id, caught.value.status) == (ORDER_ID, status.value)
    assert orders.get(ORDER_ID) == before


def test_confirming_an_unknown_order_raises_order_not_found(
    orders: FakeOrderRepository, clock: FixedClock
) -> None:
    with pytest.raises(OrderNotFoundError):
        confirm_order(ConfirmOrder(ORDER_ID), orders, clock)


# cancel_order


@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING, OrderStatus.RUNNING, OrderStatus.CONFIRMED]
)
def test_cancelling_marks_the_order_cancelled_with_the_saga_reason(
    clock: FixedClock, status: OrderStatus
) -> None:
    orders = FakeOrderRepository(stored(status=status))

    result = cancel_order(CancelOrder(ORDER_ID, "OutOfStockError"), orders, clock)

    assert result == {"orderId": ORDER_ID, "status": "CANCELLED"}
    order = orders.get(ORDER_ID)
    assert order is not None
    assert (order.status, order.reason, order.updated_at) == (
        OrderStatus.CANCELLED,
        "OutOfStockError",
        clock.now(),
    )


def test_a_repeated_cancellation_keeps_the_first_reason(clock: FixedClock) -> None:
    orders = FakeOrderRepository(stored(status=OrderStatus.RUNNING))
    cancel_order(CancelOrder(ORDER_ID, "PaymentDeclinedError"), orders, clock)
    after_first = orders.get(ORDER_ID)
    clock.current = "2025-01-15T11:00:00.000Z"

    cancel_order(CancelOrder(ORDER_ID, "States.Timeout"), orders, clock)

    assert orders.get(ORDER_ID) == after_first


def test_cancelling_an_order_whose_compensation_failed_leaves_it_for_a_human(
    clock: FixedClock,
) -> None:
    parked = stored(status=OrderStatus.COMPENSATION_FAILED, reason="States.Timeout")
    orders = FakeOrderRepository(parked)

    cancel_order(CancelOrder(ORDER_ID, "OutOfStockError"), orders, clock)

    assert orders.get(ORDER_ID) == parked


def test_cancelling_an_unknown_order_raises_order_not_found(
    orders: FakeOrderRepository, clock: FixedClock
) -> None:
    with pytest.raises(OrderNotFoundError):
        cancel_order(CancelOrder(ORDER_ID, "OutOfStockError"), orders, clock)


def test_a_cancelled_pending_order_is_no_longer_republished(
    publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    orders = FakeOrderRepository(stored())
    cancel_order(CancelOrder(ORDER_ID, "OutOfStockError"), orders, clock)

    assert republish_pending(orders, publisher, "2099-01-01T00:00:00.000Z") == ([], [])
    assert publisher.published == []


# republish_pending


def order_created_at(index: int, created_at: str, status: OrderStatus) -> Order:
    return stored(f"00000000-0000-4000-8000-00000000000{index}", status, created_at=created_at)


def test_republishing_announces_only_pending_orders_created_before_the_cutoff(
    publisher: FakeEventPublisher,
) -> None:
    orders = FakeOrderRepository(
        order_created_at(1, "2025-01-15T09:00:00.000Z", OrderStatus.PENDING),
        order_created_at(2, "2025-01-15T09:30:00.000Z", OrderStatus.RUNNING),
        order_created_at(3, "2025-01-15T09:59:59.999Z", OrderStatus.PENDING),
        order_created_at(4, "2025-01-15T10:00:00.000Z", OrderStatus.PENDING),
        order_created_at(5, "2025-01-15T08:00:00.000Z", OrderStatus.CONFIRMED),
    )

    emitted, _ = republish_pending(orders, publisher, created_before="2025-01-15T10:00:00.000Z")

    assert ids(emitted) == [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000003",
    ]
    assert [detail["orderId"] for _, detail in publisher.published] == ids(emitted)
    assert {kind for kind, _ in publisher.published} == {"OrderCreated"}


def test_republishing_announces_each_order_under_its_stored_correlation_id(
    publisher: FakeEventPublisher,
) -> None:
    orders = FakeOrderRepository(
        stored("00000000-0000-4000-8000-000000000001", correlation_id="req-1"),
        stored("00000000-0000-4000-8000-000000000002"),
    )

    emitted, _ = republish_pending(orders, publisher, "2025-01-15T10:00:00.000Z")

    assert [order.correlation_id for order in emitted] == [
        "req-1",
        "00000000-0000-4000-8000-000000000002",
    ]
    assert [detail["correlationId"] for _, detail in publisher.published] == [
        order.correlation_id for order in emitted
    ]


def test_republishing_takes_at_most_the_limit_oldest_first(
    publisher: FakeEventPublisher,
) -> None:
    orders = FakeOrderRepository(
        *(
            order_created_at(i, f"2025-01-15T09:0{9 - i}:00.000Z", OrderStatus.PENDING)
            for i in range(5)
        )
    )

    emitted, _ = republish_pending(orders, publisher, "2025-01-15T10:00:00.000Z", limit=2)

    assert ids(emitted) == [
        "00000000-0000-4000-8000-000000000004",
        "00000000-0000-4000-8000-000000000003",
    ]


def test_republishing_with_nothing_pending_publishes_nothing(
    orders: FakeOrderRepository, publisher: FakeEventPublisher
) -> None:
    assert republish_pending(orders, publisher, "2025-01-15T10:00:00.000Z") == ([], [])
    assert publisher.published == []


def test_an_order_the_bus_refuses_does_not_keep_the_others_from_being_republished(
    publisher: FakeEventPublisher,
) -> None:
    orders = FakeOrderRepository(
        order_created_at(1, "2025-01-15T09:00:00.000Z", OrderStatus.PENDING),
        order_created_at(2, "2025-01-15T09:01:00.000Z", OrderStatus.PENDING),
    )
    refused = BusDown("the bus refused it")
    real_publish = publisher.publish

    def publish_all_but_the_first(detail_type: str, detail: dict[str, object]) -> None:
        if detail["orderId"] == "00000000-0000-4000-8000-000000000001":
            raise refused
        real_publish(detail_type, detail)

    publisher.publish = publish_all_but_the_first  # type: ignore[method-assign]

    emitted, failed = republish_pending(orders, publisher, "2025-01-15T10:00:00.000Z")

    assert ids(emitted) == ["00000000-0000-4000-8000-000000000002"]
    assert [(order.order_id, error) for order, error in failed] == [
        ("00000000-0000-4000-8000-000000000001", refused)
    ]


def test_a_bus_outage_while_republishing_is_reported_and_the_order_stays_pending() -> None:
    orders = FakeOrderRepository(stored())
    outage = BusDown("down")

    emitted, failed = republish_pending(
        orders, FakeEventPublisher(fail_with=outage), "2099-01-01T00:00:00Z"
    )

    assert (emitted, [(order.order_id, error) for order, error in failed]) == (
        [],
        [(ORDER_ID, outage)],
    )
    still = orders.get(ORDER_ID)
    assert still is not None
    assert still.status is OrderStatus.PENDING


def test_a_claimed_order_is_not_republished(
    publisher: FakeEventPublisher, clock: FixedClock
) -> None:
    orders = FakeOrderRepository(stored())
    assert orders.claim(ORDER_ID, "arn:execution:1", clock.now())

    assert republish_pending(orders, publisher, "2099-01-01T00:00:00.000Z") == ([], [])
    claimed = orders.get(ORDER_ID)
    assert claimed == replace(
        stored(), status=OrderStatus.RUNNING, execution_id="arn:execution:1", updated_at=clock.now()
    )


# count_stuck


def test_stuck_orders_are_the_unclaimed_and_the_running_sagas_older_than_the_cutoff() -> None:
    orders = FakeOrderRepository(
        order_created_at(1, "2025-01-15T09:00:00.000Z", OrderStatus.PENDING),
        order_created_at(2, "2025-01-15T09:30:00.000Z", OrderStatus.RUNNING),
        order_created_at(3, "2025-01-15T10:00:00.000Z", OrderStatus.PENDING),
        order_created_at(4, "2025-01-15T08:00:00.000Z", OrderStatus.CONFIRMED),
    )
    sagas = FakeSagaExecutions(
        ("2025-01-15T09:30:00.000Z", "RUNNING"),
        ("2025-01-15T09:40:00.000Z", "SUCCEEDED"),
        ("2025-01-15T10:00:00.000Z", "RUNNING"),
    )

    assert count_stuck(orders, sagas, "2025-01-15T10:00:00.000Z") == 2
    assert count_stuck(orders, sagas, "2025-01-15T08:59:59.999Z") == 0
