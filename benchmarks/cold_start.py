"""Cold-start cost of Powertools Tracer: a worker's imports with and without it, fresh processes."""

# Every run is a new interpreter, as a Lambda cold start is. The two variants alternate and each
# pair gives one ratio, so the machine's drift falls on both. Needs the bench extra.

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

# What a participant worker imports besides the project's own code (entrypoints/_participant.py).
WORKER_IMPORTS = """\
import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
"""
# A Tracer that patches boto3, the one library the handlers call out with; patching only it keeps
# the figure from depending on what else this virtualenv holds (patch_all patches all it finds).
TRACER = """\
from aws_lambda_powertools import Tracer
tracer = Tracer(service="x", patch_modules=["boto3"])
if tracer.disabled or "aws_xray_sdk.core" not in sys.modules:
    raise SystemExit("the Tracer did not start the X-Ray SDK")
"""
PROBE = """\
import sys, time
started = time.perf_counter()
{body}
print(time.perf_counter() - started)
"""
# Tracer switches itself off outside Lambda: these make the process look like a function's.
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "cold-start",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "cold-start",
    "POWERTOOLS_METRICS_NAMESPACE": "ColdStart",
}


@dataclass(frozen=True)
class Run:
    """One fresh interpreter: its whole wall time and the time its imports took inside it."""

    process: float
    imports: float


def run_once(body: str) -> Run:
    environment = {
        key: value for key, value in os.environ.items() if key != "POWERTOOLS_TRACE_DISABLED"
    }
    environment.update(LAMBDA_ENVIRONMENT)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    process = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the probe failed:\n{result.stderr}")
    return Run(process, float(result.stdout.strip()))


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40, help="pairs of fresh processes")
    args = parser.parse_args()

    plain_body, traced_body = WORKER_IMPORTS, WORKER_IMPORTS + TRACER
    for body in (plain_body, traced_body):  # compile every module once: both then read .pyc
        run_once(body)
    plain: list[Run] = []
    traced: list[Run] = []
    for index in range(args.runs):
        order = [(plain, plain_body), (traced, traced_body)]
        for runs, body in order if index % 2 == 0 else reversed(order):
            runs.append(run_once(body))

    version = sys.version.split()[0]
    print(f"{args.runs} pairs of fresh {sys.implementation.name} {version} processes")
    for label, attribute in (("whole process", "process"), ("imports inside it", "imports")):
        without = [getattr(run, attribute) for run in plain]
        with_tracer = [getattr(run, attribute) for run in traced]
        ratios = [t / p for p, t in zip(without, with_tracer, strict=True)]
        extra = [t - p for p, t in zip(without, with_tracer, strict=True)]
        print(
            f"{label:>18}: without Tracer {milliseconds(statistics.median(without))},"
            f" with Tracer {milliseconds(statistics.median(with_tracer))};"
            f" paired ratio {statistics.median(ratios):.2f},"
            f" paired difference {milliseconds(statistics.median(extra))} (medians)"
        )


if __name__ == "__main__":
    main()
