"""The statutory deadlines of the measures, counted on China's working-day calendar.

Every number and article comes from the policy's `Periods`;
every result is a `Deadline` that carries the convention it was counted by, the
article, the due date, whether it is provisional and which holidays or make-up working days
moved it. Conventions (see docs/explanation/calendar.md):

- ``start_day_counts`` (`Counting`): the start day is day 1
  when it is a working day, otherwise the next working day is (public notice, 第十三条).
- ``start_day_excluded``: counting begins the working day after the start (filing a major
  change, 第十九条: the day the change is completed is not counted).
- ``next_working_day`` / ``unchanged`` (`EndOfPeriodRule`):
  what a calendar-date deadline (end of January, end of February) does when it falls on a
  day that is not a working day.
- ``certification_date`` / ``next_january_first``
  (`ValidityStart`): how the validity of 第十五条 runs.
- ``previous_working_day``: a reminder that falls on a day off is sent the working day before.
"""

from __future__ import annotations

import calendar as _gregorian
import datetime as dt
import enum
import functools
from collections.abc import Iterable

import attrs

from ._html import deadline_html
from ._i18n import Text
from .calendar import WorkingDayCalendar, default_calendar
from .errors import InvalidInputError
from .policy._model import (
    AnnualReportPeriod,
    Counting,
    EndOfPeriodRule,
    Periods,
    ValidityPeriod,
    ValidityStart,
    WorkingDayPeriod,
)

__all__ = [
    "DEFAULT_REMINDER_LEAD_DAYS",
    "Deadline",
    "DeadlineKind",
    "annual_report_deadline",
    "annual_report_deadlines",
    "change_filing_deadline",
    "earliest_certification_date",
    "expiry_reminders",
    "in_notice",
    "notice_deadline",
    "reapplication_year",
    "validity_deadline",
    "working_day_deadline",
]


DEFAULT_REMINDER_LEAD_DAYS: tuple[int, ...] = (90, 30)
"""Calendar days before validity ends at which reminders fall due, unless a host chooses
others (a practice setting, not a period of the measures)."""


class DeadlineKind(enum.Enum):
    """Which deadline of the measures a `Deadline` is."""

    NOTICE = "notice"
    """Last day of the public notice (社会公示, 第十三条)."""
    CHANGE_FILING = "change_filing"
    """Last day to file a major change (第十九条)."""
    BASE_ANNUAL_REPORT = "base_annual_report"
    """A base's yearly summary and plan to its district (第十六条)."""
    DISTRICT_ANNUAL_REPORT = "district_annual_report"
    """A district's yearly summary and plan to the city bureau (第十七条)."""
    VALIDITY_END = "validity_end"
    """Last day of a certification's validity (第十五条)."""
    EXPIRY_REMINDER = "expiry_reminder"
    """A reminder ahead of the end of validity."""

    @classmethod
    def _missing_(cls, value: object) -> DeadlineKind | None:
        # Histories of formats 1 and 2 stored the notice as "public_notice": they still load.
        return cls.NOTICE if value == "public_notice" else None


@attrs.frozen
class Deadline:
    """A dated obligation with the reasons for its date.

    ``start`` is the day that triggers the period (publication, completion of a change,
    first day of validity, 1 January of the report year); ``due`` is the last day on which
    the act is in time. ``convention`` names the counting rule (see the module doc).
    ``provisional`` is true when any day between ``start`` and ``due`` lies in a year without
    an official holiday notice: the date may still move, and must be shown as provisional.
    """

    kind: DeadlineKind
    article: Text
    start: dt.date
    due: dt.date
    convention: str
    provisional: bool
    explanation: Text
    description: Text

    def _repr_html_(self) -> str:
        return deadline_html(self)

    def label(self) -> str:
        """The due date as printed: ``2028-01-14`` or ``2028-01-14 (provisional)``."""
        return self.due.isoformat() + (" (provisional)" if self.provisional else "")


