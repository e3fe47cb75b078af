"""The drills' local cloud: saga timers at the drill scale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from order_saga_tools.drills import DRILL_CLOCK_SCALE
from order_saga_tools.saga import SagaCloud

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def drill_cloud() -> Iterator[SagaCloud]:
    with SagaCloud(ROOT, clock_scale=DRILL_CLOCK_SCALE) as running:
        yield running
