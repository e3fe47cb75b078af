"""`order-saga seed FILE`: stock and balances from a YAML or CSV file into a stack's tables.

YAML: `currency` (the default for balances), `stock: {SKU: units}` and `balances: {CUSTOMER:
"12.50"}` in major units, or `{CUSTOMER: {amount: "1200", currency: JPY}}` for a balance in
another currency. CSV: a header `kind,id,amount,currency`, then `stock,SKU,units,` or
`balance,CUSTOMER,12.50,EUR` rows. The whole file is checked before anything is read from the
stack; each write is conditional on the value read, so a change made meanwhile is never lost.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localcloud.stack import Stack
from order_saga.adapters.dynamodb_inventory import stock_key
from order_saga.adapters.dynamodb_payments import balance_key
from order_saga.domain.model import Money, minor_units
from order_saga.domain.requests import SKU
from order_saga_tools.operator import add_target_arguments, confirm, emit, stack_of

CSV_HEADER = ["kind", "id", "amount", "currency"]
MAX_UNITS = 10**9


class SeedFileError(ValueError):
    """A seed file that cannot be read or holds a bad row or field; nothing is written."""


@dataclass(frozen=True)
class Wanted:
    """One record the file asks for: a SKU's stock (units) or a customer's balance (Money)."""

    kind: str
    id: str
    value: int | Money


@dataclass(frozen=True)
class Change:
    """What seeding does to one record: its value before, the value wanted, and the action."""

    wanted: Wanted
    before: int | Money | None

    @property
    def action(self) -> str:
        if self.before is None:
            return "create"
        return "unchanged" if self.before == self.wanted.value else "update"


# ---------------------------------------------------------------- the file


def _units(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UNITS:
        raise SeedFileError(f"{where}: units {value!r} is not a whole number from 0 to {MAX_UNITS}")
    return value


def _currency(value: Any, where: str) -> str:
    try:
        places = minor_units(value) if isinstance(value, str) else None
    except ValueError:
        places = None
    if places is None:
        raise SeedFileError(
            f"{where}: currency {value!r} is not an ISO 4217 code with minor units (EUR, JPY, KWD)"
        )
    return str(value)


def _money(amount: Any, currency: Any, where: str) -> Money:
    code = _currency(currency, where)
    if isinstance(amount, float):
        raise SeedFileError(f'{where}: amount {amount!r} must be quoted, e.g. "12.50"')
    try:
        decimal = Decimal(str(amount).strip()) if isinstance(amount, int | str) else None
    except InvalidOperation:
        decimal = None
    if isinstance(amount, bool) or decimal is None or not decimal.is_finite() or decimal < 0:
        raise SeedFileError(f"{where}: amount {amount!r} is not a decimal of at least 0")
    places = minor_units(code) or 0
    minor = decimal.scaleb(places)
    if minor != minor.to_integral_value():
        raise SeedFileError(
            f"{where}: amount {amount} has more than {places} decimal places for {code}"
        )
    return Money(int(minor), code)


def _customer(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise SeedFileError(f"{where}: customer id {value!r} is empty or has surrounding blanks")
    return value


def _sku(value: Any, where: str) -> str:
    if not isinstance(value, str) or not SKU.match(value):
        raise SeedFileError(f"{where}: SKU {value!r} is not 2-32 of A-Z, 0-9 and -")
    return value


def _load_yaml(text: str, name: str) -> Any:
    """The YAML document; a key given twice is an error (PyYAML would keep the last)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Any, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise SeedFileError(f"{name} line {line}: {key!r} is given twice")
            seen.add(key)
        return dict(loader.construct_mapping(node, deep=deep))

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SeedFileError(f"{name} is not valid YAML: {exc}".replace("\n", " ")) from exc


