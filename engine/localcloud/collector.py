"""The garbage collector and what lives as long as the process: paused while the engine imports
it, and frozen at a program's exit."""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector paused for the block, then let run again if it ran before."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def paused_then_frozen() -> Iterator[None]:
    """Pause the collector; then freeze what was made meanwhile out of its walks, and let it
    run again if it ran before. Importing moto and botocore makes a few hundred thousand
    objects that stay for good: the collector ran 60 to 90 ms walking them while they were
    made, and let run again unfrozen, it would walk them all at its next collection. A
    cloud's stop unfreezes them with what its start froze (`LocalCloud._tune_the_collector`)."""
    with paused():
        try:
            yield
        finally:
            gc.freeze()


def freeze_at_exit() -> None:
    """For a process that ends when its command does: at its exit, freeze every object before
    the interpreter tears its modules down. Python collects garbage while it does, walking
    every object left (the engine leaves a few hundred thousand), and that took 0.8 s of an
    `order-saga demo` of 3.1 s; frozen, they are freed as the modules go, without the walks."""
    atexit.register(gc.freeze)
