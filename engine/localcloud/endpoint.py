"""The local cloud's AWS endpoint: moto's own server on the same in-process backends.

`aws --endpoint-url` and boto3 reach the emulated services (DynamoDB, SQS, Step Functions,
EventBridge, Lambda) through it, and see exactly what the local cloud's functions and state
machines see: the server and the embedded emulator share one set of backends.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OUTPUTS_FILE = "outputs.json"
ENDPOINT_OUTPUT = "AwsEndpointUrl"
LISTEN_BACKLOG = 1024


class AwsEndpoint:
    """moto's server application on 127.0.0.1, served on a thread beside the local cloud."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = ""
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Listen and serve; raises OSError when the port is taken."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        # One access-log line per AWS call would drown the functions' own lines on stderr.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # Bound here, not by werkzeug, which exits the process when the port is taken.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", self.port))
            listener.listen(LISTEN_BACKLOG)
        except OSError:
            listener.close()
            raise
        self._socket = listener
        port = listener.getsockname()[1]
        self._server = make_server(
            "127.0.0.1",
            port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
            fd=listener.fileno(),
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._socket is not None:
            self._socket.close()


def local_outputs(
    cloud: Any, api_url: str | None, endpoint_url: str | None
) -> list[dict[str, str]]:
    """The stack's Outputs with the HTTP API's URL made local, plus the AWS endpoint's URL."""
    api_ids = [
        cloud.deployment.refs[logical_id]
        for logical_id, kind in cloud.deployment.types.items()
        if kind in {"AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi"}
    ]
    outputs = []
    for output in cloud.deployment.outputs.values():
        value = output["OutputValue"]
        for api_id in api_ids:
            if api_url is not None:
                # https://<api id>.execute-api.<region>.<suffix>/<stage>: the routes are served
                # at the local API's root, with no stage in the path.
                value = re.sub(
                    rf"https://{re.escape(api_id)}\.execute-api\.[^/\s]+(/[^\s]*)?", api_url, value
                )
        outputs.append({**output, "OutputValue": value})
    if endpoint_url is not None:
        outputs.append(
            {
                "OutputKey": ENDPOINT_OUTPUT,
                "OutputValue": endpoint_url,
                "Description": "AWS endpoint of the local cloud (aws --endpoint-url, boto3)",
            }
        )
    return outputs


def endpoint_outputs_file(outputs_file: Path, endpoint_url: str) -> Path | None:
    """Beside `outputs_file` (the last cloud started), the outputs of the cloud serving
    `endpoint_url`: `outputs-<port>.json`, so that clouds running at once each keep theirs."""
    try:
        port = urlsplit(endpoint_url).port
    except ValueError:
        return None
    if port is None:
        return None
    return outputs_file.with_name(f"{outputs_file.stem}-{port}{outputs_file.suffix}")


def write_outputs(path: Path, outputs: list[dict[str, str]]) -> Path:
    """Write the outputs where tools look for them (whole or not at all); the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named for the process: two clouds writing at once never share a temporary file.
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(outputs, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path
