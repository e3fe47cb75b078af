"""GetOrder: GET /orders/{orderId} shows an order's status, lines, reason and timestamps."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga.bootstrap import order_reader_container
from order_saga.domain.errors import NotAuthenticatedError, OrderNotFoundError, ValidationError
from order_saga.domain.requests import check_order_id
from order_saga.entrypoints._http import (
    caller_of,
    internal_error,
    invalid,
    not_found,
    order_view,
    respond,
    unauthorized,
)
from order_saga.service_layer.orders import get_order

logger = Logger()
container = order_reader_container()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        customer_id = caller_of(event, container.settings.customer_id_claim)
        order_id = check_order_id((event.get("pathParameters") or {}).get("orderId"))
        logger.append_keys(order_id=order_id)
        return respond(200, order_view(get_order(order_id, customer_id, container.orders)))
    except NotAuthenticatedError:
        return unauthorized()
    except ValidationError as exc:
        return invalid(exc)
    except OrderNotFoundError:
        return not_found()
    except Exception:
        logger.exception("GET /orders/{orderId} failed")
        return internal_error()
