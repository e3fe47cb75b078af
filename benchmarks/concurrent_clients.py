"""Sagas per second with 32 concurrent HTTP clients on `order-saga local start`'s API.

Run: .venv/bin/python benchmarks/concurrent_clients.py [--orders 300] [--clients 32] [--runs 1]

Starts `order-saga local start` in its own process (clock at 1/100), seeds one SKU and one
customer through its AWS endpoint, then each client places an order over HTTP with a token
and reads it until it is terminal, then the next. After each run it checks that every order
ended, and that stock and money moved by exactly what the confirmed orders took. Prints the
median rate against the target (25 sagas/s); nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 25.0
TERMINAL = frozenset({"CONFIRMED", "CANCELLED", "COMPENSATION_FAILED"})
# Each client reads its order again after 0.1 s, then backs off to at most 1 s, as a client
# that polls politely does: the reads are load on the same functions the sagas use.
FIRST_POLL_SECONDS, LAST_POLL_SECONDS = 0.1, 1.0
SKU, CUSTOMER, PRICE_CENTS = "SKU-CONCURRENT", "CUST-CONCURRENT", 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(method: str, url: str, token: str, body: bytes | None = None) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        body,
        method=method,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def start_local_cloud() -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [
        sys.executable, "-m", "order_saga_tools.cli", "--root", str(ROOT), "local", "start",
        "--quiet", "--clock-scale", "0.01",
        "--port", str(free_port()), "--aws-port", str(free_port()),
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None  # noqa: S101
    printed = ""
    while not printed.rstrip().endswith("]"):
        line = server.stdout.readline()
        if not line:
            raise SystemExit("local start ended before printing its outputs")
        printed += line
    return server, {o["OutputKey"]: o["OutputValue"] for o in json.loads(printed)}


def one_run(orders: int, clients: int) -> float:
    import boto3

    from order_saga.adapters.dynamodb_inventory import DynamoDBInventoryStore
    from order_saga.adapters.dynamodb_payments import DynamoDBPaymentLedger
    from order_saga.domain.model import Money
    from order_saga_tools.identity import mint

    server, outputs = start_local_cloud()
    try:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=outputs["AwsEndpointUrl"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106
        )
        inventory = DynamoDBInventoryStore(dynamodb, outputs["InventoryTableName"])
        ledger = DynamoDBPaymentLedger(dynamodb, outputs["PaymentsTableName"])
        stock, balance = orders * 2, orders * PRICE_CENTS * 5
        inventory.set_stock(SKU, stock)
        ledger.set_balance(CUSTOMER, Money(balance, "EUR"))
        token = mint(ROOT, CUSTOMER)
        line = {"sku": SKU, "quantity": 1, "unitPrice": f"{PRICE_CENTS / 100:.2f}"}
        body = json.dumps({"currency": "EUR", "lines": [line]}).encode()
        api = outputs["ApiUrl"]
        statuses: list[str] = []
        lock = threading.Lock()
        remaining = [orders]

        def client() -> None:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                order_id = http("POST", f"{api}/orders", token, body)["orderId"]
                pause = FIRST_POLL_SECONDS
                while (status := http("GET", f"{api}/orders/{order_id}", token)["status"]) not in (
                    TERMINAL
                ):
                    time.sleep(pause)
                    pause = min(pause * 2, LAST_POLL_SECONDS)
                with lock:
                    statuses.append(status)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for future in [pool.submit(client) for _ in range(clients)]:
                future.result()
        rate = orders / (time.perf_counter() - started)
        check_invariants(dynamodb, outputs, statuses, orders, stock, balance)
        return rate
    finally:
        server.terminate()
        server.wait(timeout=10)


def check_invariants(
    dynamodb: Any,
    outputs: dict[str, str],
    statuses: list[str],
    orders: int,
    stock: int,
    balance: int,
) -> None:
    """Every order terminal; stock and money moved by exactly the confirmed orders."""
    from order_saga.adapters.dynamodb_inventory import stock_key
    from order_saga.adapters.dynamodb_payments import balance_key

    def number(table: str, key: dict[str, str], attribute: str) -> int:
        item = dynamodb.get_item(
            TableName=outputs[table],
            Key={name: {"S": value} for name, value in key.items()},
            ConsistentRead=True,
        )["Item"]
        return int(item[attribute]["N"])

    confirmed = statuses.count("CONFIRMED")
    if len(statuses) != orders or set(statuses) - TERMINAL:
        raise SystemExit(f"not every order ended: {len(statuses)} of {orders}")
    left = number("InventoryTableName", stock_key(SKU), "available")
    money = number("PaymentsTableName", {"pk": balance_key(CUSTOMER)}, "balance")
    if left != stock - confirmed or money != balance - PRICE_CENTS * confirmed:
        raise SystemExit(
            f"invariants broken: {confirmed} confirmed, stock {stock} -> {left}, "
            f"balance {balance} -> {money}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per run (default 300)")
    parser.add_argument("--clients", type=int, default=32, help="HTTP clients (default 32)")
    parser.add_argument("--runs", type=int, default=1, help="runs, each a fresh local start")
    args = parser.parse_args()
    rates = [one_run(args.orders, args.clients) for _ in range(args.runs)]
    median = statistics.median(rates)
    verdict = "met" if median >= TARGET else "NOT met"
    print(
        f"{args.clients} concurrent HTTP clients on local start, {args.orders} orders per run, "
        f"{args.runs} run(s): median {median:.1f} sagas/s "
        f"(min {min(rates):.1f}, max {max(rates):.1f}); every order terminal, stock and money "
        f"conserved; target >= {TARGET:.0f}: {verdict}"
    )


if __name__ == "__main__":
    main()