def _explain(
    calendar: WorkingDayCalendar, start: dt.date, end: dt.date, provisional: bool, lead: Text
) -> Text:
    """``lead`` followed by the holidays and make-up working days in ``[start, end]``."""
    special = calendar.special_days(start, end)
    if special:
        zh = lead.zh + "；期间的节假日调整：" + "，".join(s.describe().zh for s in special)
        en = (
            lead.en
            + "; holiday arrangements in the period: "
            + ", ".join(s.describe().en for s in special)
        )
    else:
        zh = lead.zh + "；期间无节假日或调休"
        en = lead.en + "; no holiday or make-up working day in the period"
    if provisional:
        zh += "。临时结果：所涉年份的国务院节假日安排尚未载入，日期可能变化"
        en += ". Provisional: the State Council's holiday notice for a year involved is not "
        en += "loaded, so the date may change"
    return Text(zh=zh, en=en)


def _resolve(
    calendar: WorkingDayCalendar | None, allow_provisional: bool | None
) -> tuple[WorkingDayCalendar, bool]:
    cal = default_calendar() if calendar is None else calendar
    return cal, cal.allow_provisional if allow_provisional is None else allow_provisional


def _check_date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInputError(
            Text(zh=f"{what} 应为日期，收到 {value!r}", en=f"{what} must be a date, got {value!r}"),
            hint=Text(zh="请传入 datetime.date", en="pass a datetime.date"),
        )
    return value


