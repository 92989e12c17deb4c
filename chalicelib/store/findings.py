"""Data access for electronic supervision: running clocks, warnings, findings, ratings.

Running clocks come from the tasks table's sparse ``open-index`` (only tasks whose clock runs
carry ``open_shard``), read up to a due date: a pass costs what is due, never what is finished.
Warnings, findings and ratings live in the supervision table (layout in ``SupervisionModel``);
each is created once with a conditional put, in one transaction with its statistics counters,
so that a second pass (the schedule fired twice, a retry) neither records nor counts it again.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.store import dynamo
from chalicelib.store import stats as stats_store
from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.models import SupervisionModel, TaskModel
from chalicelib.store.tasks import OPEN_SHARDS
from chalicelib.supervision_rules import Finding, Rule, TaskFacts, Warning

FINDING_SHARDS = 8
_WARNING = "warning#"
_FINDING = "finding#"
_RATING = "rating#"


# ---------------------------------------------------------------------------- running clocks


def running_due_by(last_day: date) -> Iterator[TaskModel]:
    """Every task whose clock runs and that is due on or before ``last_day``, shard by shard.

    The index holds only running clocks, sorted by due date, so this reads what is due, not
    what exists: a province's finished cases cost nothing here.
    """
    # "~" sorts after every character of a receipt, so the whole of ``last_day`` is included.
    upper = f"open#{last_day.isoformat()}#~"
    for number in range(OPEN_SHARDS):
        yield from TaskModel.open_index.query(str(number), TaskModel.due_sort <= upper)


def overdue(department: str, today: date, *, limit: int,
            start: dict[str, Any] | None = None) -> tuple[list[TaskModel], dict[str, Any] | None]:
    """A department's running tasks past their due date (earliest first), one page."""
    yesterday = (today - timedelta(days=1)).isoformat()
    result = TaskModel.department_index.query(
        department, TaskModel.due_sort.between("open#", f"open#{yesterday}#~"), limit=limit,
        last_evaluated_key=start)
    items = list(result)
    return items, result.last_evaluated_key


def facts(task: TaskModel) -> TaskFacts:
    """The rules' view of a stored task."""
    return TaskFacts(
        receipt=task.receipt, task_key=task.task_key, department=task.department,
        stage=int(task.stage), state=task.state, due_date=date.fromisoformat(task.due_date),
        service_code=task.service_code or "", opened_at=task.opened_at,
        closed_at=task.closed_at, decision=task.decision, decided_by=task.decided_by,
        detail=dict(task.detail or {}), corrections=tuple(_plain(c) for c in task.corrections),
        working_days=int(task.working_days or 0), extension_days=int(task.extension_days or 0))


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return dict(value.as_dict())


# ---------------------------------------------------------------------------- warnings


def warning_state(warnings: Iterable[Warning]
                  ) -> tuple[dict[tuple[str, str], datetime], set[tuple[str, str]]]:
    """Which of ``warnings`` are recorded (and when), and which were delivered completely.

    Keyed by ``(receipt, key)``; one BatchGet per hundred keys.
    """
    keys: list[tuple[str, str]] = []
    for w in warnings:
        keys += [(_WARNING + w.receipt, w.key), (_WARNING + w.receipt, w.key + "#sent")]
    recorded: dict[tuple[str, str], datetime] = {}
    sent: set[tuple[str, str]] = set()
    for item in SupervisionModel.batch_get(keys, consistent_read=True):
        receipt = item.pk[len(_WARNING):]
        if item.sk.endswith("#sent"):
            sent.add((receipt, item.sk[: -len("#sent")]))
        else:
            recorded[(receipt, item.sk)] = item.at or datetime.min.replace(tzinfo=UTC)
    return recorded, sent


def record_warning(warning: Warning, service_code: str, at: datetime) -> bool:
    """Record a warning once, counting it; False when it was recorded already."""
    item = SupervisionModel(
        _WARNING + warning.receipt, warning.key, kind="warning", at=at,
        dept_kind=f"warning#{warning.department}",
        raised_sort=f"{at.isoformat()}#{warning.receipt}#{warning.key}",
        data={"receipt": warning.receipt, "task": warning.task_key,
              "department": warning.department, "stage": warning.stage,
              "due_date": warning.due_date.isoformat(), "level": warning.level.value,
              "working_days_left": warning.working_days_left, "service_code": service_code,
              "event_id": warning.event_id, "raised_at": at.isoformat()})
    try:
        with TransactWrite(connection=dynamo.connection()) as tx:
            tx.save(item, condition=SupervisionModel.sk.does_not_exist())
            stats_store.add_to(tx, warning.receipt, warning.department, service_code,
                               _china_day(at), {warning.level.value: 1})
    except TransactWriteError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def mark_delivered(warning: Warning, at: datetime) -> None:
    """Note that a warning's log record and notification are done (a retry skips it)."""
    SupervisionModel(_WARNING + warning.receipt, warning.key + "#sent", kind="warning-sent",
                     at=at).save()


def warnings_of(receipt: str) -> list[dict[str, Any]]:
    """Every warning of a case, by task and level."""
    return [dict(i.data or {}) for i in SupervisionModel.query(_WARNING + receipt)
            if i.kind == "warning"]


def warnings_of_department(department: str, *, since: datetime | None = None,
                           limit: int = 100, cursor: str | None = None
                           ) -> tuple[list[dict[str, Any]], str | None]:
    """A department's warnings, newest first, one page."""
    condition = SupervisionModel.raised_sort >= since.isoformat() if since else None
    start = decode_cursor(cursor, {"dept_kind": f"warning#{department}"},
                          {"pk", "sk", "dept_kind", "raised_sort"})
    result = SupervisionModel.department_index.query(
        f"warning#{department}", condition, scan_index_forward=False, limit=limit,
        last_evaluated_key=start)
    return [dict(i.data or {}) for i in result], encode_cursor(result.last_evaluated_key)


