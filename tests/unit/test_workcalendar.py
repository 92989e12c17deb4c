"""The working-day calendar against the State Council's notices, restated here independently.

The 2025 and 2026 schedules are written below a second time, as the notices' own lines, and
parsed by a small regex: the weekday each line names (（周三）) is checked against the date, so
a slip in either copy shows. Everything the calendar computes is compared with a brute-force
day-by-day walk over that second copy.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.workcalendar import (
    CHINA,
    DATA_DIR,
    CalendarDataError,
    CalendarUnavailable,
    ClockStopped,
    WorkCalendar,
    china_date,
    end_of_day,
    is_paused,
)

# 国办发明电〔2024〕12号 (2024-11-12), items 一 to 六.
NOTICE_2025 = """
一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
"""

# 国办发明电〔2025〕7号 (2025-11-04), items 一 to 七.
NOTICE_2026 = """
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
"""

_LINE = re.compile(
    r"^[一二三四五六七八九十]+、(?P<name>[^：]+)："
    r"(?P<m1>\d+)月(?P<d1>\d+)日（(?P<a1>[^）]*)）"
    r"(?:至(?:(?P<m2>\d+)月)?(?P<d2>\d+)日（(?P<a2>[^）]*)）)?"
    r"[^，]*，(?:共(?P<n>\d+)天|不调休)。?(?P<rest>.*)$"
)
_WORKED = re.compile(r"(\d+)月(\d+)日（(周.)）")
_WEEKDAYS = "一二三四五六日"


def _weekday_label(day: date, annotation: str) -> None:
    label = re.search(r"周(.)", annotation)
    assert label is not None, annotation
    assert _WEEKDAYS.index(label.group(1)) == day.weekday(), (day, annotation)


def parse_notice(year: int, text: str) -> tuple[dict[date, str], set[date]]:
    """Days off (with holiday names) and make-up working days of a notice's lines."""
    off: dict[date, str] = {}
    worked: set[date] = set()
    for line in filter(None, map(str.strip, text.splitlines())):
        m = _LINE.match(line)
        assert m is not None, line
        start = date(year, int(m["m1"]), int(m["d1"]))
        _weekday_label(start, m["a1"])
        end = start
        if m["d2"]:
            end = date(year, int(m["m2"] or m["m1"]), int(m["d2"]))
            _weekday_label(end, m["a2"])
        length = (end - start).days + 1
        assert length == int(m["n"] or 1), line
        for i in range(length):
            off[start + timedelta(days=i)] = m["name"]
        rest = m["rest"]
        assert ("上班" in rest) == bool(rest), line
        for month, day, label in _WORKED.findall(rest):
            made = date(year, int(month), int(day))
            _weekday_label(made, label)
            worked.add(made)
    return off, worked


OFF_2025, WORKED_2025 = parse_notice(2025, NOTICE_2025)
OFF_2026, WORKED_2026 = parse_notice(2026, NOTICE_2026)
OFF = OFF_2025 | OFF_2026
WORKED = WORKED_2025 | WORKED_2026
FIRST, LAST = date(2025, 1, 1), date(2026, 12, 31)


def oracle(day: date) -> bool:
    """The notices' rule, day by day."""
    assert FIRST <= day <= LAST
    return day in WORKED or (day not in OFF and day.weekday() < 5)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def brute_between(a: date, b: date) -> int:
    if b >= a:
        return sum(oracle(d) for d in days(a + timedelta(days=1), b))
    return -sum(oracle(d) for d in days(b, a - timedelta(days=1)))


def brute_due(received: date, n: int, touched: set[date]) -> date:
    day, counted = received, 0
    while counted < n:
        day += timedelta(days=1)
        if oracle(day) and day not in touched:
            counted += 1
    return day


def touched_days(pauses: list[tuple[datetime, datetime]]) -> set[date]:
    out: set[date] = set()
    for start, end in pauses:
        out.update(days(china_date(start), china_date(end)))
    return out


def packaged(year: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / f"{year}.json").read_text(encoding="utf-8"))
    return data


# The official years only: properties must not lean on the provisional 2027 file.
OFFICIAL = WorkCalendar.from_data([packaged(2025), packaged(2026)])
DEFAULT = WorkCalendar.default()

