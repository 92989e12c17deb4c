"""HTTP API: Chalice blueprints, one per audience, and the mapping of errors to answers."""

from __future__ import annotations

import functools
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
    """Attach every blueprint to ``app`` and wrap every view in the error mapping."""
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

    for module in (public, submissions, catalog, departments, licences, clerk, auth, me,
                   supervisor):
        app.register_blueprint(module.bp)
    # chalice turns an exception raised in a view into its own 500 before any middleware sees
    # it, so every view is wrapped once here: one place maps errors to the contract's body.
    for methods in app.routes.values():
        for entry in methods.values():
            entry.view_function = _errors_as_json(entry.view_function)


def _errors_as_json(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ClientError as exc:
            return json_response(exc.body(), exc.status)
        except Exception:
            # Never leak internals; the request id in the log ties the answer to the trace.
            log.exception("unhandled error")
            error = {"code": "INTERNAL", "message": "系统内部错误，请稍后再试",
                     "message_en": "internal error; try again later"}
            return json_response({"error": error}, 500)

    return wrapped
