"""Each change moto_adaptations.py makes to moto, at work: a moto upgrade that breaks one fails."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.utils import boto_client, json_path

from localcloud import moto_adaptations
from order_saga.domain.events import SOURCE
from order_saga_tools.demo import http_event, post_order
from order_saga_tools.faults import swallow, wrap_port
from order_saga_tools.identity import caller_context
from order_saga_tools.saga import SagaCloud
from order_saga_tools.seeding import seed

ROOT = Path(__file__).resolve().parents[2]
# Tests run in file order: those on the fast clock, then one that starts clouds of its own,
# then those on the slow clock, so that each shared cloud starts once.
FAST = 0.001  # a visibility timeout of 180 s becomes 0.18 s
# At 0.005 the saga's HeartbeatSeconds (960) and TimeoutSeconds (1200) scale to 4.8 s and 6 s,
# far enough apart to tell which one fired; at 0.001 both stop at the one-second floor.
SLOW = 0.005
RESERVE = json.loads((ROOT / "statemachines" / "order_saga.asl.json").read_text())["States"][
    "Reserve inventory"
]
HEARTBEAT_SECONDS = RESERVE["HeartbeatSeconds"]
TIMEOUT_SECONDS = RESERVE["TimeoutSeconds"]
CUSTOMER = "CUST-ALICE"
SKU = "SKU-APPLE"
FUNCTIONS = ("CreateOrderFunction", "GetOrderFunction", "InventoryWorkerFunction",
             "PaymentWorkerFunction", "OrderWorkerFunction")


class OneCloudAtATime:
    """Module-wide clouds, one per clock scale, never two at once (moto's state is global)."""

    def __init__(self) -> None:
        self.current: SagaCloud | None = None

    def at(self, clock_scale: float) -> SagaCloud:
        if self.current is None or self.current.clock_scale != clock_scale:
            self.close()
            self.current = SagaCloud(ROOT, clock_scale=clock_scale).start()
            seed(self.current, {SKU: 10_000}, {CUSTOMER: 10_000_000}, "EUR")
            for function in FUNCTIONS:
                self.current.container_of(function)  # cold starts now, not inside a heartbeat
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None


@pytest.fixture(scope="module")
def clouds() -> Iterator[OneCloudAtATime]:
    holder = OneCloudAtATime()
    yield holder
    holder.close()


@pytest.fixture
def cloud(clouds: OneCloudAtATime) -> SagaCloud:
    return clouds.at(FAST)


@pytest.fixture
def slow_cloud(clouds: OneCloudAtATime) -> SagaCloud:
    return clouds.at(SLOW)


# ---------------------------------------- helpers
def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """The first truthy result of `check`; an AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"after {timeout} s: {what}")


def place_order(cloud: SagaCloud, key: str | None = None, order_id: str | None = None) -> str:
    body = json.dumps({"currency": "EUR",
                       "lines": [{"sku": SKU, "quantity": 1, "unitPrice": "1.25"}]})
    response = post_order(cloud, CUSTOMER, body, key, order_id)
    assert response["statusCode"] == 202, response
    return str(json.loads(response["body"])["orderId"])


def invocations(cloud: SagaCloud, function: str) -> int:
    assert cloud.runtime is not None
    return cloud.runtime.invocations.get(function, 0)


def queue_depth(cloud: SagaCloud, queue: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue named by logical id."""
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.ref(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


def take_messages(cloud: SagaCloud, queue: str, wanted: int = 1) -> list[dict[str, Any]]:
    """Receive and delete `wanted` messages from a queue with no consumer."""
    sqs = cloud.client("sqs")
    taken: list[dict[str, Any]] = []

    def receive() -> bool:
        answer = sqs.receive_message(QueueUrl=cloud.ref(queue), MaxNumberOfMessages=10,
                                     AttributeNames=["ApproximateReceiveCount"])
        for message in answer.get("Messages", []):
            sqs.delete_message(QueueUrl=cloud.ref(queue), ReceiptHandle=message["ReceiptHandle"])
            taken.append(message)
        return len(taken) >= wanted

    eventually(receive, 10, f"{queue} did not receive {wanted} message(s)")
    return taken


def drain(cloud: SagaCloud, queue: str) -> None:
    take_messages(cloud, queue, wanted=0)


def history(cloud: SagaCloud, execution_arn: str) -> list[dict[str, Any]]:
    return list(cloud.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, maxResults=1000)["events"])


def task_events(events: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    """The events of the first visit to `state`, from its entry to its exit."""
    inside, found = False, []
    for event in events:
        if event.get("stateEnteredEventDetails", {}).get("name") == state and not found:
            inside = True
        if inside:
            found.append(event)
            if event.get("stateExitedEventDetails", {}).get("name") == state:
                break
    return found


def failures(events: list[dict[str, Any]]) -> list[str]:
    """The error of every failed or timed-out task attempt, in order."""
    return [str((e.get("taskFailedEventDetails") or e.get("taskTimedOutEventDetails"))["error"])
            for e in events if e["type"] in ("TaskFailed", "TaskTimedOut")]


def state_machine(cloud: SagaCloud, definition: dict[str, Any]) -> str:
    """A state machine created beside the saga, with the saga's role."""
    sfn = cloud.client("stepfunctions")
    role = sfn.describe_state_machine(stateMachineArn=cloud.ref("OrderSagaStateMachine"))["roleArn"]
    return str(sfn.create_state_machine(name=f"machine-{uuid.uuid4().hex[:12]}",
                                        definition=json.dumps(definition),
                                        roleArn=role)["stateMachineArn"])


def one_task_machine(cloud: SagaCloud, task: dict[str, Any]) -> str:
    return state_machine(cloud, {"StartAt": "Task",
                                 "States": {"Task": {**task, "Type": "Task", "End": True}}})


def start(cloud: SagaCloud, machine: str, given: dict[str, Any] | None = None) -> str:
    return str(cloud.client("stepfunctions").start_execution(
        stateMachineArn=machine, name=str(uuid.uuid4()),
        input=json.dumps(given or {}))["executionArn"])


def ended(cloud: SagaCloud, execution_arn: str, timeout: float) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    return dict(eventually(
        lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING"
        and d, timeout, f"execution {execution_arn} did not end"))


def seconds_between(first: dict[str, Any], last: dict[str, Any]) -> float:
    stamps: list[datetime] = [first["timestamp"], last["timestamp"]]
    return (stamps[1] - stamps[0]).total_seconds()


def counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The definitions moto's ASL parser parses from now on, in order."""
    parses: list[str] = []
    real_parse = asl_parser.AmazonStateLanguageParser.parse

    def counted(definition: str) -> Any:
        parses.append(definition)
        return real_parse(definition)

    monkeypatch.setattr(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(counted))
    return parses


# ---------------------------------------- 1. Lambda runs the real handlers
def test_a_boto3_invoke_of_a_deployed_function_reaches_its_real_handler(cloud: SagaCloud) -> None:
    order_id = str(uuid.uuid4())
    event = http_event("GET", f"/orders/{order_id}", path_parameters={"orderId": order_id},
                       authorizer=caller_context(CUSTOMER))
    before = invocations(cloud, "GetOrderFunction")

    response = cloud.client("lambda").invoke(FunctionName=cloud.ref("GetOrderFunction"),
                                             Payload=json.dumps(event).encode())

    assert "FunctionError" not in response
    answer = json.loads(response["Payload"].read())
    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"]) == {"message": "order not found"}
    assert invocations(cloud, "GetOrderFunction") == before + 1


# ---------------------------------------- 2. EventBridge starts executions
def test_an_order_created_event_put_on_the_bus_starts_a_saga_execution(cloud: SagaCloud) -> None:
    order_id = str(uuid.uuid4())
    detail = {"orderId": order_id, "customerId": CUSTOMER,
              "lines": [{"sku": SKU, "quantity": 1, "unitPrice": 125}],
              "total": {"amount": 125, "currency": "EUR"}, "createdAt": "2025-01-15T10:00:00.000Z"}
    sfn = cloud.client("stepfunctions")

    answer = cloud.client("events").put_events(Entries=[{
        "EventBusName": cloud.ref("OrdersEventBus"), "Source": SOURCE,
        "DetailType": "OrderCreated", "Detail": json.dumps(detail)}])

    assert answer["FailedEntryCount"] == 0
    mine = eventually(
        lambda: [d for d in (sfn.describe_execution(executionArn=e["executionArn"])
                             for e in cloud.sagas())
                 if json.loads(d["input"])["detail"]["orderId"] == order_id],
        10, "no execution started for the OrderCreated event")
    assert len(mine) == 1
    started_with = json.loads(mine[0]["input"])
    assert (started_with["source"], started_with["detail-type"]) == (SOURCE, "OrderCreated")
    assert started_with["detail"] == detail
    ended(cloud, mine[0]["executionArn"], timeout=10)
    assert cloud.delivery_failures == []


# ---------------------------------------- 3. Lambda polls SQS itself
def test_send_message_leaves_the_command_in_the_queue_until_the_poller_takes_it(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    poller = cloud.poller_for("InventoryWorkerFunction")
    # The fast clock hides a received message for 0.18 s, which a slow machine can outlast
    # and so receive it twice, as SQS would; here it must be received exactly once.
    monkeypatch.setattr(poller, "visibility", 30.0)
    before = invocations(cloud, "InventoryWorkerFunction")
    # A release for an order that holds nothing, on a token no saga waits for: simply consumed.
    command = {"action": "ReleaseInventory", "orderId": str(uuid.uuid4()),
               "taskToken": "no-saga-waits-for-this-token"}
    poller.paused.set()
    try:
        cloud.client("sqs").send_message(QueueUrl=cloud.ref("InventoryQueue"),
                                         MessageBody=json.dumps(command))

        assert queue_depth(cloud, "InventoryQueue") == (1, 0)
        assert invocations(cloud, "InventoryWorkerFunction") == before
    finally:
        poller.paused.clear()

    eventually(lambda: queue_depth(cloud, "InventoryQueue") == (0, 0), 10,
               "the poller did not consume the command once unpaused")
    assert invocations(cloud, "InventoryWorkerFunction") == before + 1
    assert queue_depth(cloud, "InventoryDeadLetterQueue") == (0, 0)


def test_a_message_whose_handler_fails_is_received_five_times_then_moved_to_the_dead_letter_queue(
        cloud: SagaCloud) -> None:
    before = invocations(cloud, "InventoryWorkerFunction")
    executions_before = len(cloud.sagas())
    poison = json.dumps({"action": "FeedTheCat", "orderId": str(uuid.uuid4())})

    cloud.client("sqs").send_message(QueueUrl=cloud.ref("InventoryQueue"), MessageBody=poison)

    dead = take_messages(cloud, "InventoryDeadLetterQueue")
    assert [message["Body"] for message in dead] == [poison]
    # maxReceiveCount (5) receives by the poller, then the one that took it from the DLQ.
    assert dead[0]["Attributes"]["ApproximateReceiveCount"] == "6"
    assert invocations(cloud, "InventoryWorkerFunction") == before + 5
    assert queue_depth(cloud, "InventoryQueue") == (0, 0)
    for queue in ("PaymentDeadLetterQueue", "OrderDeadLetterQueue", "SagaFailuresQueue"):
        assert queue_depth(cloud, queue) == (0, 0), queue
    assert len(cloud.sagas()) == executions_before
    assert cloud.delivery_failures == []


def test_a_clouds_executions_end_with_it_and_never_act_in_the_next_cloud(
        clouds: OneCloudAtATime) -> None:
    # Both clouds deploy the same template, so their tables bear the same name: an execution
    # left running by the first would write its item into the second's table.
    clouds.close()
    with SagaCloud(ROOT, clock_scale=FAST) as first:
        execution = start(first, state_machine(first, {"StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Write"},
            "Write": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
                      "Parameters": {"TableName": first.ref("OrdersTable"),
                                     "Item": {"orderId": {"S": "written-after-its-cloud"}}}}}}))
        running = first.client("stepfunctions").describe_execution(executionArn=execution)
        assert running["status"] == "RUNNING"

    with SagaCloud(ROOT, clock_scale=FAST) as second:
        time.sleep(2)  # Wait is not scaled: the first cloud's Write would have run by now
        assert second.item("OrdersTable", {"orderId": "written-after-its-cloud"}) is None