in_range = st.dates(min_value=FIRST, max_value=LAST)
# Well inside the official years, so that walks of a few months stay inside them.
inner = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 8, 31))
zones = st.sampled_from([UTC, CHINA, timezone(timedelta(hours=-5)),
                         timezone(timedelta(hours=14))])


def moments(first: date = FIRST, last: date = date(2026, 8, 31)) -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=datetime.combine(first, time()),
                        max_value=datetime.combine(last, time.max), timezones=zones)


@st.composite
def pause_lists(draw: st.DrawFn, received: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        start = received + draw(st.timedeltas(min_value=timedelta(0),
                                              max_value=timedelta(days=40)))
        end = start + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
        out.append((start, end))
    return out


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


# --------------------------------------------------------------------------- the schedules


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_official_years_matches_the_notice(year: int) -> None:
    for day in days(date(year, 1, 1), date(year, 12, 31)):
        assert OFFICIAL.is_working_day(day) is oracle(day), day
        assert DEFAULT.is_working_day(day) is oracle(day), day
        assert OFFICIAL.holiday_name(day) == OFF.get(day), day


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_working_days_per_year(year: int) -> None:
    # 365 days - 104 weekend days - 13 statutory holidays = 248 since the 2024 amendment (two
    # more holidays than the 11 of 2008-2024, when a year had the familiar 250).
    total = DEFAULT.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
    assert total == 248
    if year < 2027:
        assert sum(oracle(d) for d in days(date(year, 1, 1), date(year, 12, 31))) == 248


def test_packaged_sources_are_traceable() -> None:
    assert DEFAULT.years == (2025, 2026, 2027)
    assert DEFAULT.schedule(2025).source.number == "国办发明电〔2024〕12号"
    assert DEFAULT.schedule(2026).source.number == "国办发明电〔2025〕7号"
    for year in (2025, 2026):
        source = DEFAULT.schedule(year).source
        assert source.url is not None
        assert source.url.startswith("https://www.gov.cn/")
        assert not DEFAULT.is_provisional(year)
    assert DEFAULT.is_provisional(2027)
    assert "暂定" in DEFAULT.schedule(2027).note
    assert "Provisional" in DEFAULT.schedule(2027).note
    assert DEFAULT.provisional_years(date(2026, 12, 1), date(2027, 1, 20)) == (2027,)
    assert DEFAULT.provisional_years(date(2025, 1, 1), date(2026, 12, 31)) == ()
    assert WorkCalendar.default() is DEFAULT


def test_provisional_2027_follows_the_holiday_regulations() -> None:
    # 全国年节及纪念日放假办法 (2024): 元旦1, 春节4 (除夕 to 初三), 清明1, 劳动2, 端午1, 中秋1,
    # 国庆3 days. 2027: 除夕 Feb 5 (春节 Feb 6), 清明 Apr 5, 端午 Jun 9, 中秋 Sep 15.
    statutory = [date(2027, 1, 1), *days(date(2027, 2, 5), date(2027, 2, 8)), date(2027, 4, 5),
                 date(2027, 5, 1), date(2027, 5, 2), date(2027, 6, 9), date(2027, 9, 15),
                 *days(date(2027, 10, 1), date(2027, 10, 3))]
    assert len(statutory) == 13
    for day in statutory:
        assert not DEFAULT.is_working_day(day), day
    # 第六条: a holiday on a weekend is made up on a weekday (here right after the block).
    in_lieu = [date(2027, 2, 9), date(2027, 2, 10), date(2027, 5, 3), date(2027, 5, 4),
               date(2027, 10, 4), date(2027, 10, 5)]
    assert sum(d.weekday() >= 5 for d in statutory) == len(in_lieu)
    for day in in_lieu:
        assert day.weekday() < 5
        assert not DEFAULT.is_working_day(day), day
    off = set(statutory) | set(in_lieu)
    for day in days(date(2027, 1, 1), date(2027, 12, 31)):
        assert DEFAULT.is_working_day(day) is (day.weekday() < 5 and day not in off), day


@pytest.mark.parametrize("day", [date(2024, 12, 31), date(2028, 1, 1), date(1999, 10, 1)])
def test_a_year_without_data_is_unavailable_never_weekends_only(day: date) -> None:
    with pytest.raises(CalendarUnavailable) as exc:
        DEFAULT.is_working_day(day)
    assert exc.value.years == (day.year,)
    assert exc.value.code == "CALENDAR_UNAVAILABLE"
    assert str(day.year) in exc.value.message_zh
    assert str(day.year) in exc.value.message_en


def test_walks_off_the_data_are_unavailable() -> None:
    with pytest.raises(CalendarUnavailable) as exc:
        DEFAULT.add_working_days(date(2027, 12, 28), 5)
    assert exc.value.years == (2028,)
    with pytest.raises(CalendarUnavailable):
        DEFAULT.add_working_days(date(2025, 1, 3), -3)
    with pytest.raises(CalendarUnavailable):
        DEFAULT.due_date(at(date(2027, 12, 20)), 20)
    with pytest.raises(CalendarUnavailable):
        DEFAULT.working_days_between(date(2024, 12, 1), date(2025, 2, 1))
    with pytest.raises(CalendarUnavailable):
        OFFICIAL.is_working_day(date(2027, 1, 4))
    gap = WorkCalendar.from_data([packaged(2025), packaged(2027)])
    with pytest.raises(CalendarUnavailable) as exc:
        gap.add_working_days(date(2025, 12, 30), 3)
    assert exc.value.years == (2026,)
    with pytest.raises(CalendarUnavailable) as exc:
        gap.add_working_days(date(2027, 1, 4), -3)
    assert exc.value.years == (2026,)
    with pytest.raises(CalendarUnavailable):
        gap.schedule(2026)


# ---------------------------------------------------------------------------- properties


@given(in_range, in_range)
def test_count_between_is_brute_force(a: date, b: date) -> None:
    assert OFFICIAL.working_days_between(a, b) == brute_between(a, b)


@given(inner, st.integers(-120, 120))
def test_add_then_count_back(day: date, n: int) -> None:
    try:
        found = OFFICIAL.add_working_days(day, n)
    except CalendarUnavailable:
        assume(False)
        raise
    assert OFFICIAL.working_days_between(day, found) == n
    if n:
        assert oracle(found)
        assert (found > day) is (n > 0)
        # Nothing closer will do: one day less is one working day short.
        step = timedelta(days=1 if n > 0 else -1)
        assert abs(brute_between(day, found - step)) == abs(n) - 1


@given(inner, inner, st.integers(0, 60), st.integers(0, 60))
def test_monotonic(d1: date, d2: date, n1: int, n2: int) -> None:
    d1, d2 = sorted((d1, d2))
    n1, n2 = sorted((n1, n2))
    assert OFFICIAL.add_working_days(d1, n1) <= OFFICIAL.add_working_days(d2, n1)
    assert OFFICIAL.add_working_days(d1, n1) <= OFFICIAL.add_working_days(d1, n2)
    if n1 < n2:
        assert OFFICIAL.add_working_days(d1, n1) < OFFICIAL.add_working_days(d1, n2)
    assert OFFICIAL.working_days_between(d1, d2) >= 0


@given(moments(), st.integers(0, 60))
def test_due_date_is_brute_force(received: datetime, n: int) -> None:
    due = OFFICIAL.due_date(received, n)
    assert due == brute_due(china_date(received), n, set())
    assert OFFICIAL.working_days_used(received, end_of_day(due)) == n
    if n:
        assert oracle(due)


@given(st.data(), moments(), st.integers(1, 40))
def test_pauses_never_make_a_due_date_earlier(data: st.DataObject, received: datetime,
                                              n: int) -> None:
    pauses = data.draw(pause_lists(received))
    plain = OFFICIAL.due_date(received, n)
    try:
        paused = OFFICIAL.due_date(received, n, paused=pauses)
    except CalendarUnavailable:
        assume(False)
        raise
    assert paused >= plain
    assert paused == brute_due(china_date(received), n, touched_days(pauses))
    # A task finished on its due date used its whole limit, not a day more.
    assert OFFICIAL.working_days_used(received, end_of_day(paused), paused=pauses) == n
    more = OFFICIAL.due_date(received, n, paused=[*pauses, (received, received)])
    assert more >= paused


@given(moments(), st.integers(0, 40), st.integers(0, 10))
def test_extensions_move_the_due_date_by_exactly_their_working_days(
        received: datetime, n: int, extension: int) -> None:
    plain = OFFICIAL.due_date(received, n)
    extended = OFFICIAL.due_date(received, n, extension_days=extension)
    assert OFFICIAL.working_days_between(plain, extended) == extension
    assert extended == OFFICIAL.due_date(received, n + extension)
    assert OFFICIAL.working_days_used(received, end_of_day(extended)) == n + extension


@given(moments(), st.integers(1, 40), st.integers(0, 30))
def test_days_used_and_days_left_agree_with_the_due_date(received: datetime, n: int,
                                                         offset: int) -> None:
    due = OFFICIAL.due_date(received, n)
    finished = at(china_date(received) + timedelta(days=offset), 16)
    used = OFFICIAL.working_days_used(received, finished)
    assert used == brute_between(china_date(received), china_date(finished))
    on_time = china_date(finished) <= due
    # Early (提前办结) is fewer days than the limit; on time is by the due date: a finish on the
    # weekend after a Friday due date used no extra working day, but is late all the same.
    assert (used < n) is (china_date(finished) < due)
    if on_time:
        assert used <= n
    else:
        assert used >= n
    left = OFFICIAL.working_days_left(finished, due)
    assert (left < 0) is (not on_time)
    if on_time:
        assert left == n - used


# ------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize(("received", "limit", "due"), [
    # Friday, limit 1: the next Monday.
    (at(date(2025, 3, 7)), 1, date(2025, 3, 10)),
    (at(date(2025, 3, 7), 23, 59), 1, date(2025, 3, 10)),
    # Friday before 春节 2025: the Sunday make-up day is the first working day.
    (at(date(2025, 1, 24)), 1, date(2025, 1, 26)),
    (at(date(2025, 1, 24)), 2, date(2025, 1, 27)),
    (at(date(2025, 1, 24)), 3, date(2025, 2, 5)),
    # Across 国庆节、中秋节 2025 (Oct 1-8 off, Oct 11 Saturday worked).
    (at(date(2025, 9, 30)), 1, date(2025, 10, 9)),
    (at(date(2025, 9, 30)), 3, date(2025, 10, 11)),
    # Across the new year: 2026-01-01..03 off, Sunday Jan 4 worked.
    (at(date(2025, 12, 31)), 1, date(2026, 1, 4)),
    (at(date(2025, 12, 31)), 3, date(2026, 1, 6)),
    # Received on a holiday: counting starts the next working day all the same.
    (at(date(2026, 2, 18)), 1, date(2026, 2, 24)),
    (at(date(2026, 2, 13)), 1, date(2026, 2, 14)),
    # 即办: a limit of 0 is due the day of receipt.
    (at(date(2025, 5, 3)), 0, date(2025, 5, 3)),
    # China's day, not UTC's: 16:30Z on Thursday is 00:30 on Friday in China.
    (datetime(2025, 3, 6, 16, 30, tzinfo=UTC), 1, date(2025, 3, 10)),
    (datetime(2025, 3, 6, 15, 59, tzinfo=UTC), 1, date(2025, 3, 7)),
    (datetime(2025, 3, 7, 20, 0, tzinfo=timezone(timedelta(hours=-5))), 1, date(2025, 3, 10)),
])
def test_due_date_examples(received: datetime, limit: int, due: date) -> None:
    assert DEFAULT.due_date(received, limit) == due


