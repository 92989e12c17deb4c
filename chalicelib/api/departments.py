"""Department work (officers): worklists, task details, decisions; and the applicant's supplement.

Every route authenticates its caller first (``authz.require``): officers act only on their own
department's tasks (a task is looked up under the department of the URL, which must be the
officer's), supervisors may read every worklist but decide nothing. The applicant's answer to a
correction request (``POST /applications/{receipt}/supplements``) lives here because it is the
other half of the correction round; it is authenticated by its CA signature, like an application.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from chalicelib import runtime, storage, uploads, workflow
from chalicelib.api import authz, json_response
from chalicelib.errors import ClientError
from chalicelib.names import Bucket
from chalicelib.principal import Principal, Role
from chalicelib.routing import Decision
from chalicelib.settings import Settings
from chalicelib.store import cases, tasks
from chalicelib.store.models import ApplicationModel, TaskModel

bp = Blueprint(__name__)

# The local stack only: lets an end-to-end test run a correction round across a holiday without
# waiting for it. Ignored in every other stage.
TEST_NOW_HEADER = "x-onestop-test-now"
MAX_TEXT = 2000
MAX_PAGE = 100


class InvalidRequest(ClientError):
    """The request body is missing a field or has a wrong value."""

    code = "INVALID_REQUEST"


def headers() -> dict[str, str]:
    """The current request's headers (names in lower case)."""
    return {str(k).lower(): str(v) for k, v in (bp.current_request.headers or {}).items()}


def params() -> dict[str, str]:
    """The current request's query parameters."""
    return {str(k): str(v) for k, v in (bp.current_request.query_params or {}).items()}


