"""Draw the project's three parts and the arrows between them as a Mermaid flowchart.

The arrows are read from the code's imports, so the README's picture cannot drift from
the code: a test regenerates it and compares.

    python -m order_saga_tools.architecture                    # print the Mermaid block
    python -m order_saga_tools.architecture --write README.md  # refresh the README's block
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_MARKER = "<!-- architecture-diagram:start -->"
END_MARKER = "<!-- architecture-diagram:end -->"


@dataclass(frozen=True)
class Part:
    """One of the three parts: a folder, what it is, and its components (node, label, modules)."""

    node: str
    title: str
    package: str
    folder: str
    components: tuple[tuple[str, str, tuple[str, ...]], ...]


PARTS = (
    Part(
        "tooling",
        "saga tooling: tooling/order_saga_tools (never deployed)",
        "order_saga_tools",
        "tooling/order_saga_tools",
        (
            ("cli", "order-saga command", ("cli",)),
            ("ops", "operator commands: seed, inspect, stuck, dlq, executions", (
                "operator", "ops_seed", "ops_inspect", "redrive",
            )),
            ("play", "demo, drills, faults, seeding", (
                "demo", "drills", "faults", "seeding", "saga", "identity", "state",
            )),
            ("cost", "cost: a month of orders, priced", ("cost",)),
            ("generated", "generators: diagrams, Step Functions Local mocks", (
                "diagram", "architecture", "sfn_mocks",
            )),
        ),
    ),
    Part(
        "engine",
        "engine: engine/localcloud (any SAM template, no saga code)",
        "localcloud",
        "engine/localcloud",
        (
            ("cli", "localcloud command: invoke, send-event, start", ("cli",)),
            ("cloud", "LocalCloud: start, invoke, clients, waits", ("cloud", "collector")),
            ("deploy", "SAM translation and deployer", ("template", "deploy", "openapi")),
            ("lambda", "Lambda runtime, code folders, SQS pollers", (
                "runtime", "coderoots", "pollers",
            )),
            ("events", "schedules and SNS deliveries", ("schedules", "sns")),
            ("serve", "HTTP and REST APIs, JWT checks, AWS endpoint", (
                "api", "rest", "identity", "endpoint",
            )),
            ("stack", "stack outputs and clients, local or AWS", ("stack",)),
            ("meter", "metering: the AWS calls and units a run used", ("metering",)),
            ("moto", "moto adaptations", ("moto_adaptations",)),
        ),
    ),
    Part(
        "runtime",
        "runtime package: src/order_saga (each function's CodeUri)",
        "order_saga",
        "src/order_saga",
        (
            ("entrypoints", "entrypoints: thin handlers", ("entrypoints",)),
            ("bootstrap", "bootstrap, config", ("bootstrap", "config")),
            ("adapters", "adapters: DynamoDB, EventBridge, Step Functions", ("adapters",)),
            ("service_layer", "service layer: ports and commands", ("service_layer",)),
            ("domain", "domain: pure Python", ("domain",)),
        ),
    ),
)


class UnplacedModuleError(Exception):
    """A module of a part belongs to none of its components: the picture would hide it."""


def _component_of(part: Part, module: str) -> str | None:
    """The node of the component that holds `module` (dotted, inside the part's package)."""
    head = module.split(".", 1)[0]
    for node, _, members in part.components:
        if head in members:
            return f"{part.node}_{node}"
    return None


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(root: Path, part: Part) -> dict[str, Path]:
    """Every module of a part, by its name inside the package ("" for the package itself)."""
    folder = root / part.folder
    found = {}
    for path in sorted(folder.rglob("*.py")):
        inside = ".".join(path.relative_to(folder).with_suffix("").parts)
        found[inside.removesuffix("__init__").rstrip(".")] = path
    return found


def edges(root: Path = ROOT) -> list[tuple[str, str]]:
    """(from, to) component nodes, one per pair where a module imports another component's."""
    found: set[tuple[str, str]] = set()
    for part in PARTS:
        for inside, path in _modules(root, part).items():
            if not inside:
                continue
            source = _component_of(part, inside)
            if source is None:
                raise UnplacedModuleError(
                    f"{part.folder}/{inside.replace('.', '/')}.py is in no component of "
                    f"{part.node}: add it to PARTS in {Path(__file__).name}"
                )
            for name in _imports(path):
                for target_part in PARTS:
                    prefix = target_part.package + "."
                    if not name.startswith(prefix):
                        continue
                    target = _component_of(target_part, name[len(prefix) :])
                    if target is not None and target != source:
                        found.add((source, target))
    return sorted(found)


def mermaid(root: Path = ROOT) -> str:
    lines = ["flowchart TB"]
    for part in PARTS:
        lines.append(f'  subgraph {part.node}["{part.title}"]')
        lines.extend(
            f'    {part.node}_{node}["{label}"]' for node, label, _ in part.components
        )
        lines.append("  end")
    lines.extend(f"  {source} --> {target}" for source, target in edges(root))
    return "\n".join(lines) + "\n"


def fenced(root: Path = ROOT) -> str:
    return f"```mermaid\n{mermaid(root)}```\n"


def readme_block(readme: str) -> str:
    start = readme.index(START_MARKER) + len(START_MARKER) + 1
    return readme[start : readme.index(END_MARKER)]


def with_block(readme: str, block: str) -> str:
    start = readme.index(START_MARKER) + len(START_MARKER) + 1
    return readme[:start] + block + readme[readme.index(END_MARKER) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="README", help="replace the README's diagram block")
    args = parser.parse_args(argv)
    block = fenced()
    if args.write:
        path = Path(args.write)
        path.write_text(with_block(path.read_text(encoding="utf-8"), block), encoding="utf-8")
    else:
        sys.stdout.write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
