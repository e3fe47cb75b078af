"""Identity on the local cloud: JWTs signed with a local key, checked as an HTTP API checks them.

On AWS the API's JWT authorizer checks a token's signature against the issuer's keys, its
issuer, audience and lifetime, then hands the function the token's claims in
`requestContext.authorizer.jwt`. Locally the issuer is this module: `order-saga local token`
signs tokens with a key kept beside the project (created on first use), and the local API
checks them with the same rules and answers 401 as API Gateway does.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

LOCAL_ISSUER = "https://order-saga.local/issuer"
LOCAL_AUDIENCE = "order-saga-local"
KEY_FILE = Path(".order-saga") / "local-signing-key"
DEFAULT_TOKEN_SECONDS = 3600
ALGORITHM = "HS256"

# The template parameters that make the local cloud's API check tokens from the local issuer;
# applied only when the template declares them, and only when the caller did not set them.
LOCAL_IDENTITY_PARAMETERS = {
    "ApiAuthorizationType": "JWT",
    "JwtIssuer": LOCAL_ISSUER,
    "JwtAudience": LOCAL_AUDIENCE,
}


class TokenRejectedError(Exception):
    """A request's bearer token is missing or does not pass the authorizer's checks."""


@dataclass(frozen=True)
class JwtAuthorizer:
    """What an HTTP API JWT authorizer checks: who issued a token and for whom."""

    issuer: str
    audiences: tuple[str, ...]


def key_path(root: Path | str) -> Path:
    return Path(root).resolve() / KEY_FILE


def signing_key(root: Path | str) -> bytes:
    """The project's local signing key, made on first use (readable by its owner only)."""
    path = key_path(root)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two commands starting at once agree on one key, never overwrite it.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise TokenRejectedError(f"the local signing key in {path} is too short; delete it")
    return key.encode("ascii")


def mint(
    root: Path | str,
    customer_id: str,
    claim: str = "sub",
    seconds: int = DEFAULT_TOKEN_SECONDS,
    issuer: str = LOCAL_ISSUER,
    audience: str = LOCAL_AUDIENCE,
) -> str:
    """A token naming `customer_id` in `claim`, valid for `seconds`, signed with the local key."""
    if not customer_id:
        raise ValueError("a token needs a customer id")
    if seconds <= 0:
        raise ValueError("a token must be valid for at least one second")
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + seconds}
    claims[claim] = customer_id
    return jwt.encode(claims, signing_key(root), algorithm=ALGORITHM)


def bearer_token(headers: dict[str, str]) -> str:
    """The token of an `Authorization: Bearer <token>` header (names in lower case)."""
    value = headers.get("authorization", "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejectedError("no bearer token in the Authorization header")
    return token.strip()


def verify(token: str, key: bytes, authorizer: JwtAuthorizer) -> dict[str, Any]:
    """The token's claims when its signature, issuer, audience and lifetime all hold."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=authorizer.issuer,
            audience=list(authorizer.audiences),
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(str(exc)) from exc
    return claims


def _claim_text(value: Any) -> str:
    # HTTP APIs hand every claim over as a string; a list becomes "[a b]".
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return str(value)


def jwt_context(claims: dict[str, Any]) -> dict[str, Any]:
    """`requestContext.authorizer` for a request whose token carried these claims."""
    scope = claims.get("scope")
    return {
        "jwt": {
            "claims": {name: _claim_text(value) for name, value in claims.items()},
            "scopes": str(scope).split() if scope else None,
        }
    }


def caller_context(customer_id: str, claim: str = "sub") -> dict[str, Any]:
    """`requestContext.authorizer` of a request from `customer_id` with a valid local token."""
    now = int(time.time())
    return jwt_context(
        {
            "iss": LOCAL_ISSUER,
            "aud": LOCAL_AUDIENCE,
            "iat": now,
            "exp": now + DEFAULT_TOKEN_SECONDS,
            claim: customer_id,
        }
    )
