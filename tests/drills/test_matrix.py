"""Every cell of tests/drills/scenarios.yaml: its path, its outcome and every invariant."""

from __future__ import annotations

import re

import pytest

from order_saga_tools.drills import SCENARIOS, load_cells, markdown_table, run_cell
from order_saga_tools.saga import SagaCloud

from .conftest import ROOT

CELLS = load_cells(ROOT / SCENARIOS)


def test_the_matrix_has_at_least_30_cells_over_every_point() -> None:
    assert len(CELLS) >= 30
    assert {cell.point for cell in CELLS} == {
        "reserve",
        "charge",
        "confirm",
        "release",
        "refund",
        "emit",
        "start",
    }


@pytest.mark.parametrize("cell", CELLS, ids=[cell.name for cell in CELLS])
def test_each_drill_follows_its_path_and_keeps_every_invariant(
    drill_cloud: SagaCloud, cell: object
) -> None:
    report = run_cell(drill_cloud, cell)  # type: ignore[arg-type]

    assert report.problems == [], report.observed_path
    assert report.observed_path == report.expected_path
    assert (report.observed_status, report.observed_reason) == (
        report.expected_status,
        report.expected_reason,
    )
    broken = [name for name, held in report.invariants.items() if not held]
    assert broken == [], f"invariants broken: {broken}"
    assert {
        "terminal",
        "stock conserved",
        "money conserved",
        "effects once",
        "undone or done",
    } <= set(report.invariants)


def test_the_readme_drill_table_is_generated_from_the_scenarios() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- drills:start -->\n(.*?)\n<!-- drills:end -->", readme, re.DOTALL)
    assert block is not None, "README.md has no drills block"
    assert block.group(1).strip() == markdown_table(CELLS), (
        "README's drill table differs from tests/drills/scenarios.yaml; regenerate it with "
        "`python -m order_saga_tools.drills --table`"
    )
