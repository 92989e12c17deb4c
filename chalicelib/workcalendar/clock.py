"""The legal working-day clock: due dates, days used and days left, on the holiday schedules.

Counting rules (行政许可法 第八十二条: time limits are in working days, not counting holidays):

* A working day is a Monday to Friday that is not a day off of the State Council's notice, or a
  weekend day the notice makes a working day (调休上班). Days are China's (UTC+8).
* Counting starts the working day after receipt (受理次日起算): with a limit of N, the due date
  is the N-th working day after the day of receipt, and the task is on time if it is finished
  by the end of that day. A limit of 0 (即办) is due on the day of receipt.
* A correction (补正) stops the clock from the request until the applicant answers: a working
  day touched by a pause, even for a minute, does not count. While a pause is open the due date
  is not determined (:func:`is_paused`; :meth:`WorkCalendar.due_date` raises
  :class:`ClockStopped`, :meth:`WorkCalendar.due_date_or_none` answers ``None``).
* An extension (延期) adds working days to the limit.
* A date in a year without a loaded schedule raises :class:`CalendarUnavailable`; weekends-only
  is never assumed.

``working_days_between(a, b)`` counts the working days one steps onto walking from ``a`` to
``b``: those in ``(a, b]`` forwards, minus those in ``[b, a)`` backwards; so
``working_days_between(d, add_working_days(d, n)) == n`` for every ``d`` and ``n``.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.workcalendar.china_time import china_date, end_of_day
from chalicelib.workcalendar.errors import CalendarDataError, CalendarUnavailable, ClockStopped
from chalicelib.workcalendar.schedule import YearSchedule

DATA_DIR = Path(__file__).parent / "data"

# A correction pause: from the request to the applicant's answer (None while still waiting).
Pause = tuple[datetime, datetime | None]
_DAY = timedelta(days=1)


def is_paused(paused: Iterable[Pause]) -> bool:
    """Whether a correction pause is still open (its due date is not determined)."""
    return any(end is None for _, end in paused)


class WorkCalendar:
    """Working days on the State Council's holiday schedules, one schedule per year."""

    end_of_day = staticmethod(end_of_day)

    def __init__(self, schedules: Iterable[YearSchedule]) -> None:
        years: dict[int, YearSchedule] = {}
        off: dict[date, str] = {}
        worked: dict[date, str] = {}
        for schedule in schedules:
            if schedule.year in years:
                raise CalendarDataError(str(schedule.year), "two schedules for the same year")
            years[schedule.year] = schedule
            # A notice may move a day of the neighbouring year; two notices must not disagree.
            for day, name in schedule.days_off().items():
                if day in worked:
                    raise CalendarDataError(str(schedule.year), f"{day} is off here but worked "
                                                                "in another year's schedule")
                off[day] = name
            for day, name in schedule.makeup_workdays().items():
                if day in off:
                    raise CalendarDataError(str(schedule.year), f"{day} is worked here but off "
                                                                "in another year's schedule")
                worked[day] = name
        self._years = dict(sorted(years.items()))
        self._off = off
        self._worked = worked
        # Ordinals of every working day of the covered years, ascending: counting is bisection.
        self._working: list[int] = []
        for year in self._years:
            day = date(year, 1, 1)
            while day.year == year:
                if self._status(day):
                    self._working.append(day.toordinal())
                day += _DAY

    @classmethod
    def default(cls) -> WorkCalendar:
        """The calendar of the schedules packaged under ``data/`` (loaded once per process)."""
        return _packaged()

    @classmethod
    def from_data(cls, years: Iterable[Mapping[str, Any]]) -> WorkCalendar:
        """A calendar of year documents (the shape of ``data/<year>.json``).

        Raises
        ------
        CalendarDataError
            If a document is malformed, or two documents contradict each other.
        """
        return cls(YearSchedule.from_dict(data) for data in years)

    @classmethod
    def from_directory(cls, path: Path) -> WorkCalendar:
        """A calendar of the ``<year>.json`` files in ``path``."""
        schedules = []
        for file in sorted(path.glob("*.json")):
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CalendarDataError(file.name, f"unreadable: {exc}") from exc
            schedule = YearSchedule.from_dict(data)
            if file.stem != str(schedule.year):
                raise CalendarDataError(file.name, f"holds year {schedule.year}")
            schedules.append(schedule)
        if not schedules:
            raise CalendarDataError(str(path), "no <year>.json schedule")
        return cls(schedules)

    def __repr__(self) -> str:
        return f"WorkCalendar(years={list(self._years)})"

    # ------------------------------------------------------------------------ the schedules

    @property
    def years(self) -> tuple[int, ...]:
        """The years this calendar can count in, ascending."""
        return tuple(self._years)

    def schedule(self, year: int) -> YearSchedule:
        """The schedule of ``year`` (with its source notice).

        Raises
        ------
        CalendarUnavailable
            If no schedule is loaded for ``year``.
        """
        try:
            return self._years[year]
        except KeyError:
            raise CalendarUnavailable([year]) from None

    def is_provisional(self, year: int) -> bool:
        """Whether ``year`` is counted on provisional data (its notice not yet imported)."""
        return self.schedule(year).provisional

    def provisional_years(self, start: date, end: date) -> tuple[int, ...]:
        """The years from ``start`` to ``end`` counted on provisional data (to flag a due date)."""
        first, last = sorted((start.year, end.year))
        return tuple(y for y in range(first, last + 1)
                     if y in self._years and self._years[y].provisional)

    # ------------------------------------------------------------------------------- days

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (工作日).

        Raises
        ------
        CalendarUnavailable
            If ``day``'s year has no schedule.
        """
        self._require(day, day)
        return self._status(day)

    def holiday_name(self, day: date) -> str | None:
        """The holiday ``day`` is a day off of (``None`` for weekends and ordinary days)."""
        self._require(day, day)
        return self._off.get(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (before it if ``n`` is negative).

        ``day`` itself never counts; ``n == 0`` answers ``day`` unchanged.

        Raises
        ------
        CalendarUnavailable
            If the walk crosses a year without a schedule.
        """
        _check_int(n, "n", allow_negative=True)
        if n == 0:
            return day
        if n > 0:
            index = bisect_right(self._working, day.toordinal()) + n - 1
            if index >= len(self._working):
                raise CalendarUnavailable(self._missing(day + _DAY, forward=True))
            found = date.fromordinal(self._working[index])
            self._require(day + _DAY, found)
            return found
        index = bisect_left(self._working, day.toordinal()) + n
        if index < 0:
            raise CalendarUnavailable(self._missing(day - _DAY, forward=False))
        found = date.fromordinal(self._working[index])
        self._require(found, day - _DAY)
        return found

    def working_days_between(self, start: date, end: date) -> int:
        """Working days stepped onto from ``start`` to ``end``.

        Those in ``(start, end]`` if ``end >= start``, else minus those in ``[end, start)``.

        Raises
        ------
        CalendarUnavailable
            If a day counted is in a year without a schedule.
        """
        if end >= start:
            self._require(start + _DAY, end)
            return (bisect_right(self._working, end.toordinal())
                    - bisect_right(self._working, start.toordinal()))
        self._require(end, start - _DAY)
        return -(bisect_left(self._working, start.toordinal())
                 - bisect_left(self._working, end.toordinal()))

    # ------------------------------------------------------------------------ the clock

    def due_date(self, received_at: datetime, working_days: int, *,
                 paused: Sequence[Pause] = (), extension_days: int = 0) -> date:
        """The last day on which work accepted at ``received_at`` is still on time.

        Parameters
        ----------
        received_at
            When the clock started (aware; its day in China is the day of receipt).
        working_days
            The time limit; counting starts the working day after receipt.
        paused
            Correction pauses ``(requested_at, answered_at)``; working days they touch do not
            count.
        extension_days
            Working days added by approved extensions.

        Raises
        ------
        ClockStopped
            If a pause is still open (``answered_at`` is ``None``); see :meth:`due_date_or_none`.
        CalendarUnavailable
            If the count reaches a year without a schedule.
        ValueError
            For a naive datetime, a negative limit, or a pause that ends before it starts.
        """
        _check_int(working_days, "working_days")
        _check_int(extension_days, "extension_days")
        if is_paused(paused):
            raise ClockStopped()
        start = china_date(received_at)
        skip = self._paused_working_days(paused, until=None)
        return self._nth_counted_day(start, working_days + extension_days, skip)

    def due_date_or_none(self, received_at: datetime, working_days: int, *,
                         paused: Sequence[Pause] = (), extension_days: int = 0) -> date | None:
        """:meth:`due_date`, or ``None`` while a correction pause is open."""
        if is_paused(paused):
            return None
        return self.due_date(received_at, working_days, paused=paused,
                             extension_days=extension_days)

    def working_days_used(self, received_at: datetime, finished_at: datetime, *,
                          paused: Sequence[Pause] = ()) -> int:
        """Working days counted from receipt to the end of the day of ``finished_at``.

        Counted as :meth:`due_date` counts, so work finished on its due date used exactly its
        limit (plus extensions) and work finished earlier (提前办结) used fewer. On time is
        decided by the date (finished by the end of the due date): a finish on the weekend after
        a Friday due date uses no extra working day but is late. A pause still open runs until
        ``finished_at``.

        Raises
        ------
        CalendarUnavailable
            If a day counted is in a year without a schedule.
        ValueError
            For a naive datetime, or ``finished_at`` on a day before the day of receipt.
        """
        start, finish = china_date(received_at), china_date(finished_at)
        if finish < start:
            raise ValueError(f"finished ({finish}) before it was received ({start})")
        total = self.working_days_between(start, finish)
        skip = self._paused_working_days(paused, until=finished_at)
        first, last = start.toordinal(), finish.toordinal()
        return total - sum(1 for day in skip if first < day <= last)

    def working_days_left(self, now: datetime, due: date) -> int:
        """Working days left at ``now`` until the end of ``due``.

        0 on the due day, 1 when only the due day remains after today (the supervision
        yellow warning), negative when overdue (the red card): -1 from the day after ``due``
        through the next working day, and so on.

        Raises
        ------
        CalendarUnavailable
            If a day counted is in a year without a schedule.
        """
        today = china_date(now)
        left = self.working_days_between(today, due)
        # A due date that is no longer a working day (a schedule replaced since it was set)
        # could count 0 the day after; past the due date is late whatever the count.
        return min(left, -1) if today > due else left

    # ------------------------------------------------------------------------ internals

    def _status(self, day: date) -> bool:
        if day in self._worked:
            return True
        if day in self._off:
            return False
        return day.weekday() < 5

    def _require(self, first: date, last: date) -> None:
        if first > last:
            return
        missing = [y for y in range(first.year, last.year + 1) if y not in self._years]
        if missing:
            raise CalendarUnavailable(missing)

    def _missing(self, day: date, *, forward: bool) -> list[int]:
        """The uncovered years met walking from ``day`` until the covered years run out."""
        if forward:
            stop = max(self._years, default=day.year) + 1
            years = range(day.year, max(stop, day.year) + 1)
        else:
            stop = min(self._years, default=day.year) - 1
            years = range(min(stop, day.year), day.year + 1)
        return [y for y in years if y not in self._years]

    def _paused_working_days(self, paused: Sequence[Pause], *,
                             until: datetime | None) -> set[int]:
        """Ordinals of the working days touched by the pauses (an open one runs to ``until``)."""
        touched: set[int] = set()
        for requested_at, answered_at in paused:
            end = answered_at if answered_at is not None else until
            if end is None:
                raise ClockStopped()
            first, last = china_date(requested_at), china_date(end)
            if last < first:
                if answered_at is None:
                    continue  # opened after the moment of interest: touches nothing before it
                raise ValueError(f"a pause ends ({end.isoformat()}) before it starts "
                                 f"({requested_at.isoformat()})")
            lo = bisect_left(self._working, first.toordinal())
            hi = bisect_right(self._working, last.toordinal())
            touched.update(self._working[lo:hi])
        return touched

    def _nth_counted_day(self, start: date, n: int, skip: set[int]) -> date:
        """The ``n``-th working day after ``start`` that is not in ``skip``."""
        if n == 0:
            return start
        counted = 0
        for index in range(bisect_right(self._working, start.toordinal()), len(self._working)):
            ordinal = self._working[index]
            if ordinal in skip:
                continue
            counted += 1
            if counted == n:
                found = date.fromordinal(ordinal)
                self._require(start + _DAY, found)
                return found
        raise CalendarUnavailable(self._missing(start + _DAY, forward=True))


def _check_int(value: int, name: str, *, allow_negative: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0 and not allow_negative:
        raise ValueError(f"{name} must not be negative, got {value}")


@cache
def _packaged() -> WorkCalendar:
    return WorkCalendar.from_directory(DATA_DIR)
