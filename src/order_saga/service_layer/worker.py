"""Run one participant command and tell the waiting saga how it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from order_saga.domain.commands import Command, Envelope
from order_saga.domain.errors import BusinessRuleError, TransientError
from order_saga.service_layer.ports import TaskReporter

UNEXPECTED_CAUSE = "the worker failed unexpectedly; its log holds the details"


def settle(
    envelope: Envelope,
    execute: Callable[[Command], dict[str, Any]],
    reporter: TaskReporter,
    log_unexpected: Callable[[Exception], None],
    retry_later: tuple[type[Exception], ...] = (),
) -> str:
    """Execute the command and report success or failure; returns the reported outcome.

    Business and transient errors are reported under their class name, which the state
    machine's Catch and Retry match. Anything else is reported under its class name too,
    so the saga compensates at once instead of waiting for its heartbeat. The `retry_later`
    errors (such as the same command still in progress elsewhere) and a failure to report
    propagate, so the message is delivered again.
    """
    try:
        output = execute(envelope.command)
    except retry_later:
        raise
    except (BusinessRuleError, TransientError) as exc:
        reporter.fail(envelope.task_token, type(exc).__name__, str(exc))
        return type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - reported to the saga, stack logged
        log_unexpected(exc)
        reporter.fail(envelope.task_token, type(exc).__name__, UNEXPECTED_CAUSE)
        return type(exc).__name__
    reporter.succeed(envelope.task_token, output)
    return "Succeeded"
