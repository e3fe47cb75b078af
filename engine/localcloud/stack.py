"""Reach a running stack, on AWS or on the local cloud, the same way: its outputs and clients.

On AWS a stack is found by name with CloudFormation, in a region; locally, the running local
cloud has written its outputs to a file and serves the AWS APIs on an endpoint. Either
way a tool gets the stack's outputs by key and boto3 clients for its resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from localcloud.endpoint import ENDPOINT_OUTPUT, endpoint_outputs_file

LOCAL_REGION = "us-east-1"
# Calls to a stack fail fast and clearly rather than hang on a closed port.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3})


class StackUnreachableError(Exception):
    """The stack cannot be reached: unknown, no credentials, wrong region, nothing listening."""


@dataclass
class Stack:
    """A deployed stack's outputs and a way to make clients that reach its resources."""

    name: str
    region: str
    outputs: dict[str, str]
    endpoint_url: str | None = None
    session: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG
            )
        return self._clients[service]

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError as exc:
            raise StackUnreachableError(
                f"stack {self.name} has no output {key}; it has {', '.join(sorted(self.outputs))}"
            ) from exc


def on_aws(name: str, region: str | None = None) -> Stack:
    """The CloudFormation stack `name` in `region` (or the default), with the caller's keys."""
    try:
        session = boto3.session.Session(region_name=region)
        cloudformation = session.client("cloudformation", config=CLIENT_CONFIG)
        described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except NoRegionError as exc:
        raise StackUnreachableError(
            "no AWS region: pass --region or set AWS_REGION (or a profile's region)"
        ) from exc
    except NoCredentialsError as exc:
        raise StackUnreachableError(
            "no AWS credentials: configure a profile or set AWS_ACCESS_KEY_ID and its secret"
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            raise StackUnreachableError(
                f"no stack {name} in region {session.region_name}: check the name and --region"
            ) from exc
        raise StackUnreachableError(
            f"cannot describe stack {name}: {error.get('Message')}"
        ) from exc
    except BotoCoreError as exc:
        raise StackUnreachableError(f"cannot reach CloudFormation: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return Stack(name, str(session.region_name), outputs, session=session)


def local(endpoint_url: str, outputs_file: Path) -> Stack:
    """The local cloud serving `endpoint_url`, with the outputs it wrote: the file for that
    endpoint's port beside `outputs_file` when there is one, else `outputs_file` itself."""
    path = outputs_file.resolve()
    own = endpoint_outputs_file(path, endpoint_url)
    if own is not None and own.is_file():
        path = own
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in written}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StackUnreachableError(
            f"no local cloud outputs in {path}: is the local cloud running from this folder?"
        ) from exc
    url = endpoint_url.rstrip("/")
    if outputs.get(ENDPOINT_OUTPUT, "").rstrip("/") != url:
        raise StackUnreachableError(
            f"{path} describes the local cloud at {outputs.get(ENDPOINT_OUTPUT)}, not {url}"
        )
    # The emulator takes any credentials; these keep a real profile's out of local calls.
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=LOCAL_REGION
    )
    stack = Stack("local", LOCAL_REGION, outputs, endpoint_url=url, session=session)
    try:
        stack.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise StackUnreachableError(
            f"nothing answers at {url}: is the local cloud running?"
        ) from exc
    return stack


def connect(
    stack: str | None, region: str | None, local_url: str | None, outputs_file: Path
) -> Stack:
    """The stack an operator command names: `--stack NAME [--region R]` or `--local URL`."""
    if (stack is None) == (local_url is None):
        raise StackUnreachableError("name one target: --stack NAME [--region R] or --local URL")
    if local_url is not None:
        return local(local_url, outputs_file)
    return on_aws(str(stack), region)
