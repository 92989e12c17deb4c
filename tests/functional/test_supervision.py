"""The supervise handler on the real template in moto, with an injected clock.

A task opened on Monday 21 September 2026 with four working days is due Monday the 28th: the
Mid-Autumn Festival takes Friday the 25th and the weekend follows. The schedule fires (twice
each time) every few hours for ten days; the yellow warning must appear on Thursday the 24th
(China time), the red card on Tuesday the 29th and the escalation on Wednesday the 30th, each
recorded, logged and sent exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import consumers, names, notifications, supervision, workflow
from chalicelib.names import Queue
from chalicelib.routing import Decision
from chalicelib.store import caselog, findings, inbox
from chalicelib.store.models import SupervisionModel
from chalicelib.supervision_rules import Level, Warning
from chalicelib.workcalendar import CHINA
from tests.functional.test_workflow import accepted_case, decide, drain, route_messages, variant
from tools.simulate import finish_hook as counting_finished_cases

MONDAY_0921 = datetime(2026, 9, 21, 9, 0, tzinfo=CHINA).astimezone(UTC)


def single(code: str, department: str, days: int, **extra: Any) -> dict[str, Any]:
    """A one-department test item."""
    item = variant(code, {"model": "single", "stages": [
        {"departments": [department], "working_days": days}], "decider": None,
        "decider_days": 0})
    item.update(extra)
    return item


def fire(at: datetime) -> dict[str, Any]:
    """The scheduled supervise handler, as Lambda invokes it, at ``at``."""
    from app import app
    from tools.lambda_shim import scheduled_event

    original = consumers._now
    consumers._now = lambda: at  # type: ignore[assignment]
    try:
        return dict(app.handler_map[names.Function.SUPERVISE.value](
            scheduled_event("supervise", "cn-north-1", at), None))
    finally:
        consumers._now = original  # type: ignore[assignment]


def warning_records(receipt: str) -> dict[str, datetime]:
    return {str(i.data["level"]): i.at for i in SupervisionModel.query(f"warning#{receipt}")
            if i.kind == "warning"}


def notify_events(receipt: str) -> list[dict[str, Any]]:
    return [m for m in drain(names.queue_name("local", Queue.NOTIFY), receipt)
            if str(m.get("event", "")).startswith("warning_")]


@pytest.fixture
def finish_hook() -> Iterator[None]:
    """Finished cases are counted and reviewed (``tools.simulate.finish_hook``)."""
    with counting_finished_cases():
        yield


def test_yellow_red_and_escalation_on_the_right_working_days_exactly_once(settings) -> None:
    item = single("441200-test-sup1", "gsj", 4)
    receipt = accepted_case(settings, item, now=MONDAY_0921)
    workflow.open_case(settings, receipt, MONDAY_0921)
    task = workflow.find_task(receipt, 0, "gsj")
    assert task.due_date == "2026-09-28"
    drain(names.queue_name("local", Queue.NOTIFY), receipt)

    first_seen: dict[str, datetime] = {}
    at = MONDAY_0921
    while at < MONDAY_0921 + timedelta(days=10):
        fire(at)
        fire(at)  # the schedule fired twice
        for level in warning_records(receipt):
            first_seen.setdefault(level, at)
        at += timedelta(hours=6)

    def china_day(moment: datetime) -> str:
        return moment.astimezone(CHINA).date().isoformat()

    # Passes run at 09:00, 15:00, 21:00 and 03:00 China time: the first pass of the day.
    assert {k: china_day(v) for k, v in first_seen.items()} == {
        "yellow": "2026-09-24", "red": "2026-09-29", "escalated": "2026-09-30"}
    assert first_seen["yellow"].astimezone(CHINA).hour == 3
    events = notify_events(receipt)
    assert sorted((e["event"], e["detail"]["level"]) for e in events) == [
        ("warning_red", "escalated"), ("warning_red", "red"), ("warning_yellow", "yellow")]
    assert all(e["department"] == "gsj" and e["detail"]["due_date"] == "2026-09-28"
               for e in events)
    assert len({e["event_id"] for e in events}) == 3
    logged = [r.data["level"] for r in caselog.records(receipt)
              if r.kind == supervision.WARNING_KIND]
    assert logged == ["yellow", "red", "escalated"]

    # The officers and the supervisors hear of it through the notify step.
    for number, event in enumerate(events):
        notifications.handle(settings, event, at, f"m-{number}")
    officers = [m for m in inbox.page("dept#gsj", limit=100)[0] if m["receipt"] == receipt]
    assert {m["event"] for m in officers} == {"warning_yellow", "warning_red"}
    supervisors = [m for m in inbox.page("role#supervisor", limit=100)[0]
                   if m["receipt"] == receipt]
    assert {m["event"] for m in supervisors} == {"warning_red"} and len(supervisors) == 2

    # Decided at last: nothing more is raised, whatever the schedule does.
    decide(settings, receipt, 0, "gsj", Decision.APPROVE, at)
    route_messages(receipt)  # the licence is not this test's concern: leave no message
    fire(at + timedelta(days=1))
    assert notify_events(receipt) == []


def test_a_stopped_clock_gets_no_warning(settings) -> None:
    item = single("441200-test-sup2", "gaj", 2)
    receipt = accepted_case(settings, item, now=MONDAY_0921)
    workflow.open_case(settings, receipt, MONDAY_0921)
    task = workflow.find_task(receipt, 0, "gaj")
    from tests.functional.test_workflow import officer

    workflow.require_correction(settings, officer("gaj"), task, [{"name": "营业执照"}], "",
                                MONDAY_0921 + timedelta(hours=1))
    fire(MONDAY_0921 + timedelta(days=3))
    assert warning_records(receipt) == {}


def test_a_pass_that_died_before_delivering_is_finished_by_the_next(settings) -> None:
    item = single("441200-test-sup3", "jsj", 1)
    receipt = accepted_case(settings, item, now=MONDAY_0921)
    workflow.open_case(settings, receipt, MONDAY_0921)
    drain(names.queue_name("local", Queue.NOTIFY), receipt)
    at = MONDAY_0921 + timedelta(hours=1)
    warning = Warning(receipt, "00#jsj", "jsj", 0, datetime(2026, 9, 22).date(), Level.YELLOW,
                      1)
    assert findings.record_warning(warning, item["code"], at)  # …and then it crashed
    fire(at + timedelta(seconds=30))  # its lease still runs: it may be delivering right now
    assert notify_events(receipt) == []
    later = at + supervision.DELIVERY_LEASE + timedelta(seconds=1)
    fire(later)
    fire(later)
    assert [e["event_id"] for e in notify_events(receipt)] == [warning.event_id]
    assert [r.kind for r in caselog.records(receipt)].count(supervision.WARNING_KIND) == 1

