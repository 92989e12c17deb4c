"""Service-window clerks: assisted submission (窗口代办).

A person without a certificate brings the application and scanned materials to a service
window; an enrolled clerk uploads the scans (``POST /uploads``), builds the same envelope as an
applicant would, signs it with the clerk's own certificate and submits it here. The case is
marked ``assisted`` in the very transaction that stores it, and the clerk who submitted it in
``assisted_by`` and in the case log, so that verification accepts the clerk's signature in
place of the applicant's identity binding and the supervisor sees who acted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint, Response

from chalicelib import runtime
from chalicelib.api import authz, json_response
from chalicelib.api.departments import headers
from chalicelib.principal import Role
from chalicelib.store import caselog

bp = Blueprint(__name__)


@bp.route("/clerk/applications", methods=["POST"], content_types=["application/json"])
def post_assisted_application() -> Response:
    """Submit a clerk-signed envelope for a person without a certificate; 202 as usual."""
    from chalicelib import submission  # signature libraries load only where needed

    settings = runtime.ready()
    clerk = authz.require(headers(), settings, [Role.CLERK])
    raw = bp.current_request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    now = datetime.now(UTC)
    accepted = submission.submit(body, settings, now, assisted_by=clerk.subject)
    caselog.append(accepted.receipt, "ASSISTED_SUBMISSION", actor=clerk.subject, at=now,
                   public=False, data={"clerk": clerk.subject, "display": clerk.display})
    answer = accepted.body(settings.public_base_url)
    answer["assisted"] = True
    return json_response(answer, 202)
