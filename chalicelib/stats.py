"""Statistics (统计): what the supervision office and the public see, kept as counters.

The source publishes per department and item: cases received and accepted, approved and denied,
finished on time (按时办结, 100% in the pilot) and early (提前办结, 64%), overdue, the working
days used and the correction rounds. Here each is a counter per scope (the whole platform, a
department, an item) and period (day, month, year), added to once when the event happens
(``record_received``, ``record_accepted``, ``record_rejected``, ``record_finished``; ratings and
warnings by their own writers), never computed by scanning cases.

Definitions (the same in the counters and in any recomputation from raw cases):

* a case *finishes* when it ends ``APPROVED`` or ``DENIED``; it counts in the period of the day
  (China time) of its decision, under the item's responsible department (承办单位);
* *on time*: decided by the end of its due date (``working_days_left >= 0`` at the decision);
  *early*: with at least one working day to spare (``> 0``); *overdue*: otherwise;
* *working days used*: from the start of review to the decision, correction pauses excluded
  (``WorkCalendar.working_days_used``); *correction rounds*: the pauses of the case's clock.

This module is the arithmetic; ``chalicelib/store/stats.py`` keeps the counters (sharded, see
``StatsModel``). The ``record_*`` functions import it on use, so that the arithmetic stays free
of AWS for the tests and the simulation that recompute the figures.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chalicelib.workcalendar import WorkCalendar, china_date

COUNTERS: tuple[str, ...] = (
    "received", "accepted", "rejected", "finished", "approved", "denied", "on_time", "early",
    "overdue", "days_used", "corrections", "rated", "rating_sum", "rating_low", "yellow", "red",
    "escalated", "findings")
STATS_SHARDS = 8
ALL = "all"
FINISHED_STATUSES = frozenset({"APPROVED", "DENIED"})


def shard(receipt: str) -> int:
    """The counter shard a case adds to (stable per case)."""
    return zlib.crc32(receipt.encode()) % STATS_SHARDS


def periods(day: date) -> tuple[str, str, str]:
    """The day, month and year periods a day belongs to."""
    return f"d{day.isoformat()}", f"m{day:%Y-%m}", f"y{day.year}"


def parse_period(text: str) -> str | None:
    """``2026``, ``2026-11`` or ``2026-11-23`` as a stored period; None when it is none."""
    try:
        if len(text) == 4 and text.isdigit():
            return f"y{int(text)}"
        if len(text) == 7:
            datetime.strptime(text, "%Y-%m")
            return f"m{text}"
        if len(text) == 10:
            return f"d{date.fromisoformat(text).isoformat()}"
    except ValueError:
        return None
    return None


def sub_periods(period: str) -> list[str]:
    """The next finer periods of a month (its days) or a year (its months)."""
    if period.startswith("y"):
        year = int(period[1:])
        return [f"m{year}-{month:02d}" for month in range(1, 13)]
    if period.startswith("m"):
        first = datetime.strptime(period[1:], "%Y-%m").date()
        days = []
        day = first
        while day.month == first.month:
            days.append(f"d{day.isoformat()}")
            day = date.fromordinal(day.toordinal() + 1)
        return days
    return []


def department_scope(department: str) -> str:
    """Scope of a department's counters."""
    return f"dept#{department}"


def item_scope(department: str, service_code: str) -> str:
    """Scope of an item's counters (under its department, so a department's items are a range)."""
    return f"item#{department}#{service_code}"


def scopes(department: str, service_code: str | None) -> tuple[str, ...]:
    """Every scope an event of this department and item adds to."""
    found = [ALL, department_scope(department)]
    if service_code:
        found.append(item_scope(department, service_code))
    return tuple(found)


@dataclass(frozen=True)
class FinishedCase:
    """What a finished case adds to the statistics."""

    status: str  # APPROVED | DENIED
    early_days: int | None  # working days left at the decision (negative: late)
    days_used: int
    corrections: int


def finished_case(status: str, decided_at: datetime, due_date: str | date | None,
                  started_at: datetime, pauses: Sequence[tuple[datetime, datetime | None]],
                  calendar: WorkCalendar, early_days: int | None = None) -> FinishedCase:
    """The facts of a finished case from its stored fields.

    ``early_days`` as the workflow stored it wins; without it, it is recomputed from the due
    date (the same ``working_days_left`` the workflow uses).
    """
    due = date.fromisoformat(due_date) if isinstance(due_date, str) else due_date
    if early_days is None and due is not None:
        early_days = calendar.working_days_left(decided_at, due)
    closed = [(start, end if end is not None else decided_at) for start, end in pauses]
    used = calendar.working_days_used(started_at, decided_at, paused=closed)
    return FinishedCase(status, early_days, max(used, 0), len(pauses))


