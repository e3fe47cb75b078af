"""`order-saga local start-api`: the template's HTTP routes on 127.0.0.1, as sam serves them."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from order_saga.local.cloud import LocalCloud
from order_saga.local.demo import http_event
from order_saga.local.runtime import HandlerError

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit


def route_pattern(path: str) -> re.Pattern[str]:
    """`/orders/{orderId}` becomes a pattern with a named group per path parameter."""
    parts = re.split(r"(\{[^}/]+\})", path)
    regex = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(f"^{regex}$")


class LocalApi:
    """Matches requests to the template's routes and invokes their functions."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.routes = [
            (route.method, route_pattern(route.path), route) for route in cloud.deployment.routes
        ]

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str]:
        known_path = False
        for route_method, pattern, route in self.routes:
            match = pattern.match(path)
            if not match:
                continue
            known_path = True
            if route_method != method:
                continue
            event = http_event(method, path, body, headers, match.groupdict() or None)
            # API Gateway passes the client's headers as sent: a missing Content-Type stays missing.
            event["headers"] = headers
            event["routeKey"] = f"{route.method} {route.path}"
            try:
                response = self.cloud.invoke(route.function, event)
            except HandlerError:
                return (
                    500,
                    {"content-type": "application/json"},
                    json.dumps({"message": "Internal Server Error"}),
                )
            return _proxy_response(response)
        status = 405 if known_path else 404
        return (
            status,
            {"content-type": "application/json"},
            json.dumps({"message": "Not Found" if status == 404 else "Method Not Allowed"}),
        )


def _proxy_response(response: Any) -> tuple[int, dict[str, str], str]:
    if not isinstance(response, dict) or "statusCode" not in response:
        return 200, {"content-type": "application/json"}, json.dumps(response)
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    return int(response["statusCode"]), headers, str(response.get("body", ""))


def serve(cloud: LocalCloud, port: int) -> ThreadingHTTPServer:
    """Bind 127.0.0.1:port; raises OSError when the port is taken."""
    api = LocalApi(cloud)

    class Handler(BaseHTTPRequestHandler):
        server_version = "order-saga-local"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self._write(
                    413, {"content-type": "application/json"}, '{"message": "Request too large"}'
                )
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace") if length else None
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, response_headers, response_body = api.handle(
                self.command, self.path.split("?", 1)[0], headers, body
            )
            self._write(status, response_headers, response_body)

        def _write(self, status: int, headers: dict[str, str], body: str) -> None:
            payload = body.encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve
        do_PUT = _serve
        do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
            print(
                f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}",
                flush=True,
                file=cloud.runtime.logs.terminal if cloud.runtime else None,
            )

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
