"""Public routes: health, tracking."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import health, runtime
from chalicelib.api import json_response

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def get_health() -> Response:
    """Versions, stage and whether each backbone resource is reachable."""
    settings = runtime.ready()
    report = health.check(settings)
    return json_response(report, 200 if report["status"] == "ok" else 503)
