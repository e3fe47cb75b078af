"""What every participant worker shares: an SQS batch of commands, settled one by one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.domain.commands import parse_command, parse_envelope
from order_saga.domain.errors import InvalidCommandError
from order_saga.service_layer.ports import TaskReporter
from order_saga.service_layer.worker import settle

IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600


def closed_token_logger(logger: Logger) -> Callable[[str], None]:
    """What a worker does with an answer nobody waits for any more: a warning, nothing else."""

    def log(code: str) -> None:
        logger.warning("the saga no longer waits for this report (%s); dropped", code)

    return log


class HasReporter(Protocol):
    """The worker's ports, read at each call: the composition root owns them."""

    reporter: TaskReporter


class ParticipantWorker:
    """An SQS-triggered worker that runs its participant's commands idempotently."""

    def __init__(
        self,
        logger: Logger,
        metrics: Metrics,
        handlers: dict[type, Callable[[Any], dict[str, Any]]],
        ports: HasReporter,
        idempotency_table: str,
    ) -> None:
        self.logger = logger
        self.metrics = metrics
        self.accepted = frozenset(command_type.__name__ for command_type in handlers)
        accepted = self.accepted
        self.ports = ports
        self.processor = BatchProcessor(event_type=EventType.SQS)
        self.idempotency = IdempotencyConfig(
            event_key_jmespath="[orderId, action]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        )
        persistence = DynamoDBPersistenceLayer(table_name=idempotency_table)

        @idempotent_function(
            data_keyword_argument="message", persistence_store=persistence, config=self.idempotency
        )
        def execute_once(message: dict[str, Any]) -> dict[str, Any]:
            command = parse_command(message, accepted)
            return handlers[type(command)](command)

        self._execute_once = execute_once

    def handle_batch(
        self, event: dict[str, Any], context: LambdaContext
    ) -> PartialItemFailureResponse:
        self.idempotency.register_lambda_context(context)
        return process_partial_response(
            event=event,
            record_handler=self._handle_record,
            processor=self.processor,
            context=context,
        )

    def _handle_record(self, record: SQSRecord) -> str:
        try:
            message = json.loads(record.body)
            envelope = parse_envelope(message, self.accepted)
        except (ValueError, InvalidCommandError) as exc:
            self.logger.error("poison message %s: %s", record.message_id, exc)
            self.metrics.add_metric(name="PoisonMessages", unit=MetricUnit.Count, value=1)
            raise InvalidCommandError(str(exc)) from exc
        # This record's keys only: the next record of the batch is another order's.
        self.logger.append_keys(order_id=envelope.order_id, action=envelope.action)
        self.logger.set_correlation_id(envelope.correlation_id)
        # The idempotency record holds the command's result, never its task token.
        body = {key: value for key, value in message.items() if key != "taskToken"}
        try:
            outcome = settle(
                envelope,
                lambda _command: self._execute_once(message=body),
                self.ports.reporter,
                self._log_unexpected,
                retry_later=(IdempotencyAlreadyInProgressError, IdempotencyPersistenceLayerError),
            )
            self.logger.info("%s settled as %s", envelope.action, outcome)
            self.metrics.add_metric(
                name=f"{envelope.action}{outcome}", unit=MetricUnit.Count, value=1
            )
        finally:
            self.logger.remove_keys(["order_id", "action", "correlation_id"])
        return outcome

    def _log_unexpected(self, exc: Exception) -> None:
        self.logger.exception("unexpected failure: %s", type(exc).__name__)
