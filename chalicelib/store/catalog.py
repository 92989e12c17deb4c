"""Data access for the service catalog: versioned items, current version cached in-process."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
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
    publish_snapshot(documents)
    with _lock:
        _cache.clear()
    return len(documents)


def by_department(department: str) -> list[dict[str, Any]]:
    """Items in force of one department."""
    return [dict(item.document) for item in CatalogModel.department_index.query(department)
            if item.version == CURRENT]


# -- the published snapshot: what GET /services and GET /departments read ----------------------
#
# Listing and searching the catalog must not scan the table. Every publish therefore also writes
# a snapshot of the items in force: one summary per item (the fields a list shows and a search
# matches), in chunks under the reserved partition ``SNAPSHOT``. A process reads it with one
# Query and keeps it; every ``_CACHE_SECONDS`` it reads the head item (one GetItem) and reloads
# only when a newer generation was published. The head is written after its chunks, so a reader
# never sees a generation half written. The full item (all eight public standards) is one
# GetItem away (``current``).

SNAPSHOT = "~snapshot"  # cannot collide with an item code (those start with [0-9a-z])
_GENERATION_SPAN = 100_000  # chunk i of generation g has version g * span + i
_CHUNK_BYTES = 300_000  # well under DynamoDB's 400 KB item limit
SUMMARY_FIELDS = ("code", "version", "name", "department", "sector", "online", "promised_days",
                  "legal_days", "applicant_kinds")


@dataclass(frozen=True)
class Snapshot:
    """The catalog in force as last published: one summary dict per item, sorted by code."""

    generation: int
    published_at: str
    items: tuple[dict[str, Any], ...]


_snapshot: dict[str, tuple[float, Snapshot | None]] = {}


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """What the snapshot keeps of an item."""
    found = {key: document[key] for key in SUMMARY_FIELDS if key in document}
    found["fee"] = (document.get("fee") or {}).get("amount_yuan")
    found["model"] = (document.get("routing") or {}).get("model")
    return found


def publish_snapshot(documents: list[dict[str, Any]], *, published_at: str = "") -> int:
    """Write a new snapshot generation: the current one with ``documents`` merged in.

    Returns the new generation number.
    """
    head = _head(consistent=True)
    previous = _read_chunks(head) if head else ()
    merged = {item["code"]: item for item in previous}
    merged.update({doc["code"]: summary(doc) for doc in documents})
    generation = (int(head["generation"]) if head else 0) + 1
    chunks = _chunks([merged[code] for code in sorted(merged)])
    with CatalogModel.batch_write() as batch:
        for number, chunk in enumerate(chunks, start=1):
            batch.save(CatalogModel(SNAPSHOT, generation * _GENERATION_SPAN + number,
                                    department=SNAPSHOT, document={"items": chunk}))
    new_head = {"generation": generation, "chunks": len(chunks), "count": len(merged),
                "published_at": published_at}
    condition = (CatalogModel.code.does_not_exist() if head is None
                 else CatalogModel.document == head)
    # Conditional on the head we merged into: two publishes at once never lose an item.
    CatalogModel(SNAPSHOT, CURRENT, department=SNAPSHOT, document=new_head).save(
        condition=condition)
    if head:  # the generation before the previous one is no longer read by anyone
        _delete_generation(int(head["generation"]) - 1)
    with _lock:
        _snapshot.clear()
    return generation


def snapshot(*, now: float | None = None) -> Snapshot | None:
    """The published snapshot (cached; refreshed when a newer generation exists)."""
    t = time.monotonic() if now is None else now
    hit = _snapshot.get(SNAPSHOT)
    if hit and t - hit[0] < _CACHE_SECONDS:
        return hit[1]
    head = _head(consistent=False)
    found: Snapshot | None = None
    if head is not None:
        cached = hit[1] if hit else None
        if cached is not None and cached.generation == int(head["generation"]):
            found = cached
        else:
            found = Snapshot(int(head["generation"]), str(head.get("published_at", "")),
                             _read_chunks(head))
    with _lock:
        _snapshot[SNAPSHOT] = (t, found)
    return found


_bound: dict[tuple[str, int], dict[str, Any]] = {}


def bound(code: str, number: int) -> dict[str, Any] | None:
    """The version of an item an application was filed under (immutable, so cached for good)."""
    key = (code, int(number))
    hit = _bound.get(key)
    if hit is not None:
        return hit
    found = version(code, number)
    if found is not None:
        with _lock:
            _bound[key] = found
    return found


def _head(*, consistent: bool) -> dict[str, Any] | None:
    try:
        return dict(CatalogModel.get(SNAPSHOT, CURRENT, consistent_read=consistent).document)
    except DoesNotExist:
        return None


def _read_chunks(head: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    first = int(head["generation"]) * _GENERATION_SPAN
    rows = CatalogModel.query(SNAPSHOT, CatalogModel.version.between(first + 1,
                                                                     first + _GENERATION_SPAN - 1))
    items: list[dict[str, Any]] = []
    for row in rows:
        items.extend(row.document["items"])
    return tuple(sorted(items, key=lambda item: str(item["code"])))


def _chunks(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for item in items:
        length = len(json.dumps(item, ensure_ascii=False).encode())
        if chunks[-1] and size + length > _CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += length
    return chunks


def _delete_generation(generation: int) -> None:
    if generation < 1:
        return
    first = generation * _GENERATION_SPAN
    with CatalogModel.batch_write() as batch:
        for row in CatalogModel.query(SNAPSHOT, CatalogModel.version.between(
                first + 1, first + _GENERATION_SPAN - 1)):
            batch.delete(row)
