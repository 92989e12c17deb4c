"""Electronic supervision views, statistics, the applicant's rating and data tracker.

    GET  /stats                                    public: aggregates per period, department
    GET  /supervision/stats                        supervisor: every counter, drill-down
    GET  /supervision/findings                     supervisor: open (or closed) findings
    POST /supervision/findings/{finding_id}/resolve  supervisor: close one with a note
    GET  /supervision/departments/{code}/overdue   supervisor: running tasks past due
    GET  /supervision/departments/{code}/warnings  supervisor: warnings raised
    GET  /supervision/cases/{receipt}              supervisor: a case's full history (logged)
    POST /applications/{receipt}/rating            the applicant: 好差评, once per ended case
    GET  /me/applications/{receipt}/views          the applicant: who read the case, and when

Supervisors read everything and decide nothing; every case they open is itself recorded in
the case's audit chain, and the applicant sees that a supervisor (role and department, never
the person) looked.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from chalicelib import audit, runtime, stats, supervision
from chalicelib.api import authz, json_response
from chalicelib.catalog import department_by_code, load_departments, service_by_code
from chalicelib.errors import ClientError, NotFound
from chalicelib.principal import Principal, Role
from chalicelib.settings import Settings
from chalicelib.supervision_rules import RULE_TEXT_EN, RULE_TEXT_ZH, Rule, parse_finding_id
from chalicelib.workcalendar import china_date

bp = Blueprint(__name__)

TEST_NOW_HEADER = "x-onestop-test-now"  # the local stack only, as for department routes
MAX_PAGE = 100
MAX_RECEIPT = 64
SUPERVISORS = frozenset({Role.SUPERVISOR})


class InvalidQuery(ClientError):
    """A query parameter or body field with a wrong value."""

    code = "INVALID_QUERY"


def _headers() -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (bp.current_request.headers or {}).items()}


def _params() -> dict[str, str]:
    return {str(k): str(v) for k, v in (bp.current_request.query_params or {}).items()}


def _now(settings: Settings) -> datetime:
    raw = _headers().get(TEST_NOW_HEADER) if settings.stage == "local" else None
    if not raw:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidQuery(f"{TEST_NOW_HEADER} 不是有效的时间",
                           f"{TEST_NOW_HEADER} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _supervisor() -> tuple[Settings, Principal]:
    settings = runtime.ready()
    return settings, authz.require(_headers(), settings, SUPERVISORS)


def _limit(default: int = 50) -> int:
    raw = _params().get("limit") or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidQuery(f"每页条数必须在1到{MAX_PAGE}之间",
                           f"limit must be between 1 and {MAX_PAGE}")
    return int(raw)


def _period(now: datetime) -> str:
    raw = _params().get("period") or str(china_date(now).year)
    period = stats.parse_period(raw)
    if period is None:
        raise InvalidQuery("统计期间须为 YYYY、YYYY-MM 或 YYYY-MM-DD",
                           "period must be YYYY, YYYY-MM or YYYY-MM-DD")
    return period


def _department(code: str) -> Any:
    found = department_by_code(code) if len(code) <= 12 else None
    if found is None:
        raise NotFound("未找到该部门", "no such department", details={"department": code})
    return found


def _body() -> dict[str, Any]:
    try:
        doc = json.loads(bp.current_request.raw_body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidQuery("请求体不是有效的JSON", "the body is not valid JSON",
                           code="INVALID_JSON") from None
    if not isinstance(doc, dict):
        raise InvalidQuery("请求体必须是JSON对象", "the body must be a JSON object")
    return doc


def _opaque(text: str | None) -> str | None:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=") if text else None


def _unopaque(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery("翻页标记无效", "malformed cursor", code="INVALID_CURSOR") from None


def _no_store(body: Any, status: int = 200) -> Response:
    return json_response(body, status, headers={"Cache-Control": "no-store"})


def _label(period: str) -> str:
    return period[1:]


# ---------------------------------------------------------------------------- statistics


def _departments_of(scopes: dict[str, dict[str, int]], public: bool) -> list[dict[str, Any]]:
    shown = []
    names = {d.code: d.name for d in load_departments()}
    for scope, counters in sorted(scopes.items()):
        if not scope.startswith("dept#"):
            continue
        code = scope[len("dept#"):]
        figures = stats.public_figures(counters) if public else stats.figures(counters)
        shown.append({"department": code, "name": names.get(code, code), **figures})
    return shown


@bp.route("/stats", methods=["GET"])
def public_stats() -> Response:
    """The platform's and each department's figures for a period (``?period=2026|2026-11``)."""
    from chalicelib.store import stats as counters

    settings = runtime.ready()
    period = _period(_now(settings))
    scopes = counters.period_scopes(period, below="item#")
    body = {"period": _label(period), "total": stats.public_figures(scopes.get(stats.ALL, {})),
            "departments": _departments_of(scopes, public=True),
            "definitions": {"on_time_rate": "按时办结率：在承诺时限内办结的件数 / 办结件数",
                            "early_rate": "提前办结率：提前至少一个工作日办结的件数 / 办结件数"}}
    return json_response(body, headers={"Cache-Control": "public, max-age=300"})


@bp.route("/supervision/stats", methods=["GET"])
def supervision_stats() -> Response:
    """Every counter; ``department`` drills into its items, ``item`` into one item, and
    ``series=true`` adds the days of a month or the months of a year."""
    from chalicelib.store import stats as counters

    settings, _ = _supervisor()
    query = _params()
    period = _period(_now(settings))
    department = query.get("department")
    item = query.get("item")
    body: dict[str, Any] = {"period": _label(period)}
    if department:
        _department(department)
        scope = stats.item_scope(department, item) if item else \
            stats.department_scope(department)
        body["department"] = department
        body["total"] = stats.figures(counters.scope_total(period, scope))
        if item:
            body["item"] = item
        else:
            items = counters.period_scopes(period, prefix=f"item#{department}#")
            body["items"] = [{"service_code": s.rsplit("#", 1)[-1], **stats.figures(c)}
                             for s, c in sorted(items.items())]
    else:
        scope = stats.ALL
        scopes = counters.period_scopes(period, below="item#")
        body["total"] = stats.figures(scopes.get(stats.ALL, {}))
        body["departments"] = _departments_of(scopes, public=False)
    if query.get("series") in ("1", "true"):
        body["series"] = [{"period": _label(p), **stats.figures(c)} for p, c in
                          counters.series(stats.sub_periods(period), scope).items()]
    return _no_store(body)


# ---------------------------------------------------------------------------- findings


def _finding_view(finding: dict[str, Any]) -> dict[str, Any]:
    try:
        rule = Rule(finding.get("rule"))
        text = {"rule_zh": RULE_TEXT_ZH[rule], "rule_en": RULE_TEXT_EN[rule]}
    except ValueError:
        text = {}
    return {**finding, **text}


@bp.route("/supervision/findings", methods=["GET"])
def list_findings() -> Response:
    """Findings, newest first: ``state=open`` (default) of all departments or one
    (``department=``), or ``state=closed`` of one department."""
    from chalicelib.store import findings

    _supervisor()
    query = _params()
    department = query.get("department")
    if department:
        _department(department)
    state = query.get("state") or "open"
    before = _unopaque(query.get("cursor"))
    if state == "open":
        items, last = findings.open_findings(department, limit=_limit(), before=before)
    elif state == "closed" and department:
        items, last = findings.closed_findings(department, limit=_limit(), before=before)
    else:
        raise InvalidQuery("state 只能是 open，或与 department 一起使用 closed",
                           "state is open, or closed together with department")
    return _no_store({"state": state, "department": department,
                      "items": [_finding_view(f) for f in items], "next_cursor": _opaque(last)})


@bp.route("/supervision/findings/{finding_id}/resolve", methods=["POST"])
def resolve_finding(finding_id: str) -> Response:
    """Close an open finding with ``{"note": …}`` (what was done about it)."""
    from chalicelib.store import findings

    settings, caller = _supervisor()
    parsed = parse_finding_id(finding_id)
    item = findings.get_finding(*parsed) if parsed else None
    if parsed is None or item is None:
        raise NotFound("未找到该监察事项", "no such finding")
    note = _body().get("note")
    if not isinstance(note, str) or not note.strip() or len(note) > 2000:
        raise InvalidQuery("请填写处理意见（不超过2000字）", "note must be 1 to 2000 characters",
                           details={"field": "note"})
    now = _now(settings)
    if not findings.resolve(item, by=caller.subject, note=note.strip(), at=now):
        raise ClientError("该监察事项已办结", "the finding is closed already",
                          code="FINDING_CLOSED", status=409)
    audit.record(parsed[0], "FINDING_RESOLVED", actor=caller.subject, at=now,
                 data={"rule": parsed[1].value, "subject": parsed[2]})
    fresh = findings.get_finding(*parsed)
    return _no_store(_finding_view(dict(fresh.data or {}) if fresh else {}))


# ---------------------------------------------------------------------------- departments


@bp.route("/supervision/departments/{code}/overdue", methods=["GET"])
def department_overdue(code: str) -> Response:
    """A department's running tasks past their due date, earliest first."""
    from chalicelib.store import cursors

    settings, _ = _supervisor()
    _department(code)
    try:
        start = cursors.decode_cursor(_params().get("cursor"), {"department": code},
                                       {"receipt", "task_key", "department", "due_sort"})
    except cursors.InvalidCursor:
        raise InvalidQuery("翻页标记无效", "malformed cursor", code="INVALID_CURSOR") from None
    items, last = supervision.overdue(code, _now(settings), limit=_limit(), start=start)
    return _no_store({"department": code, "items": items,
                      "next_cursor": cursors.encode_cursor(last)})


