"""Shared fixtures: the project root and a running local cloud."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def cloud() -> Iterator[object]:
    """The project's template on the local cloud, saga timers at 1/100 of real time."""
    from order_saga.local.cloud import LocalCloud

    with LocalCloud(ROOT, clock_scale=0.01) as running:
        yield running
