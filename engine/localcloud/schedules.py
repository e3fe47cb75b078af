"""EventBridge schedules (rules with a ScheduleExpression, EventBridge Scheduler schedules)
fired on the local cloud's scaled clock."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Where a Scheduler schedule's target may be: what `fire` delivers.
TARGET_SERVICES = frozenset({"lambda", "states", "sqs", "sns"})
RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# Faster than this, a schedule would keep the emulator busy for nothing.
MIN_SCALED_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class Schedule:
    """A schedule of the template: a rule's (targets on the rule) or a Scheduler's (one target)."""

    logical_id: str
    name: str
    arn: str
    expression: str
    state: str = "ENABLED"
    target: dict[str, Any] = field(default_factory=dict)

    @property
    def is_rule(self) -> bool:
        return not self.target


def interval_seconds(expression: str) -> float | None:
    """The period of a rate() expression in seconds; None for cron() and at()."""
    found = RATE.match(expression.strip())
    if found is None:
        return None
    return int(found.group(1)) * UNIT_SECONDS[found.group(2).rstrip("s")]


def scheduled_event(schedule: Schedule, region: str, account: str) -> dict[str, Any]:
    """The event a schedule sends when its target has no Input: a Scheduled Event."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events" if schedule.is_rule else "aws.scheduler",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [schedule.arn],
        "detail": {},
    }


def scheduler_payload(schedule: Schedule, event: dict[str, Any]) -> dict[str, Any]:
    """What a Scheduler schedule's target receives: its Input, else the Scheduled Event."""
    if "Input" in schedule.target:
        return dict(json.loads(str(schedule.target["Input"])))
    return event


class Scheduler:
    """One thread that fires every rate() schedule each period of the scaled clock."""

    def __init__(
        self,
        schedules: list[Schedule],
        clock_scale: float,
        fire: Callable[[Schedule], None],
    ) -> None:
        self.periods = {
            schedule.logical_id: max(
                MIN_SCALED_INTERVAL_SECONDS,
                float(interval_seconds(schedule.expression) or 0) * clock_scale,
            )
            for schedule in schedules
        }
        self.schedules = schedules
        self.fire = fire
        self.fired: dict[str, int] = {schedule.logical_id: 0 for schedule in schedules}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="schedules")

    def start(self) -> None:
        if self.schedules:
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        started = time.monotonic()
        # As on AWS, a rate schedule fires first one period after it is created.
        due = {logical: started + period for logical, period in self.periods.items()}
        while not self._stopping.is_set():
            now = time.monotonic()
            for schedule in self.schedules:
                if due[schedule.logical_id] <= now:
                    due[schedule.logical_id] += self.periods[schedule.logical_id]
                    self.fired[schedule.logical_id] += 1
                    self.fire(schedule)
            self._stopping.wait(max(0.0, min(due.values()) - time.monotonic()))


def fire(cloud: Any, schedule: Schedule) -> None:
    """Deliver one firing of a schedule as EventBridge would, on the running local cloud."""
    from moto.events.models import events_backends

    from localcloud.deploy import ACCOUNT_ID as account

    event = scheduled_event(schedule, cloud.region, account)
    if schedule.is_rule:
        rule = events_backends[account][cloud.region].describe_rule(schedule.name, None)
        message: Any = event
        rule.send_to_targets(message)
        return
    target = schedule.target
    service = str(target["Arn"]).split(":")[2]
    if service in {"lambda", "states"}:
        cloud._deliver_target(schedule, target, event)
    elif service == "sqs":
        sqs = cloud.client("sqs")
        url = sqs.get_queue_url(QueueName=str(target["Arn"]).rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(scheduler_payload(schedule, event)))
    elif service == "sns":
        cloud.client("sns").publish(
            TopicArn=target["Arn"], Message=json.dumps(scheduler_payload(schedule, event))
        )