# ---------------------------------------- 4. the scaled clock: a floor under scaled timeouts
def test_a_task_answered_a_fifth_of_a_real_second_after_it_started_does_not_time_out(
        cloud: SagaCloud) -> None:
    # TimeoutSeconds 10 is what Claim order and Publish OrderConfirmed have: 10 ms at 0.001,
    # less than the emulator itself may need, unless scaled timeouts have a floor.
    machine = one_task_machine(cloud, {
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": cloud.ref("SagaFailuresQueue"),
                       "MessageBody": {"taskToken.$": "$$.Task.Token"}},
        "TimeoutSeconds": 10,
    })
    started = time.monotonic()
    execution = start(cloud, machine)
    token = json.loads(take_messages(cloud, "SagaFailuresQueue")[0]["Body"])["taskToken"]
    time.sleep(max(0.0, started + 0.2 - time.monotonic()))

    cloud.client("stepfunctions").send_task_success(taskToken=token, output="{}")

    described = ended(cloud, execution, timeout=10)
    assert described["status"] == "SUCCEEDED", failures(history(cloud, execution))



def test_a_task_that_only_makes_a_call_times_out_on_the_real_clock(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    # Claim order makes one DynamoDB call with TimeoutSeconds 10; scaled, that was the floor of
    # one second, which a first call on a loaded machine can pass. Here the call takes 1.5 s.
    machine = one_task_machine(cloud, {
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {"TableName": cloud.ref("OrdersTable"),
                       "Key": {"orderId": {"S": "no-such-order"}}},
        "TimeoutSeconds": 10,
    })
    real_get_item = DynamoDBBackend.get_item

    def slow_get_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        time.sleep(1.5)
        return real_get_item(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "get_item", slow_get_item)
    execution = start(cloud, machine)

    described = ended(cloud, execution, timeout=15)
    assert described["status"] == "SUCCEEDED", failures(history(cloud, execution))

# ---------------------------------------- 5. parsed once, clients reused
def test_the_definition_and_its_json_paths_are_parsed_once_not_once_per_execution(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = counted_parses(monkeypatch)

    first = cloud.wait_for_saga(place_order(cloud), timeout=15)
    after_first = (len(parses), json_path.parse.cache_info().misses,
                   *moto_adaptations.result_path_parse.cache_info()[1::-1])
    second = cloud.wait_for_saga(place_order(cloud), timeout=15)

    assert (first.status, second.status) == ("CONFIRMED", "CONFIRMED")
    assert after_first[0] <= 1, "one parse at most, if no earlier execution had parsed it"
    assert len(parses) == after_first[0], "the second execution parsed the definition again"
    assert json_path.parse.cache_info().misses == after_first[1], "a JSONPath was parsed again"
    assert moto_adaptations.result_path_parse.cache_info().misses == after_first[2], \
        "a ResultPath was parsed again"
    assert moto_adaptations.result_path_parse.cache_info().hits > after_first[3]


def test_the_interpreter_reuses_its_boto3_clients_across_executions(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real_boto3 = boto_client.boto3

    class CountingBoto3:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_boto3, name)

        def client(self, *args: Any, **kwargs: Any) -> Any:
            built.append(str(kwargs.get("service_name")))
            return real_boto3.client(*args, **kwargs)

    monkeypatch.setattr(boto_client, "boto3", CountingBoto3())

    first = cloud.wait_for_saga(place_order(cloud), timeout=15)
    after_first = list(built)
    second = cloud.wait_for_saga(place_order(cloud), timeout=15)

    assert (first.status, second.status) == ("CONFIRMED", "CONFIRMED")
    assert len(after_first) == len(set(after_first)), f"one client per service: {after_first}"
    assert built == after_first, f"the second execution built clients again: {built}"


# ---------------------------------------- 6. DynamoDB writes are atomic
def in_a_transaction(hook: Callable[[DynamoDBBackend, str], None]) -> Callable[..., Any]:
    """A DynamoDBBackend.get_item that runs `hook` once, on this thread: the next transaction
    reads its items with get_item after taking the lock and its backup."""
    real_get_item = DynamoDBBackend.get_item
    thread, pending = threading.get_ident(), [hook]

    def get_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        if pending and threading.get_ident() == thread:
            pending.pop()(self, table_name)
        return real_get_item(self, table_name, *args, **kwargs)

    return get_item


def item(cloud: SagaCloud, table: str, pk: str) -> dict[str, Any] | None:
    found = cloud.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
    return None if found is None else dict(found)


def test_a_dynamodb_write_waits_while_another_threads_transaction_is_under_way(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    table = cloud.ref("InventoryTable")
    meanwhile, written, got_in = f"meanwhile-{uuid.uuid4()}", threading.Event(), []

    def write() -> None:
        boto3.client("dynamodb", region_name=cloud.region).put_item(
            TableName=table, Item={"pk": {"S": meanwhile}})
        written.set()

    writer = threading.Thread(target=write)

    def let_a_writer_try(_backend: DynamoDBBackend, _table: str) -> None:
        writer.start()
        got_in.append(written.wait(0.3))

    monkeypatch.setattr(DynamoDBBackend, "get_item", in_a_transaction(let_a_writer_try))

    cloud.client("dynamodb").transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": f"transacted-{uuid.uuid4()}"}}}}])

    writer.join(timeout=5)
    assert got_in == [False], "the writer must wait until the transaction has ended"
    assert written.is_set() and item(cloud, table, meanwhile) is not None


def test_a_read_never_sees_an_update_half_applied(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor

    table, pk = cloud.ref("InventoryTable"), f"half-{uuid.uuid4()}"
    seen: list[Any] = []

    def read() -> None:
        reader = boto3.client("dynamodb", region_name=cloud.region)
        seen.append(reader.get_item(TableName=table, Key={"pk": {"S": pk}},
                                    ConsistentRead=True).get("Item"))

    readers = [threading.Thread(target=read)]
    real_execute = UpdateExpressionExecutor.execute

    def read_meanwhile(self: Any, node: Any = None) -> None:  # moto stored the bare key
        if not readers[0].is_alive() and not seen:
            readers[0].start()
            readers[0].join(0.3)
        real_execute(self, node)

    monkeypatch.setattr(UpdateExpressionExecutor, "execute", read_meanwhile)
    cloud.client("dynamodb").update_item(TableName=table, Key={"pk": {"S": pk}},
                                         UpdateExpression="ADD n :one",
                                         ExpressionAttributeValues={":one": {"N": "1"}})
    readers[0].join(timeout=5)

    assert seen == [{"pk": {"S": pk}, "n": {"N": "1"}}]


def test_a_cancelled_transaction_restores_only_the_items_it_touched(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    table = cloud.ref("InventoryTable")
    meanwhile, transacted = f"meanwhile-{uuid.uuid4()}", f"transacted-{uuid.uuid4()}"
    wrote: list[str] = []

    def write_another_item(backend: DynamoDBBackend, table_name: str) -> None:
        backend.put_item(table_name, {"pk": {"S": meanwhile}})
        wrote.append(meanwhile)

    monkeypatch.setattr(DynamoDBBackend, "get_item", in_a_transaction(write_another_item))

    with pytest.raises(ClientError, match="TransactionCanceled"):
        cloud.client("dynamodb").transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": transacted}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": f"absent-{uuid.uuid4()}"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])

    assert wrote == [meanwhile], "another item was written while the transaction was under way"
    assert item(cloud, table, transacted) is None, "the cancelled transaction's put stayed"
    assert item(cloud, table, meanwhile) is not None, "the restore erased another item's write"


# ---------------------------------------- 7. execution ends are announced
def test_the_end_of_every_execution_is_announced(cloud: SagaCloud) -> None:
    before = moto_adaptations.executions_ended()

    saga = cloud.wait_for_saga(place_order(cloud), timeout=15)

    assert saga.status == "CONFIRMED"
    assert moto_adaptations.executions_ended() > before


# ---------------------------------------- 8. requests are not signed
def test_requests_to_the_emulator_from_every_session_are_sent_unsigned(cloud: SagaCloud) -> None:
    client = boto3.client("dynamodb", region_name=cloud.region)
    sent: list[dict[str, str]] = []
    client.meta.events.register("before-send",
                                lambda request, **_: sent.append(dict(request.headers)))

    own_session = boto3.session.Session().client("dynamodb", region_name=cloud.region)
    own_session.meta.events.register("before-send",
                                     lambda request, **_: sent.append(dict(request.headers)))

    client.list_tables()
    own_session.list_tables()

    assert len(sent) == 2
    assert all("Authorization" not in headers for headers in sent), sent


# ---------------------------------------- 11. computed once: update expressions, attribute names
def test_an_update_expression_is_parsed_once_and_each_update_still_applies(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.parsing import expressions

    parses: list[str] = []
    real_make = moto_adaptations._original_update_make

    def counted(cls: type, expression: str) -> Any:
        parses.append(expression)
        return real_make(cls, expression)

    monkeypatch.setattr(moto_adaptations, "_original_update_make", counted)
    moto_adaptations._parsed_update_expression.cache_clear()
    table, pk = cloud.ref("InventoryTable"), f"count-{uuid.uuid4()}"
    ddb = cloud.client("dynamodb")
    for _ in range(3):
        ddb.update_item(TableName=table, Key={"pk": {"S": pk}},
                        UpdateExpression="ADD #n :one",
                        ExpressionAttributeNames={"#n": "n"},
                        ExpressionAttributeValues={":one": {"N": "1"}})

    assert expressions.UpdateExpressionParser.make("ADD #n :one") is not None
    assert parses == ["ADD #n :one"], f"parsed more than once: {parses}"
    assert item(cloud, table, pk) == {"pk": {"S": pk}, "n": {"N": "3"}}
    with pytest.raises(ClientError, match="Invalid UpdateExpression"):
        ddb.update_item(TableName=table, Key={"pk": {"S": pk}}, UpdateExpression="SET",
                        ExpressionAttributeValues={":one": {"N": "1"}})


def test_sqs_and_the_dispatcher_derive_attribute_names_through_the_cache(
        cloud: SagaCloud) -> None:
    import moto.core.responses
    import moto.sqs.models

    queue = cloud.client("sqs").get_queue_url(QueueName="order-saga-local-inventory-dlq")
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=queue["QueueUrl"], AttributeNames=["All"])["Attributes"]

    for module in (moto.core.responses, moto.sqs.models):
        assert module.camelcase_to_underscores is moto_adaptations.camel_to_snake
    assert moto_adaptations.camel_to_snake.cache_info().hits > 0
    assert attributes["QueueArn"].endswith(":order-saga-local-inventory-dlq")


# ---------------------------------------- 12. requests routed by the URLs already seen
def test_a_request_routed_from_the_known_urls_gets_the_answer_moto_routes_it_to(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.endpoint import Endpoint
    from moto.core.botocore_stubber import BotocoreStubber

    ddb = cloud.client("dynamodb")
    routed = ddb.describe_table(TableName=cloud.ref("OrdersTable"))["Table"]
    url = ddb.meta.endpoint_url.rstrip("/") + "/"
    resolved: list[str] = []
    real_route = moto_adaptations._route
    monkeypatch.setattr(moto_adaptations, "_route",
                        lambda clean: resolved.append(clean) or real_route(clean))
    ddb.describe_table(TableName=cloud.ref("OrdersTable"))
    monkeypatch.setattr(BotocoreStubber, "process_request",
                        moto_adaptations._original_process_request)
    monkeypatch.setattr(Endpoint, "_send_request", moto_adaptations._original_send_request)
    by_moto = ddb.describe_table(TableName=cloud.ref("OrdersTable"))["Table"]

    assert url in moto_adaptations.routes_known()
    assert resolved == [], f"a known URL was resolved again: {resolved}"
    assert routed == by_moto


def printed_by(probe: str) -> list[str]:
    """The words a fresh Python process prints running `probe` (what it imported is its own)."""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split()


# ---------------------------------------- 13. moto's Batch package initialised when first used
def test_the_interpreter_imports_without_moto_batch_and_batch_still_loads_when_used() -> None:
    probe = (
        "import sys\n"
        "from localcloud import moto_adaptations\n"
        "early = sorted(m for m in ('moto.batch.models', 'moto.ec2') if m in sys.modules)\n"
        "from moto.batch import batch_backends\n"
        "print(early, type(batch_backends).__name__)\n"
    )
    assert printed_by(probe) == ["[]", "BackendDict"]


def test_a_batch_call_reaches_moto_batch_through_the_deferred_package(cloud: SagaCloud) -> None:
    assert cloud.client("batch").describe_job_queues()["jobQueues"] == []


# ---------------------------------------- 14. one botocore loader for every session
def test_every_boto3_session_reads_botocore_data_through_one_loader(cloud: SagaCloud) -> None:
    first, second = boto3.session.Session(), boto3.session.Session()

    loaders = [s._session.get_component("data_loader") for s in (first, second)]

    assert loaders[0] is loaders[1]
    assert first.client("dynamodb").list_tables()["TableNames"]


# ---------------------------------------- 15. CreateStateMachine's parse is the execution's
def test_a_new_definition_is_parsed_once_for_its_creation_and_its_executions(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = counted_parses(monkeypatch)
    machine = state_machine(cloud, {"StartAt": "Pass", "Comment": str(uuid.uuid4()),
                                    "States": {"Pass": {"Type": "Pass", "End": True}}})

    runs = [ended(cloud, start(cloud, machine), timeout=10)["status"] for _ in range(2)]

    assert runs == ["SUCCEEDED", "SUCCEEDED"]
    assert len(parses) == 1, f"parsed {len(parses)} times"


def test_a_definition_parsed_by_an_earlier_cloud_is_read_from_the_cache_folder_and_runs(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    definition = {"StartAt": "Pass", "Comment": str(uuid.uuid4()),
                  "States": {"Pass": {"Type": "Pass", "Result": {"kept": True}, "End": True}}}
    monkeypatch.setattr(moto_adaptations.state, "cache_dir", tmp_path)
    state_machine(cloud, definition)
    moto_adaptations._programs.clear()  # as in the next process
    parses = counted_parses(monkeypatch)

    described = ended(cloud, start(cloud, state_machine(cloud, definition)), timeout=10)

    assert parses == []
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"kept": True})
    assert len(list(tmp_path.glob("asl-*.pickle"))) == 1


def test_an_invalid_definition_is_still_refused_at_creation(cloud: SagaCloud) -> None:
    with pytest.raises(ClientError, match="ASLParserException"):
        state_machine(cloud, {"StartAt": "Nowhere", "States": {"Pass": {"Typo": "Pass"}}})


# ---------------------------------------- 16. moto's SSM without EC2 until EC2 is used
def test_ssm_imports_without_ec2_and_a_command_to_instances_still_reaches_ec2() -> None:
    probe = (
        "import sys\n"
        "from localcloud import moto_adaptations\n"
        "import moto.ssm.models\n"
        "early = 'moto.ec2.models' in sys.modules\n"
        "from moto import mock_aws\n"
        "import boto3\n"
        "with mock_aws():\n"
        "    ssm = boto3.client('ssm', region_name='us-east-1')\n"
        "    command = ssm.send_command(DocumentName='AWS-RunShellScript',\n"
        "        Targets=[{'Key': 'tag:role', 'Values': ['web']}],\n"
        "        Parameters={'commands': ['true']})['Command']\n"
        "late = 'moto.ec2.models' in sys.modules\n"
        "print(early, late, command['TargetCount'],\n"
        "      type(moto.ssm.models.ec2_backends).__name__)\n"
    )
    # The command's targets are looked up among EC2's instances: EC2 loaded, none matched.
    assert printed_by(probe) == ["False", "True", "0", "_EC2BackendsWhenFirstUsed"]


def test_an_ssm_parameter_reads_back_through_the_cloud(cloud: SagaCloud) -> None:
    name = f"/order-saga/test/{uuid.uuid4()}"
    ssm = cloud.client("ssm")
    ssm.put_parameter(Name=name, Value="kept", Type="String")

    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "kept"


# ---------------------------------------- 17. the interpreter copies JSON as JSON
def test_a_json_copy_is_equal_and_independent_and_other_values_are_deep_copied() -> None:
    shared = {"sku": "SKU-1"}
    document = {"lines": [shared, shared], "total": 2.5, "paid": False, "note": None, "n": 3}
    when = datetime(2026, 1, 1)
    odd = {"at": when, "pair": (1, [2])}

    copied, other = moto_adaptations.json_copy(document), moto_adaptations.json_copy(odd)
    copied["lines"][0]["sku"] = "changed"

    assert document == {"lines": [{"sku": "SKU-1"}] * 2, "total": 2.5, "paid": False,
                        "note": None, "n": 3}
    assert copied["lines"][1] == {"sku": "SKU-1"}
    assert other == odd and other["pair"][1] is not odd["pair"][1]


def test_the_interpreters_modules_copy_through_the_json_copy(cloud: SagaCloud) -> None:
    import importlib

    for name in moto_adaptations.JSON_COPY_USERS:
        assert importlib.import_module(name).copy.deepcopy is moto_adaptations.json_copy, name
    machine = state_machine(cloud, {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "Parameters": {"kept.$": "$.order", "copy.$": "$.order.lines"},
                  "ResultPath": "$.shaped", "Next": "Done"},
        "Done": {"Type": "Pass", "OutputPath": "$.shaped", "End": True}}})
    order = {"lines": [{"sku": "SKU-1", "quantity": 2}], "total": "2.50"}

    described = ended(cloud, start(cloud, machine, {"order": order}), timeout=10)

    assert json.loads(described["output"]) == {"kept": order, "copy": order["lines"]}


# ---------------------------------------- 18, 19. DynamoDB's expressions, walked and lexed faster
def test_updates_and_conditions_apply_as_moto_applies_them(cloud: SagaCloud) -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    assert DepthFirstTraverser.traverse is moto_adaptations._traverse_with_one_map
    table, pk = cloud.ref("InventoryTable"), f"expr-{uuid.uuid4()}"
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "n": {"N": "5"}, "gone": {"S": "x"},
                                        "tags": {"L": [{"S": "a"}]}})
    for value in ("1", "2"):  # one expression text, two values: each request's own values apply
        ddb.update_item(
            TableName=table, Key={"pk": {"S": pk}},
            UpdateExpression="SET #t = list_append(#t, :tag), seen = if_not_exists(seen, :v) "
                             "ADD n :v REMOVE gone",
            ConditionExpression="attribute_exists(pk) AND n >= :floor",
            ExpressionAttributeNames={"#t": "tags"},
            ExpressionAttributeValues={":tag": {"L": [{"S": value}]}, ":v": {"N": value},
                                       ":floor": {"N": "5"}})

    assert item(cloud, table, pk) == {"pk": {"S": pk}, "n": {"N": "8"}, "seen": {"N": "1"},
                                      "tags": {"L": [{"S": "a"}, {"S": "1"}, {"S": "2"}]}}
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.update_item(TableName=table, Key={"pk": {"S": pk}}, UpdateExpression="ADD n :v",
                        ConditionExpression="attribute_exists(pk) AND n >= :floor",
                        ExpressionAttributeValues={":v": {"N": "1"}, ":floor": {"N": "9"}})
    with pytest.raises(ClientError, match="Two document paths overlap"):
        ddb.update_item(TableName=table, Key={"pk": {"S": pk}},
                        UpdateExpression="SET n = :v, n = :v",
                        ExpressionAttributeValues={":v": {"N": "1"}})
    with pytest.raises(ClientError, match="ADD"):
        ddb.update_item(TableName=table, Key={"pk": {"S": pk}},
                        UpdateExpression="ADD n :v ADD m :v",
                        ExpressionAttributeValues={":v": {"N": "1"}})


