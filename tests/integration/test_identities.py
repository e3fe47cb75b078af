"""How the deployed target takes its two customers from the environment (no AWS needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from order_saga_tools.identity import mint

from .system import (
    JWT_VARIABLES,
    PROFILE_VARIABLES,
    IdentityMissingError,
    _iam_customers,
    _jwt_customers,
    sigv4,
)


def test_jwt_customers_are_read_from_the_claim_the_stack_names(tmp_path: Path) -> None:
    environ = {
        JWT_VARIABLES[0]: mint(str(tmp_path), "alice", claim="email"),
        JWT_VARIABLES[1]: mint(str(tmp_path), "bob", claim="email"),
    }

    customers = _jwt_customers(environ, "email")

    assert [c.customer_id for c in customers] == ["alice", "bob"]
    assert customers[0].sign("GET", "https://x/orders/1", None, {}) == {
        "authorization": f"Bearer {environ[JWT_VARIABLES[0]]}"
    }


def test_a_token_without_the_customer_claim_is_refused_by_name(tmp_path: Path) -> None:
    environ = {name: mint(str(tmp_path), "alice") for name in JWT_VARIABLES}

    with pytest.raises(IdentityMissingError, match=f"{JWT_VARIABLES[0]} has no 'email' claim"):
        _jwt_customers(environ, "email")


@pytest.mark.parametrize(
    ("read", "names"),
    [
        pytest.param(lambda environ: _jwt_customers(environ, "sub"), JWT_VARIABLES, id="jwt"),
        pytest.param(lambda environ: _iam_customers(environ, "eu-west-1"), PROFILE_VARIABLES,
                     id="iam"),
    ],
)
def test_missing_identities_are_named_in_the_message(
    read: Callable[[dict[str, str]], object], names: tuple[str, ...]
) -> None:
    with pytest.raises(IdentityMissingError, match=" and ".join(names)):
        read({names[0]: "only-one"})


def test_an_iam_caller_signs_for_execute_api_in_the_stacks_region() -> None:
    sign = sigv4(Credentials("AKIDEXAMPLE", "secret"), "eu-west-1")

    headers = sign("POST", "https://abc.execute-api.eu-west-1.amazonaws.com/dev/orders", b"{}",
                   {"content-type": "application/json"})

    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "X-Amz-Date" in headers
