"""`order-saga cost` on the local cloud: units counted as AWS counts them, priced by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcloud.deploy import ACCOUNT_ID
from localcloud.metering import Meter
from order_saga_tools.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_PATH = {
    "confirmed": "confirmed",
    "out-of-stock": "reserve-rejected",
    "declined": "charge-rejected",
    "fails": "confirm-failed",
}
VOLUME = 100_000


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    chart = tmp_path_factory.mktemp("cost") / "cost.svg"
    capture = tmp_path_factory.mktemp("out") / "cost.json"
    import contextlib

    with capture.open("w") as out, contextlib.redirect_stdout(out):
        code = main(
            [
                "--root",
                str(ROOT),
                "cost",
                "--orders-per-day",
                str(VOLUME),
                "--samples",
                "2",
                "--json",
                "--chart",
                str(chart),
            ]
        )
    assert code == 0
    return {"result": json.loads(capture.read_text()), "chart": chart}


def test_transitions_per_order_are_the_states_each_outcome_enters(measured: dict) -> None:
    paths = yaml.safe_load((ROOT / "tests/drills/scenarios.yaml").read_text())["paths"]
    per_order = measured["result"]["perOrder"]
    for outcome, path in SCENARIO_PATH.items():
        assert per_order[outcome]["transitions"] == len(paths[path]), outcome
    assert per_order["confirmed"]["transitions"] == 7


def test_each_worker_step_is_a_send_a_receive_and_a_delete(measured: dict) -> None:
    paths = yaml.safe_load((ROOT / "tests/drills/scenarios.yaml").read_text())["paths"]
    definition = json.loads((ROOT / "statemachines/order_saga.asl.json").read_text())
    for outcome, path in SCENARIO_PATH.items():
        steps = [
            s
            for s in paths[path]
            if definition["States"][s].get("Resource", "").endswith("waitForTaskToken")
        ]
        units = measured["result"]["perOrder"][outcome]
        assert units["sqs_command_requests"] == 3 * len(steps), outcome
        assert units["lambda_requests"] == 1 + len(steps), outcome  # CreateOrder + the workers


def _hand_price(data: dict, name: str, quantity: float) -> float:
    price = data["prices"][name]["regions"]["us-east-1"]
    if isinstance(price, list):
        first_tier, unit_price = price[0]
        assert first_tier is None or quantity <= first_tier, f"{name} leaves its first tier"
        return quantity * unit_price
    return quantity * price


def test_the_bill_agrees_with_one_recomputed_by_hand_from_the_public_prices(
    measured: dict,
) -> None:
    result = measured["result"]
    data = yaml.safe_load((ROOT / "prices/aws-prices.yaml").read_text())
    month = VOLUME * 730 / 24
    mix = {"confirmed": 0.90, "out-of-stock": 0.05, "declined": 0.04, "fails": 0.01}
    unit = {
        name: sum(share * result["perOrder"][o][name] for o, share in mix.items())
        for name in result["perOrder"]["confirmed"]
    }
    q = {name: value * month for name, value in unit.items()}
    shared = (
        _hand_price(data, "events.custom_event", q["events"])
        + _hand_price(data, "dynamodb.write_request_unit", q["write_units"])
        + _hand_price(data, "dynamodb.read_request_unit", q["read_units"])
        + _hand_price(data, "logs.ingested_gb", q["log_bytes"] / 2**30)
    )
    lambda_bill = _hand_price(data, "lambda.request", q["lambda_requests"]) + _hand_price(
        data, "lambda.gb_second_arm64", q["lambda_gb_seconds"]
    )
    api = _hand_price(data, "apigateway.http_request", q["api_requests"])
    standard = (
        _hand_price(data, "stepfunctions.standard_transition", q["transitions"])
        + lambda_bill
        + api
        + _hand_price(
            data, "sqs.standard_request", q["sqs_command_requests"] + q["sqs_other_requests"]
        )
        + shared
    )
    express = (
        _hand_price(data, "stepfunctions.express_request", q["express_requests"])
        + _hand_price(data, "stepfunctions.express_gb_second", q["express_gb_seconds"])
        + lambda_bill
        + api
        + _hand_price(data, "sqs.standard_request", q["sqs_other_requests"])
        + shared
    )
    tasks = max(2, math.ceil(VOLUME / 86_400 * 3 / 25))
    region = {name: figure["regions"]["us-east-1"] for name, figure in data["prices"].items()}
    container = (
        tasks
        * 730
        * (0.5 * region["fargate.vcpu_hour_arm64"] + 1 * region["fargate.gb_hour_arm64"])
        + 730 * region["elb.alb_hour"]
        + 730 * VOLUME / 86_400 / 25 * region["elb.lcu_hour"]
        + shared
    )
    totals = result["totals"]
    assert totals["Standard"] == pytest.approx(standard, rel=0.01)
    assert totals["Express"] == pytest.approx(express, rel=0.01)
    assert totals["container"] == pytest.approx(container, rel=0.01)


def test_the_chart_is_an_svg_of_the_three_designs(measured: dict) -> None:
    svg = measured["chart"].read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("Standard", "Express", "container"):
        assert label in svg


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--orders-per-day", "10", "--mix", "confirmed=0.5,lost=0.5"], "unknown outcome 'lost'"),
        (["--orders-per-day", "10", "--mix", "confirmed=0.5"], "sum to 0.5, not 1"),
        (["--orders-per-day", "-1"], "--orders-per-day must be 0 or more"),
        (["--orders-per-day", "10", "--region", "ap-south-2"], "region ap-south-2"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(ROOT), "cost", *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error


def test_dynamodb_units_are_counted_as_aws_counts_them(cloud: Any) -> None:
    ddb = cloud.client("dynamodb")
    table = cloud.ref("OrdersTable")
    item = {"orderId": {"S": "cost-units"}, "blob": {"S": "x" * 2500}}  # 2,516 bytes: 3 KB
    meter = Meter(ACCOUNT_ID, cloud.region).start()
    try:
        ddb.put_item(TableName=table, Item=item)
        ddb.get_item(TableName=table, Key={"orderId": item["orderId"]}, ConsistentRead=True)
        ddb.get_item(TableName=table, Key={"orderId": item["orderId"]})
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            ddb.put_item(
                TableName=table, Item=item, ConditionExpression="attribute_not_exists(orderId)"
            )
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": {**item, "n": {"N": "1"}}}}]
        )
    finally:
        usage = meter.stop()
    assert usage.write_units[table] == 3 + 3 + 2 * 3
    assert usage.read_units[table] == 1 + 0.5
