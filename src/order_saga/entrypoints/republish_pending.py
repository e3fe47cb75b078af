"""RepublishPendingOrders: on a schedule, emit OrderCreated again for orders no saga claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import orders_container
from order_saga.service_layer.orders import republish_pending

GRACE = timedelta(minutes=2)

logger = Logger()
metrics = Metrics()
container = orders_container()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cutoff = (datetime.now(UTC) - GRACE).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    emitted = republish_pending(container.orders, container.publisher, cutoff)
    for order_id in emitted:
        logger.warning("OrderCreated emitted again", extra={"order_id": order_id})
    metrics.add_metric(name="OrdersRepublished", unit=MetricUnit.Count, value=len(emitted))
    return {"republished": emitted}
