"""``GET /track/{receipt}?code=…``: where a case stands, for whoever holds its tracking code.

A wrong code and an unknown receipt answer the same 404, so receipts cannot be enumerated, and
both are rate limited: per source address (``PER_SOURCE`` requests a minute) and per receipt
(``PER_RECEIPT`` requests in ten minutes, whoever asks), counted before the code is checked,
so a guesser learns nothing from being limited either. The answer carries no personal data:
status, reason code, the public timeline (with the notifications' delivery receipts), and the
open tasks with their department, due date and working days left.
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

PER_SOURCE = (60, timedelta(minutes=1))
PER_RECEIPT = (30, timedelta(minutes=10))
MAX_RECEIPT = 64
# Case log kinds whose ``data`` is safe to show to the code holder, and which keys of it.
_PUBLIC_DATA = {"reason", "stage", "departments", "department", "missing", "due_date",
                "channel", "status", "event", "licence_id", "early_days", "attempts"}


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


def limit(source: str, receipt: str, now: datetime) -> None:
    """Count this request; ``TooManyRequests`` when a window is full."""
    for scope, who, (allowed, window) in (("track-src", source or "unknown", PER_SOURCE),
                                          ("track-rcpt", receipt[:MAX_RECEIPT], PER_RECEIPT)):
        if ratelimit.hit(scope, who, now, window) > allowed:
            retry = ratelimit.window_start(now, window) + int(window.total_seconds()) \
                - int(now.timestamp())
            log.warning("tracking rate limited", extra={"scope": scope})
            raise TooManyRequests(details={"retry_after_seconds": max(retry, 1)})


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
