"""The README's architecture picture is drawn from the code's imports, and stays so."""

from __future__ import annotations

from pathlib import Path

import pytest

from order_saga_tools.architecture import (
    END_MARKER,
    PARTS,
    START_MARKER,
    UnplacedModuleError,
    edges,
    fenced,
    readme_block,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
REFRESH = "python -m order_saga_tools.architecture --write README.md"


def test_the_readme_has_one_pair_of_architecture_markers() -> None:
    text = README.read_text(encoding="utf-8")

    assert text.count(START_MARKER) == 1 and text.count(END_MARKER) == 1
    assert text.index(START_MARKER) < text.index(END_MARKER)


def test_the_readme_architecture_is_the_one_drawn_from_the_imports() -> None:
    assert readme_block(README.read_text(encoding="utf-8")) == fenced(ROOT), (
        f"README.md's architecture picture is stale; run `{REFRESH}`"
    )


def test_no_arrow_leaves_the_runtime_and_none_goes_from_the_engine_to_the_saga() -> None:
    drawn = edges(ROOT)

    def leaving(part: str) -> list[tuple[str, str]]:
        return [e for e in drawn if e[0].startswith(part) and not e[1].startswith(part)]

    assert leaving("runtime_") == []
    assert leaving("engine_") == []
    assert ("tooling_play", "engine_cloud") in drawn


def small_tree(root: Path, imports: dict[str, str]) -> Path:
    """Each part's folder with one module per component, importing what `imports` says."""
    for part in PARTS:
        for _, _, members in part.components:
            path = root / part.folder / f"{members[0]}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(imports.get(f"{part.package}.{members[0]}", ""), encoding="utf-8")
    return root


def test_a_new_import_between_parts_draws_a_new_arrow(tmp_path: Path) -> None:
    tree = small_tree(tmp_path, {"localcloud.cloud": "from order_saga.domain import model\n"})

    assert edges(tree) == [("engine_cloud", "runtime_domain")]


def test_a_module_placed_in_no_component_is_refused_by_name(tmp_path: Path) -> None:
    tree = small_tree(tmp_path, {})
    (tree / "engine/localcloud/newcomer.py").write_text("", encoding="utf-8")

    with pytest.raises(UnplacedModuleError, match="engine/localcloud/newcomer.py"):
        edges(tree)
