"""Data access for rate limits: fixed-window counters in the claims table, gone by TTL.

One atomic ``ADD`` per request and dimension answers "how many requests in this window so
far", without a read first. Each counter is its own item (``rate#<scope>#<who>#<window>``), so
no single item is written by every request of the province.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import ClaimModel


def window_start(now: datetime, window: timedelta) -> int:
    """The start of the fixed window ``now`` falls in (seconds since the epoch)."""
    seconds = int(window.total_seconds())
    return int(now.timestamp()) // seconds * seconds


def _key(scope: str, who: str, start: int) -> str:
    return f"rate#{scope}#{who}#{start}"


def current(scope: str, who: str, now: datetime, window: timedelta) -> int:
    """The count of ``who`` in ``scope`` in the current window (0 if none)."""
    try:
        item = ClaimModel.get(_key(scope, who, window_start(now, window)))
    except DoesNotExist:
        return 0
    return int(item.counter or 0)


def hit(scope: str, who: str, now: datetime, window: timedelta) -> int:
    """Count one request of ``who`` in ``scope``; returns the count in the current window."""
    start = window_start(now, window)
    item = ClaimModel(_key(scope, who, start))
    expires = datetime.fromtimestamp(start, tz=now.tzinfo) + window + timedelta(minutes=5)
    # update() returns the new values and sets them on ``item``.
    item.update(actions=[ClaimModel.counter.add(1), ClaimModel.state.set("RATE"),
                         ClaimModel.expires_at.set(expires)])
    return int(item.counter or 0)
