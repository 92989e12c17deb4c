"""Pure parts of the workflow: due dates with corrections and extensions, messages, decisions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from chalicelib import workflow
from chalicelib.catalog import service_by_code
from chalicelib.routing import Decision
from chalicelib.store.tasks import CLOSED, CORRECTION, OPEN, new_task, task_key

CHINA = timezone(timedelta(hours=8))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)


def test_a_correction_across_national_day_moves_the_due_date_by_the_days_it_touched() -> None:
    # Opened Monday 28 September 2026 with 10 working days. National Day is 1-7 October and
    # Saturday 10 October is a make-up working day (国办发明电〔2025〕7号):
    # 29, 30 Sep, 8, 9, 10 (Sat), 12, 13, 14, 15, 16 Oct → due Friday 16 October.
    opened = at(date(2026, 9, 28))
    assert workflow.due_date(opened, 10) == date(2026, 10, 16)
    # 补正 asked on 30 September, answered on 9 October: the working days the pause touched
    # (30 Sep, 8 and 9 Oct) do not count, so three more are needed after 16 October, skipping
    # the weekend: 19, 20, 21 October.
    paused = workflow.pauses_of([{"from": at(date(2026, 9, 30), 15).isoformat(),
                                  "to": at(date(2026, 10, 9), 11).isoformat()}])
    assert workflow.due_date(opened, 10, pauses=paused) == date(2026, 10, 21)
    # An extension of 3 working days granted on top: 22, 23, 26 October.
    assert workflow.due_date(opened, 10, pauses=paused, extension_days=3) == date(2026, 10, 26)


def test_days_left_counts_working_days_and_goes_negative_when_late() -> None:
    assert workflow.days_left(at(date(2026, 10, 14)), "2026-10-16") == 2
    assert workflow.days_left(at(date(2026, 10, 16)), "2026-10-16") == 0
    assert workflow.days_left(at(date(2026, 10, 19)), "2026-10-16") < 0
    assert workflow.days_left(at(date(2026, 10, 19)), None) is None


def test_pauses_of_reads_stored_records_and_a_running_pause() -> None:
    start, end = at(date(2026, 9, 30)), at(date(2026, 10, 9))
    stored = [{"from": start.isoformat(), "to": end.isoformat()}]
    assert workflow.pauses_of(stored) == [(start, end)]
    later = at(date(2026, 10, 20))
    assert workflow.pauses_of(stored, later, later + timedelta(days=1))[-1] == (
        later, later + timedelta(days=1))


def _task(stage: int, department: str, state: str, decision: str | None = None) -> object:
    task = new_task("R1", stage, department, due_date="2026-12-01", working_days=5,
                    service_code="x", now=at(date(2026, 11, 23)))
    task.state = state
    task.decision = decision
    return task


def test_decisions_of_maps_tasks_to_the_mechanisms_input() -> None:
    found = workflow.decisions_of([
        _task(0, "ghj", CLOSED, "approve"), _task(0, "hbj", CORRECTION),
        _task(0, "xfzd", OPEN), _task(1, "jsj", CLOSED, "cancelled")])  # type: ignore[list-item]
    assert found == {(0, "ghj"): Decision.APPROVE, (0, "hbj"): Decision.CORRECTION}


def test_task_keys_sort_by_stage() -> None:
    assert task_key(0, "ghj") < task_key(1, "aaa") < task_key(10, "aaa")


def test_the_department_message_carries_what_an_integrator_needs_and_no_personal_data() -> None:
    item = service_by_code("441200-jsj-0005")
    assert item is not None
    task = new_task("20261123ABCDEFGHJK", 0, "ghj", due_date="2026-12-07", working_days=10,
                    service_code=item.code, now=at(date(2026, 11, 23)))
    message = workflow.task_message("task.opened", task, item.to_dict(), "https://gov.example")
    assert set(message) == {
        "kind", "version", "event_id", "task_id", "receipt", "department", "stage",
        "stage_count", "stage_departments", "lead_department", "service_code",
        "service_version", "service_name", "state", "opened_at", "working_days", "due_date",
        "decisions", "links"}
    assert message["task_id"] == "20261123ABCDEFGHJK/0/ghj"
    assert message["event_id"] == "20261123ABCDEFGHJK/0/ghj:task.opened"
    assert message["stage_count"] == 2 and message["lead_department"] == "jsj"
    assert message["decisions"] == ["approve", "correction", "deny"]
    assert message["links"]["task"] == (
        "https://gov.example/departments/ghj/tasks/20261123ABCDEFGHJK/0")
