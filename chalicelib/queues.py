"""SQS: sending messages to the platform's and departments' queues, deleting handled ones."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib.clients import client

_urls: dict[str, str] = {}
_lock = threading.Lock()


def queue_url(name: str) -> str:
    """URL of the queue called ``name`` (looked up once per process)."""
    url = _urls.get(name)
    if url is None:
        url = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        with _lock:
            _urls[name] = url
    return url


def name_from_arn(arn: str) -> str:
    """Queue name from an SQS ARN (``eventSourceARN`` of an SQS record)."""
    return arn.rsplit(":", 1)[-1]


def send(name: str, body: dict[str, Any], *, group: str | None = None,
         delay_seconds: int = 0) -> str:
    """Send one JSON message (visible after ``delay_seconds``, at most 900); returns its id."""
    kwargs: dict[str, Any] = {
        "QueueUrl": queue_url(name),
        "MessageBody": json.dumps(body, ensure_ascii=False, sort_keys=True),
    }
    if delay_seconds:
        kwargs["DelaySeconds"] = max(0, min(900, int(delay_seconds)))
    if group:
        kwargs["MessageAttributes"] = {"group": {"DataType": "String", "StringValue": group}}
    return str(client("sqs").send_message(**kwargs)["MessageId"])


def send_many(name: str, bodies: Sequence[dict[str, Any]]) -> None:
    """Send JSON messages in batches of ten; raises if any entry failed."""
    sqs = client("sqs")
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(b, ensure_ascii=False, sort_keys=True)}
            for i, b in enumerate(chunk)
        ]
        result = sqs.send_message_batch(QueueUrl=queue_url(name), Entries=entries)
        if result.get("Failed"):
            raise RuntimeError(f"{len(result['Failed'])} messages not sent to {name}")


def delete(name: str, receipt_handles: Iterable[tuple[str, str]]) -> None:
    """Delete handled messages, given ``(message_id, receipt_handle)`` pairs."""
    pairs = list(receipt_handles)
    sqs = client("sqs")
    for start in range(0, len(pairs), 10):
        chunk = pairs[start : start + 10]
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, (_, h) in enumerate(chunk)]
        result = sqs.delete_message_batch(QueueUrl=queue_url(name), Entries=entries)
        if result.get("Failed"):
            raise RuntimeError(f"{len(result['Failed'])} handled messages not deleted from {name}")


def reset() -> None:
    """Forget cached queue URLs (tests switch endpoints)."""
    with _lock:
        _urls.clear()
