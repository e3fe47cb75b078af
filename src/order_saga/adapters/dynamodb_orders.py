"""DynamoDBOrderRepository: orders in their own table."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError

from order_saga.adapters.dynamodb_errors import error_code, raise_if_transient
from order_saga.domain.errors import OrderNotConfirmableError, OrderNotFoundError
from order_saga.domain.model import Money, Order, OrderLine, OrderStatus

PENDING_INDEX = "PendingOrders"
PENDING_MARK = "PENDING"


def order_to_item(order: Order) -> dict[str, Any]:
    item: dict[str, Any] = {
        "orderId": order.order_id,
        "customerId": order.customer_id,
        "currency": order.currency,
        "lines": [
            {"sku": line.sku, "quantity": line.quantity, "unitPrice": line.unit_price.amount}
            for line in order.lines
        ],
        "total": order.total.amount,
        "status": order.status.value,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "correlationId": order.correlation_id,
    }
    if order.status is OrderStatus.PENDING:
        item["pending"] = PENDING_MARK
    if order.reason:
        item["reason"] = order.reason
    if order.execution_id:
        item["executionId"] = order.execution_id
    return item


def item_to_order(item: dict[str, Any]) -> Order:
    currency = str(item["currency"])
    return Order(
        order_id=str(item["orderId"]),
        customer_id=str(item["customerId"]),
        lines=tuple(
            OrderLine(
                str(line["sku"]), int(line["quantity"]), Money(int(line["unitPrice"]), currency)
            )
            for line in item["lines"]
        ),
        status=OrderStatus(str(item["status"])),
        reason=item.get("reason"),
        created_at=str(item.get("createdAt", "")),
        updated_at=str(item.get("updatedAt", "")),
        execution_id=item.get("executionId"),
        correlation_id=str(item.get("correlationId", "")),
    )


class DynamoDBOrderRepository:
    """OrderRepository on a table keyed by orderId, with a sparse index of PENDING orders."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, order: Order) -> bool:
        try:
            self._table.put_item(
                Item=order_to_item(order), ConditionExpression="attribute_not_exists(orderId)"
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise_if_transient(exc)
            raise
        except BotoCoreError as exc:
            raise_if_transient(exc)
        return True

    def get(self, order_id: str) -> Order | None:
        try:
            item = self._table.get_item(Key={"orderId": order_id}, ConsistentRead=True).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise_if_transient(exc)
            raise
        return None if item is None else item_to_order(item)

    def _set_status(
        self,
        order_id: str,
        status: OrderStatus,
        allowed: list[str],
        now: str,
        reason: str | None = None,
    ) -> bool:
        names = {"#s": "status"}
        values: dict[str, Any] = {":new": status.value, ":now": now}
        update = "SET #s = :new, updatedAt = :now"
        if reason is not None:
            update += ", reason = :reason"
            values[":reason"] = reason
        allowed_keys = []
        for index, name in enumerate(allowed):
            values[f":a{index}"] = name
            allowed_keys.append(f":a{index}")
        condition = f"attribute_exists(orderId) AND #s IN ({', '.join(allowed_keys)})"
        try:
            self._table.update_item(
                Key={"orderId": order_id},
                UpdateExpression=update + " REMOVE pending",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise_if_transient(exc)
            raise
        except BotoCoreError as exc:
            raise_if_transient(exc)
        return True

    def confirm(self, order_id: str, now: str) -> None:
        if self._set_status(order_id, OrderStatus.CONFIRMED, [OrderStatus.RUNNING.value], now):
            return
        order = self.get(order_id)
        if order is None:
            raise OrderNotFoundError(order_id)
        if order.status is not OrderStatus.CONFIRMED:
            raise OrderNotConfirmableError(order_id, order.status.value)

    def cancel(self, order_id: str, reason: str, now: str) -> None:
        allowed = [
            OrderStatus.PENDING.value,
            OrderStatus.RUNNING.value,
            OrderStatus.CONFIRMED.value,
        ]
        if self._set_status(order_id, OrderStatus.CANCELLED, allowed, now, reason):
            return
        order = self.get(order_id)
        if order is None:
            raise OrderNotFoundError(order_id)

    def pending_before(self, created_before: str, limit: int) -> list[Order]:
        try:
            response = self._table.query(
                IndexName=PENDING_INDEX,
                KeyConditionExpression=Key("pending").eq(PENDING_MARK)
                & Key("createdAt").lt(created_before),
                Limit=limit,
            )
        except (ClientError, BotoCoreError) as exc:
            raise_if_transient(exc)
            raise
        return [item_to_order(item) for item in response.get("Items", [])]
