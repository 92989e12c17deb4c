"""Errors with a code and a bilingual message; the API maps them to 4xx answers.

Every client-facing failure is one of these, so a handler never answers a 5xx for bad input.
"""

from __future__ import annotations

from typing import Any


class OnestopError(Exception):
    """Base of every error the platform raises on purpose."""


class ClientError(OnestopError):
    """The request cannot be served as sent; answered with ``status`` and an error body."""

    status = 400
    code = "BAD_REQUEST"
    message_zh = "请求不正确"
    message_en = "bad request"

    def __init__(
        self,
        message_zh: str | None = None,
        message_en: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message_zh = message_zh or self.message_zh
        self.message_en = message_en or self.message_en
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        super().__init__(f"{self.code}: {self.message_en}")

    def body(self) -> dict[str, Any]:
        """The contract's error body: ``{"error": {"code", "message", ...}}``."""
        # Details come first: a detail named like a contract key must not replace the code.
        error: dict[str, Any] = {
            **self.details,
            "code": self.code,
            "message": self.message_zh,
            "message_en": self.message_en,
        }
        return {"error": error}


class NotFound(ClientError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    code = "NOT_FOUND"
    message_zh = "未找到"
    message_en = "not found"


class Conflict(ClientError):
    """The request conflicts with the object's current state."""

    status = 409
    code = "CONFLICT"
    message_zh = "当前状态不允许此操作"
    message_en = "conflicts with the current state"


class PayloadTooLarge(ClientError):
    """The body is larger than the configured limit."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message_zh = "请求内容过大"
    message_en = "payload too large"


class Unauthorized(ClientError):
    """No valid credentials."""

    status = 401
    code = "UNAUTHORIZED"
    message_zh = "需要登录"
    message_en = "authentication required"


class Forbidden(ClientError):
    """Credentials are valid but do not allow this."""

    status = 403
    code = "FORBIDDEN"
    message_zh = "无权执行此操作"
    message_en = "not allowed"


class RetryableError(OnestopError):
    """A transient condition: the message is left for redelivery."""
