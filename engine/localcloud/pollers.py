"""Lambda's SQS pollers: batches, partial batch failures, visibility timeouts, concurrency."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from moto.sqs.models import Message, Queue

from localcloud import moto_adaptations
from localcloud.runtime import HandlerError

IDLE_WAIT_SECONDS = 0.05


@dataclass(frozen=True)
class Mapping:
    """An event source mapping as Lambda runs it."""

    uuid: str
    function: str
    queue: Queue
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    maximum_concurrency: int


def sqs_record(message: Message, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS event, shaped as Lambda delivers it."""
    body = message.body
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(message.approximate_receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller:
    """Polls one queue for one function, as Lambda's event source mapping does."""

    def __init__(
        self,
        mapping: Mapping,
        backend: Any,
        invoke: Callable[[str, Any], Any],
        region: str,
        clock_scale: float,
    ) -> None:
        self.mapping = mapping
        self.backend = backend
        self.invoke = invoke
        self.region = region
        self.clock_scale = clock_scale
        self.visibility = (
            float(getattr(mapping.queue, "visibility_timeout", 30) or 30) * clock_scale
        )
        self.stopping = threading.Event()
        self.paused = threading.Event()
        self.busy = threading.Semaphore(mapping.maximum_concurrency)
        self.pool = ThreadPoolExecutor(
            max_workers=mapping.maximum_concurrency, thread_name_prefix=f"poller-{mapping.function}"
        )
        self.thread = threading.Thread(
            target=self._run, name=f"poll-{mapping.queue.name}", daemon=True
        )
        self.in_flight = 0
        # Called with each received message before delivery: drills redeliver or observe.
        self.on_receive: list[Callable[[Message], None]] = []
        self._count_lock = threading.Lock()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            if self.paused.is_set() or not self.busy.acquire(timeout=IDLE_WAIT_SECONDS):
                self.stopping.wait(IDLE_WAIT_SECONDS)
                continue
            seen = moto_adaptations.messages_landed(self.mapping.queue)
            messages = self.backend.receive_message(
                self.mapping.queue.name,
                self.mapping.batch_size,
                0,
                int(getattr(self.mapping.queue, "visibility_timeout", 30) or 30),
            )
            if not messages:
                self.busy.release()
                moto_adaptations.wait_for_a_message(self.mapping.queue, seen, IDLE_WAIT_SECONDS)
                continue
            for message in messages:
                moto_adaptations.hide_message(
                    self.mapping.queue, message.receipt_handle, self.visibility
                )
                for hook in list(self.on_receive):
                    hook(message)
            with self._count_lock:
                self.in_flight += len(messages)
            self.pool.submit(self._deliver, messages)

    def _deliver(self, messages: list[Message]) -> None:
        try:
            event = {
                "Records": [sqs_record(m, self.mapping.queue_arn, self.region) for m in messages]
            }
            failed = self._failed_ids(event, messages)
            for message in messages:
                if message.id not in failed:
                    self.backend.delete_message(self.mapping.queue.name, message.receipt_handle)
        finally:
            with self._count_lock:
                self.in_flight -= len(messages)
            self.busy.release()

    def _failed_ids(self, event: dict[str, Any], messages: list[Message]) -> set[str]:
        """Ids of the messages that must come back after their visibility timeout."""
        every_id = {message.id for message in messages}
        try:
            response = self.invoke(self.mapping.function, event)
        except HandlerError:
            return every_id
        if not self.mapping.report_batch_item_failures:
            return set()
        if not isinstance(response, dict):
            return set()
        failures = response.get("batchItemFailures") or []
        failed = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if identifier not in every_id:
                # Lambda treats a malformed failure report as a failure of the whole batch.
                return every_id
            failed.add(identifier)
        return failed
