"""Two versions of the code timed in turn: local_cloud.py's figures for each, and paired ratios.

Run: .venv/bin/python benchmarks/compare_versions.py BASE [HEAD] [--rounds 3] [--runs 1]
                                                    [--sagas 100]

BASE and HEAD are git commits (HEAD defaults to this checkout as it is, uncommitted changes
included). Each commit is checked out in a temporary git worktree, removed at the end. Each
round runs this checkout's benchmarks/local_cloud.py on one version, then on the other (base
first in odd rounds, head first in even ones), so that both meet the same moments of a noisy
machine. Both are measured the same way, with the same venv and script. Before the rounds,
one untimed demo per version fills its state folder's caches. The summary gives each figure's
median per version and the median of the paired ratios (head ÷ base), the figure to trust.
Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_CLOUD = Path(__file__).resolve().parent / "local_cloud.py"
# Each figure local_cloud.py --json prints, and how to show it.
FIGURES = {
    "demoSeconds": ("order-saga demo, wall, fresh process", "s"),
    "engineStartSeconds": ("engine start inside the demo", "s"),
    "sagaMilliseconds": ("a saga, API call to terminal status", "ms"),
    "processorMillisecondsPerSaga": ("processor time per saga", "ms"),
    "backToBackSagasPerSecond": ("sagas placed back to back, then awaited", "/s"),
}


def git(*arguments: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(arguments)}: {done.stderr.strip()}")
    return done.stdout.strip()


def measure(checkout: Path, arguments: list[str]) -> dict[str, float]:
    """One run of local_cloud.py on a checkout, its own code first on the import path."""
    command = [sys.executable, str(LOCAL_CLOUD), "--root", str(checkout), "--json", *arguments]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"local_cloud.py failed on {checkout}:\n{tail}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    measured = Path(figures.pop("checkout"))
    if measured != checkout.resolve():
        raise SystemExit(f"local_cloud.py measured the code of {measured}, not of {checkout}")
    return {name: float(value) for name, value in figures.items()}


def add_worktree(ref: str, folder: Path) -> Path:
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}")
    git("worktree", "add", "--detach", str(folder), commit)
    return folder


def remove_worktree(folder: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                   capture_output=True, check=False)


Figures = dict[str, float]


def rounds(
    checkouts: dict[str, Path], count: int, arguments: list[str]
) -> dict[str, list[Figures]]:
    """`count` rounds, each version once a round, after one untimed demo each."""
    for role, checkout in checkouts.items():
        print(f"{role}: {checkout} (warming its caches)", flush=True)
        measure(checkout, ["--runs", "1", "--sagas", "0"])
    results: dict[str, list[Figures]] = {role: [] for role in checkouts}
    order = list(checkouts.items())
    for round_number in range(1, count + 1):
        # A B, then B A: neither version always meets the moment that follows the other.
        for role, checkout in order if round_number % 2 else order[::-1]:
            figures = measure(checkout, arguments)
            results[role].append(figures)
            shown = ", ".join(f"{name} {value:.3f}" for name, value in figures.items())
            print(f"round {round_number} {role}: {shown}", flush=True)
    return results


def summary(name: str, base: list[float], head: list[float]) -> str:
    label, unit = FIGURES[name]
    ratios = [mine / theirs for mine, theirs in zip(head, base, strict=True)]
    shown = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    return (
        f"{label}: base median {statistics.median(base):.3f} {unit}, head median "
        f"{statistics.median(head):.3f} {unit}; head ÷ base {shown}; "
        f"median {statistics.median(ratios):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare against")
    parser.add_argument("head", nargs="?", help="the commit to time (default: this checkout)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each version once a round")
    parser.add_argument("--runs", type=int, default=1, help="demo runs per measure (default 1)")
    parser.add_argument("--sagas", type=int, default=100, help="sagas per measure (0: demo only)")
    args = parser.parse_args()
    if args.rounds < 1 or args.runs < 1 or args.sagas < 0:
        raise SystemExit("--rounds and --runs must be at least 1, --sagas at least 0")

    passed = ["--runs", str(args.runs), "--sagas", str(args.sagas)]
    with tempfile.TemporaryDirectory(prefix="compare-versions-") as folder:
        checkouts: dict[str, Path] = {}
        try:
            checkouts["base"] = add_worktree(args.base, Path(folder) / "base")
            checkouts["head"] = ROOT if args.head is None else add_worktree(
                args.head, Path(folder) / "head")
            results = rounds(checkouts, args.rounds, passed)
        finally:
            for checkout in checkouts.values():
                if checkout != ROOT:
                    remove_worktree(checkout)
    for name in FIGURES:
        if name in results["base"][0]:
            print(summary(name, [r[name] for r in results["base"]],
                          [r[name] for r in results["head"]]))


if __name__ == "__main__":
    main()
