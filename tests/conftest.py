"""Shared fixtures: the project root, a running local cloud, a running `local start`."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
Served = tuple[subprocess.Popen[str], dict[str, str]]


# How `make test` (`pytest -n 4 --dist loadscope` on two cores) shares the tests out: by
# module, so that a module-scoped cloud stays on one worker (one local cloud per process: moto
# is process-wide); the integration package as one, for its one `local start`; and the tests
# of these modules, each of which starts its own cloud, one by one.
PACKAGE_SCOPED = ("tests/integration/",)
SPREAD = ("tests/functional/test_cli.py", "tests/functional/test_template_breakage.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module in SPREAD:
                return nodeid
            return next((p for p in PACKAGE_SCOPED if module.startswith(p)), module)

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def cloud() -> Iterator[object]:
    """The project's template on the local cloud, saga timers at 1/100 of real time."""
    from order_saga_tools.saga import SagaCloud

    with SagaCloud(ROOT, clock_scale=0.01) as running:
        yield running


@contextmanager
def _serving(
    command: list[str], stderr: IO[str] | int = subprocess.DEVNULL
) -> Iterator[Served]:
    """Runs a `start` command as a process until the block ends: it and its printed outputs."""
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        printed = ""
        while not printed.rstrip().endswith("]"):
            line = server.stdout.readline()
            assert line, f"{command[2]} start ended before printing its outputs"
            printed += line
        yield server, {o["OutputKey"]: o["OutputValue"] for o in json.loads(printed)}
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=30)


@contextmanager
def _local_start(*arguments: str) -> Iterator[dict[str, str]]:
    command = [sys.executable, "-m", "order_saga_tools.cli", "--root", str(ROOT), "local",
               "start", "--quiet", "--port", "0", "--aws-port", "0", *arguments]
    with _serving(command) as (_, outputs):
        yield outputs


@pytest.fixture(scope="session")
def local_start() -> Callable[..., AbstractContextManager[dict[str, str]]]:
    """Runs `order-saga local start` (plus arguments) as a process on free ports: its outputs."""
    return _local_start


@pytest.fixture(scope="session")
def serving() -> Callable[..., AbstractContextManager[Served]]:
    """Runs a `start` command (and stderr where to write) as a process: it and its outputs."""
    return _serving


def pytest_unconfigure(config: pytest.Config) -> None:
    """The session is over: freeze what is left, as `order-saga` does at its exit, so that each
    pytest process (every worker) ends without Python's collections over it (about 1.2 s)."""
    gc.freeze()
