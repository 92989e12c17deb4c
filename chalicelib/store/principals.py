"""Data access for staff enrolment (the principals table) and login challenges (claims).

Staff are enrolled by certificate: ``fp:<SHA-256 fingerprint>`` binds one certificate,
``id:<HMAC of the identity number>`` binds whoever holds a trusted certificate carrying that
number (it survives the certificate's renewal). The key is also the staff member's subject in
tokens and in the case log; the identity number itself is never stored.

A login challenge is a claim ``login#<nonce>`` in state ``ISSUED`` with a short expiry; logging
in moves it to ``USED`` with a conditional write, so a nonce serves one login only, even when
two requests race with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.models import ApplicationModel, ClaimModel, PrincipalModel

FINGERPRINT_PREFIX = "fp:"
IDENTITY_PREFIX = "id:"
_CHALLENGE_PREFIX = "login#"
ISSUED = "ISSUED"
USED = "USED"


@dataclass(frozen=True)
class Enrolment:
    """One enrolled staff member."""

    principal: str
    role: str
    department: str | None
    display: str
    email: str | None


def _enrolment(item: PrincipalModel) -> Enrolment:
    return Enrolment(item.principal, item.role, item.department, item.display or "",
                     item.email)


def fingerprint_key(fingerprint: str) -> str:
    """Registry key of a certificate (hex SHA-256 of its DER, any case, colons allowed)."""
    return FINGERPRINT_PREFIX + fingerprint.replace(":", "").lower()


def identity_key(identity_hmac: str) -> str:
    """Registry key of an identity number, given its HMAC (``submission.applicant_key``)."""
    return IDENTITY_PREFIX + identity_hmac


def enrol(principal: str, role: str, *, department: str | None, display: str,
          email: str | None, now: datetime) -> Enrolment:
    """Enrol (or re-enrol, replacing the role) one staff member."""
    item = PrincipalModel(principal, role=role, department=department, display=display,
                          email=email, enrolled_at=now)
    item.save()
    return _enrolment(item)


def remove(principal: str) -> bool:
    """Withdraw an enrolment; True if there was one. Tokens already issued run out (30 min)."""
    try:
        PrincipalModel(principal).delete(condition=PrincipalModel.principal.exists())
    except DeleteError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def find(principal: str) -> Enrolment | None:
    """The enrolment under this key, if any."""
    try:
        return _enrolment(PrincipalModel.get(principal, consistent_read=True))
    except DoesNotExist:
        return None


def every() -> Iterator[Enrolment]:
    """Every enrolment (the operator's listing; never on a request path: it scans)."""
    for item in PrincipalModel.scan():
        yield _enrolment(item)


def officers_of(department: str) -> list[Enrolment]:
    """The officers enrolled for ``department`` (sparse index, one query)."""
    return [_enrolment(item) for item in PrincipalModel.department_index.query(department)
            if item.role == "officer"]


def applications_of(applicant_key: str, *, limit: int, cursor: str | None = None
                    ) -> tuple[list[ApplicationModel], str | None]:
    """An applicant's own applications, newest first (applicant index: one query, no scan)."""
    start = decode_cursor(cursor, {"applicant_key": applicant_key},
                          {"applicant_key", "received_at", "receipt"})
    query = ApplicationModel.applicant_index.query(applicant_key, scan_index_forward=False,
                                                   limit=limit, last_evaluated_key=start)
    items = list(query)
    return items, encode_cursor(query.last_evaluated_key)


# ---------------------------------------------------------------------------- login challenges


class ChallengeRefused(Exception):
    """A login nonce that cannot be used; ``why`` is ``unknown``, ``used`` or ``expired``."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def issue_challenge(nonce: str, *, now: datetime, lifetime: timedelta) -> datetime:
    """Store a fresh login nonce; returns when it expires."""
    expires = now + lifetime
    ClaimModel(_CHALLENGE_PREFIX + nonce, state=ISSUED, expires_at=expires,
               data={"issued_at": now.isoformat(), "expires_at": expires.isoformat()}
               ).save(condition=ClaimModel.key.does_not_exist())
    return expires


def consume_challenge(nonce: str, *, now: datetime, subject_hint: str = "") -> None:
    """Mark a login nonce used, once; raises ``ChallengeRefused`` saying why it cannot be.

    DynamoDB's TTL deletes expired items only eventually, so the expiry is checked here too,
    inside the same condition as the state.
    """
    claim = ClaimModel(_CHALLENGE_PREFIX + nonce)
    try:
        claim.update(actions=[ClaimModel.state.set(USED),
                              ClaimModel.data.set({"used_at": now.isoformat(),
                                                   "subject": subject_hint})],
                     condition=(ClaimModel.state == ISSUED) & (ClaimModel.expires_at > now))
        return
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    try:
        found = ClaimModel.get(_CHALLENGE_PREFIX + nonce, consistent_read=True)
    except DoesNotExist:
        raise ChallengeRefused("unknown") from None
    if found.state == USED:
        raise ChallengeRefused("used")
    if found.state == ISSUED:
        raise ChallengeRefused("expired")
    raise ChallengeRefused("unknown")
