"""`order-saga local start`: the HTTP API and an AWS endpoint, reached from another process."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.api import ApiServer
from localcloud.stack import StackUnreachableError, connect
from order_saga_tools.identity import mint
from order_saga_tools.state import outputs_path

ROOT = Path(__file__).resolve().parents[2]


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
    # outputs.json is the last cloud started from the folder; this file is this one's.
    port = started["AwsEndpointUrl"].rsplit(":", 1)[1]
    written = json.loads((ROOT / ".order-saga" / f"outputs-{port}.json").read_text())

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


def test_an_operator_tool_reaches_the_local_stack_by_its_endpoint(started: dict[str, str]) -> None:
    stack = connect(None, None, started["AwsEndpointUrl"], outputs_path(ROOT))

    assert stack.outputs == started
    assert started["OrdersTableName"] in stack.client("dynamodb").list_tables()["TableNames"]


def test_a_local_endpoint_that_is_not_the_running_one_is_refused_in_one_line(
        started: dict[str, str]) -> None:
    with pytest.raises(StackUnreachableError, match="describes the local cloud at"):
        connect(None, None, "http://127.0.0.1:1", outputs_path(ROOT))


@pytest.mark.parametrize(("environment", "message"), [
    pytest.param({}, "no AWS region", id="no-region"),
    pytest.param({"AWS_DEFAULT_REGION": "eu-west-1"}, "no AWS credentials", id="no-credentials"),
])
def test_a_stack_on_aws_without_a_region_or_credentials_is_refused_in_one_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str],
        message: str) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(StackUnreachableError, match=message):
        connect("order-saga-dev", None, None, outputs_path(ROOT))
