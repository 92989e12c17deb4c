"""The case log: an append-only, hash-chained record of everything that happens to a case.

Each record carries the hash of the previous one, so changing, removing or reordering any
record breaks the chain. Appends are conditional on the sequence number being new, so two
writers never fork the chain: the loser re-reads the head and tries again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.store.models import CaseLogModel

GENESIS = "0" * 64


def record_hash(receipt: str, seq: int, at: datetime, kind: str, actor: str, public: bool,
                data: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of a record's content and its predecessor's hash."""
    canonical = json.dumps(
        {"receipt": receipt, "seq": seq, "at": at.isoformat(), "kind": kind, "actor": actor,
         "public": public, "data": data, "prev": prev_hash},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def head(receipt: str) -> tuple[int, str]:
    """The next sequence number of a case's chain and the hash it must link to."""
    last = next(iter(CaseLogModel.query(receipt, scan_index_forward=False, limit=1,
                                        consistent_read=True)), None)
    return (0, GENESIS) if last is None else (int(last.seq) + 1, last.hash)


def build(receipt: str, seq: int, prev: str, kind: str, *, actor: str, at: datetime,
          data: dict[str, Any] | None = None, public: bool = True) -> CaseLogModel:
    """The record at ``seq`` linked to ``prev`` (not yet written)."""
    data = data or {}
    return CaseLogModel(receipt, seq, at=at, kind=kind, actor=actor, public=public, data=data,
                        prev_hash=prev,
                        hash=record_hash(receipt, seq, at, kind, actor, public, data, prev))


def append(receipt: str, kind: str, *, actor: str, at: datetime, data: dict[str, Any] | None = None,
           public: bool = True, attempts: int = 8) -> CaseLogModel:
    """Append one record to a case's chain, on its own (a step's records go with the step)."""
    for _ in range(attempts):
        seq, prev = head(receipt)
        item = build(receipt, seq, prev, kind, actor=actor, at=at, data=data, public=public)
        try:
            item.save(condition=CaseLogModel.seq.does_not_exist())
            return item
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"could not append to the case log of {receipt}")


def records(receipt: str, *, public_only: bool = False) -> list[CaseLogModel]:
    """Every record of a case, in order."""
    items = list(CaseLogModel.query(receipt, consistent_read=True))
    return [i for i in items if i.public] if public_only else items


def first_broken_link(items: list[CaseLogModel]) -> int | None:
    """Sequence number of the first record whose hash or link does not hold, or None."""
    prev = GENESIS
    for expected_seq, item in enumerate(items):
        digest = record_hash(item.receipt, int(item.seq), item.at, item.kind, item.actor,
                             bool(item.public), dict(item.data), item.prev_hash)
        if item.seq != expected_seq or item.prev_hash != prev or item.hash != digest:
            return expected_seq
        prev = item.hash
    return None
