"""Data access for the statistics counters (``StatsModel``): sharded atomic adds, reads.

An event adds to every scope (platform, department, item) and period (day, month, year) it
belongs to, in one transaction with a claim on its business key (``stats#<event>#<receipt>``),
so that a retried request or a redelivered message never counts twice, and a crash never counts
half. The event's receipt picks one of ``STATS_SHARDS`` counter items per scope and period, so
that no item is written by every case; readers add the shards up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.stats import COUNTERS, STATS_SHARDS, add, periods, scopes, shard
from chalicelib.store import dynamo
from chalicelib.store.models import ClaimModel, StatsModel

CLAIM_PREFIX = "stats#"


def bucket(period: str, number: int) -> str:
    """Hash key of one shard of one period."""
    return f"{period}#{number}"


def actions(increments: Mapping[str, int]) -> list[Action]:
    """``ADD`` actions for the non-zero increments."""
    found: list[Action] = []
    for name, value in sorted(increments.items()):
        if name not in COUNTERS:
            raise ValueError(f"unknown counter {name!r}")
        if value:
            found.append(getattr(StatsModel, name).add(int(value)))
    return found


def add_to(tx: TransactWrite, receipt: str, department: str, service_code: str | None,
           day: date, increments: Mapping[str, int]) -> None:
    """Add ``increments`` to every scope and period of the event, inside ``tx``."""
    adds = actions(increments)
    if not adds:
        return
    number = shard(receipt)
    for period in periods(day):
        for scope in scopes(department, service_code):
            tx.update(StatsModel(bucket(period, number), scope), actions=adds)


def record(event_key: str, receipt: str, department: str, service_code: str | None, day: date,
           increments: Mapping[str, int]) -> bool:
    """Count an event once: claim ``event_key`` and add, in one transaction.

    Returns False when the claim existed (counted already).
    """
    claim = ClaimModel(CLAIM_PREFIX + event_key, state="DONE", data={"receipt": receipt})
    try:
        with TransactWrite(connection=dynamo.connection()) as tx:
            tx.save(claim, condition=ClaimModel.key.does_not_exist())
            add_to(tx, receipt, department, service_code, day, increments)
    except TransactWriteError as exc:
        if _claimed(exc):
            return False
        raise
    return True


def _claimed(exc: TransactWriteError) -> bool:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    codes = {getattr(r, "code", None) for r in reasons if r is not None}
    if codes:
        return "ConditionalCheckFailed" in codes
    return "ConditionalCheckFailed" in str(getattr(exc, "cause_response_message", "") or exc)


def _counters(item: StatsModel) -> dict[str, int]:
    return {name: int(getattr(item, name) or 0) for name in COUNTERS}


def period_scopes(period: str, *, prefix: str | None = None, below: str | None = None
                  ) -> dict[str, dict[str, int]]:
    """Every scope of a period (shards added up): those starting with ``prefix``, or those
    sorting before ``below`` (``below="item#"``: the platform and its departments)."""
    found: dict[str, list[dict[str, int]]] = {}
    for number in range(STATS_SHARDS):
        if prefix is not None:
            query = StatsModel.query(bucket(period, number), StatsModel.scope.startswith(prefix))
        elif below is not None:
            query = StatsModel.query(bucket(period, number), StatsModel.scope < below)
        else:
            query = StatsModel.query(bucket(period, number))
        for item in query:
            found.setdefault(item.scope, []).append(_counters(item))
    return {scope: add(*parts) for scope, parts in found.items()}


def series(periods_: Iterable[str], scope: str) -> dict[str, dict[str, int]]:
    """One scope's counters for each period (missing periods are zeros)."""
    wanted = list(periods_)
    keys = [(bucket(p, n), scope) for p in wanted for n in range(STATS_SHARDS)]
    found: dict[str, list[dict[str, int]]] = {p: [] for p in wanted}
    for item in StatsModel.batch_get(keys):
        found[item.bucket.rsplit("#", 1)[0]].append(_counters(item))
    return {p: add(*parts) for p, parts in found.items()}


def scope_total(period: str, scope: str) -> dict[str, int]:
    """One scope's counters in one period."""
    return series([period], scope)[period]


def raw(period: str) -> list[dict[str, Any]]:
    """Every stored shard item of a period (diagnostics and tests)."""
    items = []
    for number in range(STATS_SHARDS):
        for item in StatsModel.query(bucket(period, number)):
            items.append({"bucket": item.bucket, "scope": item.scope, **_counters(item)})
    return items