@bp.route("/supervision/departments/{code}/warnings", methods=["GET"])
def department_warnings(code: str) -> Response:
    """The warnings raised for a department's tasks, newest first (``since=`` ISO time)."""
    from chalicelib.store import cursors, findings

    _supervisor()
    _department(code)
    raw = _params().get("since")
    try:
        since = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        raise InvalidQuery("since 不是有效的时间", "since is not an ISO 8601 time") from None
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    try:
        items, cursor = findings.warnings_of_department(code, since=since, limit=_limit(),
                                                        cursor=_params().get("cursor"))
    except cursors.InvalidCursor:
        raise InvalidQuery("翻页标记无效", "malformed cursor", code="INVALID_CURSOR") from None
    return _no_store({"department": code, "items": items, "next_cursor": cursor})


# ---------------------------------------------------------------------------- cases


@bp.route("/supervision/cases/{receipt}", methods=["GET"])
def case_history(receipt: str) -> Response:
    """A case's full history: tasks, every log and audit record, warnings, findings, rating,
    and whether its audit chain holds. The read itself is recorded."""
    from chalicelib.store import cases

    settings, caller = _supervisor()
    if len(receipt) > MAX_RECEIPT or cases.find(receipt) is None:
        raise NotFound("未找到该申请", "no such application")
    now = _now(settings)
    audit.record_read(receipt, caller, now, what="supervision")
    return _no_store(supervision.case_history(settings, receipt, now))


