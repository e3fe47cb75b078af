"""Deploying from template.yaml catches wiring mistakes locally, as a deploy to AWS would."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcloud.deploy import Deployment, Resolver
from localcloud.runtime import HandlerError
from localcloud.template import TemplateError, load_template
from order_saga_tools.demo import post_order
from order_saga_tools.saga import SagaCloud, SagaDeadlineError
from order_saga_tools.seeding import seed

ROOT = Path(__file__).resolve().parents[2]
CLOCK_SCALE = 0.001
CUSTOMER = "CUST-ALICE"
SKU = "SKU-APPLE"
PARTICIPANTS = ("InventoryWorkerFunction", "PaymentWorkerFunction", "OrderWorkerFunction")
JWT_RULE = ("rule JwtNeedsIssuerAndAudience:"
            " ApiAuthorizationType JWT needs both JwtIssuer and JwtAudience.")
ISSUER = "https://issuer.example.com/"

Template = dict[str, Any]


def properties(template: Template, logical_id: str) -> dict[str, Any]:
    """A resource's Properties, to change in place."""
    found: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return found


def substitutions(template: Template) -> dict[str, Any]:
    found: dict[str, Any] = properties(template, "OrderSagaStateMachine")["DefinitionSubstitutions"]
    return found


def project_copy(tmp_path: Path, breaks: Callable[[Template], None]) -> Path:
    """template.yaml, statemachines/ and src/ under tmp_path, the template changed by `breaks`."""
    template = load_template(ROOT / "template.yaml")
    breaks(template)
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False))
    shutil.copytree(ROOT / "statemachines", tmp_path / "statemachines")
    (tmp_path / "src").symlink_to(ROOT / "src", target_is_directory=True)
    return tmp_path


def place_order(cloud: SagaCloud, key: str, order_id: str | None = None) -> str:
    body = json.dumps({"currency": "EUR",
                       "lines": [{"sku": SKU, "quantity": 1, "unitPrice": "1.25"}]})
    response = post_order(cloud, CUSTOMER, body, key, order_id)
    assert response["statusCode"] == 202, response
    return str(json.loads(response["body"])["orderId"])


def commands_left(cloud: SagaCloud, queue: str, order_id: str) -> set[str]:
    """Actions of the order's commands still in a queue (read once, then visible again)."""
    sqs = cloud.client("sqs")
    messages = sqs.receive_message(QueueUrl=cloud.ref(queue), MaxNumberOfMessages=10,
                                   VisibilityTimeout=0).get("Messages", [])
    bodies = [json.loads(message["Body"]) for message in messages]
    return {body["action"] for body in bodies if body.get("orderId") == order_id}


def queues_with_a_consumer(cloud: SagaCloud) -> set[str]:
    mappings = cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    return {mapping["EventSourceArn"].rsplit(":", 1)[-1] for mapping in mappings}


def unbroken(template: Template) -> None:
    """The control case: the template as the project has it."""


def inventory_queue_url_of_a_missing_queue(template: Template) -> None:
    substitutions(template)["InventoryQueueUrl"] = {
        "Fn::Sub": "https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/no-such-queue"}


def no_sqs_event_for_the_inventory_worker(template: Template) -> None:
    del properties(template, "InventoryWorkerFunction")["Events"]


@dataclass(frozen=True)
class Wiring:
    """A change to the template and how the order's saga ends with it."""

    breaks: Callable[[Template], None]
    status: str
    execution: str
    passes: tuple[str, ...]
    left_in_inventory_queue: frozenset[str]
    inventory_queue_consumed: bool


WIRINGS = [
    pytest.param(Wiring(
        unbroken, "CONFIRMED", "SUCCEEDED",
        ("Reserve inventory", "Charge payment", "Confirm order", "Order confirmed"),
        frozenset(), inventory_queue_consumed=True), id="unbroken template confirms the order"),
    pytest.param(Wiring(
        inventory_queue_url_of_a_missing_queue, "COMPENSATION_FAILED", "FAILED",
        ("Reserve inventory", "Release inventory", "Mark compensation failed"),
        frozenset(), inventory_queue_consumed=True), id="InventoryQueueUrl of a missing queue"),
    pytest.param(Wiring(
        no_sqs_event_for_the_inventory_worker, "COMPENSATION_FAILED", "FAILED",
        ("Reserve inventory", "Release inventory", "Mark compensation failed"),
        frozenset({"ReserveInventory", "ReleaseInventory"}), inventory_queue_consumed=False),
        id="no SQS event for the inventory worker"),
]


