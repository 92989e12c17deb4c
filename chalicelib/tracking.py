"""``GET /track/{receipt}?code=…``: where a case stands, for whoever holds its tracking code.

A wrong code and an unknown receipt answer the same 404, so receipts cannot be enumerated. The
answer carries no personal data: status, reason code, public timeline, open tasks.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from chalicelib.contract import REASON_TEXT_ZH, Reason
from chalicelib.errors import NotFound
from chalicelib.store import caselog, cases
from chalicelib.store.models import ApplicationModel


class UnknownCase(NotFound):
    """No case with this receipt and code."""

    code = "NOT_FOUND"
    message_zh = "未找到该受理号，或查询码不正确"
    message_en = "no application with this receipt and tracking code"


def authorise(receipt: str, code: str | None) -> ApplicationModel:
    """The case, if ``code`` is its tracking code; otherwise the same 404 either way."""
    application = cases.find(receipt) if len(receipt) <= 64 else None
    given = hashlib.sha256((code or "").encode()).hexdigest()
    expected = application.tracking_hash if application else "0" * 64
    if application is None or not hmac.compare_digest(given, expected):
        raise UnknownCase()
    return application


def view(application: ApplicationModel, open_tasks: list[dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    """The public view of a case."""
    reason = application.reason
    timeline = [{"seq": int(r.seq), "at": r.at.isoformat(), "event": r.kind,
                 **({"reason": r.data["reason"]} if "reason" in r.data else {})}
                for r in caselog.records(application.receipt, public_only=True)]
    return {
        "receipt": application.receipt,
        "status": application.status,
        "reason": reason,
        "reason_text": REASON_TEXT_ZH.get(Reason(reason)) if reason in Reason.__members__ else None,
        "service_code": application.service_code,
        "received_at": application.received_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
        "timeline": timeline,
        "tasks": open_tasks or [],
    }
