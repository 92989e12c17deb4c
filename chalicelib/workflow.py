"""The review of a case: stages of department tasks, decisions, corrections, extensions.

The route step (:func:`handle`) opens an accepted case: ``ACCEPTED`` → ``IN_REVIEW`` and one
task per department of the first stage, in one transaction, then one message per task to that
department's queue. Officers then act through the API (:func:`decide`,
:func:`require_correction`, :func:`record_inspection`, :func:`request_extension`,
:func:`decide_extension`); the applicant answers a correction with :func:`supplement`.

After every decision the decider *settles* the case (:func:`settle`): it reads all the case's
tasks strongly consistently, asks :func:`chalicelib.routing.evaluate` where the case stands and
acts on the answer with a conditional write. Two departments deciding at the same instant both
write their own task first (each a conditional update of a different item, so neither is lost),
then both read the stage; at least the later reader sees both decisions. Opening the next stage
is one transaction conditional on the case's ``(status, current_stage)``; approving or denying is
conditional on its status; so whichever readers see the stage complete, exactly one of them
advances the case and the others' conditions fail harmlessly::

    A: write A ─ read {A}      → Waiting
    B:   write B ─ read {A, B} → NextStage(1) → open stage 1   (wins)
    or
    A: write A ─────── read {A, B} → NextStage(1) → condition fails (B already advanced)
    B: write B ─ read {A, B} → NextStage(1) → open stage 1     (wins)

The clock: due dates are working days on :class:`~chalicelib.workcalendar.WorkCalendar`, from
the moment a stage opens. A correction stops the task's clock (``paused_since``); the
applicant's supplement restarts it, and the due date is recomputed with every pause excluded.
An extension granted by the item's responsible department moves the due date by its working
days.

Route messages (``{"kind": …, "receipt": …}``): ``open`` (sent by verification), ``issue``
(sent when a case is approved) and ``settle``, which re-evaluates a case and changes nothing
when it is already where its tasks say it should be: an operator, or a sweeper, may send it
for a case whose deciding request died between recording a decision and settling.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib import outbox, queues, storage
from chalicelib.catalog.model import Routing
from chalicelib.contract import Status
from chalicelib.errors import ClientError, Conflict, Forbidden, NotFound
from chalicelib.names import Bucket, Queue
from chalicelib.principal import Principal
from chalicelib.routing import (
    Approved,
    Decision,
    Denied,
    NextStage,
    Outcome,
    allowed_decisions,
    evaluate,
    open_stage,
    stage_count,
    stage_working_days,
)
from chalicelib.settings import Settings
from chalicelib.store import cases, catalog, steps, tasks
from chalicelib.store.models import ApplicationModel, ClaimModel, TaskModel
from chalicelib.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

# 行政许可法 第四十二条: a time limit may be extended once, by at most ten working days.
MAX_EXTENSION_DAYS = 10
MESSAGE_VERSION = 1
REVIEWING = frozenset({Status.IN_REVIEW, Status.CORRECTION_REQUIRED})
_SETTLE_ATTEMPTS = 4


class DecisionNotAllowed(ClientError):
    """This kind of decision does not exist in this stage (an opinion outside the lead model)."""

    code = "DECISION_NOT_ALLOWED"
    message_zh = "该审批环节不允许此类决定"
    message_en = "this decision is not allowed in this stage"


class NotAwaitingCorrection(Conflict):
    """A supplement for a case that is not waiting for one."""

    code = "NOT_AWAITING_CORRECTION"
    message_zh = "该申请当前不需要补正材料"
    message_en = "the application is not waiting for a correction"


class UnroutableCase(LookupError):
    """The case's service item (the version it was filed under) is not in the catalog."""


# ---------------------------------------------------------------------------- pure helpers


def calendar() -> WorkCalendar:
    """The working-day calendar (the official schedules packaged with the code)."""
    return WorkCalendar.default()


