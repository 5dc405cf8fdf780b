"""The statutory deadlines, with periods built here (as the 2022 measures set them)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow._i18n import Text
from kmbase_workflow.calendar import WorkingDayCalendar
from kmbase_workflow.deadlines import (
    Deadline,
    DeadlineKind,
    annual_report_deadline,
    annual_report_deadlines,
    change_filing_deadline,
    earliest_certification_date,
    expiry_reminders,
    in_notice,
    notice_deadline,
    reapplication_year,
    validity_deadline,
)
from kmbase_workflow.errors import CalendarDataMissingError, InvalidInputError
from kmbase_workflow.policy._model import (
    AnnualReportPeriod,
    Counting,
    DeclarationWindow,
    EndOfPeriodRule,
    NoticePeriod,
    Periods,
    ValidityPeriod,
    ValidityStart,
    WorkingDayPeriod,
)
from test_calendar import NOTICE_2026

D = dt.date


def _text(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


PERIODS = Periods(
    notice=NoticePeriod(
        _text("第十三条", "Art. 13"), 10, Counting.START_DAY_COUNTS, _text("公示", "notice")
    ),
    change_filing=WorkingDayPeriod(
        _text("第十九条", "Art. 19"), 10, Counting.START_DAY_EXCLUDED, _text("备案", "filing")
    ),
    validity=ValidityPeriod(
        _text("第十五条", "Art. 15"),
        3,
        ValidityStart.CERTIFICATION_DATE,
        True,
        _text("有效期", "validity"),
    ),
    base_annual_report=AnnualReportPeriod(
        _text("第十六条", "Art. 16"),
        1,
        EndOfPeriodRule.NEXT_WORKING_DAY,
        _text("基地总结", "base report"),
    ),
    district_annual_report=AnnualReportPeriod(
        _text("第十七条", "Art. 17"),
        2,
        EndOfPeriodRule.NEXT_WORKING_DAY,
        _text("区县总结", "district report"),
    ),
    declaration=DeclarationWindow(_text("第九条", "Art. 9"), 1, _text("申报", "declaration")),
)


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


def test_notice_regulation_example(cal: WorkingDayCalendar) -> None:
    notice = notice_deadline(D(2023, 11, 6), PERIODS, calendar=cal)
    assert notice.due == D(2023, 11, 17)
    assert notice.kind is DeadlineKind.NOTICE
    assert notice.article == Text(zh="第十三条", en="Art. 13")
    assert notice.convention == "start_day_counts"
    assert not notice.provisional
    assert "no holiday" in notice.explanation.en
    assert earliest_certification_date(notice, calendar=cal) == D(2023, 11, 20)


def test_notice_across_national_day_2025(cal: WorkingDayCalendar) -> None:
    # Fri 26, Sun 28 (worked), Mon 29, Tue 30 Sep; 1-8 Oct off; Thu 9, Fri 10, Sat 11 (worked),
    # Mon 13, Tue 14, Wed 15 Oct.
    notice = notice_deadline(D(2025, 9, 26), PERIODS, calendar=cal)
    assert notice.due == D(2025, 10, 15)
    assert "2025-09-28" in notice.explanation.en
    assert "国庆节" in notice.explanation.zh
    assert earliest_certification_date(notice, calendar=cal) == D(2025, 10, 16)
    assert in_notice(notice, D(2025, 10, 3))
    assert in_notice(notice, D(2025, 10, 15))
    assert not in_notice(notice, D(2025, 10, 16))
    assert not in_notice(notice, D(2025, 9, 25))


def test_notice_published_on_a_holiday_2026(cal: WorkingDayCalendar) -> None:
    # 25 Sep 2026 is Mid-Autumn: day 1 is Mon 28 Sep; 1-7 Oct off; Sat 10 Oct worked.
    notice = notice_deadline(D(2026, 9, 25), PERIODS, calendar=cal)
    assert notice.due == D(2026, 10, 15)
    assert not notice.provisional


def test_notice_across_spring_festival_2024(cal: WorkingDayCalendar) -> None:
    # Thu 1, Fri 2, Sun 4 (worked), Mon 5 .. Fri 9 Feb (8 days), 10-17 off, Sun 18 (worked) = 9,
    # Mon 19 = 10.
    assert notice_deadline(D(2024, 2, 1), PERIODS, calendar=cal).due == D(2024, 2, 19)


def test_naive_weekday_count_would_be_wrong(cal: WorkingDayCalendar) -> None:
    naive_due = D(2025, 10, 9)  # 10 Mon-Fri days from Fri 26 Sep ignoring holidays
    assert notice_deadline(D(2025, 9, 26), PERIODS, calendar=cal).due != naive_due


def test_change_filing_excludes_completion_day(cal: WorkingDayCalendar) -> None:
    # Completed Thu 25 Sep 2025: Fri 26 is day 1 ... Wed 15 Oct is day 10.
    filing = change_filing_deadline(D(2025, 9, 25), PERIODS, calendar=cal)
    assert filing.due == D(2025, 10, 15)
    assert filing.convention == "start_day_excluded"
    assert filing.article.zh == "第十九条"
    # Ordinary fortnight: completed Mon 2023-11-06 → Mon 2023-11-20.
    assert change_filing_deadline(D(2023, 11, 6), PERIODS, calendar=cal).due == D(2023, 11, 20)


def test_counting_convention_comes_from_the_period(cal: WorkingDayCalendar) -> None:
    counts = attrs.evolve(
        PERIODS,
        change_filing=attrs.evolve(
            PERIODS.change_filing, counting=Counting.START_DAY_COUNTS, working_days=3
        ),
    )
    assert change_filing_deadline(D(2023, 11, 6), counts, calendar=cal).due == D(2023, 11, 8)


def test_provisional_and_missing(cal: WorkingDayCalendar) -> None:
    late = D(cal.official_through, 12, 24)
    with pytest.raises(CalendarDataMissingError) as info:
        notice_deadline(late, PERIODS, calendar=cal)
    assert info.value.exit_code == 3
    notice = notice_deadline(late, PERIODS, calendar=cal, allow_provisional=True)
    assert notice.provisional
    assert notice.label().endswith(" (provisional)")
    assert "Provisional" in notice.explanation.en
    assert "临时" in notice.explanation.zh
    early = notice_deadline(D(2023, 11, 6), PERIODS, calendar=cal, allow_provisional=True)
    assert not early.provisional
    assert early.label() == "2023-11-17"


@pytest.mark.parametrize(
    ("year", "base_due", "district_due"),
    [
        (2024, D(2024, 1, 31), D(2024, 2, 29)),  # both working days
        (2025, D(2025, 2, 5), D(2025, 2, 28)),  # 31 Jan 2025 is Spring Festival
        (2026, D(2026, 2, 2), D(2026, 2, 28)),  # Sat 31 Jan off; Sat 28 Feb a make-up workday
        (2023, D(2023, 1, 31), D(2023, 2, 28)),
    ],
)
def test_annual_reports(cal: WorkingDayCalendar, year: int, base_due: D, district_due: D) -> None:
    base = annual_report_deadline(year, PERIODS.base_annual_report, calendar=cal)
    district = annual_report_deadline(
        year, PERIODS.district_annual_report, DeadlineKind.DISTRICT_ANNUAL_REPORT, calendar=cal
    )
    assert (base.due, district.due) == (base_due, district_due)
    assert base.article.zh == "第十六条"
    assert district.article.zh == "第十七条"
    assert base.convention == "next_working_day"


def test_annual_report_unchanged_rule(cal: WorkingDayCalendar) -> None:
    period = attrs.evolve(PERIODS.base_annual_report, end_rule=EndOfPeriodRule.UNCHANGED)
    report = annual_report_deadline(2026, period, calendar=cal)
    assert report.due == D(2026, 1, 31)
    assert report.convention == "unchanged"
    bad = attrs.evolve(period, due_month=13)
    with pytest.raises(InvalidInputError):
        annual_report_deadline(2026, bad, calendar=cal)


def test_validity_from_certification_date() -> None:
    validity = validity_deadline(D(2023, 12, 15), PERIODS.validity)
    assert (validity.start, validity.due) == (D(2023, 12, 15), D(2026, 12, 14))
    assert validity.article.zh == "第十五条"
    assert reapplication_year(validity, PERIODS.validity) == 2026
    leap = validity_deadline(D(2024, 2, 29), PERIODS.validity)
    assert leap.due == D(2027, 2, 27)


def test_validity_from_next_january_first() -> None:
    period = attrs.evolve(PERIODS.validity, starts=ValidityStart.NEXT_JANUARY_FIRST)
    validity = validity_deadline(D(2023, 12, 15), period)
    assert (validity.start, validity.due) == (D(2024, 1, 1), D(2026, 12, 31))
    assert validity.convention == "next_january_first"
    no_final = attrs.evolve(period, reapply_in_final_year=False)
    assert reapplication_year(validity, no_final) == 2027


def test_reports_for_every_valid_year(cal: WorkingDayCalendar) -> None:
    reports = annual_report_deadlines(D(2023, 3, 15), PERIODS, calendar=cal)
    # Valid 2023-03-15 .. 2026-03-14: Jan/Feb reports of 2024, 2025 and 2026.
    assert [(r.kind.value, r.due) for r in reports] == [
        ("base_annual_report", D(2024, 1, 31)),
        ("district_annual_report", D(2024, 2, 29)),
        ("base_annual_report", D(2025, 2, 5)),
        ("district_annual_report", D(2025, 2, 28)),
        ("base_annual_report", D(2026, 2, 2)),
        ("district_annual_report", D(2026, 2, 28)),
    ]


def test_reports_into_a_year_without_notice(cal: WorkingDayCalendar) -> None:
    with pytest.raises(CalendarDataMissingError):
        annual_report_deadlines(D(2025, 6, 1), PERIODS, calendar=cal)
    reports = annual_report_deadlines(D(2025, 6, 1), PERIODS, calendar=cal, allow_provisional=True)
    assert [r.provisional for r in reports] == [False, False, True, True, True, True]


def test_expiry_reminders(cal: WorkingDayCalendar) -> None:
    validity = validity_deadline(D(2023, 1, 9), PERIODS.validity)  # through Thu 2026-01-08
    reminders = expiry_reminders(validity, (30, 90), calendar=cal)
    assert [r.due for r in reminders] == [D(2025, 10, 10), D(2025, 12, 9)]
    # 90 days before is Fri 2025-10-10, a working day; 30 days before is Tue 2025-12-09.
    assert all(r.kind is DeadlineKind.EXPIRY_REMINDER for r in reminders)
    moved = expiry_reminders(
        validity_deadline(D(2023, 1, 7), PERIODS.validity), (90,), calendar=cal
    )
    # 90 days before Tue 2026-01-06 is Wed 2025-10-08 (National Day) → Tue 2025-09-30.
    assert moved[0].due == D(2025, 9, 30)
    assert moved[0].convention == "previous_working_day"
    with pytest.raises(InvalidInputError):
        expiry_reminders(validity, (0,), calendar=cal)
    notice = notice_deadline(D(2023, 11, 6), PERIODS, calendar=cal)
    with pytest.raises(InvalidInputError):
        expiry_reminders(notice, calendar=cal)
    with pytest.raises(InvalidInputError):
        reapplication_year(notice, PERIODS.validity)
    with pytest.raises(InvalidInputError):
        in_notice(validity, D(2024, 1, 1))


def test_bad_inputs(cal: WorkingDayCalendar) -> None:
    with pytest.raises(InvalidInputError):
        notice_deadline("2025-09-26", PERIODS, calendar=cal)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        validity_deadline(dt.datetime(2025, 1, 1), PERIODS.validity)
    zero = attrs.evolve(PERIODS, notice=attrs.evolve(PERIODS.notice, working_days=0))
    with pytest.raises(InvalidInputError):
        notice_deadline(D(2025, 9, 26), zero, calendar=cal)
    with pytest.raises(InvalidInputError):
        validity_deadline(D(2025, 1, 1), attrs.evolve(PERIODS.validity, years=0))


def test_deadline_is_frozen(cal: WorkingDayCalendar) -> None:
    notice = notice_deadline(D(2023, 11, 6), PERIODS, calendar=cal)
    assert isinstance(notice, Deadline)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        notice.due = D(2000, 1, 1)  # type: ignore[misc]


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=D(2002, 1, 1), max_value=D(2026, 6, 1)))
def test_notice_lasts_exactly_ten_working_days(cal: WorkingDayCalendar, day: D) -> None:
    notice = notice_deadline(day, PERIODS, calendar=cal)
    counted = cal.count_working_days(day - dt.timedelta(days=1), notice.due)
    assert counted == 10
    assert cal.is_working_day(notice.due)
    filing = change_filing_deadline(day, PERIODS, calendar=cal)
    assert cal.count_working_days(day, filing.due) == 10
    assert filing.due >= notice.due


def test_a_loaded_notice_changes_a_deadline_computed_before() -> None:
    """Deadlines are kept per calendar revision: loading a notice is seen at once."""
    cal = WorkingDayCalendar(official_through=2025, allow_provisional=True)
    published = D(2026, 9, 28)
    guessed = notice_deadline(published, PERIODS, calendar=cal)
    assert guessed.provisional
    assert notice_deadline(published, PERIODS, calendar=cal) is guessed  # computed once
    cal.load_notice(NOTICE_2026)
    official = notice_deadline(published, PERIODS, calendar=cal)
    assert not official.provisional
    assert official.due == D(2026, 10, 15)  # 国庆节 1–7 Oct off, Sat 10 Oct a working day
    assert official.explanation != guessed.explanation
