"""Authentication and authorisation of API calls: bearer tokens, roles, ownership.

Every protected route calls ``require`` first; it answers 401 without a valid token and 403
when the role (or the officer's department) does not fit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import load_der_public_key

from chalicelib import keys
from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.principal import Principal, Role
from chalicelib.settings import Settings
from chalicelib.tokens import verify

_lock = threading.Lock()
_public_keys: dict[str, Any] = {}


def public_keys(settings: Settings) -> dict[str, Any]:
    """Token verification keys by ``kid`` (the platform key's alias), fetched once."""
    with _lock:
        if settings.key_alias not in _public_keys:
            _public_keys[settings.key_alias] = load_der_public_key(
                keys.public_key_der(settings.key_alias))
        return dict(_public_keys)


def principal(headers: dict[str, str], settings: Settings, now: datetime | None = None
              ) -> Principal:
    """The caller of a request, from its ``Authorization: Bearer`` header."""
    auth = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized()
    return verify(token.strip(), public_keys(settings), now=now or datetime.now(UTC))


def require(headers: dict[str, str], settings: Settings, roles: Iterable[Role], *,
            department: str | None = None) -> Principal:
    """The caller, if it holds one of ``roles`` (and, for officers, that department)."""
    caller = principal(headers, settings)
    if caller.role not in set(roles):
        raise Forbidden()
    if department is not None and caller.role is Role.OFFICER and caller.department != department:
        raise Forbidden("无权处理其他部门的事项",
                        "officers act only on their own department's tasks",
                        code="OTHER_DEPARTMENT")
    return caller
