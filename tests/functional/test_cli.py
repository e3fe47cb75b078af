"""The `order-saga` command line: local invoke with every sample, and its one-line errors.

Each command starts its own local cloud, so these tests share none with other modules.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from order_saga.local.cli import main

from .test_events import EVENTS, ROOT, check_response, function_for


@pytest.mark.parametrize("path", [p for p in EVENTS if function_for(p)], ids=lambda p: p.stem)
def test_local_invoke_prints_the_handler_response_for_each_sample(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["--root", str(ROOT), "local", "invoke", str(function_for(path)), "-e", str(path)]
    )
    out = capsys.readouterr().out
    assert status == 0
    check_response(path, json.loads(path.read_text()), json.loads(out))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["local", "invoke", "NoSuchFunction", "-e", "events/get-order-valid.json"],
            "unknown function",
        ),
        (
            ["local", "invoke", "GetOrderFunction", "-e", "events/missing.json"],
            "cannot read event file",
        ),
        (["local", "invoke", "GetOrderFunction", "-e", "template.yaml"], "is not valid JSON"),
    ],
    ids=["unknown function", "missing file", "not JSON"],
)
def test_bad_cli_input_gets_one_line_naming_the_problem_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--root", str(ROOT), *arguments])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


def test_a_template_the_emulator_cannot_deploy_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "template.yaml").write_text("Resources: [not, a, mapping]\n")
    status = main(
        [
            "--root",
            str(tmp_path),
            "local",
            "invoke",
            "GetOrderFunction",
            "-e",
            str(ROOT / "events" / "get-order-valid.json"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert status == 2 and "no Resources section" in err and len(err.splitlines()) == 1


def test_start_api_on_a_port_in_use_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["local", "start-api", "--port", str(port)])
    err = capsys.readouterr().err.strip()
    assert (
        status == 2 and f"cannot listen on 127.0.0.1:{port}" in err and len(err.splitlines()) == 1
    )


def test_start_api_serves_a_saga_and_shows_each_functions_log_lines_named(tmp_path: Path) -> None:
    import re
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    errors = (tmp_path / "stderr.txt").open("w+")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "order_saga.local.cli",
            "--root",
            str(ROOT),
            "local",
            "start-api",
            "--port",
            str(port),
            "--seed",
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        order = {
            "customerId": "CUST-ALICE",
            "currency": "EUR",
            "lines": [{"sku": "SKU-APPLE", "quantity": 1, "unitPrice": "1.25"}],
        }
        placed = None
        while placed is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"{base}/orders",
                    json.dumps(order).encode(),
                    method="POST",
                    headers={"content-type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                    placed = json.loads(answer.read())
            except OSError:
                time.sleep(0.2)  # not listening yet
        assert placed is not None, "start-api never answered"
        status = "PENDING"
        while status not in {"CONFIRMED", "CANCELLED"} and time.monotonic() < deadline:
            with urllib.request.urlopen(f"{base}/orders/{placed['orderId']}", timeout=5) as got:  # noqa: S310
                status = json.loads(got.read())["status"]
            time.sleep(0.05)
        assert status == "CONFIRMED"
    finally:
        server.terminate()
        server.wait(timeout=10)
    errors.seek(0)
    shown = [line for line in errors.read().splitlines() if line.startswith("[")]
    assert any(line.startswith("[CreateOrderFunction] ") for line in shown), shown
    assert any(line.startswith("[OrderWorkerFunction] ") for line in shown), shown
    assert all(re.match(r"^\[[A-Za-z]+Function\] ", line) for line in shown), shown
