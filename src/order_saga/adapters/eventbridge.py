"""EventBridgeEventPublisher: domain events onto the saga's bus."""

from __future__ import annotations

import json
from typing import Any

from order_saga.domain.events import SOURCE


class EventNotPublishedError(Exception):
    """EventBridge answered but did not take the event (FailedEntryCount > 0)."""


class EventBridgeEventPublisher:
    """EventPublisher that checks FailedEntryCount, since PutEvents does not raise for it."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if response.get("FailedEntryCount", 0):
            entry = response["Entries"][0]
            raise EventNotPublishedError(
                f"{detail_type} refused: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
