"""The working-day calendar: ``holidays.China`` and the loaded notices made into an index
of working days over the supported range, with its official horizon."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .._i18n import Text
from ..errors import CalendarDataConflictError, CalendarDataMissingError, InvalidInputError
from ._notices import _MAKE_UP_WORKDAY, HolidayNotice, SpecialDay, _bad_notice


def _China(**kwargs: Any) -> Any:  # noqa: N802 - stands for holidays.China
    """``holidays.China(**kwargs)``, imported when a calendar is first built: importing any
    country of ``holidays`` loads all 250 of them (0.15 s), which a command that computes no
    working day (``kmbase --version``, ``kmbase check``) should not pay (issue 23)."""
    from holidays.countries.china import China  # noqa: PLC0415 - see above

    untyped: Any = China  # holidays' constructor is untyped
    return untyped(**kwargs)


FIRST_SUPPORTED_YEAR = 2001
"""First year of the calendar: ``holidays.China`` checks its data against the State
Council's notices from 2001 on."""

_PROVISIONAL_YEARS_AHEAD = 30
"""How many years past the last official year the calendar can answer provisionally."""

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def holidays_official_through() -> int:
    """The last year for which ``holidays.China`` holds the State Council's notice.

    ``holidays`` encodes each year's notice as a table of substituted days off
    (``ChinaStaticHolidays.special_public_holidays``, keyed by year; 2026 in holidays 0.109).
    Later years are projected from the statutory holidays by a generic "observed" rule and
    are *not* official. If that table cannot be found (a future ``holidays`` release), the
    fallback is the latest year holding a make-up working day in ``weekend_workdays``, which
    only notices create.
    """
    try:
        from holidays.countries.china import ChinaStaticHolidays  # noqa: PLC0415

        table = ChinaStaticHolidays.special_public_holidays
        years = [year for year in table if isinstance(year, int)]
        if years:
            return int(max(years))
    except (ImportError, AttributeError):  # pragma: no cover - depends on holidays' layout
        pass
    china = _China(years=range(FIRST_SUPPORTED_YEAR, 2101))  # pragma: no cover
    return int(max(day.year for day in china.weekend_workdays))  # pragma: no cover


DateArray = npt.NDArray[np.datetime64]
"""A numpy array of ``datetime64[D]`` dates."""


