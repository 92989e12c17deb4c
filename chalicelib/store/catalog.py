"""Data access for the service catalog: versioned items, current version cached in-process."""

from __future__ import annotations

import threading
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import CatalogModel

CURRENT = 0  # version 0 holds a copy of the version in force
_CACHE_SECONDS = 60
_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
_lock = threading.Lock()


def current(code: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The service item in force (its document), or None; cached for a minute."""
    t = time.monotonic() if now is None else now
    hit = _cache.get(code)
    if hit and t - hit[0] < _CACHE_SECONDS:
        return hit[1]
    try:
        doc: dict[str, Any] | None = dict(CatalogModel.get(code, CURRENT).document)
    except DoesNotExist:
        doc = None
    with _lock:
        _cache[code] = (t, doc)
    return doc


def version(code: str, number: int) -> dict[str, Any] | None:
    """A specific version of an item (applications are bound to the version they filed)."""
    try:
        return dict(CatalogModel.get(code, number).document)
    except DoesNotExist:
        return None


def publish(documents: list[dict[str, Any]]) -> int:
    """Write items: each as its own version and as the current one. Returns the count."""
    with CatalogModel.batch_write() as batch:
        for doc in documents:
            for number in (int(doc.get("version", 1)), CURRENT):
                batch.save(CatalogModel(doc["code"], number, department=doc["department"],
                                        document=doc))
    with _lock:
        _cache.clear()
    return len(documents)


def by_department(department: str) -> list[dict[str, Any]]:
    """Items in force of one department."""
    return [dict(item.document) for item in CatalogModel.department_index.query(department)
            if item.version == CURRENT]
