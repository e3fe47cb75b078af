"""Fixtures shared by the functional tests: a running `order-saga local start`."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on (a test points a command at it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def started(
    local_start: Callable[..., AbstractContextManager[dict[str, str]]],
) -> Iterator[dict[str, str]]:
    """A running `local start`; its printed outputs by key."""
    with local_start() as outputs:
        yield outputs
