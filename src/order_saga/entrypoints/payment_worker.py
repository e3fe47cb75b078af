"""PaymentWorker: ChargePayment and RefundPayment from the payment queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import payment_container
from order_saga.domain.commands import ChargePayment, RefundPayment
from order_saga.entrypoints._participant import ParticipantWorker, closed_token_logger
from order_saga.service_layer.payments import charge_payment, refund_payment

logger = Logger()
metrics = Metrics()
container = payment_container(on_closed_token=closed_token_logger(logger))
worker = ParticipantWorker(
    logger,
    metrics,
    {
        ChargePayment: lambda command: charge_payment(command, container.ledger),
        RefundPayment: lambda command: refund_payment(command, container.ledger),
    },
    container,
    container.settings.idempotency_table,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(worker.handle_batch(event, context))
