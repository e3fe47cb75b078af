"""RepublishPendingOrders: on a schedule, emit OrderCreated again for orders no saga claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import republisher_container
from order_saga.domain.model import Order
from order_saga.service_layer.orders import count_stuck, republish_pending

# An order still PENDING this long after it was created lost its OrderCreated (or its start).
GRACE = timedelta(minutes=2)
# An order unclaimed, or in a saga that runs, this long needs a look (the StuckOrders alarm).
STUCK_AFTER = timedelta(minutes=15)


class RepublishFailedError(Exception):
    """Some stuck orders could not be emitted again in this run."""


logger = Logger()
metrics = Metrics()
container = republisher_container()


def iso(moment: datetime) -> str:
    """A time as the orders table stores it: UTC, milliseconds, Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fired_at(event: dict[str, Any]) -> datetime:
    """When the schedule fired (the event's `time`), else now."""
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return datetime.now(UTC)


def log_keys(order: Order) -> dict[str, str]:
    """One order's keys on a line of a run that handles many: its id and its correlation id."""
    return {"order_id": order.order_id, "correlation_id": order.correlation_id}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    fired = fired_at(event)
    # Per stage: every stage's functions share the service name.
    metrics.add_dimension(name="StateMachineArn", value=container.settings.state_machine_arn)
    stuck = count_stuck(container.orders, container.sagas, iso(fired - STUCK_AFTER))
    metrics.add_metric(name="StuckOrders", unit=MetricUnit.Count, value=stuck)
    cutoff = iso(fired - GRACE)
    emitted, failed = republish_pending(container.orders, container.publisher, cutoff)
    for order in emitted:
        logger.warning("OrderCreated emitted again for %s", order.order_id, extra=log_keys(order))
    for order, error in failed:
        logger.error(
            "OrderCreated not emitted again for %s",
            order.order_id,
            extra=log_keys(order),
            exc_info=error,
        )
    metrics.add_metric(name="OrdersRepublished", unit=MetricUnit.Count, value=len(emitted))
    if failed:
        # A failed run shows in the function's Errors metric; the next schedule tries again.
        raise RepublishFailedError(f"{len(failed)} order(s) could not be emitted again")
    return {"republished": [order.order_id for order in emitted]}