@pytest.mark.parametrize("wiring", WIRINGS)
def test_a_saga_deployed_from_the_template_ends_as_its_wiring_allows(
        tmp_path: Path, wiring: Wiring) -> None:
    with SagaCloud(project_copy(tmp_path, wiring.breaks), clock_scale=CLOCK_SCALE) as cloud:
        seed(cloud, {SKU: 10}, {CUSTOMER: 10_000}, "EUR")
        for function in PARTICIPANTS:
            cloud.container_of(function)  # cold starts now, not inside a scaled heartbeat

        order_id = place_order(cloud, key=f"wiring-{wiring.breaks.__name__}")
        saga = cloud.wait_for_saga(order_id, timeout=20)

        assert (saga.status, saga.execution_status) == (wiring.status, wiring.execution), saga
        assert set(wiring.passes) <= set(saga.path), saga.path
        consumed = cloud.attribute("InventoryQueue", "QueueName") in queues_with_a_consumer(cloud)
        assert consumed == wiring.inventory_queue_consumed
        assert commands_left(cloud, "InventoryQueue", order_id) == wiring.left_in_inventory_queue
        assert cloud.delivery_failures == []


def test_an_event_pattern_that_does_not_match_the_emitted_event_starts_no_saga(
        tmp_path: Path) -> None:
    def pattern_for_order_placed(template: Template) -> None:
        rule = properties(template, "OrderSagaStateMachine")["Events"]["OrderCreated"]
        rule["Properties"]["Pattern"]["detail-type"] = ["OrderPlaced"]

    with SagaCloud(project_copy(tmp_path, pattern_for_order_placed),
                    clock_scale=CLOCK_SCALE) as cloud:
        seed(cloud, {SKU: 10}, {CUSTOMER: 10_000}, "EUR")
        order_id = place_order(cloud, key="pattern-mismatch")

        # An unbroken saga ends in well under a second at this scale.
        with pytest.raises(SagaDeadlineError, match="still PENDING"):
            cloud.wait_for_saga(order_id, timeout=2)

        assert cloud.sagas() == []
        order = cloud.order(order_id)
        assert order is not None and order["status"] == "PENDING"
        assert cloud.delivery_failures == []


@pytest.mark.parametrize("key", sorted(substitutions(load_template(ROOT / "template.yaml"))))
def test_a_definition_substitution_left_out_stops_the_deploy_naming_it(
        tmp_path: Path, key: str) -> None:
    def leave_out(template: Template) -> None:
        del substitutions(template)[key]

    cloud = SagaCloud(project_copy(tmp_path, leave_out), clock_scale=CLOCK_SCALE)

    with pytest.raises(TemplateError, match=rf"OrderSagaStateMachine: .*\$\{{{key}\}}"):
        cloud.start()


@pytest.mark.parametrize("parameters", [
    # Empty values stated: the local cloud otherwise supplies its own issuer and audience.
    pytest.param({"ApiAuthorizationType": "JWT", "JwtIssuer": "", "JwtAudience": ""},
                 id="JWT alone"),
    pytest.param({"ApiAuthorizationType": "JWT", "JwtIssuer": ISSUER, "JwtAudience": ""},
                 id="JWT with no audience"),
    pytest.param({"ApiAuthorizationType": "JWT", "JwtIssuer": "", "JwtAudience": "orders"},
                 id="JWT with no issuer"),
])
def test_a_jwt_deploy_without_issuer_and_audience_stops_at_the_templates_rule(
        parameters: dict[str, str]) -> None:
    cloud = SagaCloud(ROOT, clock_scale=CLOCK_SCALE, parameters=parameters)

    with pytest.raises(TemplateError) as raised, cloud:  # a cloud that starts is stopped again
        pass

    assert str(raised.value) == JWT_RULE
    assert cloud.deployment.functions == {}


def test_a_jwt_deploy_with_issuer_and_audience_passes_the_rule() -> None:
    parameters = {"ApiAuthorizationType": "JWT", "JwtIssuer": ISSUER, "JwtAudience": "orders"}

    with SagaCloud(ROOT, clock_scale=CLOCK_SCALE, parameters=parameters) as cloud:
        assert {route.authorization for route in cloud.deployment.routes} == {"JWT"}


def test_a_rule_with_a_function_the_local_cloud_cannot_evaluate_is_refused_by_name() -> None:
    template = {"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}, "Rules": {
        "KnownStage": {"Assertions": [{"Assert": {"Fn::Contains": [["dev"], {"Ref": "Stage"}]}}]}}}
    resolver = Resolver(template, Deployment("order-saga-local", "us-east-1"), {})

    with pytest.raises(TemplateError, match="rule KnownStage uses Fn::Contains"):
        resolver.check_rules()


def test_a_handler_in_a_module_that_does_not_exist_fails_its_invocation_with_an_import_error(
        tmp_path: Path) -> None:
    def misspell_the_handler(template: Template) -> None:
        properties(template, "CreateOrderFunction")["Handler"] = (
            "order_saga.entrypoints.create_orders.lambda_handler")

    with SagaCloud(project_copy(tmp_path, misspell_the_handler),
                    clock_scale=CLOCK_SCALE) as cloud:
        order_id = str(uuid.uuid4())
        with pytest.raises(HandlerError) as raised:
            place_order(cloud, "missing-module", order_id)

        assert raised.value.error_type == "Runtime.ImportModuleError"
        assert "order_saga.entrypoints.create_orders" in raised.value.error_message
        assert cloud.order(order_id) is None
        assert cloud.sagas() == []
