"""Working-day calendar speed: ours vs holidays' own methods vs numpy busday functions.

numpy's ``busday_offset``/``busday_count`` take a weekmask and a holiday list but cannot
make a Saturday or Sunday a working day (调休), so their answers differ from ours around
make-up days; they are timed on the same inputs as a speed reference only, and the share of
differing answers is printed. Run: ``python benchmarks/bench_calendar.py`` (about 10 s).
"""

from __future__ import annotations

import datetime as dt
import timeit

import numpy as np
from holidays.countries.china import China

from kmbase_workflow.calendar import WorkingDayCalendar


def _per_op_us(func: object, number: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    """Measure and print µs per scalar operation, ms per batch, and ratios."""
    cal = WorkingDayCalendar()
    china = China(years=range(2001, cal.official_through + 1))
    start, end = dt.date(2024, 3, 1), dt.date(2024, 6, 28)
    n = 40

    ours_add = _per_op_us(lambda: cal.add_working_days(start, n), 100_000)
    ours_count = _per_op_us(lambda: cal.count_working_days(start, end), 100_000)
    hol_add = _per_op_us(lambda: china.get_nth_working_day(start, n), 200)
    hol_count = _per_op_us(lambda: china.get_working_days_count(start, end), 200)

    holiday_days = np.array(sorted(d for d in china if d.weekday() < 5), dtype="datetime64[D]")
    bdc = np.busdaycalendar(weekmask="1111100", holidays=holiday_days)
    s64, e64 = np.datetime64(start), np.datetime64(end)
    np_add = _per_op_us(lambda: np.busday_offset(s64, n, roll="forward", busdaycal=bdc), 20_000)
    np_count = _per_op_us(lambda: np.busday_count(s64, e64, busdaycal=bdc), 20_000)

    rng = np.random.default_rng(7)
    size = 1_000_000
    days = (np.datetime64("2002-01-01") + rng.integers(0, 8000, size)).astype("datetime64[D]")
    ends = days + rng.integers(0, 300, size)
    ours_badd = min(timeit.repeat(lambda: cal.add_working_days_many(days, 10), number=1, repeat=5))
    ours_bcount = min(
        timeit.repeat(lambda: cal.count_working_days_many(days, ends), number=1, repeat=5)
    )
    np_badd = min(
        timeit.repeat(
            lambda: np.busday_offset(days, 10, roll="backward", busdaycal=bdc), number=1, repeat=3
        )
    )
    np_bcount = min(
        timeit.repeat(
            lambda: np.busday_count(days + 1, ends + 1, busdaycal=bdc), number=1, repeat=3
        )
    )
    # numpy: (d, e] = [d+1, e+1); rolling backward then +10 = 10th working day after d.
    ours = cal.count_working_days_many(days, ends)
    theirs = np.busday_count(days + 1, ends + 1, busdaycal=bdc)
    differ = float(np.mean(ours != theirs))

    print(
        f"scalar add {n} working days   ours {ours_add:8.3f} µs   holidays {hol_add:9.1f} µs"
        f"   numpy {np_add:6.2f} µs   ratio holidays/ours {hol_add / ours_add:8.0f}×"
        f"   numpy/ours {np_add / ours_add:5.1f}×"
    )
    print(
        f"scalar count (~4 months)     ours {ours_count:8.3f} µs   holidays {hol_count:9.1f} µs"
        f"   numpy {np_count:6.2f} µs   ratio holidays/ours {hol_count / ours_count:8.0f}×"
        f"   numpy/ours {np_count / ours_count:5.1f}×"
    )
    print(
        f"batch add    1,000,000 dates  ours {ours_badd * 1e3:7.1f} ms   numpy "
        f"{np_badd * 1e3:7.1f} ms   ratio numpy/ours {np_badd / ours_badd:5.1f}×"
    )
    print(
        f"batch count  1,000,000 pairs  ours {ours_bcount * 1e3:7.1f} ms   numpy "
        f"{np_bcount * 1e3:7.1f} ms   ratio numpy/ours {np_bcount / ours_bcount:5.1f}×"
    )
    print(
        f"numpy (no make-up weekend days) disagrees with the official count on "
        f"{differ:.1%} of the pairs"
    )


if __name__ == "__main__":
    main()
