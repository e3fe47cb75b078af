"""The saga's local identities: its issuer and audience, its state folder, its tokens.

`order-saga local token` signs with the key in `.order-saga/`, and the local cloud deploys
the template with `ApiAuthorizationType=JWT` and this issuer and audience, so the local API
checks those tokens as the deployed API's JWT authorizer would.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from localcloud import identity
from order_saga_tools.state import key_path

LOCAL_ISSUER = "https://order-saga.local/issuer"
LOCAL_AUDIENCE = "order-saga-local"
DEFAULT_TOKEN_SECONDS = identity.DEFAULT_TOKEN_SECONDS

# The template parameters that make the local cloud's API check tokens from the local issuer;
# applied only when the template declares them, and only when the caller did not set them.
LOCAL_IDENTITY_PARAMETERS = {
    "ApiAuthorizationType": "JWT",
    "JwtIssuer": LOCAL_ISSUER,
    "JwtAudience": LOCAL_AUDIENCE,
}


def signing_key(root: Path | str) -> bytes:
    """The project's local signing key, made on first use."""
    return identity.signing_key(key_path(root))


def mint(
    root: Path | str,
    customer_id: str,
    claim: str = "sub",
    seconds: int = DEFAULT_TOKEN_SECONDS,
) -> str:
    """A token naming `customer_id` in `claim`, valid for `seconds`, from the local issuer."""
    if not customer_id:
        raise ValueError("a token needs a customer id")
    return identity.mint(
        key_path(root), customer_id, LOCAL_ISSUER, LOCAL_AUDIENCE, claim=claim, seconds=seconds
    )


def caller_context(customer_id: str, claim: str = "sub") -> dict[str, Any]:
    """`requestContext.authorizer` of a request from `customer_id` with a valid local token."""
    now = int(time.time())
    return identity.jwt_context(
        {
            "iss": LOCAL_ISSUER,
            "aud": LOCAL_AUDIENCE,
            "iat": now,
            "exp": now + DEFAULT_TOKEN_SECONDS,
            claim: customer_id,
        }
    )
