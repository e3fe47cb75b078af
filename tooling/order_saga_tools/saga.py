"""The order saga on the local cloud: the engine with this project's defaults and the waits on
an order's saga that the demo, the drills and the tests share."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import moto_adaptations
from localcloud.cloud import LocalCloud
from order_saga_tools.identity import LOCAL_IDENTITY_PARAMETERS
from order_saga_tools.state import STATE_DIR

TERMINAL_ORDER_STATUSES = frozenset({"CONFIRMED", "CANCELLED", "COMPENSATION_FAILED"})
SAGA_POLL_SECONDS = 0.05
STACK_NAME = "order-saga-local"
STATE_MACHINE = "OrderSagaStateMachine"


class SagaDeadlineError(TimeoutError):
    """A saga did not reach a terminal status before its deadline."""


@dataclass(frozen=True)
class SagaResult:
    """How one order's saga ended, read from the tables and the execution history."""

    order_id: str
    status: str
    reason: str | None
    execution_status: str
    path: tuple[str, ...]
    output: dict[str, Any] | None


class SagaCloud(LocalCloud):
    """template.yaml on the local cloud, with the saga's local parameters and waits."""

    def __init__(
        self,
        root: Path | str = ".",
        template: str = "template.yaml",
        clock_scale: float = 1.0,
        parameters: dict[str, str] | None = None,
        stack_name: str = STACK_NAME,
        region: str = "us-east-1",
        fire_schedules: bool = False,
    ) -> None:
        # Schedules stay off by default: the drills run the republisher as its schedule would,
        # with faults planned for each run, and a run of its own would take one of them.
        super().__init__(
            root,
            template,
            clock_scale,
            {"Stage": "local", **(parameters or {})},
            stack_name,
            region,
            local_defaults=LOCAL_IDENTITY_PARAMETERS,
            state_dir=STATE_DIR,
            fire_schedules=fire_schedules,
        )
        # Drills: refuse the next N deliveries of events about these orders to a target.
        self.refused_deliveries: dict[str, int] = {}
        self.delivery_guard = self._refuse_if_planned

    def _refuse_if_planned(self, event: dict[str, Any]) -> None:
        order_id = str((event.get("detail") or {}).get("orderId", ""))
        if self.refused_deliveries.get(order_id, 0) > 0:
            self.refused_deliveries[order_id] -= 1
            raise ConnectionError(f"delivery refused on purpose for order {order_id}")

    def container_of(self, function: str) -> Any:
        """The composition root (the ports) of a function's handler, cold-starting it if needed."""
        return self.handler_module(function).container

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order's item, read through the DynamoDB API."""
        return self.item("OrdersTable", {"orderId": order_id})

    def saga_path(self, execution_arn: str) -> tuple[str, ...]:
        """State names in the order the saga's execution entered them."""
        return self.execution_path(execution_arn)

    def sagas(self) -> list[dict[str, Any]]:
        """Every execution of the saga's state machine."""
        return self.executions(STATE_MACHINE)

    def wait_for_saga(
        self, order_id: str, timeout: float = 30.0, with_path: bool = True
    ) -> SagaResult:
        """Wait until the order is terminal and its execution has ended; raise at the deadline.

        The path comes from the execution history, which is costly to read: pass
        with_path=False where only the outcome matters.
        """
        deadline = time.monotonic() + timeout
        last_status = "unknown"
        while time.monotonic() < deadline:
            # Peek at the emulator's memory, and again when an execution ends: cheap for the system.
            ended = moto_adaptations.executions_ended()
            peeked = self.peek_item("OrdersTable", {"orderId": order_id})
            last_status = str(peeked.get("status", "unknown")) if peeked else "unknown"
            execution = None
            if peeked is not None and last_status in TERMINAL_ORDER_STATUSES:
                execution = self.ended_execution(str(peeked.get("executionId", "")))
            if execution is None:
                moto_adaptations.wait_for_an_execution_end(ended, SAGA_POLL_SECONDS)
                continue
            execution_arn = str(peeked["executionId"])  # type: ignore[index]
            return SagaResult(
                order_id=order_id,
                status=last_status,
                reason=peeked.get("reason"),  # type: ignore[union-attr]
                execution_status=str(
                    getattr(execution.exec_status, "value", execution.exec_status)
                ),
                path=self.saga_path(execution_arn) if with_path else (),
                output=_as_output(getattr(execution, "output", None)),
            )
        raise SagaDeadlineError(f"order {order_id} is still {last_status} after {timeout:.1f} s")


def _as_output(output: Any) -> dict[str, Any] | None:
    """An execution's output as the API shows it (JSON), whatever moto keeps in memory."""
    if isinstance(output, str) and output:
        output = json.loads(output)
    return output if isinstance(output, dict) else None