def test_a_correction_stops_the_clock() -> None:
    received = at(date(2025, 3, 3))  # Monday; limit 5 is due Monday 10th
    assert DEFAULT.due_date(received, 5) == date(2025, 3, 10)
    # Requested Tuesday 16:00, answered Thursday 09:00: Tue, Wed, Thu do not count.
    pause = (at(date(2025, 3, 4), 16), at(date(2025, 3, 6), 9))
    assert DEFAULT.due_date(received, 5, paused=[pause]) == date(2025, 3, 13)
    # A pause within one day still costs that day; a pause over a weekend costs nothing.
    assert DEFAULT.due_date(received, 5, paused=[(at(date(2025, 3, 5), 9),
                                                  at(date(2025, 3, 5), 11))]) == date(2025, 3, 11)
    assert DEFAULT.due_date(received, 5, paused=[(at(date(2025, 3, 8), 9),
                                                  at(date(2025, 3, 9), 11))]) == date(2025, 3, 10)
    # Days before the clock starts are not counted anyway.
    assert DEFAULT.due_date(received, 5, paused=[(at(date(2025, 3, 3), 9),
                                                  at(date(2025, 3, 3), 11))]) == date(2025, 3, 10)
    used = DEFAULT.working_days_used(received, at(date(2025, 3, 13), 17), paused=[pause])
    assert used == 5


