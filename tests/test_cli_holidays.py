"""``--holidays FILE``: this library's notice files and holiday-cn's yearly files, and the
refusal of a file that lists no days or names no source (an empty placeholder for a coming
year must never load as "a year without holidays")."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmbase_workflow.calendar import HolidayNotice, WorkingDayCalendar
from kmbase_workflow.cli import app
from kmbase_workflow.errors import InvalidInputError, KmbaseError

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def holiday_cn(calendar: WorkingDayCalendar, year: int) -> dict[str, Any]:
    """``year`` of ``calendar`` written as holiday-cn writes it: every day off of the breaks
    (weekends inside them too) and every weekend day worked, names in Chinese."""
    days = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        name = calendar.holiday_name(day)
        if (day.weekday() < 5 and not working) or (day.weekday() >= 5 and working):
            days.append(
                {
                    "name": name.zh if name else "假日",
                    "date": day.isoformat(),
                    "isOffDay": not working,
                }
            )
        day += dt.timedelta(days=1)
    return {
        "$schema": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json",
        "year": year,
        "papers": ["https://www.gov.cn/zhengce/zhengceku/202411/content_6986383.htm"],
        "days": days,
    }


def test_a_holiday_cn_file_gives_the_official_calendar(tmp_path: Path) -> None:
    official = WorkingDayCalendar()
    data = holiday_cn(official, 2025)
    file = tmp_path / "2025.json"
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before = WorkingDayCalendar(official_through=2024)
    notice = before.load_notice(file)
    assert notice.references == tuple(data["papers"])
    assert before.is_official_year(2025)
    day = dt.date(2025, 1, 1)
    while day.year == 2025:
        assert before.is_working_day(day) == official.is_working_day(day), day
        day += dt.timedelta(days=1)
    # loading it into a calendar that holds 2025 already agrees with what it holds
    official.load_notice(file)


def test_the_holiday_cn_example_in_the_docs_loads() -> None:
    notice = HolidayNotice.from_file(EXAMPLES / "holiday-cn-2025.json")
    assert notice.year == 2025
    national_day = next(d for d in notice.holidays if d.date == dt.date(2025, 10, 1))
    assert national_day.name.zh == "国庆节、中秋节"
    assert national_day.name.en == "National Day and Mid-autumn Festival"
    worked = next(d for d in notice.workdays if d.date == dt.date(2025, 9, 28))
    assert worked.name.en == "make-up working day (National Day and Mid-autumn Festival)"


@pytest.mark.parametrize(
    ("content", "zh", "en"),
    [
        (  # holiday-cn's placeholder for a year whose notice is not out
            {"$schema": "x", "$id": "y", "year": 2027, "papers": [], "days": []},
            "未列出 2027 年的任何放假日",
            "lists no day off and no working day for 2027",
        ),
        (
            {
                "year": 2027,
                "papers": [],
                "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": True}],
            },
            "未注明数据来源",
            "names no source",
        ),
        (
            {"year": 2027, "holidays": ["2027-01-01"], "workdays": []},
            "未注明数据来源",
            "names no source",
        ),
        ({"year": 2027, "source": "x", "holidays": [], "workdays": []}, "未列出", "lists no day"),
        (
            {"year": 2027, "papers": ["u"], "days": [{"name": "元旦", "date": "2027-01-01"}]},
            "isOffDay",
            "isOffDay",
        ),
        ({"year": 2027, "papers": ["u"], "days": {}}, "days 应为列表", "days must be a list"),
        (
            {"year": 2027, "papers": ["u"], "days": [], "extra": 1},
            "未知字段 extra",
            "unknown fields extra",
        ),
    ],
)
def test_placeholders_and_malformed_files_are_refused_in_both_languages(
    tmp_path: Path, content: dict[str, Any], zh: str, en: str
) -> None:
    file = tmp_path / "2027.json"
    file.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        HolidayNotice.from_file(file)
    assert zh in info.value.describe("zh")
    assert en in info.value.describe("en")
    result = runner.invoke(
        app, ["calendar", "is-working-day", "2027-01-04", "--holidays", str(file), "--json"]
    )
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert zh in error["message"]["zh"]
    assert en in error["message"]["en"]


def test_the_cli_answers_from_a_holiday_cn_file(tmp_path: Path) -> None:
    next_year = WorkingDayCalendar().official_through + 1
    file = tmp_path / f"{next_year}.json"
    file.write_text(
        json.dumps(
            {
                "year": next_year,
                "papers": ["https://example.org/an-invented-notice"],
                "days": [{"name": "元旦", "date": f"{next_year}-01-01", "isOffDay": True}],
            }
        ),
        encoding="utf-8",
    )
    day = f"{next_year}-01-01"
    refused = runner.invoke(app, ["calendar", "is-working-day", day])
    assert refused.exit_code == 3
    for option in ("--holidays", "--notice"):  # --notice: the deprecated alias
        result = runner.invoke(
            app, ["calendar", "is-working-day", day, option, str(file), "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {
            "date": day,
            "working_day": False,
            "provisional": False,
        }


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 3000) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_day = st.fixed_dictionaries(
    {
        "name": st.text(max_size=6),
        "date": st.dates(dt.date(2025, 11, 1), dt.date(2027, 2, 1)).map(str) | _json_values,
        "isOffDay": st.booleans() | _json_values,
    }
)
_holiday_cn_files = st.fixed_dictionaries(
    {
        "year": st.sampled_from([2026, 2027]) | _json_values,
        "papers": st.lists(st.text(max_size=5), max_size=2) | _json_values,
        "days": st.lists(_day, max_size=6) | _json_values,
    }
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=_holiday_cn_files
    | st.dictionaries(
        st.sampled_from(["year", "holidays", "workdays", "source", "days", "papers", "x"]),
        _json_values,
    )
    | _json_values
)
def test_fuzz_the_file_loader(tmp_path: Path, content: object) -> None:
    """Whatever a file holds, the loader returns a notice or a bilingual library error."""
    file = tmp_path / "fuzz.json"
    file.write_text(json.dumps(content), encoding="utf-8")
    try:
        notice = HolidayNotice.from_file(file)
    except KmbaseError as error:
        described = (error.describe("zh"), error.describe("en"))
    else:
        described = ("loaded", "loaded")
        assert notice.holidays or notice.workdays
        assert notice.references
    assert all(described)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=60))
def test_fuzz_the_file_loader_with_bytes(tmp_path: Path, raw: bytes) -> None:
    for name in ("fuzz.json", "fuzz.toml"):
        file = tmp_path / name
        file.write_bytes(raw)
        with pytest.raises(KmbaseError):
            HolidayNotice.from_file(file)
