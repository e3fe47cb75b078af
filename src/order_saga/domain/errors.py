"""The exceptions of order-saga: a contract shared by the code and the state machine.

The class name of an exception that a worker reports is the ASL error name, so the
state machine's Retry lists TransientError leaves and its Catch lists BusinessRuleError
leaves by these exact names.

OrderSagaError
├── BusinessRuleError            the request is valid but the business says no; never retried
│   ├── OutOfStockError
│   ├── PaymentDeclinedError
│   └── OrderNotConfirmableError
├── TransientError               may succeed if tried again later; retried with backoff
│   └── ParticipantUnavailableError
├── InvalidCommandError          a message that is not a command (a poison message)
├── ValidationError              a request that breaks the API contract (HTTP 400)
│   └── UnsupportedMediaTypeError  a body in a format the API does not read (HTTP 415)
├── IdempotencyKeyReusedError    the same Idempotency-Key with another body (HTTP 409)
├── NotAuthenticatedError        no usable caller identity from the API's authorizer (HTTP 401)
├── CustomerMismatchError        a body that names another customer than the caller (HTTP 403)
└── OrderNotFoundError           no order with that id, or not the caller's (HTTP 404)
"""

from __future__ import annotations

from dataclasses import dataclass


class OrderSagaError(Exception):
    """Base class of every error this project raises on purpose."""


class BusinessRuleError(OrderSagaError):
    """A business rule refused the command; the saga compensates and cancels."""


class OutOfStockError(BusinessRuleError):
    """At least one line asks for more units than are available."""

    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"not enough stock for {', '.join(skus)}")


class PaymentDeclinedError(BusinessRuleError):
    """The customer's balance cannot cover the charge."""

    def __init__(self, customer_id: str, amount: str) -> None:
        self.customer_id = customer_id
        super().__init__(f"balance of {customer_id} cannot cover {amount}")


class OrderNotConfirmableError(BusinessRuleError):
    """The order is not in a status from which it may be confirmed."""

    def __init__(self, order_id: str, status: str) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(f"order {order_id} is {status}, not RUNNING")


class TransientError(OrderSagaError):
    """A failure that may pass if the same command is tried again later."""


class ParticipantUnavailableError(TransientError):
    """A participant's store throttled or failed on the server side."""


class InvalidCommandError(OrderSagaError):
    """A message that cannot be read as a command; it fails alone and reaches its DLQ."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a request, as the API reports it."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ValidationError(OrderSagaError):
    """A request that breaks the API contract, with every field error found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class UnsupportedMediaTypeError(ValidationError):
    """A request whose Content-Type is not JSON: refused before its body is read."""


class IdempotencyKeyReusedError(OrderSagaError):
    """An Idempotency-Key already used for a request with a different body."""


class NotAuthenticatedError(OrderSagaError):
    """The request carries no identity the API's authorizer vouched for."""


class CustomerMismatchError(OrderSagaError):
    """A request body names a customer other than the authenticated caller."""


class OrderNotFoundError(OrderSagaError):
    """No order has the requested id, or the order is not the caller's."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} not found")