def test_an_open_pause_leaves_the_due_date_undetermined() -> None:
    received = at(date(2025, 3, 3))
    open_pause = [(at(date(2025, 3, 4), 16), None)]
    assert is_paused(open_pause)
    assert not is_paused([(at(date(2025, 3, 4), 16), at(date(2025, 3, 5), 9))])
    with pytest.raises(ClockStopped) as exc:
        DEFAULT.due_date(received, 5, paused=open_pause)
    assert exc.value.code == "CLOCK_STOPPED"
    assert DEFAULT.due_date_or_none(received, 5, paused=open_pause) is None
    assert DEFAULT.due_date_or_none(received, 5) == date(2025, 3, 10)
    # Days used stop counting at the request: the open pause runs until the finish.
    assert DEFAULT.working_days_used(received, at(date(2025, 3, 20)), paused=open_pause) == 0
    assert DEFAULT.working_days_used(received, at(date(2025, 3, 4), 9),
                                     paused=[(at(date(2025, 3, 5)), None)]) == 1


def test_working_days_left_yellow_and_red() -> None:
    due = date(2025, 3, 7)  # Friday
    assert DEFAULT.working_days_left(at(date(2025, 3, 5)), due) == 2
    assert DEFAULT.working_days_left(at(date(2025, 3, 6)), due) == 1  # yellow: due tomorrow
    assert DEFAULT.working_days_left(at(date(2025, 3, 7), 8), due) == 0
    assert DEFAULT.working_days_left(end_of_day(due), due) == 0
    # Red from the first instant after the due day, weekend included.
    assert DEFAULT.working_days_left(end_of_day(due) + timedelta(microseconds=1), due) == -1
    assert DEFAULT.working_days_left(at(date(2025, 3, 9)), due) == -1
    assert DEFAULT.working_days_left(at(date(2025, 3, 10)), due) == -1
    assert DEFAULT.working_days_left(at(date(2025, 3, 11)), due) == -2
    # Over a holiday: Monday before 春节 2025 due Feb 5 has 2 working days left (Jan 27, Feb 5).
    assert DEFAULT.working_days_left(at(date(2025, 1, 26)), date(2025, 2, 5)) == 2
    # A due date that stopped being a working day is still late the day after.
    assert DEFAULT.working_days_left(at(date(2025, 10, 2)), date(2025, 10, 1)) == -1


