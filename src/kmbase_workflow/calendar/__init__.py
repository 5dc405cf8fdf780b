"""China's working-day calendar: statutory holidays off, make-up weekend days (调休) on.

A working day is a Monday-to-Friday that is not a day off under the State Council's yearly
holiday notice (国务院办公厅关于某年部分节假日安排的通知), or a Saturday or Sunday that
the notice turns into a working day. The data comes from ``holidays.China`` (holidays and
``weekend_workdays``) and from notices a host loads with
`WorkingDayCalendar.load_notice`.

**Official and provisional years.** The calendar knows the last year for which it holds an
official notice (`WorkingDayCalendar.official_through`). For a date in a later year
(or in a year with no notice), it raises `CalendarDataMissingError`
by default; with ``allow_provisional=True`` it answers from the statutory holidays that
``holidays`` projects for that year (without any make-up working days) and the caller must
mark the result provisional (`WorkingDayCalendar.is_official_span` tells).

**Speed.** Every answer is an index lookup: the calendar precomputes, over the supported
range, whether each day is a working day, the running count of working days and the list
of working days; scalar calls use plain Python lists, batch calls use numpy arrays.

>>> import datetime as dt
>>> cal = WorkingDayCalendar()
>>> cal.is_working_day(dt.date(2023, 10, 7))  # a make-up Saturday after National Day
True
>>> cal.add_working_days(dt.date(2023, 9, 28), 1)  # 29 Sep - 6 Oct 2023 were days off
datetime.date(2023, 10, 7)
>>> cal.count_working_days(dt.date(2025, 9, 30), dt.date(2025, 10, 11))  # 9, 10, 11 Oct
3

The package's rooms: ``_working_days`` (the calendar and its official horizon) and
``_notices`` (holiday notices as data, read and checked).
"""

from __future__ import annotations

from ._notices import HolidayNotice, NoticeDay, SpecialDay
from ._working_days import (
    FIRST_SUPPORTED_YEAR,
    WorkingDayCalendar,
    default_calendar,
    holidays_official_through,
)

# Importable from here as before the package, outside __all__.
from ._working_days import DateArray as DateArray  # isort: skip

__all__ = [
    "FIRST_SUPPORTED_YEAR",
    "HolidayNotice",
    "NoticeDay",
    "SpecialDay",
    "WorkingDayCalendar",
    "default_calendar",
    "holidays_official_through",
]