def _own_case(receipt: str) -> tuple[Settings, Principal, Any]:
    from chalicelib.store import cases

    settings = runtime.ready()
    caller = authz.require(_headers(), settings, authz.APPLICANT_ROLES)
    application = cases.find(receipt) if len(receipt) <= MAX_RECEIPT else None
    authz.require_owner(caller, application.applicant_key if application else None)
    return settings, caller, application


@bp.route("/applications/{receipt}/rating", methods=["POST"])
def rate(receipt: str) -> Response:
    """好差评: ``{"score": 1-5, "comment"?: …}`` by the signed-in applicant, once per ended case;
    a score of 2 or less opens a supervision finding."""
    from chalicelib.store import catalog

    settings, caller, application = _own_case(receipt)
    score, comment = supervision.check_rating(_body())
    item = catalog.bound(application.service_code, int(application.service_version))
    if item is None:  # the catalog table is a nicety here: the packaged data will do
        packaged = service_by_code(application.service_code)
        item = {"department": packaged.department if packaged else "unknown"}
    answer = supervision.rate(application, item, caller.subject, score, comment,
                              _now(settings))
    return _no_store(answer, 201)


@bp.route("/me/applications/{receipt}/views", methods=["GET"])
def who_viewed(receipt: str) -> Response:
    """Who read the caller's case: when, the role and the department (never the person)."""
    _own_case(receipt)
    return _no_store({"receipt": receipt, "views": audit.views(receipt)})
