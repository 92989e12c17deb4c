"""Entry points of the queue and schedule handlers: batch plumbing around the domain steps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chalicelib import batch, queues, runtime


def _now() -> datetime:
    return datetime.now(UTC)


def verify_batch(records: list[dict[str, Any]]) -> dict[str, int]:
    """Verify each received application of the batch."""
    from chalicelib import verification

    settings = runtime.ready()

    def handle(record: batch.Record) -> None:
        verification.handle(settings, json.loads(record.body), _now(), record.receive_count)

    return {"handled": batch.process_batch(records, handle, queues.delete)}


def route_batch(records: list[dict[str, Any]]) -> dict[str, int]:
    """Open cases and stages, issue licences."""
    from chalicelib import workflow

    settings = runtime.ready()

    def handle(record: batch.Record) -> None:
        workflow.handle(settings, json.loads(record.body), _now())

    return {"handled": batch.process_batch(records, handle, queues.delete)}


def notify_batch(records: list[dict[str, Any]]) -> dict[str, int]:
    """Deliver notification events."""
    from chalicelib import notifications

    settings = runtime.ready()

    def handle(record: batch.Record) -> None:
        notifications.handle(settings, json.loads(record.body), _now(), record.message_id)

    return {"handled": batch.process_batch(records, handle, queues.delete)}


def supervise_run() -> dict[str, Any]:
    """One supervision pass."""
    from chalicelib import supervision

    return supervision.run(runtime.ready(), _now())


def sweep_run() -> dict[str, int]:
    """Deliver the outboxes whose step died before delivering them."""
    from chalicelib import outbox

    return {"resent": outbox.sweep(runtime.ready(), _now())}
