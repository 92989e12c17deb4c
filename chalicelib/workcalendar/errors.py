"""Errors of the working-day calendar, each with a code and a bilingual message.

None of them is the applicant's fault, so none is a ``ClientError``: a missing year or a bad data
file is an operations problem (alarm, then import the State Council's notice), and a stopped
clock is a state the caller checks before asking for a due date.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.errors import OnestopError


class CalendarError(OnestopError):
    """Base of the working-day calendar's errors."""

    code = "CALENDAR_ERROR"

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{self.code}: {message_en}")


class CalendarUnavailable(CalendarError, LookupError):
    """A date falls in a year whose holiday schedule is not loaded; nothing is assumed."""

    code = "CALENDAR_UNAVAILABLE"

    def __init__(self, years: Iterable[int]) -> None:
        self.years = tuple(sorted(set(years)))
        zh = "、".join(f"{year}年" for year in self.years)
        en = ", ".join(str(year) for year in self.years)
        super().__init__(
            f"缺少{zh}的工作日历（国务院节假日安排），无法计算工作日",
            f"no working-day calendar for {en}: that year's State Council holiday schedule "
            "is not loaded, so working days cannot be counted",
        )


class CalendarDataError(CalendarError, ValueError):
    """A year's schedule data is malformed or contradicts itself or another year."""

    code = "CALENDAR_DATA_INVALID"

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        super().__init__(f"工作日历数据有误（{where}）：{problem}",
                         f"invalid working-day calendar data ({where}): {problem}")


class ClockStopped(CalendarError):
    """A due date was asked for while a correction pause is still open."""

    code = "CLOCK_STOPPED"

    def __init__(self) -> None:
        super().__init__("补正期间计时暂停，办结期限待申请人补正后重新计算",
                         "the clock is stopped for a correction; the due date is set again "
                         "when the applicant answers")