def pauses_of(records: list[Any], paused_since: datetime | None = None,
              until: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """Stored pause records (``{"from", "to"}``) as intervals, plus a running one if any."""
    intervals = [(datetime.fromisoformat(str(plain(r)["from"])),
                  datetime.fromisoformat(str(plain(r)["to"]))) for r in records]
    if paused_since is not None and until is not None:
        intervals.append((paused_since, until))
    return intervals


def due_date(opened_at: datetime, working_days: int, *,
             pauses: list[tuple[datetime, datetime]] | None = None,
             extension_days: int = 0) -> date:
    """The last working day allowed for work that started at ``opened_at``."""
    return calendar().due_date(opened_at, working_days, paused=tuple(pauses or ()),
                               extension_days=extension_days)


def days_left(now: datetime, due: str | None) -> int | None:
    """Working days left until ``due`` at ``now`` (negative when late)."""
    if not due:
        return None
    return calendar().working_days_left(now, date.fromisoformat(due))


def decisions_of(all_tasks: list[TaskModel]) -> dict[tuple[int, str], Decision]:
    """What :func:`chalicelib.routing.evaluate` needs: each task's decision so far."""
    found: dict[tuple[int, str], Decision] = {}
    for task in all_tasks:
        key = (int(task.stage), str(task.department))
        if task.state == tasks.CORRECTION:
            found[key] = Decision.CORRECTION
        elif task.state == tasks.CLOSED and task.decision in {d.value for d in Decision}:
            found[key] = Decision(task.decision)
    return found


def lead_department(item: dict[str, Any]) -> str:
    """The department that answers for the item (承办单位): it approves extensions.

    In the single, parallel and lead models this is the routing's lead; in the process model,
    which has no primary department among the stages, it is the publishing department.
    """
    return str(item["department"])


def task_id(task: TaskModel) -> str:
    """The task's public id: receipt and stage (the department is in every URL)."""
    return f"{task.receipt}/{int(task.stage)}/{task.department}"


def task_message(kind: str, task: TaskModel, item: dict[str, Any], base_url: str,
                 **extra: Any) -> dict[str, Any]:
    """A department queue message (format documented in README, "Department integration")."""
    routing = Routing.from_dict(item["routing"])
    stage = int(task.stage)
    path = f"/departments/{task.department}/tasks/{task.receipt}/{stage}"
    body: dict[str, Any] = {
        "kind": kind,
        "version": MESSAGE_VERSION,
        "event_id": f"{task_id(task)}:{kind}:{extra.pop('event_suffix', '')}".rstrip(":"),
        "task_id": task_id(task),
        "receipt": task.receipt,
        "department": task.department,
        "stage": stage,
        "stage_count": stage_count(routing),
        "stage_departments": list(open_stage(routing, stage)),
        "lead_department": lead_department(item),
        "service_code": item["code"],
        "service_version": int(item.get("version", 1)),
        "service_name": item.get("name", ""),
        "state": task.state,
        "opened_at": task.opened_at.isoformat(),
        "working_days": int(task.working_days),
        "due_date": task.due_date,
        "decisions": sorted(d.value for d in allowed_decisions(routing, stage)),
        "links": {"task": base_url + path, "decide": base_url + path + "/{decision}"},
    }
    body.update(extra)
    return body


def plain(record: Any) -> dict[str, Any]:
    """A stored map (pynamodb ``MapAttribute`` or dict) as a plain dict."""
    if isinstance(record, dict):
        return record
    return dict(record.as_dict())


def _iso(d: date) -> str:
    return d.isoformat()


# ---------------------------------------------------------------------------- the route step


def handle(settings: Settings, message: dict[str, Any], now: datetime) -> None:
    """Act on one route message (idempotent: every kind may be delivered twice).

    ``open``: open an accepted case. ``settle``: re-evaluate a case (a backstop that any
    operator may send). ``issue``: issue the licence of an approved case. ``relay``: deliver
    what a case's outbox still owes (sent by the sweeper).
    """
    kind = message.get("kind")
    receipt = message.get("receipt")
    if not isinstance(receipt, str):
        raise ValueError("route message without a receipt")
    if kind == "open":
        open_case(settings, receipt, now)
    elif kind == "settle":
        settle(settings, receipt, now, actor="route")
        outbox.deliver(settings, receipt)
    elif kind == "relay":
        outbox.deliver(settings, receipt)
    elif kind == "issue":
        from chalicelib import licence

        licence.issue(settings, receipt, now)
    else:
        raise ValueError(f"unknown route message kind {kind!r}")


def bound_item(application: ApplicationModel) -> dict[str, Any]:
    """The catalog item version the application was filed under."""
    item = catalog.bound(application.service_code, int(application.service_version))
    if item is None:
        raise UnroutableCase(f"{application.service_code} v{application.service_version}")
    return item


def open_case(settings: Settings, receipt: str, now: datetime) -> bool:
    """``ACCEPTED`` → ``IN_REVIEW`` with the first stage's tasks; returns True if this call did.

    One step: the move, the stage's tasks, the IN_REVIEW record and the outbox (the tasks'
    department messages, the notifications). A redelivery finds the case moved and only
    delivers what that step's outbox still owes.
    """
    application = cases.find(receipt)
    if application is None:
        raise LookupError("route message for an unknown receipt")
    item = bound_item(application)
    routing = Routing.from_dict(item["routing"])
    opened = False
    if application.status == Status.ACCEPTED.value:
        new = _stage_tasks(application, item, routing, 0, now)
        case_due = _iso(due_date(now, int(item.get("promised_days") or routing.working_days)))
        record = steps.Record(Status.IN_REVIEW.value, "route", now,
                              {"stage": 0, "departments": [t.department for t in new],
                               "due_date": case_due})
        opened = steps.commit(receipt, [
            ApplicationModel.status.set(Status.IN_REVIEW.value),
            ApplicationModel.current_stage.set(0),
            ApplicationModel.review_started_at.set(now),
            ApplicationModel.due_date.set(case_due),
            ApplicationModel.updated_at.set(now),
        ], ApplicationModel.status == Status.ACCEPTED.value, records=[record],
            outbox=[notice(settings, receipt, "in_review", detail={"due_date": case_due}),
                    *_dispatches(settings, item, new, now)],
            now=now, also=tasks.creating(new))
    outbox.deliver(settings, receipt)
    return opened


def _stage_tasks(application: ApplicationModel, item: dict[str, Any], routing: Routing,
                 stage: int, now: datetime) -> list[TaskModel]:
    days = stage_working_days(routing, stage)
    due = _iso(due_date(now, days))
    return [tasks.new_task(application.receipt, stage, department, due_date=due,
                           working_days=days, service_code=item["code"], now=now)
            for department in open_stage(routing, stage)]


def _dispatches(settings: Settings, item: dict[str, Any], new: list[TaskModel],
                now: datetime) -> list[dict[str, Any]]:
    """The outbox entries that send a new stage's tasks to their departments."""
    owed = []
    for task in new:
        owed.append(steps.message(settings.department_queue(task.department),
                                  task_message("task.opened", task, item,
                                               settings.public_base_url)))
        # The department's officers hear of it too (inbox, email), besides their system.
        owed.append(notice(settings, task.receipt, "new_task",
                           key=f"{int(task.stage)}:{task.department}",
                           department=task.department,
                           detail={"stage": int(task.stage), "due_date": task.due_date}))
        owed.append(steps.effect("dispatched", task_key=task.task_key, at=now.isoformat()))
    return owed


# ---------------------------------------------------------------------------- settling


@dataclass(frozen=True)
class Settled:
    """What settling a case found and did."""

    outcome: Outcome | None
    status: str
    current_stage: int
    acted: bool


def settle(settings: Settings, receipt: str, now: datetime, *, actor: str) -> Settled:
    """Bring the case in line with its tasks' decisions (see the module docstring).

    Safe to call any number of times, concurrently, from the API or the route queue.
    """
    for attempt in range(_SETTLE_ATTEMPTS):
        try:
            return _settle_once(settings, receipt, now, actor)
        except (tasks.TransactionRace, steps.StepRace):
            if attempt == _SETTLE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _settle_once(settings: Settings, receipt: str, now: datetime, actor: str) -> Settled:
    application = cases.get(receipt, consistent=True)
    status = Status(application.status)
    item = bound_item(application)
    if status not in REVIEWING:
        # Already settled: the caller's delivery sends what the settling step still owes (its
        # licence message, the cancellations of a denial, the notifications).
        return Settled(None, status.value, int(application.current_stage), False)
    all_tasks = tasks.for_case(receipt)
    routing = Routing.from_dict(item["routing"])
    outcome = evaluate(routing, decisions_of(all_tasks))
    acted = False
    if isinstance(outcome, Denied):
        acted = _deny(settings, application, item, all_tasks, outcome, now, actor)
    elif isinstance(outcome, NextStage):
        acted = _open_next(settings, application, item, routing, outcome.index, now, actor)
    elif isinstance(outcome, Approved):
        acted = _approve(settings, application, now, actor)
    if acted and isinstance(outcome, NextStage):
        return Settled(outcome, Status.IN_REVIEW.value, outcome.index, acted)
    # cases.move refreshed ``application`` from the write's answer when it acted.
    return Settled(outcome, application.status, int(application.current_stage), acted)


def _open_next(settings: Settings, application: ApplicationModel, item: dict[str, Any],
               routing: Routing, index: int, now: datetime, actor: str) -> bool:
    new = _stage_tasks(application, item, routing, index, now)
    receipt = application.receipt
    # Exactly one of the deciders who saw the stage complete gets past this condition.
    return steps.commit(receipt, [
        ApplicationModel.current_stage.set(index), ApplicationModel.updated_at.set(now),
    ], (ApplicationModel.status == Status.IN_REVIEW.value)
        & (ApplicationModel.current_stage == index - 1),
        records=[steps.Record("STAGE_OPENED", actor, now,
                              {"stage": index, "departments": [t.department for t in new]})],
        outbox=[notice(settings, receipt, "stage_opened", key=str(index),
                       detail={"stage": index}),
                *_dispatches(settings, item, new, now)],
        now=now, also=tasks.creating(new))


def _approve(settings: Settings, application: ApplicationModel, now: datetime,
             actor: str) -> bool:
    early = days_left(now, application.due_date)
    return cases.step(
        application, {Status.IN_REVIEW}, Status.APPROVED, now,
        records=[steps.Record(Status.APPROVED.value, actor, now,
                              {"early_days": early} if early is not None else {})],
        outbox=[notice(settings, application.receipt, "approved"),
                # statistics and the end-of-case review
                steps.effect("finished", at=now.isoformat()),
                # The licence is signed and stored by the route worker (retried there).
                steps.message(settings.queue(Queue.ROUTE),
                              {"kind": "issue", "receipt": application.receipt})],
        decided_at=now, early_days=early)


def _deny(settings: Settings, application: ApplicationModel, item: dict[str, Any],
          all_tasks: list[TaskModel], outcome: Denied, now: datetime, actor: str) -> bool:
    denier = next(t for t in all_tasks if int(t.stage) == outcome.stage_index
                  and t.department == outcome.department)
    reason = str((denier.detail or {}).get("reason", ""))
    denial = {"stage": outcome.stage_index, "department": outcome.department, "reason": reason}
    early = days_left(now, application.due_date)
    return cases.step(
        application, set(REVIEWING), Status.DENIED, now,
        records=[steps.Record(Status.DENIED.value, actor, now, denial)],
        outbox=[notice(settings, application.receipt, "denied", detail=denial),
                steps.effect("finished", at=now.isoformat()),
                steps.effect("cancel_open", at=now.isoformat())],
        decided_at=now, denial=denial, early_days=early, paused_since=None)


def cancel_open(settings: Settings, receipt: str, now: datetime) -> None:
    """Cancel a denied case's open tasks, telling each department (repeatable)."""
    application = cases.get(receipt, consistent=True)
    item = bound_item(application)
    for task in tasks.for_case(receipt):
        if task.state != tasks.CLOSED:
            # Told first, cancelled second: a crash in between tells the department twice
            # (it dedupes on event_id) rather than never.
            queues.send(settings.department_queue(task.department),
                        task_message("task.cancelled", task, item, settings.public_base_url))
            tasks.cancel(task, now=now, reason={"reason": "case denied by another department"})


# ---------------------------------------------------------------------------- officers' actions


def find_task(receipt: str, stage: int, department: str) -> TaskModel:
    """The department's task of a stage; 404 if the department has none there."""
    task = tasks.get(receipt, tasks.task_key(stage, department), consistent=True)
    if task is None:
        raise NotFound("未找到该办件", "no such task", details={"receipt": receipt,
                                                            "stage": stage})
    return task


def decide(settings: Settings, caller: Principal, task: TaskModel, decision: Decision,
           detail: dict[str, Any], now: datetime) -> Settled:
    """Record an approval, denial or opinion on an open task, then settle the case.

    Raises ``TaskClosed`` (409) if the task was decided or cancelled meanwhile.
    """
    application = cases.get(task.receipt, consistent=True)
    item = bound_item(application)
    routing = Routing.from_dict(item["routing"])
    if decision is Decision.CORRECTION or decision not in allowed_decisions(
            routing, int(task.stage)):
        raise DecisionNotAllowed(details={"decision": decision.value})
    # A department may still deny while waiting for the applicant (for instance when the
    # correction period ran out); approving needs the clock running.
    from_states = (tasks.OPEN, tasks.CORRECTION) if decision is Decision.DENY else (tasks.OPEN,)
    data: dict[str, Any] = {"stage": int(task.stage), "department": task.department,
                            "decision": decision.value}
    if decision is Decision.DENY:
        data["reason"] = detail["reason"]
    # The decision, its audit record and a settle in its outbox in one step: should this request
    # die before settling, the sweeper's relay settles the case. This request settles it itself
    # right after, so its delivery skips that entry rather than settling twice.
    settle_id = secrets.token_hex(8)
    recorded = steps.commit(
        task.receipt, [ApplicationModel.updated_at.set(now)],
        ApplicationModel.status.is_in(*[s.value for s in REVIEWING]),
        records=[steps.Record("DECISION", caller.subject, now, data)],
        outbox=[steps.effect("settle", actor=caller.subject, at=now.isoformat(), id=settle_id)],
        now=now, also=tasks.deciding(task, decision.value, by=caller.subject, detail=detail,
                                     now=now, early_days=days_left(now, task.due_date),
                                     from_states=from_states))
    if not recorded:
        raise tasks.TaskClosed(details={"task": task.task_key})
    task.refresh(consistent_read=True)  # the caller answers with the decided task
    log.info("task decided", extra={"receipt": task.receipt, "stage": int(task.stage),
                                    "department": task.department, "decision": decision.value})
    settled = settle(settings, task.receipt, now, actor=caller.subject)
    outbox.deliver(settings, task.receipt, done={settle_id})
    return settled


def require_correction(settings: Settings, caller: Principal, task: TaskModel,
                       missing: list[dict[str, Any]], note: str, now: datetime) -> TaskModel:
    """补正: tell the applicant what is missing and stop the task's clock until they answer.

    The task and the case change in one transaction, so a case is ``CORRECTION_REQUIRED``
    exactly while some task waits for the applicant.
    """
    request = {"at": now.isoformat(), "by": caller.subject, "missing": missing, "note": note}
    names = [str(m.get("name") or m.get("code")) for m in missing]
    task_actions: list[Action] = [
        TaskModel.state.set(tasks.CORRECTION), TaskModel.paused_since.set(now),
        TaskModel.open_shard.remove(),
        TaskModel.corrections.set((TaskModel.corrections | []).append([request])),
        TaskModel.due_sort.set(tasks.due_sort(tasks.CORRECTION, task.due_date,
                                              task.receipt, task.task_key)),
    ]
    committed = steps.commit(
        task.receipt, [
            ApplicationModel.status.set(Status.CORRECTION_REQUIRED.value),
            ApplicationModel.paused_since.set(ApplicationModel.paused_since | now),
            ApplicationModel.updated_at.set(now),
        ], ApplicationModel.status.is_in(*[s.value for s in REVIEWING]),
        records=[steps.Record(Status.CORRECTION_REQUIRED.value, caller.subject, now,
                              {"stage": int(task.stage), "department": task.department,
                               "missing": names})],
        outbox=[notice(settings, task.receipt, "correction_required", key=now.isoformat(),
                       detail={"department": task.department, "missing": names,
                               "note": note})],
        now=now, also=lambda tx: tx.update(task, actions=task_actions,
                                           condition=TaskModel.state == tasks.OPEN))
    if not committed:
        raise tasks.TaskClosed(details={"task": task.task_key})
    outbox.deliver(settings, task.receipt)
    return find_task(task.receipt, int(task.stage), task.department)


def _task_step(task: TaskModel, change: tasks.Change, record: steps.Record, now: datetime,
               outbox_: list[dict[str, Any]] | None = None,
               case_actions: list[Action] | None = None,
               case_condition: Any = None) -> bool:
    """A task's change with its audit record and messages, as one step."""
    return steps.commit(task.receipt, [ApplicationModel.updated_at.set(now), *(case_actions or [])],
                        case_condition, records=[record], outbox=outbox_ or [], now=now,
                        also=tasks.updating(task, change))


def record_inspection(caller: Principal, task: TaskModel, step: dict[str, Any],
                      now: datetime) -> TaskModel:
    """Record an on-site inspection (现场核查) on an open task; the clock keeps running."""
    record = {**step, "kind": "inspection", "recorded_at": now.isoformat(), "by": caller.subject}
    if not _task_step(task, tasks.step_added(record), steps.Record(
            "INSPECTION", caller.subject, now, {"stage": int(task.stage),
                                                "department": task.department,
                                                "result": step.get("result")}), now):
        raise tasks.TaskClosed(details={"task": task.task_key})
    task.refresh(consistent_read=True)
    return task


def request_extension(settings: Settings, caller: Principal, task: TaskModel, days: int,
                      reason: str, now: datetime) -> TaskModel:
    """Ask the lead department for more working days (延期) on an open task."""
    if days + int(task.extension_days) > MAX_EXTENSION_DAYS:
        raise ClientError(f"延期累计不得超过{MAX_EXTENSION_DAYS}个工作日",
                          f"extensions may total at most {MAX_EXTENSION_DAYS} working days",
                          code="EXTENSION_TOO_LONG")
    request = {"days": days, "reason": reason, "by": caller.subject, "at": now.isoformat()}
    application = cases.get(task.receipt)
    item = bound_item(application)
    lead = lead_department(item)
    message = steps.message(settings.department_queue(lead), task_message(
        "extension.requested", task, item, settings.public_base_url,
        event_suffix=request["at"], extension={"days": days, "reason": reason}))
    if not _task_step(task, tasks.extension_requested(request), steps.Record(
            "EXTENSION_REQUESTED", caller.subject, now,
            {"stage": int(task.stage), "department": task.department, "days": days},
            public=False), now, [message]):
        raise tasks.TaskClosed(details={"task": task.task_key})
    outbox.deliver(settings, task.receipt)
    task.refresh(consistent_read=True)
    return task


def decide_extension(settings: Settings, caller: Principal, lead: str, task: TaskModel,
                     grant: bool, comment: str, now: datetime) -> TaskModel:
    """The lead department grants or refuses a pending extension; a grant moves the due date.

    The task, the case's due date (it cannot finish before its slowest task), the audit record
    and the messages are one step, conditional on the due date read.
    """
    for _ in range(_SETTLE_ATTEMPTS):
        application = cases.get(task.receipt, consistent=True)
        item = bound_item(application)
        if lead_department(item) != lead:
            raise Forbidden("只有牵头部门可以批准延期",
                            "only the lead department decides extensions",
                            code="NOT_LEAD_DEPARTMENT")
        pending = task.extension
        if not pending:
            raise Conflict("没有待审批的延期申请", "no extension request is pending",
                           code="NO_EXTENSION_PENDING")
        if pending.get("by") == caller.subject:
            raise Forbidden("延期申请须由其他人员批准", "an officer cannot grant their own request",
                            code="SAME_OFFICER")
        days = int(pending["days"]) if grant else 0
        new_due = task.due_date
        if grant:
            new_due = _iso(due_date(task.opened_at, int(task.working_days),
                                    pauses=pauses_of(list(task.pauses)),
                                    extension_days=int(task.extension_days) + days))
        record = {**pending, "granted": grant, "decided_by": caller.subject,
                  "decided_at": now.isoformat(), "comment": comment}
        current = application.due_date
        case_actions: list[Action] = []
        if grant and not (current and current >= new_due):
            case_actions = [ApplicationModel.due_date.set(new_due),
                            ApplicationModel.extension_days.add(days)]
        unchanged = (ApplicationModel.due_date == current if current
                     else ApplicationModel.due_date.does_not_exist())
        owed = []
        if grant:
            extended = TaskModel(task.receipt, task.task_key, **{
                **task.attribute_values, "due_date": new_due})
            owed = [notice(settings, task.receipt, "extended", key=now.isoformat(),
                           detail={"due_date": new_due, "reason": pending.get("reason")}),
                    steps.message(settings.department_queue(task.department), task_message(
                        "task.extended", extended, item, settings.public_base_url,
                        event_suffix=now.isoformat()))]
        done = _task_step(
            task, tasks.extension_decided(task, record, granted_days=days, due_date=new_due),
            steps.Record("EXTENSION_GRANTED" if grant else "EXTENSION_REFUSED", caller.subject,
                         now, {"stage": int(task.stage), "department": task.department,
                               "days": days, "due_date": new_due}),
            now, owed, case_actions, unchanged)
        if done:
            outbox.deliver(settings, task.receipt)
            task.refresh(consistent_read=True)
            return task
        task.refresh(consistent_read=True)
        if task.extension != pending:
            raise Conflict("延期申请已处理或办件已办结",
                           "the request was decided or the task closed",
                           code="NO_EXTENSION_PENDING")
    raise tasks.TransactionRace(task.receipt)


# ---------------------------------------------------------------------------- the applicant


def supplement(settings: Settings, receipt: str, body: bytes, now: datetime) -> dict[str, Any]:
    """The applicant's signed answer to a correction request: verify it, resume the clocks.

    The envelope is the application's (``{"payload", "signature"}``); its payload is an
    application JSON with ``supplement_to`` set to the receipt, signed by the same applicant.
    It is checked like an application (envelope, schema, signed_at, nonce, CA signature,
    certificate path and revocation, identity binding, attachment digests), synchronously,
    because the applicant waits for the clock to restart.
    """
    from chalicelib import intake, submission

    envelope = intake.parse_envelope(body)
    doc = intake.parse_application(envelope.payload)
    if doc.get("supplement_to") != receipt:
        raise intake.IntakeError("补正材料必须注明所补正的受理号（supplement_to）",
                                 "supplement_to must name this receipt",
                                 code="SUPPLEMENT_MISMATCH")
    application = cases.get(receipt, consistent=True)
    applicant = doc["applicant"]
    key = submission.applicant_key(settings, applicant["kind"], applicant["id"])
    if key != application.applicant_key or doc["service_code"] != application.service_code:
        raise Forbidden("补正材料必须由原申请人就同一事项提交",
                        "a supplement must come from the same applicant for the same item",
                        code="NOT_THE_APPLICANT")
    if application.status != Status.CORRECTION_REQUIRED.value:
        raise NotAwaitingCorrection(details={"status": application.status})
    intake.parse_signed_at(doc["signed_at"], now,
                           timedelta(seconds=settings.signed_at_skew_seconds))
    _verify_supplement(settings, envelope.payload, envelope.signature, doc, now)
    digest = envelope.payload_sha256
    uploads = settings.bucket(Bucket.UPLOADS)
    base = f"applications/{receipt}/supplements/{digest[:20]}"
    storage.put(uploads, f"{base}/payload.json", envelope.payload, content_type="application/json")
    storage.put(uploads, f"{base}/signature.p7s", envelope.signature,
                content_type="application/pkcs7-signature")
    record = {"at": now.isoformat(), "payload_key": f"{base}/payload.json",
              "signature_key": f"{base}/signature.p7s", "payload_sha256": digest,
              "attachments": [{k: a[k] for k in ("upload_id", "name", "sha256", "size")}
                              for a in doc.get("attachments", [])]}
    # The nonce is claimed in the resuming step itself: a request that dies before it can be
    # sent again as it was.
    resumed = _resume(settings, application, record, now,
                      claim=cases.nonce_key(key, doc["nonce"]))
    return {"receipt": receipt, "status": Status.IN_REVIEW.value,
            "tasks": [{"department": t.department, "stage": int(t.stage),
                       "due_date": t.due_date} for t in resumed]}


def _verify_supplement(settings: Settings, payload: bytes, signature: bytes,
                       doc: dict[str, Any], now: datetime) -> None:
    from chalicelib import verification
    from chalicelib.contract import Reason
    from chalicelib.signature import verify_detached

    trust = verification.trust_cache.get(settings.bucket(Bucket.TRUST),
                                         settings.trust_cache_seconds)
    verdict = verify_detached(payload, signature, trust, now=now,
                              applicant_id=doc["applicant"]["id"],
                              signed_at=datetime.fromisoformat(doc["signed_at"]))
    reason = verdict.reason
    if reason is None and not verification.check_attachments(
            list(doc.get("attachments", [])), settings.bucket(Bucket.UPLOADS)):
        reason = Reason.ATTACHMENT_MISMATCH
    if reason is Reason.REVOCATION_UNKNOWN:
        raise ClientError("暂时无法确认签名证书的吊销状态，请稍后重新提交",
                          "revocation status unknown; submit again later",
                          code=reason.value, status=503)
    if reason is not None:
        from chalicelib.contract import REASON_TEXT_ZH

        raise ClientError(REASON_TEXT_ZH[reason], f"supplement rejected: {reason.value}",
                          code=reason.value, status=422)


def _resume(settings: Settings, application: ApplicationModel, record: dict[str, Any],
            now: datetime, *, claim: str) -> list[TaskModel]:
    """Resume every paused task and the case in one transaction (all clocks restart at once).

    The transaction also checks that no other task of the case was paused meanwhile (a second
    department asking for a correction while the answer arrives): the case must not go back
    to review while a task still waits. If one was, it is re-read and resumed too.
    """
    item = bound_item(application)
    for _ in range(_SETTLE_ATTEMPTS):
        resumed = _resume_once(settings, application, item, record, now, claim)
        if resumed is not None:
            break
        application = cases.get(application.receipt, consistent=True)
        if application.status != Status.CORRECTION_REQUIRED.value:
            raise NotAwaitingCorrection(details={"status": application.status})
        if cases.claimed(claim):
            raise cases.DuplicateNonce(details={"receipt": application.receipt})
    else:
        raise tasks.TransactionRace(application.receipt)
    outbox.deliver(settings, application.receipt)
    return [find_task(t.receipt, int(t.stage), t.department) for t in resumed]


def _resume_once(settings: Settings, application: ApplicationModel, item: dict[str, Any],
                 record: dict[str, Any], now: datetime, claim: str) -> list[TaskModel] | None:
    """One attempt of :func:`_resume`; None when its transaction's conditions failed."""
    all_tasks = tasks.for_case(application.receipt)
    paused = [t for t in all_tasks if t.state == tasks.CORRECTION]
    running = [t for t in all_tasks if t.state == tasks.OPEN]
    case_fields: list[Any] = [
        ApplicationModel.status.set(Status.IN_REVIEW.value),
        ApplicationModel.paused_since.remove(),
        ApplicationModel.supplements.set((ApplicationModel.supplements | []).append([record])),
        ApplicationModel.updated_at.set(now),
    ]
    if application.paused_since is not None and application.review_started_at is not None:
        case_pause = {"from": application.paused_since.isoformat(), "to": now.isoformat()}
        intervals = pauses_of(list(application.pauses), application.paused_since, now)
        promised = int(item.get("promised_days") or 1)
        case_due = _iso(due_date(application.review_started_at, promised, pauses=intervals,
                                 extension_days=int(application.extension_days)))
        case_fields += [
            ApplicationModel.pauses.set((ApplicationModel.pauses | []).append([case_pause])),
            ApplicationModel.due_date.set(case_due),
        ]
    owed = [notice(settings, application.receipt, "supplement_received", key=now.isoformat())]
    updates = []
    for task in paused:
        assert task.paused_since is not None
        due = _iso(due_date(task.opened_at, int(task.working_days),
                            pauses=pauses_of(list(task.pauses), task.paused_since, now),
                            extension_days=int(task.extension_days)))
        pause = {"from": task.paused_since.isoformat(), "to": now.isoformat()}
        updates.append((task, [
            TaskModel.state.set(tasks.OPEN), TaskModel.paused_since.remove(),
            TaskModel.pauses.set((TaskModel.pauses | []).append([pause])),
            TaskModel.due_date.set(due),
            TaskModel.open_shard.set(tasks.shard(task.receipt)),
            TaskModel.due_sort.set(tasks.due_sort(tasks.OPEN, due, task.receipt,
                                                  task.task_key)),
        ], (TaskModel.state == tasks.CORRECTION) & (TaskModel.paused_since == task.paused_since)))
        resumed = TaskModel(task.receipt, task.task_key, **{
            **task.attribute_values, "state": tasks.OPEN, "due_date": due})
        owed.append(steps.message(settings.department_queue(task.department), task_message(
            "task.resumed", resumed, item, settings.public_base_url,
            event_suffix=now.isoformat(),
            supplement={"payload_sha256": record["payload_sha256"],
                        "attachments": len(record["attachments"])})))

    def also(tx: Any) -> None:
        tx.save(ClaimModel(claim, state="DONE", data={"receipt": application.receipt,
                                                      "supplement": True}),
                condition=ClaimModel.key.does_not_exist())
        for task, actions, condition in updates:
            tx.update(task, actions=actions, condition=condition)
        for task in running:
            tx.condition_check(TaskModel, task.receipt, task.task_key,
                               condition=TaskModel.state != tasks.CORRECTION)

    committed = steps.commit(
        application.receipt, case_fields,
        ApplicationModel.status == Status.CORRECTION_REQUIRED.value,
        records=[steps.Record("SUPPLEMENTED", "applicant", now,
                              {"departments": [t.department for t in paused]})],
        outbox=owed, now=now, also=also)
    return paused if committed else None


# ---------------------------------------------------------------------------- notifications


def notice(settings: Settings, receipt: str, event: str, *, key: str = "",
           department: str | None = None, detail: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    """The outbox entry of a notification event; ``key`` tells repeatable events apart.

    With ``department`` the event is for that department's officers, not the applicant.
    """
    body: dict[str, Any] = {"event": event, "receipt": receipt, "reason": None,
                            "event_id": f"{receipt}:{event}" + (f":{key}" if key else "")}
    if department:
        body["department"] = department
    if detail:
        body["detail"] = detail
    return steps.message(settings.queue(Queue.NOTIFY), body)
