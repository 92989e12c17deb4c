"""The rules of electronic supervision (电子监察), as plain functions of facts and ``now``.

Deadline warnings follow Guangdong's practice: a yellow warning (黄牌预警) when a running task
has at most one working day left, a red card (红牌) once it is overdue, and an escalation
(督办) to the supervisors when it is still open a configured number of working days after
that. The other rules of the source (003: 监控、纠错、督办、统计、评估、责任处理) look at
what a department did and produce findings with their evidence:

* a denial (不予许可) without a real reason;
* a fee above the item's published fee standard (收费标准, one of the eight public standards);
* a stage decided after its own time limit, even if the case as a whole finished on time;
* a correction request (补正) used to stop the clock more often than allowed: the law asks
  for everything missing to be listed at once (一次性告知);
* a low service rating (好差评) by the applicant.

No AWS here: the data layer turns stored items into the facts below, and ``supervision.py``
acts on the answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from chalicelib.workcalendar import WorkCalendar, china_date

_DAY = timedelta(days=1)


class Level(str, Enum):
    """How far a running task is past its warning point."""

    YELLOW = "yellow"  # 黄牌预警: due within the warning window
    RED = "red"  # 红牌: overdue
    ESCALATED = "escalated"  # 督办: still open well after the red card


class Rule(str, Enum):
    """The finding rules."""

    DENIAL_WITHOUT_REASON = "DENIAL_WITHOUT_REASON"
    FEE_ABOVE_STANDARD = "FEE_ABOVE_STANDARD"
    STAGE_OVERDUE = "STAGE_OVERDUE"
    REPEATED_CORRECTION = "REPEATED_CORRECTION"
    LOW_RATING = "LOW_RATING"


RULE_TEXT_ZH: dict[Rule, str] = {
    Rule.DENIAL_WITHOUT_REASON: "不予许可未说明理由",
    Rule.FEE_ABOVE_STANDARD: "收费超过公布的收费标准",
    Rule.STAGE_OVERDUE: "审批环节超过本环节承诺时限",
    Rule.REPEATED_CORRECTION: "多次要求补正（未一次性告知）",
    Rule.LOW_RATING: "申请人差评",
}
RULE_TEXT_EN: dict[Rule, str] = {
    Rule.DENIAL_WITHOUT_REASON: "denied without a reason",
    Rule.FEE_ABOVE_STANDARD: "fee above the published standard",
    Rule.STAGE_OVERDUE: "stage decided after its own time limit",
    Rule.REPEATED_CORRECTION: "corrections requested more often than allowed",
    Rule.LOW_RATING: "low service rating",
}
LEVEL_TEXT_ZH: dict[Level, str] = {Level.YELLOW: "黄牌预警", Level.RED: "红牌警告",
                                   Level.ESCALATED: "督办"}

# Reasons that name no reason: a denial must tell the applicant why (行政许可法 第三十八条).
PLACEHOLDER_REASONS = frozenset({"无", "没有", "不予许可", "不同意", "不批准", "不符合",
                                 "不符合条件", "不符合要求", "其他", "略", "见附件", "n/a",
                                 "na", "none", "-", "--", "/", "."})


@dataclass(frozen=True)
class Policy:
    """What the supervision office configured; the defaults are the pilot's."""

    # Yellow when at most this many working days are left (0 = only on the due day).
    yellow_working_days: int = 1
    # Escalate a red card when the task is still open this many working days after it.
    escalate_after_working_days: int = 1
    # Correction requests one department may make on one task before it is a finding.
    max_correction_rounds: int = 1
    # Ratings at or below this open a finding (好差评: 差评).
    low_rating: int = 2
    # A denial's reason shorter than this (after trimming) names no reason.
    min_reason_chars: int = 4

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], prefix: str = "ONESTOP_SUPERVISION_"
                     ) -> Policy:
        """The defaults, overridden by ``<PREFIX><FIELD>`` entries (environment variables such
        as ``ONESTOP_SUPERVISION_ESCALATE_AFTER_WORKING_DAYS=2``); bad values are refused."""
        found: dict[str, int] = {}
        for name in cls.__dataclass_fields__:
            raw = values.get(prefix + name.upper())
            if raw is None or raw == "":
                continue
            if not raw.strip().isdigit():
                raise ValueError(f"{prefix + name.upper()} must be a whole number, not {raw!r}")
            found[name] = int(raw)
        return cls(**found)


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class TaskFacts:
    """What the rules need to know about one department's task."""

    receipt: str
    task_key: str  # "<stage:02d>#<department>"
    department: str
    stage: int
    state: str  # open | correction | closed
    due_date: date
    service_code: str = ""
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    decision: str | None = None
    decided_by: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    corrections: tuple[Mapping[str, Any], ...] = ()
    working_days: int = 0
    extension_days: int = 0

    @property
    def subject(self) -> str:
        """The task as a finding names it (URL-safe): ``s00-ghj``."""
        return f"s{self.stage:02d}-{self.department}"


