"""Use cases of the inventory participant: reserve stock and its inverse, release it."""

from __future__ import annotations

from typing import Any

from order_saga.domain.commands import ReleaseInventory, ReserveInventory, StockLine
from order_saga.service_layer.ports import InventoryStore


def merged(lines: tuple[StockLine, ...]) -> tuple[StockLine, ...]:
    """One line per SKU, sorted, since a transaction may touch each stock item only once."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return tuple(StockLine(sku, quantity) for sku, quantity in sorted(totals.items()))


def reserve_inventory(command: ReserveInventory, store: InventoryStore) -> dict[str, Any]:
    """Reserve every line or none; raises OutOfStockError; a repeat changes nothing."""
    lines = merged(command.lines)
    created = store.reserve(command.order_id, lines)
    return {
        "orderId": command.order_id,
        "reserved": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
        "repeat": not created,
    }


def release_inventory(command: ReleaseInventory, store: InventoryStore) -> dict[str, Any]:
    """Give back what the order holds; a no-op when it holds nothing or was released already."""
    released = store.release(command.order_id)
    return {"orderId": command.order_id, "released": released}
