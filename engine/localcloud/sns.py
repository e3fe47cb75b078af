"""SNS notifications to Lambda subscribers, in the record shape AWS delivers."""

from __future__ import annotations

import threading
import time
from typing import Any

from localcloud.runtime import HandlerError


def sns_event(
    subscription_arn: str,
    topic_arn: str,
    message: str,
    message_id: str,
    subject: str | None,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    """The event a function subscribed to a topic receives for one message."""
    now = time.time()
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                    + f".{int(now * 1000) % 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": "local",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {
                        name: {"Type": value.get("Type"), "Value": value.get("Value")}
                        for name, value in attributes.items()
                    },
                },
            }
        ]
    }


def deliver(
    cloud: Any,
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    attributes: dict[str, Any],
) -> None:
    """Invoke the subscribed function on a thread of its own, as SNS invokes asynchronously;
    a handler error is recorded in the cloud's delivery failures."""
    event = sns_event(
        subscription.arn, subscription.topic_arn, message, message_id, subject, attributes
    )
    function = str(subscription.endpoint)

    def run() -> None:
        try:
            cloud.invoke(function, event)
        except (HandlerError, KeyError) as exc:
            cloud.record_delivery_failure(
                {"topic": subscription.topic_arn, "target": function, "error": str(exc)}
            )

    thread = threading.Thread(target=run, daemon=True, name=f"sns-{message_id[:8]}")
    cloud.track_delivery(thread)
    thread.start()