# An update expression, its names and values, and the item it updates: valid ones, and one
# for each check moto's validators make.
VALIDATED = {
    "every action": ("SET #a.b[1] = if_not_exists(#c, :d) + :e, l = list_append(l, :l) "
                     "ADD n :one REMOVE gone[2], gone[0] DELETE tags :t",
                     {"#a": "a", "#c": "c"}),
    "idempotency record": ("SET #r = :r, #e = :e, #s = :s", {"#r": "data", "#e": "expiration",
                                                             "#s": "status"}),
    "overlapping paths": ("SET n = :one, n = :one", {}),
    "overlapping names": ("SET #a = :one, #b = :one", {"#a": "n", "#b": "n"}),
    "two ADD clauses": ("ADD n :one ADD m :one", {}),
    "a missing path": ("SET #m.inner = :one", {"#m": "missing"}),
    "the key": ("SET pk = :s", {}),
    "an empty index key": ("SET gk = :empty", {}),
    "a type mismatch": ("SET n = n + :s", {}),
    "an unknown value": ("SET n = :nowhere", {}),
}


VALUES = {":one": {"N": "1"}, ":d": {"N": "2"}, ":e": {"N": "3"}, ":s": {"S": "text"},
          ":l": {"L": [{"S": "x"}]}, ":t": {"SS": ["red"]}, ":r": {"S": "{}"},
          ":empty": {"S": ""}}


