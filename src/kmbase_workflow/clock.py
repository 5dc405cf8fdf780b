"""Injected time: every "now" and "today" of the library comes from a `Clock`.

The library never reads the system clock except inside `SystemClock`, so tests and
simulations can move time with a `FixedClock`. Every instant is aware and expressed
in `TIMEZONE` (Asia/Shanghai): "today" for a Kunming office is the Chinese calendar day.

>>> clock = FixedClock(dt.date(2025, 9, 26))
>>> clock.now().isoformat()
'2025-09-26T00:00:00+08:00'
>>> clock.advance(days=3, hours=10)
>>> today(clock)
datetime.date(2025, 9, 29)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Protocol, runtime_checkable

import pendulum

from ._i18n import Text
from .errors import InvalidInputError

__all__ = ["TIMEZONE", "Clock", "FixedClock", "SystemClock", "today"]

TIMEZONE = "Asia/Shanghai"
"""The time zone of every "now" and "today" in the library."""


@runtime_checkable
class Clock(Protocol):
    """Something that tells the time."""

    def now(self) -> pendulum.DateTime:
        """The current instant, aware, in `TIMEZONE`."""
        ...


class SystemClock:
    """The real clock (the only place the library reads the system time)."""

    def now(self) -> pendulum.DateTime:
        """The current instant in `TIMEZONE`."""
        return pendulum.now(TIMEZONE)


def _to_shanghai(value: dt.date | dt.datetime) -> pendulum.DateTime:
    """An aware Asia/Shanghai instant; naive values are read as Asia/Shanghai wall time."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return pendulum.instance(value, tz=TIMEZONE)
        return pendulum.instance(value).in_timezone(TIMEZONE)
    if isinstance(value, dt.date):
        return pendulum.datetime(value.year, value.month, value.day, tz=TIMEZONE)
    raise InvalidInputError(
        Text(
            zh=f"时钟只接受日期或日期时间，收到 {type(value).__name__}",
            en=f"a clock accepts a date or datetime, got {type(value).__name__}",
        ),
        hint=Text(zh="请传入 datetime.date 或 datetime.datetime", en="pass a date or datetime"),
    )


class FixedClock:
    """A clock that stands still until moved: for tests, simulations and replays.

    Naive dates and datetimes are read as Asia/Shanghai wall time; aware datetimes are
    converted to Asia/Shanghai.
    """

    def __init__(self, start: dt.date | dt.datetime) -> None:
        self._now = _to_shanghai(start)

    def now(self) -> pendulum.DateTime:
        """The instant the clock was set to."""
        return self._now

    def set(self, value: dt.date | dt.datetime) -> None:
        """Move the clock to ``value`` (forwards or backwards)."""
        self._now = _to_shanghai(value)

    def advance(
        self,
        *,
        years: int = 0,
        months: int = 0,
        weeks: int = 0,
        days: int = 0,
        hours: int = 0,
        minutes: int = 0,
        seconds: float = 0,
        microseconds: int = 0,
    ) -> None:
        """Move the clock forwards (negative values move it back), as ``pendulum`` adds."""
        self._now = self._now.add(
            years=years,
            months=months,
            weeks=weeks,
            days=days,
            hours=hours,
            minutes=minutes,
            seconds=seconds,
            microseconds=microseconds,
        )

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()!r})"


def today(clock: Clock) -> dt.date:
    """The calendar day in Asia/Shanghai at the clock's current instant (a plain date)."""
    now = clock.now()
    zone = now.tzinfo
    # Converting is the slow part, and the bundled clocks already answer in TIMEZONE.
    if not (isinstance(zone, zoneinfo.ZoneInfo) and zone.key == TIMEZONE):
        now = now.in_timezone(TIMEZONE)
    return dt.date(now.year, now.month, now.day)
