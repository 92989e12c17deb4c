"""The legal working-day calendar (工作日): State Council holiday schedules, one file per year.

Weekends are off, the days off of the General Office's yearly notice (国务院办公厅关于某年
部分节假日安排的通知) are off, and the weekend days it makes working days (调休上班) are
working days. Days are China's (UTC+8). The schedules live in ``data/<year>.json``; a year
without one raises :class:`CalendarUnavailable`, and a year derived from the holiday
regulations before its notice is out is marked provisional (:meth:`WorkCalendar.is_provisional`).

Pure: no clock is read (``now`` is always a parameter) and no AWS client is used.
"""

from __future__ import annotations

from chalicelib.workcalendar.china_time import CHINA, china_date, end_of_day
from chalicelib.workcalendar.clock import DATA_DIR, Pause, WorkCalendar, is_paused
from chalicelib.workcalendar.errors import (
    CalendarDataError,
    CalendarError,
    CalendarUnavailable,
    ClockStopped,
)
from chalicelib.workcalendar.schedule import Holiday, Source, YearSchedule

__all__ = [
    "CHINA",
    "DATA_DIR",
    "CalendarDataError",
    "CalendarError",
    "CalendarUnavailable",
    "ClockStopped",
    "Holiday",
    "Pause",
    "Source",
    "WorkCalendar",
    "YearSchedule",
    "china_date",
    "end_of_day",
    "is_paused",
]
