"""The drills' local cloud: saga timers at the drill scale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from order_saga.local.cloud import LocalCloud
from order_saga.local.drills import DRILL_CLOCK_SCALE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def drill_cloud() -> Iterator[LocalCloud]:
    with LocalCloud(ROOT, clock_scale=DRILL_CLOCK_SCALE) as running:
        yield running
