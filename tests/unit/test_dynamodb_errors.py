"""Which DynamoDB failures the participants treat as transient: a pure translation, no network."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from order_saga.adapters.dynamodb_errors import raise_if_transient
from order_saga.domain.errors import ParticipantUnavailableError


def client_error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "..."}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(client_error("ProvisionedThroughputExceededException"), id="throughput"),
        pytest.param(client_error("ThrottlingException"), id="throttling"),
        pytest.param(client_error("InternalServerError"), id="server-error"),
        pytest.param(client_error("TransactionInProgressException"), id="in-progress"),
        # The per-item codes of a cancelled transaction, as DynamoDB documents them.
        pytest.param(
            client_error("TransactionCanceledException", ["None", "TransactionConflict"]),
            id="cancelled-by-a-conflict",
        ),
        pytest.param(
            client_error("TransactionCanceledException", ["ThrottlingError", "None"]),
            id="cancelled-by-throttling",
        ),
        pytest.param(
            client_error("TransactionCanceledException", ["None", "ProvisionedThroughputExceeded"]),
            id="cancelled-by-throughput",
        ),
        pytest.param(EndpointConnectionError(endpoint_url="https://dynamodb"), id="no-connection"),
    ],
)
def test_throttling_conflicts_and_outages_are_transient(
    error: ClientError | EndpointConnectionError,
) -> None:
    with pytest.raises(ParticipantUnavailableError) as caught:
        raise_if_transient(error)

    assert caught.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            client_error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]),
            id="a-condition-failed",
        ),
        pytest.param(client_error("ConditionalCheckFailedException"), id="conditional-check"),
        pytest.param(client_error("ValidationException"), id="validation"),
        pytest.param(client_error("ResourceNotFoundException"), id="no-table"),
    ],
)
def test_a_refused_condition_or_a_bad_request_is_not_transient(error: ClientError) -> None:
    # It returns, so that the adapter can read it as a business answer or re-raise it.
    try:
        raise_if_transient(error)
    except ParticipantUnavailableError:
        pytest.fail(f"{error_code_of(error)} was read as transient")


def error_code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])
