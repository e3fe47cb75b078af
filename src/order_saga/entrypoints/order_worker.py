"""OrderWorker: ConfirmOrder and CancelOrder from the order queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import order_worker_container
from order_saga.domain.commands import CancelOrder, ConfirmOrder
from order_saga.entrypoints._participant import ParticipantWorker, closed_token_logger
from order_saga.service_layer.orders import cancel_order, confirm_order

logger = Logger()
metrics = Metrics()
container = order_worker_container(on_closed_token=closed_token_logger(logger))
worker = ParticipantWorker(
    logger,
    metrics,
    {
        ConfirmOrder: lambda command: confirm_order(command, container.orders, container.clock),
        CancelOrder: lambda command: cancel_order(command, container.orders, container.clock),
    },
    container,
    container.settings.idempotency_table,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(worker.handle_batch(event, context))