def _from_yaml(text: str, name: str) -> list[Wanted]:
    document = _load_yaml(text, name)
    if not isinstance(document, dict):
        raise SeedFileError(f"{name}: expected a mapping with currency, stock and balances")
    unknown = sorted(set(document) - {"currency", "stock", "balances"})
    if unknown:
        raise SeedFileError(f"{name}: unknown key(s) {', '.join(map(str, unknown))}")
    wanted: list[Wanted] = []
    stock = document.get("stock") or {}
    if not isinstance(stock, dict):
        raise SeedFileError(f"{name}: stock must map each SKU to its units")
    for sku, units in stock.items():
        where = f"{name}: stock.{sku}"
        wanted.append(Wanted("stock", _sku(sku, where), _units(units, where)))
    balances = document.get("balances") or {}
    if not isinstance(balances, dict):
        raise SeedFileError(f"{name}: balances must map each customer to an amount")
    for customer, entry in balances.items():
        where = f"{name}: balances.{customer}"
        amount, currency = entry, document.get("currency")
        if isinstance(entry, dict):
            if set(entry) != {"amount", "currency"}:
                raise SeedFileError(f"{where}: give both amount and currency, nothing else")
            amount, currency = entry["amount"], entry["currency"]
        elif currency is None:
            raise SeedFileError(f"{where}: no currency: set the file's currency or give its own")
        wanted.append(
            Wanted("balance", _customer(customer, where), _money(amount, currency, where))
        )
    return wanted


def _from_csv(text: str, name: str) -> list[Wanted]:
    rows = list(csv.reader(text.splitlines()))
    if not rows or [cell.strip() for cell in rows[0]] != CSV_HEADER:
        raise SeedFileError(f"{name} line 1: the header must be {','.join(CSV_HEADER)}")
    wanted = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name} line {number}"
        if len(row) != len(CSV_HEADER):
            raise SeedFileError(f"{where}: {len(row)} fields, expected {len(CSV_HEADER)}")
        kind, key, amount, currency = (cell.strip() for cell in row)
        if kind == "stock":
            if currency:
                raise SeedFileError(f"{where}: a stock row has no currency")
            wanted.append(Wanted("stock", _sku(key, where), _units(amount, where)))
        elif kind == "balance":
            wanted.append(Wanted("balance", _customer(key, where), _money(amount, currency, where)))
        else:
            raise SeedFileError(f"{where}: kind {kind!r} is neither stock nor balance")
    return wanted


def read_seed_file(path: Path) -> list[Wanted]:
    """Every record a seed file asks for; SeedFileError names the first bad row or field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedFileError(f"cannot read seed file {path}: {exc}") from exc
    if path.suffix.lower() in {".yaml", ".yml"}:
        wanted = _from_yaml(text, str(path))
    elif path.suffix.lower() == ".csv":
        wanted = _from_csv(text, str(path))
    else:
        raise SeedFileError(f"{path}: a seed file ends in .yaml, .yml or .csv")
    seen: set[tuple[str, str]] = set()
    for record in wanted:
        if (record.kind, record.id) in seen:
            raise SeedFileError(f"{path}: {record.kind} {record.id} is given twice")
        seen.add((record.kind, record.id))
    if not wanted:
        raise SeedFileError(f"{path}: no stock and no balances to seed")
    return wanted


# ---------------------------------------------------------------- the stack


def _key(stack: Stack, wanted: Wanted) -> tuple[str, str]:
    """The record's table and partition key, as the adapters write them."""
    if wanted.kind == "stock":
        return stack.output("InventoryTableName"), stock_key(wanted.id)["pk"]
    return stack.output("PaymentsTableName"), balance_key(wanted.id)


