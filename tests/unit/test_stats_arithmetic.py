"""Statistics arithmetic: periods, scopes, what a finished case counts, the published rates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chalicelib import stats
from chalicelib.stats import FinishedCase
from chalicelib.workcalendar import CHINA, WorkCalendar

CAL = WorkCalendar.default()


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA).astimezone(UTC)


def test_periods_scopes_and_shards() -> None:
    assert stats.periods(date(2026, 11, 23)) == ("d2026-11-23", "m2026-11", "y2026")
    assert stats.scopes("gsj", "441200-gsj-0001") == ("all", "dept#gsj",
                                                      "item#gsj#441200-gsj-0001")
    assert {stats.shard(f"R{i}") for i in range(200)} == set(range(stats.STATS_SHARDS))
    assert stats.parse_period("2026") == "y2026"
    assert stats.parse_period("2026-02") == "m2026-02"
    assert stats.parse_period("2026-02-30") is None
    assert stats.parse_period("202") is None
    assert len(stats.sub_periods("m2026-02")) == 28
    assert stats.sub_periods("y2026")[-1] == "m2026-12"


def test_every_counter_is_a_model_attribute() -> None:
    from chalicelib.store.models import StatsModel

    attributes = set(StatsModel.get_attributes())
    assert set(stats.COUNTERS) <= attributes


def test_a_finished_case_counts_on_time_early_or_overdue() -> None:
    early = stats.finished_increments(FinishedCase("APPROVED", 3, 2, 0))
    assert early == {"finished": 1, "approved": 1, "on_time": 1, "early": 1, "days_used": 2}
    on_the_day = stats.finished_increments(FinishedCase("DENIED", 0, 5, 1))
    assert on_the_day == {"finished": 1, "denied": 1, "on_time": 1, "days_used": 5,
                          "corrections": 1}
    late = stats.finished_increments(FinishedCase("APPROVED", -2, 7, 0))
    assert late["overdue"] == 1 and "on_time" not in late


def test_finished_case_facts_from_stored_fields() -> None:
    started = at(date(2026, 9, 21))  # Monday
    due = "2026-09-28"
    # Decided Thursday: Friday is a holiday, so one working day (Monday) was still left.
    case = stats.finished_case("APPROVED", at(date(2026, 9, 24)), due, started, [], CAL)
    assert (case.early_days, case.days_used, case.corrections) == (1, 3, 0)
    # A correction round from Tuesday to Wednesday: those working days do not count.
    paused = [(at(date(2026, 9, 22)), at(date(2026, 9, 23)))]
    case = stats.finished_case("APPROVED", at(date(2026, 9, 24)), due, started, paused, CAL)
    assert (case.days_used, case.corrections) == (1, 1)
    # The workflow's own early_days wins.
    assert stats.finished_case("APPROVED", at(date(2026, 9, 24)), due, started, [], CAL,
                               early_days=5).early_days == 5


def test_figures_are_the_published_rates() -> None:
    cases = [FinishedCase("APPROVED", 2, 3, 0)] * 64 + [FinishedCase("APPROVED", 0, 5, 1)] * 36
    counters = stats.recompute(cases)
    shown = stats.figures(counters)
    assert shown["on_time_rate"] == 1.0 and shown["early_rate"] == 0.64
    assert shown["avg_working_days"] == round((64 * 3 + 36 * 5) / 100, 2)
    assert shown["avg_corrections"] == 0.36
    assert stats.figures({})["on_time_rate"] is None
    assert "yellow" not in stats.public_figures(counters)


def test_shards_add_up() -> None:
    assert stats.add({"finished": 2, "early": 1}, {"finished": 3})["finished"] == 5
    assert stats.rating_increments(1, True) == {"rated": 1, "rating_sum": 1, "rating_low": 1}
