"""Every change the local cloud makes to moto, in one place; each is covered by a test.

moto is pinned exactly (pyproject.toml) because these reach into its internals:
1. Lambda invocations go to the real handlers (moto's simple Lambda only echoes).
2. EventBridge rule targets that are state machines or functions are delivered
   (moto raises NotImplementedError for them).
3. SQS event source mappings are not delivered synchronously inside SendMessage; the
   local cloud polls the queues itself, as Lambda does, and is woken when a message lands.
4. Visibility timeouts, Retry intervals, TimeoutSeconds and HeartbeatSeconds run on a
   scaled clock, so drills take seconds.
5. A state machine definition is parsed once, not once per execution (the parse costs
   about 60 ms; the parsed program keeps no execution state, which lives in each
   execution's Environment).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.events.models import Rule
from moto.sqs.models import Queue
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import Heartbeat
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
from moto.utilities.arns import parse_arn

LambdaRouter = Callable[[str, bytes], bytes]
TargetDeliverer = Callable[[Rule, dict[str, Any], dict[str, Any]], None]

DELIVERED_TARGET_SERVICES = frozenset({"states", "lambda"})


class _State:
    """What the patches consult; set by the running local cloud, one at a time."""

    lambda_router: LambdaRouter | None = None
    target_deliverer: TargetDeliverer | None = None
    clock_scale: float = 1.0
    message_landed: threading.Condition = threading.Condition()
    installed = False


state = _State()


class _ScaledSleep:
    """Stands in for the `time` module inside moto's retrier: sleeps on the scaled clock."""

    def __init__(self, real_time: Any) -> None:
        self._time = real_time

    def sleep(self, seconds: float) -> None:
        self._time.sleep(seconds * state.clock_scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._time, name)


def _invoke(self: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any,
            headers: Any, response_headers: Any) -> bytes:
    if state.lambda_router is None:
        raise RuntimeError("no local cloud is running to invoke Lambda functions")
    payload = body if isinstance(body, bytes) else (body or "{}").encode()
    return state.lambda_router(function_name, payload)


_original_send_to_targets = Rule.send_to_targets


def _send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
    if not self.event_pattern.matches_event(original_event):
        return
    delivered = [t for t in self.targets if parse_arn(t["Arn"]).service in DELIVERED_TARGET_SERVICES]
    others = [t for t in self.targets if t not in delivered]
    if others:
        rule = copy.copy(self)
        rule.targets = others
        _original_send_to_targets(rule, original_event, transform_input)
    for target in delivered:
        if state.target_deliverer is None:
            raise RuntimeError("no local cloud is running to deliver EventBridge targets")
        state.target_deliverer(self, target, original_event)


_original_add_message = Queue.add_message


def _add_message(self: Queue, message: Any) -> None:
    # Lambda polls; it is never called from inside SendMessage.
    self.lambda_event_source_mappings.clear()
    _original_add_message(self, message)
    with state.message_landed:
        state.message_landed.notify_all()


_original_timeout_eval = Timeout._eval_body
_original_heartbeat_eval = Heartbeat._eval_body


def _scaled_timeout(self: Timeout, env: Any) -> None:
    _original_timeout_eval(self, env)
    env.stack.append(env.stack.pop() * state.clock_scale)


def _scaled_heartbeat(self: Heartbeat, env: Any) -> None:
    _original_heartbeat_eval(self, env)
    env.stack.append(env.stack.pop() * state.clock_scale)


_programs: dict[str, Any] = {}
_programs_lock = threading.Lock()


def _parsed_once(self: ExecutionWorker) -> Any:
    definition = self._evaluation_details.state_machine_details.definition
    with _programs_lock:
        program = _programs.get(definition)
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
            _programs[definition] = program
    return program


def install() -> None:
    """Apply every adaptation once per process; the running cloud is set through `state`."""
    if state.installed:
        return
    LambdaSimpleBackend.invoke = _invoke  # type: ignore[method-assign,assignment]
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
    Queue.add_message = _add_message  # type: ignore[method-assign]
    Timeout._eval_body = _scaled_timeout  # type: ignore[method-assign]
    Heartbeat._eval_body = _scaled_heartbeat  # type: ignore[method-assign]
    retrier_decl.time = _ScaledSleep(retrier_decl.time)  # type: ignore[assignment]
    ExecutionWorker._get_evaluation_entrypoint = _parsed_once  # type: ignore[method-assign]
    state.installed = True


def hide_message(queue: Queue, receipt_handle: str, seconds: float) -> None:
    """Set a received message's visibility on the scaled clock (moto truncates to whole seconds)."""
    from moto.core.utils import unix_time_millis

    for message in list(queue._messages):
        if message.had_receipt_handle(receipt_handle):
            message.visible_at = unix_time_millis() + seconds * 1000.0
            return


def wait_for_a_message(timeout: float) -> None:
    """Sleep until any queue receives a message, or the timeout passes."""
    with state.message_landed:
        state.message_landed.wait(timeout)
