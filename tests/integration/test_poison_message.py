"""A message that is no command, sent to the inventory queue, ends in the queue's DLQ alone."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .system import System


def _dead_letter_queue_url(system: System, queue_url: str) -> tuple[str, float]:
    """The DLQ named by the queue's RedrivePolicy, and how long the queue takes to give up."""
    sqs = system.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
    )["Attributes"]
    policy = json.loads(attributes["RedrivePolicy"])
    _, _, _, _, account, name = policy["deadLetterTargetArn"].split(":")
    url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    giving_up = float(attributes["VisibilityTimeout"]) * int(policy["maxReceiveCount"])
    return url, giving_up * system.clock_scale


def _take(system: System, queue_url: str, body: str, seconds: float) -> bool:
    """Wait for the message in the queue and delete it (a DLQ's alarm fires while it waits)."""
    sqs = system.client("sqs")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=5
        )
        for message in answer.get("Messages", []):
            if message["Body"] == body:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return True
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return False


@pytest.mark.slow
def test_a_message_that_is_no_command_reaches_the_inventory_dead_letter_queue(
    system: System,
) -> None:
    queue_url = system.stack.output("InventoryQueueUrl")
    dead_letters, giving_up = _dead_letter_queue_url(system, queue_url)
    poison = json.dumps({"action": "Nonsense", "note": f"integration test {uuid.uuid4()}"})

    system.client("sqs").send_message(QueueUrl=queue_url, MessageBody=poison)

    # Twice the time the queue takes to give up, plus room for the poller's own pace.
    assert _take(system, dead_letters, poison, 2 * giving_up + 30)
