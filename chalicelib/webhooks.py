"""Signed webhooks for organizations' own systems: one POST per event, HMAC-SHA256 signed.

A delivery is ``POST <webhook_url>`` with a JSON body and the headers::

    X-Onestop-Event-Id:   the event id (the same on every retry: deduplicate on it)
    X-Onestop-Timestamp:  Unix seconds when this attempt was signed
    X-Onestop-Signature:  v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes, compares in
constant time, and rejects a timestamp more than ``REPLAY_WINDOW`` (five minutes) from its own
clock; within the window it drops event ids it has already seen. That is the replay window:
a captured request cannot be replayed later, and a replay inside the window is a duplicate.
``verify`` below does exactly that and serves as the reference.

A 2xx answer is a delivery; anything else (or no answer within ``TIMEOUT``) is a failed
attempt, retried with backoff by the notify step (``notifications.RETRY_DELAYS``), each retry
freshly signed. The secret is per applicant, derived from the platform's pepper; the applicant
reads it at ``GET /me/webhook`` after a certificate login.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from chalicelib.settings import Settings

REPLAY_WINDOW = timedelta(minutes=5)
TIMEOUT = 5.0
VERSION = "v1"
SIGNATURE_HEADER = "X-Onestop-Signature"
TIMESTAMP_HEADER = "X-Onestop-Timestamp"
EVENT_HEADER = "X-Onestop-Event-Id"
MAX_URL = 2048


class InvalidWebhook(ValueError):
    """A webhook URL the platform will not call."""


class DeliveryFailed(RuntimeError):
    """The receiver did not acknowledge (non-2xx answer, timeout, connection refused)."""


def secret_for(settings: Settings, applicant_key: str) -> str:
    """The applicant's webhook signing secret (derived, so nothing secret is stored)."""
    return hmac.new(settings.pepper or b"onestop", f"webhook:{VERSION}:{applicant_key}".encode(),
                    hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: datetime,
           window: timedelta = REPLAY_WINDOW) -> bool:
    """The receiver's check: signature matches and the timestamp is inside the window."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now.timestamp() - sent) > window.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, if the platform may call it: https (http only where private addresses are
    allowed, the local stage), and a public address unless ``allow_private``."""
    if len(url) > MAX_URL:
        raise InvalidWebhook("URL too long")
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        raise InvalidWebhook("webhooks must use https")
    if not parts.hostname or parts.username or parts.password:
        raise InvalidWebhook("webhook URL needs a host and no credentials")
    if not allow_private:
        # Refuse addresses inside the government network: the platform must not be made to
        # call its own services (server-side request forgery).
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
        except OSError as exc:
            raise InvalidWebhook("webhook host does not resolve") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise InvalidWebhook("webhook host is not a public address")
    return url


def deliver(url: str, secret: str, event_id: str, body: dict[str, Any], now: datetime, *,
            allow_private: bool = False) -> int:
    """POST one signed event; returns the HTTP status (2xx), raises ``DeliveryFailed``."""
    check_url(url, allow_private=allow_private)
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    request = urllib.request.Request(url, data=raw, method="POST", headers={  # noqa: S310 - scheme checked above
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "onestop-webhooks/1",
        EVENT_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, raw),
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"receiver answered {exc.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DeliveryFailed(f"receiver unreachable: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"receiver answered {status}")
    return status


def description(secret: str) -> dict[str, Any]:
    """What ``GET /me/webhook`` tells an applicant about their deliveries."""
    return {
        "secret": secret,
        "algorithm": "HMAC-SHA256",
        "signed_content": "<X-Onestop-Timestamp>.<raw request body>",
        "headers": {"signature": SIGNATURE_HEADER, "timestamp": TIMESTAMP_HEADER,
                    "event_id": EVENT_HEADER},
        "signature_format": f"{VERSION}=<hex>",
        "replay_window_seconds": int(REPLAY_WINDOW.total_seconds()),
        "note_zh": "请用密钥对“时间戳.原始请求体”计算HMAC-SHA256并比对；时间戳与本地时间相差超过"
                   "5分钟的请求应拒绝，窗口内重复的事件编号应忽略。",
        "note_en": "Recompute HMAC-SHA256 over '<timestamp>.<raw body>' with the secret and "
                   "compare in constant time; reject timestamps more than 5 minutes off your "
                   "clock and ignore event ids already seen within that window.",
    }