def working_day_deadline(
    kind: DeadlineKind,
    start: dt.date,
    period: WorkingDayPeriod,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> Deadline:
    """The last day of a period of ``period.working_days`` working days from ``start``.

    ``START_DAY_COUNTS``: the first working day on or after ``start`` is day 1.
    ``START_DAY_EXCLUDED``: the first working day after ``start`` is day 1.
    """
    start = _check_date(start, "start")
    cal, allow = _resolve(calendar, allow_provisional)
    return _working_day_deadline(kind, start, period, cal=cal, revision=cal.revision, allow=allow)


_DEADLINE_CACHE_SIZE = 4096
"""Deadlines kept by `_working_day_deadline`: a bulk step computes the same few (one start
day, one period) for thousands of cases."""


@functools.lru_cache(maxsize=_DEADLINE_CACHE_SIZE)
def _working_day_deadline(
    kind: DeadlineKind,
    start: dt.date,
    period: WorkingDayPeriod,
    *,
    cal: WorkingDayCalendar,
    revision: int,
    allow: bool,
) -> Deadline:
    """`working_day_deadline` once per key: a `Deadline` is immutable, and ``revision``
    (`WorkingDayCalendar.revision`) changes when a loaded notice changes the calendar's days."""
    del revision  # only part of the key
    n = period.working_days
    if n < 1:
        raise InvalidInputError(
            Text(
                zh=f"工作日数应至少为 1，收到 {n}", en=f"working_days must be at least 1, got {n}"
            ),
            hint=Text(zh="请检查政策文件", en="check the policy file"),
        )
    if period.counting is Counting.START_DAY_COUNTS:
        first = cal.working_day_on_or_after(start, allow_provisional=allow)
        due = cal.add_working_days(first, n - 1, allow_provisional=allow)
        lead = Text(
            zh=f"自 {start} 起计（当日为工作日则计入），第 {n} 个工作日为 {due}",
            en=f"counted from {start} (that day counts if it is a working day); "
            f"working day {n} is {due}",
        )
    else:
        due = cal.add_working_days(start, n, allow_provisional=allow)
        lead = Text(
            zh=f"{start} 当日不计入，其后第 {n} 个工作日为 {due}",
            en=f"{start} itself not counted; working day {n} after it is {due}",
        )
    provisional = not cal.is_official_span(start, due)
    return Deadline(
        kind=kind,
        article=period.article,
        start=start,
        due=due,
        convention=period.counting.value,
        provisional=provisional,
        explanation=_explain(cal, start, due, provisional, lead),
        description=period.description,
    )


def notice_deadline(
    published: dt.date,
    periods: Periods,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> Deadline:
    """Last day of the public notice (第十三条) published on ``published``.

    With the 2022 measures (10 working days, start day counts), a notice published Monday
    2023-11-06 runs to Friday 2023-11-17.
    """
    return working_day_deadline(
        DeadlineKind.NOTICE,
        published,
        periods.notice,
        calendar=calendar,
        allow_provisional=allow_provisional,
    )


def in_notice(deadline: Deadline, day: dt.date) -> bool:
    """Whether an objection made on ``day`` falls inside the notice (publication to due)."""
    if deadline.kind is not DeadlineKind.NOTICE:
        raise InvalidInputError(
            Text(zh="需要公示期的期限", en="expected a public notice deadline"),
            hint=Text(zh="请传入 notice_deadline 的结果", en="pass notice_deadline's result"),
        )
    return deadline.start <= _check_date(day, "day") <= deadline.due


def earliest_certification_date(
    notice: Deadline,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> dt.date:
    """The first working day after the notice ends: the earliest day to certify (第十四条)."""
    cal, allow = _resolve(calendar, allow_provisional)
    return cal.next_working_day(notice.due, allow_provisional=allow)


def change_filing_deadline(
    completed: dt.date,
    periods: Periods,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> Deadline:
    """Last day to file a major change completed on ``completed`` (第十九条)."""
    return working_day_deadline(
        DeadlineKind.CHANGE_FILING,
        completed,
        periods.change_filing,
        calendar=calendar,
        allow_provisional=allow_provisional,
    )


def annual_report_deadline(
    year: int,
    period: AnnualReportPeriod,
    kind: DeadlineKind = DeadlineKind.BASE_ANNUAL_REPORT,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> Deadline:
    """The report due by the end of ``period.due_month`` of ``year`` (第十六条, 第十七条).

    When the last day of the month is not a working day, ``period.end_rule`` decides:
    ``NEXT_WORKING_DAY`` moves it to the next working day (《民法典》第二百零三条),
    ``UNCHANGED`` keeps it.
    """
    if not 1 <= period.due_month <= 12:
        raise InvalidInputError(
            Text(zh=f"月份无效：{period.due_month}", en=f"invalid month {period.due_month}"),
            hint=Text(zh="请检查政策文件", en="check the policy file"),
        )
    month_end = dt.date(year, period.due_month, _gregorian.monthrange(year, period.due_month)[1])
    start = dt.date(year, 1, 1)
    cal, allow = _resolve(calendar, allow_provisional)
    if period.end_rule is EndOfPeriodRule.NEXT_WORKING_DAY:
        due = cal.working_day_on_or_after(month_end, allow_provisional=allow)
        provisional = not cal.is_official_span(month_end, due)
        if due == month_end:
            lead = Text(
                zh=f"月末 {month_end} 为工作日", en=f"the month ends on {month_end}, a working day"
            )
        else:
            lead = Text(
                zh=f"月末 {month_end} 不是工作日，顺延至 {due}",
                en=f"the month ends on {month_end}, not a working day, so it moves to {due}",
            )
        explanation = _explain(cal, month_end, due, provisional, lead)
    else:
        due, provisional = month_end, False
        explanation = Text(
            zh=f"月末 {month_end}，不论是否工作日",
            en=f"the month ends on {month_end}, working day or not",
        )
    return Deadline(
        kind=kind,
        article=period.article,
        start=start,
        due=due,
        convention=period.end_rule.value,
        provisional=provisional,
        explanation=explanation,
        description=period.description,
    )


def _add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years; 29 February becomes 28 February (no corresponding day)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity_deadline(certified: dt.date, period: ValidityPeriod) -> Deadline:
    """The validity of a certification granted on ``certified`` (第十五条).

    ``CERTIFICATION_DATE``: from the certification date to the day before its ``years``-th
    anniversary. ``NEXT_JANUARY_FIRST``: from 1 January after certification to 31 December
    ``years`` years later. ``start`` is the first valid day, ``due`` the last. The dates are
    calendar dates that no holiday moves, so the result is never provisional.
    """
    certified = _check_date(certified, "certified")
    if period.years < 1:
        raise InvalidInputError(
            Text(
                zh=f"有效期年数应至少为 1，收到 {period.years}",
                en=f"years must be at least 1, got {period.years}",
            ),
            hint=Text(zh="请检查政策文件", en="check the policy file"),
        )
    if period.starts is ValidityStart.CERTIFICATION_DATE:
        start = certified
        due = _add_years(certified, period.years) - dt.timedelta(days=1)
        lead = Text(
            zh=f"自认定日 {start} 起 {period.years} 年，至 {due} 止",
            en=f"{period.years} years from the certification date {start}, through {due}",
        )
    else:
        start = dt.date(certified.year + 1, 1, 1)
        due = dt.date(certified.year + period.years, 12, 31)
        lead = Text(
            zh=f"自认定次年 1 月 1 日（{start}）起 {period.years} 年，至 {due} 止",
            en=f"{period.years} years from 1 January after certification ({start}), through {due}",
        )
    if period.reapply_in_final_year:
        lead = Text(
            zh=lead.zh + f"；{due.year} 年可再次申报",
            en=lead.en + f"; the base may apply again in {due.year}",
        )
    return Deadline(
        kind=DeadlineKind.VALIDITY_END,
        article=period.article,
        start=start,
        due=due,
        convention=period.starts.value,
        provisional=False,
        explanation=lead,
        description=period.description,
    )


def reapplication_year(validity: Deadline, period: ValidityPeriod) -> int:
    """The first year a base may apply again: the year validity ends (第十五条), or the year
    after when the policy does not allow re-application in the final year."""
    if validity.kind is not DeadlineKind.VALIDITY_END:
        raise InvalidInputError(
            Text(zh="需要有效期的期限", en="expected a validity deadline"),
            hint=Text(zh="请传入 validity_deadline 的结果", en="pass validity_deadline's result"),
        )
    return validity.due.year if period.reapply_in_final_year else validity.due.year + 1


def expiry_reminders(
    validity: Deadline,
    lead_days: Iterable[int] = DEFAULT_REMINDER_LEAD_DAYS,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> tuple[Deadline, ...]:
    """Reminders ``lead_days`` calendar days before validity ends, earliest first.

    A reminder that falls on a day that is not a working day is sent the working day
    before (convention ``previous_working_day``), so it is never later than promised.
    """
    if validity.kind is not DeadlineKind.VALIDITY_END:
        raise InvalidInputError(
            Text(zh="需要有效期的期限", en="expected a validity deadline"),
            hint=Text(zh="请传入 validity_deadline 的结果", en="pass validity_deadline's result"),
        )
    cal, allow = _resolve(calendar, allow_provisional)
    reminders = []
    for lead in sorted(set(lead_days), reverse=True):
        if not isinstance(lead, int) or lead < 1:
            raise InvalidInputError(
                Text(
                    zh=f"提前天数应为正整数，收到 {lead!r}",
                    en=f"a lead time must be a positive number of days, got {lead!r}",
                ),
                hint=Text(zh="例如 (90, 30)", en="for example (90, 30)"),
            )
        target = validity.due - dt.timedelta(days=lead)
        if cal.is_working_day(target, allow_provisional=allow):
            day = target
        else:
            day = cal.previous_working_day(target, allow_provisional=allow)
        provisional = not cal.is_official_span(day, target)
        text = Text(
            zh=f"有效期于 {validity.due} 届满，提前 {lead} 天提醒",
            en=f"validity ends on {validity.due}; reminder {lead} days ahead",
        )
        reminders.append(
            Deadline(
                kind=DeadlineKind.EXPIRY_REMINDER,
                article=validity.article,
                start=validity.start,
                due=day,
                convention="previous_working_day",
                provisional=provisional,
                explanation=_explain(cal, day, target, provisional, text),
                description=validity.description,
            )
        )
    return tuple(reminders)


def annual_report_deadlines(
    certified: dt.date,
    periods: Periods,
    *,
    calendar: WorkingDayCalendar | None = None,
    allow_provisional: bool | None = None,
) -> tuple[Deadline, ...]:
    """Every yearly report (第十六条 base, 第十七条 district) while a certification is valid.

    A year is listed when the last day of its report month lies inside the validity
    (`validity_deadline`); reports come in date order.
    """
    validity = validity_deadline(certified, periods.validity)
    found: list[Deadline] = []
    pairs = (
        (periods.base_annual_report, DeadlineKind.BASE_ANNUAL_REPORT),
        (periods.district_annual_report, DeadlineKind.DISTRICT_ANNUAL_REPORT),
    )
    for year in range(validity.start.year, validity.due.year + 1):
        for period, kind in pairs:
            month_end = dt.date(
                year, period.due_month, _gregorian.monthrange(year, period.due_month)[1]
            )
            if validity.start <= month_end <= validity.due:
                found.append(
                    annual_report_deadline(
                        year,
                        period,
                        kind,
                        calendar=calendar,
                        allow_provisional=allow_provisional,
                    )
                )
    return tuple(sorted(found, key=lambda d: (d.due, d.kind.value)))
