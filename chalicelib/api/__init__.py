"""HTTP API: Chalice blueprints, one per audience, and the error middleware."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib.errors import ClientError

log = logging.getLogger(__name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with UTF-8 Chinese left readable."""
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             **(headers or {})})


def register_routes(app: Chalice) -> None:
    """Attach every blueprint and the error middleware to ``app``."""
    from chalicelib.api import (
        auth,
        catalog,
        clerk,
        departments,
        licences,
        me,
        public,
        submissions,
        supervisor,
    )

    @app.middleware("http")
    def errors_as_json(event: Any, get_response: Callable[[Any], Response]) -> Response:
        try:
            return get_response(event)
        except ClientError as exc:
            return json_response(exc.body(), exc.status)
        except Exception:
            # Never leak internals; the request id ties the answer to the log line.
            log.exception("unhandled error")
            error = {"code": "INTERNAL", "message": "系统内部错误，请稍后再试",
                     "message_en": "internal error; try again later"}
            return json_response({"error": error}, 500)

    for module in (public, submissions, catalog, departments, licences, clerk, auth, me,
                   supervisor):
        app.register_blueprint(module.bp)
