"""Faults injected at a participant's boundary: its ports, wrapped by the harness; no flags."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class InjectedFaultError(Exception):
    """A failure the harness made on purpose (a store or a call that refuses to work)."""


class FaultyPort:
    """Wraps a real port; the calls the plan names for an order fail as planned, the rest pass.

    A plan maps (method, order_id) to a list of outcomes consumed one call at a time: an
    exception instance is raised, a callable is called with the real method's arguments,
    and None lets the real call through. When the list is empty every later call passes.
    """

    def __init__(
        self, real: Any, order_of: Callable[[str, tuple[Any, ...]], str] | None = None
    ) -> None:
        self.real = real
        self.order_of = order_of or (lambda _method, args: str(args[0]) if args else "")
        self.plan: dict[tuple[str, str], list[Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.injected: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def inject(self, method: str, order_id: str, *outcomes: Any) -> None:
        with self._lock:
            self.plan.setdefault((method, order_id), []).extend(outcomes)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            order_id = self.order_of(name, args)
            with self._lock:
                self.calls.append((name, order_id))
                outcomes = self.plan.get((name, order_id))
                outcome = outcomes.pop(0) if outcomes else None
                if outcome is not None:
                    self.injected[(name, order_id)] = self.injected.get((name, order_id), 0) + 1
            if isinstance(outcome, BaseException):
                raise outcome
            if callable(outcome):
                return outcome(attribute, *args, **kwargs)
            return attribute(*args, **kwargs)

        return call


# Which command a success answers, told by the fields of its output.
ANSWERED_BY = {
    "reserved": "ReserveInventory",
    "released": "ReleaseInventory",
    "charged": "ChargePayment",
    "refunded": "RefundPayment",
}


def report_order(method: str, args: tuple[Any, ...]) -> str:
    """`<order id>:<command>` for a success report; a failure report names no order."""
    if method != "succeed" or len(args) < 2 or not isinstance(args[1], dict):
        return ""
    output = args[1]
    action = next((name for field, name in ANSWERED_BY.items() if field in output), None)
    if action is None:
        action = "ConfirmOrder" if output.get("status") == "CONFIRMED" else "CancelOrder"
    return f"{output.get('orderId', '')}:{action}"


def published_order(_method: str, args: tuple[Any, ...]) -> str:
    """The order an event is about, from its detail."""
    return str(args[1].get("orderId", "")) if len(args) > 1 and isinstance(args[1], dict) else ""


ORDER_OF = {"reporter": report_order, "publisher": published_order}


def wrap_port(container: Any, attribute: str) -> FaultyPort:
    """Replace a port held by a handler's module object with a FaultyPort around it (once)."""
    current = getattr(container, attribute)
    if isinstance(current, FaultyPort):
        return current
    faulty = FaultyPort(current, ORDER_OF.get(attribute))
    setattr(container, attribute, faulty)
    return faulty


def swallow(_real: Any, *_args: Any, **_kwargs: Any) -> None:
    """An outcome that drops the call: the worker did its work and never answered."""
    return None


class PlannedOrderIds:
    """Wraps CreateOrder's id source so the harness can name an order before it is placed.

    Order ids are random, yet a fault must be armed for an order before its saga runs: the
    harness names the id of the next order placed on its own thread; every other order gets
    a random id as usual.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self._planned = threading.local()

    def new_id(self) -> str:
        planned = getattr(self._planned, "order_id", None)
        if planned is None:
            return str(self.real.new_id())
        self._planned.order_id = None
        return str(planned)

    @contextmanager
    def naming(self, order_id: str) -> Iterator[str]:
        self._planned.order_id = order_id
        try:
            yield order_id
        finally:
            self._planned.order_id = None


def plan_order_ids(container: Any) -> PlannedOrderIds:
    """Replace CreateOrder's id source with a PlannedOrderIds around it (once)."""
    current = container.order_ids
    if isinstance(current, PlannedOrderIds):
        return current
    planned = PlannedOrderIds(current)
    container.order_ids = planned
    return planned
