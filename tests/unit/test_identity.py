"""Who the caller is: read from the API authorizer's context, never from the request itself."""

from __future__ import annotations

from typing import Any

import pytest

from order_saga.domain.errors import NotAuthenticatedError
from order_saga.entrypoints._http import caller_of

ROLE_SESSION = "arn:aws:sts::123456789012:assumed-role/checkout-web/cust-7f3a9b21"


def event(authorizer: Any = None, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"requestId": "r-1"}
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {"requestContext": context, **extra}


def jwt(**claims: str) -> dict[str, Any]:
    return {"jwt": {"claims": claims, "scopes": None}}


def iam(user_arn: str | None = ROLE_SESSION, cognito: Any = None) -> dict[str, Any]:
    return {
        "iam": {
            "accessKey": "ASIAEXAMPLE",
            "accountId": "123456789012",
            "callerId": "AROAEXAMPLE:cust-7f3a9b21",
            "cognitoIdentity": cognito,
            "principalOrgId": None,
            "userArn": user_arn,
            "userId": "AROAEXAMPLE:cust-7f3a9b21",
        }
    }


def test_with_a_jwt_authorizer_the_customer_is_the_configured_claim() -> None:
    authorizer = jwt(sub="user-1", email="a@example.com")

    assert caller_of(event(authorizer), "sub") == "user-1"
    assert caller_of(event(authorizer), "email") == "a@example.com"


def test_with_iam_the_customer_is_the_callers_principal_arn() -> None:
    assert caller_of(event(iam()), "sub") == ROLE_SESSION


def test_with_iam_and_cognito_credentials_the_customer_is_the_identity_id() -> None:
    cognito = {
        "amr": ["authenticated"],
        "identityId": "us-east-1:2f1b0a9e-1111-2222-3333-444455556666",
        "identityPoolId": "us-east-1:pool",
    }

    assert caller_of(event(iam(cognito=cognito)), "sub") == cognito["identityId"]


@pytest.mark.parametrize(
    "request_event",
    [
        pytest.param(event(), id="no-authorizer"),
        pytest.param({}, id="no-request-context"),
        pytest.param(event(jwt(email="a@example.com")), id="claim-missing"),
        pytest.param(event(jwt(sub="")), id="claim-empty"),
        pytest.param(event(jwt(sub="user 1")), id="claim-with-a-blank"),
        pytest.param(event(jwt(sub="user-1\n")), id="claim-with-a-newline"),
        pytest.param(event(jwt(sub="u" * 257)), id="claim-too-long"),
        pytest.param(event(iam(user_arn=None)), id="iam-without-principal"),
        pytest.param(event({"lambda": {"customerId": "user-1"}}), id="unknown-authorizer"),
        pytest.param(
            event(body='{"customerId": "user-1"}', headers={"x-customer-id": "user-1"}),
            id="identity-in-body-or-headers-only",
        ),
    ],
)
def test_a_request_without_a_usable_identity_is_not_authenticated(
    request_event: dict[str, Any],
) -> None:
    with pytest.raises(NotAuthenticatedError):
        caller_of(request_event, "sub")
