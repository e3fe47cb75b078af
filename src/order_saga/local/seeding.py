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
    for customer_id, cents in balance_by_customer.items():
        ledger.set_balance(customer_id, Money(cents, currency))


def stock(cloud: Any, skus: Any) -> dict[str, int]:
    """Available units per SKU."""
    ddb = cloud.client("dynamodb")
    table = cloud.ref("InventoryTable")
    result = {}
    for sku in skus:
        item = ddb.get_item(
            TableName=table, Key={"pk": {"S": stock_key(sku)["pk"]}}, ConsistentRead=True
        ).get("Item", {})
        result[sku] = int(item.get("available", {}).get("N", "0"))
    return result


def balances(cloud: Any, customers: Any) -> dict[str, int]:
    """Balance per customer, in cents."""
    ddb = cloud.client("dynamodb")
    table = cloud.ref("PaymentsTable")
    result = {}
    for customer_id in customers:
        item = ddb.get_item(
            TableName=table, Key={"pk": {"S": balance_key(customer_id)}}, ConsistentRead=True
        ).get("Item", {})
        result[customer_id] = int(item.get("balance", {}).get("N", "0"))
    return result
