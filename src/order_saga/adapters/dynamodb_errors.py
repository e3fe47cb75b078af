"""Translate DynamoDB client errors into the project's exceptions."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from order_saga.domain.errors import ParticipantUnavailableError

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)

# The per-item reason codes of a TransactionCanceledException are not the error codes above:
# a conflict or throttling there must be retried, never read as "out of stock" or "declined".
TRANSIENT_CANCELLATION_CODES = frozenset(
    {"TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"}
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: ClientError) -> list[str]:
    """The per-item reason codes of a cancelled transaction, in the order of its items."""
    reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


def raise_if_transient(exc: ClientError | BotoCoreError) -> None:
    """Raise ParticipantUnavailableError for throttling, server faults and lost connections."""
    if isinstance(exc, BotoCoreError):
        raise ParticipantUnavailableError(f"DynamoDB unreachable: {exc}") from exc
    code = error_code(exc)
    if code in TRANSIENT_CODES:
        raise ParticipantUnavailableError(f"DynamoDB {code}") from exc
    if code == "TransactionCanceledException" and any(
        reason in TRANSIENT_CANCELLATION_CODES for reason in cancellation_codes(exc)
    ):
        raise ParticipantUnavailableError("DynamoDB transaction conflict") from exc
