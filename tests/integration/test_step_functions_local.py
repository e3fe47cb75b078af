"""The saga on Step Functions Local with the generated MockConfigFile: each cell's path.

Needs Docker: the README's `docker run` line starts Step Functions Local with
statemachines/MockConfigFile.json; ORDER_SAGA_SFN_LOCAL names its endpoint.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from order_saga_tools import sfn_mocks
from order_saga_tools.drills import SCENARIOS, Cell, load_cells

from .system import ROOT, saga_path, wait_for_execution

ENDPOINT = os.environ.get("ORDER_SAGA_SFN_LOCAL", "")
CELLS = [cell for cell in load_cells(ROOT / SCENARIOS) if sfn_mocks.expressible(cell)]
# Retries wait for real here: a compensation's backoff takes up to a minute or two.
DEADLINE_SECONDS = 300.0

pytestmark = pytest.mark.skipif(
    not ENDPOINT,
    reason="Step Functions Local is not running: start it with the README's docker run line "
    "and set ORDER_SAGA_SFN_LOCAL=http://localhost:8083",
)


@pytest.fixture(scope="module")
def sfn() -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=ENDPOINT,
        region_name=sfn_mocks.SFN_LOCAL_REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - Step Functions Local takes any key
    )


@pytest.fixture(scope="module")
def executions(sfn: Any) -> Iterator[dict[str, str]]:
    """Every test case started at once (their retries wait for real): execution ARN by case."""
    definition = sfn_mocks.definition(ROOT)
    try:
        arn = sfn.create_state_machine(
            name=sfn_mocks.STATE_MACHINE_NAME, definition=definition, roleArn=sfn_mocks.ROLE_ARN
        )["stateMachineArn"]
    except sfn.exceptions.StateMachineAlreadyExists:
        arn = (
            f"arn:aws:states:{sfn_mocks.SFN_LOCAL_REGION}:{sfn_mocks.SFN_LOCAL_ACCOUNT}"
            f":stateMachine:{sfn_mocks.STATE_MACHINE_NAME}"
        )
        sfn.update_state_machine(stateMachineArn=arn, definition=definition)

    def start(cell: Cell) -> tuple[str, str]:
        case = sfn_mocks.test_case_name(cell)
        started = sfn.start_execution(
            stateMachineArn=f"{arn}#{case}",
            name=f"{case}-{uuid.uuid4().hex[:8]}",
            input=json.dumps(sfn_mocks.sample_input()),
        )
        return case, started["executionArn"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        yield dict(pool.map(start, CELLS))


@pytest.mark.parametrize("cell", CELLS, ids=[sfn_mocks.test_case_name(c) for c in CELLS])
def test_each_mocked_test_case_takes_its_scenarios_saga_path(
    sfn: Any, executions: dict[str, str], cell: Cell
) -> None:
    arn = executions[sfn_mocks.test_case_name(cell)]

    described = wait_for_execution(sfn, arn, DEADLINE_SECONDS)

    assert list(saga_path(sfn, arn)) == list(cell.path)
    assert described["status"] == (
        "FAILED" if cell.status == "COMPENSATION_FAILED" else "SUCCEEDED"
    )
