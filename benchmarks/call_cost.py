"""What one AWS call costs on the local cloud: through boto3, and in moto's backend alone.

Run: .venv/bin/python benchmarks/call_cost.py [--calls 300] [--rounds 9] [--sagas 20]
                                              [--backlog 200]

A handler's call goes through botocore (validation, serialisation, endpoint, events), moto's
request handling (routing, parsing and checking the request, serialising the answer) and
botocore's parsing of the answer; the backend's method is the part that reads and changes the
service's state. Each operation is timed both ways in turn, round after round, on a table and
a queue of the benchmark's own in the project's template's local cloud: a send to the queue
when it is empty, and behind a backlog of waiting messages. Then it counts the boto3 calls that
whole sagas make (the handlers' and the ASL interpreter's), the part of a saga's processor
time spent inside them, and of that the part inside the backends' methods: the rest of a call
is translation, and the script prints what a saga would cost were the translation free (the
floor for any speed-up that keeps the backends, the interpreter and the handlers as they
are). Then, over as many sagas again, the share of a saga spent in each of the translation's
main parts (TRANSLATION_PARTS). Prints medians of the per-call times; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
TABLE, QUEUE = "call-cost-bench", "call-cost-bench"


def per_call_seconds(call: Callable[[], Any], calls: int, prepare: Callable[[], None]) -> float:
    prepare()  # not timed: a backlog is filled before the clock starts
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls


Timed = tuple[Callable[[], Any], Callable[[], Any], Callable[[], None]]


def operations(clients: dict[str, Any], backlog: int) -> dict[str, Timed]:
    """Each operation as (through boto3, the backend's method alone, with the same arguments;
    what to do before each timing)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    dynamodb, sqs = clients["dynamodb"], clients["sqs"]
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    table_backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    queue_backend = sqs_backends[DEFAULT_ACCOUNT_ID][REGION]
    queue = queue_backend.get_queue(QUEUE)
    key = {"id": {"S": "ITEM-1"}}
    item = {**key, "status": {"S": "PENDING"}, "total": {"N": "250"}}
    body = json.dumps({"orderId": "ITEM-1", "command": "reserve"})

    def send_through_boto3() -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        queue._messages.pop()  # the queue keeps its backlog, no more

    def send_to_backend() -> None:
        queue_backend.send_message(QUEUE, body)
        queue._messages.pop()

    def waiting(messages: int) -> Callable[[], None]:
        def fill() -> None:
            while len(queue._messages) < messages:
                queue_backend.send_message(QUEUE, body)
            del queue._messages[messages:]
        return fill

    def nothing() -> None:
        pass

    return {
        "DynamoDB PutItem": (
            lambda: dynamodb.put_item(TableName=TABLE, Item=item),
            lambda: table_backend.put_item(TABLE, item),
            nothing,
        ),
        "DynamoDB GetItem": (
            lambda: dynamodb.get_item(TableName=TABLE, Key=key),
            lambda: table_backend.get_item(TABLE, key),
            nothing,
        ),
        "SQS SendMessage": (send_through_boto3, send_to_backend, waiting(0)),
        f"SQS SendMessage, {backlog} waiting": (send_through_boto3, send_to_backend,
                                                waiting(backlog)),
    }


# Parts of a call's translation timed on their own, inside the boto3 calls (the first that a
# call enters, of each: botocore's events are emitted from within other parts too).
TRANSLATION_PARTS = (
    ("botocore.validate", "ParamValidator", "validate", "botocore checks the parameters"),
    ("botocore.serialize", "JSONSerializer", "serialize_to_request",
     "botocore serialises the request"),
    ("botocore.client", "BaseClient", "_resolve_endpoint_ruleset", "botocore's endpoint rules"),
    ("botocore.hooks", "HierarchicalEmitter", "_emit", "botocore's events and their handlers"),
    ("moto.core.responses", "BaseResponse", "setup_class",
     "moto sets the request up (its parsing included)"),
    ("moto.core.parse", "RequestParser", "parse", "moto parses the request"),
    ("moto.core.serialize", "ResponseSerializer", "serialize", "moto serialises its answer"),
    ("botocore.parsers", "ResponseParser", "parse", "botocore parses the answer"),
)  # fmt: skip


