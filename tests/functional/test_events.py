"""Every sample in events/ goes to its real handler, on the local cloud and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from order_saga_tools.saga import SagaCloud

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*.json"))
FUNCTION_BY_PREFIX = {
    "create-order": "CreateOrderFunction",
    "get-order": "GetOrderFunction",
    "inventory-worker": "InventoryWorkerFunction",
    "payment-worker": "PaymentWorkerFunction",
    "order-worker": "OrderWorkerFunction",
    "republish-pending": "RepublishPendingOrdersFunction",
}
HTTP_STATUS = {
    "create-order-valid": 202,
    "create-order-idempotency-key": 202,
    "create-order-base64-body": 202,
    "create-order-invalid-body": 400,
    "create-order-jwt": 202,
    "create-order-names-another-customer": 403,
    "create-order-without-identity": 401,
    "get-order-valid": 404,
    "get-order-jwt": 404,
    "get-order-malformed-id": 400,
}


def function_for(path: Path) -> str | None:
    for prefix, function in FUNCTION_BY_PREFIX.items():
        if path.stem.startswith(prefix):
            return function
    return None


def is_command(body: str) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and "action" in message and "taskToken" in message


def check_response(path: Path, event: dict[str, object], response: object) -> None:
    """What each kind of sample must produce from its handler."""
    assert isinstance(response, dict), response
    if path.stem in HTTP_STATUS:
        assert response["statusCode"] == HTTP_STATUS[path.stem], response
        assert json.loads(str(response["body"])), "an HTTP answer always has a JSON body"
    elif "Records" in event:
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}  # type: ignore[index]
        poison = {r["messageId"] for r in event["Records"] if not is_command(r["body"])}  # type: ignore[attr-defined]
        assert failed == poison, "only poison messages fail, each alone"
    else:
        assert response == {"republished": []}


def test_every_sample_event_names_a_function_of_the_template() -> None:
    assert EVENTS, "events/ holds the samples"
    orphans = [p.name for p in EVENTS if function_for(p) is None and p.name != "order-created.json"]
    assert not orphans


@pytest.mark.parametrize("path", [p for p in EVENTS if function_for(p)], ids=lambda p: p.stem)
def test_each_sample_event_gets_the_answer_its_handler_promises(
    cloud: SagaCloud, path: Path
) -> None:
    event = json.loads(path.read_text())
    response = cloud.invoke(str(function_for(path)), event)
    check_response(path, event, response)


def test_the_order_created_sample_starts_a_saga_that_runs_to_its_end(cloud: SagaCloud) -> None:
    event = json.loads((ROOT / "events" / "order-created.json").read_text())
    detail = event["detail"]
    cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.ref("OrdersEventBus"),
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(detail),
            }
        ]
    )
    import time

    deadline = time.monotonic() + 20
    sfn = cloud.client("stepfunctions")
    while time.monotonic() < deadline:
        runs = [sfn.describe_execution(executionArn=e["executionArn"]) for e in cloud.sagas()]
        mine = [r for r in runs if detail["orderId"] in r["input"] and r["status"] != "RUNNING"]
        if mine:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no saga ended for the sample OrderCreated within 20 s")
    # The sample order was never stored, so the claim refuses it: a quiet, successful end.
    assert cloud.saga_path(mine[0]["executionArn"])[-1] == "Ignore duplicate start"