def test_end_of_day_and_china_date() -> None:
    end = end_of_day(date(2025, 1, 1))
    assert end.isoformat() == "2025-01-01T23:59:59.999999+08:00"
    assert china_date(end) == date(2025, 1, 1)
    assert china_date(end + timedelta(microseconds=1)) == date(2025, 1, 2)
    assert WorkCalendar.end_of_day(date(2025, 1, 1)) == end
    assert DEFAULT.end_of_day(date(2025, 1, 1)) == end
    assert china_date(datetime(2025, 1, 1, 16, tzinfo=UTC)) == date(2025, 1, 2)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="aware"):
        DEFAULT.due_date(datetime(2025, 3, 3, 10), 5)
    with pytest.raises(ValueError, match="negative"):
        DEFAULT.due_date(at(date(2025, 3, 3)), -1)
    with pytest.raises(ValueError, match="negative"):
        DEFAULT.due_date(at(date(2025, 3, 3)), 1, extension_days=-1)
    with pytest.raises(TypeError):
        DEFAULT.add_working_days(date(2025, 3, 3), True)
    with pytest.raises(ValueError, match="before it starts"):
        DEFAULT.due_date(at(date(2025, 3, 3)), 1, paused=[(at(date(2025, 3, 5)),
                                                          at(date(2025, 3, 4)))])
    with pytest.raises(ValueError, match="before it was received"):
        DEFAULT.working_days_used(at(date(2025, 3, 3)), at(date(2025, 3, 2)))


