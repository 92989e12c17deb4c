"""Opaque paging cursors over DynamoDB keys, checked so that a cursor from one listing
cannot read another's partition."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


class InvalidCursor(ValueError):
    """A paging cursor that was not made for this listing."""


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """An opaque paging cursor for a DynamoDB ``LastEvaluatedKey``."""
    if not key:
        return None
    raw = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, fixed: dict[str, str], fields: set[str]
                  ) -> dict[str, Any] | None:
    """The ``ExclusiveStartKey`` of a cursor, if it has exactly ``fields`` (string values)
    and the ``fixed`` ones (the partition being read) hold the expected values.

    A cursor made for another partition would page through someone else's data.
    """
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = (isinstance(key, dict) and set(key) == fields
              and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
                      for v in key.values())
              and all(key[name] == {"S": value} for name, value in fixed.items()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise InvalidCursor(cursor)
    return dict(key)
