"""Cheap checks on a signed envelope before anything is stored (pure; no AWS).

Order matters: each check is cheaper than the next, and the first failure answers. Every
failure is an ``IntakeError`` (4xx with a code and a bilingual message); nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from chalicelib.errors import ClientError, PayloadTooLarge

# API Gateway refuses bodies over 10 MB before we see them; we refuse the same locally.
MAX_BODY_BYTES = 10 * 1024 * 1024


class IntakeError(ClientError):
    """The submitted envelope or application is not acceptable."""

    status = 400
    code = "INVALID_APPLICATION"


def _fail(code: str, zh: str, en: str, **details: Any) -> IntakeError:
    return IntakeError(zh, en, code=code, details=details or None)


APPLICATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["service_code", "applicant", "form", "signed_at", "nonce"],
    "additionalProperties": False,
    "properties": {
        "service_code": {"type": "string", "minLength": 1, "maxLength": 64},
        "applicant": {
            "type": "object",
            "required": ["kind", "id", "name"],
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": ["person", "organization"]},
                "id": {"type": "string", "minLength": 18, "maxLength": 18},
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "phone": {"type": "string", "pattern": r"^\+?[0-9\-]{5,20}$"},
                "email": {"type": "string", "maxLength": 254,
                          "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"},
            },
        },
        "form": {"type": "object"},
        "attachments": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["upload_id", "name", "sha256", "size"],
                "additionalProperties": False,
                "properties": {
                    "upload_id": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{8,64}$"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "sha256": {"type": "string", "pattern": r"^[0-9a-fA-F]{64}$"},
                    "size": {"type": "integer", "minimum": 0},
                },
            },
        },
        "signed_at": {"type": "string", "minLength": 10, "maxLength": 40},
        "nonce": {"type": "string", "minLength": 8, "maxLength": 128,
                  "pattern": r"^[A-Za-z0-9_.:-]+$"},
        # Optional, backward-compatible additions: where the applicant wants to be told.
        "channels": {"type": "array", "items": {"enum": ["sms", "email", "inbox", "webhook"]},
                     "uniqueItems": True},
        "webhook_url": {"type": "string", "pattern": "^https?://", "maxLength": 500},
        "supplement_to": {"type": "string", "maxLength": 64},
    },
}
_APPLICATION_VALIDATOR = Draft202012Validator(APPLICATION_SCHEMA)


@dataclass(frozen=True)
class Envelope:
    """The decoded contract envelope."""

    payload: bytes
    signature: bytes

    @property
    def payload_sha256(self) -> str:
        """Hex SHA-256 of the payload bytes."""
        return hashlib.sha256(self.payload).hexdigest()


def parse_envelope(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> Envelope:
    """Decode ``{"payload": b64, "signature": b64}``."""
    if len(body) > max_bytes:
        raise PayloadTooLarge(details={"max_bytes": max_bytes})
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _fail("INVALID_JSON", "请求体不是有效的JSON", "the body is not valid JSON") from None
    if not isinstance(doc, dict) or set(doc) != {"payload", "signature"}:
        raise _fail("INVALID_ENVELOPE", "请求体必须且只能包含 payload 和 signature 两个字段",
                    "the body must hold exactly the fields payload and signature")
    parts = {}
    for field in ("payload", "signature"):
        value = doc[field]
        if not isinstance(value, str) or not value:
            raise _fail("INVALID_BASE64", f"{field} 必须是非空的Base64字符串",
                        f"{field} must be a non-empty base64 string", field=field)
        try:
            parts[field] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _fail("INVALID_BASE64", f"{field} 不是有效的Base64编码",
                        f"{field} is not valid base64", field=field) from None
    return Envelope(parts["payload"], parts["signature"])


def parse_application(payload: bytes) -> dict[str, Any]:
    """Parse and check the application JSON against the contract's shape."""
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _fail("INVALID_PAYLOAD", "申请内容不是有效的UTF-8 JSON",
                    "the payload is not valid UTF-8 JSON") from None
    errors = sorted(_APPLICATION_VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise _fail("INVALID_PAYLOAD", f"申请内容格式不正确：{where}",
                    f"the payload does not match the contract at {where}: {first.message}",
                    field=where)
    return dict(doc)


def parse_signed_at(value: str, now: datetime, skew: timedelta) -> datetime:
    """``signed_at`` as an aware datetime, within ``skew`` of ``now``."""
    try:
        signed_at = datetime.fromisoformat(value)
    except ValueError:
        raise _fail("INVALID_SIGNED_AT", "signed_at 不是有效的ISO 8601时间",
                    "signed_at is not an ISO 8601 timestamp") from None
    if signed_at.tzinfo is None:
        raise _fail("INVALID_SIGNED_AT", "signed_at 必须带时区", "signed_at needs a time zone")
    if abs(now - signed_at) > skew:
        raise _fail("SIGNED_AT_SKEW", "签名时间与服务器时间相差过大，请重新签名",
                    "signed_at is too far from the server's time; sign again",
                    max_skew_seconds=int(skew.total_seconds()))
    return signed_at


def check_form(form: dict[str, Any], form_schema: dict[str, Any]) -> None:
    """Check the application's ``form`` against the service item's JSON Schema."""
    errors = sorted(Draft202012Validator(form_schema).iter_errors(form),
                    key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(form)"
        raise _fail("INVALID_FORM", f"表单填写不正确：{where}",
                    f"the form is not valid at {where}: {first.message}", field=where)


def check_materials(attachments: list[dict[str, Any]], materials: list[dict[str, Any]]) -> None:
    """Every required material has an attachment named by its code or its name."""
    given = {a["name"] for a in attachments}
    missing = [m for m in materials if m.get("required")
               and m["code"] not in given and m["name"] not in given]
    if missing:
        names = "、".join(m["name"] for m in missing)
        raise _fail("MISSING_MATERIALS", f"缺少必需的申请材料：{names}",
                    "required materials are missing", missing=[m["code"] for m in missing])
    limits = {m["code"]: m for m in materials} | {m["name"]: m for m in materials}
    for a in attachments:
        material = limits.get(a["name"])
        if material and material.get("max_bytes") and a["size"] > material["max_bytes"]:
            raise _fail("ATTACHMENT_TOO_LARGE", f"材料“{material['name']}”超过大小限制",
                        "an attachment is larger than its material allows", name=a["name"])
