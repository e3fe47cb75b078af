"""The `localcloud` command on shop-lite: invoke, send-event, and start served to others."""

from __future__ import annotations

import json
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.cli import main

from .conftest import SHOP, TEMPLATE, write_app

EVENTS = SHOP / "events"


def localcloud(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *arguments: str
) -> tuple[int, str, str]:
    status = main([*arguments, "--template", str(TEMPLATE), "--root", str(tmp_path)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_invoke_prints_the_result_alone_on_stdout_with_the_parameter_overrides_applied(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = str(EVENTS / "price-order.json")

    _, default, _ = localcloud(capsys, tmp_path, "invoke", "PriceOrderFunction", "-e", event)
    status, raised, _ = localcloud(
        capsys, tmp_path, "invoke", "PriceOrderFunction", "-e", event,
        "--parameter-overrides", "LargeOrderCents=30000",
    )

    assert status == 0
    assert json.loads(default) == {"orderId": "order-1", "totalCents": 25_450, "large": True}
    assert json.loads(raised)["large"] is False


def test_invoke_shows_the_functions_log_on_stderr_and_a_handler_error_as_json_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    poison = tmp_path / "poison.json"
    poison.write_text(json.dumps({"Records": [{"messageId": "m-1", "body": "not json"}]}))
    no_path = tmp_path / "no-path.json"
    no_path.write_text(json.dumps({"httpMethod": "GET"}))

    status, out, err = localcloud(capsys, tmp_path, "invoke", "StoreOrderFunction", "-e",
                                  str(poison))
    failed, error, _ = localcloud(capsys, tmp_path, "invoke", "GetOrderFunction", "-e",
                                  str(no_path))

    assert status == 0 and json.loads(out) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert err.splitlines() == ["[StoreOrderFunction] poison message m-1"]
    assert failed == 1 and json.loads(error)["errorType"] == "KeyError"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["invoke", "NoSuchFunction", "-e", str(EVENTS / "price-order.json")],
         "unknown function 'NoSuchFunction'; the template has CountTicksFunction"),
        (["invoke", "PriceOrderFunction", "-e", "no-such-event.json"],
         "cannot read event file no-such-event.json"),
        (["send-event", "-e", str(EVENTS / "price-order.json")],
         "is not an EventBridge event: it needs an object `detail`"),
        (["invoke", "PriceOrderFunction", "-e", str(EVENTS / "price-order.json"),
          "--parameter-overrides", "Nope=1"], "unknown parameter(s) Nope"),
    ],
    ids=["unknown function", "missing event file", "not an EventBridge event", "bad parameter"],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arguments: list[str], message: str
) -> None:
    status, _, err = localcloud(capsys, tmp_path, *arguments)

    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_template_that_does_not_exist_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = main(["invoke", "F", "-e", str(EVENTS / "price-order.json"), "--root", str(tmp_path)])

    err = capsys.readouterr().err.strip()
    assert status == 2 and err.startswith("localcloud: cannot read template") and "\n" not in err


def test_send_event_starts_the_review_and_shows_its_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, _ = localcloud(
        capsys, tmp_path, "send-event", "-e", str(EVENTS / "order-stored.json"),
        "--clock-scale", "0.02",
    )

    started = json.loads(out)["started"]
    assert status == 0 and [s["status"] for s in started] == ["SUCCEEDED"]
    assert started[0]["path"] == ["Price order", "Is it large?", "Approve order"]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, serving: Any
) -> Iterator[tuple[dict[str, str], Path]]:
    """`localcloud start` on shop-lite as a process of its own: its outputs, its stderr file."""
    root = tmp_path_factory.mktemp("served")
    errors = root / "stderr.txt"
    command = [
        sys.executable, "-m", "localcloud.cli", "start", "--template", str(TEMPLATE),
        "--root", str(root), "--port", "0", "--aws-port", "0",
        "--clock-scale", "0.02", "--quiet",
    ]
    with errors.open("w") as stderr, serving(command, stderr) as (_, outputs):
        # The routes go to stderr after the outputs: the tests read them once all are there.
        deadline = time.monotonic() + 30
        while "serving the APIs on" not in errors.read_text():
            assert time.monotonic() < deadline, f"no routes on stderr: {errors.read_text()}"
            time.sleep(0.05)
        yield outputs, root


