"""One step, one transaction: a case's state change, its audit records and its outbox.

Every step of a case (accepted, opened, stage opened, approved, denied, a decision …) is written
as a single DynamoDB transaction:

- the update of the application item, conditional on the state the step read;
- the step's case-log records (hash-chained, each conditional on its sequence number being new);
- the step's *outbox*: every message the step implies (the next queue message, department task
  messages, notification events, statistics counts), appended to the application item's
  ``pending`` list, with the ``outbox`` marker that puts the case on the sparse outbox index;
- optionally more items of the same step (a stage's tasks, a decided task).

So a crash anywhere leaves either nothing or the whole step. What the outbox owes is delivered
by ``chalicelib.outbox`` right after the commit and, should that die, by the sweeper; every
receiver is idempotent on the id the transaction fixed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.errors import RetryableError
from chalicelib.store import caselog, dynamo
from chalicelib.store.models import ApplicationModel, CaseLogModel

# The hash key of the sparse outbox index for every case that still owes messages.
PENDING = "pending"


class StepRace(RetryableError):
    """The step lost a race with a concurrent writer too often; the caller retries later."""


@dataclass(frozen=True)
class Record:
    """An audit (case-log) record that a step appends."""

    kind: str
    actor: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    public: bool = True


def message(queue: str, body: dict[str, Any]) -> dict[str, Any]:
    """An outbox entry: send ``body`` to the queue named ``queue`` (a physical name)."""
    return {"to": "queue", "queue": queue, "body": body}


def effect(kind: str, **args: Any) -> dict[str, Any]:
    """An outbox entry: an idempotent side effect the relay performs (see chalicelib.outbox)."""
    return {"to": kind, **args}


def outbox_actions(entries: Sequence[dict[str, Any]], now: datetime) -> list[Action]:
    """Update actions that append ``entries`` to a case's outbox."""
    if not entries:
        return []
    # Each entry has an id of its own (given, or made here): clearing a delivered prefix checks
    # it, and a caller that performed an entry itself names it to the relay.
    encoded = [json.dumps({"id": secrets.token_hex(8)} | e, sort_keys=True, ensure_ascii=False,
                          default=str) for e in entries]
    return [ApplicationModel.outbox.set(PENDING),
            ApplicationModel.outbox_at.set(now),
            ApplicationModel.pending.set((ApplicationModel.pending | []).append(encoded))]


def commit(receipt: str, actions: list[Action], condition: Condition | None, *,
           records: Sequence[Record] = (), outbox: Sequence[dict[str, Any]] = (),
           now: datetime, also: Callable[[TransactWrite], None] | None = None,
           attempts: int = 8) -> bool:
    """Write one step atomically; False when ``condition`` (or an item of ``also``) failed.

    A lost race for the case log's next sequence number is retried; nothing is half-written.
    """
    for _ in range(attempts):
        log_items = _chain(receipt, records)
        try:
            with TransactWrite(connection=dynamo.connection()) as tx:
                tx.update(ApplicationModel(receipt),
                          actions=actions + outbox_actions(outbox, now),
                          condition=condition)
                for item in log_items:
                    tx.save(item, condition=CaseLogModel.seq.does_not_exist())
                if also is not None:
                    also(tx)
        except TransactWriteError as exc:
            codes = set(_codes(exc).values())
            if "TransactionConflict" in codes or (log_items and _moved(receipt, log_items[0])):
                continue  # a concurrent writer: re-read the chain's head and try again
            if "ConditionalCheckFailed" in codes:
                return False  # the step's condition no longer holds: someone did it first
            raise
        return True
    raise StepRace(receipt)


def clear_outbox(application: ApplicationModel, delivered: int) -> bool:
    """Drop the first ``delivered`` entries of the outbox as read in ``application``.

    Conditional on them still being there: entries are only ever appended, and removed only
    here, so a concurrent relay or a later step never loses one. True when the outbox is empty.
    """
    read = list(application.pending or [])[:delivered]
    if not read:
        return True
    whole = (ApplicationModel.pending[0] == read[0]) & (
        ApplicationModel.pending[len(read) - 1] == read[-1])
    try:
        ApplicationModel(application.receipt).update(
            actions=[ApplicationModel.pending.remove(), ApplicationModel.outbox.remove(),
                     ApplicationModel.outbox_at.remove()],
            condition=whole & (size(ApplicationModel.pending) == len(read)))
        return True
    except UpdateError as exc:
        if not dynamo.condition_failed(exc):
            raise
    try:  # more was appended meanwhile: drop only the delivered prefix
        ApplicationModel(application.receipt).update(
            actions=[ApplicationModel.pending[i].remove() for i in range(len(read))],
            condition=whole)
    except UpdateError as exc:
        if not dynamo.condition_failed(exc):
            raise
    return False


def pending_entries(application: ApplicationModel) -> list[dict[str, Any]]:
    """The entries a case's outbox still owes, oldest first."""
    return [json.loads(str(e)) for e in (application.pending or [])]


def owing(older_than: datetime, limit: int = 100) -> list[str]:
    """Receipts whose outbox was written before ``older_than`` and is not yet delivered."""
    query = ApplicationModel.outbox_index.query(
        PENDING, ApplicationModel.outbox_at < older_than, limit=limit)
    return [item.receipt for item in query]


def _chain(receipt: str, records: Sequence[Record]) -> list[CaseLogModel]:
    if not records:
        return []
    seq, prev = caselog.head(receipt)
    items = []
    for record in records:
        item = caselog.build(receipt, seq, prev, record.kind, actor=record.actor, at=record.at,
                             data=record.data, public=record.public)
        items.append(item)
        seq, prev = seq + 1, item.hash
    return items


def _moved(receipt: str, first: CaseLogModel) -> bool:
    """Whether the chain grew since ``first`` was linked (some other writer appended)."""
    return caselog.head(receipt) != (int(first.seq), first.prev_hash)


def _codes(exc: TransactWriteError) -> dict[int, str]:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    found = {i: str(r.code) for i, r in enumerate(reasons)
             if r is not None and getattr(r, "code", None) not in (None, "None")}
    if not found:
        text = str(getattr(exc, "cause_response_message", "") or exc)
        for code in ("TransactionConflict", "ConditionalCheckFailed"):
            if code in text:
                found[-1] = code
    return found
