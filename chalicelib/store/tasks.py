"""Data access for department tasks: create a stage, decide, pause, resume, extend, list.

Every state change is one conditional write on the task (or one transaction with the case), so
that two officers, two route workers or a redelivered message never both act: the loser's
condition fails and it learns what the winner did.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, RetryableError
from chalicelib.store.models import TaskModel

OPEN = "open"  # the department works on it; its clock runs
CORRECTION = "correction"  # 补正 requested: the clock stopped until the applicant answers
CLOSED = "closed"  # decided, or cancelled because the case ended elsewhere
STATES = (OPEN, CORRECTION, CLOSED)
CANCELLED = "cancelled"  # the ``decision`` of a task closed by another department's denial
OPEN_SHARDS = 16


class TaskClosed(Conflict):
    """The task is not in a state that allows this action (decided, cancelled, paused)."""

    code = "TASK_CLOSED"
    message_zh = "该事项已办结或当前状态不允许此操作"
    message_en = "the task is closed or its state does not allow this"


class TransactionRace(RetryableError):
    """A concurrent transaction on the same items; re-read and try again."""


def task_key(stage: int, department: str) -> str:
    """Range key of a department's task in one stage (sorts by stage)."""
    return f"{int(stage):02d}#{department}"


def shard(receipt: str) -> str:
    """The open-index shard of a case's tasks (stable per case)."""
    return str(zlib.crc32(receipt.encode()) % OPEN_SHARDS)


def due_sort(state: str, due_date: str, receipt: str, key: str) -> str:
    """Worklist sort key: state first (the query's prefix), then the due date."""
    return f"{state}#{due_date}#{receipt}#{key}"


def new_task(receipt: str, stage: int, department: str, *, due_date: str, working_days: int,
             service_code: str, now: datetime) -> TaskModel:
    """An open task, not yet stored."""
    key = task_key(stage, department)
    return TaskModel(receipt, key, department=department, stage=stage, state=OPEN,
                     due_sort=due_sort(OPEN, due_date, receipt, key), due_date=due_date,
                     working_days=working_days, service_code=service_code, opened_at=now,
                     open_shard=shard(receipt))


def for_case(receipt: str, *, consistent: bool = True) -> list[TaskModel]:
    """Every task of a case, stage by stage (strongly consistent by default)."""
    return list(TaskModel.query(receipt, consistent_read=consistent))


def get(receipt: str, key: str, *, consistent: bool = False) -> TaskModel | None:
    """One task, or None."""
    try:
        return TaskModel.get(receipt, key, consistent_read=consistent)
    except DoesNotExist:
        return None


def _decide_actions(task: TaskModel, decision: str, by: str, detail: dict[str, Any],
                    now: datetime, early_days: int | None) -> list[Action]:
    actions: list[Action] = [
        TaskModel.state.set(CLOSED), TaskModel.decision.set(decision),
        TaskModel.decided_by.set(by), TaskModel.detail.set(detail),
        TaskModel.closed_at.set(now), TaskModel.open_shard.remove(),
        TaskModel.paused_since.remove(),
        TaskModel.due_sort.set(due_sort(CLOSED, task.due_date, task.receipt, task.task_key)),
    ]
    if early_days is not None:
        actions.append(TaskModel.early_days.set(early_days))
    return actions


def deciding(task: TaskModel, decision: str, *, by: str, detail: dict[str, Any], now: datetime,
             early_days: int | None, from_states: Iterable[str] = (OPEN,)
             ) -> Callable[[TransactWrite], None]:
    """``decide`` as part of a step's transaction (``store/steps.py``)."""
    actions = _decide_actions(task, decision, by, detail, now, early_days)
    condition = TaskModel.state.is_in(*from_states)

    def add(tx: TransactWrite) -> None:
        tx.update(task, actions=actions, condition=condition)
    return add


def creating(new: Sequence[TaskModel]) -> Callable[[TransactWrite], None]:
    """A stage's new tasks as part of a step's transaction; the step fails if one exists."""
    def add(tx: TransactWrite) -> None:
        for task in new:
            tx.save(task, condition=TaskModel.task_key.does_not_exist())
    return add


def pause(task: TaskModel, *, missing: list[dict[str, Any]], by: str, now: datetime) -> TaskModel:
    """Stop an open task's clock for a correction (补正)."""
    request = {"at": now.isoformat(), "by": by, "missing": missing}
    _update(task, [
        TaskModel.state.set(CORRECTION), TaskModel.paused_since.set(now),
        TaskModel.open_shard.remove(),
        TaskModel.corrections.set((TaskModel.corrections | []).append([request])),
        TaskModel.due_sort.set(due_sort(CORRECTION, task.due_date, task.receipt, task.task_key)),
    ], TaskModel.state == OPEN)
    return task


