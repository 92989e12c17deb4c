"""Data access for the audit trail: chains' records, signed heads, chains waiting for a head.

A chain with records newer than its last signed head carries a marker ``unsigned#<shard>`` /
``<chain>`` in the supervision table; the supervise pass reads the markers (one query per
shard: what changed, not what exists), signs each chain's head and removes the marker, if no
append re-marked it meanwhile (the marker's ``marked_at`` is unique per append). Signed heads
are put once and never changed.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.audit import Link, SignedHead
from chalicelib.store.models import CaseLogModel, SupervisionModel

MARKER_SHARDS = 16
_UNSIGNED = "unsigned#"
_HEAD = "head#"


@dataclass(frozen=True)
class Marker:
    """A chain waiting for its head to be signed."""

    shard: str
    chain: str
    marked_at: str


def _shard(chain: str) -> str:
    return str(zlib.crc32(chain.encode()) % MARKER_SHARDS)


def mark_unsigned(chain: str, at: datetime) -> None:
    """Note that ``chain`` has a record newer than its last signed head (after appending)."""
    SupervisionModel(f"{_UNSIGNED}{_shard(chain)}", chain, kind="unsigned",
                     marked_at=f"{at.isoformat()}#{secrets.token_hex(4)}").save()


def pending(*, limit: int = 1000) -> Iterator[Marker]:
    """Chains waiting for a signed head, shard by shard, at most ``limit`` in all."""
    given = 0
    for number in range(MARKER_SHARDS):
        shard = str(number)
        for item in SupervisionModel.query(f"{_UNSIGNED}{shard}"):
            if given >= limit:
                return
            given += 1
            yield Marker(shard, item.sk, str(item.marked_at or ""))


def clear(marker: Marker) -> bool:
    """Remove a marker unless an append re-marked the chain since it was read."""
    try:
        SupervisionModel(f"{_UNSIGNED}{marker.shard}", marker.chain).delete(
            condition=SupervisionModel.marked_at == marker.marked_at)
    except DeleteError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def chain_head(chain: str) -> tuple[int, str] | None:
    """Sequence number and hash of a chain's newest record."""
    head = next(iter(CaseLogModel.query(chain, scan_index_forward=False, limit=1,
                                        consistent_read=True)), None)
    return None if head is None else (int(head.seq), str(head.hash))


def put_head(head: SignedHead) -> bool:
    """Store a signed head once; False when that head was signed already."""
    item = SupervisionModel(f"{_HEAD}{head.chain}", f"{head.seq:012d}", kind="head",
                            data={"hash": head.hash, "signed_at": head.signed_at,
                                  "key_id": head.key_id,
                                  "signature": base64.b64encode(head.signature).decode()})
    try:
        item.save(condition=SupervisionModel.sk.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def heads(chain: str) -> list[SignedHead]:
    """Every signed head of a chain, oldest first."""
    found = []
    for item in SupervisionModel.query(f"{_HEAD}{chain}", consistent_read=True):
        data = dict(item.data or {})
        found.append(SignedHead(chain, int(item.sk), str(data["hash"]), str(data["signed_at"]),
                                str(data["key_id"]), base64.b64decode(data["signature"])))
    return found


def links(chain: str) -> list[Link]:
    """Every record of a chain in stored order, as the verifier reads them."""
    return [Link(int(i.seq), i.at, str(i.kind), str(i.actor), bool(i.public),
                 dict(i.data or {}), str(i.prev_hash), str(i.hash))
            for i in CaseLogModel.query(chain, consistent_read=True)]
