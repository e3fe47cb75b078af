"""`order-saga dlq` and `order-saga executions` against a stack they cannot reach: one line, 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from order_saga_tools.cli import main

COMMANDS = [
    ["dlq", "list"],
    ["dlq", "show", "inventory"],
    ["dlq", "redrive", "inventory", "--yes"],
    ["executions", "failed"],
    ["executions", "redrive", "--all", "--yes"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_local_cloud_that_is_not_running_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--root", str(tmp_path), *command, "--local", "http://127.0.0.1:1"])

    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.splitlines() == [err] and "Traceback" not in err
    assert err.startswith("order-saga: no local cloud outputs in ")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_stack_on_aws_without_credentials_is_one_line_and_exit_2(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    status = main([*command, "--stack", "order-saga-dev", "--region", "eu-west-1"])

    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.splitlines() == [err] and err.startswith("order-saga: no AWS credentials")


def test_redrive_needs_an_execution_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["executions", "redrive", "--local", "http://127.0.0.1:1"])

    assert exit_.value.code == 2
    assert "one of the arguments ARN --all is required" in capsys.readouterr().err