def validated_table(key: str = "pk") -> Any:
    from moto.dynamodb.models.table import Table

    return Table("validated", account_id="123456789012", region="us-east-1",
                 schema=[{"AttributeName": key, "KeyType": "HASH"}],
                 attr=[{"AttributeName": key, "AttributeType": "S"},
                       {"AttributeName": "gk", "AttributeType": "S"}],
                 global_indexes=[{"IndexName": "byGk", "Projection": {"ProjectionType": "ALL"},
                                  "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}]}])


def validation(expression: str, names: dict[str, str], table: Any) -> Any:
    """What moto's validator makes of an update expression on an item: the tree, or the error."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    attributes = {"pk": {"S": "k"}, "n": {"N": "5"}, "c": {"N": "7"}, "l": {"L": []},
                  "a": {"M": {"b": {"L": [{"N": "0"}, {"N": "1"}]}}}, "status": {"S": "INPROGRESS"},
                  "gone": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]}, "tags": {"SS": ["red"]}}
    item = Item(DynamoType({"S": "k"}), None, attributes)
    try:
        return walked(UpdateExpressionValidator(
            UpdateExpressionParser.make(expression), expression_attribute_names=names,
            expression_attribute_values=VALUES, item=item, table=table).validate())
    except Exception as error:  # the refusal itself is what is compared
        return type(error).__name__, str(error)


@pytest.mark.parametrize("case", VALIDATED)
def test_an_update_expression_validates_to_the_tree_and_errors_moto_gives(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.parsing.ast_nodes import (
        DepthFirstTraverser,
        ExpressionAttributeName,
        ExpressionAttributeValue,
        Node,
    )
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    moto_adaptations.install()
    expression, names = VALIDATED[case]
    table = validated_table()

    def validated() -> Any:
        # what UpdateItem searches for to refuse names and values the expression leaves unused
        used = [(type(found).__name__, found.children) for found in UpdateExpressionParser.make(
            expression).find_clauses([ExpressionAttributeName, ExpressionAttributeValue])]
        return used, validation(expression, names, table)

    adapted = validated()
    assert DepthFirstTraverser.traverse is moto_adaptations._traverse_with_one_map
    assert Node.find_clauses is moto_adaptations._find_clauses
    monkeypatch.setattr(DepthFirstTraverser, "traverse", moto_adaptations._original_traverse)
    monkeypatch.setattr(Node, "find_clauses", moto_adaptations._original_find_clauses)
    monkeypatch.delattr(Node, "__deepcopy__")

    assert adapted == validated()


REFUSED_BY_STRUCTURE = {"overlapping paths", "overlapping names", "two ADD clauses", "the key"}


@pytest.mark.parametrize("case", VALIDATED)
def test_an_update_expressions_structure_is_checked_once_per_text_names_and_key(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    moto_adaptations.install()
    expression, names = VALIDATED[case]
    table = validated_table()
    monkeypatch.setattr(UpdateExpressionValidator, "validate", moto_adaptations._original_validate)
    by_moto = validation(expression, names, table)
    monkeypatch.undo()
    moto_adaptations._structures_passed.clear()
    structural: list[str] = []
    for kind in moto_adaptations._STRUCTURAL_VALIDATORS:
        original = kind.traverse
        monkeypatch.setattr(kind, "traverse", lambda self, node, original=original: (
            structural.append(type(self).__name__) or original(self, node)))

    runs = []
    for _ in range(3):
        structural.clear()
        assert validation(expression, names, table) == by_moto
        runs.append(list(structural))

    if case in REFUSED_BY_STRUCTURE:  # refused at every request, by the same checks
        assert runs[0] and runs == [runs[0]] * 3
    else:
        assert runs == [[kind.__name__ for kind in moto_adaptations._STRUCTURAL_VALIDATORS], [], []]


def test_the_same_update_text_is_checked_again_with_other_names_or_another_key() -> None:
    moto_adaptations.install()
    moto_adaptations._structures_passed.clear()
    apart, same = {"#a": "n", "#b": "m"}, {"#a": "n", "#b": "n"}

    assert not isinstance(validation("SET #a = :one, #b = :one", apart, validated_table())[0], str)
    refused = validation("SET #a = :one, #b = :one", same, validated_table())
    assert refused[0] == "DuplicateUpdateExpression"
    assert "path one: [n], path two: [n]" in refused[1]
    assert not isinstance(validation("SET n = :one", {}, validated_table("pk"))[0], str)
    assert validation("SET n = :one", {}, validated_table("n"))[0] == (
        "UpdateHashRangeKeyException")


def test_a_condition_is_lexed_once_per_text_into_the_tokens_moto_lexes() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    text = "attribute_not_exists(#pk) OR (#s IN (:a, :b) AND size(#l[0].x) <> :n)"
    moto_adaptations._condition_tokens.cache_clear()
    tokens = [ConditionExpressionParser(text, None, None)._lex_condition_expression()
              for _ in range(3)]
    by_moto = moto_adaptations._original_lex(ConditionExpressionParser(text, None, None))

    assert all(list(lexed) == list(by_moto) for lexed in tokens)
    assert moto_adaptations._condition_tokens.cache_info().misses == 1
    for _ in range(2):  # a text that does not lex is refused every time, as moto refuses it
        with pytest.raises(ValueError, match="Cannot parse condition starting at:! :v"):
            ConditionExpressionParser("pk ==! :v", None, None)._lex_condition_expression()


# ---------------------------------------- 27. a condition parsed once per names and values
def condition_tree(node: Any) -> Any:
    """A parsed condition as plain data: each node's class and attributes, all the way down."""
    if isinstance(node, list | tuple):
        return [condition_tree(child) for child in node]
    if isinstance(node, dict):
        return {key: condition_tree(value) for key, value in node.items()}
    if hasattr(node, "__dict__"):
        return type(node).__name__, condition_tree(vars(node))
    return node


# A condition expression, its names and its values: what the saga's handlers send, and one
# of each kind of node moto builds.
CONDITIONS = {
    "the idempotency layer's": (
        "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
        "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)",
        {"#id": "id", "#expiry": "expiration", "#status": "status",
         "#in_progress_expiry": "in_progress_expiration"},
        {":now": {"N": "1700000000"}, ":inprogress": {"S": "INPROGRESS"},
         ":now_in_millis": {"N": "1700000000000"}}),
    "a reservation's": ("available >= :q", None, {":q": {"N": "2"}}),
    "every kind of node": (
        "NOT (begins_with(#p.q[1], :s) AND size(l) BETWEEN :lo AND :hi) OR t IN (:s, :lo) "
        "OR contains(tags, :s) AND attribute_type(#p, :m) AND n <> :lo AND l = :l",
        {"#p": "p"},
        {":s": {"S": "x"}, ":lo": {"N": "1"}, ":hi": {"N": "9"}, ":m": {"S": "M"},
         ":l": {"L": [{"N": "1"}, {"N": "2"}]}}),
}


@pytest.mark.parametrize("case", CONDITIONS)
def test_a_condition_parses_once_per_names_and_values_to_the_tree_moto_parses(
        case: str) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_adaptations.install()
    assert ConditionExpressionParser.parse is moto_adaptations._parse_condition_once
    expression, names, values = CONDITIONS[case]
    items = [None, Item(DynamoType({"S": "k"}), None, {
        "id": {"S": "k"}, "expiration": {"N": "1"}, "status": {"S": "INPROGRESS"},
        "available": {"N": "3"}, "n": {"N": "2"}, "t": {"S": "x"}, "tags": {"SS": ["x"]},
        "l": {"L": [{"N": "1"}, {"N": "2"}]}, "p": {"M": {"q": {"L": [{"S": "a"}, {"S": "xy"}]}}}})]

    def parsed(parse: Callable[[Any], Any], given: Any) -> tuple[Any, ...]:
        parser = ConditionExpressionParser(expression, names, given)
        tree = parse(parser)
        return (condition_tree(tree), [tree.expr(item) for item in items],
                parser.expr_attr_names_found, parser.expr_attr_values_found)

    moto_adaptations._parsed_condition.cache_clear()
    by_moto = parsed(moto_adaptations._original_condition_parse, values)
    request_values = json.loads(json.dumps(values))  # a request's own values, changed after it
    first = parsed(ConditionExpressionParser.parse, request_values)
    for value in request_values.values():
        for inside in value.values():  # a list or map the tree may hold
            if isinstance(inside, list | dict):
                inside.clear()
    assert [parsed(ConditionExpressionParser.parse, values) for _ in range(3)] == [by_moto] * 3
    assert first == by_moto
    assert moto_adaptations._parsed_condition.cache_info().misses == 1

    other = {name: {"N": "7"} if "N" in value else value if "L" in value else {"S": "xy"}
             for name, value in values.items()}
    assert parsed(ConditionExpressionParser.parse, other) == parsed(
        moto_adaptations._original_condition_parse, other)
    assert parsed(ConditionExpressionParser.parse, other) != by_moto


REFUSED_CONDITIONS = {
    "a value not given": ("n = :missing", None, {":v": {"N": "1"}}, KeyError),
    "a name not given": ("#missing = :v", None, {":v": {"N": "1"}}, TypeError),
    "redundant parentheses": ("((n = :v))", None, {":v": {"N": "1"}}, Exception),
    "a reserved word": ("size = :v", None, {":v": {"N": "1"}}, Exception),
}


@pytest.mark.parametrize("case", REFUSED_CONDITIONS)
def test_a_condition_moto_refuses_is_refused_every_time_as_moto_refuses_it(case: str) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    moto_adaptations.install()
    expression, names, values, kind = REFUSED_CONDITIONS[case]
    with pytest.raises(kind) as by_moto:
        moto_adaptations._original_condition_parse(
            ConditionExpressionParser(expression, names, values))
    for _ in range(2):
        with pytest.raises(type(by_moto.value), match=re.escape(str(by_moto.value))):
            ConditionExpressionParser(expression, names, values).parse()


# ---------------------------------------- 20. a KMS key's private key made at first use
def test_a_kms_key_makes_its_private_key_only_when_it_signs_and_each_use_still_works(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.kms import utils as kms_utils

    made: list[str] = []
    real = kms_utils.generate_private_key
    monkeypatch.setattr(kms_utils, "generate_private_key",
                        lambda spec: made.append(spec) or real(spec))
    kms = cloud.client("kms")
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sealed = kms.encrypt(KeyId=symmetric, Plaintext=b"order")["CiphertextBlob"]

    assert made == []
    assert kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"order"
    signature = kms.sign(KeyId=signing, Message=b"order", MessageType="RAW",
                         SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert kms.verify(KeyId=signing, Message=b"order", MessageType="RAW", Signature=signature,
                      SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
    assert kms.get_public_key(KeyId=signing)["PublicKey"]
    assert made == ["RSA_2048"]


# ---------------------------------------- 21. a request's environ made directly
# (method, URL, headers, body): what botocore hands moto, and the odd cases werkzeug allows.
REQUESTS = {
    "DynamoDB JSON": ("POST", "https://dynamodb.us-east-1.amazonaws.com/",
                      {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Length": "2",
                       "Content-Type": "application/x-amz-json-1.0", "amz-sdk-request": b"a=1"},
                      b"{}"),
    "SQS query form": ("POST", "https://sqs.us-east-1.amazonaws.com/",
                       {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                       "Action=SendMessage&MessageBody=caf%C3%A9"),
    "Lambda, encoded path": ("POST", "http://localhost:5000/2015-03-31/functions/f%C3%A9%2Fx"
                             "/invocations?Qualifier=%24LATEST", {"X-Amz-Invocation-Type":
                             "Event", "Transfer-Encoding": "chunked"}, b'{"k": "\xc3\xa9"}'),
    "S3 GET, unicode path": ("GET", "https://bucket.s3.amazonaws.com:8443/a b/\u00e9?list-type=2"
                             "&prefix=a%20b", {"x-amz-meta-my_key": "v", "Host": "other:1"},
                             None),
    "empty body, repeated headers": ("DELETE", "http://[::1]:8080/q", [("X-A", "1"), ("x-a", "2"),
                                     ("Content-Length", "0"), ("Content-Type", "text/plain")],
                                     b""),
    "form type, no body": ("POST", "http://h/",
                           {"Content-Type": "application/x-www-form-urlencoded"}, None),
    "path read as a host": ("GET", "http://h//double/slash", {}, None),
    "streamed body": ("PUT", "http://h/k", {"Content-Type": "text/plain"}, io.BytesIO(b"data")),
}
BY_THE_BUILDER = {"form type, no body", "path read as a host", "streamed body"}


def seen_by_moto(request: Any) -> dict[str, Any]:
    environ = {key: value for key, value in request.environ.items()
               if key not in ("wsgi.input", "werkzeug.request")}
    return {"environ": list(environ.items()), "headers": list(request.headers),
            "url": request.url, "raw_url": request.raw_url, "path": request.path,
            "args": request.args, "form": request.form, "data": request.get_data()}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_request_reaches_moto_as_werkzeugs_builder_makes_it(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.request import Request

    moto_adaptations.install()
    method, url, headers, body = REQUESTS[name]
    if isinstance(headers, list):  # botocore's headers are a mapping that may repeat a name
        from werkzeug.datastructures import Headers
        headers = Headers(headers)
    second = io.BytesIO(body.getvalue()) if isinstance(body, io.BytesIO) else body
    by_moto = seen_by_moto(moto_adaptations._original_from_primitives(Request, method, url,
                                                                       headers, body))
    built: list[str] = []
    real_from_values = Request.from_values.__func__
    monkeypatch.setattr(Request, "from_values", classmethod(
        lambda cls, *args, **kwargs: built.append(name) or real_from_values(cls, *args, **kwargs)))

    adapted = seen_by_moto(Request.from_primitives(method, url, headers, second))

    assert adapted == by_moto
    assert built == ([name] if name in BY_THE_BUILDER else []), "went the wrong way"


# ---------------------------------------- 28. a URL's properties computed once per URL
URLS = {
    "DynamoDB": ("https://dynamodb.us-east-1.amazonaws.com/", {}),
    "a query": ("https://sqs.us-east-1.amazonaws.com/123456789012/q?Action=List&a=1&a=2&b=", {}),
    "a port and a quoted path": ("http://localhost:4566/2015-03-31/functions/f%20g/invocations",
                                 {}),
    "a path beyond ASCII": ("https://s3.amazonaws.com/bucket/caf%C3%A9?x=%E2%82%AC", {}),
    "its own Host header": ("https://dynamodb.us-east-1.amazonaws.com/",
                            {"Host": "elsewhere.example:8443"}),
}


def url_properties(request: Any) -> dict[str, Any]:
    return {name: getattr(request, name) for name in moto_adaptations._URL_PROPERTIES}


def test_a_request_gets_the_url_properties_werkzeug_computes_for_it() -> None:
    from moto.core.request import Request

    moto_adaptations.install()
    moto_adaptations._url_properties.clear()
    for _ in range(2):  # the first request of each URL computes them, the second is given them
        for url, headers in URLS.values():
            by_werkzeug = url_properties(moto_adaptations._original_from_primitives(
                Request, "POST", url, {"Content-Type": "application/json", **headers}, b"{}"))
            request = Request.from_primitives(
                "POST", url, {"Content-Type": "application/json", **headers}, b"{}")

            assert url_properties(request) == by_werkzeug
    given = Request.from_primitives("POST", URLS["a query"][0], {}, b"")
    assert set(moto_adaptations._URL_PROPERTIES) <= set(vars(given)), "computed again"
    assert len(moto_adaptations._url_properties) == len(URLS)
    assert given.host == "sqs.us-east-1.amazonaws.com"
    assert Request.from_primitives("POST", URLS["DynamoDB"][0], {"Host": "other:1"}, b"").host == (
        "other:1")


# ---------------------------------------- 30. a dict result's member names worked out once
SERIALIZED = (("dynamodb", "UpdateItem"), ("dynamodb", "GetItem"), ("sqs", "SendMessage"),
              ("stepfunctions", "StartExecution"), ("stepfunctions", "DescribeExecution"),
              ("events", "PutEvents"), ("lambda", "GetFunctionConfiguration"))


def test_a_dict_results_member_names_are_motos_worked_out_once_per_member() -> None:
    from moto.core.serialize import AttributePickerContext, XFormedAttributePicker
    from moto.core.utils import get_service_model

    moto_adaptations.install()
    assert XFormedAttributePicker.get_possible_keys is moto_adaptations._possible_keys_once
    picker, members = XFormedAttributePicker(), []
    for service, operation in SERIALIZED:
        shape = get_service_model(service).operation_model(operation).output_shape
        for name, member in shape.members.items():
            member.parent = shape  # as moto's serializer sets it before it looks a member up
            members.append((name, member))
    moto_adaptations._possible_keys.clear()

    def names(obj: Any, name: str, member: Any) -> tuple[list[str], list[str]]:
        context = AttributePickerContext(obj=obj, key=name, shape=member)
        return (list(picker.get_possible_keys(context)),
                list(moto_adaptations._original_possible_keys(picker, context)))

    for result in ({}, {"Attributes": {}}, {}):
        for name, member in members:
            adapted, by_moto = names(result, name, member)
            assert adapted == by_moto and name in adapted
    assert len(moto_adaptations._possible_keys) == len(members)

    name, member = members[0]
    other_parent = get_service_model("dynamodb").operation_model("PutItem").output_shape
    member.parent = other_parent  # the same member shape under another parent: worked out again
    assert names({}, name, member)[0] == names({}, name, member)[1]
    assert len(moto_adaptations._possible_keys) == len(members) + 1

    class Message:  # a result that is not a dict, with aliases of its own, goes moto's way
        class Meta:
            serialization_aliases = {"MessageId": "ident"}

    sent = dict(members)["MessageId"]
    adapted, by_moto = names(Message(), "MessageId", sent)
    assert adapted == by_moto and adapted[0] == "ident"
    assert len(moto_adaptations._possible_keys) == len(members) + 1


# ---------------------------------------- 32. a dict result's members looked up directly
ORDER_ITEM = {"id": {"S": "ORDER-1"}, "total": {"N": "1250"}, "paid": {"BOOL": True},
              "lines": {"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "2"}}}]},
              "tags": {"SS": ["a", "b"]}, "gone": {"NULL": True}}
RESULTS = {
    "GetItem": ("dynamodb", "GetItem", {"Item": ORDER_ITEM,
                                        "ConsumedCapacity": {"TableName": "t",
                                                             "CapacityUnits": 0.5}}),
    "Query": ("dynamodb", "Query", {"Items": [ORDER_ITEM, {"id": {"S": "ORDER-2"}}], "Count": 2,
                                    "ScannedCount": 2, "LastEvaluatedKey": {"id": {"S": "x"}}}),
    "ReceiveMessage": ("sqs", "ReceiveMessage", {"Messages": [{
        "MessageId": "m", "ReceiptHandle": "r", "MD5OfBody": "5", "Body": "{}",
        "Attributes": {"SentTimestamp": "1"},
        "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}}}]}),
    "DescribeExecution, snake case": ("stepfunctions", "DescribeExecution", {
        "execution_arn": "arn:x", "state_machine_arn": "arn:y", "status": "RUNNING",
        "start_date": datetime(2026, 12, 3, 17, 0, tzinfo=UTC), "input": "{}"}),
    "PutEvents": ("events", "PutEvents", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}),
}


@pytest.mark.parametrize("name", RESULTS)
def test_a_dict_result_serializes_to_the_body_moto_serializes(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.serialize import ResponseSerializer, XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    moto_adaptations.install()
    assert ResponseSerializer.get_value is moto_adaptations._member_of_a_dict
    service, operation, result = RESULTS[name]
    model = get_service_model(service)

    def body() -> Any:
        serializer = get_serializer_class(service, model.protocol)(
            operation_model=model.operation_model(operation), value_picker=XFormedAttributePicker())
        return serializer.serialize(result)["body"]

    adapted = body()
    looked_up: list[str] = []
    original = moto_adaptations._original_serializer_get_value
    monkeypatch.setattr(ResponseSerializer, "get_value", lambda self, value, key, shape: (
        looked_up.append(key) or original(self, value, key, shape)))

    assert adapted == body()
    assert looked_up, "moto's own lookup did not run"
    assert json.loads(adapted)  # a body with the result in it
    assert len(adapted) > 20


def test_a_member_of_a_result_that_is_no_plain_dict_is_picked_as_moto_picks_it() -> None:
    from moto.core.serialize import ResponseSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    moto_adaptations.install()
    shape = get_service_model("sqs").operation_model("SendMessage").output_shape
    member = shape.members["MessageId"]
    member.parent = shape

    class Sent:  # an object, with an alias of its own
        class Meta:
            serialization_aliases = {"MessageId": "ident"}
        ident = "m-1"

    operation = get_service_model("sqs").operation_model("SendMessage")
    plain = XFormedAttributePicker()
    serializer = ResponseSerializer(operation_model=operation, value_picker=plain)
    assert serializer.get_value(Sent(), "MessageId", member) == "m-1"
    hidden = XFormedAttributePicker(response_transformers={"MessageId": lambda value: None})
    serializer = ResponseSerializer(operation_model=operation, value_picker=hidden)
    assert serializer.get_value({"MessageId": "m-1"}, "MessageId", member) is None


# ---------------------------------------- 31. a JSON protocol's body, as werkzeug leaves it
BODIES = {
    "DynamoDB": ({"Content-Type": "application/x-amz-json-1.0",
                  "X-Amz-Target": "DynamoDB_20120810.GetItem"}, b'{"TableName": "t"}', True),
    "SQS": ({"Content-Type": "application/x-amz-json-1.0"}, b'{"QueueUrl": "q"}', True),
    "Step Functions, empty": ({"Content-Type": "application/x-amz-json-1.0"}, b"", True),
    "compressed": ({"Content-Type": "application/x-amz-json-1.1", "Content-Encoding": "gzip"},
                   gzip.compress(b'{"a": 1}'), False),
    "a form": ({"Content-Type": "application/x-www-form-urlencoded"}, b"Action=List&a=1", False),
    "REST JSON": ({"Content-Type": "application/json"}, b'{"a": 1}', False),
}


@pytest.mark.parametrize("name", BODIES)
def test_a_json_protocols_body_reaches_moto_as_werkzeug_leaves_it_read(name: str) -> None:
    from moto.core.request import Request

    moto_adaptations.install()
    headers, body, given = BODIES[name]

    def as_read(request: Any) -> dict[str, Any]:
        first = request.data  # what moto reads first
        return {"data": first, "again": request.get_data(), "form": request.form,
                "files": request.files, "values": request.values,
                "rest of the stream": request.stream.read(), "json": request.is_json}

    by_werkzeug = as_read(moto_adaptations._original_from_primitives(
        Request, "POST", "https://sqs.us-east-1.amazonaws.com/", headers, body))
    request = Request.from_primitives("POST", "https://sqs.us-east-1.amazonaws.com/", headers, body)

    assert ("data" in vars(request)) is given, "given the body, or left to werkzeug, wrongly"
    assert as_read(request) == by_werkzeug


# ---------------------------------------- 33. a JSON request goes to moto directly
def answer_only(response: dict[str, Any]) -> dict[str, Any]:
    """A parsed response less what differs between two answers to one request: its id, date."""
    metadata = dict(response["ResponseMetadata"])
    metadata.pop("RequestId", None)
    metadata["HTTPHeaders"] = {name: value for name, value in metadata["HTTPHeaders"].items()
                               if name not in ("date", "x-amzn-requestid")}
    return {**response, "ResponseMetadata": metadata}


def http_requests_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A list that grows by one for every HTTP request botocore makes from now on."""
    from botocore.endpoint import Endpoint

    made: list[str] = []
    real_create = Endpoint.create_request
    monkeypatch.setattr(Endpoint, "create_request",
                        lambda self, *args: made.append("request") or real_create(self, *args))
    return made


def asked_both_ways(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> list[Any]:
    """What a call gives directly, then the usual way; each either a response or an error's,
    with how many HTTP requests botocore made on the way (none directly)."""
    from botocore.endpoint import Endpoint

    made = http_requests_made(monkeypatch)
    answers = []
    for send in (moto_adaptations._send_request, moto_adaptations._original_send_request):
        monkeypatch.setattr(Endpoint, "_send_request", send)
        made.clear()
        try:
            answer = ("answered", answer_only(call()))
        except ClientError as error:
            answer = (type(error).__name__, answer_only(error.response))
        answers.append((answer, len(made)))
    return answers


def direct_calls(cloud: SagaCloud) -> dict[str, Callable[[], Any]]:
    ddb, sqs, sfn = cloud.client("dynamodb"), cloud.client("sqs"), cloud.client("stepfunctions")
    orders, pk = cloud.ref("OrdersTable"), f"direct-{uuid.uuid4()}"
    key = {"orderId": {"S": pk}}
    ddb.put_item(TableName=orders, Item={"orderId": {"S": pk}, "lines": {"L": [
        {"M": {"sku": {"S": SKU}, "quantity": {"N": "2"}}}]}, "total": {"N": "2.50"}})
    dlq = cloud.ref("InventoryDeadLetterQueue")
    return {
        "GetItem": lambda: ddb.get_item(TableName=orders, Key=key),
        "Query": lambda: ddb.query(TableName=orders, KeyConditionExpression="orderId = :id",
                                   ExpressionAttributeValues={":id": {"S": pk}}),
        "a refused condition": lambda: ddb.put_item(
            TableName=orders, Item=key, ConditionExpression="attribute_not_exists(orderId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        "a missing table": lambda: ddb.get_item(TableName="no-such-table", Key=key),
        "an invalid update": lambda: ddb.update_item(TableName=orders, Key=key,
                                                     UpdateExpression="SET"),
        "DescribeTable": lambda: ddb.describe_table(TableName=orders),
        "GetQueueAttributes": lambda: sqs.get_queue_attributes(QueueUrl=dlq,
                                                               AttributeNames=["All"]),
        "a missing queue": lambda: sqs.get_queue_attributes(
            QueueUrl=dlq.rsplit("/", 1)[0] + "/no-such-queue", AttributeNames=["All"]),
        "DescribeStateMachine": lambda: sfn.describe_state_machine(
            stateMachineArn=cloud.ref("OrderSagaStateMachine")),
        "ListRules": lambda: cloud.client("events").list_rules(),
    }


@pytest.mark.parametrize("name", [
    "GetItem", "Query", "a refused condition", "a missing table", "an invalid update",
    "DescribeTable", "GetQueueAttributes", "a missing queue", "DescribeStateMachine", "ListRules",
])
def test_a_json_request_goes_to_moto_directly_and_is_answered_as_the_usual_way_answers_it(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    call = direct_calls(cloud)[name]

    (directly, requests_made), (the_usual_way, usual_requests) = asked_both_ways(monkeypatch, call)

    assert requests_made == 0, "botocore made an HTTP request of a direct call"
    assert usual_requests == 1
    assert directly == the_usual_way


def test_a_direct_request_moto_throttles_is_retried_as_botocore_retries_it(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.retries.standard

    throttled = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                            "message": "slow down"})
    answers: list[int] = []
    real_answer = moto_adaptations._answer

    def throttled_once(method: Callable[..., Any], request: Any) -> Any:
        answers.append(1)
        if len(answers) % 2:
            return 400, {"Content-Type": "application/x-amz-json-1.0"}, throttled
        return real_answer(method, request)

    monkeypatch.setattr(moto_adaptations, "_answer", throttled_once)
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0.0)
    table = cloud.ref("OrdersTable")

    both = asked_both_ways(monkeypatch, lambda: cloud.client("dynamodb").describe_table(
        TableName=table))

    (directly, _), (the_usual_way, _) = both
    assert len(answers) == 4, "each way asks moto twice: throttled, then answered"
    assert directly[0] == "answered"
    assert directly[1]["ResponseMetadata"]["RetryAttempts"] == 1
    assert directly == the_usual_way


def test_a_failure_inside_moto_reaches_a_direct_caller_as_it_reaches_the_usual_one(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.endpoint import Endpoint

    def broken(method: Callable[..., Any], request: Any) -> Any:
        raise RuntimeError("moto broke")

    monkeypatch.setattr(moto_adaptations, "_answer", broken)
    for send in (moto_adaptations._send_request, moto_adaptations._original_send_request):
        monkeypatch.setattr(Endpoint, "_send_request", send)
        with pytest.raises(RuntimeError, match="moto broke"):
            cloud.client("dynamodb").list_tables()


def test_a_request_created_handler_changes_a_direct_request_as_it_changes_any_other(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("dynamodb", region_name=cloud.region)

    def another_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = "111111111111"  # moto answers for that account

    client.meta.events.register("request-created", another_account)

    (directly, requests_made), (the_usual_way, _) = asked_both_ways(monkeypatch, client.list_tables)

    assert requests_made == 0
    assert directly == the_usual_way
    assert directly[1]["TableNames"] == []
    assert cloud.client("dynamodb").list_tables()["TableNames"] != []


@pytest.mark.parametrize(("event", "skipped"), [
    ("before-sign", True), ("before-send", True), ("response-received", True),
    ("before-parse", True),
    # Called for a direct request as for any other: a handler of request-created too.
    ("request-created", False), ("before-call", False), ("needs-retry", False),
    ("after-call", False),
])
def test_a_request_a_skipped_events_handler_would_see_goes_the_usual_way_until_unregistered(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch, event: str, skipped: bool) -> None:

    made = http_requests_made(monkeypatch)
    client = boto3.client("dynamodb", region_name=cloud.region)
    seen: list[str] = []

    def watch(**kwargs: Any) -> None:
        seen.append(kwargs["event_name"])

    client.list_tables()
    directly = len(made)
    client.meta.events.register(event, watch)
    client.list_tables()
    watched = (len(made), len(seen))
    client.meta.events.unregister(event, watch)
    client.list_tables()

    assert directly == 0
    assert seen == [f"{event}.dynamodb.ListTables"], "the handler missed the request"
    # A direct request still has the events it does not skip, so their handlers allow it.
    assert watched == (1 if skipped else 0, 1)
    assert len(made) == watched[0], "unregistered, the handler still kept requests from moto"


# ---------------------------------------- 34. executions found through an index
def test_executions_are_found_by_arn_name_and_status_as_moto_scanning_found_them(
    cloud: SagaCloud,
) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from localcloud.deploy import ACCOUNT_ID

    sfn = cloud.client("stepfunctions")
    machine = state_machine(cloud, {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    backend = stepfunctions_parser_backends[ACCOUNT_ID][cloud.region]

    def running() -> list[str]:
        found = [e.execution_arn for e in backend._get_executions("RUNNING")]
        scanned = moto_adaptations._original_get_executions(backend, "RUNNING")
        assert found == [e.execution_arn for e in scanned], "the index and moto's scan differ"
        return found

    def start_named(name: str, given: str) -> str:
        return str(sfn.start_execution(stateMachineArn=machine, name=name,
                                       input=given)["executionArn"])

    first, second = start_named("first", '{"n": 1}'), start(cloud, machine)
    assert start_named("first", '{"n": 1}') == first, "a repeated start while running is one"
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        start_named("first", '{"n": 2}')
    assert {first, second} <= set(running())
    assert sfn.describe_execution(executionArn=second)["status"] == "RUNNING"

    sfn.stop_execution(executionArn=first)

    assert ended(cloud, first, 10)["status"] == "ABORTED"
    assert first not in running() and second in running()
    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        start_named("first", '{"n": 1}')  # it ended: the name is taken for good
    with pytest.raises(ClientError, match="ExecutionDoesNotExist"):
        sfn.describe_execution(executionArn=first.replace(":first", ":never-started"))
    with pytest.raises(ClientError, match="ExecutionDoesNotExist"):
        sfn.stop_execution(executionArn=first.replace(":first", ":never-started"))
    # An ended execution leaves the index of those that may run: no later scan reads it.
    index = moto_adaptations.execution_index(backend.describe_state_machine(machine))
    assert [e.execution_arn for e in index.unended] == [second]
    sfn.stop_execution(executionArn=second)


# ---------------------------------------- 22. random strings drawn at once, utcnow without import
def test_random_strings_are_drawn_at_once_from_motos_seeded_random(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import string

    from moto.moto_api._internal import mock_random
    from moto.sqs import models as sqs_models

    moto_adaptations.install()

    def drawn() -> list[str]:
        mock_random.seed(7)
        return [mock_random.get_random_string(), mock_random.get_random_string(12, False, True),
                mock_random.get_random_hex(), sqs_models.generate_receipt_handle()]

    first = drawn()
    monkeypatch.setattr(mock_random, "choice", lambda pool: pytest.fail("drawn one by one"))

    assert drawn() == first, "a seeded random no longer repeats"
    plain, lower, hexed, handle = first
    assert len(plain) == 20 and set(plain) <= set(string.ascii_letters + string.digits)
    assert len(lower) == 12 and set(lower) <= set(string.ascii_lowercase)
    assert len(hexed) == 8 and set(hexed) <= set("0123456789abcdef")
    assert len(handle) == 185 and set(handle) <= set(string.ascii_lowercase)


def test_utcnow_and_utcfromtimestamp_are_naive_utc_without_an_import_at_each_call() -> None:
    import dis

    from moto.core.utils import unix_time, utcfromtimestamp, utcnow

    moto_adaptations.install()
    before = datetime.now(UTC).replace(tzinfo=None)
    now = utcnow()

    assert now.tzinfo is None and before <= now <= datetime.now(UTC).replace(tzinfo=None)
    assert utcfromtimestamp(86_400.5) == datetime(1970, 1, 2, 0, 0, 0, 500_000)
    assert unix_time(datetime(1970, 1, 2, 0, 0, 0, 500_000)) == 86_400.5
    for function in (utcnow, utcfromtimestamp):
        opnames = {instruction.opname for instruction in dis.get_instructions(function)}
        assert "IMPORT_NAME" not in opnames, function.__name__


# ---------------------------------------- 23. an update expression's tree copied node by node
def walked(node: Any, parent: Any = None) -> Any:
    """A tree's shape and values, checking that each node's parent is the node above it."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if not isinstance(node, Node):
        return repr(node)
    assert node.parent is parent, f"{node.type} points at another parent"
    rest = {name: repr(value) for name, value in vars(node).items()
            if name not in ("children", "parent")}
    return type(node), rest, [walked(child, node) for child in node.children or ()]


def nodes_in(node: Any) -> set[int]:
    from moto.dynamodb.parsing.ast_nodes import Node

    if not isinstance(node, Node):
        return set()
    return {id(node)}.union(*(nodes_in(child) for child in node.children or ()))


def test_an_update_expressions_tree_copies_as_deepcopy_copies_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import copy

    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    moto_adaptations.install()
    tree = UpdateExpressionParser.make(
        "SET #a.b[1] = if_not_exists(#c, :d) + :e, l = list_append(l, :l) ADD n :one "
        "REMOVE gone[2] DELETE tags :t")
    assert vars(Node).get("__deepcopy__") is moto_adaptations._copied_node
    adapted = copy.deepcopy(tree)
    monkeypatch.delattr(Node, "__deepcopy__")
    by_moto = copy.deepcopy(tree)

    assert walked(adapted) == walked(by_moto) == walked(tree)
    assert nodes_in(adapted).isdisjoint(nodes_in(tree)), "the copy shares a node with the tree"


# ---------------------------------------- 24. botocore's data files decoded once, kept pickled
def test_a_data_file_is_decoded_once_and_read_back_from_the_cache_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    from collections import OrderedDict

    import botocore
    from botocore.loaders import JSONFileLoader

    moto_adaptations.install()
    model = str(Path(botocore.__file__).parent / "data" / "sqs" / "2012-11-05" / "service-2")
    by_botocore = moto_adaptations._original_load_data(JSONFileLoader(), f"{model}.json.gz",
                                                       gzip.open)
    monkeypatch.setattr(moto_adaptations.state, "cache_dir", tmp_path)
    monkeypatch.setattr(moto_adaptations, "_data_files", {})
    first = JSONFileLoader().load_file(model)
    first["metadata"]["changed"] = True  # botocore merges extras into what it loaded
    monkeypatch.setattr(moto_adaptations, "_original_load_data",
                        lambda *_: pytest.fail("decoded again"))
    from_memory = JSONFileLoader().load_file(model)
    monkeypatch.setattr(moto_adaptations, "_data_files", {})
    from_the_folder = JSONFileLoader().load_file(model)

    assert from_memory == from_the_folder == by_botocore != first
    assert type(from_the_folder) is OrderedDict
    kept = list(tmp_path.iterdir())
    assert [path.name.startswith("data-") for path in kept] == [True]
    assert JSONFileLoader().load_file(f"{model}-none") is None

    kept[0].write_bytes(b"not a pickle")  # a damaged file is decoded afresh and rewritten
    monkeypatch.setattr(moto_adaptations, "_data_files", {})
    monkeypatch.setattr(moto_adaptations, "_original_load_data",
                        lambda loader, path, opener: by_botocore)
    assert JSONFileLoader().load_file(model) == by_botocore
    assert kept[0].read_bytes() != b"not a pickle"


# ---------------------------------------- 25. a REST rule's operations sorted at its first match
# (method, path and query): Lambda operations that share a path prefix, and pairs of them that
# share path and method and are told apart by the query.
ROUTED = [("GET", "/2015-03-31/functions/fn"), ("GET", "/2015-03-31/functions/fn/configuration"),
          ("POST", "/2015-03-31/functions/fn/invocations"), ("POST", "/2015-03-31/functions"),
          ("GET", "/2015-03-31/event-source-mappings/?FunctionName=fn"),
          ("DELETE", "/2015-03-31/functions/fn/policy/sid-1?Qualifier=2"),
          ("GET", "/2021-10-31/functions/fn%3Aalias/url"),
          ("GET", "/2018-10-31/layers?find=LayerVersion&Arn=arn:aws:lambda:l:1"),
          ("GET", "/2018-10-31/layers"),
          ("GET", "/2019-09-30/functions/fn/provisioned-concurrency?Qualifier=live"),
          ("GET", "/2019-09-30/functions/fn/provisioned-concurrency?List=ALL"),
          ("PATCH", "/2015-03-31/functions/fn")]


def routed(router: Any) -> list[Any]:
    from moto.core.request import Request
    from werkzeug.exceptions import NotFound

    found = []
    for method, path in ROUTED:
        request = Request.from_primitives(method, f"https://lambda.us-east-1.amazonaws.com{path}",
                                          {}, b"")
        try:
            operation, parameters = router.match(request)
            found.append((operation.name, parameters))
        except NotFound:
            found.append("not found")
    return found


def urls_built(router: Any) -> list[Any]:
    """Each URL werkzeug builds from the rules of one function's name (moto builds none)."""
    return [rule.build({"FunctionName": "fn", "Qualifier": "2"})
            for rule in router._map.iter_rules() if rule.arguments == {"FunctionName"}]


def test_a_rest_request_routes_to_the_operation_moto_routes_it_to(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import routing
    from werkzeug.routing import Rule

    moto_adaptations.install()
    model = routing.get_service_model("lambda")
    adapted = routing.RestRouter(model)
    rules = list(adapted._map.iter_rules())
    assert all(rule._action_selector._selector is None for rule in rules)

    by_adapted = routed(adapted)
    chosen = [rule for rule in rules if rule._action_selector._selector is not None]
    built = urls_built(adapted)
    monkeypatch.setattr(routing, "ActionSelector", moto_adaptations._original_action_selector)
    monkeypatch.setattr(routing.SmithyRule, "_initialize_candidates",
                        staticmethod(moto_adaptations._original_initialize_candidates))
    monkeypatch.setattr(routing.SmithyRule, "_compile_builder", Rule._compile_builder)
    by_moto = routing.RestRouter(model)

    assert by_adapted == routed(by_moto)
    assert by_adapted[0] == ("GetFunction", {"FunctionName": "fn"})
    assert [found[0] for found in by_adapted[-5:-1]] == [
        "GetLayerVersionByArn", "ListLayers", "GetProvisionedConcurrencyConfig",
        "ListProvisionedConcurrencyConfigs"]
    assert by_adapted[-1] == "not found"
    assert 0 < len(chosen) < len(ROUTED) < len(rules), "every rule chose before its first match"
    assert built == urls_built(by_moto)
    assert ("", "/2015-03-31/functions/fn/configuration?Qualifier=2") in built


# ---------------------------------------- 26. a queue's counts
def test_a_queues_counts_and_visible_messages_are_motos_with_one_clock_reading_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs import models as sqs_models

    moto_adaptations.install()
    backend = sqs_models.sqs_backends[DEFAULT_ACCOUNT_ID]["eu-west-3"]
    name = f"counts-{uuid.uuid4().hex[:8]}"
    queue = backend.create_queue(name)
    for n in range(5):
        backend.send_message(name, f"now {n}")
    for n in range(2):
        backend.send_message(name, f"delayed {n}", delay_seconds=60)
    in_flight = backend.receive_message(name, 2, 0, visibility_timeout=60)
    seen_again = backend.receive_message(name, 1, 0, visibility_timeout=0)
    time.sleep(0.01)  # its visibility timeout (none) has passed: it is visible again

    readings = [0]
    clock = sqs_models.unix_time_millis

    def counted_clock(*args: Any) -> float:
        readings[0] += 1
        return clock(*args)

    monkeypatch.setattr(sqs_models, "unix_time_millis", counted_clock)
    adapted = {name: getattr(queue, name) for name in moto_adaptations.QUEUE_COUNTS}
    attributes = queue.attributes
    adapted_readings, readings[0] = readings[0], 0
    for count_name, count in moto_adaptations._original_queue_counts.items():
        monkeypatch.setattr(sqs_models.Queue, count_name, count)
    by_moto = {name: getattr(queue, name) for name in moto_adaptations.QUEUE_COUNTS}

    assert adapted == by_moto
    assert attributes == queue.attributes
    assert [m.body for m in adapted["messages"]] == ["now 2", "now 3", "now 4"]
    assert {m.body for m in in_flight} == {"now 0", "now 1"}
    assert [m.body for m in seen_again] == ["now 2"]
    assert (adapted["approximate_number_of_messages"],
            adapted["approximate_number_of_messages_not_visible"],
            adapted["approximate_number_of_messages_delayed"]) == (3, 2, 2)
    assert attributes["ApproximateNumberOfMessages"] == 3
    assert adapted_readings == 7, "a clock reading per list and per count, none per message"
    assert readings[0] > 7 * len(queue._messages) // 2, "moto reads the clock per message"


# ---------------------------------------- 9. task tokens with a heartbeat
def test_an_answer_that_arrives_before_the_heartbeat_watch_starts_is_not_lost(
        cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    machine = one_task_machine(cloud, {
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": cloud.ref("SagaFailuresQueue"),
                       "MessageBody": {"taskToken.$": "$$.Task.Token"}},
        "HeartbeatSeconds": 10, "TimeoutSeconds": 20,
    })
    answered = threading.Event()
    real_setup = CallbackEndpoint.setup_heartbeat_endpoint

    def setup_after_the_answer(self: CallbackEndpoint, heartbeat_seconds: int) -> Any:
        answered.wait(5)  # a worker faster than the interpreter answers first
        return real_setup(self, heartbeat_seconds)

    monkeypatch.setattr(CallbackEndpoint, "setup_heartbeat_endpoint", setup_after_the_answer)
    execution = start(cloud, machine)
    token = json.loads(take_messages(cloud, "SagaFailuresQueue")[0]["Body"])["taskToken"]

    cloud.client("stepfunctions").send_task_success(taskToken=token, output='{"done": true}')
    answered.set()

    described = ended(cloud, execution, timeout=10)
    assert described["status"] == "SUCCEEDED", failures(history(cloud, execution))
    assert json.loads(described["output"]) == {"done": True}


# ---------------------------------------- 5. an interpreter client outliving its cloud
def test_an_execution_that_outlives_its_cloud_leaves_the_next_cloud_working(
        clouds: OneCloudAtATime, monkeypatch: pytest.MonkeyPatch) -> None:
    # An execution still running when its cloud stops makes its next client with no mock to
    # intercept it, and moto aims such a client at http://localhost:5000: the clouds that
    # follow must not inherit it (seen after `order-saga local invoke CreateOrderFunction`).
    clouds.close()
    monkeypatch.setattr(moto_adaptations, "_clients", {}, raising=False)  # none cached yet
    with SagaCloud(ROOT, clock_scale=FAST) as first:
        start(first, state_machine(first, {"StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Read"},
            "Read": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "End": True,
                     "Parameters": {"TableName": first.ref("OrdersTable"),
                                    "Key": {"orderId": {"S": "no-such-order"}}}}}}))
    time.sleep(2)  # Wait is not scaled: the task runs once the first cloud has stopped

    with SagaCloud(ROOT, clock_scale=FAST) as second:
        seed(second, {SKU: 10}, {CUSTOMER: 10_000}, "EUR")
        place_order(second)
        execution = eventually(second.sagas, 10, "no saga started")[0]["executionArn"]

        described = ended(second, execution, timeout=10)
        assert described["status"] == "SUCCEEDED", failures(history(second, execution))


# ---------------------------------------- 4. the scaled clock: heartbeat, timeout, retry (slow)
def test_a_saga_whose_reservation_report_never_arrives_ends_on_the_scaled_heartbeat(
        slow_cloud: SagaCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    order_id = str(uuid.uuid4())
    container = slow_cloud.container_of("InventoryWorkerFunction")
    monkeypatch.setattr(container, "reporter", container.reporter)  # restored after the test
    reporter = wrap_port(container, "reporter")
    # The stock is there, so the reservation succeeds: its success report is the one dropped.
    reporter.inject("succeed", f"{order_id}:ReserveInventory", swallow)
    started = time.perf_counter()

    saga = slow_cloud.wait_for_saga(place_order(slow_cloud, order_id=order_id), timeout=30)
    elapsed = time.perf_counter() - started

    assert reporter.injected == {("succeed", f"{order_id}:ReserveInventory"): 1}
    assert "Release inventory" in saga.path, saga.path
    assert saga.reason == "States.HeartbeatTimeout", saga  # moto alone says States.Timeout
    assert saga.status == "CANCELLED", saga
    assert elapsed < 30, elapsed
    reserve = task_events(history(slow_cloud, str(slow_cloud.order(order_id)["executionId"])),
                          "Reserve inventory")
    scheduled = next(e for e in reserve if e["type"] == "TaskScheduled")
    timed_out = next(e for e in reserve if e["type"] == "TaskTimedOut")
    waited = seconds_between(scheduled, timed_out)
    assert HEARTBEAT_SECONDS * SLOW <= waited < TIMEOUT_SECONDS * SLOW, (
        f"the heartbeat ({HEARTBEAT_SECONDS * SLOW} s), not the timeout, ends the wait: {waited} s")


def never_answered(cloud: SagaCloud) -> dict[str, Any]:
    """A command sent to a queue nobody reads: only TimeoutSeconds (100 s) ends the wait."""
    return {"Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": cloud.ref("SagaFailuresQueue"),
                           "MessageBody": {"taskToken.$": "$$.Task.Token"}},
            "TimeoutSeconds": 100}


def retried_after_100_seconds(cloud: SagaCloud) -> dict[str, Any]:
    """A send to a queue that does not exist, retried once after IntervalSeconds (100 s)."""
    missing = cloud.ref("SagaFailuresQueue").rsplit("/", 1)[0] + "/no-such-queue"
    return {"Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": missing, "MessageBody": "{}"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 100, "MaxAttempts": 1}]}


@pytest.mark.parametrize(("task", "attempts"), [
    pytest.param(never_answered, ["States.Timeout"], id="TimeoutSeconds"),
    pytest.param(retried_after_100_seconds, ["SQS.SdkClientException"] * 2, id="Retry interval"),
])
def test_a_tasks_timeout_and_retry_interval_run_on_the_scaled_clock_too(
        slow_cloud: SagaCloud, task: Callable[[SagaCloud], dict[str, Any]],
        attempts: list[str]) -> None:
    machine = one_task_machine(slow_cloud, task(slow_cloud))
    started = time.perf_counter()

    described = ended(slow_cloud, start(slow_cloud, machine), timeout=10)
    elapsed = time.perf_counter() - started

    assert described["status"] == "FAILED"
    assert failures(history(slow_cloud, described["executionArn"])) == attempts
    assert 100 * SLOW <= elapsed < 10, elapsed
    drain(slow_cloud, "SagaFailuresQueue")
