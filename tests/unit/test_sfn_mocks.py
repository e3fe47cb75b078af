"""statemachines/MockConfigFile.json: the shape Step Functions Local reads, true to the saga."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from order_saga_tools import sfn_mocks
from order_saga_tools.drills import SCENARIOS, load_cells

ROOT = Path(__file__).resolve().parents[2]
CONFIG: dict[str, Any] = json.loads((ROOT / sfn_mocks.MOCK_CONFIG).read_text(encoding="utf-8"))
ASL: dict[str, Any] = json.loads((ROOT / sfn_mocks.ASL).read_text(encoding="utf-8"))
CELLS = load_cells(ROOT / SCENARIOS)
CASES: dict[str, dict[str, str]] = CONFIG["StateMachines"][sfn_mocks.STATE_MACHINE_NAME][
    "TestCases"
]
RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def test_the_committed_file_is_what_the_generator_writes() -> None:
    assert (ROOT / sfn_mocks.MOCK_CONFIG).read_text(encoding="utf-8") == sfn_mocks.rendered(
        ROOT
    ), "regenerate: python -m order_saga_tools.sfn_mocks > statemachines/MockConfigFile.json"


def test_the_file_has_the_top_level_fields_aws_documents() -> None:
    assert set(CONFIG) == {"StateMachines", "MockedResponses"}
    assert all(set(machine) == {"TestCases"} for machine in CONFIG["StateMachines"].values())


def test_every_test_case_maps_state_names_to_mocked_responses_that_exist() -> None:
    for case in CASES.values():
        assert all(isinstance(name, str) for name in case.values())
        assert set(case.values()) <= set(CONFIG["MockedResponses"])


@pytest.mark.parametrize("name", sorted(CONFIG["MockedResponses"]))
def test_each_mocked_response_numbers_its_calls_from_zero_without_gaps(name: str) -> None:
    ranges = []
    for key in CONFIG["MockedResponses"][name]:
        match = RANGE.match(key)
        assert match, f"{name}: {key!r} is neither a call number nor a range"
        ranges.append((int(match.group(1)), int(match.group(2) or match.group(1))))
    ranges.sort()
    assert ranges[0][0] == 0
    assert all(end + 1 == start for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False))


@pytest.mark.parametrize("name", sorted(CONFIG["MockedResponses"]))
def test_each_mocked_call_either_returns_or_throws_an_error_with_a_cause(name: str) -> None:
    for response in CONFIG["MockedResponses"][name].values():
        assert len(response) == 1 and set(response) <= {"Return", "Throw"}
        if "Throw" in response:
            assert set(response["Throw"]) == {"Error", "Cause"}
            assert all(isinstance(text, str) and text for text in response["Throw"].values())


def test_every_mocked_state_is_a_task_of_the_saga_and_every_task_is_mocked() -> None:
    tasks = {name for name, state in ASL["States"].items() if state["Type"] == "Task"}

    for case in CASES.values():
        assert set(case) == tasks


def test_there_is_one_test_case_per_cell_at_a_saga_task_and_none_for_the_others() -> None:
    at_a_task = {sfn_mocks.test_case_name(c) for c in CELLS if c.point in sfn_mocks.POINT_STATES}
    outside = [c for c in CELLS if c.point not in sfn_mocks.POINT_STATES]

    assert set(CASES) == at_a_task
    assert {c.point for c in outside} == {"emit", "start"}


def test_every_error_a_mock_throws_is_one_the_saga_names_or_step_functions_raises() -> None:
    named = {
        error
        for state in ASL["States"].values()
        for rule in state.get("Retry", []) + state.get("Catch", [])
        for error in rule["ErrorEquals"]
    }
    thrown = {
        response["Throw"]["Error"]
        for calls in CONFIG["MockedResponses"].values()
        for response in calls.values()
        if "Throw" in response
    }

    # InjectedFaultError is the drills' technical error: the saga meets it under States.ALL.
    assert thrown - named == {"InjectedFaultError"}


@pytest.mark.parametrize(
    ("case", "state", "error"),
    [
        ("ReserveBusinessRejection", "Reserve inventory", "OutOfStockError"),
        ("ChargeBusinessRejection", "Charge payment", "PaymentDeclinedError"),
        ("ConfirmNoAnswer", "Confirm order", "States.HeartbeatTimeout"),
        ("ReleaseCompensationFailsForGood", "Charge payment", "PaymentDeclinedError"),
        ("ReleaseCompensationFailsForGood", "Release inventory", "InjectedFaultError"),
        ("RefundCompensationFailsForGood", "Confirm order", "InjectedFaultError"),
        ("RefundCompensationFailsForGood", "Refund payment", "InjectedFaultError"),
    ],
)
def test_a_cells_fault_is_thrown_at_its_state_on_the_first_call(
    case: str, state: str, error: str
) -> None:
    first = CONFIG["MockedResponses"][CASES[case][state]]["0"]

    assert first["Throw"]["Error"] == error


def test_the_definition_for_step_functions_local_has_no_placeholder_left() -> None:
    text = sfn_mocks.definition(ROOT)

    assert "${" not in text
    assert json.loads(text)["States"].keys() == ASL["States"].keys()
