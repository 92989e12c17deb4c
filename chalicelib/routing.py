"""Where a case stands in its routing: a pure function of the departments' decisions.

A routing (see ``chalicelib.catalog.model.Routing``) is a sequence of stages whose departments
review in parallel, optionally followed by a decider. Stage ``i`` of the routing has index ``i``;
the decider, when there is one, has index ``len(routing.stages)``.

:func:`evaluate` looks only at the *set* of decisions, never at their order, so a worker can
re-evaluate after every event, with events redelivered or out of order, and always reach the
same outcome. Events are folded into that set by :func:`merge_decisions`, a join that keeps, per
(stage, department), the most final decision (deny > approve > opinion > correction): the
result does not depend on the order or the repetition of the events either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from chalicelib.catalog.model import Routing, RoutingModel
from chalicelib.contract import Status


class Decision(str, Enum):
    """A department's decision on its task."""

    APPROVE = "approve"
    DENY = "deny"
    CORRECTION = "correction"  # 补正: the applicant must complete the materials first
    OPINION = "opinion"  # a supporting department's opinion in the lead model: its part is done


# Finality order for merging two decisions on the same task: a correction request is superseded
# by the department's later decision, and a denial is never undone by a stray approval.
_RANK = {Decision.CORRECTION: 0, Decision.OPINION: 1, Decision.APPROVE: 2, Decision.DENY: 3}


@dataclass(frozen=True)
class Waiting:
    """Stage ``stage_index`` is open; ``pending_departments`` have not finished.

    ``corrections`` are the pending departments that asked the applicant for a correction.
    """

    stage_index: int
    pending_departments: tuple[str, ...]
    corrections: tuple[str, ...] = ()


@dataclass(frozen=True)
class NextStage:
    """Every stage before ``index`` is done and nobody of stage ``index`` decided yet: open it."""

    index: int


@dataclass(frozen=True)
class Approved:
    """Every stage, and the decider if any, approved."""


@dataclass(frozen=True)
class Denied:
    """``department`` denied in stage ``stage_index``; the case ends DENIED."""

    stage_index: int
    department: str


Outcome = Waiting | NextStage | Approved | Denied
TaskKey = tuple[int, str]


def stage_count(routing: Routing) -> int:
    """Number of stages including the decider's."""
    return len(routing.stages) + (1 if routing.decider is not None else 0)


def open_stage(routing: Routing, index: int) -> tuple[str, ...]:
    """The departments that review in stage ``index`` (the decider's stage after the last).

    Raises
    ------
    IndexError
        When the routing has no such stage.
    """
    if 0 <= index < len(routing.stages):
        return routing.stages[index].departments
    if index == len(routing.stages) and routing.decider is not None:
        return (routing.decider,)
    raise IndexError(f"routing has no stage {index}")


def stage_working_days(routing: Routing, index: int) -> int:
    """Working days the departments of stage ``index`` have for their decision."""
    if 0 <= index < len(routing.stages):
        return routing.stages[index].working_days
    if index == len(routing.stages) and routing.decider is not None:
        return routing.decider_days
    raise IndexError(f"routing has no stage {index}")


def allowed_decisions(routing: Routing, index: int) -> frozenset[Decision]:
    """Decisions a department of stage ``index`` may record.

    An opinion only exists for the supporting departments of the lead model; everyone else
    approves, denies or asks for a correction.
    """
    open_stage(routing, index)  # raises for an unknown stage
    if routing.model is RoutingModel.LEAD and index < len(routing.stages):
        return frozenset(Decision)
    return frozenset({Decision.APPROVE, Decision.DENY, Decision.CORRECTION})


def merge_decisions(
    events: Iterable[tuple[TaskKey, Decision | str]],
) -> dict[TaskKey, Decision]:
    """Fold decision events into one final decision per (stage index, department).

    Order-independent and idempotent: any permutation or repetition of ``events`` gives the
    same mapping.
    """
    merged: dict[TaskKey, Decision] = {}
    for key, value in events:
        decision = Decision(value)
        current = merged.get(key)
        if current is None or _RANK[decision] > _RANK[current]:
            merged[key] = decision
    return merged


def evaluate(routing: Routing, decisions: Mapping[TaskKey, Decision | str]) -> Outcome:
    """Where the case stands, given each department's final decision per stage.

    A denial anywhere ends the case, whatever else happened (the earliest stage, then the
    department listed first, names it). Otherwise the first stage with a department not done is
    the current one: :class:`NextStage` when none of its departments decided yet (for any stage
    after the first, which opening the case already opened), else :class:`Waiting`. A
    department is done when it approved, or gave an opinion where opinions are allowed.

    Raises
    ------
    ValueError
        For a decision of a department that is not in that stage, an unknown decision, or an
        opinion where only approve/deny/correction are allowed.
    """
    final = _checked(routing, decisions)
    count = stage_count(routing)
    for index in range(count):
        for department in open_stage(routing, index):
            if final.get((index, department)) is Decision.DENY:
                return Denied(index, department)
    for index in range(count):
        departments = open_stage(routing, index)
        pending = tuple(d for d in departments if not _done(final.get((index, d))))
        if not pending:
            continue
        if (
            index > 0
            and len(pending) == len(departments)
            and not any((index, d) in final for d in departments)
        ):
            return NextStage(index)
        corrections = tuple(d for d in pending if final.get((index, d)) is Decision.CORRECTION)
        return Waiting(index, pending, corrections)
    return Approved()


def status_of(outcome: Outcome) -> Status:
    """The contract status a case with this outcome is in."""
    if isinstance(outcome, Approved):
        return Status.APPROVED
    if isinstance(outcome, Denied):
        return Status.DENIED
    if isinstance(outcome, Waiting) and outcome.corrections:
        return Status.CORRECTION_REQUIRED
    return Status.IN_REVIEW


def _done(decision: Decision | None) -> bool:
    return decision is Decision.APPROVE or decision is Decision.OPINION


def _checked(
    routing: Routing, decisions: Mapping[TaskKey, Decision | str]
) -> dict[TaskKey, Decision]:
    final: dict[TaskKey, Decision] = {}
    count = stage_count(routing)
    for key, value in decisions.items():
        index, department = key
        if not 0 <= index < count or department not in open_stage(routing, index):
            raise ValueError(f"department {department!r} has no task in stage {index}")
        decision = Decision(value)
        if decision not in allowed_decisions(routing, index):
            raise ValueError(f"decision {decision.value!r} not allowed in stage {index}")
        final[key] = decision
    return final
