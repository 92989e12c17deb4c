"""Certificate login: a single-use challenge, signed like an application, gives a token.

1. ``challenge``: a random nonce, stored as a claim that expires after ``CHALLENGE_LIFETIME``.
2. The client signs the login payload ``{"nonce", "id", "kind"}`` (UTF-8 JSON) with the
   certificate, exactly as it signs an application (detached CMS, the contract's envelope).
3. ``login``: the nonce is used up first (so a replay fails even if it races), then the
   signature is verified by the signature module with the verify step's trust store, CRLs and
   rules (``verification.trust_cache``), the identity binding included. Applicants
   (``kind`` person or organization) get their applicant key as subject; staff
   (``kind`` staff) must be enrolled by certificate fingerprint or identity number.

The answer is a token signed by the platform's KMS key (``tokens.issue``). Nothing here logs
or returns the identity number.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import idnumbers, intake, tokens
from chalicelib.contract import REASON_TEXT_ZH, Reason
from chalicelib.errors import ClientError, Forbidden, Unauthorized
from chalicelib.names import Bucket
from chalicelib.principal import Principal, Role
from chalicelib.settings import Settings
from chalicelib.store import principals

log = logging.getLogger(__name__)

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_LOGIN_BYTES = 64 * 1024
APPLICANT_KINDS = {"person": Role.PERSON, "organization": Role.ORGANIZATION}
STAFF_KIND = "staff"

# Login-specific wording of the verification reasons (the contract's text speaks of
# applications).
REASON_TEXT_EN: dict[Reason, str] = {
    Reason.MALFORMED: "the login payload or its signature is malformed",
    Reason.SIGNATURE_INVALID: "the signature does not verify over the login payload",
    Reason.CERT_UNTRUSTED: "the certificate was not issued by a trusted CA",
    Reason.CERT_EXPIRED: "the certificate has expired",
    Reason.CERT_NOT_YET_VALID: "the certificate is not valid yet",
    Reason.CERT_REVOKED: "the certificate has been revoked",
    Reason.CERT_USAGE: "the certificate may not be used for digital signatures",
    Reason.REVOCATION_UNKNOWN: "the certificate's revocation status cannot be checked now; "
                               "try again later",
    Reason.IDENTITY_MISMATCH: "the identity number is not the certificate's",
    Reason.ATTACHMENT_MISMATCH: "attachments do not match",
}


class InvalidLogin(ClientError):
    """The login request itself is malformed."""

    code = "INVALID_LOGIN"
    message_zh = "登录请求格式不正确"
    message_en = "malformed login request"


class NonceRefused(Unauthorized):
    """The signed nonce is unknown, used already or expired."""


class CertificateRefused(Unauthorized):
    """The signature or the certificate does not allow a login."""


class NotEnrolled(Forbidden):
    """A valid staff certificate that nobody enrolled."""

    code = "NOT_ENROLLED"
    message_zh = "该证书未登记为工作人员，请联系系统管理员"
    message_en = "this certificate is not enrolled as staff; ask an administrator"


_NONCE_ERRORS = {
    "unknown": ("LOGIN_NONCE_UNKNOWN", "登录随机数无效（不是本平台签发的），请重新获取",
                "the signed nonce was not issued by this platform; request a new challenge"),
    "used": ("LOGIN_NONCE_USED", "该登录随机数已使用过（疑似重放），请重新获取",
             "the signed nonce was already used (replay); request a new challenge"),
    "expired": ("LOGIN_NONCE_EXPIRED", "登录随机数已过期，请重新获取后在5分钟内签名登录",
                "the signed nonce has expired; request a new challenge and sign it within "
                "5 minutes"),
}


@dataclass(frozen=True)
class LoginPayload:
    """What the certificate holder signed."""

    nonce: str
    ident: str
    kind: str


def challenge(now: datetime) -> dict[str, Any]:
    """A new single-use login nonce and what to do with it."""
    nonce = secrets.token_urlsafe(24)
    expires = principals.issue_challenge(nonce, now=now, lifetime=CHALLENGE_LIFETIME)
    return {
        "nonce": nonce,
        "expires_at": expires.isoformat(),
        "expires_in": int(CHALLENGE_LIFETIME.total_seconds()),
        "sign": {
            "payload": {"nonce": nonce, "id": "<证件号码或统一社会信用代码>",
                        "kind": "person|organization|staff"},
            "envelope": {"payload": "<base64 of the payload bytes>",
                         "signature": "<base64 DER CMS SignedData, detached>"},
            "post_to": "/auth/login",
        },
    }


def parse_payload(payload: bytes) -> LoginPayload:
    """The signed login payload; ``InvalidLogin`` for anything else."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidLogin("登录内容不是有效的JSON", "the login payload is not valid JSON"
                           ) from None
    if not isinstance(doc, dict) or not {"nonce", "id", "kind"} <= set(doc):
        raise InvalidLogin("登录内容必须包含 nonce、id 和 kind",
                           "the login payload must hold nonce, id and kind")
    nonce, ident, kind = doc["nonce"], doc["id"], doc["kind"]
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
        raise InvalidLogin("nonce 不正确", "nonce must be the challenge's text",
                           details={"field": "nonce"})
    if kind not in (*APPLICANT_KINDS, STAFF_KIND):
        raise InvalidLogin("kind 只能是 person、organization 或 staff",
                           "kind must be person, organization or staff",
                           details={"field": "kind"})
    if not isinstance(ident, str) or not 1 <= len(ident.strip()) <= 64:
        raise InvalidLogin("id 必须是证件号码或统一社会信用代码",
                           "id must be an identity number or a social credit code",
                           details={"field": "id"})
    return LoginPayload(nonce, ident.strip(), str(kind))


