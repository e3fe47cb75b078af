"""The integration suite's target: the local cloud, or the stack AWS_SAM_STACK_NAME names."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .system import (
    Customer,
    IdentityMissingError,
    System,
    deployed_target,
    local_target,
    target_from_environment,
)


@pytest.fixture(scope="package")
def system() -> Iterator[System]:
    """One target for the whole suite: one `local start`, or the named stack on AWS."""
    if target_from_environment() == "deployed":
        yield deployed_target(
            os.environ["AWS_SAM_STACK_NAME"], os.environ.get("AWS_REGION"), dict(os.environ)
        )
        return
    with local_target() as running:
        yield running


@pytest.fixture(scope="module")
def customers(system: System) -> tuple[Customer, Customer]:
    """Two customers per module: fresh ones locally, the two identities given on AWS."""
    try:
        return system.pair()
    except IdentityMissingError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(autouse=True)
def _slow_only_when_asked(request: pytest.FixtureRequest) -> None:
    # A slow test waits for real timers on AWS (minutes); locally they run at 1/500.
    if (
        request.node.get_closest_marker("slow")
        and target_from_environment() == "deployed"
        and os.environ.get("ORDER_SAGA_SLOW") != "1"
    ):
        pytest.skip("slow on a deployed stack (about 15 minutes): set ORDER_SAGA_SLOW=1 to run it")
