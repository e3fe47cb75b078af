"""The test suite's wall time: each tier alone, then the whole suite, as `make test` runs them.

Run: .venv/bin/python benchmarks/test_suite.py [--repeat 3] [--workers 3] [--tiers unit drills]
     .venv/bin/python benchmarks/test_suite.py --repeat 3 --workers 2 3   (compare worker counts)

Each tier is a folder of tests/ run by itself with the same command line as `make test`
(`pytest -q -n WORKERS --dist loadscope`, WORKERS one per core plus two), worker start-up
included; the last line is the whole suite. With --repeat N each figure is the median of N runs.
Given several worker counts, the whole suite runs with each in turn, N rounds interleaved, and
each count's median paired ratio to the first is printed. Timings on a shared machine are noisy;
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("unit", "functional", "saga", "drills", "integration", "engine", "build")
# As the Makefile's TEST_WORKERS: one per core, plus two that run while the others wait.
MAKE_TEST_WORKERS = str(len(os.sched_getaffinity(0)) + 2)


def wall_seconds(paths: list[str], workers: str) -> tuple[float, str]:
    """One run's wall time and pytest's summary line (it fails loudly if a test fails)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-n", workers, "--dist", "loadscope", *paths]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - began
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    if done.returncode not in (0, 5):  # 5: nothing collected (no .aws-sam for build)
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        with tempfile.NamedTemporaryFile("w", prefix="test-suite-", suffix=".txt",
                                         delete=False) as report:
            report.write(done.stdout + done.stderr)
        raise SystemExit("\n".join([f"{' '.join(paths) or 'suite'} failed: {summary}", *failed,
                                     f"pytest's whole output: {report.name}"]))
    return seconds, summary


def compare_workers(counts: list[str], repeat: int) -> None:
    """The whole suite with each worker count in turn, `repeat` rounds, and paired ratios."""
    times: dict[str, list[float]] = {count: [] for count in counts}
    for round_number in range(1, repeat + 1):
        for count in counts:
            seconds, summary = wall_seconds([], count)
            times[count].append(seconds)
            print(f"round {round_number}  -n {count:>4}  {seconds:7.1f} s  {summary}", flush=True)
    first = counts[0]
    for count in counts:
        ratios = [mine / theirs for mine, theirs in zip(times[count], times[first], strict=True)]
        print(
            f"-n {count:>4}: median {statistics.median(times[count]):7.1f} s, "
            f"median paired ratio to -n {first}: {statistics.median(ratios):.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    parser.add_argument(
        "--workers",
        nargs="+",
        default=[MAKE_TEST_WORKERS],
        help=f"pytest -n (default {MAKE_TEST_WORKERS}, as make test); several: compare them",
    )
    parser.add_argument("--tiers", nargs="*", default=list(TIERS), choices=TIERS)
    args = parser.parse_args()
    if len(args.workers) > 1:
        compare_workers(args.workers, args.repeat)
        return 0

    workers = args.workers[0]
    rows = [(tier, [f"tests/{tier}"]) for tier in args.tiers] + [("whole suite", [])]
    heading = f"(-n {workers}, median of {args.repeat}) pytest's summary"
    print(f"{'tier':12} {'wall s':>7}  {heading}")
    for name, paths in rows:
        runs = [wall_seconds(paths, workers) for _ in range(args.repeat)]
        median = statistics.median(seconds for seconds, _ in runs)
        print(f"{name:12} {median:7.1f}  {runs[-1][1]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
