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
