"""A burst of orders placed at once into one local cloud, and how their sagas end, per clock.

Run: .venv/bin/python benchmarks/burst.py [--orders 600] [--clock-scale 0.01 0.1]

For each clock scale, a fresh cloud in this process: one SKU and one customer seeded with more
than the burst needs, every order (one unit at 1.00 EUR) placed through the real API handler,
one after another without waiting, then each awaited to its end. Prints how many sagas
confirmed, cancelled or parked a failed compensation, the wall time, and whether stock and money
moved by exactly what the confirmed orders took (units a parked compensation still holds are
counted apart). The emulator's own work is not scaled, so a fast clock lets heartbeats and
timeouts fire while the workers are still behind. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKU, CUSTOMER, STOCK, BALANCE = "SKU-BURST", "CUST-BURST", 10**6, 10**9


def burst(orders: int, clock_scale: float) -> str:
    from order_saga_tools.demo import post_order
    from order_saga_tools.saga import SagaCloud
    from order_saga_tools.seeding import balances, seed, stock

    body = json.dumps(
        {"currency": "EUR", "lines": [{"sku": SKU, "quantity": 1, "unitPrice": "1.00"}]}
    )
    with SagaCloud(ROOT, clock_scale=clock_scale) as cloud:
        seed(cloud, {SKU: STOCK}, {CUSTOMER: BALANCE}, "EUR")
        started = time.perf_counter()
        placed = [
            str(json.loads(post_order(cloud, CUSTOMER, body)["body"])["orderId"])
            for _ in range(orders)
        ]
        ended: Counter[str] = Counter()
        deadline = 1200 * clock_scale + 600  # the saga's TimeoutSeconds, scaled, and then some
        for order_id in placed:
            ended[cloud.wait_for_saga(order_id, deadline, with_path=False).status] += 1
        seconds = time.perf_counter() - started
        units = STOCK - stock(cloud, [SKU])[SKU]
        cents = BALANCE - balances(cloud, [CUSTOMER])[CUSTOMER]
    confirmed = ended["CONFIRMED"]
    money = "exact" if cents == 100 * confirmed else f"OFF: {cents} cents for {confirmed}"
    held = units - confirmed
    return (
        f"clock {clock_scale:g}: {orders} orders in {seconds:.1f} s: "
        + ", ".join(f"{count} {status}" for status, count in ended.most_common())
        + f"; money {money}; stock {units} units moved, {held} more than the confirmed took "
        f"(held where a parked compensation did not release them)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=600, help="orders placed (default 600)")
    parser.add_argument("--clock-scale", type=float, nargs="+", default=[0.01, 0.1],
                        help="clocks to try, each in a cloud of its own (default 0.01 0.1)")
    args = parser.parse_args()
    if args.orders < 1 or any(scale <= 0 for scale in args.clock_scale):
        raise SystemExit("--orders must be 1 or more, and each --clock-scale more than 0")
    sys.path[:0] = [str(ROOT / folder) for folder in ("src", "engine", "tooling")]
    for scale in args.clock_scale:
        print(burst(args.orders, scale), flush=True)


if __name__ == "__main__":
    main()