class SagaCalls(NamedTuple):
    counted: Counter[str]  # the boto3 calls, by operation
    latencies: list[float]  # each saga's wall time
    processor: float  # processor time per saga, every thread
    in_calls: float  # of it, inside the boto3 calls (outermost only), the backends' work included
    in_backends: float  # of that, inside the backends' methods for those calls
    in_parts: dict[str, float]  # share of a saga's processor time in each TRANSLATION_PARTS


def backend_methods(region: str, operations: set[tuple[str, str]]) -> list[tuple[type, str]]:
    """moto's backend class and method for each (service, operation) a call was made to: the
    method of the service's backend named as botocore names the operation in Python."""
    from botocore import xform_name
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    found = []
    for service, operation in sorted(operations):
        backend = type(get_backend(service)[DEFAULT_ACCOUNT_ID][region])  # type: ignore[arg-type]
        method = xform_name(operation)
        if not callable(getattr(backend, method, None)):
            raise SystemExit(f"moto's {backend.__name__} has no {method} for {operation}")
        found.append((backend, method))
    return found


class CallClock:
    """Counts the boto3 calls by operation and adds up the thread time spent inside them
    (outermost calls only) and, within them, inside the backends' methods they reach."""

    def __init__(self) -> None:
        import botocore.client

        self.counted: Counter[str] = Counter()
        self.operations: set[tuple[str, str]] = set()
        self.inside = {"calls": 0.0, "backends": 0.0}
        self._lock, self._thread = threading.Lock(), threading.local()
        self._client_class = botocore.client.BaseClient
        self._original = botocore.client.BaseClient._make_api_call
        self._wrapped: list[tuple[type, str, Any]] = []

    def _outermost(self, where: str, call: Callable[[], Any]) -> Any:
        if getattr(self._thread, where, False):
            return call()
        setattr(self._thread, where, True)
        started = time.thread_time()
        try:
            return call()
        finally:
            setattr(self._thread, where, False)
            with self._lock:
                self.inside[where] += time.thread_time() - started

    def count_calls(self) -> None:
        original, clock = self._original, self

        def counting(client: Any, operation: str, params: Any) -> Any:
            model = client.meta.service_model
            clock.counted[f"{model.service_id} {operation}"] += 1
            clock.operations.add((model.service_name, operation))
            return clock._outermost("calls", lambda: original(client, operation, params))

        self._client_class._make_api_call = counting  # type: ignore[method-assign]

    def _time_inside_calls(self, owner: type, name: str, where: str) -> None:
        """From now on, add the time in `owner.name` within boto3 calls to `inside[where]`."""
        method = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not getattr(self._thread, "calls", False):
                return method(*args, **kwargs)  # the engine's own, outside any boto3 call
            return self._outermost(where, lambda: method(*args, **kwargs))

        self._wrapped.append((owner, name, owner.__dict__.get(name)))
        self.inside.setdefault(where, 0.0)
        setattr(owner, name, timed)

    def time_backends(self) -> None:
        """Time the backend method of each operation counted so far, from now on."""
        for backend, name in backend_methods(REGION, self.operations):
            self._time_inside_calls(backend, name, "backends")

    def time_parts(self) -> None:
        """Time the parts of the translation in TRANSLATION_PARTS too, from now on (their
        clocks cost time of their own, so the sagas that measure them are not the ones that
        measure the translation as a whole)."""
        import importlib

        for module, owner, name, what in TRANSLATION_PARTS:
            self._time_inside_calls(getattr(importlib.import_module(module), owner), name, what)

    def reset(self) -> None:
        self.counted.clear()
        self.inside.update(dict.fromkeys(self.inside, 0.0))

    def restore(self) -> None:
        self._client_class._make_api_call = self._original  # type: ignore[method-assign]
        for backend, name, own in reversed(self._wrapped):
            if own is None:
                delattr(backend, name)
            else:
                setattr(backend, name, own)


