"""Deliver queue messages and schedules to Chalice handlers exactly as Lambda would.

Workers long-poll a queue, wrap up to ten messages in Lambda's SQS event shape (real message
ids, receipt handles and receive counts) and call the very handler object Lambda would call.
As Lambda does: when the handler returns, the whole batch is deleted; when it raises, nothing is
deleted and the messages come back after their visibility timeout.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalice.local import LambdaContext

log = logging.getLogger("onestop.local")


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """A Lambda SQS event for messages as ``ReceiveMessage`` returned them."""
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def scheduled_event(name: str, region: str, now: datetime | None = None) -> dict[str, Any]:
    """An EventBridge scheduled event, as Lambda receives it."""
    at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": at, "region": region,
            "resources": [f"arn:aws:events:{region}:123456789012:rule/{name}"], "detail": {}}


def invoke_once(sqs: Any, queue_url: str, queue_arn: str, region: str,
                handler: Callable[[dict[str, Any], Any], Any], function_name: str,
                *, wait: int = 2, batch_size: int = 10, timeout_s: int = 30,
                visibility_timeout: int | None = None) -> int:
    """Receive one batch and invoke the handler; returns how many messages were delivered.

    ``visibility_timeout`` overrides the queue's (tests pass 0 to stand in for its expiry).
    """
    kwargs: dict[str, Any] = {}
    if visibility_timeout is not None:
        kwargs["VisibilityTimeout"] = visibility_timeout
    response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size,
                                   WaitTimeSeconds=wait, AttributeNames=["All"],
                                   MessageAttributeNames=["All"], **kwargs)
    messages = response.get("Messages", [])
    if not messages:
        return 0
    context = LambdaContext(function_name, 256, max_runtime_ms=timeout_s * 1000)
    try:
        handler(sqs_event(messages, queue_arn, region), context)
    except Exception as exc:  # Lambda's behaviour: the batch stays on the queue
        log.warning("%s: batch of %d failed (%s); left for redelivery", function_name,
                    len(messages), exc)
        return len(messages)
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    return len(messages)


class QueueWorker(threading.Thread):
    """Long-polls one queue and feeds its handler until stopped."""

    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, region: str,
                 handler: Callable[[dict[str, Any], Any], Any], function_name: str,
                 batch_size: int = 10) -> None:
        super().__init__(name=f"worker-{function_name}", daemon=True)
        self._args = (sqs, queue_url, queue_arn, region, handler, function_name)
        self._batch_size = batch_size
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                invoke_once(*self._args, wait=1, batch_size=self._batch_size)
            except Exception as exc:  # the embedded AWS going away on shutdown, for example
                if not self._stop_event.is_set():
                    log.warning("worker %s: %s", self.name, exc)
                    time.sleep(1)

    def stop(self) -> None:
        self._stop_event.set()


class Scheduler(threading.Thread):
    """Runs scheduled handlers at their rates."""

    def __init__(self, jobs: list[tuple[str, float, Callable[[dict[str, Any], Any], Any]]],
                 region: str) -> None:
        super().__init__(name="scheduler", daemon=True)
        self._jobs = jobs
        self._region = region
        self._stop_event = threading.Event()

    def run(self) -> None:
        due = {name: time.monotonic() + 5 for name, _, _ in self._jobs}
        while not self._stop_event.wait(0.5):
            for name, every, handler in self._jobs:
                if time.monotonic() >= due[name]:
                    due[name] = time.monotonic() + every
                    try:
                        handler(scheduled_event(name, self._region),
                                LambdaContext(name, 256, max_runtime_ms=120_000))
                    except Exception as exc:
                        log.warning("scheduled %s failed: %s", name, exc)

    def stop(self) -> None:
        self._stop_event.set()


def rate_seconds(expression: Any) -> float:
    """Seconds between runs of a chalice ``Rate`` (cron schedules run hourly locally)."""
    value = getattr(expression, "value", None)
    unit = getattr(expression, "unit", None)
    if value is None or unit is None:
        return 3600.0
    return float(value) * {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600,
                           "day": 86400, "days": 86400}[str(unit).lower()]
