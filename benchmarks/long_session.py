"""A saga's time as one cloud ages: sagas one after another, batch after batch, in one cloud.

Run: .venv/bin/python benchmarks/long_session.py [--batches 15] [--per-batch 100]
                                                 [--base REV]

A cloud that has run many sagas keeps their executions, items and messages' traces in memory,
as `order-saga local start` does through a working day and the test suite's shared engine does
through a session; what the emulator scans (rather than looks up) then costs more with every
saga. Each batch's line gives its sagas' median wall time (API call to terminal status) and
the processor time per saga, every thread of the process. With --base, the same run is made on
that git commit too (a temporary worktree, removed at the end), each batch of one version
followed by the same batch of the other, and the last line gives the paired ratio of the late
batches' medians (the last third, this checkout ÷ base). Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def serve_batches(root: Path, per_batch: int) -> None:
    """In a process of its own: run a batch of sagas each time a line arrives on stdin, and
    answer with its figures as JSON."""
    sys.path[:0] = [str(root / folder) for folder in ("src", "engine", "tooling")]
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from localcloud.deploy import ACCOUNT_ID
    from order_saga_tools.demo import post_order
    from order_saga_tools.saga import SagaCloud
    from order_saga_tools.seeding import seed

    body = json.dumps(
        {"currency": "EUR", "lines": [{"sku": "SKU-LONG", "quantity": 1, "unitPrice": "1.00"}]}
    )
    with SagaCloud(root, clock_scale=0.01) as cloud:
        seed(cloud, {"SKU-LONG": 10**7}, {"CUST-LONG": 10**9}, "EUR")
        for _ in sys.stdin:
            latencies = []
            processor_started = time.process_time()
            for _ in range(per_batch):
                started = time.perf_counter()
                order = json.loads(post_order(cloud, "CUST-LONG", body)["body"])["orderId"]
                saga = cloud.wait_for_saga(order, 60, with_path=False)
                latencies.append(time.perf_counter() - started)
                if saga.status != "CONFIRMED":
                    raise SystemExit(f"a saga of the run ended {saga.status}")
            processor = (time.process_time() - processor_started) / per_batch
            backend = stepfunctions_parser_backends[ACCOUNT_ID][cloud.region]
            arn = str(cloud.peek_item("OrdersTable", {"orderId": order})["executionId"])
            print(json.dumps({
                "median": statistics.median(latencies), "processor": processor,
                "running": lookup_seconds(backend._get_executions, "RUNNING"),
                "byArn": lookup_seconds(backend.describe_execution, arn),
            }), flush=True)


def lookup_seconds(lookup: Callable[[str], Any], argument: str, calls: int = 200) -> float:
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        lookup(argument)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def start(root: Path, per_batch: int) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--serve", str(root), "--per-batch", str(per_batch)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def batch(process: subprocess.Popen[str]) -> dict[str, float]:
    assert process.stdin is not None and process.stdout is not None  # noqa: S101
    process.stdin.write("\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise SystemExit("a benchmark process ended early")
    return dict(json.loads(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=15, help="batches (default 15)")
    parser.add_argument("--per-batch", type=int, default=100, help="sagas a batch (default 100)")
    parser.add_argument("--base", help="a git commit to run beside this checkout, interleaved")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve_batches(args.serve, args.per_batch)
        return
    if args.batches < 3 or args.per_batch < 1:
        raise SystemExit("--batches must be 3 or more and --per-batch 1 or more")
    from compare_versions import add_worktree, remove_worktree

    with tempfile.TemporaryDirectory() as scratch:
        roots = {"this checkout": ROOT}
        if args.base:
            roots["base"] = add_worktree(args.base, Path(scratch) / "base")
        try:
            processes = {name: start(root, args.per_batch) for name, root in roots.items()}
            figures: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
            for number in range(1, args.batches + 1):
                order = list(processes) if number % 2 else list(reversed(processes))
                for name in order:
                    figures[name].append(batch(processes[name]))
                print(f"after {number * args.per_batch} sagas: " + "; ".join(
                    f"{name} median {figures[name][-1]['median'] * 1000:.1f} ms, processor "
                    f"{figures[name][-1]['processor'] * 1000:.1f} ms a saga, lookups "
                    f"{figures[name][-1]['running'] * 1e6:.0f} us (running) and "
                    f"{figures[name][-1]['byArn'] * 1e6:.0f} us (by ARN)" for name in roots
                ), flush=True)
            for process in processes.values():
                assert process.stdin is not None  # noqa: S101
                process.stdin.close()
                process.wait(timeout=60)
        finally:
            if args.base:
                remove_worktree(roots["base"])
    late = slice(args.batches - args.batches // 3, None)
    for name in roots:
        first, last = figures[name][0]["median"], statistics.median(
            f["median"] for f in figures[name][late])
        print(f"{name}: first batch {first * 1000:.1f} ms a saga, last third {last * 1000:.1f} ms "
              f"({last / first:.2f} of the first)")
    if args.base:
        ratios = [head["median"] / base["median"] for head, base in
                  zip(figures["this checkout"][late], figures["base"][late], strict=True)]
        print(f"last third, paired median ratio (this checkout / base): "
              f"{statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
