"""The inventory participant: reserve stock, and its compensation, release."""

from __future__ import annotations

import pytest

from order_saga.domain.commands import ReleaseInventory, ReserveInventory, StockLine
from order_saga.domain.errors import OutOfStockError, ParticipantUnavailableError
from order_saga.service_layer.inventory import merged, release_inventory, reserve_inventory

from .fakes import FakeInventoryStore

ORDER_ID = "6f1c2a4e-7d55-4b1e-9a57-0a8c3e2f9b10"


def reserve(*lines: tuple[str, int], order_id: str = ORDER_ID) -> ReserveInventory:
    return ReserveInventory(order_id, tuple(StockLine(sku, quantity) for sku, quantity in lines))


def test_merged_gives_one_sorted_line_per_sku() -> None:
    lines = (StockLine("SKU-2", 1), StockLine("SKU-1", 2), StockLine("SKU-2", 4))

    assert merged(lines) == (StockLine("SKU-1", 2), StockLine("SKU-2", 5))


def test_a_reservation_takes_every_line_from_stock(inventory: FakeInventoryStore) -> None:
    result = reserve_inventory(reserve(("SKU-1", 3), ("SKU-2", 5)), inventory)

    assert result == {
        "orderId": ORDER_ID,
        "reserved": [{"sku": "SKU-1", "quantity": 3}, {"sku": "SKU-2", "quantity": 5}],
        "repeat": False,
    }
    assert inventory.stock == {"SKU-1": 7, "SKU-2": 0}


def test_lines_of_the_same_sku_are_reserved_as_one(inventory: FakeInventoryStore) -> None:
    # A DynamoDB transaction (and the fake) refuses to touch one stock item twice.
    result = reserve_inventory(reserve(("SKU-2", 1), ("SKU-1", 2), ("SKU-2", 3)), inventory)

    assert result["reserved"] == [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 4}]
    assert inventory.stock == {"SKU-1": 8, "SKU-2": 1}


def test_merged_lines_that_together_exceed_the_stock_are_out_of_stock(
    inventory: FakeInventoryStore,
) -> None:
    with pytest.raises(OutOfStockError) as caught:
        reserve_inventory(reserve(("SKU-2", 3), ("SKU-2", 3)), inventory)

    assert caught.value.skus == ["SKU-2"]
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}


def test_a_repeated_reservation_changes_nothing(inventory: FakeInventoryStore) -> None:
    command = reserve(("SKU-1", 3))
    reserve_inventory(command, inventory)

    result = reserve_inventory(command, inventory)

    assert result["repeat"] is True
    assert result["reserved"] == [{"sku": "SKU-1", "quantity": 3}]
    assert inventory.stock == {"SKU-1": 7, "SKU-2": 5}


def test_a_reservation_is_all_or_nothing_when_one_line_is_short(
    inventory: FakeInventoryStore,
) -> None:
    with pytest.raises(OutOfStockError) as caught:
        reserve_inventory(reserve(("SKU-1", 3), ("SKU-2", 6)), inventory)

    assert caught.value.skus == ["SKU-2"]
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}
    assert ORDER_ID not in inventory.reservations


def test_an_unknown_sku_is_out_of_stock(inventory: FakeInventoryStore) -> None:
    with pytest.raises(OutOfStockError) as caught:
        reserve_inventory(reserve(("SKU-1", 1), ("NOPE-1", 1)), inventory)

    assert caught.value.skus == ["NOPE-1"]


def test_an_order_refused_for_stock_can_be_reserved_once_stock_arrives(
    inventory: FakeInventoryStore,
) -> None:
    command = reserve(("SKU-2", 6))
    with pytest.raises(OutOfStockError):
        reserve_inventory(command, inventory)
    inventory.stock["SKU-2"] = 6

    assert reserve_inventory(command, inventory)["repeat"] is False
    assert inventory.stock["SKU-2"] == 0


def test_reserving_exactly_the_stock_left_succeeds(inventory: FakeInventoryStore) -> None:
    reserve_inventory(reserve(("SKU-2", 5)), inventory)

    assert inventory.stock["SKU-2"] == 0


def test_releasing_gives_the_reserved_stock_back(inventory: FakeInventoryStore) -> None:
    reserve_inventory(reserve(("SKU-1", 3), ("SKU-2", 2)), inventory)

    result = release_inventory(ReleaseInventory(ORDER_ID), inventory)

    assert result == {"orderId": ORDER_ID, "released": True}
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}


def test_a_repeated_release_changes_nothing(inventory: FakeInventoryStore) -> None:
    reserve_inventory(reserve(("SKU-1", 3)), inventory)
    release_inventory(ReleaseInventory(ORDER_ID), inventory)

    result = release_inventory(ReleaseInventory(ORDER_ID), inventory)

    assert result == {"orderId": ORDER_ID, "released": False}
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}


def test_releasing_with_nothing_reserved_is_a_no_op(inventory: FakeInventoryStore) -> None:
    result = release_inventory(ReleaseInventory(ORDER_ID), inventory)

    assert result == {"orderId": ORDER_ID, "released": False}
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}


def test_a_reservation_arriving_after_its_release_reserves_nothing(
    inventory: FakeInventoryStore,
) -> None:
    # The saga gave up on a slow reservation and compensated before it landed.
    release_inventory(ReleaseInventory(ORDER_ID), inventory)

    result = reserve_inventory(reserve(("SKU-1", 3)), inventory)

    assert result["repeat"] is True
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}
    assert release_inventory(ReleaseInventory(ORDER_ID), inventory)["released"] is False
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}


def test_a_released_order_cannot_be_reserved_again(inventory: FakeInventoryStore) -> None:
    reserve_inventory(reserve(("SKU-1", 3)), inventory)
    release_inventory(ReleaseInventory(ORDER_ID), inventory)

    assert reserve_inventory(reserve(("SKU-1", 3)), inventory)["repeat"] is True
    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}


def test_releasing_one_order_leaves_the_others_reserved(inventory: FakeInventoryStore) -> None:
    other = "00000000-0000-4000-8000-000000000001"
    reserve_inventory(reserve(("SKU-1", 3)), inventory)
    reserve_inventory(reserve(("SKU-1", 4), order_id=other), inventory)

    release_inventory(ReleaseInventory(ORDER_ID), inventory)

    assert inventory.stock["SKU-1"] == 6
    assert release_inventory(ReleaseInventory(other), inventory)["released"] is True
    assert inventory.stock["SKU-1"] == 10


def test_an_unavailable_store_raises_a_transient_error_and_changes_nothing(
    inventory: FakeInventoryStore,
) -> None:
    inventory.unavailable = True

    with pytest.raises(ParticipantUnavailableError):
        reserve_inventory(reserve(("SKU-1", 3)), inventory)
    with pytest.raises(ParticipantUnavailableError):
        release_inventory(ReleaseInventory(ORDER_ID), inventory)

    assert inventory.stock == {"SKU-1": 10, "SKU-2": 5}
    assert inventory.reservations == {}
