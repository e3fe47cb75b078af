"""DynamoDBPaymentLedger: balances per customer and one charge record per order, in one table."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from order_saga.adapters.dynamodb_errors import cancellation_codes, error_code, raise_if_transient
from order_saga.domain.errors import PaymentDeclinedError
from order_saga.domain.model import Money

CHARGED = "CHARGED"
REFUNDED = "REFUNDED"
VOID = "VOID"


def balance_key(customer_id: str) -> str:
    return f"BALANCE#{customer_id}"


def charge_key(order_id: str) -> str:
    return f"CHARGE#{order_id}"


class DynamoDBPaymentLedger:
    """PaymentLedger whose every change is one conditional transaction.

    A refund with no charge to undo leaves a VOID record, so a charge that arrives late
    (after the saga gave up on it) finds the record and takes nothing.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _transact(self, items: list[dict[str, Any]]) -> list[str] | None:
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

    def charge(self, order_id: str, customer_id: str, amount: Money) -> bool:
        record = {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "pk": {"S": charge_key(order_id)},
                    "customerId": {"S": customer_id},
                    "amount": {"N": str(amount.amount)},
                    "currency": {"S": amount.currency},
                    "status": {"S": CHARGED},
                    "refunded": {"N": "0"},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        take = {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": balance_key(customer_id)}},
                "UpdateExpression": "SET balance = balance - :a",
                "ConditionExpression": "balance >= :a AND currency = :c",
                "ExpressionAttributeValues": {
                    ":a": {"N": str(amount.amount)},
                    ":c": {"S": amount.currency},
                },
            }
        }
        codes = self._transact([record, take])
        if codes is None:
            return True
        if codes and codes[0] == "ConditionalCheckFailed":
            return False
        raise PaymentDeclinedError(customer_id, str(amount))

    def refund(self, order_id: str) -> Money | None:
        # Two rounds: a charge may land between reading "none" and writing the VOID record.
        for _ in range(2):
            charge = self._charge(order_id)
            if charge is None:
                if self._transact([self._void(order_id)]) is None:
                    return None
                continue
            if charge["status"]["S"] != CHARGED:
                return None
            amount = Money(int(charge["amount"]["N"]), charge["currency"]["S"])
            if self._transact(self._give_back(order_id, charge["customerId"]["S"], amount)) is None:
                return amount
        return None

    def _charge(self, order_id: str) -> dict[str, Any] | None:
        try:
            item: dict[str, Any] | None = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": charge_key(order_id)}}, ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise_if_transient(exc)
            raise
        return item

    def _give_back(self, order_id: str, customer_id: str, amount: Money) -> list[dict[str, Any]]:
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": charge_key(order_id)}},
                    "UpdateExpression": "SET #s = :refunded, refunded = :a",
                    "ConditionExpression": "#s = :charged",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":refunded": {"S": REFUNDED},
                        ":charged": {"S": CHARGED},
                        ":a": {"N": str(amount.amount)},
                    },
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": balance_key(customer_id)}},
                    "UpdateExpression": "SET balance = balance + :a",
                    "ExpressionAttributeValues": {":a": {"N": str(amount.amount)}},
                }
            },
        ]

    def _void(self, order_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "pk": {"S": charge_key(order_id)},
                    "status": {"S": VOID},
                    "amount": {"N": "0"},
                    "refunded": {"N": "0"},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def set_balance(self, customer_id: str, balance: Money) -> None:
        """Put a customer's balance (seeding and operations, not the saga)."""
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": balance_key(customer_id)},
                "balance": {"N": str(balance.amount)},
                "currency": {"S": balance.currency},
            },
        )
