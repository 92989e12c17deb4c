"""Certificate login: challenge and login, giving a short-lived token (``chalicelib/login.py``).

    POST /auth/challenge   → {"nonce", "expires_at", …}            (single use, 5 minutes)
    POST /auth/login       ← {"payload", "signature"}               (the contract's envelope,
                             payload {"nonce", "id", "kind"})        signed with the certificate)
                           → {"token", "token_type": "Bearer", "expires_at", "principal"}
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint, Response

from chalicelib import login, runtime
from chalicelib.api import authz, json_response

bp = Blueprint(__name__)


@bp.route("/auth/challenge", methods=["POST"])
def post_challenge() -> Response:
    """A single-use nonce to sign with the certificate; expires after five minutes."""
    runtime.ready()
    return json_response(login.challenge(datetime.now(UTC)), 201,
                         headers={"Cache-Control": "no-store"})


@bp.route("/auth/login", methods=["POST"], content_types=["application/json"])
def post_login() -> Response:
    """Exchange the signed nonce for a token (401 with a clear code when refused)."""
    settings = runtime.ready()
    raw = bp.current_request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    kid, sign_der = authz.signer(settings)
    answer = login.login(settings, body, datetime.now(UTC), kid=kid, sign_der=sign_der)
    return json_response(answer, headers={"Cache-Control": "no-store"})
