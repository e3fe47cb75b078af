"""Figures for the local cloud: `order-saga demo` wall time, engine start, sagas per second.

Run: .venv/bin/python benchmarks/local_cloud.py [--runs 5] [--sagas 100]  (--sagas 0: demo only)
Prints medians over repeated runs, since this machine is noisy; nothing here is asserted.
--root measures another checkout (its code, template and cache folder), --json prints the figures
as one JSON object; benchmarks/compare_versions.py uses both to time two commits in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_TARGET_SECONDS = 3.0
ENGINE_START_TARGET_SECONDS = 0.5
SAGAS_PER_SECOND_TARGET = 40.0


def code_paths(root: Path) -> list[str]:
    """Where a checkout's packages live: the runtime, the engine and the tools."""
    return [str(root / folder) for folder in ("src", "engine", "tooling")]


def demo_wall_seconds(root: Path, runs: int) -> tuple[list[float], list[float]]:
    """`order-saga demo` as a user runs it: a fresh process, engine start included; and the
    engine's start inside each run (its state folder's caches as the previous run left them)."""
    command = [sys.executable, "-m", "order_saga_tools.cli", "--root", str(root), "demo", "--json"]
    path = os.pathsep.join([*code_paths(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    times, starts = [], []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=True,
                                env={**os.environ, "PYTHONPATH": path})
        times.append(time.perf_counter() - started)
        demo = json.loads(result.stdout)
        starts.append(float(demo["engineStartSeconds"]))
        outcomes = [order["status"] for order in demo["orders"]]
        if outcomes != ["CONFIRMED", "CANCELLED", "CANCELLED", "CANCELLED"]:
            raise SystemExit(f"the demo went wrong: {outcomes}")
    return times, starts


def saga_latencies(root: Path, sagas: int) -> tuple[list[float], float, float]:
    """Sagas one after another, API call to terminal status, and the processor time each took
    (every thread of the process); and the same count back to back."""
    from order_saga_tools.demo import post_order
    from order_saga_tools.saga import SagaCloud
    from order_saga_tools.seeding import seed

    body = json.dumps(
        {
            "currency": "EUR",
            "lines": [{"sku": "SKU-BENCH", "quantity": 1, "unitPrice": "1.00"}],
        }
    )
    with SagaCloud(root, clock_scale=0.01) as cloud:
        seed(cloud, {"SKU-BENCH": 10 * sagas + 10}, {"CUST-BENCH": 1000 * sagas + 1000}, "EUR")

        def place() -> str:
            response = post_order(cloud, "CUST-BENCH", body)
            return str(json.loads(response["body"])["orderId"])

        for _ in range(5):  # warm every handler (cold starts are not what this measures)
            cloud.wait_for_saga(place(), 30, with_path=False)
        latencies = []
        processor_started = time.process_time()
        for _ in range(sagas):
            started = time.perf_counter()
            saga = cloud.wait_for_saga(place(), 30, with_path=False)
            latencies.append(time.perf_counter() - started)
            if saga.status != "CONFIRMED":
                raise SystemExit(f"a benchmark saga ended {saga.status}")
        processor_per_saga = (time.process_time() - processor_started) / sagas
        started = time.perf_counter()
        placed = [place() for _ in range(sagas)]
        for order_id in placed:
            cloud.wait_for_saga(order_id, 120, with_path=False)
        back_to_back = sagas / (time.perf_counter() - started)
    return latencies, back_to_back, processor_per_saga


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="demo runs (default 5)")
    parser.add_argument("--sagas", type=int, default=100, help="sagas per measure (default 100)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout to measure (default: this one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    root = args.root.resolve()
    if not (root / "template.yaml").is_file():
        raise SystemExit(f"--root {args.root}: no template.yaml there, so no checkout to measure")
    sys.path[:0] = code_paths(root)

    demo, starts = demo_wall_seconds(root, args.runs)
    median_demo, median_start = statistics.median(demo), statistics.median(starts)
    figures: dict[str, float] = {"demoSeconds": median_demo, "engineStartSeconds": median_start}
    if args.json:
        if args.sagas > 0:
            latencies, back_to_back, processor_per_saga = saga_latencies(root, args.sagas)
            figures |= {
                "sagaMilliseconds": statistics.median(latencies) * 1000,
                "processorMillisecondsPerSaga": processor_per_saga * 1000,
                "backToBackSagasPerSecond": back_to_back,
            }
        import localcloud  # the checkout whose code ran, for whoever compares versions

        print(json.dumps({**figures, "checkout": str(Path(localcloud.__file__).parents[2])}))
        return
    print(
        f"order-saga demo, wall time, fresh process: median {median_demo:.2f} s "
        f"over {args.runs} runs "
        f"(min {min(demo):.2f}, max {max(demo):.2f}); target <= {DEMO_TARGET_SECONDS:.0f} s: "
        f"{'met' if median_demo <= DEMO_TARGET_SECONDS else 'NOT met'}"
    )
    print(
        f"engine start inside the demo: median {median_start:.2f} s "
        f"(min {min(starts):.2f}, max {max(starts):.2f}); "
        f"target <= {ENGINE_START_TARGET_SECONDS} s: "
        f"{'met' if median_start <= ENGINE_START_TARGET_SECONDS else 'NOT met'}"
    )
    if args.sagas <= 0:
        return
    latencies, back_to_back, processor_per_saga = saga_latencies(root, args.sagas)
    median_latency = statistics.median(latencies)
    per_second = 1.0 / median_latency
    print(
        "whole sagas one after another (API call to terminal status): "
        f"median {median_latency * 1000:.1f} ms "
        f"= {per_second:.1f} sagas/s over {args.sagas}; target >= {SAGAS_PER_SECOND_TARGET:.0f}: "
        f"{'met' if per_second >= SAGAS_PER_SECOND_TARGET else 'NOT met'}"
    )
    print(
        f"processor time per saga, every thread of the process: {processor_per_saga * 1000:.1f} ms "
        "(steadier than wall time: time the machine gives to others does not count)"
    )
    print(
        f"whole sagas placed back to back, then awaited: {back_to_back:.1f} sagas/s "
        f"over {args.sagas}"
    )


if __name__ == "__main__":
    main()
