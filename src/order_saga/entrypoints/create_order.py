"""CreateOrder: POST /orders validates, stores PENDING, emits OrderCreated, answers 202."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import orders_container
from order_saga.domain.errors import ValidationError
from order_saga.domain.requests import PlaceOrder, check_idempotency_key, parse_place_order
from order_saga.entrypoints._http import (
    body_of,
    header,
    internal_error,
    invalid,
    require_json,
    respond,
)
from order_saga.service_layer.orders import new_order_id, place_order

logger = Logger()
metrics = Metrics()
container = orders_container()
idempotency = IdempotencyConfig(
    event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=24 * 3600
)
persistence = DynamoDBPersistenceLayer(table_name=container.settings.idempotency_table)


def place(command: PlaceOrder, key: str | None) -> dict[str, Any]:
    placed = place_order(
        command,
        new_order_id(command.customer_id, key),
        container.orders,
        container.publisher,
        container.clock,
    )
    logger.append_keys(order_id=placed.order.order_id)
    if placed.emit_error is not None:
        logger.error(
            "OrderCreated not emitted; the republisher will retry", exc_info=placed.emit_error
        )
        metrics.add_metric(name="OrderCreatedNotEmitted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return respond(202, {"orderId": placed.order.order_id, "status": placed.order.status.value})


@idempotent_function(
    data_keyword_argument="request", persistence_store=persistence, config=idempotency
)
def place_once(request: dict[str, Any], command: PlaceOrder, key: str) -> dict[str, Any]:
    """The first response for `request` is stored; a repeat with the same body gets it back."""
    return place(command, key)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    try:
        require_json(event)
        body = body_of(event)
        command = parse_place_order(body)
        key = header(event, "Idempotency-Key")
        if key is None:
            return place(command, None)
        # Keys are the customer's own: two customers may use the same key for different orders.
        request = {"key": f"{command.customer_id}:{check_idempotency_key(key)}", "body": body}
        return place_once(request=request, command=command, key=key)
    except ValidationError as exc:
        return invalid(exc)
    except IdempotencyValidationError:
        return respond(409, {"message": "Idempotency-Key was used with a different body"})
    except IdempotencyAlreadyInProgressError:
        return respond(409, {"message": "a request with this Idempotency-Key is in progress"})
    except Exception:
        logger.exception("POST /orders failed")
        return internal_error()