@dataclass(frozen=True)
class Warning:
    """One deadline warning of one task, for one due date (a moved due date warns anew)."""

    receipt: str
    task_key: str
    department: str
    stage: int
    due_date: date
    level: Level
    working_days_left: int

    @property
    def key(self) -> str:
        """Unique per task, due date and level: recording it twice is impossible."""
        return f"{self.task_key}#{self.due_date.isoformat()}#{self.level.value}"

    @property
    def event_id(self) -> str:
        """The notification's event id (the notify step sends each id once)."""
        return f"{self.receipt}:warning:{self.task_key}:{self.due_date.isoformat()}:" \
               f"{self.level.value}"

    @property
    def event(self) -> str:
        """The notify event: escalations go out as red warnings, which reach supervisors."""
        return "warning_yellow" if self.level is Level.YELLOW else "warning_red"


@dataclass(frozen=True)
class Finding:
    """A rule that did not hold, with what shows it."""

    rule: Rule
    receipt: str
    subject: str  # "case" or a task's subject ("s00-ghj")
    department: str
    evidence: Mapping[str, Any]

    @property
    def key(self) -> str:
        """One finding per rule and subject: reviewing a case twice records it once."""
        return f"{self.rule.value}#{self.subject}"

    @property
    def finding_id(self) -> str:
        """Public id (URL-safe): ``<receipt>.<rule>.<subject>``."""
        return f"{self.receipt}.{self.rule.value}.{self.subject}"


def parse_finding_id(finding_id: str) -> tuple[str, Rule, str] | None:
    """``(receipt, rule, subject)`` of a public finding id, or None when it is not one."""
    parts = finding_id.split(".")
    if len(parts) != 3 or not all(parts) or len(finding_id) > 160:
        return None
    try:
        rule = Rule(parts[1])
    except ValueError:
        return None
    return parts[0], rule, parts[2]


# ---------------------------------------------------------------------------- deadlines


def watch_until(calendar: WorkCalendar, today: date, policy: Policy = DEFAULT_POLICY) -> date:
    """The latest due date a running task can have and still deserve a warning ``today``.

    ``working_days_left`` counts the working days in ``(today, due]``; it is at most
    ``yellow_working_days`` exactly when ``due`` comes before the next working day after those.
    """
    return calendar.add_working_days(today, policy.yellow_working_days + 1) - _DAY


def level(calendar: WorkCalendar, now: datetime, due: date,
          policy: Policy = DEFAULT_POLICY) -> tuple[Level | None, int]:
    """The warning level of a running task due on ``due``, and its working days left.

    Timeline of a task due Friday with the defaults (yellow at one working day left, escalate
    one working day after the red card)::

        Thu  left 1  → yellow          Sat, Sun, Mon  left -1 → red
        Fri  left 0  → yellow (same)   Tue            left -2 → escalated
    """
    left = calendar.working_days_left(now, due)
    if left < 0:
        # -1 runs from the day after the due date through the next working day, so "one more
        # working day gone by, still open" is -2 with the default of one.
        if -left > policy.escalate_after_working_days:
            return Level.ESCALATED, left
        return Level.RED, left
    if left <= policy.yellow_working_days:
        return Level.YELLOW, left
    return None, left


def warnings_for(task: TaskFacts, calendar: WorkCalendar, now: datetime,
                 policy: Policy = DEFAULT_POLICY) -> list[Warning]:
    """Every warning a running task should have by ``now`` (recorded ones included).

    An escalation needs its red card; a task that went from quiet to overdue between two passes
    (the schedule was down) gets its red card without a belated yellow one.
    """
    if task.state != "open":
        return []  # a stopped clock (补正) or a decided task is not late
    found, left = level(calendar, now, task.due_date, policy)
    if found is None:
        return []
    levels = [Level.RED, Level.ESCALATED] if found is Level.ESCALATED else [found]
    return [Warning(task.receipt, task.task_key, task.department, task.stage, task.due_date,
                    lvl, left) for lvl in levels]


