"""The test suite's wall time: each tier alone, then the whole suite, as `make test` runs them.

Run: .venv/bin/python benchmarks/test_suite.py [--repeat 3] [--workers auto] [--tiers unit drills]

Each tier is a folder of tests/ run by itself with the same command line as `make test`
(`pytest -q -n WORKERS --dist loadscope`), worker start-up included; the last line is the whole
suite. With --repeat N each figure is the median of N runs. Timings on a shared machine are
noisy; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("unit", "functional", "saga", "drills", "integration", "engine", "build")


def wall_seconds(paths: list[str], workers: str) -> tuple[float, str]:
    """One run's wall time and pytest's summary line (it fails loudly if a test fails)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-n", workers, "--dist", "loadscope", *paths]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - began
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    if done.returncode not in (0, 5):  # 5: nothing collected (no .aws-sam for build)
        raise SystemExit(f"{' '.join(paths) or 'suite'} failed: {summary}")
    return seconds, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    parser.add_argument("--workers", default="auto", help="pytest -n (default auto)")
    parser.add_argument("--tiers", nargs="*", default=list(TIERS), choices=TIERS)
    args = parser.parse_args()

    rows = [(tier, [f"tests/{tier}"]) for tier in args.tiers] + [("whole suite", [])]
    heading = f"(-n {args.workers}, median of {args.repeat}) pytest's summary"
    print(f"{'tier':12} {'wall s':>7}  {heading}")
    for name, paths in rows:
        runs = [wall_seconds(paths, args.workers) for _ in range(args.repeat)]
        median = statistics.median(seconds for seconds, _ in runs)
        print(f"{name:12} {median:7.1f}  {runs[-1][1]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
