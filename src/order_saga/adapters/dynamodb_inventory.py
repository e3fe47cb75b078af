"""DynamoDBInventoryStore: stock per SKU and one reservation record per order, in one table."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from order_saga.adapters.dynamodb_errors import cancellation_codes, error_code, raise_if_transient
from order_saga.domain.commands import StockLine
from order_saga.domain.errors import OutOfStockError

RESERVED = "RESERVED"
RELEASED = "RELEASED"


def stock_key(sku: str) -> dict[str, str]:
    return {"pk": f"STOCK#{sku}"}


def reservation_key(order_id: str) -> dict[str, str]:
    return {"pk": f"RESERVATION#{order_id}"}


class DynamoDBInventoryStore:
    """InventoryStore whose every change is one conditional transaction.

    Release leaves a RELEASED record even when nothing was reserved, so a reservation
    that arrives late (after the saga gave up on it) finds the record and does nothing.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _transact(self, items: list[dict[str, Any]]) -> list[str] | None:
        """Run the transaction; None on success, else the per-item cancellation codes."""
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            raise_if_transient(exc)
            if error_code(exc) != "TransactionCanceledException":
                raise
            return cancellation_codes(exc)
        except BotoCoreError as exc:
            raise_if_transient(exc)
        return None

    def reserve(self, order_id: str, lines: tuple[StockLine, ...]) -> bool:
        record = {
            "Put": {
                "TableName": self._table,
                "Item": {
                    **{k: {"S": v} for k, v in reservation_key(order_id).items()},
                    "status": {"S": RESERVED},
                    "lines": {
                        "L": [
                            {"M": {"sku": {"S": line.sku}, "quantity": {"N": str(line.quantity)}}}
                            for line in lines
                        ]
                    },
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        takes = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": stock_key(line.sku)["pk"]}},
                    "UpdateExpression": "SET available = available - :q",
                    "ConditionExpression": "available >= :q",
                    "ExpressionAttributeValues": {":q": {"N": str(line.quantity)}},
                }
            }
            for line in lines
        ]
        codes = self._transact([record, *takes])
        if codes is None:
            return True
        if codes and codes[0] == "ConditionalCheckFailed":
            return False
        short = [
            line.sku
            for line, code in zip(lines, codes[1:], strict=False)
            if code == "ConditionalCheckFailed"
        ]
        raise OutOfStockError(short or [line.sku for line in lines])

    def release(self, order_id: str) -> bool:
        # Two rounds: a reservation may land between reading "none" and writing the tombstone.
        for _ in range(2):
            item = self._reservation(order_id)
            if item is None:
                if self._transact([self._tombstone(order_id)]) is None:
                    return False
                continue
            if item["status"]["S"] != RESERVED:
                return False
            if self._transact([self._mark_released(order_id), *self._give_back(item)]) is None:
                return True
        return False

    def _reservation(self, order_id: str) -> dict[str, Any] | None:
        try:
            item: dict[str, Any] | None = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": reservation_key(order_id)["pk"]}},
                ConsistentRead=True,
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise_if_transient(exc)
            raise
        return item

    def _give_back(self, reservation: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": stock_key(line["M"]["sku"]["S"])["pk"]}},
                    "UpdateExpression": "SET available = available + :q",
                    "ExpressionAttributeValues": {":q": {"N": line["M"]["quantity"]["N"]}},
                }
            }
            for line in reservation["lines"]["L"]
        ]

    def _mark_released(self, order_id: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": reservation_key(order_id)["pk"]}},
                "UpdateExpression": "SET #s = :released",
                "ConditionExpression": "#s = :reserved",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":released": {"S": RELEASED},
                    ":reserved": {"S": RESERVED},
                },
            }
        }

    def _tombstone(self, order_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "pk": {"S": reservation_key(order_id)["pk"]},
                    "status": {"S": RELEASED},
                    "lines": {"L": []},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def set_stock(self, sku: str, available: int) -> None:
        """Put a SKU's available units (seeding and operations, not the saga)."""
        self._client.put_item(
            TableName=self._table,
            Item={"pk": {"S": stock_key(sku)["pk"]}, "available": {"N": str(available)}},
        )