# ---------------------------------------------------------------------------- findings


def denial_without_reason(task: TaskFacts, policy: Policy = DEFAULT_POLICY) -> Finding | None:
    """A denial whose reason is empty, a placeholder, or too short to be one."""
    if task.decision != "deny":
        return None
    reason = str(task.detail.get("reason") or "").strip()
    if len(reason) >= policy.min_reason_chars and reason.lower() not in PLACEHOLDER_REASONS:
        return None
    return Finding(Rule.DENIAL_WITHOUT_REASON, task.receipt, task.subject, task.department, {
        "task": task.task_key, "decision": task.decision, "decided_by": task.decided_by,
        "reason": reason, "closed_at": _iso(task.closed_at)})


def money(value: Any) -> Decimal | None:
    """An amount in yuan from a stored value (text or integer; floats are refused)."""
    if value is None or isinstance(value, (bool, float)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def fee_above_standard(task: TaskFacts, standard_yuan: Any, basis: str = "") -> Finding | None:
    """A fee charged (``detail.fee_yuan`` of the decision) above the item's fixed standard.

    A standard computed from a formula (``amount_yuan`` null, e.g. per mille of the registered
    capital) cannot be checked here and is left to the auditors.
    """
    charged = money(task.detail.get("fee_yuan"))
    standard = money(standard_yuan)
    if charged is None or standard is None or charged <= standard:
        return None
    return Finding(Rule.FEE_ABOVE_STANDARD, task.receipt, task.subject, task.department, {
        "task": task.task_key, "charged_yuan": f"{charged:.2f}",
        "standard_yuan": f"{standard:.2f}", "basis": basis, "decided_by": task.decided_by})


def stage_overdue(task: TaskFacts, calendar: WorkCalendar) -> Finding | None:
    """A department that decided its stage after the stage's own due date."""
    if task.state != "closed" or task.closed_at is None or task.decision in (None, "cancelled"):
        return None
    closed_day = china_date(task.closed_at)
    if closed_day <= task.due_date:
        return None
    late = calendar.working_days_between(task.due_date, closed_day)
    return Finding(Rule.STAGE_OVERDUE, task.receipt, task.subject, task.department, {
        "task": task.task_key, "due_date": task.due_date.isoformat(),
        "closed_at": _iso(task.closed_at), "working_days_late": max(late, 1),
        "working_days": task.working_days, "extension_days": task.extension_days,
        "decision": task.decision, "decided_by": task.decided_by})


def repeated_correction(task: TaskFacts, policy: Policy = DEFAULT_POLICY) -> Finding | None:
    """More correction requests on one task than ``max_correction_rounds``."""
    if len(task.corrections) <= policy.max_correction_rounds:
        return None
    return Finding(Rule.REPEATED_CORRECTION, task.receipt, task.subject, task.department, {
        "task": task.task_key, "rounds": len(task.corrections),
        "allowed": policy.max_correction_rounds,
        "requests": [{"at": c.get("at"), "by": c.get("by"),
                      "missing": [str(m.get("name", "")) if isinstance(m, Mapping) else str(m)
                                  for m in (c.get("missing") or [])]}
                     for c in task.corrections]})


def low_rating(receipt: str, department: str, score: int, comment: str, at: datetime,
               policy: Policy = DEFAULT_POLICY) -> Finding | None:
    """A rating at or below the policy's low mark (差评)."""
    if score > policy.low_rating:
        return None
    return Finding(Rule.LOW_RATING, receipt, "case", department,
                   {"score": score, "comment": comment, "rated_at": at.isoformat()})


def review(all_tasks: Iterable[TaskFacts], calendar: WorkCalendar, *,
           fee_standard: Any = None, fee_basis: str = "",
           policy: Policy = DEFAULT_POLICY) -> list[Finding]:
    """Every finding about a case's tasks (run when the case finishes; idempotent by key)."""
    found: list[Finding] = []
    for task in all_tasks:
        for finding in (denial_without_reason(task, policy),
                        fee_above_standard(task, fee_standard, fee_basis),
                        stage_overdue(task, calendar),
                        repeated_correction(task, policy)):
            if finding is not None:
                found.append(finding)
    return found


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
