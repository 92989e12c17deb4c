"""Data access for rate limits: fixed-window counters in the claims table, gone by TTL.

One atomic ``ADD`` per request and dimension answers "how many requests in this window so
far", without a read first. Each counter is its own item (``rate#<scope>#<who>#<window>``), so
no single item is written by every request of the province.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.store.models import ClaimModel


def window_start(now: datetime, window: timedelta) -> int:
    """The start of the fixed window ``now`` falls in (seconds since the epoch)."""
    seconds = int(window.total_seconds())
    return int(now.timestamp()) // seconds * seconds


def hit(scope: str, who: str, now: datetime, window: timedelta) -> int:
    """Count one request of ``who`` in ``scope``; returns the count in the current window."""
    start = window_start(now, window)
    item = ClaimModel(f"rate#{scope}#{who}#{start}")
    expires = datetime.fromtimestamp(start, tz=now.tzinfo) + window + timedelta(minutes=5)
    response = item.update(actions=[ClaimModel.counter.add(1),
                                    ClaimModel.state.set("RATE"),
                                    ClaimModel.expires_at.set(expires)])
    value = response.get("Attributes", {}).get("counter", {}).get("N")
    return int(value) if value is not None else int(item.counter or 0)