# ------------------------------------------------------------------------------ the data


def year_doc(**changes: object) -> dict[str, Any]:
    doc = packaged(2025)
    doc.update(changes)
    return doc


def holiday(start: str, end: str, makeup: list[str] | None = None) -> dict[str, Any]:
    return {"name": "测试", "name_en": "test", "start": start, "end": end,
            "makeup_workdays": makeup or []}


@pytest.mark.parametrize(("doc", "problem"), [
    (year_doc(holidays=[holiday("2025-01-01", "2025-01-01", ["2025-01-02"])]), "not a Saturday"),
    (year_doc(holidays=[holiday("2025-01-01", "2025-01-03"), holiday("2025-01-03", "2025-01-04")]),
     "listed twice"),
    (year_doc(holidays=[holiday("2025-01-04", "2025-01-05", ["2025-01-04"])]), "listed twice"),
    (year_doc(holidays=[holiday("2025-01-05", "2025-01-01")]), "before it starts"),
    (year_doc(holidays=[holiday("2025-01-01", "2025-02-01")]), "longer than"),
    (year_doc(holidays=[holiday("2027-01-01", "2027-01-01")]), "far outside"),
    (year_doc(holidays=[holiday("2025-1-1", "2025-01-01")]), "ISO date"),
    (year_doc(holidays=[]), "non-empty"),
    (year_doc(year="2025"), "not a year"),
    (year_doc(provisional="no"), "true or false"),
    (year_doc(source={"issuer": "国务院办公厅", "title": "某通知"}), "notice number"),
    (year_doc(source={"issuer": "国务院办公厅", "title": "某通知", "number": "2024年12号"}),
     "notice number"),
    (year_doc(source=None), "source"),
])
def test_bad_data_is_refused(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(CalendarDataError, match=problem):
        WorkCalendar.from_data([doc])


def test_provisional_data_needs_no_notice_number() -> None:
    doc = year_doc(provisional=True,
                   source={"issuer": "国务院", "title": "全国年节及纪念日放假办法"})
    calendar = WorkCalendar.from_data([doc])
    assert calendar.is_provisional(2025)


def test_years_must_not_contradict_each_other() -> None:
    with pytest.raises(CalendarDataError, match="same year"):
        WorkCalendar.from_data([packaged(2025), packaged(2025)])
    # The 2026 notice making 2025-12-27 (a Saturday) a working day is fine on its own ...
    doc = packaged(2026)
    doc["holidays"][0]["makeup_workdays"].append("2025-12-27")
    assert WorkCalendar.from_data([packaged(2025), doc]).is_working_day(date(2025, 12, 27))
    # ... but not if the 2025 schedule says that day is off.
    clash = packaged(2025)
    clash["holidays"].append(holiday("2025-12-27", "2025-12-27"))
    with pytest.raises(CalendarDataError, match="another year"):
        WorkCalendar.from_data([clash, doc])


def test_from_directory(tmp_path: Path) -> None:
    (tmp_path / "2025.json").write_text(json.dumps(packaged(2025)), encoding="utf-8")
    assert WorkCalendar.from_directory(tmp_path).years == (2025,)
    (tmp_path / "2026.json").write_text(json.dumps(packaged(2025)), encoding="utf-8")
    with pytest.raises(CalendarDataError, match="holds year 2025"):
        WorkCalendar.from_directory(tmp_path)
    (tmp_path / "2026.json").write_text("{", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="unreadable"):
        WorkCalendar.from_directory(tmp_path)
    with pytest.raises(CalendarDataError, match=r"no <year>\.json"):
        WorkCalendar.from_directory(tmp_path / "empty")
