"""InventoryWorker: ReserveInventory and ReleaseInventory from the inventory queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import inventory_container
from order_saga.domain.commands import ReleaseInventory, ReserveInventory
from order_saga.entrypoints._participant import ParticipantWorker, closed_token_logger
from order_saga.service_layer.inventory import release_inventory, reserve_inventory

logger = Logger()
metrics = Metrics()
container = inventory_container(on_closed_token=closed_token_logger(logger))
worker = ParticipantWorker(
    logger,
    metrics,
    {
        ReserveInventory: lambda command: reserve_inventory(command, container.store),
        ReleaseInventory: lambda command: release_inventory(command, container.store),
    },
    container,
    container.settings.idempotency_table,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(worker.handle_batch(event, context))
