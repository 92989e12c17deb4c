"""Electronic supervision (电子监察): the scheduled pass, the review of finished cases, ratings.

The pass (:func:`run`, every five minutes) reads the running clocks due within the warning
window from the tasks table's sparse open-index, so its cost follows what is due, not the
number of cases the province ever finished. For each task the rules
(``chalicelib/supervision_rules.py``) say which warnings it deserves by now: yellow (one
working day left), red (overdue), escalated (still open a working day after the red card).
Each warning is recorded once with a conditional put (and counted in the same transaction);
only the pass whose put succeeded acts on it, so a schedule that fires twice, or two passes
that overlap, warn once::

    pass A: put yellow ✓ ─ log ─ notify ─ mark delivered
    pass B:   put yellow ✗ (exists) ─ nothing to do      (or, if A died before "delivered" and
                                                           its lease ran out: log if missing ─
                                                           notify ─ mark)

The notify step delivers each ``event_id`` once, so a re-sent event after a crash is harmless.
Warnings go to the task's department (its officers' inbox and email); red cards and escalations
also reach the supervisors (``notifications.plan``). The pass then signs the heads of the audit
chains that changed (``audit.sign_pending``).

When a case finishes, :func:`on_case_finished` counts it in the statistics and reviews its
tasks against the finding rules; the workflow calls it (idempotent, so it may be called twice).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import audit, queues, stats
from chalicelib import supervision_rules as rules
from chalicelib.errors import ClientError, Conflict
from chalicelib.names import FUNCTION_TIMEOUT, Function, Queue
from chalicelib.settings import Settings
from chalicelib.workcalendar import WorkCalendar, china_date

log = logging.getLogger(__name__)

WARNING_KIND = "SUPERVISION_WARNING"
FINDING_KIND = "SUPERVISION_FINDING"
RATING_KIND = "RATED"
ACTOR = "supervise"
# A pass that recorded a warning delivers it within its own run (the function's timeout); only
# after that does another pass take over a delivery left unfinished.
DELIVERY_LEASE = timedelta(seconds=FUNCTION_TIMEOUT[Function.SUPERVISE])


def policy_in_force() -> rules.Policy:
    """The supervision office's settings (``ONESTOP_SUPERVISION_*`` variables), else defaults."""
    import os

    return rules.Policy.from_mapping(os.environ)


