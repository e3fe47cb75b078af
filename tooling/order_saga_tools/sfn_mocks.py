"""Step Functions Local's MockConfigFile for the saga, generated from the drills' scenarios.

Step Functions Local replaces a Task state's service call with a mocked response, `Return`
or `Throw`; a `waitForTaskToken` task is mocked as what its worker eventually reports. A
drill cell is expressed when its fault shows at a saga task: the participant's answer (a
business error, a transient error then success, a technical error, a heartbeat timeout) or,
for a fault inside the worker (a crash after the effect, a duplicate, a poison message) and
a compensation's heartbeat timeout, the success that redelivery or the retry ends in.
Faults before the saga starts (the order's emit, the saga's start) are not the state
machine's, and have no test case.

    python -m order_saga_tools.sfn_mocks > statemachines/MockConfigFile.json
    python -m order_saga_tools.sfn_mocks --definition   # the ASL, substitutions applied
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from order_saga.domain.events import SOURCE, OrderCreated
from order_saga.domain.model import Money, Order, OrderLine
from order_saga_tools.drills import SCENARIOS, Cell, load_cells

ASL = Path("statemachines/order_saga.asl.json")
MOCK_CONFIG = Path("statemachines/MockConfigFile.json")
STATE_MACHINE_NAME = "order-saga"
SFN_LOCAL_ACCOUNT = "123456789012"
SFN_LOCAL_REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{SFN_LOCAL_ACCOUNT}:role/DummyRole"

# Where each drill point fails in the state machine.
POINT_STATES = {
    "reserve": "Reserve inventory",
    "charge": "Charge payment",
    "confirm": "Confirm order",
    "release": "Release inventory",
    "refund": "Refund payment",
}
# A compensation runs only after a failure: release after a declined payment, refund after a
# confirm that failed for good (as the drills arrange them).
TRIGGERS = {
    "release": ("Charge payment", "PaymentDeclined"),
    "refund": ("Confirm order", "InjectedFault"),
}
# What the state machine sees of each fault kind at its point: a mocked response's name.
KIND_RESPONSES = {
    "transient then ok": "UnavailableTwiceThenDone",
    "permanent technical error": "InjectedFault",
    "crash after effect": "Done",
    "duplicate delivery": "Done",
    "poison message": "Done",
    "no answer": "HeartbeatTimeout",
    "compensation fails 3 times then succeeds": "UnavailableThreeTimesThenDone",
    "compensation fails for good": "InjectedFault",
}
BUSINESS_REJECTIONS = {"reserve": "OutOfStock", "charge": "PaymentDeclined"}

DONE = {"Return": {"orderId": "ORDER-1", "done": True}}
UNAVAILABLE = {
    "Throw": {"Error": "ParticipantUnavailableError", "Cause": "the participant's store throttled"}
}
MOCKED_RESPONSES: dict[str, dict[str, Any]] = {
    "ItemUpdated": {"0": {"Return": {}}},
    "EventPublished": {
        "0": {"Return": {"Entries": [{"EventId": "event-1"}], "FailedEntryCount": 0}}
    },
    "MessageSent": {"0": {"Return": {"MessageId": "message-1", "MD5OfMessageBody": "0" * 32}}},
    "Done": {"0": DONE},
    "OutOfStock": {"0": {"Throw": {"Error": "OutOfStockError", "Cause": "SKU-1 is short"}}},
    "PaymentDeclined": {
        "0": {"Throw": {"Error": "PaymentDeclinedError", "Cause": "the balance is short"}}
    },
    "InjectedFault": {
        "0": {"Throw": {"Error": "InjectedFaultError", "Cause": "the store refuses writes"}}
    },
    "UnavailableTwiceThenDone": {"0-1": UNAVAILABLE, "2": DONE},
    "UnavailableThreeTimesThenDone": {"0-2": UNAVAILABLE, "3": DONE},
    "HeartbeatTimeout": {
        "0": {"Throw": {"Error": "States.HeartbeatTimeout", "Cause": "no answer in time"}}
    },
}


def _success_response(state: dict[str, Any]) -> str:
    resource = str(state["Resource"])
    if resource.endswith("waitForTaskToken"):
        return "Done"
    if ":events:" in resource:
        return "EventPublished"
    if ":sqs:" in resource:
        return "MessageSent"
    return "ItemUpdated"


def test_case_name(cell: Cell) -> str:
    """`reserve / no answer` -> `ReserveNoAnswer`: a name that can follow `#` in an ARN."""
    words = re.findall(r"[A-Za-z0-9]+", f"{cell.point} {cell.kind}")
    return "".join(word[:1].upper() + word[1:] for word in words)


def expressible(cell: Cell) -> bool:
    return cell.point in POINT_STATES


def test_case(cell: Cell, asl: dict[str, Any]) -> dict[str, str]:
    """Every Task state of the saga mocked, the cell's fault at its point."""
    case = {
        name: _success_response(state)
        for name, state in asl["States"].items()
        if state["Type"] == "Task"
    }
    if cell.point in TRIGGERS:
        state, response = TRIGGERS[cell.point]
        case[state] = response
    if cell.kind == "business rejection":
        case[POINT_STATES[cell.point]] = BUSINESS_REJECTIONS[cell.point]
    elif cell.kind == "no answer" and cell.point in TRIGGERS:
        # A compensation retries States.HeartbeatTimeout, which Step Functions raises itself:
        # a mocked error of that name is not one a Retry matches everywhere, so the mock is
        # the answer the retried call gets.
        case[POINT_STATES[cell.point]] = "Done"
    else:
        case[POINT_STATES[cell.point]] = KIND_RESPONSES[cell.kind]
    return case


def mock_config(root: Path | str = ".") -> dict[str, Any]:
    """The MockConfigFile: one test case per cell a mock can express."""
    base = Path(root)
    asl = json.loads((base / ASL).read_text(encoding="utf-8"))
    cases = {
        test_case_name(cell): test_case(cell, asl)
        for cell in load_cells(base / SCENARIOS)
        if expressible(cell)
    }
    return {
        "StateMachines": {STATE_MACHINE_NAME: {"TestCases": cases}},
        "MockedResponses": MOCKED_RESPONSES,
    }


def rendered(root: Path | str = ".") -> str:
    return json.dumps(mock_config(root), indent=2) + "\n"


def _placeholder_value(name: str) -> str:
    if name == "Partition":
        return "aws"
    resource = "order-saga-local-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
    if name.endswith("QueueUrl"):
        return f"https://sqs.{SFN_LOCAL_REGION}.amazonaws.com/{SFN_LOCAL_ACCOUNT}/{resource}"
    return resource


def definition(root: Path | str = ".") -> str:
    """The ASL with every DefinitionSubstitution given a value; mocked tasks never use them."""
    text = (Path(root) / ASL).read_text(encoding="utf-8")
    return re.sub(r"\$\{([^}]+)\}", lambda match: _placeholder_value(match.group(1)), text)


def sample_input(order_id: str = "ORDER-1") -> dict[str, Any]:
    """An OrderCreated event as EventBridge hands it to the saga."""
    order = Order(
        order_id,
        "CUST-1",
        (OrderLine("SKU-1", 2, Money(250, "EUR")),),
        created_at="2025-01-01T00:00:00Z",
        correlation_id=order_id,
    )
    return {
        "detail-type": OrderCreated.detail_type,
        "source": SOURCE,
        "detail": OrderCreated(order).detail(),
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--definition"]:
        sys.stdout.write(definition())
    elif sys.argv[1:] == ["--input"]:
        print(json.dumps(sample_input()))
    else:
        sys.stdout.write(rendered())
