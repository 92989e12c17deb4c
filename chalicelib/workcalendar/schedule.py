"""One year's holiday schedule as published by the State Council, parsed and checked.

Each year is one JSON document (``data/<year>.json``)::

    {"year": 2025, "provisional": false,
     "source": {"issuer": "国务院办公厅", "title": "…", "number": "国办发明电〔2024〕12号",
                "issued": "2024-11-12", "url": "https://www.gov.cn/…"},
     "note": "…",                                  # optional
     "holidays": [{"name": "春节", "name_en": "Spring Festival",
                   "start": "2025-01-28", "end": "2025-02-04",
                   "makeup_workdays": ["2025-01-26", "2025-02-08"], "note": "…"}]}

``holidays`` are the notice's numbered lines: the days off (调休 included) from ``start`` to
``end`` inclusive, and the weekend days worked instead (调休上班). ``provisional`` marks a year
whose notice is not yet published and whose file was derived from the national holiday
regulations; such a year counts, but callers can tell (and say so to their users).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from chalicelib.workcalendar.errors import CalendarDataError

# The notice numbers of the General Office's holiday notices: 国办发明电〔2024〕12号.
NOTICE_NUMBER = re.compile(r"国办发明电〔\d{4}〕\d+号")
# A notice for year Y sometimes moves a day at the edge of Y-1 or Y+1 (a make-up Saturday
# in late December); anything further away is a typo.
_EDGE = timedelta(days=31)
# The longest block in any notice so far is 9 days (春节 2026); a much longer one is a typo.
_LONGEST_BLOCK = 16
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Holiday:
    """One line of a notice: a block of days off and the weekend days worked in exchange."""

    name: str
    name_en: str
    start: date
    end: date
    makeup_workdays: tuple[date, ...] = ()
    note: str = ""

    def days(self) -> tuple[date, ...]:
        """Every day off of the block, ``start`` to ``end`` inclusive."""
        length = (self.end - self.start).days + 1
        return tuple(self.start + timedelta(days=i) for i in range(length))


@dataclass(frozen=True)
class Source:
    """Where a year's schedule comes from, so that every due date can be traced to a text."""

    issuer: str
    title: str
    number: str | None
    issued: date | None
    url: str | None


@dataclass(frozen=True)
class YearSchedule:
    """The holiday schedule of one calendar year."""

    year: int
    holidays: tuple[Holiday, ...]
    source: Source
    provisional: bool = False
    note: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> YearSchedule:
        """Parse and check one year's document.

        Raises
        ------
        CalendarDataError
            If a field is missing or malformed, a block is inverted or overlong, a make-up
            working day is not a weekend day, a day is both off and worked, a date is far
            from its year, or a schedule that is not provisional lacks a notice number.
        """
        if not isinstance(data, Mapping):
            raise CalendarDataError("?", "a year's schedule must be a JSON object")
        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1949 < year < 10000:
            raise CalendarDataError("year", f"not a year: {year!r}")
        where = str(year)
        provisional = data.get("provisional", False)
        if not isinstance(provisional, bool):
            raise CalendarDataError(where, "provisional must be true or false")
        source = _source(where, data.get("source"))
        official = source.number is not None and NOTICE_NUMBER.fullmatch(source.number)
        if not provisional and not official:
            raise CalendarDataError(
                where, "an official schedule needs its notice number (国办发明电〔YYYY〕N号); "
                "mark the year provisional if the notice is not published yet")
        rows = data.get("holidays")
        if not isinstance(rows, list) or not rows:
            raise CalendarDataError(where, "holidays must be a non-empty list")
        holidays = tuple(_holiday(f"{where}.holidays[{i}]", row) for i, row in enumerate(rows))
        schedule = cls(year=year, holidays=holidays, source=source, provisional=provisional,
                       note=_text(where, data, "note", required=False))
        schedule._check()
        return schedule

    def days_off(self) -> dict[date, str]:
        """Each day off listed by the notice, with its holiday's name."""
        return {day: holiday.name for holiday in self.holidays for day in holiday.days()}

    def makeup_workdays(self) -> dict[date, str]:
        """Each weekend day worked in exchange (调休上班), with its holiday's name."""
        return {day: holiday.name for holiday in self.holidays for day in holiday.makeup_workdays}

    def _check(self) -> None:
        where = str(self.year)
        low, high = date(self.year, 1, 1) - _EDGE, date(self.year, 12, 31) + _EDGE
        seen: dict[date, str] = {}
        for holiday in self.holidays:
            for day, kind in [(d, "off") for d in holiday.days()] + [
                    (d, "worked") for d in holiday.makeup_workdays]:
                if not low <= day <= high:
                    raise CalendarDataError(where, f"{day} ({holiday.name}) is far outside "
                                                   f"{self.year}")
                if day in seen:
                    raise CalendarDataError(where, f"{day} is listed twice ({seen[day]}, "
                                                   f"{holiday.name} {kind})")
                seen[day] = f"{holiday.name} {kind}"
            for day in holiday.makeup_workdays:
                # A make-up working day replaces a weekend day; on a weekday it would mean nothing.
                if day.weekday() < 5:
                    raise CalendarDataError(where, f"make-up working day {day} ({holiday.name}) "
                                                   "is not a Saturday or Sunday")


def _holiday(where: str, row: Any) -> Holiday:
    if not isinstance(row, Mapping):
        raise CalendarDataError(where, "a holiday must be a JSON object")
    start = _date(where, row.get("start"))
    end = _date(where, row.get("end"))
    if end < start:
        raise CalendarDataError(where, f"ends ({end}) before it starts ({start})")
    if (end - start).days >= _LONGEST_BLOCK:
        raise CalendarDataError(where, f"{start} to {end} is longer than any holiday block")
    makeup = row.get("makeup_workdays", [])
    if not isinstance(makeup, list):
        raise CalendarDataError(where, "makeup_workdays must be a list of dates")
    return Holiday(name=_text(where, row, "name"), name_en=_text(where, row, "name_en"),
                   start=start, end=end,
                   makeup_workdays=tuple(sorted(_date(where, d) for d in makeup)),
                   note=_text(where, row, "note", required=False))


def _source(where: str, data: Any) -> Source:
    if not isinstance(data, Mapping):
        raise CalendarDataError(where, "source must be an object (issuer, title, number, …)")
    issued = data.get("issued")
    return Source(issuer=_text(where, data, "issuer"), title=_text(where, data, "title"),
                  number=_text(where, data, "number", required=False) or None,
                  issued=None if issued is None else _date(where, issued),
                  url=_text(where, data, "url", required=False) or None)


def _text(where: str, data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise CalendarDataError(where, f"{key} must be a non-empty string")
    return value


def _date(where: str, value: Any) -> date:
    # date.fromisoformat also takes 20250101 and week dates; the files use one spelling only.
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise CalendarDataError(where, f"not an ISO date (YYYY-MM-DD): {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CalendarDataError(where, f"not an ISO date: {value!r}") from None