def run(settings: Settings, now: datetime, *, policy: rules.Policy | None = None,
        calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """One supervision pass at ``now``: deadline warnings, then audit heads."""
    from chalicelib.store import findings

    policy = policy or policy_in_force()
    cal = calendar or WorkCalendar.default()
    horizon = rules.watch_until(cal, china_date(now), policy)
    due: list[tuple[rules.Warning, str]] = []
    running = 0
    for task in findings.running_due_by(horizon):
        running += 1
        for warning in rules.warnings_for(findings.facts(task), cal, now, policy):
            due.append((warning, task.service_code or ""))
    recorded, delivered = findings.warning_state(w for w, _ in due)
    raised: Counter[str] = Counter()
    resumed = 0
    for warning, service_code in due:
        key = (warning.receipt, warning.key)
        if key in delivered:
            continue
        fresh = key not in recorded and findings.record_warning(warning, service_code, now)
        if not fresh and (key not in recorded or now - recorded[key] < DELIVERY_LEASE):
            continue  # another pass recorded it moments ago and is delivering it
        if fresh:
            raised[warning.level.value] += 1
        else:
            resumed += 1  # recorded by a pass that stopped before delivering it
        _deliver(settings, warning, now, logged_already=not fresh)
        findings.mark_delivered(warning, now)
    heads = audit.sign_pending(settings, now)
    summary = {"stage": settings.stage, "at": now.isoformat(), "running_due": running,
               "warnings": sum(raised.values()), "yellow": raised["yellow"],
               "red": raised["red"], "escalated": raised["escalated"], "resumed": resumed,
               "heads_signed": heads}
    log.info("supervision pass", extra=summary)
    return summary


def _deliver(settings: Settings, warning: rules.Warning, now: datetime, *,
             logged_already: bool) -> None:
    """The warning's case-log record and its notification event."""
    from chalicelib.store import caselog

    data = {"event_id": warning.event_id, "level": warning.level.value,
            "task": warning.task_key, "department": warning.department,
            "stage": warning.stage, "due_date": warning.due_date.isoformat(),
            "working_days_left": warning.working_days_left}
    if not (logged_already and any(r.kind == WARNING_KIND and (r.data or {}).get("event_id")
                                   == warning.event_id
                                   for r in caselog.records(warning.receipt))):
        audit.record(warning.receipt, WARNING_KIND, actor=ACTOR, at=now, data=data)
    queues.send(settings.queue(Queue.NOTIFY), {
        "event": warning.event, "receipt": warning.receipt, "event_id": warning.event_id,
        "department": warning.department,
        "detail": {**data, "escalated": warning.level is rules.Level.ESCALATED,
                   "level_zh": rules.LEVEL_TEXT_ZH[warning.level]}})


# ---------------------------------------------------------------------------- finished cases


def on_case_finished(settings: Settings, application: Any, item: Mapping[str, Any],
                     now: datetime, *, policy: rules.Policy | None = None
                     ) -> dict[str, Any]:
    """Count a case that just ended and review it; safe to call more than once.

    ``application`` is the stored case after its move to ``APPROVED`` or ``DENIED``, ``item``
    the catalog item it was filed under (``workflow.bound_item``).
    """
    from chalicelib.store import audit as audit_store

    policy = policy or policy_in_force()
    cal = WorkCalendar.default()
    counted = stats.record_finished(application, str(item["department"]), now, cal)
    found = review_case(application.receipt, item, now, policy=policy, calendar=cal)
    audit_store.mark_unsigned(application.receipt, now)
    return {"counted": counted, "findings": [f.finding_id for f in found]}


def review_case(receipt: str, item: Mapping[str, Any], now: datetime, *,
                policy: rules.Policy | None = None,
                calendar: WorkCalendar | None = None) -> list[rules.Finding]:
    """Check a case's tasks against the finding rules; record the new findings."""
    from chalicelib.store import findings, tasks

    policy = policy or policy_in_force()
    cal = calendar or WorkCalendar.default()
    fee = item.get("fee") or {}
    found = rules.review([findings.facts(t) for t in tasks.for_case(receipt)], cal,
                         fee_standard=fee.get("amount_yuan"), fee_basis=str(fee.get("basis", "")),
                         policy=policy)
    new = []
    for finding in found:
        if findings.record_finding(finding, str(item.get("code", "")), now):
            audit.record(receipt, FINDING_KIND, actor=ACTOR, at=now,
                         data={"rule": finding.rule.value, "subject": finding.subject,
                               "department": finding.department})
            new.append(finding)
    if new:
        log.info("supervision findings", extra={"receipt": receipt,
                                                "rules": [f.rule.value for f in new]})
    return found


# ---------------------------------------------------------------------------- ratings

RATEABLE = frozenset({"APPROVED", "DENIED", "REJECTED", "WITHDRAWN"})
MAX_COMMENT = 500


def rate(application: Any, item: Mapping[str, Any], subject: str, score: int, comment: str,
         now: datetime, *, policy: rules.Policy | None = None) -> dict[str, Any]:
    """The applicant's rating (好差评) of an ended case: once, counted, a low one a finding.

    Raises ``NotRateable`` before the case ends and ``AlreadyRated`` the second time.
    """
    from chalicelib.store import findings

    if application.status not in RATEABLE:
        raise NotRateable(details={"status": application.status})
    policy = policy or policy_in_force()
    department = str(item["department"])
    finding = rules.low_rating(application.receipt, department, score, comment, now, policy)
    rating = {"receipt": application.receipt, "score": score, "comment": comment,
              "rated_at": now.isoformat(), "department": department,
              "service_code": application.service_code, "status": application.status}
    if not findings.record_rating(application.receipt, department, application.service_code,
                                  rating, stats.rating_increments(score, finding is not None),
                                  finding, now):
        raise AlreadyRated()
    audit.record(application.receipt, RATING_KIND, actor=subject, at=now, public=True,
                 data={"score": score})
    return {**rating, "finding": finding.finding_id if finding else None}


class NotRateable(Conflict):
    """The case has not ended yet."""

    code = "NOT_RATEABLE"
    message_zh = "办件办结后才能评价"
    message_en = "a case can be rated once it has ended"


class AlreadyRated(Conflict):
    """The applicant rated this case already."""

    code = "ALREADY_RATED"
    message_zh = "该办件已评价，每件只能评价一次"
    message_en = "this case was rated already; a case is rated once"


class InvalidRating(ClientError):
    """A score outside 1–5 or a comment that is too long."""

    code = "INVALID_RATING"
    message_zh = "评分须为1至5的整数，评价内容不超过500字"
    message_en = "score must be an integer from 1 to 5; comment at most 500 characters"


def check_rating(doc: Mapping[str, Any]) -> tuple[int, str]:
    """Score and comment of a rating request body; ``InvalidRating`` otherwise."""
    score = doc.get("score")
    comment = doc.get("comment", "")
    if (not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5
            or not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise InvalidRating()
    return score, comment.strip()


# ---------------------------------------------------------------------------- views


def case_history(settings: Settings, receipt: str, now: datetime) -> dict[str, Any]:
    """Everything about a case a supervisor sees: the case, its tasks, every log record (the
    audit records included), warnings, findings, rating, and whether the chain holds."""
    from chalicelib.store import caselog, cases, findings, tasks

    application = cases.get(receipt, consistent=True)
    verdict = audit.verify_chain(settings, receipt)
    return {
        "case": {"receipt": receipt, "status": application.status,
                 "service_code": application.service_code,
                 "received_at": application.received_at.isoformat(),
                 "due_date": application.due_date,
                 "decided_at": application.decided_at.isoformat()
                 if application.decided_at else None,
                 "early_days": application.early_days, "reason": application.reason,
                 "denial": application.denial, "current_stage": int(application.current_stage),
                 "applicant_masked": application.applicant_masked},
        "tasks": [{"task": t.task_key, "department": t.department, "stage": int(t.stage),
                   "state": t.state, "decision": t.decision, "decided_by": t.decided_by,
                   "due_date": t.due_date, "opened_at": t.opened_at.isoformat(),
                   "closed_at": t.closed_at.isoformat() if t.closed_at else None,
                   "early_days": t.early_days, "corrections": len(t.corrections),
                   "extension_days": int(t.extension_days or 0)}
                  for t in tasks.for_case(receipt)],
        "log": [{"seq": int(r.seq), "at": r.at.isoformat(), "kind": r.kind, "actor": r.actor,
                 "public": bool(r.public), "data": dict(r.data or {}), "hash": r.hash}
                for r in caselog.records(receipt)],
        "warnings": findings.warnings_of(receipt),
        "findings": findings.findings_of(receipt),
        "rating": findings.rating_of(receipt),
        "audit": verdict.as_dict(),
    }


def overdue(department: str, now: datetime, *, limit: int,
            start: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]],
                                                        dict[str, Any] | None]:
    """A department's running tasks past their due date, with how late each is."""
    from chalicelib.store import findings

    cal = WorkCalendar.default()
    items, last = findings.overdue(department, china_date(now), limit=limit, start=start)
    shown = []
    for task in items:
        left = cal.working_days_left(now, date.fromisoformat(task.due_date))
        shown.append({"receipt": task.receipt, "task": task.task_key, "stage": int(task.stage),
                      "service_code": task.service_code, "due_date": task.due_date,
                      "opened_at": task.opened_at.isoformat(), "working_days_left": left,
                      "corrections": len(task.corrections)})
    return shown, last

