"""Run the template's real handlers in this process, with their environment and a context."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.coderoots import CodeRoots
from localcloud.deploy import ACCOUNT_ID, FunctionSpec


def restore_environment(saved: dict[str, str]) -> None:
    """Put the process environment back as `saved` was, key by key: other threads (the ASL
    interpreter making a client, a poller, the API) read it meanwhile, and an environment
    emptied and refilled would have no region and no credentials for a moment."""
    for key in [key for key in os.environ if key not in saved]:
        os.environ.pop(key, None)
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


class HandlerError(Exception):
    """A handler raised: Lambda reports it as a function error."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        self.function = function
        self.error_type = error_type
        self.error_message = message
        super().__init__(f"{function} raised {error_type}: {message}")


@dataclass
class LambdaContext:
    """The context object Lambda passes to a handler; remaining time follows the Timeout."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class _FunctionLogs(io.TextIOBase):
    """sys.stdout while the local cloud runs: a handler's output goes to its function's log."""

    def __init__(self, terminal: Any) -> None:
        self.terminal = terminal
        self.current = threading.local()
        self.lines: dict[str, deque[str]] = {}
        # Where handler lines are also shown as they are written (start-api shows them).
        self.echo: Any = None

    def write(self, text: str) -> int:
        function = getattr(self.current, "function", None)
        if function is None:
            return int(self.terminal.write(text))
        log = self.lines.setdefault(function, deque(maxlen=5000))
        lines = [line for line in text.splitlines() if line]
        log.extend(lines)
        if self.echo is not None:
            for line in lines:
                print(f"[{function}] {line}", file=self.echo, flush=True)
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def isatty(self) -> bool:
        return bool(self.terminal.isatty())


def _own_process_state(spec: FunctionSpec) -> None:
    """Powertools keeps some state per process, which in Lambda is per function; here the
    functions share one process, so each function's import starts that state anew.

    - Its logger is named after POWERTOOLS_SERVICE_NAME, which functions may share: each
      function gets a logger of its own, and its keys never reach another's lines.
    - Every `Metrics` shares one metric, dimension and metadata set through class attributes:
      each function gets sets of its own, so one function's flush never publishes another's
      metrics, nor empties its set between the check and the serialization (which raised
      SchemaValidationError "Must contain at least one metric" under concurrent invocations).
    """
    service = spec.environment.get("POWERTOOLS_SERVICE_NAME")
    if service:
        logging.Logger.manager.loggerDict.pop(service, None)
    # Not imported yet: the first import creates the sets.
    metrics = sys.modules.get("aws_lambda_powertools.metrics.metrics")
    if metrics is not None:
        for shared in ("_metrics", "_dimensions", "_metadata", "_default_dimensions"):
            setattr(metrics.Metrics, shared, {})


class LambdaRuntime:
    """Imports each function's handler on its first call (a cold start) and invokes it."""

    def __init__(self, functions: dict[str, FunctionSpec], code_base: Path, region: str) -> None:
        """`code_base` is the template's folder, where each function's CodeUri starts."""
        self.functions = functions
        self.code_base = code_base
        self.code = CodeRoots({self.folder_of(spec) for spec in functions.values()})
        self.region = region
        self._handlers: dict[str, Any] = {}
        self._modules: dict[str, Any] = {}
        self._cold_start_lock = threading.Lock()
        # One execution environment per function: Lambda never runs two events at once in
        # one environment, and handlers keep per-invocation state in module globals.
        self._environments = {logical_id: threading.RLock() for logical_id in functions}
        self.logs = _FunctionLogs(sys.stdout)
        self.invocations: dict[str, int] = {}
        self._check_distinct_modules()

    def folder_of(self, spec: FunctionSpec) -> Path:
        return (self.code_base / spec.code_uri).resolve()

    def _check_distinct_modules(self) -> None:
        seen: dict[tuple[Path, str], str] = {}
        for spec in self.functions.values():
            module = (self.folder_of(spec), spec.handler.rsplit(".", 1)[0])
            if module in seen:
                raise ValueError(
                    f"{spec.logical_id} and {seen[module]} share handler module {module[1]} "
                    f"in {spec.code_uri}; the local cloud needs one module per function"
                )
            seen[module] = spec.logical_id

    def start(self) -> None:
        self.code.start()
        sys.stdout = self.logs

    def stop(self) -> None:
        if sys.stdout is self.logs:
            sys.stdout = self.logs.terminal
        for spec in self.functions.values():
            sys.modules.pop(spec.handler.rsplit(".", 1)[0], None)
        self.code.stop()

    def _handler(self, spec: FunctionSpec) -> Any:
        handler = self._handlers.get(spec.logical_id)
        if handler is not None:
            return handler
        with self._cold_start_lock:
            if spec.logical_id in self._handlers:
                return self._handlers[spec.logical_id]
            module_name, _, attribute = spec.handler.rpartition(".")
            saved = dict(os.environ)
            os.environ.update(self._environment(spec))
            # A stream bound at import (Powertools' log handler) must be the function's log even
            # when something else holds sys.stdout now, as pytest's capture does between tests.
            saved_stdout, sys.stdout = sys.stdout, self.logs
            try:
                _own_process_state(spec)
                module = self.code.import_fresh(self.folder_of(spec), module_name)
            except ModuleNotFoundError as exc:
                raise HandlerError(
                    spec.logical_id,
                    "Runtime.ImportModuleError",
                    f"cannot import {module_name}: {exc}",
                ) from exc
            finally:
                sys.stdout = saved_stdout
                restore_environment(saved)
            handler = getattr(module, attribute, None)
            if handler is None:
                raise HandlerError(
                    spec.logical_id, "Runtime.HandlerNotFound", f"{module_name} has no {attribute}"
                )
            self._handlers[spec.logical_id] = handler
            self._modules[spec.logical_id] = module
            return handler

    def module_of(self, spec: FunctionSpec) -> Any:
        self._handler(spec)
        return self._modules[spec.logical_id]

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        return {
            **spec.environment,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }

    def context_for(self, spec: FunctionSpec) -> LambdaContext:
        return LambdaContext(
            function_name=spec.name,
            function_version="$LATEST",
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=f"local/{ACCOUNT_ID}",
            deadline=time.monotonic() + spec.timeout,
        )

    def invoke(self, spec: FunctionSpec, event: Any) -> Any:
        """Call the handler; HandlerError when it raises, as Lambda reports a function error."""
        handler = self._handler(spec)
        self.invocations[spec.logical_id] = self.invocations.get(spec.logical_id, 0) + 1
        previous = getattr(self.logs.current, "function", None)
        self.logs.current.function = spec.logical_id
        try:
            with self._environments[spec.logical_id]:
                return handler(event, self.context_for(spec))
        except Exception as exc:
            self.logs.current.function = spec.logical_id
            for line in traceback.format_exc().splitlines():
                self.logs.write(line + "\n")
            raise HandlerError(spec.logical_id, type(exc).__name__, str(exc)) from exc
        finally:
            self.logs.current.function = previous

    def invoke_payload(self, spec: FunctionSpec, payload: bytes) -> bytes:
        """Invoke with a JSON payload and answer as Lambda's Invoke API does, errors included."""
        try:
            result = self.invoke(spec, json.loads(payload or b"{}"))
        except HandlerError as exc:
            return json.dumps(
                {"errorType": exc.error_type, "errorMessage": exc.error_message}
            ).encode()
        return json.dumps(result).encode()