def calls_per_saga(cloud: Any, sagas: int) -> SagaCalls:
    """What whole sagas spend in their boto3 calls (every thread of the process), and of that in
    the backends' methods: the rest of a call is its translation (botocore's validation,
    serialisation and parsing, moto's request handling and serialisation)."""
    from order_saga_tools.demo import post_order
    from order_saga_tools.seeding import seed

    seed(cloud, {"SKU-CALLS": 2 * sagas + 10}, {"CUST-CALLS": 1000 * (2 * sagas + 10)}, "EUR")
    line = {"sku": "SKU-CALLS", "quantity": 1, "unitPrice": "1.00"}
    body = json.dumps({"currency": "EUR", "lines": [line]})

    def saga() -> None:
        order_id = json.loads(post_order(cloud, "CUST-CALLS", body)["body"])["orderId"]
        if cloud.wait_for_saga(order_id, 30, with_path=False).status != "CONFIRMED":
            raise SystemExit("a saga of the count did not confirm")

    def timed_sagas() -> float:
        """Processor time per saga, every thread, over `sagas` sagas."""
        clock.reset()
        processor_started = time.process_time()
        for _ in range(sagas):
            started = time.perf_counter()
            saga()
            latencies.append(time.perf_counter() - started)
        return (time.process_time() - processor_started) / sagas

    clock, latencies = CallClock(), []
    clock.count_calls()
    try:
        for _ in range(3):  # warm: cold starts make calls of their own
            saga()
        clock.time_backends()
        processor = timed_sagas()
        counted, inside = Counter(clock.counted), dict(clock.inside)
        clock.time_parts()
        parts_processor = timed_sagas()
        parts = {what: clock.inside[what] / sagas / parts_processor
                 for _, _, _, what in TRANSLATION_PARTS}
    finally:
        clock.restore()
    return SagaCalls(
        counted, latencies[:sagas], processor, inside["calls"] / sagas,
        inside["backends"] / sagas, parts,
    )

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per timing (default 300)")
    parser.add_argument("--rounds", type=int, default=9, help="timings of each (default 9)")
    parser.add_argument("--sagas", type=int, default=20, help="sagas counted (default 20)")
    parser.add_argument("--backlog", type=int, default=200,
                        help="messages waiting in the queue for the second send (default 200)")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / folder) for folder in ("src", "engine", "tooling")]
    import boto3

    from order_saga_tools.saga import SagaCloud

    with SagaCloud(ROOT, clock_scale=0.01) as cloud:
        clients = {name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "sqs")}
        timed = operations(clients, args.backlog)
        figures: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in timed}
        for _ in range(args.rounds):
            for name, (through_boto3, backend, prepare) in timed.items():
                figures[name][0].append(per_call_seconds(through_boto3, args.calls, prepare))
                figures[name][1].append(per_call_seconds(backend, args.calls, prepare))
        calls = calls_per_saga(cloud, args.sagas)
    print(f"one call, median over {args.rounds} timings of {args.calls} calls each:")
    for name, (whole, backend) in figures.items():
        whole_us, backend_us = statistics.median(whole) * 1e6, statistics.median(backend) * 1e6
        print(
            f"  {name:30} through boto3 {whole_us:6.0f} us; the backend's method alone "
            f"{backend_us:5.0f} us; the rest {1 - backend_us / whole_us:.0%}"
        )
    total = sum(calls.counted.values())
    print(f"boto3 calls per saga, over {args.sagas} sagas one after another: "
          f"{total / args.sagas:.1f}")
    for operation, count in calls.counted.most_common():
        print(f"  {count / args.sagas:5.1f}  {operation}")
    processor, in_calls, in_backends = calls.processor, calls.in_calls, calls.in_backends
    translation = in_calls - in_backends
    print(
        f"a saga: median {statistics.median(calls.latencies) * 1000:.1f} ms, API call to "
        f"terminal status; processor time, every thread: {processor * 1000:.1f} ms, of which "
        f"inside its boto3 calls {in_calls * 1000:.1f} ms ({in_calls / processor:.0%}), and "
        f"outside them {(processor - in_calls) * 1000:.1f} ms"
    )
    print(
        f"  inside the calls: the backends' methods {in_backends * 1000:.1f} ms, the "
        f"translation around them {translation * 1000:.1f} ms ({translation / processor:.0%} "
        f"of the saga); were it free, a saga would still take "
        f"{(processor - translation) * 1000:.1f} ms of processor time, "
        f"{1 / (processor - translation):.0f} sagas/s on one core"
    )
    print(f"  parts of the translation, timed on their own over {args.sagas} more sagas, each a "
          "share of their processor time (the moto set-up holds its parse):")
    for what, share in calls.in_parts.items():
        print(f"    {what:48} {share:5.1%}")

if __name__ == "__main__":
    main()
