"""Public routes: health, tracking."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import health, runtime, tracking
from chalicelib.api import json_response

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def get_health() -> Response:
    """Versions, stage and whether each backbone resource is reachable."""
    settings = runtime.ready()
    report = health.check(settings)
    return json_response(report, 200 if report["status"] == "ok" else 503)


@bp.route("/track/{receipt}", methods=["GET"])
def track(receipt: str) -> Response:
    """Status, reason, public timeline and open tasks of a case (needs its tracking code)."""
    runtime.ready()
    params = bp.current_request.query_params
    code = params.get("code") if params else None
    application = tracking.authorise(receipt, code)
    return json_response(tracking.view(application), headers={"Cache-Control": "no-store"})
