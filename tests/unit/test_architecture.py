"""The layers keep their distance: the domain knows nothing of AWS, the fakes match the ports."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import localcloud
import order_saga
import order_saga_tools
from order_saga.service_layer import ports

from . import fakes

PACKAGE = Path(order_saga.__file__).parent

AWS = ("boto3", "botocore", "aws_lambda_powertools", "aws_xray_sdk", "moto")
OUTER_LAYERS = (
    "order_saga.adapters",
    "order_saga.entrypoints",
    "localcloud",
    "order_saga_tools",
    "order_saga.bootstrap",
    "order_saga.config",
)
DOMAIN_FORBIDS = (*AWS, "os", "order_saga.service_layer", *OUTER_LAYERS)
SERVICE_LAYER_FORBIDS = (*AWS, "os", *OUTER_LAYERS)


def imported_names(source: str, module: str) -> set[str]:
    """Every module a source imports, anywhere in it, with relative imports resolved."""
    names: set[str] = set()
    package_parts = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            names.add(origin)
            names.update(f"{origin}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in {"__import__", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def forbidden(names: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in names if any(name == ban or name.startswith(ban + ".") for ban in banned)
    )


def modules_of(layer: str, package: Path = PACKAGE) -> list[Path]:
    return sorted((package / layer).rglob("*.py"))


def module_name(path: Path, package: Path = PACKAGE) -> str:
    # A package's __init__ keeps its name, so that "." resolves to the package itself.
    return ".".join(path.relative_to(package.parent).with_suffix("").parts)


@pytest.mark.parametrize(
    ("source", "module", "found"),
    [
        pytest.param("import boto3", "order_saga.domain.x", ["boto3"], id="import"),
        pytest.param(
            "from os import environ", "order_saga.domain.x", ["os", "os.environ"], id="os"
        ),
        pytest.param(
            "def f():\n    import botocore.exceptions\n",
            "order_saga.domain.x",
            ["botocore.exceptions"],
            id="inside-a-function",
        ),
        pytest.param(
            "from ..adapters import dynamodb_orders",
            "order_saga.domain.x",
            ["order_saga.adapters", "order_saga.adapters.dynamodb_orders"],
            id="relative",
        ),
        pytest.param(
            "import importlib\nimportlib.import_module('aws_lambda_powertools')",
            "order_saga.domain.x",
            ["aws_lambda_powertools"],
            id="import-module",
        ),
        pytest.param("import json, re", "order_saga.domain.x", [], id="stdlib"),
        pytest.param(
            "from order_saga.domain.model import Money", "order_saga.domain.x", [], id="domain"
        ),
    ],
)
def test_the_import_scan_finds_what_it_must(source: str, module: str, found: list[str]) -> None:
    assert forbidden(imported_names(source, module), DOMAIN_FORBIDS) == found


@pytest.mark.parametrize(
    "path", modules_of("domain"), ids=lambda path: path.relative_to(PACKAGE).as_posix()
)
def test_the_domain_imports_no_aws_code_no_environment_and_no_outer_layer(path: Path) -> None:
    names = imported_names(path.read_text(encoding="utf-8"), module_name(path))

    assert forbidden(names, DOMAIN_FORBIDS) == []


@pytest.mark.parametrize(
    "path", modules_of("service_layer"), ids=lambda path: path.relative_to(PACKAGE).as_posix()
)
def test_the_service_layer_imports_no_aws_code_and_no_adapter(path: Path) -> None:
    names = imported_names(path.read_text(encoding="utf-8"), module_name(path))

    assert forbidden(names, SERVICE_LAYER_FORBIDS) == []


def test_the_scans_cover_the_modules_that_exist() -> None:
    domain = {path.stem for path in modules_of("domain")}
    services = {path.stem for path in modules_of("service_layer")}

    assert {"model", "commands", "errors", "events", "requests"} <= domain
    assert {"ports", "orders", "inventory", "payments", "worker"} <= services


def test_importing_the_domain_and_services_loads_no_aws_library() -> None:
    modules = [
        module_name(path)
        for path in [*modules_of("domain"), *modules_of("service_layer")]
        if path.stem != "__init__"
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {AWS!r}))\n"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"


ENGINE = Path(localcloud.__file__).parent
TOOLING = Path(order_saga_tools.__file__).parent


@pytest.mark.parametrize(
    "path", modules_of(".", ENGINE), ids=lambda path: path.relative_to(ENGINE).as_posix()
)
def test_the_engine_imports_nothing_of_the_saga_neither_runtime_nor_tooling(path: Path) -> None:
    names = imported_names(path.read_text(encoding="utf-8"), module_name(path, ENGINE))

    assert forbidden(names, ("order_saga", "order_saga_tools")) == []


@pytest.mark.parametrize(
    "path", modules_of(".", PACKAGE), ids=lambda path: path.relative_to(PACKAGE).as_posix()
)
def test_the_runtime_package_imports_neither_the_engine_nor_the_tooling(path: Path) -> None:
    names = imported_names(path.read_text(encoding="utf-8"), module_name(path))

    assert forbidden(names, ("localcloud", "order_saga_tools", "moto", "yaml", "jwt")) == []


def test_the_three_parts_live_in_their_own_folders_and_the_runtime_folder_holds_only_it() -> None:
    runtime_folder = PACKAGE.parent

    assert ENGINE.parent.name == "engine"
    assert TOOLING.parent.name == "tooling"
    assert sorted(p.name for p in runtime_folder.iterdir() if p.name != "__pycache__") == [
        "order_saga",
        "requirements.txt",
    ]
    assert len(modules_of(".", ENGINE)) >= 8
    assert len(modules_of(".", TOOLING)) >= 8


PORTS_AND_FAKES = [
    (ports.OrderRepository, fakes.FakeOrderRepository),
    (ports.InventoryStore, fakes.FakeInventoryStore),
    (ports.PaymentLedger, fakes.FakePaymentLedger),
    (ports.EventPublisher, fakes.FakeEventPublisher),
    (ports.TaskReporter, fakes.FakeTaskReporter),
    (ports.Clock, fakes.FixedClock),
]


def port_methods(port: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(port).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("port", "fake"), PORTS_AND_FAKES, ids=[port.__name__ for port, _ in PORTS_AND_FAKES]
)
def test_each_fake_offers_every_method_of_its_port_with_the_same_parameters(
    port: type, fake: type
) -> None:
    methods = port_methods(port)

    assert methods
    for name, signature in methods.items():
        assert list(inspect.signature(getattr(fake, name)).parameters) == list(
            signature.parameters
        ), f"{fake.__name__}.{name}"


def test_pyproject_lists_every_package_of_the_runtime_and_the_tooling() -> None:
    import tomllib

    listed = set(
        tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))[
            "tool"
        ]["setuptools"]["packages"]
    )
    found = {
        module_name(init.parent, root).removesuffix(".")
        for root in (PACKAGE, TOOLING)
        for init in root.rglob("__init__.py")
    }

    assert listed == found
