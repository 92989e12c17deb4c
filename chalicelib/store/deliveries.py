"""Data access for notification deliveries: one claim per (event id, channel).

A delivery claim moves ``INPROGRESS`` → ``SENT`` → ``COMPLETED`` on success, or
``INPROGRESS`` → ``RETRY`` → ``INPROGRESS`` … → ``FAILED`` when its channel keeps failing.
Acquiring is a conditional write, so of two deliveries of the same event only one sends::

    t0  worker A acquires  (absent → INPROGRESS, lease until t0 + lease)
    t1  worker B acquires  → condition fails, B reads INPROGRESS: busy, B leaves it to A
    t2  A sends the SMS, marks SENT, writes the case log, marks COMPLETED
    t3  B (redelivered)    → condition fails, reads COMPLETED: nothing to do

A worker that dies between acquiring and marking leaves ``INPROGRESS`` behind; once the lease
has run out, the next delivery of the event takes it over (the only case where a message can
be sent twice: the provider accepted it but the worker died before recording so).

The event itself is recorded once (``first_seen``): its first-seen time orders the inbox and
is the same for every attempt, and the stored body lets an operator replay it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.store.models import ClaimModel

INPROGRESS = "INPROGRESS"
SENT = "SENT"
RETRY = "RETRY"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
# Longer than SQS keeps a message (14 days): a redelivery always finds its claim.
KEEP = timedelta(days=30)


@dataclass(frozen=True)
class Claim:
    """A delivery claim as stored: state, attempts made, what was recorded."""

    key: str
    state: str
    attempts: int
    data: dict[str, Any] = field(default_factory=dict)
    acquired: bool = False


def delivery_key(event_id: str, channel: str) -> str:
    """Claim key of one channel's delivery of one event."""
    return f"notify#{event_id}#{channel}"


def event_key(event_id: str) -> str:
    """Claim key of the event itself."""
    return f"notify#{event_id}"


def _condition_failed(exc: PutError | UpdateError) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def first_seen(event_id: str, event: dict[str, Any], now: datetime) -> datetime:
    """When the event was first received (recorded now if this is the first time)."""
    try:
        ClaimModel(event_key(event_id), state=COMPLETED, expires_at=now + KEEP,
                   data={"first_seen": now.isoformat(), "event": event}
                   ).save(condition=ClaimModel.key.does_not_exist())
        return now
    except PutError as exc:
        if not _condition_failed(exc):
            raise
    stored = ClaimModel.get(event_key(event_id), consistent_read=True)
    return datetime.fromisoformat(str(stored.data["first_seen"]))


def recorded_event(event_id: str) -> dict[str, Any] | None:
    """The body of an event as first received, if it was."""
    try:
        stored = ClaimModel.get(event_key(event_id), consistent_read=True)
    except DoesNotExist:
        return None
    event = stored.data.get("event")
    return dict(event) if isinstance(event, dict) else None


def get(key: str) -> Claim | None:
    """A delivery claim as stored."""
    try:
        item = ClaimModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None
    return Claim(key, item.state, int(item.counter or 0), dict(item.data or {}))


def acquire(key: str, attempt: int, now: datetime, lease: timedelta) -> Claim:
    """Take the claim for delivery attempt ``attempt`` (1 for the first).

    Succeeds (``acquired``) when the claim is new (first attempt), scheduled for exactly this
    attempt (``RETRY`` after ``attempt - 1``), or held by a worker whose lease ran out.
    Otherwise returns the claim as stored, for the caller to tell a duplicate from a busy one.
    """
    condition = ((ClaimModel.state == RETRY) & (ClaimModel.counter == attempt - 1)) | (
        (ClaimModel.state == INPROGRESS) & (ClaimModel.expires_at < now))
    if attempt == 1:
        condition = ClaimModel.key.does_not_exist() | condition
    try:
        ClaimModel(key).update(actions=[
            ClaimModel.state.set(INPROGRESS), ClaimModel.counter.set(attempt),
            ClaimModel.expires_at.set(now + lease),
            ClaimModel.data.set(ClaimModel.data | {}),
        ], condition=condition)
        return Claim(key, INPROGRESS, attempt, acquired=True)
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise
    found = get(key)
    if found is None:  # deleted by TTL between the two calls: nothing is in flight
        return Claim(key, RETRY, attempt - 1)
    return found


def _set(key: str, state: str, now: datetime, data: dict[str, Any], *,
         expect: str) -> None:
    ClaimModel(key).update(actions=[ClaimModel.state.set(state),
                                    ClaimModel.expires_at.set(now + KEEP),
                                    ClaimModel.data.set(data)],
                           condition=ClaimModel.state == expect)


def mark_sent(key: str, now: datetime, data: dict[str, Any]) -> None:
    """The provider accepted the message (``data`` says how: provider id, status, time)."""
    _set(key, SENT, now, data, expect=INPROGRESS)


def mark_completed(key: str, now: datetime, data: dict[str, Any]) -> None:
    """The delivery is recorded in the case file: nothing more to do for this channel."""
    _set(key, COMPLETED, now, data, expect=SENT)


def mark_retry(key: str, now: datetime, data: dict[str, Any]) -> None:
    """This attempt failed; the next one is scheduled (its message is already queued)."""
    _set(key, RETRY, now, data, expect=INPROGRESS)


def mark_failed(key: str, now: datetime, data: dict[str, Any]) -> None:
    """The channel's retry budget is spent; the message went to the dead-letter queue."""
    _set(key, FAILED, now, data, expect=INPROGRESS)