# ---------------------------------------------------------------------------- findings


def _finding_shard(receipt: str) -> str:
    return str(zlib.crc32(receipt.encode()) % FINDING_SHARDS)


def record_finding(finding: Finding, service_code: str, at: datetime) -> bool:
    """Record an open finding once, counting it; False when it exists already."""
    try:
        with TransactWrite(connection=dynamo.connection()) as tx:
            tx.save(_finding_item(finding, service_code, at),
                    condition=SupervisionModel.sk.does_not_exist())
            stats_store.add_to(tx, finding.receipt, finding.department, service_code,
                               _china_day(at), {"findings": 1})
    except TransactWriteError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def _finding_item(finding: Finding, service_code: str, at: datetime) -> SupervisionModel:
    return SupervisionModel(
        _FINDING + finding.receipt, finding.key, kind="finding", at=at,
        dept_kind=f"finding-open#{finding.department}", open_shard=_finding_shard(finding.receipt),
        raised_sort=f"{at.isoformat()}#{finding.receipt}#{finding.key}",
        data={"id": finding.finding_id, "rule": finding.rule.value, "receipt": finding.receipt,
              "subject": finding.subject, "department": finding.department,
              "service_code": service_code, "state": "open", "raised_at": at.isoformat(),
              "evidence": dict(finding.evidence)})


def findings_of(receipt: str) -> list[dict[str, Any]]:
    """Every finding of a case."""
    return [dict(i.data or {}) for i in SupervisionModel.query(_FINDING + receipt)]


def open_findings(department: str | None, *, limit: int, before: str | None = None
                  ) -> tuple[list[dict[str, Any]], str | None]:
    """Open findings, newest first: of one department, or of all (the shards merged).

    ``before`` is the ``raised_sort`` of the last finding of the previous page; the answer's
    second element is the one to pass for the next page (None at the end).
    """
    condition = SupervisionModel.raised_sort < before if before else None
    pages: list[SupervisionModel] = []
    if department is not None:
        pages = list(SupervisionModel.department_index.query(
            f"finding-open#{department}", condition, scan_index_forward=False, limit=limit + 1))
    else:
        for number in range(FINDING_SHARDS):
            pages += list(SupervisionModel.open_index.query(
                str(number), condition, scan_index_forward=False, limit=limit + 1))
    pages.sort(key=lambda i: str(i.raised_sort), reverse=True)
    page = pages[:limit]
    more = len(pages) > limit
    return ([dict(i.data or {}) for i in page],
            str(page[-1].raised_sort) if more and page else None)


def closed_findings(department: str, *, limit: int, before: str | None = None
                    ) -> tuple[list[dict[str, Any]], str | None]:
    """A department's resolved findings, newest first."""
    condition = SupervisionModel.raised_sort < before if before else None
    items = list(SupervisionModel.department_index.query(
        f"finding-closed#{department}", condition, scan_index_forward=False, limit=limit + 1))
    page = items[:limit]
    return ([dict(i.data or {}) for i in page],
            str(page[-1].raised_sort) if len(items) > limit and page else None)


def get_finding(receipt: str, rule: Rule, subject: str) -> SupervisionModel | None:
    """One finding, or None."""
    try:
        return SupervisionModel.get(_FINDING + receipt, f"{rule.value}#{subject}",
                                    consistent_read=True)
    except DoesNotExist:
        return None


def resolve(item: SupervisionModel, *, by: str, note: str, at: datetime) -> bool:
    """Close an open finding with the supervisor's note; False when it was closed already."""
    data = dict(item.data or {})
    data.update({"state": "closed", "resolved_at": at.isoformat(), "resolved_by": by,
                 "resolution": note})
    try:
        item.update(actions=[
            SupervisionModel.open_shard.remove(),
            SupervisionModel.dept_kind.set(f"finding-closed#{data.get('department')}"),
            SupervisionModel.data.set(data),
        ], condition=SupervisionModel.open_shard.exists())
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ---------------------------------------------------------------------------- ratings


def record_rating(receipt: str, department: str, service_code: str, rating: dict[str, Any],
                  increments: dict[str, int], finding: Finding | None, at: datetime) -> bool:
    """Store a case's rating once, count it and open its finding, all or nothing.

    False when the case was rated already.
    """
    item = SupervisionModel(_RATING + receipt, "rating", kind="rating", at=at, data=rating)
    try:
        with TransactWrite(connection=dynamo.connection()) as tx:
            tx.save(item, condition=SupervisionModel.sk.does_not_exist())
            counted = dict(increments)
            if finding is not None:
                tx.save(_finding_item(finding, service_code, at),
                        condition=SupervisionModel.sk.does_not_exist())
                counted["findings"] = 1
            stats_store.add_to(tx, receipt, department, service_code, _china_day(at), counted)
    except TransactWriteError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def rating_of(receipt: str) -> dict[str, Any] | None:
    """The case's rating, if it was rated."""
    try:
        return dict(SupervisionModel.get(_RATING + receipt, "rating",
                                         consistent_read=True).data or {})
    except DoesNotExist:
        return None


# ---------------------------------------------------------------------------- helpers


def _china_day(at: datetime) -> date:
    from chalicelib.workcalendar import china_date

    return china_date(at)


def _condition_failed(exc: TransactWriteError | PutError) -> bool:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    codes = {getattr(r, "code", None) for r in reasons if r is not None}
    if codes:
        return "ConditionalCheckFailed" in codes
    return "ConditionalCheckFailed" in str(getattr(exc, "cause_response_message", "") or exc)


