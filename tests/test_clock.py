"""The injected clock: Asia/Shanghai, aware, movable."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from kmbase_workflow.clock import TIMEZONE, Clock, FixedClock, SystemClock, today
from kmbase_workflow.errors import InvalidInputError


def test_naive_date_is_midnight_in_shanghai() -> None:
    clock = FixedClock(dt.date(2025, 9, 26))
    assert clock.now() == pendulum.datetime(2025, 9, 26, tz=TIMEZONE)
    assert clock.now().utcoffset() == dt.timedelta(hours=8)


def test_naive_datetime_is_shanghai_wall_time() -> None:
    clock = FixedClock(dt.datetime(2025, 9, 26, 23, 30))
    assert clock.now().isoformat() == "2025-09-26T23:30:00+08:00"


def test_aware_datetime_is_converted_so_today_is_the_shanghai_day() -> None:
    # 20:00 UTC on 31 Dec is already 1 January in Kunming.
    clock = FixedClock(dt.datetime(2025, 12, 31, 20, 0, tzinfo=dt.UTC))
    assert today(clock) == dt.date(2026, 1, 1)


def test_set_and_advance_move_the_clock() -> None:
    clock = FixedClock(dt.date(2025, 1, 31))
    clock.advance(months=1)
    assert today(clock) == dt.date(2025, 2, 28)
    clock.advance(days=-1, hours=25)
    assert today(clock) == dt.date(2025, 2, 28)
    assert clock.now().hour == 1
    clock.set(dt.date(2030, 6, 1))
    assert today(clock) == dt.date(2030, 6, 1)


def test_today_is_a_plain_date() -> None:
    result = today(FixedClock(dt.date(2024, 2, 29)))
    assert type(result) is dt.date


def test_system_clock_is_aware_in_shanghai() -> None:
    now = SystemClock().now()
    assert now.utcoffset() == dt.timedelta(hours=8)
    assert now.timezone_name == TIMEZONE


def test_clocks_satisfy_the_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FixedClock(dt.date(2025, 1, 1)), Clock)


def test_fixed_clock_rejects_non_dates() -> None:
    with pytest.raises(InvalidInputError) as info:
        FixedClock("2025-01-01")  # type: ignore[arg-type]
    assert "date" in info.value.describe("en")


class _ClockInOtherZones:
    """A host's clock that answers in whatever zone it likes (the protocol asks for
    Asia/Shanghai; ``today`` must not trust it)."""

    def __init__(self, now: pendulum.DateTime) -> None:
        self._now = now

    def now(self) -> pendulum.DateTime:
        return self._now


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (pendulum.datetime(2025, 6, 19, 20, 0, tz="UTC"), dt.date(2025, 6, 20)),
        (pendulum.datetime(2025, 6, 20, 7, 59, tz="Asia/Tokyo"), dt.date(2025, 6, 20)),
        (pendulum.datetime(2025, 6, 20, 0, 30, tz="Asia/Shanghai"), dt.date(2025, 6, 20)),
        (pendulum.datetime(2025, 6, 19, 23, 30, tz="Asia/Shanghai"), dt.date(2025, 6, 19)),
    ],
)
def test_today_is_the_shanghai_day_whatever_zone_a_clock_answers_in(
    now: pendulum.DateTime, day: dt.date
) -> None:
    assert today(_ClockInOtherZones(now)) == day
