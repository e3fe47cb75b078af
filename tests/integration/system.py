"""The system under test, reached only as a client reaches it: its HTTP API and its AWS APIs.

A target is a running stack's outputs plus two customer identities. Locally, `order-saga
local start` runs as a subprocess and tokens are minted with the local key; on AWS the
stack is found by name and the customers are the identities the user gives (a JWT each, or
an AWS profile each whose requests are signed with SigV4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import jwt
from boto3.dynamodb.types import TypeDeserializer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from localcloud.stack import Stack, local, on_aws
from order_saga.adapters.dynamodb_inventory import reservation_key, stock_key
from order_saga.adapters.dynamodb_payments import balance_key, charge_key
from order_saga_tools.identity import mint
from order_saga_tools.state import outputs_path

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CLOCK_SCALE = 0.002
TERMINAL = frozenset({"CONFIRMED", "CANCELLED", "COMPENSATION_FAILED"})
SAGA_DEADLINE_SECONDS = 120.0
START_DEADLINE_SECONDS = 120.0
CURRENCY = "EUR"

Signer = Callable[[str, str, bytes | None, dict[str, str]], dict[str, str]]


class IdentityMissingError(Exception):
    """The deployed target was not given the two customer identities it needs."""


@dataclass(frozen=True)
class Customer:
    """A caller of the API: the customer id the API sees, and how its requests are signed."""

    customer_id: str
    sign: Signer


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: Any


def bearer(token: str) -> Signer:
    def sign(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "authorization": f"Bearer {token}"}

    return sign


def sigv4(credentials: Any, region: str) -> Signer:
    def sign(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


@dataclass
class System:
    """One target: its stack, how to get two customers, and how long its timers really take."""

    name: str
    stack: Stack
    pair: Callable[[], tuple[Customer, Customer]]
    clock_scale: float

    # ------------------------------------------------------------------ HTTP API
    def request(
        self,
        customer: Customer,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        url = self.stack.output("ApiUrl").rstrip("/") + path
        data = None if body is None else json.dumps(body).encode()
        sent = {"content-type": "application/json"} if data is not None else {}
        sent = customer.sign(method, url, data, {**sent, **(headers or {})})
        request = urllib.request.Request(url, data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the API
                return _response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return _response(error.code, dict(error.headers), error.read())

    def place(
        self, customer: Customer, lines: list[dict[str, Any]], key: str | None = None
    ) -> Response:
        headers = {"idempotency-key": key} if key else None
        return self.request(
            customer, "POST", "/orders", {"currency": CURRENCY, "lines": lines}, headers
        )

    def wait_for_terminal(self, customer: Customer, order_id: str) -> dict[str, Any]:
        """The order as its owner reads it once terminal; fails at the deadline."""
        deadline = time.monotonic() + SAGA_DEADLINE_SECONDS
        order: Any = None
        while time.monotonic() < deadline:
            answer = self.request(customer, "GET", f"/orders/{order_id}")
            order = answer.body
            if answer.status == 200 and order.get("status") in TERMINAL:
                return dict(order)
            time.sleep(0.05)
        raise AssertionError(f"order {order_id} is not terminal after the deadline: {order}")

    # ------------------------------------------------------------------ AWS APIs
    def client(self, service: str) -> Any:
        return self.stack.client(service)

    def item(self, table_output: str, key: dict[str, str]) -> dict[str, Any] | None:
        found = self.client("dynamodb").get_item(
            TableName=self.stack.output(table_output),
            Key={name: {"S": value} for name, value in key.items()},
            ConsistentRead=True,
        ).get("Item")
        return None if found is None else plain(found)

    def seed_stock(self, sku: str, units: int) -> None:
        self.client("dynamodb").put_item(
            TableName=self.stack.output("InventoryTableName"),
            Item={"pk": {"S": stock_key(sku)["pk"]}, "available": {"N": str(units)}},
        )

    def seed_balance(self, customer: Customer, minor_units: int) -> None:
        self.client("dynamodb").put_item(
            TableName=self.stack.output("PaymentsTableName"),
            Item={
                "pk": {"S": balance_key(customer.customer_id)},
                "balance": {"N": str(minor_units)},
                "currency": {"S": CURRENCY},
            },
        )

    def available(self, sku: str) -> int:
        return int((self.item("InventoryTableName", stock_key(sku)) or {}).get("available", 0))

    def balance(self, customer: Customer) -> int:
        item = self.item("PaymentsTableName", {"pk": balance_key(customer.customer_id)}) or {}
        return int(item.get("balance", 0))

    def reservation(self, order_id: str) -> dict[str, Any]:
        return self.item("InventoryTableName", reservation_key(order_id)) or {}

    def charge(self, order_id: str) -> dict[str, Any]:
        return self.item("PaymentsTableName", {"pk": charge_key(order_id)}) or {}

    def execution(self, order_id: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The order's saga execution once ended (as DescribeExecution shows it) and its path."""
        order = self.item("OrdersTableName", {"orderId": order_id}) or {}
        arn = str(order.get("executionId", ""))
        assert arn, f"order {order_id} names no execution"
        described = wait_for_execution(self.client("stepfunctions"), arn, SAGA_DEADLINE_SECONDS)
        return described, saga_path(self.client("stepfunctions"), arn)


