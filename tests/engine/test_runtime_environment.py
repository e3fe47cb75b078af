"""A cold start sets the function's environment for its import and puts the process's back."""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path

import pytest

from localcloud.deploy import FunctionSpec
from localcloud.runtime import LambdaRuntime

HANDLER = '''\
import os

MINE = os.environ["ONLY_MINE"], os.environ["AWS_REGION"]
os.environ["SET_AT_IMPORT"] = "1"


def handler(event, context):
    return list(MINE)
'''


class WatchedEnvironment(MutableMapping[str, str]):
    """The process environment as other threads see it after every single change: whether any
    key the process had went missing (another thread would read no region, no credentials)."""

    def __init__(self, outer: dict[str, str]) -> None:
        self.values = dict(outer)
        self.outer = outer
        self.missing: list[str] = []

    def _changed(self) -> None:
        self.missing += [key for key in self.outer if key not in self.values]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.values[key] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self.values[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.values))

    def __len__(self) -> int:
        return len(self.values)


def test_a_cold_start_never_leaves_the_process_without_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "env_probe_app.py").write_text(HANDLER)
    spec = FunctionSpec(
        logical_id="EnvProbeFunction",
        name="env-probe",
        arn="arn:aws:lambda:us-east-1:123456789012:function:env-probe",
        handler="env_probe_app.handler",
        environment={"ONLY_MINE": "yes"},
        timeout=3,
        memory=128,
    )
    outer = {**os.environ, "AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "outer"}
    watched = WatchedEnvironment(outer)
    monkeypatch.setattr(os, "environ", watched)
    runtime = LambdaRuntime({spec.logical_id: spec}, tmp_path, "us-east-1")
    runtime.start()
    try:
        seen = runtime.invoke(spec, {})
    finally:
        runtime.stop()

    assert seen == ["yes", "us-east-1"], "the import saw the function's own environment"
    assert watched.missing == [], "the process's keys were there at every moment"
    assert watched.values == outer, "and are as they were, the import's own key gone"
