"""StepFunctionsTaskReporter: answers a saga waiting on a task token."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

# The saga stopped waiting for this token (timeout, retry with a new token, or an earlier
# report of the same command): the answer has nobody to reach, which is not a failure.
CLOSED_TOKEN_CODES = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class StepFunctionsTaskReporter:
    """TaskReporter on SendTaskSuccess / SendTaskFailure; a closed token is ignored."""

    def __init__(self, client: Any, on_closed_token: Any = None) -> None:
        self._client = client
        self._on_closed_token = on_closed_token

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        self._send(self._client.send_task_success, taskToken=task_token, output=json.dumps(output))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        self._send(
            self._client.send_task_failure,
            taskToken=task_token,
            error=error[:256],
            cause=cause[:32768],
        )

    def _send(self, call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in CLOSED_TOKEN_CODES:
                raise
            if self._on_closed_token is not None:
                self._on_closed_token(code)


class StepFunctionsSagaExecutions:
    """SagaExecutions on ListExecutions of one state machine."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def running_started_before(self, started_before: str) -> int:
        cutoff = datetime.fromisoformat(started_before.replace("Z", "+00:00"))
        pages = self._client.get_paginator("list_executions").paginate(
            stateMachineArn=self._state_machine_arn, statusFilter="RUNNING"
        )
        return sum(
            1
            for page in pages
            for execution in page["executions"]
            if execution["startDate"] < cutoff
        )
