"""Applicant routes: submit a signed application, upload materials."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalice import Blueprint, Response

from chalicelib import runtime, uploads
from chalicelib.api import json_response
from chalicelib.errors import ClientError
from chalicelib.names import Bucket

bp = Blueprint(__name__)


@bp.route("/applications", methods=["POST"], content_types=["application/json"])
def post_application() -> Response:
    """Receive a signed envelope; 202 with the receipt and tracking code."""
    from chalicelib import submission  # signature libraries load only where needed

    settings = runtime.ready()
    raw = bp.current_request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    accepted = submission.submit(body, settings, datetime.now(UTC))
    return json_response(accepted.body(settings.public_base_url), 202)


@bp.route("/uploads", methods=["POST"], content_types=["application/json"])
def post_upload() -> Response:
    """A presigned PUT for one attachment (its digest and size are signed in the application)."""
    settings = runtime.ready()
    try:
        request = json.loads(bp.current_request.raw_body or b"")
    except (ValueError, UnicodeDecodeError):
        raise ClientError("请求体不是有效的JSON", "the body is not valid JSON",
                          code="INVALID_JSON") from None
    return json_response(uploads.new_upload(request, settings.bucket(Bucket.UPLOADS)), 201)


@bp.route("/applications/{receipt}/evidence", methods=["GET"])
def get_evidence(receipt: str) -> Response:
    """The signature validation report of a case, and its original signature (base64).

    The applicant reads it with the tracking code; staff auditors with their token.
    """
    from chalicelib import evidence, tracking
    from chalicelib.api import authz
    from chalicelib.principal import Role

    settings = runtime.ready()
    request = bp.current_request
    params = request.query_params
    if params and params.get("code"):
        tracking.authorise(receipt, params.get("code"))
        body = evidence.read(settings, receipt)
    else:
        from chalicelib import audit

        caller = authz.require(dict(request.headers), settings, {Role.SUPERVISOR, Role.ADMIN})
        body = evidence.read(settings, receipt)  # 404, and no trace, for a case with none
        audit.record_read(receipt, caller, datetime.now(UTC), what="evidence")
    return json_response(body, headers={"Cache-Control": "no-store"})
