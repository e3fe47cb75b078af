"""Where the saga's local cloud keeps what outlives one run, beside the project."""

from __future__ import annotations

from pathlib import Path

from localcloud.endpoint import OUTPUTS_FILE
from localcloud.identity import KEY_FILE

STATE_DIR = ".order-saga"


def outputs_path(root: Path | str) -> Path:
    """The outputs `order-saga local start` writes and the operator commands read."""
    return Path(root).resolve() / STATE_DIR / OUTPUTS_FILE


def key_path(root: Path | str) -> Path:
    """The local signing key of `order-saga local token` and the local API."""
    return Path(root).resolve() / STATE_DIR / KEY_FILE