class WorkingDayCalendar:
    """China's working-day calendar with an explicit official horizon.

    ``official_through`` defaults to `holidays_official_through`; ``allow_provisional``
    is the default answer to "what if a date is in a year without an official notice?" and
    each query may override it. Dates before `FIRST_SUPPORTED_YEAR` or more than 30
    years after the last official year are outside the calendar and always raise
    `CalendarDataMissingError`.

    Conventions of the operations (all take and return ``datetime.date``):

    - ``add_working_days(d, n)``: the n-th working day after ``d``, ``d`` itself not counted
      (``n = 1`` is the next working day even when ``d`` is a holiday); negative ``n`` counts
      backwards; ``n = 0`` returns ``d`` unchanged, working day or not.
    - ``count_working_days(start, end)``: working days in ``(start, end]``; negative when
      ``end`` is before ``start``. So ``count(d, add(d, n)) == n`` for ``n >= 0``.
    """

    def __init__(
        self,
        *,
        official_through: int | None = None,
        allow_provisional: bool = False,
        notices: Iterable[HolidayNotice | Mapping[str, Any] | str | os.PathLike[str]] = (),
    ) -> None:
        through = holidays_official_through() if official_through is None else official_through
        if not through >= FIRST_SUPPORTED_YEAR - 1:
            raise InvalidInputError(
                Text(
                    zh=f"official_through 不能早于 {FIRST_SUPPORTED_YEAR - 1}",
                    en=f"official_through cannot be before {FIRST_SUPPORTED_YEAR - 1}",
                ),
                hint=Text(zh="请给出年份", en="give a year"),
            )
        self.allow_provisional = allow_provisional
        self._first_year = FIRST_SUPPORTED_YEAR
        self._last_year = max(through, holidays_official_through()) + _PROVISIONAL_YEARS_AHEAD
        self._base = dt.date(self._first_year, 1, 1).toordinal()
        self._end = dt.date(self._last_year, 12, 31).toordinal()
        years = range(self._first_year, self._last_year + 1)
        zh = _China(years=years, language="zh_CN")
        en = _China(years=years, language="en_US")
        self._names: dict[int, Text] = {}
        size = self._end - self._base + 1
        work = bytearray(size)
        make_up = {d.toordinal() for d in zh.weekend_workdays}
        for offset in range(size):
            ordinal = self._base + offset
            if (ordinal % 7) in (6, 0):  # date.fromordinal(1) is a Monday: 6 = Sat, 0 = Sun
                work[offset] = ordinal in make_up
            else:
                work[offset] = True
        for day, name in zh.items():
            ordinal = day.toordinal()
            if self._base <= ordinal <= self._end:
                work[ordinal - self._base] = False
                self._names[ordinal] = Text(zh=name, en=en.get(day, name))
        for ordinal in make_up:
            if self._base <= ordinal <= self._end:
                self._names[ordinal] = _MAKE_UP_WORKDAY
        self._work = work
        self._official_years = bytearray(len(years))
        for year in range(self._first_year, min(through, self._last_year) + 1):
            self._official_years[year - self._first_year] = True
        self._notices: dict[int, HolidayNotice] = {}
        self._revision = 0
        self._rebuild()
        for notice in notices:
            self.load_notice(notice)

    # -- index ------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """A number that changes whenever this calendar's days do (a notice loaded): what a
        cache of dates computed with it keys on."""
        return self._revision

    def _rebuild(self) -> None:
        """Recompute the running counts and lists from the per-day flags."""
        self._revision += 1
        work = np.frombuffer(bytes(self._work), dtype=np.uint8).astype(bool)
        cum = np.cumsum(work, dtype=np.int64)
        official_day = np.repeat(
            np.frombuffer(bytes(self._official_years), dtype=np.uint8).astype(bool),
            [
                dt.date(y + 1, 1, 1).toordinal() - dt.date(y, 1, 1).toordinal()
                for y in range(self._first_year, self._last_year + 1)
            ],
        )
        self._np_work = work
        self._np_cum = cum
        self._np_wlist = np.flatnonzero(work).astype(np.int64)
        self._np_unofficial_cum = np.cumsum(~official_day, dtype=np.int64)
        # Plain lists: indexing a list is several times faster than a numpy scalar.
        self._l_work: list[int] = list(self._work)
        self._l_cum: list[int] = cum.tolist()
        self._l_wlist: list[int] = (self._np_wlist + self._base).tolist()
        self._l_unofficial_cum: list[int] = self._np_unofficial_cum.tolist()
        # The run of official years from the first year: the fast path of every check.
        run = 0
        while run < len(self._official_years) and self._official_years[run]:
            run += 1
        self._official_through = self._first_year + run - 1
        self._off_hi = dt.date(self._official_through + 1, 1, 1).toordinal() - 1
        self._epoch_shift = self._base - _EPOCH_ORDINAL

    # -- official horizon ---------------------------------------------------------------

    @property
    def official_through(self) -> int:
        """The last year of the unbroken run of official years starting in 2001."""
        return self._official_through

    @property
    def official_years(self) -> tuple[int, ...]:
        """Every year for which the calendar holds an official notice."""
        return tuple(self._first_year + i for i, flag in enumerate(self._official_years) if flag)

    @property
    def supported_range(self) -> tuple[dt.date, dt.date]:
        """First and last day the calendar can answer for (provisionally or not)."""
        return dt.date.fromordinal(self._base), dt.date.fromordinal(self._end)

    def is_official_year(self, year: int) -> bool:
        """Whether the calendar holds the official notice for ``year``."""
        index = year - self._first_year
        return 0 <= index < len(self._official_years) and bool(self._official_years[index])

    def is_official_span(self, start: dt.date, end: dt.date) -> bool:
        """Whether every day from ``start`` to ``end`` (inclusive, either order) is official."""
        lo, hi = sorted((start.toordinal(), end.toordinal()))
        if self._base <= lo and hi <= self._off_hi:
            return True
        if lo < self._base or hi > self._end:
            return False
        uc = self._l_unofficial_cum
        before = uc[lo - self._base - 1] if lo > self._base else 0
        return uc[hi - self._base] == before

    def _missing(self, lo: int, hi: int, *, beyond_range: bool) -> CalendarDataMissingError:
        lo, hi = (lo, hi) if lo <= hi else (hi, lo)
        year = 0
        if beyond_range:
            outside = lo if lo < self._base else hi
            year = dt.date.fromordinal(max(1, min(outside, dt.date.max.toordinal()))).year
        else:
            for candidate in range(dt.date.fromordinal(lo).year, dt.date.fromordinal(hi).year + 1):
                if not self.is_official_year(candidate):
                    year = candidate
                    break
        first, last = self.supported_range
        if beyond_range:
            return CalendarDataMissingError(
                Text(
                    zh=f"{year} 年超出工作日历的范围（{first.year}–{last.year} 年）",
                    en=f"{year} is outside the working-day calendar ({first.year}-{last.year})",
                ),
                hint=Text(
                    zh="请检查日期是否输入正确", en="check that the date was entered correctly"
                ),
                year=year,
            )
        return CalendarDataMissingError(
            Text(
                zh=f"尚未载入 {year} 年国务院节假日安排通知（官方数据截至 "
                f"{self._official_through} 年），无法确定工作日",
                en=f"no official State Council holiday notice is loaded for {year} (official "
                f"data runs through {self._official_through}), so working days are not known",
            ),
            hint=Text(
                zh="请载入该年通知（load_notice，见 docs/explanation/calendar.md），"
                "或接受标注为“临时”的结果（allow_provisional=True / --allow-provisional）",
                en="load that year's notice (load_notice, see docs/explanation/calendar.md) or accept a "
                "result marked provisional (allow_provisional=True / --allow-provisional)",
            ),
            year=year,
        )

    def _check(self, lo: int, hi: int, allow: bool | None) -> None:
        """Raise unless the days lo..hi (ordinals, lo <= hi) may be answered."""
        if lo < self._base or hi > self._end:
            raise self._missing(lo, hi, beyond_range=True)
        if allow is None:
            allow = self.allow_provisional
        if allow:
            return
        uc = self._l_unofficial_cum
        before = uc[lo - self._base - 1] if lo > self._base else 0
        if uc[hi - self._base] != before:
            raise self._missing(lo, hi, beyond_range=False)

    # -- scalar operations --------------------------------------------------------------

    def is_working_day(self, day: dt.date, *, allow_provisional: bool | None = None) -> bool:
        """Whether ``day`` is a working day."""
        try:
            ordinal = day.toordinal()
        except AttributeError:
            raise _not_a_date(day) from None
        if not (self._base <= ordinal <= self._off_hi):
            self._check(ordinal, ordinal, allow_provisional)
        return self._l_work[ordinal - self._base] == 1

    def add_working_days(
        self, day: dt.date, n: int, *, allow_provisional: bool | None = None
    ) -> dt.date:
        """The ``n``-th working day after ``day`` (``day`` not counted; see the class doc)."""
        if type(n) is not int:
            n = _as_count(n)
        try:
            ordinal = day.toordinal()
            index = ordinal - self._base
            if n > 0:
                k = self._l_cum[index] + n - 1
            elif n < 0:
                k = self._l_cum[index] - self._l_work[index] + n
            else:
                k = -1
        except AttributeError:
            raise _not_a_date(day) from None
        except IndexError:
            raise self._missing(ordinal, ordinal, beyond_range=True) from None
        if n == 0:
            result = ordinal
        elif 0 <= k < len(self._l_wlist) and index >= 0:
            result = self._l_wlist[k]
        elif index < 0 or index >= len(self._l_work):
            raise self._missing(ordinal, ordinal, beyond_range=True)
        else:  # the n-th working day lies past an end of the calendar
            edge = self._end + 1 if n > 0 else self._base - 1
            raise self._missing(edge, edge, beyond_range=True)
        lo, hi = (ordinal, result) if result >= ordinal else (result, ordinal)
        if not (self._base <= lo and hi <= self._off_hi):
            self._check(lo, hi, allow_provisional)
        return dt.date.fromordinal(result)

    def count_working_days(
        self, start: dt.date, end: dt.date, *, allow_provisional: bool | None = None
    ) -> int:
        """Working days in ``(start, end]`` (negative if ``end`` is before ``start``)."""
        try:
            s = start.toordinal()
            e = end.toordinal()
        except AttributeError:
            raise _not_a_date(end if isinstance(start, dt.date) else start) from None
        lo, hi = (s, e) if s <= e else (e, s)
        if not (self._base <= lo and hi <= self._off_hi):
            self._check(lo, hi, allow_provisional)
        cum = self._l_cum
        return cum[e - self._base] - cum[s - self._base]

    def next_working_day(self, day: dt.date, *, allow_provisional: bool | None = None) -> dt.date:
        """The first working day after ``day``."""
        return self.add_working_days(day, 1, allow_provisional=allow_provisional)

    def previous_working_day(
        self, day: dt.date, *, allow_provisional: bool | None = None
    ) -> dt.date:
        """The last working day before ``day``."""
        return self.add_working_days(day, -1, allow_provisional=allow_provisional)

    def working_day_on_or_after(
        self, day: dt.date, *, allow_provisional: bool | None = None
    ) -> dt.date:
        """``day`` if it is a working day, else the next working day (民法典第二百零三条)."""
        if self.is_working_day(day, allow_provisional=allow_provisional):
            return day
        return self.next_working_day(day, allow_provisional=allow_provisional)

    def special_days(self, start: dt.date, end: dt.date) -> tuple[SpecialDay, ...]:
        """The days in ``[start, end]`` that depart from Monday to Friday, with names.

        Weekdays off (holidays and their substituted days) and weekend days worked; used to
        explain why a deadline moved. Provisional years are included as the calendar has them.
        """
        lo, hi = sorted((start.toordinal(), end.toordinal()))
        lo, hi = max(lo, self._base), min(hi, self._end)
        found: list[SpecialDay] = []
        for ordinal in range(lo, hi + 1):
            weekend = (ordinal % 7) in (6, 0)
            working = self._l_work[ordinal - self._base] == 1
            if weekend and working:
                name = self._names.get(ordinal, _MAKE_UP_WORKDAY)
                found.append(SpecialDay(dt.date.fromordinal(ordinal), "workday", name))
            elif not weekend and not working:
                name = self._names.get(ordinal, Text(zh="节假日", en="public holiday"))
                found.append(SpecialDay(dt.date.fromordinal(ordinal), "holiday", name))
        return tuple(found)

    def holiday_name(self, day: dt.date) -> Text | None:
        """The name of a holiday or make-up working day, ``None`` for an ordinary day."""
        return self._names.get(day.toordinal())

    # -- batch operations -------------------------------------------------------------

    def _offsets(self, days: npt.ArrayLike) -> npt.NDArray[np.int64]:
        try:
            array = np.asarray(days, dtype="datetime64[D]")
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(
                Text(zh=f"无法读作日期数组：{exc}", en=f"not an array of dates: {exc}"),
                hint=Text(
                    zh="请传入 numpy datetime64[D] 数组",
                    en="pass a numpy array of datetime64[D]",
                ),
            ) from exc
        return array.view(np.int64) - self._epoch_shift

    def _check_many(
        self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64], allow: bool | None
    ) -> None:
        if lo.size == 0:
            return
        size = self._np_work.size
        if int(lo.min()) < 0 or int(hi.max()) >= size:
            bad = int(lo.min()) if int(lo.min()) < 0 else int(hi.max())
            raise self._missing(bad + self._base, bad + self._base, beyond_range=True)
        if allow is None:
            allow = self.allow_provisional
        if allow:
            return
        official_hi = self._off_hi - self._base
        if int(hi.max()) <= official_hi:
            return
        uc = self._np_unofficial_cum
        before = np.where(lo > 0, uc[np.maximum(lo - 1, 0)], 0)
        bad_mask = uc[hi] != before
        if bad_mask.any():
            first = int(np.argmax(bad_mask))
            raise self._missing(
                int(lo[first]) + self._base, int(hi[first]) + self._base, beyond_range=False
            )

    def is_working_day_many(
        self, days: npt.ArrayLike, *, allow_provisional: bool | None = None
    ) -> npt.NDArray[np.bool_]:
        """`is_working_day` over an array of ``datetime64[D]`` dates."""
        offsets = self._offsets(days)
        self._check_many(offsets, offsets, allow_provisional)
        flags: npt.NDArray[np.bool_] = self._np_work[offsets]
        return flags

    def add_working_days_many(
        self, days: npt.ArrayLike, n: npt.ArrayLike, *, allow_provisional: bool | None = None
    ) -> DateArray:
        """`add_working_days` over arrays (``n`` broadcasts against ``days``)."""
        offsets = self._offsets(days)
        steps = np.asarray(n)
        if steps.dtype.kind not in "iu":
            raise _not_a_count(n)
        if offsets.size == 0:
            return np.empty(np.broadcast_shapes(offsets.shape, steps.shape), "datetime64[D]")
        size = self._np_work.size
        if int(offsets.min()) < 0 or int(offsets.max()) >= size:
            self._check_many(offsets, offsets, True)
        cum = self._np_cum[offsets]
        if steps.ndim == 0:
            # One step for all: a single pass of index arithmetic (the common case).
            step = int(steps)
            if step > 0:
                k = cum + (step - 1)
            elif step < 0:
                k = cum - self._np_work[offsets] + step
            else:
                k = cum  # unused
        else:
            offsets, steps = np.broadcast_arrays(offsets, steps.astype(np.int64))
            cum = np.broadcast_to(cum, offsets.shape)
            k = np.where(steps > 0, cum + steps - 1, cum - self._np_work[offsets] + steps)
        wlist = self._np_wlist
        k_min, k_max = int(k.min()), int(k.max())
        if k_min < 0 or k_max >= wlist.size:
            bad = int(np.argmax((k < 0) | (k >= wlist.size)))
            step_bad = int(np.broadcast_to(steps, offsets.shape).flat[bad])
            edge = self._end + 1 if step_bad > 0 else self._base - 1
            raise self._missing(edge, edge, beyond_range=True)
        if steps.ndim == 0:
            result = offsets if int(steps) == 0 else wlist[k]
            lo, hi = (result, offsets) if int(steps) < 0 else (offsets, result)
        else:
            result = np.where(steps == 0, offsets, wlist[k])
            lo, hi = np.minimum(offsets, result), np.maximum(offsets, result)
        self._check_many(lo, hi, allow_provisional)
        return (result + self._epoch_shift).view("datetime64[D]")

    def count_working_days_many(
        self,
        starts: npt.ArrayLike,
        ends: npt.ArrayLike,
        *,
        allow_provisional: bool | None = None,
    ) -> npt.NDArray[np.int64]:
        """`count_working_days` over arrays (they broadcast against each other)."""
        s, e = np.broadcast_arrays(self._offsets(starts), self._offsets(ends))
        lo, hi = np.minimum(s, e), np.maximum(s, e)
        self._check_many(lo, hi, allow_provisional)
        counts: npt.NDArray[np.int64] = self._np_cum[e] - self._np_cum[s]
        return counts

    def is_official_many(self, days: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """For each date, whether its year has an official notice (``False`` outside range)."""
        offsets = self._offsets(days)
        inside = (offsets >= 0) & (offsets < self._np_work.size)
        safe = np.clip(offsets, 0, self._np_work.size - 1)
        uc = self._np_unofficial_cum
        before = np.where(safe > 0, uc[np.maximum(safe - 1, 0)], 0)
        official: npt.NDArray[np.bool_] = inside & (uc[safe] == before)
        return official

    # -- loading notices ----------------------------------------------------------------

    def load_notice(
        self, notice: HolidayNotice | Mapping[str, Any] | str | os.PathLike[str]
    ) -> HolidayNotice:
        """Load one year's official notice; the year becomes official.

        ``notice`` is a `HolidayNotice`, a mapping, or the path of a TOML or JSON file
        (see docs/explanation/calendar.md). Loading the same data again is harmless. Raises
        `CalendarDataConflictError` when the notice lists a date both
        as a day off and a working day, or when its year is already official and the notice
        gives a different calendar; `InvalidInputError` for a
        malformed notice or a year outside the calendar.
        """
        if isinstance(notice, HolidayNotice):
            parsed = notice
        elif isinstance(notice, Mapping):
            parsed = HolidayNotice.from_mapping(notice)
        else:
            parsed = HolidayNotice.from_file(notice)
        year = parsed.year
        if not self._first_year <= year <= self._last_year:
            raise _bad_notice(
                parsed.source,
                Text(
                    zh=f"{year} 年超出日历范围（{self._first_year}–{self._last_year}）",
                    en=f"{year} is outside the calendar ({self._first_year}-{self._last_year})",
                ),
            )
        wanted: dict[int, bool] = {}
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        for ordinal in range(first, last + 1):
            wanted[ordinal] = (ordinal % 7) not in (6, 0)
        for day in parsed.holidays:
            wanted[day.date.toordinal()] = False
        for day in parsed.workdays:
            wanted[day.date.toordinal()] = True
        changed = sorted(o for o, w in wanted.items() if self._l_work[o - self._base] != w)
        if self.is_official_year(year) and changed:
            shown = ", ".join(dt.date.fromordinal(o).isoformat() for o in changed[:8])
            more = "…" if len(changed) > 8 else ""
            raise CalendarDataConflictError(
                Text(
                    zh=f"{parsed.source}：{year} 年已有官方数据，载入的通知在 {len(changed)} "
                    f"天上与之不同（{shown}{more}）",
                    en=f"{parsed.source}: {year} already has official data and the notice "
                    f"differs on {len(changed)} day(s) ({shown}{more})",
                ),
                hint=Text(
                    zh="请对照国务院通知原文核对；若通知确有更正，请新建日历并只载入更正后的数据",
                    en="check it against the State Council's notice; if the notice was "
                    "amended, build a new calendar with official_through set before that year "
                    "and load the amended data",
                ),
            )
        for ordinal, working in wanted.items():
            self._work[ordinal - self._base] = working
        for day in parsed.holidays:
            self._names[day.date.toordinal()] = day.name
        for day in parsed.workdays:
            self._names[day.date.toordinal()] = day.name
        self._official_years[year - self._first_year] = True
        self._notices[year] = parsed
        self._rebuild()
        return parsed

    @property
    def loaded_notices(self) -> tuple[HolidayNotice, ...]:
        """The notices loaded into this calendar, by year."""
        return tuple(self._notices[y] for y in sorted(self._notices))


def _not_a_date(value: object) -> InvalidInputError:
    return InvalidInputError(
        Text(zh=f"需要日期，收到 {value!r}", en=f"expected a date, got {value!r}"),
        hint=Text(zh="请传入 datetime.date（如 2025-09-26）", en="pass a datetime.date"),
    )


def _as_count(value: object) -> int:
    """``value`` as a whole number of days (numpy integers too), or a bilingual error."""
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise _not_a_count(value) from None


def _not_a_count(value: object) -> InvalidInputError:
    return InvalidInputError(
        Text(
            zh=f"工作日数应为整数，收到 {value!r}",
            en=f"a number of working days must be a whole number, got {value!r}",
        ),
        hint=Text(zh="请传入整数", en="pass an integer"),
    )


@functools.cache
def default_calendar() -> WorkingDayCalendar:
    """The process-wide calendar (strict). Notices loaded into it serve every caller."""
    return WorkingDayCalendar()
