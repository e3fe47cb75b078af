"""Render a state machine definition (ASL) as a Mermaid flowchart for the README.

Next, Default and Choice edges are solid; Catch edges are dotted and labelled with the
errors they catch; Succeed, Fail and End states are drawn as terminals (stadium shape).

    python -m order_saga_tools.diagram                 # print the Mermaid block
    python -m order_saga_tools.diagram --write README.md  # refresh the README's block
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ASL_PATH = Path("statemachines/order_saga.asl.json")
START_MARKER = "<!-- saga-diagram:start -->"
END_MARKER = "<!-- saga-diagram:end -->"
TERMINAL_TYPES = frozenset({"Succeed", "Fail"})


def _node_ids(names: list[str]) -> dict[str, str]:
    """A Mermaid-safe, stable id per state name: its words in CamelCase."""
    ids: dict[str, str] = {}
    taken = {"start"}
    for name in names:
        base = "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", name))
        base = base or "State"
        if base[0].isdigit():
            base = "S" + base
        node_id, suffix = base, 2
        while node_id.lower() in taken:
            node_id, suffix = f"{base}{suffix}", suffix + 1
        taken.add(node_id.lower())
        ids[name] = node_id
    return ids


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def _is_terminal(state: dict[str, Any]) -> bool:
    return state.get("Type") in TERMINAL_TYPES or state.get("End") is True


def _node(node_id: str, name: str, state: dict[str, Any]) -> str:
    if _is_terminal(state):
        return f"{node_id}([{_label(name)}])"
    if state.get("Type") == "Choice":
        return f"{node_id}{{{_label(name)}}}"
    return f"{node_id}[{_label(name)}]"


def _edges(name: str, state: dict[str, Any], ids: dict[str, str]) -> list[str]:
    source = ids[name]
    edges = []
    for rule in state.get("Choices", []):
        if "Next" in rule:
            edges.append(f"{source} --> {ids.get(rule['Next'], rule['Next'])}")
    if "Default" in state:
        edges.append(f"{source} -->|default| {ids.get(state['Default'], state['Default'])}")
    if "Next" in state:
        edges.append(f"{source} --> {ids.get(state['Next'], state['Next'])}")
    for catcher in state.get("Catch", []):
        errors = ", ".join(catcher.get("ErrorEquals", []))
        target = ids.get(catcher["Next"], catcher["Next"])
        edges.append(f"{source} -.->|{_label(errors)}| {target}")
    return edges


def mermaid(asl: dict[str, Any]) -> str:
    """The state machine as a Mermaid `flowchart TD`, one line per node and edge."""
    states: dict[str, dict[str, Any]] = asl["States"]
    ids = _node_ids(list(states))
    lines = ["flowchart TD", f"    start((Start)) --> {ids.get(asl['StartAt'], asl['StartAt'])}"]
    lines += [f"    {_node(ids[name], name, state)}" for name, state in states.items()]
    for name, state in states.items():
        lines += [f"    {edge}" for edge in _edges(name, state, ids)]
    succeeded = [ids[n] for n, s in states.items() if _is_terminal(s) and s.get("Type") != "Fail"]
    failed = [ids[n] for n, s in states.items() if s.get("Type") == "Fail"]
    lines.append("    classDef succeeded fill:#dff0d8,stroke:#3c763d,color:#1e3d1e")
    lines.append("    classDef failed fill:#f2dede,stroke:#a94442,color:#5a1f1e")
    if succeeded:
        lines.append(f"    class {','.join(succeeded)} succeeded")
    if failed:
        lines.append(f"    class {','.join(failed)} failed")
    return "\n".join(lines) + "\n"


def fenced(asl: dict[str, Any]) -> str:
    """The Markdown block that the README holds between its saga-diagram markers."""
    return f"```mermaid\n{mermaid(asl)}```"


def readme_block(readme: str) -> str:
    """The text between the README's saga-diagram markers, without surrounding blank lines."""
    start = readme.index(START_MARKER) + len(START_MARKER)
    end = readme.index(END_MARKER, start)
    return readme[start:end].strip("\n")


def with_block(readme: str, block: str) -> str:
    """The README with `block` between its saga-diagram markers."""
    start = readme.index(START_MARKER) + len(START_MARKER)
    end = readme.index(END_MARKER, start)
    return f"{readme[:start]}\n{block}\n{readme[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asl", type=Path, default=ASL_PATH)
    parser.add_argument("--write", type=Path, metavar="README", help="refresh this file's block")
    args = parser.parse_args(argv)
    block = fenced(json.loads(args.asl.read_text(encoding="utf-8")))
    if args.write is None:
        sys.stdout.write(block + "\n")
        return 0
    readme = args.write.read_text(encoding="utf-8")
    args.write.write_text(with_block(readme, block), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
