"""Public routes: health, tracking."""

from __future__ import annotations

from datetime import UTC, datetime

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


def source_ip() -> str:
    """The caller's address as API Gateway saw it (``unknown`` when it is not given)."""
    context = bp.current_request.context or {}
    identity = context.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


@bp.route("/track/{receipt}", methods=["GET"])
def track(receipt: str) -> Response:
    """Status, reason, public timeline and open tasks of a case (needs its tracking code).

    Rate limited per source address and per receipt's wrong codes (429); a wrong code and an
    unknown receipt answer the same 404.
    """
    settings = runtime.ready()
    now = datetime.now(UTC)
    params = bp.current_request.query_params
    code = params.get("code") if params else None
    application = tracking.track(source_ip(), receipt, code, now, stage=settings.stage)
    return json_response(tracking.view(application, tracking.open_tasks(receipt, now)),
                         headers={"Cache-Control": "no-store"})
