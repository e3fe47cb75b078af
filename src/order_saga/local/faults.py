"""Faults injected at a participant's boundary: its ports, wrapped by the harness, never flags in code."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class InjectedFaultError(Exception):
    """A failure the harness made on purpose (a store or a call that refuses to work)."""


class FaultyPort:
    """Wraps a real port; the calls the plan names for an order fail as planned, the rest pass.

    A plan maps (method, order_id) to a list of outcomes consumed one call at a time: an
    exception instance is raised, a callable is called with the real method's arguments,
    and None lets the real call through. When the list is empty every later call passes.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self.plan: dict[tuple[str, str], list[Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def fail(self, method: str, order_id: str, *outcomes: Any) -> None:
        with self._lock:
            self.plan.setdefault((method, order_id), []).extend(outcomes)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            order_id = str(args[0]) if args else str(kwargs.get("order_id", ""))
            with self._lock:
                self.calls.append((name, order_id))
                outcomes = self.plan.get((name, order_id))
                outcome = outcomes.pop(0) if outcomes else None
            if isinstance(outcome, BaseException):
                raise outcome
            if callable(outcome):
                return outcome(attribute, *args, **kwargs)
            return attribute(*args, **kwargs)

        return call


def wrap_port(container: Any, attribute: str) -> FaultyPort:
    """Replace a handler container's port with a FaultyPort around it (once) and return it."""
    current = getattr(container, attribute)
    if isinstance(current, FaultyPort):
        return current
    faulty = FaultyPort(current)
    setattr(container, attribute, faulty)
    return faulty


Outcome = BaseException | Callable[..., Any] | None
