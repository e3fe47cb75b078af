"""The README's saga diagram is generated from the state machine, and stays so."""

from __future__ import annotations

import copy
import difflib
import json
from pathlib import Path
from typing import Any

from order_saga_tools.diagram import (
    END_MARKER,
    START_MARKER,
    fenced,
    mermaid,
    readme_block,
    with_block,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ASL: dict[str, Any] = json.loads((ROOT / "statemachines" / "order_saga.asl.json").read_text())
REFRESH = "python -m order_saga_tools.diagram --write README.md"


def stale_diagram_diff(readme: str, asl: dict[str, Any]) -> str:
    """A unified diff from the README's block to the generated one; empty when they agree."""
    return "".join(
        difflib.unified_diff(
            readme_block(readme).splitlines(keepends=True),
            fenced(asl).splitlines(keepends=True),
            "README.md",
            "mermaid(statemachines/order_saga.asl.json)",
        )
    )


def test_the_readme_has_one_pair_of_saga_diagram_markers() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(START_MARKER) == 1 and text.count(END_MARKER) == 1, (
        f"README.md needs exactly one {START_MARKER} and one {END_MARKER}"
    )
    assert text.index(START_MARKER) < text.index(END_MARKER)


def test_the_readme_diagram_is_the_one_generated_from_the_state_machine() -> None:
    diff = stale_diagram_diff(README.read_text(encoding="utf-8"), ASL)
    assert not diff, f"README.md's saga diagram is stale; run `{REFRESH}`:\n{diff}"


def test_a_readme_diagram_of_an_older_state_machine_is_reported_stale() -> None:
    current = with_block(README.read_text(encoding="utf-8"), fenced(ASL))
    changed = copy.deepcopy(ASL)
    changed["States"]["Charge payment"]["Catch"][0]["ErrorEquals"] = ["PaymentRefusedError"]
    diff = stale_diagram_diff(current, changed)
    assert '-    ChargePayment -.->|"PaymentDeclinedError"| ReleaseInventory' in diff
    assert '+    ChargePayment -.->|"PaymentRefusedError"| ReleaseInventory' in diff


SMALL = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": 'Do "it"'}],
            "Default": "Give up",
        },
        'Do "it"': {
            "Type": "Task",
            "Next": "Done",
            "Catch": [
                {"ErrorEquals": ["OutOfStockError", "PaymentDeclinedError"], "Next": "Give up"},
                {"ErrorEquals": ["States.ALL"], "Next": "Give up"},
            ],
        },
        "Done": {"Type": "Pass", "End": True},
        "Give up": {"Type": "Fail", "Error": "GaveUp"},
        "give-up": {"Type": "Succeed"},
    },
}


def test_next_edges_are_solid_and_catch_edges_are_dotted_and_labelled_with_their_errors() -> None:
    lines = mermaid(SMALL).splitlines()
    assert lines[0] == "flowchart TD"
    assert "    start((Start)) --> Check" in lines
    assert "    DoIt --> Done" in lines
    assert "    Check --> DoIt" in lines
    assert "    Check -->|default| GiveUp" in lines
    assert '    DoIt -.->|"OutOfStockError, PaymentDeclinedError"| GiveUp' in lines
    assert '    DoIt -.->|"States.ALL"| GiveUp' in lines


def test_succeed_fail_and_end_states_are_drawn_as_terminals() -> None:
    lines = mermaid(SMALL).splitlines()
    assert '    Done(["Done"])' in lines
    assert '    GiveUp(["Give up"])' in lines
    assert '    DoIt["Do #quot;it#quot;"]' in lines
    assert '    Check{"Check"}' in lines
    assert "    class Done,GiveUp2 succeeded" in lines
    assert "    class GiveUp failed" in lines


def test_state_names_that_read_alike_get_distinct_node_ids() -> None:
    assert '    GiveUp2(["give-up"])' in mermaid(SMALL).splitlines()


def test_writing_the_block_replaces_only_the_text_between_the_markers() -> None:
    readme = f"# Title\n\n{START_MARKER}\nold\n{END_MARKER}\n\nAfter.\n"
    written = with_block(readme, fenced(SMALL))
    assert written.startswith(f"# Title\n\n{START_MARKER}\n```mermaid\nflowchart TD\n")
    assert written.endswith(f"```\n{END_MARKER}\n\nAfter.\n")
    assert readme_block(written) == fenced(SMALL)
