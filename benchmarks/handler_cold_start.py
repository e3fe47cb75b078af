"""Each handler's cold import against `import boto3` plus the clients it creates, fresh processes.

Run: .venv/bin/python benchmarks/handler_cold_start.py [--runs 20]
Issue 10, target 4: a handler's cold init at most 1.3 times the baseline. Each handler's
clients are recorded by importing it once (service, resource or client, and in which boto3
session, since Powertools' idempotency layer opens its own); the baseline then imports boto3
and creates the same. The two alternate, pair by pair, each in a new interpreter; the median of
the paired ratios is printed. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pkgutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from order_saga import config, entrypoints

ROOT = Path(__file__).resolve().parent.parent

TARGET_RATIO = 1.3
PROBE = """\
import sys, time
started = time.perf_counter()
{body}
print(time.perf_counter() - started)
"""
RECORD = """\
import json, boto3.session
made = []
def recorded(kind):
    real = getattr(boto3.session.Session, kind)
    def create(self, service_name, *args, **kwargs):
        made.append([id(self), kind, service_name])
        return real(self, service_name, *args, **kwargs)
    return create
boto3.session.Session.client = recorded("client")
boto3.session.Session.resource = recorded("resource")
import {module}
sessions = {{}}
print(json.dumps([[sessions.setdefault(s, len(sessions)), k, n] for s, k, n in made]))
"""


def environment() -> dict[str, str]:
    """Every setting config.py reads, with a placeholder value, and a region."""
    values = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    for settings in vars(config).values():
        if isinstance(settings, type) and dataclasses.is_dataclass(settings):
            values.update({field.name.upper(): "bench" for field in dataclasses.fields(settings)})
    values.update({"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                   "POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_METRICS_NAMESPACE": "Bench",
                   "PYTHONPATH": str(ROOT / "src")})
    return values


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=environment(), check=False)
    if result.returncode != 0:
        raise SystemExit(f"the probe failed:\n{result.stderr}")
    return result.stdout.strip()


def baseline(module: str) -> str:
    """`import boto3` and the clients and resources `module` creates, session by session."""
    made = json.loads(run(RECORD.format(module=module)))
    lines = ["import boto3.session"]
    for session in sorted({s for s, _, _ in made}):
        lines.append(f"session{session} = boto3.session.Session()")
    lines += [f"session{s}.{kind}({service!r})" for s, kind, service in made]
    return "\n".join(lines)


def handlers() -> list[str]:
    return [f"order_saga.entrypoints.{info.name}" for info in pkgutil.iter_modules(
        entrypoints.__path__) if not info.name.startswith("_")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="pairs per handler (default 20)")
    args = parser.parse_args()

    print(f"{args.runs} pairs of fresh processes per handler; target: ratio <= {TARGET_RATIO}")
    for module in handlers():
        bodies = {"handler": f"import {module}", "baseline": baseline(module)}
        for body in bodies.values():  # compile once: every counted run reads .pyc
            run(PROBE.format(body=body))
        times: dict[str, list[float]] = {"handler": [], "baseline": []}
        for index in range(args.runs):
            order = ["handler", "baseline"] if index % 2 == 0 else ["baseline", "handler"]
            for name in order:
                times[name].append(float(run(PROBE.format(body=bodies[name]))))
        ratios = [h / b for h, b in zip(times["handler"], times["baseline"], strict=True)]
        ratio = statistics.median(ratios)
        clients = bodies["baseline"].count("(") - bodies["baseline"].count("Session()")
        handler_ms = statistics.median(times["handler"]) * 1000
        baseline_ms = statistics.median(times["baseline"]) * 1000
        print(
            f"{module.rsplit('.', 1)[1]:>18}: handler {handler_ms:.0f} ms,"
            f" boto3 + its {clients} client(s) {baseline_ms:.0f} ms;"
            f" paired ratio {ratio:.2f} (median) against <= {TARGET_RATIO}:"
            f" {'met' if ratio <= TARGET_RATIO else 'NOT met'}"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
