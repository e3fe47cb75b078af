"""The republisher's StuckOrders metric: what the StuckOrdersAlarm watches."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from localcloud.template import load_template
from order_saga.adapters.dynamodb_orders import order_to_item
from order_saga.domain.model import Money, Order, OrderLine
from order_saga_tools.saga import SagaCloud


def metric_records(printed: str) -> list[dict[str, Any]]:
    """The embedded-metric-format records among printed lines."""
    records = []
    for line in printed.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            records.append(record)
    return records


def test_the_republisher_counts_an_order_unclaimed_for_15_minutes_under_the_alarms_dimensions(
    cloud: SagaCloud, capsys: pytest.CaptureFixture[str], project_root: Path
) -> None:
    # A lost emit long ago: the order is PENDING and no saga runs for it.
    line = OrderLine("SKU-STUCK", 1, Money(100, "EUR"))
    order = replace(
        Order(str(uuid.uuid4()), "CUST-STUCK", (line,)),
        created_at="2020-01-01T00:00:00.000Z",
        updated_at="2020-01-01T00:00:00.000Z",
    )
    serialize = TypeSerializer().serialize
    cloud.client("dynamodb").put_item(
        TableName=cloud.ref("OrdersTable"),
        Item={k: serialize(v) for k, v in order_to_item(order).items()},
    )
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    capsys.readouterr()

    cloud.invoke("RepublishPendingOrdersFunction", {"time": now})

    (record,) = [r for r in metric_records(capsys.readouterr().out) if "StuckOrders" in r]
    template = load_template(project_root / "template.yaml")
    alarm = template["Resources"]["StuckOrdersAlarm"]["Properties"]
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert record["StuckOrders"] == [1.0]
    assert directive["Namespace"] == alarm["Namespace"]
    assert [m["Name"] for m in directive["Metrics"]] == ["StuckOrders", "OrdersRepublished"]
    (dimension_names,) = directive["Dimensions"]
    expected = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    expected["StateMachineArn"] = cloud.ref("OrderSagaStateMachine")
    assert {name: record[name] for name in dimension_names} == expected
