"""`order-saga local start`: the HTTP API and an AWS endpoint, reached from another process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from order_saga.local.api import ApiServer
from order_saga.local.identity import mint

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, str]]:
    """A running `local start`; its printed outputs by key."""
    command = [sys.executable, "-m", "order_saga.local.cli", "--root", str(ROOT), "local",
               "start", "--quiet", "--port", str(free_port()), "--aws-port", str(free_port())]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        assert server.stdout is not None
        printed = ""
        while not printed.rstrip().endswith("]"):
            line = server.stdout.readline()
            assert line, "local start ended before printing its outputs"
            printed += line
        yield {o["OutputKey"]: o["OutputValue"] for o in json.loads(printed)}
    finally:
        server.terminate()
        server.wait(timeout=10)


def aws(service: str, outputs: dict[str, str]) -> Any:
    return boto3.client(service, endpoint_url=outputs["AwsEndpointUrl"], region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def raw_request(url: str, method: str, path: str, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_outputs_are_printed_and_written_in_the_shape_sam_lists_them(
        started: dict[str, str]) -> None:
    written = json.loads((ROOT / ".order-saga" / "outputs.json").read_text())

    assert {o["OutputKey"]: o["OutputValue"] for o in written} == started
    assert all(set(o) == {"OutputKey", "OutputValue", "Description"} for o in written)
    assert started["ApiUrl"].startswith("http://127.0.0.1:")
    assert started["AwsEndpointUrl"].startswith("http://127.0.0.1:")


def test_the_aws_endpoint_serves_the_stacks_own_resources(started: dict[str, str]) -> None:
    tables = aws("dynamodb", started).list_tables()["TableNames"]
    machine = aws("stepfunctions", started).describe_state_machine(
        stateMachineArn=started["StateMachineArn"])
    queue = aws("sqs", started).get_queue_attributes(
        QueueUrl=started["InventoryQueueUrl"], AttributeNames=["RedrivePolicy"])

    assert {started["OrdersTableName"], started["PaymentsTableName"]} <= set(tables)
    assert machine["status"] == "ACTIVE"
    assert "maxReceiveCount" in queue["Attributes"]["RedrivePolicy"]


def test_an_order_placed_over_http_is_visible_through_the_aws_endpoint(
        started: dict[str, str]) -> None:
    token = mint(ROOT, "CUST-START-1")
    body = json.dumps({"currency": "EUR",
                       "lines": [{"sku": "SKU-START", "quantity": 1, "unitPrice": "1.00"}]})
    request = urllib.request.Request(
        started["ApiUrl"] + "/orders", body.encode(), method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        order_id = json.loads(response.read())["orderId"]

    item = aws("dynamodb", started).get_item(
        TableName=started["OrdersTableName"], Key={"orderId": {"S": order_id}},
        ConsistentRead=True)["Item"]
    assert item["customerId"] == {"S": "CUST-START-1"}


def test_a_lambda_invoke_through_the_endpoint_runs_the_real_handler(
        started: dict[str, str]) -> None:
    functions = aws("lambda", started).list_functions()["Functions"]
    get_order = next(f["FunctionName"] for f in functions if "GetOrder" in f["FunctionName"])

    answer = aws("lambda", started).invoke(FunctionName=get_order, Payload=b"{}")

    assert json.loads(answer["Payload"].read()) == {
        "statusCode": 401, "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": "Unauthorized"})}


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "DELETE", "PUT", "FOO"])
def test_any_method_is_answered_in_json(started: dict[str, str], method: str) -> None:
    status, headers, body = raw_request(started["ApiUrl"], method, "/orders")

    assert status in {405, 501}
    assert headers["content-type"] == "application/json"
    assert "message" in json.loads(body)


def test_head_is_answered_with_headers_only(started: dict[str, str]) -> None:
    status, headers, body = raw_request(started["ApiUrl"], "HEAD", "/orders")

    assert (status, headers["content-type"], body) == (405, "application/json", b"")


def test_a_path_of_seventy_thousand_characters_gets_a_json_414(started: dict[str, str]) -> None:
    host, port = started["ApiUrl"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414")
    assert json.loads(body) == {"message": "Request-URI Too Long"}


def test_three_hundred_concurrent_clients_are_all_answered(started: dict[str, str]) -> None:
    token = mint(ROOT, "CUST-START-2")
    headers = {"authorization": f"Bearer {token}"}

    def read_unknown(_: int) -> int:
        return raw_request(started["ApiUrl"], "GET", f"/orders/{uuid.uuid4()}", headers)[0]

    with ThreadPoolExecutor(max_workers=300) as pool:
        statuses = list(pool.map(read_unknown, range(300)))

    assert statuses == [404] * 300
    # Loopback rarely shows it, but a short listen backlog resets clients under a burst.
    assert ApiServer.request_queue_size >= 300
