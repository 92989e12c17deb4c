"""Applicant routes: submit a signed application, upload materials."""

from __future__ import annotations

from datetime import datetime, timezone

from chalice import Blueprint, Response

from chalicelib import runtime
from chalicelib.api import json_response

bp = Blueprint(__name__)


@bp.route("/applications", methods=["POST"], content_types=["application/json"])
def post_application() -> Response:
    """Receive a signed envelope; 202 with the receipt and tracking code."""
    from chalicelib import submission  # signature libraries load only where needed

    settings = runtime.ready()
    body = bp.current_request.raw_body or b""
    accepted = submission.submit(body, settings, datetime.now(timezone.utc))
    return json_response(accepted.body(settings.public_base_url), 202)
