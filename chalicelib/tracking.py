"""``GET /track/{receipt}?code=…``: where a case stands, for whoever holds its tracking code.

A wrong code and an unknown receipt answer the same 404, so receipts cannot be enumerated, and
guessing is rate limited twice (429): every request counts against its source address
(``PER_SOURCE``), and every wrong code counts against the receipt (``FAILURES_PER_RECEIPT``,
whoever sends it). Once a receipt has had too many wrong codes, even the right code answers
429 until the window ends, so a guesser cannot tell a hit from a miss; the holder polling with
the right code is limited only by their address. The local stack serves a developer and the
test suite from one loopback address, so its per-address limit is higher (``LOCAL_PER_SOURCE``).
The answer carries no personal data: status, reason code, the public timeline (with the
notifications' delivery receipts), and the open tasks with their department, due date and
working days left.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.catalog import department_by_code
from chalicelib.contract import REASON_TEXT_ZH, Reason
from chalicelib.errors import ClientError, NotFound
from chalicelib.store import caselog, cases, ratelimit
from chalicelib.store.models import ApplicationModel

log = logging.getLogger(__name__)

PER_SOURCE = (300, timedelta(minutes=1))
LOCAL_PER_SOURCE = (20_000, timedelta(minutes=1))
FAILURES_PER_RECEIPT = (10, timedelta(minutes=15))
MAX_RECEIPT = 64
# Case log kinds whose ``data`` is safe to show to the code holder, and which keys of it.
_PUBLIC_DATA = {"reason", "stage", "departments", "department", "missing", "due_date",
                "channel", "status", "licence_id", "early_days", "attempts"}


class UnknownCase(NotFound):
    """No case with this receipt and code."""

    code = "NOT_FOUND"
    message_zh = "未找到该受理号，或查询码不正确"
    message_en = "no application with this receipt and tracking code"


class TooManyRequests(ClientError):
    """Too many tracking requests from this address or for this receipt."""

    status = 429
    code = "RATE_LIMITED"
    message_zh = "查询过于频繁，请稍后再试"
    message_en = "too many requests; try again later"


def _too_many(now: datetime, window: timedelta, scope: str) -> TooManyRequests:
    retry = ratelimit.window_start(now, window) + int(window.total_seconds()) \
        - int(now.timestamp())
    log.warning("tracking rate limited", extra={"scope": scope})
    return TooManyRequests(details={"retry_after_seconds": max(retry, 1)})


def limit(source: str, receipt: str, now: datetime, *, stage: str = "") -> None:
    """Count this request against its address; 429 when the address or the receipt (too many
    wrong codes) is over its limit."""
    allowed, window = LOCAL_PER_SOURCE if stage == "local" else PER_SOURCE
    if ratelimit.hit("track-src", source or "unknown", now, window) > allowed:
        raise _too_many(now, window, "source")
    allowed, window = FAILURES_PER_RECEIPT
    if ratelimit.current("track-miss", receipt[:MAX_RECEIPT], now, window) >= allowed:
        raise _too_many(now, window, "receipt")


def track(source: str, receipt: str, code: str | None, now: datetime, *, stage: str = ""
          ) -> ApplicationModel:
    """Rate-limit, then authorise: the case, or 404 (and the miss counted), or 429."""
    limit(source, receipt, now, stage=stage)
    try:
        return authorise(receipt, code)
    except UnknownCase:
        ratelimit.hit("track-miss", receipt[:MAX_RECEIPT], now, FAILURES_PER_RECEIPT[1])
        raise


def authorise(receipt: str, code: str | None) -> ApplicationModel:
    """The case, if ``code`` is its tracking code; otherwise the same 404 either way."""
    application = cases.find(receipt) if 0 < len(receipt) <= MAX_RECEIPT else None
    given = hashlib.sha256((code or "").encode()).hexdigest()
    expected = application.tracking_hash if application else "0" * 64
    # Compare even when there is no case, so that both answers take the same time.
    matches = hmac.compare_digest(given, expected)
    if application is None or not matches:
        raise UnknownCase()
    return application


def open_tasks(receipt: str, now: datetime) -> list[dict[str, Any]]:
    """The case's tasks still with a department (or waiting for the applicant's correction)."""
    from chalicelib.store import tasks
    from chalicelib.workcalendar import CalendarUnavailable, WorkCalendar

    calendar = WorkCalendar.default()
    found = []
    for task in tasks.for_case(receipt, consistent=False):
        if task.state == tasks.CLOSED:
            continue
        department = department_by_code(task.department)
        left: int | None = None
        if task.state == tasks.OPEN and task.due_date:
            try:
                left = int(calendar.working_days_left(now, date.fromisoformat(task.due_date)))
            except CalendarUnavailable:
                left = None
        found.append({
            "department": task.department,
            "department_name": department.name if department else task.department,
            "stage": int(task.stage),
            "state": task.state,
            "due_date": task.due_date,
            "working_days_left": left,
            "clock": "stopped" if task.state != tasks.OPEN else "running",
        })
    return found


def _timeline_entry(record: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"seq": int(record.seq), "at": record.at.isoformat(),
                             "event": record.kind}
    data = record.data or {}
    entry.update({k: v for k, v in data.items() if k in _PUBLIC_DATA})
    if "event" in data:  # a delivery receipt: which event the applicant was told about
        entry["about"] = data["event"]
    return entry


def view(application: ApplicationModel, open_tasks: list[dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    """The public view of a case."""
    reason = application.reason
    known = reason in Reason.__members__
    return {
        "receipt": application.receipt,
        "status": application.status,
        "reason": reason,
        "reason_text": REASON_TEXT_ZH.get(Reason(reason)) if known else None,
        "service_code": application.service_code,
        "received_at": application.received_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
        "due_date": application.due_date,
        "timeline": [_timeline_entry(r) for r in
                     caselog.records(application.receipt, public_only=True)],
        "tasks": open_tasks or [],
    }
