"""The template's HTTP routes on 127.0.0.1, as `sam local start-api` serves them."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localcloud.cloud import LocalCloud
from localcloud.deploy import ACCOUNT_ID, Route
from localcloud.identity import (
    KEY_FILE,
    JwtAuthorizer,
    TokenRejectedError,
    bearer_token,
    jwt_context,
    signing_key,
    verify,
)
from localcloud.rest import rest_event
from localcloud.runtime import HandlerError

JSON = {"content-type": "application/json"}

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit


def http_event(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    route_key: str | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, as API Gateway hands it to a function."""
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "localcloud",
            },
            "requestId": f"local-{now:.6f}",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = path_parameters
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


def route_pattern(path: str) -> re.Pattern[str]:
    """`/orders/{orderId}` becomes a pattern with a named group per path parameter; a greedy
    `{proxy+}` matches the rest of the path."""
    parts = re.split(r"(\{[^}/]+\})", path)
    regex = "".join(
        (
            f"(?P<{part[1:-2]}>.+)"
            if part.endswith("+}")
            else f"(?P<{part[1:-1]}>[^/]+)"
            if part.startswith("{")
            else re.escape(part)
        )
        for part in parts
    )
    return re.compile(f"^{regex}$")


class LocalApi:
    """Matches requests to the template's routes and invokes their functions."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.routes = [
            (route.method, route_pattern(route.path), route) for route in cloud.deployment.routes
        ]
        self.key = signing_key(cloud.state_dir / KEY_FILE)

    def authorize(self, route: Route, headers: dict[str, str]) -> dict[str, Any] | None:
        """`requestContext.authorizer` for the request; TokenRejectedError when refused."""
        if route.authorization == "NONE":
            return None
        if route.authorization != "JWT" or route.authorizer is None:
            raise TokenRejectedError(f"{route.authorization} is not checked locally")
        authorizer = JwtAuthorizer(route.authorizer.issuer, route.authorizer.audiences)
        return jwt_context(verify(bearer_token(headers), self.key, authorizer))

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str]:
        known_path = False
        for route_method, pattern, route in self.routes:
            match = pattern.match(path)
            if not match:
                continue
            known_path = True
            if route_method not in (method, "ANY"):
                continue
            try:
                identity = self.authorize(route, headers)
            except TokenRejectedError as exc:
                # As API Gateway answers: the reason goes to the header, never to the body.
                reason = " ".join(str(exc).replace('"', "'").split())
                challenge = f'Bearer error="invalid_token" error_description="{reason}"'
                headers_out = {**JSON, "www-authenticate": challenge}
                return 401, headers_out, json.dumps({"message": "Unauthorized"})
            if route.payload_version == "1.0":
                event = rest_event(
                    method, path, route.path, body, headers, match.groupdict(), "", identity
                )
            else:
                event = http_event(
                    method,
                    path,
                    body,
                    headers,
                    match.groupdict() or None,
                    identity,
                    route_key=f"{route.method} {route.path}",
                )
                # As API Gateway passes them: a missing Content-Type stays missing.
                event["headers"] = headers
            try:
                response = self.cloud.invoke(route.function, event)
            except HandlerError:
                return 500, dict(JSON), json.dumps({"message": "Internal Server Error"})
            return _proxy_response(response)
        status = 405 if known_path else 404
        message = "Not Found" if status == 404 else "Method Not Allowed"
        return status, dict(JSON), json.dumps({"message": message})


def _proxy_response(response: Any) -> tuple[int, dict[str, str], str]:
    if not isinstance(response, dict) or "statusCode" not in response:
        return 200, dict(JSON), json.dumps(response)
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    return int(response["statusCode"]), headers, str(response.get("body", ""))


class ApiServer(ThreadingHTTPServer):
    """A threaded server whose listen backlog holds hundreds of clients connecting at once."""

    request_queue_size = 1024
    daemon_threads = True


def _json_body(message: str) -> str:
    return json.dumps({"message": message})


class ApiHandler(BaseHTTPRequestHandler):
    """One connection to the local API: JSON in every answer, whatever the request."""

    server_version = "localcloud"
    protocol_version = "HTTP/1.1"
    api: LocalApi

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._write(400, dict(JSON), _json_body("Bad Request: Content-Length"))
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._write(413, dict(JSON), _json_body("Request too large"))
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace") if length else None
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, response_headers, response_body = self.api.handle(
            self.command, self.path.split("?", 1)[0], headers, body
        )
        self._write(status, response_headers, response_body)

    def _write(self, status: int, headers: dict[str, str], body: str) -> None:
        payload = body.encode()
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # What the standard library answers in HTML (a bad request line, an unknown method,
        # a path too long), answered in JSON like every other response.
        self.close_connection = True
        try:
            self._write(code, dict(JSON), _json_body(message or self.responses[code][0]))
        except OSError:
            pass  # the client has gone

    do_GET = do_POST = do_PUT = do_DELETE = _serve
    do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        command = getattr(self, "command", None) or "-"
        path = (getattr(self, "path", None) or "-")[:200]
        status = args[1] if len(args) > 1 else ""
        # On stderr, as sam local start-api logs requests: stdout carries the outputs alone.
        print(f"{command} {path} -> {status}", flush=True, file=sys.stderr)


def serve(cloud: LocalCloud, port: int) -> ThreadingHTTPServer:
    """Bind 127.0.0.1:port; raises OSError when the port is taken."""
    handler = type("Handler", (ApiHandler,), {"api": LocalApi(cloud)})
    return ApiServer(("127.0.0.1", port), handler)


@contextmanager
def serving(cloud: LocalCloud, port: int = 0) -> Iterator[str]:
    """The API served on a background thread while the block runs; yields its base URL."""
    server = serve(cloud, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