def request_now(settings: Settings) -> datetime:
    """The time of the request (see ``TEST_NOW_HEADER``)."""
    real = datetime.now(UTC)
    if settings.stage != "local":
        return real
    raw = headers().get(TEST_NOW_HEADER)
    if not raw:
        return real
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"{TEST_NOW_HEADER} 不是有效的时间",
                             f"{TEST_NOW_HEADER} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _body() -> dict[str, Any]:
    try:
        doc = json.loads(bp.current_request.raw_body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("请求体不是有效的JSON", "the body is not valid JSON",
                             code="INVALID_JSON") from None
    if not isinstance(doc, dict):
        raise InvalidRequest("请求体必须是JSON对象", "the body must be a JSON object")
    return doc


def _text(doc: dict[str, Any], field: str, *, required: bool, zh: str) -> str:
    value = doc.get(field, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_TEXT:
        raise InvalidRequest(f"请填写{zh}（不超过{MAX_TEXT}字）" if required
                             else f"{zh}不超过{MAX_TEXT}字",
                             f"{field} must be {'non-empty ' if required else ''}text of at "
                             f"most {MAX_TEXT} characters", details={"field": field})
    return value.strip()


def _stage(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 2:
        raise InvalidRequest("审批环节编号不正确", "stage must be a small number")
    return int(raw)


def _officer(code: str, *, read: bool = False) -> tuple[Settings, Principal]:
    settings = runtime.ready()
    roles = [Role.OFFICER, Role.SUPERVISOR] if read else [Role.OFFICER]
    caller = authz.require(headers(), settings, roles, department=code)
    return settings, caller


def task_view(task: TaskModel, now: datetime) -> dict[str, Any]:
    """A task as officers see it."""
    running = task.state == tasks.OPEN
    return {
        "task_id": workflow.task_id(task),
        "receipt": task.receipt,
        "department": task.department,
        "stage": int(task.stage),
        "service_code": task.service_code,
        "state": task.state,
        "decision": task.decision,
        "detail": task.detail,
        "opened_at": task.opened_at.isoformat(),
        "closed_at": task.closed_at.isoformat() if task.closed_at else None,
        "due_date": task.due_date,
        "working_days": int(task.working_days),
        "working_days_left": workflow.days_left(now, task.due_date) if running else None,
        "early_days": task.early_days,
        "paused_since": task.paused_since.isoformat() if task.paused_since else None,
        "pauses": [workflow.plain(p) for p in task.pauses],
        "corrections": [workflow.plain(c) for c in task.corrections],
        "steps": [workflow.plain(s) for s in task.steps],
        "extension_days": int(task.extension_days),
        "extension": task.extension,
        "extensions": [workflow.plain(e) for e in task.extensions],
    }


def _case_view(application: ApplicationModel, item: dict[str, Any]) -> dict[str, Any]:
    return {"receipt": application.receipt, "status": application.status,
            "service_code": application.service_code,
            "service_version": int(application.service_version),
            "service_name": item.get("name"), "received_at": application.received_at.isoformat(),
            "current_stage": int(application.current_stage), "due_date": application.due_date,
            "assisted": bool(application.assisted), "routing": item.get("routing")}


def _materials(settings: Settings, declared: list[Any]) -> list[dict[str, Any]]:
    bucket = settings.bucket(Bucket.UPLOADS)
    found = []
    for raw in declared:
        attachment = workflow.plain(raw)
        found.append({"name": attachment["name"], "sha256": attachment["sha256"],
                      "size": int(attachment["size"]),
                      "url": storage.presign_get(bucket, uploads.object_key(
                          str(attachment["upload_id"])))})
    return found


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, department: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = (isinstance(key, dict) and set(key) == {"receipt", "task_key", "department",
                                                     "due_sort"}
              and key["department"] == {"S": department}
              and all(isinstance(v, dict) and set(v) == {"S"} for v in key.values()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        # A cursor of another department would page through someone else's worklist.
        raise InvalidRequest("翻页标记无效", "malformed cursor", code="INVALID_CURSOR")
    return dict(key)


@bp.route("/departments/{code}/tasks", methods=["GET"])
def worklist(code: str) -> Response:
    """The department's tasks in ``state`` (open, correction, closed), earliest due first."""
    settings, _ = _officer(code, read=True)
    query = params()
    state = query.get("state") or tasks.OPEN
    if state not in tasks.STATES:
        raise InvalidRequest("state 只能是 open、correction 或 closed",
                             "state must be open, correction or closed")
    try:
        limit = int(query.get("limit") or 50)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"每页条数必须在1到{MAX_PAGE}之间",
                             f"limit must be between 1 and {MAX_PAGE}")
    items, last = tasks.worklist(code, state, limit=limit,
                                 start=_decode_cursor(query.get("cursor"), code))
    now = request_now(settings)
    return json_response({"department": code, "state": state,
                          "items": [task_view(t, now) for t in items],
                          "next_cursor": _encode_cursor(last)},
                         headers={"Cache-Control": "no-store"})


@bp.route("/departments/{code}/tasks/{receipt}/{stage}", methods=["GET"])
def task_detail(code: str, receipt: str, stage: str) -> Response:
    """A task with its case, the application as signed, and its materials (presigned GETs)."""
    settings, caller = _officer(code, read=True)
    task = workflow.find_task(receipt, _stage(stage), code)
    application = cases.get(receipt)
    from chalicelib import audit  # every staff read of a case leaves a trace

    audit.record_read(receipt, caller, request_now(settings))
    item = workflow.bound_item(application)
    bucket = settings.bucket(Bucket.UPLOADS)
    payload = json.loads(storage.get(bucket, application.payload_key))
    supplements = []
    for raw in application.supplements:
        record = workflow.plain(raw)
        supplements.append({"at": record["at"], "payload_sha256": record["payload_sha256"],
                            "application": json.loads(storage.get(bucket,
                                                                  record["payload_key"])),
                            "materials": _materials(settings, list(record["attachments"]))})
    now = request_now(settings)
    siblings = [{"department": t.department, "stage": int(t.stage), "state": t.state,
                 "decision": t.decision, "due_date": t.due_date}
                for t in tasks.for_case(receipt, consistent=False) if t.task_key != task.task_key]
    return json_response({
        "task": task_view(task, now),
        "case": _case_view(application, item),
        "application": payload,
        "materials": _materials(settings, list(application.attachments)),
        "supplements": supplements,
        "other_tasks": siblings,
    }, headers={"Cache-Control": "no-store"})


def _decide(code: str, receipt: str, stage: str, decision: Decision) -> Response:
    settings, caller = _officer(code)
    doc = _body()
    task = workflow.find_task(receipt, _stage(stage), code)
    if decision is Decision.DENY:
        detail = {"reason": _text(doc, "reason", required=True, zh="不予许可的理由")}
    elif decision is Decision.OPINION:
        detail = {"opinion": _text(doc, "opinion", required=True, zh="审查意见")}
    else:
        detail = {"comment": _text(doc, "comment", required=False, zh="审批意见")}
    now = request_now(settings)
    settled = workflow.decide(settings, caller, task, decision, detail, now)
    return json_response({"task": task_view(task, now),
                          "case": {"receipt": receipt, "status": settled.status,
                                   "current_stage": settled.current_stage}})


@bp.route("/departments/{code}/tasks/{receipt}/{stage}/approve", methods=["POST"])
def approve(code: str, receipt: str, stage: str) -> Response:
    """Approve (准予): the department's part is done; ``{"comment": …}`` optional."""
    return _decide(code, receipt, stage, Decision.APPROVE)


@bp.route("/departments/{code}/tasks/{receipt}/{stage}/deny", methods=["POST"])
def deny(code: str, receipt: str, stage: str) -> Response:
    """Deny (不予许可) with ``{"reason": …}`` (required): the case ends DENIED."""
    return _decide(code, receipt, stage, Decision.DENY)


@bp.route("/departments/{code}/tasks/{receipt}/{stage}/opinion", methods=["POST"])
def opinion(code: str, receipt: str, stage: str) -> Response:
    """A supporting department's opinion (lead model) with ``{"opinion": …}``."""
    return _decide(code, receipt, stage, Decision.OPINION)


@bp.route("/departments/{code}/tasks/{receipt}/{stage}/corrections", methods=["POST"])
def correction(code: str, receipt: str, stage: str) -> Response:
    """补正: ``{"missing": [{"name": …, "code"?: …, "note"?: …}, …], "note"?: …}``."""
    settings, caller = _officer(code)
    doc = _body()
    missing = doc.get("missing")
    if not isinstance(missing, list) or not 1 <= len(missing) <= 50:
        raise InvalidRequest("请一次性列明需要补正的全部材料（1至50项）",
                             "missing must list 1 to 50 items", details={"field": "missing"})
    items = []
    for raw in missing:
        entry = {"name": raw} if isinstance(raw, str) else raw
        if not isinstance(entry, dict):
            raise InvalidRequest("补正项格式不正确", "each missing item is text or an object")
        clean = {"name": _text(entry, "name", required=True, zh="补正材料名称")}
        for optional in ("code", "note"):
            if entry.get(optional):
                clean[optional] = _text(entry, optional, required=False, zh=optional)
        items.append(clean)
    note = _text(doc, "note", required=False, zh="补正说明")
    task = workflow.find_task(receipt, _stage(stage), code)
    now = request_now(settings)
    task = workflow.require_correction(settings, caller, task, items, note, now)
    return json_response({"task": task_view(task, now),
                          "case": {"receipt": receipt,
                                   "status": cases.get(receipt, consistent=True).status}})


@bp.route("/departments/{code}/tasks/{receipt}/{stage}/inspections", methods=["POST"])
def inspection(code: str, receipt: str, stage: str) -> Response:
    """Record an on-site inspection: ``{"result", "inspected_at"?, "inspectors"?, "note"?}``."""
    settings, caller = _officer(code)
    doc = _body()
    step: dict[str, Any] = {"result": _text(doc, "result", required=True, zh="核查结果"),
                            "note": _text(doc, "note", required=False, zh="核查说明")}
    when = doc.get("inspected_at")
    if when is not None:
        try:
            step["inspected_at"] = datetime.fromisoformat(str(when)).isoformat()
        except ValueError:
            raise InvalidRequest("核查时间格式不正确", "inspected_at is not ISO 8601") from None
    inspectors = doc.get("inspectors", [])
    if not isinstance(inspectors, list) or len(inspectors) > 10 or not all(
            isinstance(n, str) and 0 < len(n) <= 50 for n in inspectors):
        raise InvalidRequest("核查人员格式不正确", "inspectors must be up to 10 names")
    step["inspectors"] = inspectors
    task = workflow.find_task(receipt, _stage(stage), code)
    now = request_now(settings)
    task = workflow.record_inspection(caller, task, step, now)
    return json_response({"task": task_view(task, now)}, 201)


@bp.route("/departments/{code}/tasks/{receipt}/{stage}/extensions", methods=["POST"])
def extension_request(code: str, receipt: str, stage: str) -> Response:
    """延期: ``{"days": 1-10, "reason": …}``; the lead department decides."""
    settings, caller = _officer(code)
    doc = _body()
    days = doc.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= \
            workflow.MAX_EXTENSION_DAYS:
        raise InvalidRequest(f"延期天数必须是1到{workflow.MAX_EXTENSION_DAYS}个工作日",
                             f"days must be 1 to {workflow.MAX_EXTENSION_DAYS}",
                             details={"field": "days"})
    reason = _text(doc, "reason", required=True, zh="延期理由")
    task = workflow.find_task(receipt, _stage(stage), code)
    now = request_now(settings)
    task = workflow.request_extension(settings, caller, task, days, reason, now)
    return json_response({"task": task_view(task, now)}, 202)


@bp.route("/departments/{code}/extensions/{receipt}/{stage}/{department}", methods=["POST"])
def extension_decision(code: str, receipt: str, stage: str, department: str) -> Response:
    """The lead department (``code``) decides a pending extension: ``{"grant": bool}``."""
    settings, caller = _officer(code)
    doc = _body()
    grant = doc.get("grant")
    if not isinstance(grant, bool):
        raise InvalidRequest("请注明是否批准（grant）", "grant must be true or false")
    comment = _text(doc, "comment", required=False, zh="审批意见")
    task = workflow.find_task(receipt, _stage(stage), department)
    now = request_now(settings)
    task = workflow.decide_extension(settings, caller, code, task, grant, comment, now)
    return json_response({"task": task_view(task, now)})


@bp.route("/applications/{receipt}/supplements", methods=["POST"],
          content_types=["application/json"])
def post_supplement(receipt: str) -> Response:
    """The applicant's signed supplement (补正材料), in the application's envelope."""
    settings = runtime.ready()
    raw = bp.current_request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(receipt) > 64:
        raise InvalidRequest("受理号不正确", "invalid receipt")
    answer = workflow.supplement(settings, receipt, body, request_now(settings))
    return json_response(answer, 202)
