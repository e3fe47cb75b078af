"""What the local cloud keeps on disk when several run at once: the signing key, the outputs."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from localcloud import identity
from localcloud.stack import StackUnreachableError, connect

from .conftest import write_app

ONE_FUNCTION = """\
Noop:
  Type: AWS::Serverless::Function
  Properties:
    Runtime: python3.13
    Handler: app.handler
    CodeUri: src/
"""
ECHO = "def handler(event, context):\n    return event\n"


def test_a_signing_key_made_by_many_at_once_is_one_whole_key_for_all(tmp_path: Path) -> None:
    path = tmp_path / "state" / identity.KEY_FILE
    starting = threading.Barrier(16)
    keys: list[bytes] = []

    def first_use() -> None:
        starting.wait()
        keys.append(identity.signing_key(path))

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 16 and len(set(keys)) == 1 and len(keys[0]) == 64
    assert [p.name for p in path.parent.iterdir()] == [identity.KEY_FILE]
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_key_another_process_put_in_place_first_is_the_one_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / identity.KEY_FILE
    theirs = "ab" * 32
    link = os.link

    def link_after_another_process(source: str, destination: Path) -> None:
        destination.write_text(theirs + "\n", encoding="ascii")
        link(source, destination)

    monkeypatch.setattr(identity.os, "link", link_after_another_process)

    assert identity.signing_key(path) == theirs.encode()
    assert [p.name for p in tmp_path.iterdir()] == [identity.KEY_FILE]


def outputs_of(url: str) -> str:
    return json.dumps([{"OutputKey": "AwsEndpointUrl", "OutputValue": url}])


def test_a_local_target_is_read_from_the_outputs_of_its_own_port_when_there_are_some(
    tmp_path: Path,
) -> None:
    # Nothing listens on either port: the message says which outputs were read.
    ours, last = "http://127.0.0.1:9", "http://127.0.0.1:7"
    (tmp_path / "outputs.json").write_text(outputs_of(last))
    (tmp_path / "outputs-9.json").write_text(outputs_of(ours))

    with pytest.raises(StackUnreachableError, match=f"nothing answers at {ours}"):
        connect(None, None, ours, tmp_path / "outputs.json")


def test_without_outputs_for_its_port_a_local_target_is_checked_against_the_last_started(
    tmp_path: Path,
) -> None:
    (tmp_path / "outputs.json").write_text(outputs_of("http://127.0.0.1:7"))

    with pytest.raises(StackUnreachableError, match="describes the local cloud at .*:7, not .*:9"):
        connect(None, None, "http://127.0.0.1:9", tmp_path / "outputs.json")


def test_start_keeps_its_own_outputs_while_it_runs_and_removes_them_when_killed(
    tmp_path: Path, serving: Any
) -> None:
    template = write_app(tmp_path, ONE_FUNCTION, {"src/app.py": ECHO})
    command = [sys.executable, "-m", "localcloud.cli", "start", "--template", str(template),
               "--root", str(tmp_path), "--port", "0", "--aws-port", "0", "--quiet"]
    state = tmp_path / ".localcloud"
    with serving(command) as (server, outputs):
        own = state / f"outputs-{outputs['AwsEndpointUrl'].rsplit(':', 1)[1]}.json"
        written = json.loads(own.read_text())

        assert {o["OutputKey"]: o["OutputValue"] for o in written} == outputs
        assert json.loads(own.read_text()) == json.loads((state / "outputs.json").read_text())
        server.send_signal(signal.SIGTERM)
        status = server.wait(timeout=30)

    assert status == -signal.SIGTERM
    assert not own.exists() and (state / "outputs.json").exists()
    assert not list(state.glob("*.tmp"))