def request(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(url, data, method=method,
                                  headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def aws(service: str, outputs: dict[str, str]) -> Any:
    return boto3.client(service, endpoint_url=outputs["AwsEndpointUrl"], region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_start_writes_its_outputs_with_both_apis_made_local(
    served: tuple[dict[str, str], Path],
) -> None:
    outputs, root = served
    written = json.loads((root / ".localcloud" / "outputs.json").read_text())

    assert {o["OutputKey"]: o["OutputValue"] for o in written} == outputs
    assert outputs["HttpApiUrl"] == outputs["RestApiUrl"]
    assert outputs["HttpApiUrl"].startswith("http://127.0.0.1:")


def test_start_names_what_it_does_not_emulate_and_lists_both_apis_routes(
    served: tuple[dict[str, str], Path],
) -> None:
    outputs, root = served
    lines = (root / "stderr.txt").read_text().splitlines()

    assert "not emulated: LargeOrdersTopicPolicy (AWS::SNS::TopicPolicy)" in lines
    assert any("GET    " in line and "/orders/{orderId}  -> GetOrderFunction  (REST API, open)"
               in line for line in lines), lines
    assert any("/orders  -> PlaceOrderFunction  (HTTP API, open)" in line for line in lines)


def test_an_order_over_http_is_reviewed_and_read_back_over_rest_and_the_aws_endpoint(
    served: tuple[dict[str, str], Path],
) -> None:
    outputs, _ = served
    status, placed = request(outputs["HttpApiUrl"] + "/orders", "POST",
                             {"lines": [{"sku": "PEN", "quantity": 2, "priceCents": 150}]})
    order_id = placed["orderId"]
    deadline = time.monotonic() + 20
    found: tuple[int, Any] = (0, {})
    while time.monotonic() < deadline:
        found = request(f"{outputs['RestApiUrl']}/orders/{order_id}")
        if found[0] == 200 and found[1]["status"] == "APPROVED":
            break
        time.sleep(0.1)

    item = aws("dynamodb", outputs).get_item(
        TableName=outputs["OrdersTableName"], Key={"orderId": {"S": order_id}})["Item"]
    executions = aws("stepfunctions", outputs).list_executions(
        stateMachineArn=outputs["ReviewStateMachineArn"])["executions"]
    assert status == 202
    assert found == (200, {"orderId": order_id, "status": "APPROVED", "totalCents": 300,
                           "resource": "/orders/{orderId}", "method": "GET"})
    assert item["status"] == {"S": "APPROVED"}
    assert any(e["status"] == "SUCCEEDED" for e in executions)


def test_a_message_sent_through_the_aws_endpoint_is_polled_by_the_worker(
    served: tuple[dict[str, str], Path],
) -> None:
    outputs, _ = served
    aws("sqs", outputs).send_message(
        QueueUrl=outputs["OrdersQueueUrl"],
        MessageBody=json.dumps({"orderId": "order-by-sqs", "lines": [["PEN", 1, 150]]}),
    )
    deadline = time.monotonic() + 20
    item: dict[str, Any] = {}
    while time.monotonic() < deadline and not item:
        item = aws("dynamodb", outputs).get_item(
            TableName=outputs["OrdersTableName"], Key={"orderId": {"S": "order-by-sqs"}}
        ).get("Item", {})
        time.sleep(0.1)

    assert item["totalCents"] == {"N": "150"}


# A bus of the app's own, for `send-event` to put its event on (the resources follow it).
BUS = """\
Bus:
  Type: AWS::Events::EventBus
  Properties:
    Name: tests-bus
"""


def test_a_delivery_that_fails_is_named_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An event whose rule's target fails leaves no execution and no answer to the sender:
    without this line, only its dead letter would say what happened."""
    template = write_app(tmp_path, BUS + textwrap.dedent("""\
        FailingFunction:
          Type: AWS::Serverless::Function
          Properties:
            CodeUri: src/
            Handler: failing.handler
            Runtime: python3.13
            Events:
              Stored:
                Type: EventBridgeRule
                Properties:
                  EventBusName: !Ref Bus
                  Pattern: {source: [tests.delivery]}
        """), {"src/failing.py": "def handler(event, context):\n"
                                 "    raise RuntimeError('no table to write to')\n"})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"source": "tests.delivery", "detail-type": "Stored",
                                 "detail": {"orderId": "o-1"}}))

    status = main(["send-event", "-e", str(event), "--template", str(template),
                   "--root", str(tmp_path)])

    captured = capsys.readouterr()
    err = captured.err.splitlines()
    failed = [line for line in err if line.startswith("delivery failed: rule ")]
    assert status == 0 and json.loads(captured.out) == {"started": []}
    assert len(failed) == 1, err
    assert "FailingFunction" in failed[0] and "RuntimeError" in failed[0], failed[0]
    assert any("no table to write to" in line for line in err), err


def test_an_execution_that_fails_is_named_on_stderr_with_its_error_and_cause(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """In AWS a failed execution raises ExecutionsFailed, for an alarm to reach a person; here
    it is a line on stderr, and an execution that succeeds prints none."""
    template = write_app(tmp_path, BUS + textwrap.dedent("""\
        Outcome:
          Type: AWS::Serverless::StateMachine
          Properties:
            Definition:
              StartAt: Which
              States:
                Which:
                  Type: Choice
                  Choices:
                    - {Variable: $.detail.ok, BooleanEquals: true, Next: Done}
                  Default: Give up
                Done: {Type: Succeed}
                Give up: {Type: Fail, Error: NotClaimed, Cause: The order could not be claimed.}
            Events:
              Placed:
                Type: EventBridgeRule
                Properties:
                  EventBusName: !Ref Bus
                  Pattern: {source: [tests.outcome]}
        """))
    printed = {}
    for ok in (True, False):
        event = tmp_path / f"event-{ok}.json"
        event.write_text(json.dumps({"source": "tests.outcome", "detail-type": "Placed",
                                     "detail": {"ok": ok}}))
        status = main(["send-event", "-e", str(event), "--template", str(template),
                       "--root", str(tmp_path)])
        captured = capsys.readouterr()
        assert status == 0, captured.err
        started = json.loads(captured.out)["started"]
        printed[ok] = (started, [line for line in captured.err.splitlines()
                                 if line.startswith("execution ")])

    succeeded, quiet = printed[True]
    failed, named = printed[False]
    assert [s["status"] for s in succeeded] == ["SUCCEEDED"] and quiet == []
    assert [s["status"] for s in failed] == ["FAILED"]
    assert named == [f"execution FAILED: {failed[0]['executionArn']}: NotClaimed: "
                     "The order could not be claimed."]
