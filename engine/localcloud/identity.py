"""Identity on the local cloud: JWTs signed with a local key, checked as an HTTP API checks them.

On AWS the API's JWT authorizer checks a token's signature against the issuer's keys, its
issuer, audience and lifetime, then hands the function the token's claims in
`requestContext.authorizer.jwt`. Locally the issuer is this module: it signs tokens with a key
kept in the local cloud's state folder (created on first use), and the local API checks them
with the same rules and answers 401 as API Gateway does.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

KEY_FILE = "local-signing-key"
DEFAULT_TOKEN_SECONDS = 3600
ALGORITHM = "HS256"


class TokenRejectedError(Exception):
    """A request's bearer token is missing or does not pass the authorizer's checks."""


@dataclass(frozen=True)
class JwtAuthorizer:
    """What an HTTP API JWT authorizer checks: who issued a token and for whom."""

    issuer: str
    audiences: tuple[str, ...]


def signing_key(path: Path) -> bytes:
    """The local signing key in `path`, made on first use (readable by its owner only)."""
    if not path.exists():
        _create_key(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise TokenRejectedError(f"the local signing key in {path} is too short; delete it")
    return key.encode("ascii")


def _create_key(path: Path) -> None:
    """Put a new key in `path` whole, unless another process has put one there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written in full under a name of its own, then linked into place: a process starting at
    # the same moment sees no key or a whole one, never an empty file, and both use the same.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        Path(temporary).unlink()


def mint(
    key_file: Path,
    subject: str,
    issuer: str,
    audience: str,
    claim: str = "sub",
    seconds: int = DEFAULT_TOKEN_SECONDS,
) -> str:
    """A token naming `subject` in `claim`, valid for `seconds`, signed with the local key."""
    if not subject:
        raise ValueError("a token needs a subject")
    if seconds <= 0:
        raise ValueError("a token must be valid for at least one second")
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + seconds}
    claims[claim] = subject
    return jwt.encode(claims, signing_key(key_file), algorithm=ALGORITHM)


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
