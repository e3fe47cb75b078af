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
from order_saga.domain.errors import (
    CustomerMismatchError,
    NotAuthenticatedError,
    ValidationError,
)
from order_saga.domain.requests import PlaceOrder, check_idempotency_key, parse_place_order
from order_saga.entrypoints._http import (
    body_of,
    caller_correlation_id,
    caller_of,
    forbidden,
    header,
    internal_error,
    invalid,
    request_id,
    require_json,
    respond,
    unauthorized,
)
from order_saga.service_layer.orders import place_order

logger = Logger()
metrics = Metrics()
container = orders_container()
# Keys are the caller's own: two customers may use the same key for different orders.
idempotency = IdempotencyConfig(
    event_key_jmespath="[caller, key]",
    payload_validation_jmespath="body",
    expires_after_seconds=24 * 3600,
)
persistence = DynamoDBPersistenceLayer(table_name=container.settings.idempotency_table)


def correlate(event: dict[str, Any]) -> str:
    """Log this request under the caller's X-Correlation-Id, else under its API Gateway id."""
    correlation_id = caller_correlation_id(event) or request_id(event)
    logger.set_correlation_id(correlation_id)
    if header(event, "X-Correlation-Id") not in (None, correlation_id):
        logger.warning("X-Correlation-Id ignored: it is not 1-128 printable ASCII characters")
    return correlation_id


def place(command: PlaceOrder, correlation_id: str) -> dict[str, Any]:
    order_id = container.order_ids.new_id()
    logger.append_keys(order_id=order_id)
    placed = place_order(
        command, order_id, container.orders, container.publisher, container.clock, correlation_id
    )
    # A retried request is logged, and answered, under the id the stored order follows.
    logger.set_correlation_id(placed.order.correlation_id)
    if placed.emit_error is not None:
        logger.error(
            "OrderCreated not emitted; the republisher will retry", exc_info=placed.emit_error
        )
        metrics.add_metric(name="OrderCreatedNotEmitted", unit=MetricUnit.Count, value=1)
    logger.info("order %s accepted (%s)", order_id, placed.order.status.value)
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return respond(
        202,
        {"orderId": order_id, "status": placed.order.status.value},
        {"x-correlation-id": placed.order.correlation_id},
    )


@idempotent_function(
    data_keyword_argument="request", persistence_store=persistence, config=idempotency
)
def place_once(
    request: dict[str, Any], command: PlaceOrder, correlation_id: str
) -> dict[str, Any]:
    """The first response for `request` is stored; a repeat with the same body gets it back."""
    return place(command, correlation_id)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    correlation_id = correlate(event)
    try:
        customer_id = caller_of(event, container.settings.customer_id_claim)
        require_json(event)
        body = body_of(event)
        command = parse_place_order(body, customer_id)
        key = header(event, "Idempotency-Key")
        if key is None:
            return place(command, correlation_id)
        request = {"caller": customer_id, "key": check_idempotency_key(key), "body": body}
        return place_once(request=request, command=command, correlation_id=correlation_id)
    except NotAuthenticatedError:
        return unauthorized()
    except CustomerMismatchError:
        return forbidden("customerId", "names another customer than the caller")
    except ValidationError as exc:
        return invalid(exc)
    except IdempotencyValidationError:
        return respond(409, {"message": "Idempotency-Key was used with a different body"})
    except IdempotencyAlreadyInProgressError:
        return respond(409, {"message": "a request with this Idempotency-Key is in progress"})
    except Exception:
        logger.exception("POST /orders failed")
        return internal_error()
