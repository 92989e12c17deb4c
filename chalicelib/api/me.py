"""The signed-in caller's own things: who they are, their cases, their inbox, their webhook key.

    GET /me                          any role: the token's principal
    GET /me/applications             applicants: their cases, newest first (applicant index)
    GET /me/applications/{receipt}   applicants: one of their cases (others' answer 404)
    GET /me/inbox                    applicants: their messages; officers: their department's;
                                     supervisors: the supervisors' (red warnings); newest first
    GET /me/webhook                  applicants: how their webhook deliveries are signed
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from chalicelib import runtime, tracking, webhooks
from chalicelib.api import authz, json_response
from chalicelib.errors import ClientError
from chalicelib.principal import Principal, Role
from chalicelib.settings import Settings
from chalicelib.store import cases, cursors, inbox, principals

bp = Blueprint(__name__)

MAX_PAGE = 100


class InvalidQuery(ClientError):
    """A query parameter with a wrong value."""

    code = "INVALID_QUERY"


def _headers() -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (bp.current_request.headers or {}).items()}


def _params() -> dict[str, str]:
    return {str(k): str(v) for k, v in (bp.current_request.query_params or {}).items()}


def _caller(roles: frozenset[Role] = authz.ALL_ROLES) -> tuple[Settings, Principal]:
    settings = runtime.ready()
    return settings, authz.require(_headers(), settings, roles)


def _limit() -> int:
    raw = _params().get("limit") or "20"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidQuery(f"每页条数必须在1到{MAX_PAGE}之间",
                           f"limit must be between 1 and {MAX_PAGE}")
    return int(raw)


def _no_store(body: Any) -> Response:
    return json_response(body, headers={"Cache-Control": "no-store"})


def _bad_cursor() -> InvalidQuery:
    return InvalidQuery("翻页标记无效", "malformed cursor", code="INVALID_CURSOR")


@bp.route("/me", methods=["GET"])
def get_me() -> Response:
    """The caller as the token says (role, department, display name)."""
    _, caller = _caller()
    return _no_store({"role": caller.role.value, "department": caller.department,
                      "display": caller.display, "subject": caller.subject})


def _summary(settings: Settings, application: Any) -> dict[str, Any]:
    return {
        "receipt": application.receipt,
        "service_code": application.service_code,
        "status": application.status,
        "reason": application.reason,
        "received_at": application.received_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
        "due_date": application.due_date,
        "links": {"self": f"{settings.public_base_url}/me/applications/{application.receipt}",
                  "track": f"{settings.public_base_url}/track/{application.receipt}"},
    }


@bp.route("/me/applications", methods=["GET"])
def my_applications() -> Response:
    """The caller's applications, newest first; ``limit`` and ``cursor`` page through them."""
    settings, caller = _caller(authz.APPLICANT_ROLES)
    try:
        items, cursor = principals.applications_of(caller.subject, limit=_limit(),
                                                   cursor=_params().get("cursor"))
    except cursors.InvalidCursor:
        raise _bad_cursor() from None
    return _no_store({"items": [_summary(settings, a) for a in items], "next_cursor": cursor})


@bp.route("/me/applications/{receipt}", methods=["GET"])
def my_application(receipt: str) -> Response:
    """One of the caller's cases, as tracking shows it; anyone else's answers 404."""
    settings, caller = _caller(authz.APPLICANT_ROLES)
    application = cases.find(receipt) if len(receipt) <= tracking.MAX_RECEIPT else None
    authz.require_owner(caller, application.applicant_key if application else None)
    assert application is not None
    answer = tracking.view(application, tracking.open_tasks(receipt, datetime.now(UTC)))
    answer["links"] = _summary(settings, application)["links"]
    return _no_store(answer)


def inbox_of(caller: Principal) -> str:
    """Whose messages the caller reads."""
    if caller.role is Role.OFFICER and caller.department:
        return inbox.department_recipient(caller.department)
    if caller.role is Role.SUPERVISOR:
        return inbox.role_recipient(Role.SUPERVISOR.value)
    return caller.subject


@bp.route("/me/inbox", methods=["GET"])
def my_inbox() -> Response:
    """The caller's messages, newest first; ``limit`` and ``cursor`` page through them."""
    _, caller = _caller()
    try:
        items, cursor = inbox.page(inbox_of(caller), limit=_limit(),
                                   cursor=_params().get("cursor"))
    except cursors.InvalidCursor:
        raise _bad_cursor() from None
    return _no_store({"items": items, "next_cursor": cursor})


@bp.route("/me/webhook", methods=["GET"])
def my_webhook() -> Response:
    """The secret that signs the caller's webhook deliveries, and how to check them."""
    settings, caller = _caller(authz.APPLICANT_ROLES)
    return _no_store(webhooks.description(webhooks.secret_for(settings, caller.subject)))