def staff_identity_key(settings: Settings, ident: str) -> str:
    """Registry key material of a staff member's identity number (HMAC under the pepper).

    Distinct from the same person's applicant key, so that enrolling a civil servant as staff
    says nothing about their own applications.
    """
    if not settings.pepper:
        raise RuntimeError("the applicant-key pepper is not configured")
    number = idnumbers.validate_resident_id(ident)
    return hmac.new(settings.pepper, f"staff:{number}".encode(), hashlib.sha256).hexdigest()


def _identity(settings: Settings, kind: str, ident: str) -> tuple[str, str]:
    """The checked identity number and its HMAC (the subject or registry key)."""
    try:
        if kind == STAFF_KIND:
            return idnumbers.validate_resident_id(ident), staff_identity_key(settings, ident)
        checked = idnumbers.validate_applicant_id(kind, ident)
    except idnumbers.InvalidIdNumber as exc:
        raise InvalidLogin(exc.message_zh, exc.message_en, code=exc.code,
                           details={"field": "id"}) from exc
    return checked, idnumbers.applicant_key(kind, checked, settings.pepper)


def _refuse(reason: Reason) -> CertificateRefused:
    text = REASON_TEXT_ZH[reason]
    if reason is Reason.REVOCATION_UNKNOWN:
        text += "，请稍后再试"
    return CertificateRefused(f"登录失败：{text}", f"login refused: {REASON_TEXT_EN[reason]}",
                              code=reason.value)


def authenticate(settings: Settings, body: bytes, now: datetime) -> Principal:
    """The principal a signed login request proves; 4xx for anything else."""
    from chalicelib.signature import verify_detached
    from chalicelib.verification import trust_cache

    envelope = intake.parse_envelope(body, max_bytes=MAX_LOGIN_BYTES)
    signed = parse_payload(envelope.payload)
    ident, key = _identity(settings, signed.kind, signed.ident)
    try:
        principals.consume_challenge(signed.nonce, now=now)
    except principals.ChallengeRefused as refused:
        code, zh, en = _NONCE_ERRORS[refused.why]
        raise NonceRefused(zh, en, code=code) from None
    trust = trust_cache.get(settings.bucket(Bucket.TRUST), settings.trust_cache_seconds)
    verdict = verify_detached(envelope.payload, envelope.signature, trust, now=now,
                              applicant_id=ident)
    if signed.kind in APPLICANT_KINDS:
        if verdict.reason is not None:
            raise _refuse(verdict.reason)
        return Principal(APPLICANT_KINDS[signed.kind], key)
    # Staff: the certificate may be enrolled itself (then it need not carry the number the
    # login claims), or the identity number it carries may be.
    if verdict.reason not in (None, Reason.IDENTITY_MISMATCH):
        raise _refuse(verdict.reason)
    enrolment = None
    if verdict.signer_fingerprint:
        enrolment = principals.find(principals.fingerprint_key(verdict.signer_fingerprint))
    if enrolment is None and verdict.reason is None:
        enrolment = principals.find(principals.identity_key(key))
    if enrolment is None:
        if verdict.reason is Reason.IDENTITY_MISMATCH:
            raise _refuse(Reason.IDENTITY_MISMATCH)
        raise NotEnrolled()
    return Principal(Role(enrolment.role), enrolment.principal, enrolment.department,
                     enrolment.display)


def login(settings: Settings, body: bytes, now: datetime, *, kid: str,
          sign_der: Callable[[bytes], bytes]) -> dict[str, Any]:
    """Authenticate and answer with a token (``kid`` and ``sign_der`` from the key ring)."""
    who = authenticate(settings, body, now)
    token = tokens.issue(who, kid=kid, sign_der=sign_der, now=now,
                         token_id=secrets.token_urlsafe(12))
    log.info("login", extra={"role": who.role.value, "department": who.department})
    from chalicelib import audit

    audit.record_login(who, now)
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_in": int(tokens.LIFETIME.total_seconds()),
        "expires_at": (now + tokens.LIFETIME).isoformat(),
        "principal": {"role": who.role.value, "department": who.department,
                      "display": who.display},
    }
