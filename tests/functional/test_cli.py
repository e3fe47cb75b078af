"""The `order-saga` command line: local invoke with every sample, and its one-line errors.

Each command starts its own local cloud, so these tests share none with other modules.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from order_saga_tools.cli import _print_demo, main, parameter_overrides

from .conftest import free_port
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


def test_local_invoke_shows_the_functions_log_on_stderr_and_only_its_result_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = ROOT / "events" / "inventory-worker-batch-with-poison.json"

    status = main(["--root", str(ROOT), "local", "invoke", "InventoryWorkerFunction", "-e",
                   str(event)])

    captured = capsys.readouterr()
    assert status == 0
    assert set(json.loads(captured.out)) == {"batchItemFailures"}
    log = captured.err.splitlines()
    assert any("settled as OutOfStockError" in line for line in log), log
    assert any("poison message" in line for line in log), log
    assert all(line.startswith("[InventoryWorkerFunction] ") for line in log), log


def test_local_invoke_takes_sams_env_vars_file_for_declared_variables_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "env.json"
    overrides.write_text(json.dumps({
        "Parameters": {"NOT_DECLARED": "x"},
        "InventoryWorkerFunction": {"POWERTOOLS_LOG_LEVEL": "ERROR"},
    }))
    event = ROOT / "events" / "inventory-worker-batch-with-poison.json"

    status = main(["--root", str(ROOT), "local", "invoke", "InventoryWorkerFunction", "-e",
                   str(event), "--env-vars", str(overrides)])

    log = capsys.readouterr().err.splitlines()
    assert status == 0
    assert "not declared by InventoryWorkerFunction, ignored: NOT_DECLARED" in log
    levels = {json.loads(line.split("] ", 1)[1]).get("level") for line in log if "] {" in line}
    assert levels <= {"ERROR", None}, log


def test_send_event_puts_the_order_created_sample_on_the_bus_and_shows_the_saga_it_started(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = ROOT / "events" / "order-created.json"

    status = main(["--root", str(ROOT), "local", "send-event", "-e", str(event)])

    started = json.loads(capsys.readouterr().out)["started"]
    assert status == 0
    assert len(started) == 1 and started[0]["status"] == "SUCCEEDED"
    # The sample order was never stored, so the claim refuses it: a quiet, successful end.
    assert started[0]["path"][-1] == "Ignore duplicate start"


def test_send_event_refuses_a_file_that_is_not_an_eventbridge_event_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_an_event = tmp_path / "event.json"
    not_an_event.write_text(json.dumps({"source": "order-saga.orders", "detail": "text"}))

    status = main(["--root", str(ROOT), "local", "send-event", "-e", str(not_an_event)])

    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.count("\n") == 0 and "needs an object `detail`" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Stage=dev LogRetentionDays=7", {"Stage": "dev", "LogRetentionDays": "7"}),
        ("ParameterKey=Stage,ParameterValue=dev", {"Stage": "dev"}),
        ("JwtIssuer='https://a b' Stage=x", {"JwtIssuer": "https://a b", "Stage": "x"}),
        ("", {}),
    ],
)
def test_parameter_overrides_are_read_in_both_of_sams_forms(
    text: str, expected: dict[str, str]
) -> None:
    assert parameter_overrides(text) == expected


def test_local_invoke_deploys_with_the_parameter_overrides(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = ROOT / "events" / "get-order-valid.json"

    status = main(["--root", str(ROOT), "local", "invoke", "GetOrderFunction", "-e", str(event),
                   "--parameter-overrides", "Stage=qa NoSuchParameter=1"])

    assert status == 2
    assert "NoSuchParameter" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("currency", "before", "after"),
    [
        pytest.param("JPY", "50000", "49000", id="JPY"),
        pytest.param("EUR", "500.00", "490.00", id="EUR"),
        pytest.param("KWD", "50.000", "49.000", id="KWD"),
    ],
)
def test_the_demo_shows_balances_with_the_decimals_of_their_currency(
    currency: str, before: str, after: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _print_demo(
        {
            "orders": [],
            "currency": currency,
            "before": {"stock": {}, "balances": {"CUST-ALICE": 50_000}},
            "after": {"stock": {}, "balances": {"CUST-ALICE": 49_000}},
            "elapsedSeconds": 1.0,
            "engineStartSeconds": 0.5,
        }
    )
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]

    assert ["CUST-ALICE", before, after] in rows


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
        (["drill", "--only", "no-such-cell"], "no cell matches 'no-such-cell'"),
        (["drill", "--only", "reserve ["], "--only 'reserve [' is not a regular expression"),
    ],
    ids=["unknown function", "missing file", "not JSON", "no drill cell", "drill pattern"],
)
def test_bad_cli_input_gets_one_line_naming_the_problem_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--root", str(ROOT), *arguments])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


def test_a_token_is_minted_without_loading_the_local_cloud() -> None:
    """`TOKEN=$(order-saga local token CUST-ALICE)` needs the signing key, not moto or boto3's
    clients: a second, not three, before the next command can use it."""
    check = (
        "import sys; from order_saga_tools.cli import main; "
        "status = main(['--root', sys.argv[1], 'local', 'token', 'CUST-ALICE']); "
        "print(status, *(name in sys.modules for name in ('moto', 'localcloud.cloud')))"
    )
    printed = subprocess.run([sys.executable, "-c", check, str(ROOT)], capture_output=True,
                             text=True, check=True).stdout.splitlines()

    assert len(printed) == 2 and printed[0].count(".") == 2, printed  # the JWT, then the check
    assert printed[1] == "0 False False"


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
        status = main(["local", "start-api", "--port", str(port), "--aws-port", str(free_port())])
    err = capsys.readouterr().err.strip()
    assert (
        status == 2 and f"cannot listen on 127.0.0.1:{port}" in err and len(err.splitlines()) == 1
    )


def test_start_api_serves_a_saga_and_shows_each_functions_log_lines_named(tmp_path: Path) -> None:
    import re
    import time
    import urllib.request

    port, aws_port = free_port(), free_port()
    errors = (tmp_path / "stderr.txt").open("w+")
    printed = (tmp_path / "stdout.txt").open("w+")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "order_saga_tools.cli",
            "--root",
            str(ROOT),
            "local",
            "start-api",
            "--port",
            str(port),
            "--aws-port",
            str(aws_port),
            "--seed",
        ],
        stdout=printed,
        stderr=errors,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        order = {
            "currency": "EUR",
            "lines": [{"sku": "SKU-APPLE", "quantity": 1, "unitPrice": "1.25"}],
        }
        token = subprocess.run(
            [sys.executable, "-m", "order_saga_tools.cli", "--root", str(ROOT),
             "local", "token", "CUST-ALICE"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        placed = None
        while placed is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"{base}/orders", json.dumps(order).encode(), headers, method="POST"
                )
                with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                    placed = json.loads(answer.read())
            except OSError:
                time.sleep(0.2)  # not listening yet
        assert placed is not None, "start-api never answered"
        # The saga gets time of its own: on a loaded machine the start alone can take most of
        # the first deadline, and the first saga pays each function's cold start.
        deadline = time.monotonic() + 30
        status = "PENDING"
        while status not in {"CONFIRMED", "CANCELLED"} and time.monotonic() < deadline:
            read = urllib.request.Request(f"{base}/orders/{placed['orderId']}", headers=headers)
            with urllib.request.urlopen(read, timeout=5) as got:  # noqa: S310
                status = json.loads(got.read())["status"]
            time.sleep(0.05)
        # On failure, what the server said besides its GETs: a failed delivery or execution.
        assert status == "CONFIRMED", "\n".join(
            [f"the order is still {status}; the server's last lines besides its GETs:"]
            + [line for line in (tmp_path / "stderr.txt").read_text().splitlines()
               if not line.startswith("GET ")][-12:]
        )
        # The order worker logs its line after it stores the status the GET just read, and
        # SIGTERM ends the process at once: wait for the line before ending it.
        while time.monotonic() < deadline and not any(
            line.startswith("[OrderWorkerFunction] ")
            for line in (tmp_path / "stderr.txt").read_text().splitlines()
        ):
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=10)
    errors.seek(0)
    logged = errors.read().splitlines()
    shown = [line for line in logged if line.startswith("[")]
    # Requests are logged on stderr as sam local start-api logs them; stdout holds the outputs
    # alone, so a caller that reads them and then stops reading never blocks the server.
    assert f"GET /orders/{placed['orderId']} -> 200" in logged
    printed.seek(0)
    outputs = json.loads(printed.read())
    assert {o["OutputKey"] for o in outputs} >= {"ApiUrl", "AwsEndpointUrl"}, outputs
    assert any(line.startswith("[CreateOrderFunction] ") for line in shown), shown
    assert any(line.startswith("[OrderWorkerFunction] ") for line in shown), shown
    assert all(re.match(r"^\[[A-Za-z]+Function\] ", line) for line in shown), shown
