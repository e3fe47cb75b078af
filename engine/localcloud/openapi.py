"""The routes of an API Gateway OpenAPI body (what SAM writes for HttpApi and Api events)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from localcloud.template import TemplateError

INTEGRATION = "x-amazon-apigateway-integration"
ANY_METHOD = "x-amazon-apigateway-any-method"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", ANY_METHOD})
# arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations
LAMBDA_URI = re.compile(
    r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(.+)/invocations$"
)


@dataclass(frozen=True)
class BodyRoute:
    """One route of a body: method, path, the function ARN its integration names, its auth."""

    method: str
    path: str
    function_arn: str
    authorization: str = "NONE"
    jwt_issuer: str = ""
    jwt_audiences: tuple[str, ...] = ()


def _security_schemes(body: dict[str, Any]) -> dict[str, Any]:
    """Swagger 2's securityDefinitions or OpenAPI 3's components.securitySchemes."""
    return {
        **(body.get("securityDefinitions") or {}),
        **((body.get("components") or {}).get("securitySchemes") or {}),
    }


def _authorization(scheme_name: str, scheme: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    """(authorization type, JWT issuer, JWT audiences) of a security scheme."""
    authorizer = scheme.get("x-amazon-apigateway-authorizer") or {}
    kind = str(authorizer.get("type", "")).lower()
    if kind == "jwt":
        jwt = authorizer.get("jwtConfiguration") or {}
        audiences = jwt.get("audience") or []
        return "JWT", str(jwt.get("issuer", "")), tuple(str(a) for a in audiences)
    if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4" or scheme_name == "AWS_IAM":
        return "AWS_IAM", "", ()
    return (kind or scheme_name).upper(), "", ()


def routes_of_body(
    logical_id: str, body: dict[str, Any], payload_version: str
) -> list[BodyRoute]:
    """Every method of every path with a Lambda proxy integration; others are refused."""
    schemes = _security_schemes(body)
    default_security = body.get("security") or []
    routes = []
    for path, methods in (body.get("paths") or {}).items():
        for method, operation in (methods or {}).items():
            if method not in METHODS:
                continue
            integration = operation.get(INTEGRATION) or {}
            route = f"{method.upper()} {path}"
            if str(integration.get("type", "")).lower() != "aws_proxy":
                raise TemplateError(
                    f"{logical_id}: {route} is not a Lambda proxy integration; "
                    "only those run locally"
                )
            version = str(integration.get("payloadFormatVersion", payload_version))
            if version != payload_version:
                raise TemplateError(
                    f"{logical_id}: {route} asks for payload {version}; this API runs "
                    f"payload {payload_version} locally"
                )
            found = LAMBDA_URI.match(str(integration.get("uri", "")))
            if found is None:
                raise TemplateError(f"{logical_id}: {route} integrates no Lambda function")
            authorization, issuer = "NONE", ""
            audiences: tuple[str, ...] = ()
            for requirement in operation.get("security", default_security):
                for scheme_name in requirement:
                    scheme = schemes.get(scheme_name, {})
                    authorization, issuer, audiences = _authorization(scheme_name, scheme)
            routes.append(
                BodyRoute(
                    "ANY" if method == ANY_METHOD else method.upper(),
                    path,
                    found.group(1),
                    authorization,
                    issuer,
                    audiences,
                )
            )
    return routes