def _response(status: int, headers: dict[str, str], raw: bytes) -> Response:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    return Response(status, {name.lower(): value for name, value in headers.items()}, body)


def plain(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def wait_for_execution(sfn: Any, execution_arn: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {execution_arn} still runs after {seconds:.0f} s")
        time.sleep(0.1)


def saga_path(sfn: Any, execution_arn: str) -> tuple[str, ...]:
    """The state names in the order the execution entered them, from its history."""
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return tuple(
        event["stateEnteredEventDetails"]["name"]
        for page in pages
        for event in page["events"]
        if event["type"].endswith("StateEntered")
    )


def unique(prefix: str) -> str:
    """A name no other test or run uses: SKUs and local customers, so runs never interfere."""
    return f"{prefix}-IT-{uuid.uuid4().hex[:12].upper()}"


# ---------------------------------------------------------------------- the local target
@contextmanager
def local_target() -> Iterator[System]:
    """`order-saga local start` in a subprocess on free ports, its timers at 1/500."""
    command = [
        sys.executable, "-m", "order_saga_tools.cli", "--root", str(ROOT), "local", "start",
        "--quiet", "--clock-scale", str(LOCAL_CLOCK_SCALE),
        "--port", "0", "--aws-port", "0",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert server.stdout is not None
        printed = ""
        while not printed.rstrip().endswith("]"):
            line = server.stdout.readline()
            if not line:
                raise RuntimeError(f"`{' '.join(command)}` ended before printing its outputs")
            printed += line
        outputs = {o["OutputKey"]: o["OutputValue"] for o in json.loads(printed)}
        stack = local(outputs["AwsEndpointUrl"], outputs_path(ROOT))

        def pair() -> tuple[Customer, Customer]:
            ids = unique("CUST"), unique("CUST")
            return Customer(ids[0], bearer(mint(ROOT, ids[0]))), Customer(
                ids[1], bearer(mint(ROOT, ids[1]))
            )

        yield System("local", stack, pair, LOCAL_CLOCK_SCALE)
    finally:
        server.terminate()
        server.wait(timeout=30)


# ---------------------------------------------------------------------- the deployed target
JWT_VARIABLES = ("ORDER_SAGA_JWT_A", "ORDER_SAGA_JWT_B")
PROFILE_VARIABLES = ("ORDER_SAGA_PROFILE_A", "ORDER_SAGA_PROFILE_B")


def _parameters(stack: Stack) -> dict[str, str]:
    described = stack.client("cloudformation").describe_stacks(StackName=stack.name)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}


def _given(environ: dict[str, str], names: tuple[str, ...], what: str) -> list[str]:
    values = [environ.get(name, "") for name in names]
    if not all(values):
        raise IdentityMissingError(f"set {' and '.join(names)} to {what}")
    return values


def _jwt_customers(environ: dict[str, str], claim: str) -> list[Customer]:
    what = "tokens of two customers for the stack's JwtIssuer and JwtAudience (its API is JWT)"
    customers = []
    for name, token in zip(JWT_VARIABLES, _given(environ, JWT_VARIABLES, what), strict=True):
        # API Gateway checks the signature; the suite only reads whom the token names.
        claims = jwt.decode(token, options={"verify_signature": False})
        if claim not in claims:
            raise IdentityMissingError(f"{name} has no {claim!r} claim (JwtCustomerClaim)")
        customers.append(Customer(str(claims[claim]), bearer(token)))
    return customers


def _iam_customers(environ: dict[str, str], region: str) -> list[Customer]:
    what = (
        "two AWS profiles of different principals, each allowed execute-api:Invoke on the "
        "stack's API (its API is AWS_IAM)"
    )
    customers = []
    for profile in _given(environ, PROFILE_VARIABLES, what):
        session = boto3.session.Session(profile_name=profile, region_name=region)
        # The API names an IAM caller by its principal ARN, as STS does.
        arn = session.client("sts").get_caller_identity()["Arn"]
        customers.append(Customer(str(arn), sigv4(session.get_credentials(), region)))
    return customers


def deployed_target(name: str, region: str | None, environ: dict[str, str]) -> System:
    """The stack `name` on AWS, with the two customers the environment names."""
    stack = on_aws(name, region)
    parameters = _parameters(stack)
    found: list[Customer] | None = None

    def pair() -> tuple[Customer, Customer]:
        nonlocal found
        if found is None:
            if parameters.get("ApiAuthorizationType", "AWS_IAM") == "JWT":
                found = _jwt_customers(environ, parameters.get("JwtCustomerClaim") or "sub")
            else:
                found = _iam_customers(environ, stack.region)
            if found[0].customer_id == found[1].customer_id:
                raise IdentityMissingError(f"both identities are customer {found[0].customer_id}")
        return found[0], found[1]

    return System(name, stack, pair, 1.0)


def target_from_environment() -> str:
    return "deployed" if os.environ.get("AWS_SAM_STACK_NAME") else "local"
