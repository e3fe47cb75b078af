"""Billable usage of an emulated stack, counted as AWS counts it while a Meter is running.

Every AWS API call made through botocore in this process (by handlers, by the state
machine's service integrations) is seen once, with its serialized request and its
parsed answer. Lambda's SQS pollers reach the SQS backend directly: their receives and
deletes are counted there. Function invocations, their wall time and their log bytes
are counted on the Lambda runtime the meter is attached to.

DynamoDB units follow the on-demand rules: a write is 1 WRU per started KB of the larger
of the item before and after it (a conditional failure or a delete: of the item as it
was), at least 1; a read is 1 RRU per started 4 KB of the item read (at least one chunk),
0.5 when eventually consistent; every item of a transaction counts twice.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KB = 1024
SQS_CHUNK_BYTES = 64 * KB
EVENT_CHUNK_BYTES = 64 * KB
WRITE_UNIT_BYTES = KB
READ_UNIT_BYTES = 4 * KB

_WRITES = {"PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}
_TRANSACT_WRITES = ("Put", "Update", "Delete", "ConditionCheck")


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one DynamoDB attribute value (wire format), by DynamoDB's item size rules."""
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data) if isinstance(data, bytes) else len(str(data).encode()) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(item).encode()) for item in data)
    if kind == "NS":
        return sum(attribute_size({"N": item}) for item in data)
    if kind == "BS":
        return sum(attribute_size({"B": item}) for item in data)
    if kind == "L":
        return 3 + sum(attribute_size(item) + 1 for item in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in data.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item: its attribute names and values (0 when there is no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(size_before: int, size_after: int) -> int:
    return max(1, math.ceil(max(size_before, size_after) / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    chunks = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(chunks) if consistent else chunks / 2


def chunks(size: int, chunk: int) -> int:
    return max(1, math.ceil(size / chunk))


@dataclass
class Invocation:
    """One function invocation: its wall time in ms and its configured memory."""

    function: str
    memory_mb: int
    milliseconds: float


@dataclass
class Usage:
    """What a meter counted."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    write_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    read_units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sqs_requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    events: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    log_bytes: Counter[str] = field(default_factory=Counter)


class Meter:
    """Counts billable usage between start() and stop(); one meter runs at a time."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.usage = Usage()
        self._lock = threading.Lock()
        self._inside_api = threading.local()
        self._restore: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Meter:
        from botocore.client import BaseClient
        from moto.sqs.models import SQSBackend

        global _running
        if _running is not None:
            raise RuntimeError("another meter is running in this process")
        _running = self
        self._patch(BaseClient, "_make_request", self._metered_request)
        self._patch(SQSBackend, "receive_message", self._metered_receive)
        self._patch(SQSBackend, "delete_message", self._metered_delete)
        return self

    def stop(self) -> Usage:
        global _running
        for restore in reversed(self._restore):
            restore()
        self._restore = []
        _running = None
        return self.usage

    def __enter__(self) -> Meter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        setattr(owner, name, make(original))
        self._restore.append(lambda: setattr(owner, name, original))

    @contextmanager
    def pause(self) -> Iterator[None]:
        """Calls made inside are not counted (the harness reading what happened)."""
        self._inside_api.paused = True
        try:
            yield
        finally:
            self._inside_api.paused = False

    # ------------------------------------------------------------------ Lambda runtime
    def attach(self, runtime: Any) -> None:
        """Time every invocation of a runtime and count its functions' log bytes.

        The runtime has `invoke(spec, event)` (spec: logical_id, memory) and `logs`, a
        text stream whose `current.function` names the function writing.
        """
        invoke = runtime.invoke
        logs = runtime.logs
        write = logs.write

        def timed(spec: Any, event: Any) -> Any:
            started = time.perf_counter()
            try:
                return invoke(spec, event)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                with self._lock:
                    self.usage.invocations.append(
                        Invocation(spec.logical_id, int(spec.memory), elapsed)
                    )

        def counted(text: str) -> int:
            function = getattr(logs.current, "function", None)
            if function is not None:
                with self._lock:
                    self.usage.log_bytes[function] += len(text.encode())
            return int(write(text))

        runtime.invoke = timed
        logs.write = counted

        def detach() -> None:
            del runtime.invoke
            del logs.write

        self._restore.append(detach)

    # ------------------------------------------------------------------ API calls
    def _metered_request(self, original: Any) -> Any:
        meter = self

        def make_request(client: Any, operation_model: Any, request_dict: Any, context: Any) -> Any:
            if getattr(meter._inside_api, "paused", False):
                return original(client, operation_model, request_dict, context)
            service = operation_model.service_model.service_name
            operation = operation_model.name
            params = _body(request_dict)
            before = meter._items_before(service, operation, params)
            meter._inside_api.active = True
            try:
                http, parsed = original(client, operation_model, request_dict, context)
            finally:
                meter._inside_api.active = False
            failed = "Error" in parsed and bool(parsed["Error"].get("Code"))
            meter._count(service, operation, params, parsed, before, failed)
            return http, parsed

        return make_request

    def _count(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        parsed: dict[str, Any],
        before: list[tuple[str, dict[str, Any], int, float]],
        failed: bool,
    ) -> None:
        with self._lock:
            self.usage.calls[(service, operation)] += 1
        if service == "dynamodb":
            self._count_dynamodb(operation, params, parsed, before, failed)
        elif service == "sqs":
            # Every SQS request is billed, failed or empty, per 64 KB of payload.
            queue = str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
            entries = params.get("Entries") or [params]
            size = sum(len(json.dumps(entry).encode()) for entry in entries)
            kind = {"SendMessage": "send", "SendMessageBatch": "send"}.get(operation, operation)
            with self._lock:
                self.usage.sqs_requests[(queue, kind)] += chunks(size, SQS_CHUNK_BYTES)
        elif service == "events" and operation == "PutEvents":
            total = sum(
                chunks(_event_size(entry), EVENT_CHUNK_BYTES) for entry in params["Entries"]
            )
            with self._lock:
                self.usage.events += total

    # ------------------------------------------------------------------ DynamoDB
    def _table(self, name: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.account_id][self.region].tables.get(name)

    def _peek(self, table_name: str, key_or_item: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = self._table(table_name)
        if table is None or table.hash_key_attr not in key_or_item:
            return None
        hash_key = DynamoType(key_or_item[table.hash_key_attr])
        range_key = None
        if table.range_key_attr:
            if table.range_key_attr not in key_or_item:
                return None
            range_key = DynamoType(key_or_item[table.range_key_attr])
        found = table.get_item(hash_key, range_key)
        return None if found is None else dict(found.to_json()["Attributes"])

    def _writes_of(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict, float]]:
        """(table, key or item, unit multiplier) of every item a write request touches."""
        if operation in _WRITES:
            return [(params["TableName"], params[_WRITES[operation]], 1.0)]
        if operation == "TransactWriteItems":
            touched = []
            for entry in params.get("TransactItems", []):
                action, body = next(iter(entry.items()))
                if action in _TRANSACT_WRITES:
                    touched.append((body["TableName"], body.get("Key") or body["Item"], 2.0))
            return touched
        if operation == "BatchWriteItem":
            return [
                (
                    table,
                    request.get("PutRequest", {}).get("Item")
                    or request.get("DeleteRequest", {}).get("Key"),
                    1.0,
                )
                for table, requests in params.get("RequestItems", {}).items()
                for request in requests
            ]
        return []

    def _items_before(
        self, service: str, operation: str, params: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any], int, float]]:
        if service != "dynamodb":
            return []
        return [
            (table, key, item_size(self._peek(table, key)), factor)
            for table, key, factor in self._writes_of(operation, params)
        ]

    def _count_dynamodb(
        self,
        operation: str,
        params: dict[str, Any],
        parsed: dict[str, Any],
        before: list[tuple[str, dict[str, Any], int, float]],
        failed: bool,
    ) -> None:
        units: dict[str, float] = defaultdict(float)
        reads: dict[str, float] = defaultdict(float)
        for table, key, size_before, factor in before:
            after = size_before if failed else item_size(self._peek(table, key))
            if operation == "PutItem" and not failed:
                after = item_size(params["Item"])
            units[table] += factor * write_units(size_before, after)
        for table, value in reads_of(operation, params, parsed):
            reads[table] += value
        with self._lock:
            for table, value in units.items():
                self.usage.write_units[table] += value
            for table, value in reads.items():
                self.usage.read_units[table] += value

    # ------------------------------------------------------------------ SQS pollers
    def _metered_receive(self, original: Any) -> Any:
        meter = self

        def receive_message(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
            messages = original(backend, queue_name, *args, **kwargs)
            if messages and not getattr(meter._inside_api, "active", False):
                # An empty receive is the poller idling: its AWS cost does not grow with orders.
                size = sum(len(str(m.body).encode()) for m in messages)
                with meter._lock:
                    meter.usage.sqs_requests[(queue_name, "receive")] += chunks(
                        size, SQS_CHUNK_BYTES
                    )
            return messages

        return receive_message

    def _metered_delete(self, original: Any) -> Any:
        meter = self

        def delete_message(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
            result = original(backend, queue_name, *args, **kwargs)
            if not getattr(meter._inside_api, "active", False):
                with meter._lock:
                    meter.usage.sqs_requests[(queue_name, "delete")] += 1
            return result

        return delete_message


_running: Meter | None = None


def _body(request_dict: dict[str, Any]) -> dict[str, Any]:
    """The request's parameters as sent on the wire (JSON protocols), else {}."""
    body = request_dict.get("body")
    if isinstance(body, bytes):
        body = body.decode()
    if not isinstance(body, str) or not body.startswith("{"):
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _event_size(entry: dict[str, Any]) -> int:
    """An EventBridge entry's size as PutEvents meters it (time counts 14 bytes when set)."""
    size = sum(
        len(str(entry.get(name, "")).encode()) for name in ("Source", "DetailType", "Detail")
    )
    size += sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])
    return size + (14 if entry.get("Time") else 0)


def reads_of(
    operation: str, params: dict[str, Any], parsed: dict[str, Any]
) -> list[tuple[str, float]]:
    """(table, read units) of a read request, from the items it answered with."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return [(params["TableName"], read_units(item_size(parsed.get("Item")), consistent))]
    if operation in ("Query", "Scan"):
        size = sum(item_size(item) for item in parsed.get("Items") or [])
        return [(params["TableName"], read_units(size, consistent))]
    if operation == "TransactGetItems":
        return [
            (entry["Get"]["TableName"], 2 * read_units(item_size(answer.get("Item")), True))
            for entry, answer in zip(
                params.get("TransactItems", []), parsed.get("Responses") or [], strict=False
            )
        ]
    if operation == "BatchGetItem":
        return [
            (
                table,
                read_units(
                    item_size(item), bool(params["RequestItems"][table].get("ConsistentRead"))
                ),
            )
            for table, items in (parsed.get("Responses") or {}).items()
            for item in items
        ]
    return []
