"""The notify step: tells applicants what happened, exactly once per event and channel.

This first version delivers to the in-app inbox; SMS, email and webhooks build on it (see the
notifications issue).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.contract import REASON_TEXT_ZH, Reason
from chalicelib.settings import Settings
from chalicelib.store import cases
from chalicelib.store.models import ClaimModel, NotificationModel

TEXT_ZH = {
    "accepted": "您的申请（受理号 {receipt}）已通过数字签名验证，正式受理。",
    "rejected": "您的申请（受理号 {receipt}）未能受理：{reason}。",
}


def handle(settings: Settings, event: dict[str, Any], now: datetime, message_id: str) -> None:
    """Deliver one notification event to the applicant's inbox, once."""
    application = cases.find(event["receipt"])
    if application is None:
        raise LookupError("notification for an unknown receipt")
    claim = ClaimModel(f"notify#{event['event_id']}#inbox", data={"message_id": message_id})
    try:
        claim.save(condition=ClaimModel.key.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return  # already delivered: SQS delivered the event twice
        raise
    reason = REASON_TEXT_ZH[Reason(event["reason"])] if event.get("reason") else ""
    text = TEXT_ZH.get(event["event"], "{receipt}").format(receipt=application.receipt,
                                                         reason=reason)
    NotificationModel(application.applicant_key, f"{now.isoformat()}#{event['event_id']}",
                      data={"event": event["event"], "receipt": application.receipt,
                            "text": text}).save()