def resume(task: TaskModel, *, due_date: str, now: datetime) -> bool:
    """Restart a paused task's clock with its new due date; False if it was not paused."""
    assert task.paused_since is not None
    pause_record = {"from": task.paused_since.isoformat(), "to": now.isoformat()}
    try:
        _update(task, [
            TaskModel.state.set(OPEN), TaskModel.paused_since.remove(),
            TaskModel.pauses.set((TaskModel.pauses | []).append([pause_record])),
            TaskModel.due_date.set(due_date), TaskModel.open_shard.set(shard(task.receipt)),
            TaskModel.due_sort.set(due_sort(OPEN, due_date, task.receipt, task.task_key)),
        ], (TaskModel.state == CORRECTION) & (TaskModel.paused_since == task.paused_since))
    except TaskClosed:
        return False
    return True


Change = tuple[list[Action], Condition]


def step_added(step: dict[str, Any]) -> Change:
    """Record a step (an on-site inspection) on an open task."""
    return [TaskModel.steps.set((TaskModel.steps | []).append([step]))], TaskModel.state == OPEN


def extension_requested(request: dict[str, Any]) -> Change:
    """Record an extension request (延期) on an open task that has none pending."""
    return ([TaskModel.extension.set(request)],
            (TaskModel.state == OPEN) & TaskModel.extension.does_not_exist())


def extension_decided(task: TaskModel, record: dict[str, Any], *, granted_days: int,
                      due_date: str) -> Change:
    """Grant or refuse the pending extension; a grant moves the due date.

    Conditional on the very request being decided still pending, so two lead officers never
    both grant it.
    """
    assert task.extension is not None
    actions: list[Action] = [
        TaskModel.extension.remove(),
        TaskModel.extensions.set((TaskModel.extensions | []).append([record])),
    ]
    if granted_days:
        actions += [TaskModel.extension_days.add(granted_days),
                    TaskModel.due_date.set(due_date),
                    TaskModel.due_sort.set(due_sort(str(task.state), due_date, task.receipt,
                                                    task.task_key))]
    return actions, ((TaskModel.extension == task.extension)
                     & TaskModel.state.is_in(OPEN, CORRECTION))


def updating(task: TaskModel, change: Change) -> Callable[[TransactWrite], None]:
    """A task's change as part of a step's transaction (``store/steps.py``)."""
    actions, condition = change

    def add(tx: TransactWrite) -> None:
        tx.update(task, actions=actions, condition=condition)
    return add


def cancel(task: TaskModel, *, now: datetime, reason: dict[str, Any]) -> bool:
    """Close a task whose case ended elsewhere; False if it was already closed."""
    try:
        _update(task, _decide_actions(task, CANCELLED, "workflow", reason, now, None),
                TaskModel.state.is_in(OPEN, CORRECTION))
    except TaskClosed:
        return False
    return True


def mark_dispatched(task: TaskModel, now: datetime) -> None:
    """Remember that the department was sent this task (a redelivery sends only the rest)."""
    task.update(actions=[TaskModel.dispatched_at.set(now)])


def worklist(department: str, state: str, *, limit: int,
             start: dict[str, Any] | None = None) -> tuple[list[TaskModel], dict[str, Any] | None]:
    """A department's tasks in ``state``, earliest due date first; and the next page's key."""
    result = TaskModel.department_index.query(
        department, TaskModel.due_sort.startswith(f"{state}#"), limit=limit,
        last_evaluated_key=start)
    items = list(result)
    return items, result.last_evaluated_key


def open_due_by(shard_name: str, last_day: str, *, limit: int = 500) -> list[TaskModel]:
    """Tasks of one open-index shard whose clock runs and that are due on or before ``last_day``.

    What supervision reads (for every shard in ``range(OPEN_SHARDS)``): the index holds only
    running clocks, sorted by due date, so the pass costs what is due, not what exists.
    """
    # "~" sorts after every character of a receipt, so the whole of ``last_day`` is included.
    return list(TaskModel.open_index.query(
        shard_name, TaskModel.due_sort <= f"{OPEN}#{last_day}#~", limit=limit))


def _update(task: TaskModel, actions: list[Action], condition: Condition) -> None:
    try:
        task.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise TaskClosed(details={"task": task.task_key}) from exc
        raise
