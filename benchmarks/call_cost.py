"""What one AWS call costs on the local cloud: through boto3, and in moto's backend alone.

Run: .venv/bin/python benchmarks/call_cost.py [--calls 300] [--rounds 9] [--sagas 20]
                                              [--backlog 200]

A handler's call goes through botocore (validation, serialisation, endpoint, events), moto's
request handling (routing, parsing and checking the request, serialising the answer) and
botocore's parsing of the answer; the backend's method is the part that reads and changes the
service's state. Each operation is timed both ways in turn, round after round, on a table and
a queue of the benchmark's own in the project's template's local cloud: a send to the queue
when it is empty, and behind a backlog of waiting messages. Then it counts the boto3 calls that
whole sagas make (the handlers' and the ASL interpreter's), and the part of a saga's processor
time spent inside them. Prints medians of the per-call times; nothing here is asserted.
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
from typing import Any

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


def calls_per_saga(cloud: Any, sagas: int) -> tuple[Counter[str], list[float], float, float]:
    """The boto3 calls, by operation, that whole sagas make (every thread of the process); each
    saga's wall time; the processor time per saga, all threads, and the part of it spent inside
    those calls (outermost calls only, the backend's work included)."""
    import botocore.client

    from order_saga_tools.demo import post_order
    from order_saga_tools.seeding import seed

    seed(cloud, {"SKU-CALLS": sagas + 10}, {"CUST-CALLS": 1000 * sagas}, "EUR")
    line = {"sku": "SKU-CALLS", "quantity": 1, "unitPrice": "1.00"}
    body = json.dumps({"currency": "EUR", "lines": [line]})

    def saga() -> None:
        order_id = json.loads(post_order(cloud, "CUST-CALLS", body)["body"])["orderId"]
        if cloud.wait_for_saga(order_id, 30, with_path=False).status != "CONFIRMED":
            raise SystemExit("a saga of the count did not confirm")

    for _ in range(3):  # warm: cold starts make calls of their own
        saga()
    counted: Counter[str] = Counter()
    inside = [0.0]
    lock, thread = threading.Lock(), threading.local()
    original = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: Any) -> Any:
        counted[f"{client.meta.service_model.service_id} {operation}"] += 1
        if getattr(thread, "calling", False):
            return original(client, operation, params)
        thread.calling, started = True, time.thread_time()
        try:
            return original(client, operation, params)
        finally:
            thread.calling = False
            with lock:
                inside[0] += time.thread_time() - started

    latencies = []
    botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
    processor_started = time.process_time()
    try:
        for _ in range(sagas):
            started = time.perf_counter()
            saga()
            latencies.append(time.perf_counter() - started)
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
    processor = (time.process_time() - processor_started) / sagas
    return counted, latencies, processor, inside[0] / sagas


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
        counted, latencies, processor, in_calls = calls_per_saga(cloud, args.sagas)
    print(f"one call, median over {args.rounds} timings of {args.calls} calls each:")
    for name, (whole, backend) in figures.items():
        whole_us, backend_us = statistics.median(whole) * 1e6, statistics.median(backend) * 1e6
        print(
            f"  {name:30} through boto3 {whole_us:6.0f} us; the backend's method alone "
            f"{backend_us:5.0f} us; the rest {1 - backend_us / whole_us:.0%}"
        )
    total = sum(counted.values())
    print(f"boto3 calls per saga, over {args.sagas} sagas one after another: "
          f"{total / args.sagas:.1f}")
    for operation, count in counted.most_common():
        print(f"  {count / args.sagas:5.1f}  {operation}")
    print(
        f"a saga: median {statistics.median(latencies) * 1000:.1f} ms, API call to terminal "
        f"status; processor time, every thread: {processor * 1000:.1f} ms, of which inside its "
        f"boto3 calls (the backends' work included) {in_calls * 1000:.1f} ms "
        f"({in_calls / processor:.0%}), and outside them {(processor - in_calls) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
