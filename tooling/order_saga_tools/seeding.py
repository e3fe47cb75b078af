"""Put stock and balances into the local tables, and read them back."""

from __future__ import annotations

from typing import Any

from order_saga.adapters.dynamodb_inventory import DynamoDBInventoryStore, stock_key
from order_saga.adapters.dynamodb_payments import DynamoDBPaymentLedger, balance_key
from order_saga.domain.model import Money


def seed(
    cloud: Any, stock_by_sku: dict[str, int], balance_by_customer: dict[str, int], currency: str
) -> None:
    inventory = DynamoDBInventoryStore(cloud.client("dynamodb"), cloud.ref("InventoryTable"))
    for sku, units in stock_by_sku.items():
        inventory.set_stock(sku, units)
    ledger = DynamoDBPaymentLedger(cloud.client("dynamodb"), cloud.ref("PaymentsTable"))
    for customer_id, amount in balance_by_customer.items():
        ledger.set_balance(customer_id, Money(amount, currency))


def _numbers(cloud: Any, table: str, keys: dict[str, str], attribute: str) -> dict[str, int]:
    ddb = cloud.client("dynamodb")
    result = {}
    for name, key in keys.items():
        item = ddb.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get(
            "Item", {}
        )
        result[name] = int(item.get(attribute, {}).get("N", "0"))
    return result


def stock(cloud: Any, skus: Any) -> dict[str, int]:
    """Available units per SKU."""
    keys = {sku: stock_key(sku)["pk"] for sku in skus}
    return _numbers(cloud, cloud.ref("InventoryTable"), keys, "available")


def balances(cloud: Any, customers: Any) -> dict[str, int]:
    """Balance per customer, in minor units of its currency."""
    keys = {customer_id: balance_key(customer_id) for customer_id in customers}
    return _numbers(cloud, cloud.ref("PaymentsTable"), keys, "balance")
