"""The supervision rules as pure functions: deadline levels on the legal calendar, findings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib import supervision_rules as rules
from chalicelib.supervision_rules import Level, Policy, Rule, TaskFacts
from chalicelib.workcalendar import CHINA, WorkCalendar

CAL = WorkCalendar.default()
# 2026: Mid-Autumn Festival Fri 25 – Sun 27 September; National Day 1–7 October, with Sunday
# 20 September and Saturday 10 October made working days (调休).
DUE_AFTER_HOLIDAY = date(2026, 9, 28)  # a Monday, after a holiday Friday and a weekend


def china(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA).astimezone(UTC)


def task(due: date, **kw: object) -> TaskFacts:
    fields: dict[str, object] = {"receipt": "20260901ABCDEFGHJK", "task_key": "00#gsj",
                                 "department": "gsj", "stage": 0, "state": "open",
                                 "due_date": due}
    fields.update(kw)
    return TaskFacts(**fields)  # type: ignore[arg-type]


def levels_by_day(due: date, first: date, last: date) -> dict[date, Level | None]:
    found = {}
    day = first
    while day <= last:
        found[day] = rules.level(CAL, china(day), due)[0]
        day += timedelta(days=1)
    return found


def test_yellow_on_the_working_day_before_a_weekend_and_a_holiday() -> None:
    by_day = levels_by_day(DUE_AFTER_HOLIDAY, date(2026, 9, 21), date(2026, 10, 2))
    assert by_day[date(2026, 9, 23)] is None  # Wednesday: two working days left
    # Thursday 24th is the last working day before Monday (Friday is the festival).
    assert [d for d, lvl in by_day.items() if lvl is Level.YELLOW] == [
        date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27),
        date(2026, 9, 28)]
    assert by_day[date(2026, 9, 29)] is Level.RED
    # Still open after Tuesday, a whole working day past the red card: escalated.
    assert by_day[date(2026, 9, 30)] is Level.ESCALATED


def test_a_make_up_working_day_counts() -> None:
    due = date(2026, 10, 8)  # the Thursday after National Day
    assert rules.level(CAL, china(date(2026, 9, 29)), due)[0] is None
    assert rules.level(CAL, china(date(2026, 9, 30)), due)[0] is Level.YELLOW
    assert rules.level(CAL, china(date(2026, 10, 9)), due)[0] is Level.RED
    # Saturday 10 October is a working day (调休): Friday went by, still open.
    assert rules.level(CAL, china(date(2026, 10, 10)), due)[0] is Level.ESCALATED


def test_the_day_changes_at_midnight_china_time() -> None:
    thursday = datetime(2026, 9, 24, tzinfo=CHINA)
    assert rules.level(CAL, thursday - timedelta(seconds=1), DUE_AFTER_HOLIDAY)[0] is None
    assert rules.level(CAL, thursday, DUE_AFTER_HOLIDAY)[0] is Level.YELLOW


def test_watch_until_covers_exactly_the_yellow_window() -> None:
    today = date(2026, 9, 24)
    last = rules.watch_until(CAL, today)
    assert last == date(2026, 9, 28)
    assert rules.level(CAL, china(today), last)[0] is Level.YELLOW
    assert rules.level(CAL, china(today), last + timedelta(days=1))[0] is None
    assert rules.watch_until(CAL, today, Policy(yellow_working_days=0)) == date(2026, 9, 27)


def test_warnings_for_a_task() -> None:
    assert rules.warnings_for(task(DUE_AFTER_HOLIDAY), CAL, china(date(2026, 9, 22))) == []
    [yellow] = rules.warnings_for(task(DUE_AFTER_HOLIDAY), CAL, china(date(2026, 9, 24)))
    assert (yellow.level, yellow.working_days_left, yellow.event) == (
        Level.YELLOW, 1, "warning_yellow")
    late = rules.warnings_for(task(DUE_AFTER_HOLIDAY), CAL, china(date(2026, 10, 9)))
    assert [w.level for w in late] == [Level.RED, Level.ESCALATED]
    assert {w.event for w in late} == {"warning_red"}
    assert len({w.key for w in late}) == 2 and len({w.event_id for w in late}) == 2
    # A stopped clock (补正) or a decided task gets no warning.
    assert rules.warnings_for(task(DUE_AFTER_HOLIDAY, state="correction"), CAL,
                              china(date(2026, 10, 9))) == []


def test_a_moved_due_date_warns_again() -> None:
    first = rules.warnings_for(task(date(2026, 9, 28)), CAL, china(date(2026, 9, 28)))
    extended = rules.warnings_for(task(date(2026, 10, 12)), CAL, china(date(2026, 10, 11)))
    assert first[0].key != extended[0].key


def test_escalation_delay_is_configurable() -> None:
    slow = Policy(escalate_after_working_days=3)
    assert rules.level(CAL, china(date(2026, 9, 30)), DUE_AFTER_HOLIDAY, slow)[0] is Level.RED
    assert rules.level(CAL, china(date(2026, 10, 9)), DUE_AFTER_HOLIDAY, slow)[0] is \
        Level.ESCALATED


@pytest.mark.parametrize(("reason", "found"), [
    ("", True), ("  ", True), ("无", True), ("不符合条件", True), ("N/A", True),
    ("用地性质与规划不符，不予许可", False), ("消防通道宽度不足4米", False)])
def test_denial_without_reason(reason: str, found: bool) -> None:
    denied = task(DUE_AFTER_HOLIDAY, state="closed", decision="deny", detail={"reason": reason},
                  decided_by="fp:officer", closed_at=china(date(2026, 9, 22)))
    finding = rules.denial_without_reason(denied)
    assert (finding is not None) is found
    if finding:
        assert finding.rule is Rule.DENIAL_WITHOUT_REASON
        assert finding.evidence["decided_by"] == "fp:officer"
        assert finding.finding_id == "20260901ABCDEFGHJK.DENIAL_WITHOUT_REASON.s00-gsj"
        assert rules.parse_finding_id(finding.finding_id) == (
            "20260901ABCDEFGHJK", Rule.DENIAL_WITHOUT_REASON, "s00-gsj")
    assert rules.denial_without_reason(task(DUE_AFTER_HOLIDAY, decision="approve")) is None


def test_fee_above_standard() -> None:
    charged = task(DUE_AFTER_HOLIDAY, state="closed", decision="approve",
                   detail={"fee_yuan": "30.00"})
    finding = rules.fee_above_standard(charged, "20.00", "居民身份证工本费每证20元")
    assert finding is not None and finding.evidence["charged_yuan"] == "30.00"
    assert finding.evidence["standard_yuan"] == "20.00"
    assert rules.fee_above_standard(charged, "30.00") is None
    assert rules.fee_above_standard(charged, None) is None  # a formula: left to auditors
    assert rules.fee_above_standard(task(DUE_AFTER_HOLIDAY), "0.00") is None  # nothing charged
    assert rules.fee_above_standard(task(DUE_AFTER_HOLIDAY, detail={"fee_yuan": 1.5}),
                                    "0.00") is None  # floats never carry money
    assert rules.fee_above_standard(task(DUE_AFTER_HOLIDAY, detail={"fee_yuan": 1}),
                                    "0.00") is not None


def test_stage_overdue_even_when_the_case_is_on_time() -> None:
    on_time = task(DUE_AFTER_HOLIDAY, state="closed", decision="approve",
                   closed_at=china(DUE_AFTER_HOLIDAY, 17))
    assert rules.stage_overdue(on_time, CAL) is None
    late = task(DUE_AFTER_HOLIDAY, state="closed", decision="approve",
                closed_at=china(date(2026, 9, 30)))
    finding = rules.stage_overdue(late, CAL)
    assert finding is not None and finding.evidence["working_days_late"] == 2
    cancelled = task(DUE_AFTER_HOLIDAY, state="closed", decision="cancelled",
                     closed_at=china(date(2026, 9, 30)))
    assert rules.stage_overdue(cancelled, CAL) is None


def test_repeated_correction() -> None:
    once = ({"at": "2026-09-21T01:00:00+00:00", "by": "fp:a", "missing": [{"name": "图纸"}]},)
    assert rules.repeated_correction(task(DUE_AFTER_HOLIDAY, corrections=once)) is None
    twice = (*once, {"at": "2026-09-23T01:00:00+00:00", "by": "fp:a",
                     "missing": [{"name": "营业执照"}]})
    finding = rules.repeated_correction(task(DUE_AFTER_HOLIDAY, corrections=twice))
    assert finding is not None and finding.evidence["rounds"] == 2
    assert [r["missing"] for r in finding.evidence["requests"]] == [["图纸"], ["营业执照"]]
    assert rules.repeated_correction(task(DUE_AFTER_HOLIDAY, corrections=twice),
                                     Policy(max_correction_rounds=2)) is None


def test_low_rating() -> None:
    at = datetime(2026, 9, 30, tzinfo=UTC)
    assert rules.low_rating("R", "gsj", 3, "", at) is None
    finding = rules.low_rating("R", "gsj", 2, "态度差", at)
    assert finding is not None and finding.subject == "case"


def test_review_collects_every_rule_once_per_task() -> None:
    late_denial = task(DUE_AFTER_HOLIDAY, state="closed", decision="deny", detail={},
                       closed_at=china(date(2026, 9, 30)))
    findings = rules.review([late_denial, task(DUE_AFTER_HOLIDAY)], CAL)
    assert {f.rule for f in findings} == {Rule.DENIAL_WITHOUT_REASON, Rule.STAGE_OVERDUE}


def test_rules_import_no_aws() -> None:
    import subprocess
    import sys

    code = ("import sys, chalicelib.supervision_rules, chalicelib.stats, chalicelib.audit; "
            "bad = [m for m in ('boto3', 'botocore', 'pynamodb') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_policy_from_the_environment() -> None:
    assert Policy.from_mapping({}) == Policy()
    policy = Policy.from_mapping({"ONESTOP_SUPERVISION_ESCALATE_AFTER_WORKING_DAYS": "3",
                                  "ONESTOP_SUPERVISION_LOW_RATING": "1", "OTHER": "x"})
    assert (policy.escalate_after_working_days, policy.low_rating) == (3, 1)
    with pytest.raises(ValueError, match="whole number"):
        Policy.from_mapping({"ONESTOP_SUPERVISION_YELLOW_WORKING_DAYS": "-1"})
