"""The external contract's vocabulary: status values and verification reason codes.

These strings are pinned by ARCHITECTURE.md; integrators and acceptance tests rely on them
exactly as written, so every other module refers to these enums, never to literals.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Lifecycle status of an application (case)."""

    RECEIVED = "RECEIVED"
    ACCEPTED = "ACCEPTED"
    IN_REVIEW = "IN_REVIEW"
    CORRECTION_REQUIRED = "CORRECTION_REQUIRED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"

    @property
    def is_final(self) -> bool:
        """True when no further transition is possible."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.APPROVED, Status.DENIED, Status.REJECTED, Status.WITHDRAWN})

# Allowed transitions, the contract's arrow diagram as data.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.ACCEPTED, Status.REJECTED, Status.WITHDRAWN}),
    Status.ACCEPTED: frozenset({Status.IN_REVIEW, Status.WITHDRAWN}),
    Status.IN_REVIEW: frozenset(
        {Status.CORRECTION_REQUIRED, Status.APPROVED, Status.DENIED, Status.WITHDRAWN}
    ),
    Status.CORRECTION_REQUIRED: frozenset({Status.IN_REVIEW, Status.WITHDRAWN, Status.DENIED}),
    Status.APPROVED: frozenset(),
    Status.DENIED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}


def can_transition(current: Status, target: Status) -> bool:
    """Whether the contract allows moving a case from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


class Reason(str, Enum):
    """Verification reason codes, in the order of precedence.

    When several checks fail, the most fundamental one wins: the member listed first.
    ``REVOCATION_UNKNOWN`` is indeterminate: the application is held and retried.
    """

    MALFORMED = "MALFORMED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    CERT_UNTRUSTED = "CERT_UNTRUSTED"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_NOT_YET_VALID = "CERT_NOT_YET_VALID"
    CERT_REVOKED = "CERT_REVOKED"
    CERT_USAGE = "CERT_USAGE"
    REVOCATION_UNKNOWN = "REVOCATION_UNKNOWN"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    ATTACHMENT_MISMATCH = "ATTACHMENT_MISMATCH"


REASON_TEXT_ZH: dict[Reason, str] = {
    Reason.MALFORMED: "申请数据或签名格式不正确",
    Reason.SIGNATURE_INVALID: "数字签名验证失败，申请内容可能被篡改",
    Reason.CERT_UNTRUSTED: "签名证书不是由受信任的CA签发",
    Reason.CERT_EXPIRED: "签名证书已过期",
    Reason.CERT_NOT_YET_VALID: "签名证书尚未生效",
    Reason.CERT_REVOKED: "签名证书已被吊销",
    Reason.CERT_USAGE: "签名证书的用途不允许用于数字签名",
    Reason.REVOCATION_UNKNOWN: "暂时无法确认签名证书的吊销状态",
    Reason.IDENTITY_MISMATCH: "申请人身份与签名证书不一致",
    Reason.ATTACHMENT_MISMATCH: "附件与签名时的内容不一致",
}
