"""Authentication and authorisation of API calls: bearer tokens, roles, ownership.

Every protected route calls ``require`` first; it answers 401 without a valid token and 403
when the role (or the officer's department) does not fit. Objects are then checked against
the caller: an applicant reads only cases whose applicant key is their token's subject
(``require_owner``; anyone else's case answers the same 404 as an unknown one), an officer
acts only on their department's tasks (``require(..., department=)``).

Why a helper rather than a Chalice authorizer: API Gateway's authorizer answers only "who",
and every route still has to decide "may this caller touch this object", which needs the
object; one code path runs identically in the cloud, in ``chalice local`` and under the test
client, and the authorization matrix test (``tests/functional/test_authz_matrix.py``) calls
every route of ``app.routes`` with every role, so a route without its check fails the build.

Key rotation without downtime: a token's ``kid`` is the id of the KMS key that signed it.
Verification accepts the key behind the platform alias and the key behind
``<alias>-previous``. To rotate: point ``<alias>-previous`` at the current key, then the alias
at a new ECC_NIST_P256 key. New tokens are signed with the new key at once; tokens signed with
the old one stay valid until they expire (30 minutes); an unknown ``kid`` makes an API
instance re-read both aliases (at most once every ``KEY_REFRESH_MIN``), otherwise it re-reads
them every ``KEY_TTL``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_der_public_key

from chalicelib import keys
from chalicelib.errors import Forbidden, NotFound, Unauthorized
from chalicelib.principal import Principal, Role
from chalicelib.settings import Settings
from chalicelib.tokens import verify

log = logging.getLogger(__name__)

KEY_TTL = 300.0  # seconds an API instance trusts its view of the aliases
KEY_REFRESH_MIN = 10.0  # an unknown kid re-reads the aliases at most this often

APPLICANT_ROLES = frozenset({Role.PERSON, Role.ORGANIZATION})
STAFF_ROLES = frozenset({Role.OFFICER, Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
ALL_ROLES = frozenset(Role)


def previous_alias(alias: str) -> str:
    """The alias of the key that signed tokens before the last rotation."""
    return f"{alias}-previous"


class _KeyRing:
    """Public keys that verify tokens, by ``kid`` (key id, and the aliases for old tokens)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._current: str | None = None
        self._loaded_at = -1e18

    def _load(self, alias: str) -> None:
        found: dict[str, Any] = {}
        current: str | None = None
        for name in (previous_alias(alias), alias):
            try:
                key_id = keys.describe(name)["key_id"]
            except Exception:  # the previous alias exists only during a rotation
                if name == alias:
                    raise
                continue
            public = load_der_public_key(keys.public_key_der(key_id))
            found[key_id] = public
            found[name] = public  # tokens made with the alias as kid (before key ids)
            if name == alias:
                current = key_id
        self._keys, self._current = found, current
        self._loaded_at = time.monotonic()

    def keys(self, alias: str, kid: str | None = None) -> dict[str, Any]:
        """The verification keys; re-read when stale or when ``kid`` is not among them."""
        with self._lock:
            age = time.monotonic() - self._loaded_at
            if age > KEY_TTL or (kid is not None and kid not in self._keys
                                 and age > KEY_REFRESH_MIN):
                self._load(alias)
            return dict(self._keys)

    def current(self, alias: str) -> str:
        """Id of the key new tokens are signed with (the one behind the alias)."""
        with self._lock:
            if self._current is None or time.monotonic() - self._loaded_at > KEY_TTL:
                self._load(alias)
            assert self._current is not None
            return self._current

    def clear(self) -> None:
        """Forget everything (tests switch stacks; operators after a rotation)."""
        with self._lock:
            self._keys, self._current, self._loaded_at = {}, None, -1e18


key_ring = _KeyRing()


def public_keys(settings: Settings, kid: str | None = None) -> dict[str, Any]:
    """Token verification keys by ``kid``."""
    return key_ring.keys(settings.key_alias, kid)


def signer(settings: Settings) -> tuple[str, Callable[[bytes], bytes]]:
    """The ``kid`` and the signing function (KMS ``Sign``) for new tokens."""
    key_id = key_ring.current(settings.key_alias)
    return key_id, lambda message: keys.sign(key_id, message)


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer`` header; 401 without one."""
    auth = ""
    for name, value in headers.items():
        if name.lower() == "authorization":
            auth = value
            break
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def principal(headers: Mapping[str, str], settings: Settings, now: datetime | None = None
              ) -> Principal:
    """The caller of a request, from its ``Authorization: Bearer`` header."""
    token = bearer_token(headers)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        kid = None
    return verify(token, public_keys(settings, str(kid) if kid else None),
                  now=now or datetime.now(UTC))


def require(headers: Mapping[str, str], settings: Settings, roles: Iterable[Role], *,
            department: str | None = None, now: datetime | None = None) -> Principal:
    """The caller, if it holds one of ``roles`` (and, for officers, that department)."""
    caller = principal(headers, settings, now)
    if caller.role not in set(roles):
        raise Forbidden()
    if department is not None and caller.role is Role.OFFICER and caller.department != department:
        raise Forbidden("无权处理其他部门的事项",
                        "officers act only on their own department's tasks",
                        code="OTHER_DEPARTMENT")
    return caller


class UnknownApplication(NotFound):
    """No such case among the caller's own."""

    code = "NOT_FOUND"
    message_zh = "未找到该申请"
    message_en = "no such application among yours"


def require_owner(caller: Principal, applicant_key: str | None) -> None:
    """The caller is the applicant of the case; otherwise the same 404 as an unknown case.

    A 403 would tell the caller that the receipt exists: receipts are not to be enumerated.
    """
    if not caller.is_applicant or applicant_key is None or applicant_key != caller.subject:
        raise UnknownApplication()
