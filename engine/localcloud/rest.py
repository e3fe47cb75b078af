"""The REST API's proxy event (payload format 1.0), as API Gateway hands it to a function."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from localcloud.deploy import ACCOUNT_ID


def rest_event(
    method: str,
    path: str,
    resource: str,
    body: str | None,
    headers: dict[str, str],
    path_parameters: dict[str, str] | None,
    query: str = "",
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A payload 1.0 event: `resource` is the route's path template, `path` the request's."""
    now = time.time()
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "httpMethod": method,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent")},
        "path": f"/Prod{path}",
        "protocol": "HTTP/1.1",
        "requestId": f"local-{now:.6f}",
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourcePath": resource,
        "stage": "Prod",
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {key: [value] for key, value in headers.items()} or None,
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()}
        or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }
