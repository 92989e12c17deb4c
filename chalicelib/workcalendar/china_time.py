"""China's calendar day of an instant: every working day is counted in Asia/Shanghai time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

# China has one time zone and no daylight saving time since 1991, so a fixed offset is exact
# for every date we count, and needs no tz database (not every Lambda runtime ships one).
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_date(moment: datetime) -> date:
    """The calendar date in China of an aware datetime.

    Raises
    ------
    ValueError
        If ``moment`` is naive: its day in China would be a guess.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {moment.isoformat()}")
    return moment.astimezone(CHINA).date()


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in China: 23:59:59.999999+08:00."""
    return datetime.combine(day, time.max, tzinfo=CHINA)
