"""Fixtures shared by the functional tests: a running `order-saga local start`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, str]]:
    """A running `local start`; its printed outputs by key."""
    command = [sys.executable, "-m", "order_saga.local.cli", "--root", str(ROOT), "local",
               "start", "--quiet", "--port", str(free_port()), "--aws-port", str(free_port())]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        assert server.stdout is not None
        printed = ""
        while not printed.rstrip().endswith("]"):
            line = server.stdout.readline()
            assert line, "local start ended before printing its outputs"
            printed += line
        yield {o["OutputKey"]: o["OutputValue"] for o in json.loads(printed)}
    finally:
        server.terminate()
        server.wait(timeout=10)
