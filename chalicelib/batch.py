"""Processing an SQS batch so that one bad record never harms its neighbours.

chalice 1.34 cannot turn on ``ReportBatchItemFailures`` for its event source mappings, so we do
not rely on partial batch responses. Instead, when some records fail we delete the successful
ones ourselves and then raise: Lambda leaves the whole batch on the queue, but only the failed
records are still there to be redelivered, and after ``maxReceiveCount`` receives SQS moves them
to the dead-letter queue. When every record succeeds we return normally and Lambda deletes the
batch. Nothing is ever deleted that was not handled, whatever the mapping's settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import OnestopError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """The parts of an SQS record a consumer needs."""

    message_id: str
    receipt_handle: str
    body: str
    queue: str
    receive_count: int

    @classmethod
    def from_lambda(cls, record: dict[str, Any]) -> Record:
        """Build from one entry of a Lambda SQS event's ``Records``."""
        return cls(
            message_id=record["messageId"],
            receipt_handle=record["receiptHandle"],
            body=record["body"],
            queue=record["eventSourceARN"].rsplit(":", 1)[-1],
            receive_count=int(record.get("attributes", {}).get("ApproximateReceiveCount", "1")),
        )


class BatchFailed(OnestopError):
    """Some records failed; they stay on the queue for redelivery."""

    def __init__(self, failed: list[str]) -> None:
        self.failed = failed
        super().__init__(f"{len(failed)} record(s) failed: {', '.join(failed)}")


Deleter = Callable[[str, list[tuple[str, str]]], None]


def process_batch(
    records: Iterable[dict[str, Any]],
    handle: Callable[[Record], None],
    delete: Deleter,
) -> int:
    """Handle every record; on partial failure delete the handled ones and raise ``BatchFailed``.

    Returns the number of records handled when all succeeded.
    """
    done: list[Record] = []
    failed: list[Record] = []
    for raw in records:
        record = Record.from_lambda(raw)
        try:
            handle(record)
        except Exception as exc:  # one bad record must not stop its neighbours
            log.warning(
                "record failed",
                extra={"message_id": record.message_id, "queue": record.queue,
                       "receive_count": record.receive_count, "error": type(exc).__name__},
                exc_info=not isinstance(exc, OnestopError),
            )
            failed.append(record)
        else:
            done.append(record)
    if failed:
        by_queue: dict[str, list[tuple[str, str]]] = {}
        for r in done:
            by_queue.setdefault(r.queue, []).append((r.message_id, r.receipt_handle))
        for queue, pairs in by_queue.items():
            delete(queue, pairs)
        raise BatchFailed([r.message_id for r in failed])
    return len(done)