def finished_increments(case: FinishedCase) -> dict[str, int]:
    """The counters a finished case adds one to (or its days and rounds)."""
    found = {"finished": 1, "days_used": case.days_used, "corrections": case.corrections}
    found["approved" if case.status == "APPROVED" else "denied"] = 1
    if case.early_days is not None:
        if case.early_days >= 0:
            found["on_time"] = 1
            if case.early_days > 0:
                found["early"] = 1
        else:
            found["overdue"] = 1
    return {k: v for k, v in found.items() if v}


def rating_increments(score: int, low: bool) -> dict[str, int]:
    """The counters a rating adds to."""
    found = {"rated": 1, "rating_sum": score}
    if low:
        found["rating_low"] = 1
    return found


def add(*many: Mapping[str, Any]) -> dict[str, int]:
    """Counters summed (shards, or several periods)."""
    total = dict.fromkeys(COUNTERS, 0)
    for counters in many:
        for name in COUNTERS:
            total[name] += int(counters.get(name) or 0)
    return total


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(counters: Mapping[str, Any]) -> dict[str, Any]:
    """Counters and the rates the source publishes (None where nothing finished yet)."""
    c = add(counters)
    return {
        **c,
        "on_time_rate": _ratio(c["on_time"], c["finished"]),
        "early_rate": _ratio(c["early"], c["finished"]),
        "overdue_rate": _ratio(c["overdue"], c["finished"]),
        "approval_rate": _ratio(c["approved"], c["finished"]),
        "avg_working_days": round(c["days_used"] / c["finished"], 2) if c["finished"] else None,
        "avg_corrections": round(c["corrections"] / c["finished"], 3) if c["finished"] else None,
        "avg_rating": round(c["rating_sum"] / c["rated"], 2) if c["rated"] else None,
    }


def public_figures(counters: Mapping[str, Any]) -> dict[str, Any]:
    """What ``GET /stats`` shows: the volumes and rates, not the supervision internals."""
    shown = figures(counters)
    for name in ("yellow", "red", "escalated", "findings", "rating_low", "days_used",
                 "corrections", "rating_sum"):
        shown.pop(name, None)
    return shown


def recompute(cases: Iterable[FinishedCase]) -> dict[str, int]:
    """The finished-case counters recomputed from raw cases (tests and the simulation)."""
    return add(*(finished_increments(c) for c in cases))


# ---------------------------------------------------------------------------- recording


def record_received(receipt: str, department: str, service_code: str, at: datetime) -> bool:
    """Count a received application (once per receipt); call after it is stored.

    Returns False when it was counted already (a retried request).
    """
    from chalicelib.store import stats as store

    return store.record(f"received#{receipt}", receipt, department, service_code,
                        china_date(at), {"received": 1})


def record_accepted(receipt: str, department: str, service_code: str, at: datetime) -> bool:
    """Count an application accepted by verification (once per receipt)."""
    from chalicelib.store import stats as store

    return store.record(f"accepted#{receipt}", receipt, department, service_code,
                        china_date(at), {"accepted": 1})


def record_rejected(receipt: str, department: str, service_code: str, at: datetime) -> bool:
    """Count an application rejected by verification (once per receipt)."""
    from chalicelib.store import stats as store

    return store.record(f"rejected#{receipt}", receipt, department, service_code,
                        china_date(at), {"rejected": 1})


def record_finished(application: Any, department: str, at: datetime,
                    calendar: WorkCalendar | None = None) -> bool:
    """Count a case that just ended ``APPROVED`` or ``DENIED`` (once per receipt).

    ``application`` is the stored case (``ApplicationModel``) after the move, ``department``
    the item's responsible department. Safe to call again (a redelivered message, a retry).
    """
    from chalicelib.store import stats as store

    if application.status not in FINISHED_STATUSES:
        return False
    case = facts_of(application, calendar or WorkCalendar.default(), at)
    decided = application.decided_at or at
    return store.record(f"finished#{application.receipt}", application.receipt, department,
                        application.service_code, china_date(decided),
                        finished_increments(case))


def facts_of(application: Any, calendar: WorkCalendar, at: datetime) -> FinishedCase:
    """:class:`FinishedCase` of a stored case (its fields read, nothing else)."""
    decided = application.decided_at or at
    started = application.review_started_at or application.received_at
    pauses: list[tuple[datetime, datetime | None]] = []
    for raw in application.pauses or []:
        record = raw if isinstance(raw, dict) else dict(raw.as_dict())
        pauses.append((datetime.fromisoformat(str(record["from"])),
                       datetime.fromisoformat(str(record["to"]))))
    if application.paused_since is not None:
        pauses.append((application.paused_since, None))  # denied while waiting for the answer
    early = application.early_days
    return finished_case(application.status, decided, application.due_date, started, pauses,
                         calendar, int(early) if early is not None else None)