def _current(stack: Stack, wanted: Wanted) -> int | Money | None:
    table, pk = _key(stack, wanted)
    item = (
        stack.client("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)
        .get("Item")
    )
    if item is None:
        return None
    if wanted.kind == "stock":
        return int(item.get("available", {}).get("N", "0"))
    return Money(int(item.get("balance", {}).get("N", "0")), item.get("currency", {}).get("S", ""))


def _write(stack: Stack, change: Change) -> bool:
    """Set the wanted value if the record still holds what was read; False if it changed."""
    table, pk = _key(stack, change.wanted)
    value, before = change.wanted.value, change.before
    if isinstance(value, Money):
        update = "SET balance = :v, currency = :c"
        values = {":v": {"N": str(value.amount)}, ":c": {"S": value.currency}}
        condition = "balance = :was AND currency = :wasc"
        if isinstance(before, Money):
            values |= {":was": {"N": str(before.amount)}, ":wasc": {"S": before.currency}}
    else:
        update, values, condition = (
            "SET available = :v",
            {":v": {"N": str(value)}},
            "available = :was",
        )
        if isinstance(before, int):
            values[":was"] = {"N": str(before)}
    try:
        stack.client("dynamodb").update_item(
            TableName=table,
            Key={"pk": {"S": pk}},
            UpdateExpression=update,
            ConditionExpression="attribute_not_exists(pk)" if before is None else condition,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _shown(value: int | Money | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, Money):
        return str(value)
    return f"{value} unit" if value == 1 else f"{value} units"


def _as_json(value: int | Money | None) -> Any:
    if isinstance(value, Money):
        return {
            "amount": value.to_decimal_string(),
            "minorUnits": value.amount,
            "currency": value.currency,
        }
    return value


PAST = {"create": "created", "update": "updated"}


def _report(stack: Stack, changes: list[Change], actions: list[str], as_json: bool) -> None:
    written = sum(action in {"created", "updated"} for action in actions)
    result = {
        "stack": stack.name,
        "written": written,
        "changes": [
            {
                "kind": c.wanted.kind,
                "id": c.wanted.id,
                "before": _as_json(c.before),
                "after": _as_json(c.wanted.value),
                "action": action,
            }
            for c, action in zip(changes, actions, strict=True)
        ],
    }
    rows = [
        [c.wanted.kind, c.wanted.id, _shown(c.before), _shown(c.wanted.value), action]
        for c, action in zip(changes, actions, strict=True)
    ]
    emit(result, as_json, ["kind", "id", "before", "after", "change"], rows)


def _summary(actions: list[str]) -> str:
    return ", ".join(f"{action} {actions.count(action)}" for action in sorted(set(actions)))


def run_seed(args: argparse.Namespace) -> int:
    """Plan, confirm and write the file's stock and balances; 0 when the stack holds them."""
    wanted = read_seed_file(Path(args.file))
    stack = stack_of(args)
    changes = [Change(record, _current(stack, record)) for record in wanted]
    planned = [change.action for change in changes]
    pending = [i for i, action in enumerate(planned) if action != "unchanged"]
    if not pending or not args.json:
        _report(stack, changes, planned, args.json)
    if not pending:
        if not args.json:
            print(f"nothing to write: {_summary(planned)}")
        return 0
    question = f"write {len(pending)} of {len(changes)} record(s) to stack {stack.name}?"
    if not confirm(question, args.yes):
        if args.json:
            _report(stack, changes, planned, as_json=True)
        print("order-saga: nothing written", file=sys.stderr)
        return 1
    done = list(planned)
    for i in pending:
        done[i] = PAST[planned[i]] if _write(stack, changes[i]) else "changed meanwhile"
    if args.json:
        _report(stack, changes, done, as_json=True)
    else:
        print(_summary(done))
    if "changed meanwhile" in done:
        print("order-saga: a record changed while seeding; run seed again", file=sys.stderr)
        return 1
    return 0


def add_command(commands: Any) -> None:
    """`order-saga seed FILE`."""
    seed = commands.add_parser(
        "seed", help="put stock and balances from a YAML or CSV file into a stack's tables"
    )
    seed.add_argument("file", metavar="FILE", help="e.g. seeds/demo.yaml (see README)")
    add_target_arguments(seed, changes=True)
    seed.set_defaults(run=run_seed)
