"""The working-day calendar against the State Council's notices, checked by hand.

Each expectation below was read from the 国务院办公厅 notice of that year (国办发明电), not
from ``holidays``: the point is to catch a wrong or missing entry in the data we build on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow._i18n import Text
from kmbase_workflow.calendar import (
    HolidayNotice,
    WorkingDayCalendar,
    default_calendar,
    holidays_official_through,
)
from kmbase_workflow.errors import (
    CalendarDataConflictError,
    CalendarDataMissingError,
    InvalidInputError,
)

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


@pytest.fixture(scope="module")
def loose() -> WorkingDayCalendar:
    return WorkingDayCalendar(allow_provisional=True)


# (date, is a working day, why) — from the notices for 2019, 2020, 2022, 2023, 2024, 2025, 2026.
OFFICIAL = [
    # 2019 notice straddles New Year: 2018-12-30 .. 2019-01-01 off, Saturday 2018-12-29 worked.
    (D(2018, 12, 29), True, "2019 notice: Saturday worked before New Year"),
    (D(2018, 12, 31), False, "2019 notice: Monday off for New Year"),
    (D(2019, 1, 2), True, "ordinary Wednesday after New Year"),
    # 2020: Spring Festival extended to 2 February (国办发明电〔2020〕1号), Saturday 1 Feb off.
    (D(2020, 1, 19), True, "2020: Sunday worked before Spring Festival"),
    (D(2020, 1, 31), False, "2020: extended Spring Festival"),
    (D(2020, 2, 1), False, "2020: the make-up Saturday was cancelled by the extension"),
    (D(2020, 2, 3), True, "2020: first working day after the extension"),
    # 2022: National Day 1-7 Oct, Saturday 8 and Sunday 9 Oct worked.
    (D(2022, 10, 7), False, "2022: National Day"),
    (D(2022, 10, 8), True, "2022: Saturday worked"),
    (D(2022, 10, 9), True, "2022: Sunday worked"),
    (D(2022, 1, 29), True, "2022: Saturday worked before Spring Festival"),
    (D(2022, 1, 30), True, "2022: Sunday worked before Spring Festival"),
    # 2023: Spring Festival 21-27 Jan (28, 29 worked); National Day 29 Sep - 6 Oct (7, 8 worked).
    (D(2023, 1, 2), False, "2023: Monday off for New Year"),
    (D(2023, 1, 27), False, "2023: Spring Festival"),
    (D(2023, 1, 28), True, "2023: Saturday worked"),
    (D(2023, 1, 29), True, "2023: Sunday worked"),
    (D(2023, 4, 23), True, "2023: Sunday worked before Labour Day"),
    (D(2023, 6, 25), True, "2023: Sunday worked after Dragon Boat"),
    (D(2023, 9, 29), False, "2023: Mid-Autumn"),
    (D(2023, 10, 6), False, "2023: National Day"),
    (D(2023, 10, 7), True, "2023: Saturday worked"),
    (D(2023, 10, 8), True, "2023: Sunday worked"),
    # 2024: Spring Festival 10-17 Feb (Sundays 4 and 18 Feb worked; 9 Feb, the eve, worked).
    (D(2024, 2, 4), True, "2024: Sunday worked"),
    (D(2024, 2, 9), True, "2024: New Year's Eve was a working day (rest only encouraged)"),
    (D(2024, 2, 16), False, "2024: Spring Festival"),
    (D(2024, 2, 18), True, "2024: Sunday worked"),
    (D(2024, 4, 7), True, "2024: Sunday worked after Qingming"),
    (D(2024, 5, 11), True, "2024: Saturday worked after Labour Day"),
    (D(2024, 9, 14), True, "2024: Saturday worked before Mid-Autumn"),
    (D(2024, 9, 29), True, "2024: Sunday worked before National Day"),
    (D(2024, 10, 7), False, "2024: National Day"),
    (D(2024, 10, 12), True, "2024: Saturday worked after National Day"),
    # 2025: Spring Festival 28 Jan - 4 Feb (26 Jan Sunday, 8 Feb Saturday worked);
    # National Day + Mid-Autumn 1-8 Oct (28 Sep Sunday, 11 Oct Saturday worked).
    (D(2025, 1, 26), True, "2025: Sunday worked"),
    (D(2025, 1, 28), False, "2025: New Year's Eve, now a statutory holiday"),
    (D(2025, 2, 4), False, "2025: Spring Festival"),
    (D(2025, 2, 8), True, "2025: Saturday worked"),
    (D(2025, 4, 27), True, "2025: Sunday worked before Labour Day"),
    (D(2025, 5, 5), False, "2025: Labour Day"),
    (D(2025, 6, 2), False, "2025: Dragon Boat (Monday)"),
    (D(2025, 9, 28), True, "2025: Sunday worked"),
    (D(2025, 10, 8), False, "2025: National Day"),
    (D(2025, 10, 9), True, "2025: first working day after National Day"),
    (D(2025, 10, 11), True, "2025: Saturday worked"),
    # 2026: New Year 1-3 Jan (4 Jan worked); Spring Festival 15-23 Feb (14, 28 Feb worked);
    # National Day 1-7 Oct (20 Sep Sunday, 10 Oct Saturday worked).
    (D(2026, 1, 2), False, "2026: New Year"),
    (D(2026, 1, 4), True, "2026: Sunday worked"),
    (D(2026, 2, 14), True, "2026: Saturday worked"),
    (D(2026, 2, 23), False, "2026: Spring Festival"),
    (D(2026, 2, 28), True, "2026: Saturday worked"),
    (D(2026, 5, 9), True, "2026: Saturday worked after Labour Day"),
    (D(2026, 9, 20), True, "2026: Sunday worked"),
    (D(2026, 9, 25), False, "2026: Mid-Autumn (Friday)"),
    (D(2026, 10, 7), False, "2026: National Day"),
    (D(2026, 10, 10), True, "2026: Saturday worked"),
]


@pytest.mark.parametrize(("day", "working", "why"), OFFICIAL)
def test_official_notices(cal: WorkingDayCalendar, day: D, working: bool, why: str) -> None:
    assert cal.is_working_day(day) is working, why


def test_official_horizon_comes_from_holidays_notice_table(cal: WorkingDayCalendar) -> None:
    assert holidays_official_through() >= 2026
    assert cal.official_through == holidays_official_through()
    assert cal.is_official_year(2026)
    assert not cal.is_official_year(cal.official_through + 1)


def test_next_working_day_jumps_national_day_2023(cal: WorkingDayCalendar) -> None:
    assert cal.next_working_day(D(2023, 9, 28)) == D(2023, 10, 7)
    assert cal.previous_working_day(D(2023, 10, 7)) == D(2023, 9, 28)


def test_next_working_day_across_new_year_2019(cal: WorkingDayCalendar) -> None:
    assert cal.next_working_day(D(2018, 12, 28)) == D(2018, 12, 29)
    assert cal.next_working_day(D(2018, 12, 29)) == D(2019, 1, 2)


def test_counts_around_national_day_2025(cal: WorkingDayCalendar) -> None:
    # (26 Sep, 10 Oct]: Sun 28, Mon 29, Tue 30 Sep, Thu 9, Fri 10 Oct.
    assert cal.count_working_days(D(2025, 9, 26), D(2025, 10, 10)) == 5
    assert cal.count_working_days(D(2025, 10, 10), D(2025, 9, 26)) == -5
    assert cal.add_working_days(D(2025, 9, 26), 5) == D(2025, 10, 10)


def test_counts_around_spring_festival_2024(cal: WorkingDayCalendar) -> None:
    # (8 Feb, 19 Feb]: Fri 9, Sun 18, Mon 19.
    assert cal.count_working_days(D(2024, 2, 8), D(2024, 2, 19)) == 3


def test_add_conventions(cal: WorkingDayCalendar) -> None:
    holiday = D(2025, 10, 3)
    assert cal.add_working_days(holiday, 0) == holiday  # n = 0 leaves the day alone
    assert cal.add_working_days(holiday, 1) == D(2025, 10, 9)
    assert cal.add_working_days(holiday, -1) == D(2025, 9, 30)
    assert cal.working_day_on_or_after(holiday) == D(2025, 10, 9)
    assert cal.working_day_on_or_after(D(2025, 10, 9)) == D(2025, 10, 9)
    # Monday 2023-11-06 + 9 more working days = Friday 2023-11-17 (the 10th working day).
    assert cal.add_working_days(D(2023, 11, 6), 9) == D(2023, 11, 17)


def test_names_for_explanations(cal: WorkingDayCalendar) -> None:
    assert cal.holiday_name(D(2025, 10, 1)) == Text(zh="国庆节", en="National Day")
    assert cal.holiday_name(D(2025, 10, 9)) is None
    special = cal.special_days(D(2025, 9, 26), D(2025, 10, 12))
    kinds = {s.date: s.kind for s in special}
    assert kinds[D(2025, 9, 28)] == "workday"
    assert kinds[D(2025, 10, 11)] == "workday"
    assert kinds[D(2025, 10, 8)] == "holiday"
    assert D(2025, 10, 4) not in kinds  # an ordinary Saturday off moves nothing
    assert "国庆节" in special[1].describe().zh


# -- missing data and provisional answers ------------------------------------------------


def test_strict_calendar_refuses_a_year_without_notice(cal: WorkingDayCalendar) -> None:
    year = cal.official_through + 1
    with pytest.raises(CalendarDataMissingError) as info:
        cal.is_working_day(D(year, 3, 2))
    error = info.value
    assert error.exit_code == 3
    assert error.year == year
    assert str(year) in error.describe("zh")
    assert "provisional" in error.describe("en")


def test_span_reaching_into_a_missing_year_is_refused(cal: WorkingDayCalendar) -> None:
    last = D(cal.official_through, 12, 25)
    with pytest.raises(CalendarDataMissingError):
        cal.add_working_days(last, 10)
    with pytest.raises(CalendarDataMissingError):
        cal.count_working_days(last, D(cal.official_through + 1, 1, 10))
    assert cal.add_working_days(last, 1) == D(cal.official_through, 12, 28)


def test_provisional_answers_when_asked(cal: WorkingDayCalendar) -> None:
    year = cal.official_through + 1
    result = cal.add_working_days(D(year - 1, 12, 25), 10, allow_provisional=True)
    assert result.year == year
    assert not cal.is_official_span(D(year - 1, 12, 25), result)
    assert cal.is_official_span(D(year - 1, 12, 1), D(year - 1, 12, 25))
    # National Day stays a statutory holiday even in a provisional year.
    assert not cal.is_working_day(D(year, 10, 1), allow_provisional=True)


def test_calendar_wide_provisional_default(loose: WorkingDayCalendar) -> None:
    year = loose.official_through + 2
    assert loose.count_working_days(D(year, 1, 4), D(year, 1, 11)) >= 4
    with pytest.raises(CalendarDataMissingError):
        loose.is_working_day(D(year, 1, 4), allow_provisional=False)


def test_older_horizon_simulates_before_a_notice(cal: WorkingDayCalendar) -> None:
    before_2025 = WorkingDayCalendar(official_through=2024)
    assert before_2025.official_through == 2024
    with pytest.raises(CalendarDataMissingError) as info:
        before_2025.add_working_days(D(2025, 9, 26), 10)
    assert info.value.year == 2025


@pytest.mark.parametrize("day", [D(1999, 6, 1), D(2200, 1, 1)])
def test_outside_the_calendar_is_refused_even_provisionally(
    loose: WorkingDayCalendar, day: D
) -> None:
    with pytest.raises(CalendarDataMissingError) as info:
        loose.is_working_day(day)
    assert "outside" in info.value.describe("en")
    with pytest.raises(CalendarDataMissingError):
        loose.add_working_days(day, 3)
    with pytest.raises(CalendarDataMissingError):
        loose.count_working_days(day, D(2020, 1, 1))


def test_adding_past_the_end_of_the_calendar_is_refused(loose: WorkingDayCalendar) -> None:
    last = loose.supported_range[1]
    with pytest.raises(CalendarDataMissingError) as info:
        loose.add_working_days(last, 30)
    assert info.value.year == last.year + 1
    with pytest.raises(CalendarDataMissingError) as info:
        loose.add_working_days(loose.supported_range[0], -30)
    assert info.value.year == loose.supported_range[0].year - 1


# -- bad input ------------------------------------------------------------------------------


def test_bad_scalar_input(cal: WorkingDayCalendar) -> None:
    with pytest.raises(InvalidInputError):
        cal.is_working_day("2025-01-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        cal.add_working_days(D(2025, 1, 2), 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        cal.count_working_days(D(2025, 1, 2), None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        cal.add_working_days_many(np.array(["2025-01-02"], dtype="datetime64[D]"), 1.5)
    with pytest.raises(InvalidInputError):
        cal.is_working_day_many(np.array(["not a date"]))
    with pytest.raises(InvalidInputError):
        WorkingDayCalendar(official_through=1900)


# -- loading a year's notice ----------------------------------------------------------------

NOTICE_2026 = {
    # 国办发明电〔2025〕7号, typed from the notice.
    "year": 2026,
    "holidays": [
        {"date": "2026-01-01", "name_zh": "元旦", "name_en": "New Year's Day"},
        {"date": "2026-01-02", "name_zh": "元旦", "name_en": "New Year's Day"},
        {"date": "2026-01-03", "name_zh": "元旦", "name_en": "New Year's Day"},
        *(
            {"date": f"2026-02-{d}", "name_zh": "春节", "name_en": "Spring Festival"}
            for d in range(15, 24)
        ),
        *({"date": f"2026-04-0{d}", "name_zh": "清明节", "name_en": "Qingming"} for d in (4, 5, 6)),
        *(
            {"date": f"2026-05-0{d}", "name_zh": "劳动节", "name_en": "Labour Day"}
            for d in range(1, 6)
        ),
        *(
            {"date": f"2026-06-{d}", "name_zh": "端午节", "name_en": "Dragon Boat"}
            for d in (19, 20, 21)
        ),
        *(
            {"date": f"2026-09-{d}", "name_zh": "中秋节", "name_en": "Mid-Autumn"}
            for d in (25, 26, 27)
        ),
        *(
            {"date": f"2026-10-0{d}", "name_zh": "国庆节", "name_en": "National Day"}
            for d in range(1, 8)
        ),
    ],
    "workdays": [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        {"date": "2026-10-10", "name": "国庆调休上班"},
    ],
}


def test_loading_a_notice_makes_the_year_official() -> None:
    official = WorkingDayCalendar()
    before = WorkingDayCalendar(official_through=2025)
    with pytest.raises(CalendarDataMissingError):
        before.is_working_day(D(2026, 3, 2))
    notice = before.load_notice(NOTICE_2026)
    assert notice.year == 2026
    assert before.official_through == 2026
    assert before.loaded_notices == (notice,)
    # The hand-typed notice and holidays' 2026 data describe the same calendar.
    start, end = np.datetime64("2026-01-01"), np.datetime64("2027-01-01")
    days = np.arange(start, end, dtype="datetime64[D]")
    assert (before.is_working_day_many(days) == official.is_working_day_many(days)).all()
    assert before.holiday_name(D(2026, 10, 10)) == Text(zh="国庆调休上班", en="国庆调休上班")
    # Loading the same notice again is harmless.
    before.load_notice(NOTICE_2026)


def test_loading_agreeing_data_for_an_official_year_is_harmless() -> None:
    cal = WorkingDayCalendar()
    cal.load_notice(NOTICE_2026)
    assert cal.is_working_day(D(2026, 10, 10))


def test_a_different_notice_for_an_official_year_is_a_conflict() -> None:
    cal = WorkingDayCalendar()
    changed = dict(NOTICE_2026, workdays=["2026-01-04", "2026-02-14", "2026-02-28"])
    with pytest.raises(CalendarDataConflictError) as info:
        cal.load_notice(changed)
    assert "2026-05-09" in info.value.describe("en")
    assert cal.is_working_day(D(2026, 5, 9))  # nothing was merged


def test_a_date_both_off_and_worked_is_a_conflict() -> None:
    cal = WorkingDayCalendar(official_through=2025)
    data = {"year": 2026, "holidays": ["2026-02-14"], "workdays": ["2026-02-14"]}
    with pytest.raises(CalendarDataConflictError):
        cal.load_notice(data)
    assert not cal.is_official_year(2026)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"holidays": []}, "year"),
        ({"year": "2027"}, "year"),
        ({"year": 2027, "holidays": "2027-01-01"}, "list"),
        ({"year": 2027, "holidays": [{"name": "x"}]}, "date"),
        ({"year": 2027, "holidays": ["2027-13-01"]}, "YYYY-MM-DD"),
        ({"year": 2027, "holidays": ["2025-06-01"]}, "not in 2027"),
        ({"year": 2027, "holidays": ["2027-01-01", "2027-01-01"]}, "twice"),
        ({"year": 2027, "workdays": ["2027-02-03"]}, "not a Saturday or Sunday"),
        ({"year": 2027, "holidays": [{"date": "2027-01-01", "name": 3}]}, "text"),
        ({"year": 2027, "extra": 1}, "unknown"),
        ({"year": 2300}, "outside"),
    ],
)
def test_malformed_notices(data: dict[str, object], fragment: str) -> None:
    cal = WorkingDayCalendar()
    with pytest.raises(InvalidInputError) as info:
        cal.load_notice(data)
    assert fragment in info.value.describe("en")
    assert "docs/explanation/calendar.md" in info.value.describe("zh")


def test_notice_files_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "notice-2027.toml"
    toml.write_text(
        'year = 2027\n[[holidays]]\ndate = 2027-10-01\nname_zh = "国庆节"\n'
        'name_en = "National Day"\n[[workdays]]\ndate = 2027-09-26\n',
        encoding="utf-8",
    )
    cal = WorkingDayCalendar()
    cal.load_notice(toml)
    assert cal.is_official_year(2027)
    assert cal.is_working_day(D(2027, 9, 26))  # a Sunday made a working day
    assert cal.holiday_name(D(2027, 10, 1)) == Text(zh="国庆节", en="National Day")

    data = {"year": 2028, "holidays": ["2028-01-03"], "workdays": []}
    json_file = tmp_path / "notice-2028.json"
    json_file.write_text(json.dumps(data), encoding="utf-8")
    cal.load_notice(str(json_file))
    assert not cal.is_working_day(D(2028, 1, 3))
    assert cal.official_through == 2028


def test_a_gap_year_stays_unofficial(tmp_path: Path) -> None:
    cal = WorkingDayCalendar()
    gap = cal.official_through + 1
    cal.load_notice({"year": gap + 1, "holidays": [f"{gap + 1}-01-03"]})
    assert cal.official_through == gap - 1
    assert cal.is_official_year(gap + 1)
    assert cal.count_working_days(D(gap + 1, 1, 1), D(gap + 1, 1, 10)) >= 5
    with pytest.raises(CalendarDataMissingError) as info:
        cal.count_working_days(D(gap - 1, 12, 1), D(gap + 1, 1, 10))
    assert info.value.year == gap
    days = np.array([f"{gap - 1}-12-01"], dtype="datetime64[D]")
    with pytest.raises(CalendarDataMissingError):
        cal.count_working_days_many(days, np.array([f"{gap + 1}-01-10"], dtype="datetime64[D]"))
    assert list(
        cal.is_official_many(
            np.array([f"{gap}-05-01", f"{gap + 1}-05-01", "1990-01-01"], dtype="datetime64[D]")
        )
    ) == [False, True, False]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("n.yaml", "year: 2027", ".toml or .json"),
        ("n.toml", "year = ", "parsed"),
        ("n.json", "{", "parsed"),
        ("missing.toml", None, "cannot read"),
    ],
)
def test_bad_notice_files(tmp_path: Path, name: str, content: str | None, fragment: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        HolidayNotice.from_file(path)
    assert fragment in info.value.describe("en")


def test_default_calendar_is_shared_and_strict() -> None:
    assert default_calendar() is default_calendar()
    assert not default_calendar().allow_provisional


# -- batch operations and properties --------------------------------------------------------

dates = st.dates(min_value=D(2002, 6, 1), max_value=D(2050, 10, 1))
steps = st.integers(min_value=-250, max_value=250)


def test_batch_strict_and_provisional(cal: WorkingDayCalendar) -> None:
    year = cal.official_through + 1
    days = np.array([f"{year - 1}-12-30", f"{year}-01-05"], dtype="datetime64[D]")
    with pytest.raises(CalendarDataMissingError):
        cal.is_working_day_many(days)
    with pytest.raises(CalendarDataMissingError):
        cal.add_working_days_many(days, 1)
    assert cal.add_working_days_many(days, 1, allow_provisional=True).dtype == "datetime64[D]"
    with pytest.raises(CalendarDataMissingError):
        cal.add_working_days_many(
            np.array(["2056-12-20"], dtype="datetime64[D]"), 30, allow_provisional=True
        )
    with pytest.raises(CalendarDataMissingError):
        cal.is_working_day_many(np.array(["1990-01-01"], dtype="datetime64[D]"))


def test_batch_with_per_date_steps(cal: WorkingDayCalendar) -> None:
    days = np.array(["2023-09-28", "2023-10-07", "2025-10-03"], dtype="datetime64[D]")
    result = cal.add_working_days_many(days, np.array([1, -1, 0]))
    assert result.tolist() == [D(2023, 10, 7), D(2023, 9, 28), D(2025, 10, 3)]
    assert cal.add_working_days_many(days[:0], 3).size == 0


@settings(max_examples=300, deadline=None)
@given(day=dates, n=st.integers(min_value=0, max_value=250))
def test_add_then_count_gives_n(loose: WorkingDayCalendar, day: D, n: int) -> None:
    result = loose.add_working_days(day, n)
    assert loose.count_working_days(day, result) == n
    if n > 0:
        assert loose.is_working_day(result)
        assert loose.count_working_days(day, result - dt.timedelta(days=1)) == n - 1


@settings(max_examples=300, deadline=None)
@given(day=dates, n=st.integers(min_value=1, max_value=250))
def test_there_and_back(loose: WorkingDayCalendar, day: D, n: int) -> None:
    start = loose.working_day_on_or_after(day)
    assert loose.add_working_days(loose.add_working_days(start, n), -n) == start
    back = loose.add_working_days(day, -n)
    # Backwards, n working days lie in [back, day).
    assert loose.count_working_days(back - dt.timedelta(days=1), day - dt.timedelta(days=1)) == n


@settings(max_examples=300, deadline=None)
@given(a=dates, b=dates, n=steps)
def test_monotonic_and_additive(loose: WorkingDayCalendar, a: D, b: D, n: int) -> None:
    lo, hi = sorted((a, b))
    assert loose.add_working_days(lo, n) <= loose.add_working_days(hi, n)
    mid = lo + (hi - lo) / 2
    assert loose.count_working_days(lo, hi) == (
        loose.count_working_days(lo, mid) + loose.count_working_days(mid, hi)
    )
    assert 0 <= loose.count_working_days(lo, hi) <= (hi - lo).days


@settings(max_examples=50, deadline=None)
@given(
    days=st.lists(dates, min_size=1, max_size=40),
    ends=st.lists(dates, min_size=1, max_size=40),
    n=steps,
)
def test_batch_equals_scalar(
    loose: WorkingDayCalendar, days: list[D], ends: list[D], n: int
) -> None:
    size = min(len(days), len(ends))
    days, ends = days[:size], ends[:size]
    array = np.array(days, dtype="datetime64[D]")
    end_array = np.array(ends, dtype="datetime64[D]")
    assert loose.is_working_day_many(array).tolist() == [loose.is_working_day(d) for d in days]
    assert loose.add_working_days_many(array, n).tolist() == [
        loose.add_working_days(d, n) for d in days
    ]
    assert loose.count_working_days_many(array, end_array).tolist() == [
        loose.count_working_days(d, e) for d, e in zip(days, ends, strict=True)
    ]
    per_day = np.arange(size) - size // 2
    assert loose.add_working_days_many(array, per_day).tolist() == [
        loose.add_working_days(d, int(k)) for d, k in zip(days, per_day, strict=True)
    ]
