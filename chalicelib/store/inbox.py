"""Data access for the in-app inbox: one message per recipient and event, newest first.

Recipients are applicant keys, ``dept#<code>`` (every officer of a department reads it) and
``role#supervisor``. A message's sort key is ``<event time>#<event id>``: the same for every
delivery attempt of one event, so storing it is a conditional put that a redelivery loses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.models import NotificationModel

MAX_PAGE = 100


def department_recipient(department: str) -> str:
    """The inbox shared by a department's officers."""
    return f"dept#{department}"


def role_recipient(role: str) -> str:
    """The inbox shared by every holder of a staff role (supervisors)."""
    return f"role#{role}"


def message_key(at: datetime, event_id: str) -> str:
    """Sort key of a message: time first (for order), event id (for uniqueness)."""
    return f"{at.isoformat()}#{event_id}"


def put(recipient: str, at: datetime, event_id: str, data: dict[str, Any]) -> bool:
    """Store one message; False when it was already there (a redelivered event)."""
    item = NotificationModel(recipient, message_key(at, event_id), data=data)
    try:
        item.save(condition=NotificationModel.sk.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def page(recipient: str, *, limit: int = 50, cursor: str | None = None
         ) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a recipient's messages, newest first, and the cursor of the next page."""
    start = decode_cursor(cursor, {"recipient": recipient}, {"recipient", "sk"})
    query = NotificationModel.query(recipient, scan_index_forward=False, limit=limit,
                                    last_evaluated_key=start)
    items = [{"id": item.sk, **dict(item.data)} for item in query]
    return items, encode_cursor(query.last_evaluated_key)


