"""Holiday notices as data: the State Council's yearly notice (this library's TOML or
JSON form, or a holiday-cn file), read and checked, and the days a calendar departs
from Monday to Friday."""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from .._i18n import Text
from ..errors import CalendarDataConflictError, InvalidInputError
from ..serialization import date_value

_MAKE_UP_WORKDAY = Text(zh="调休上班日", en="make-up working day")


@attrs.frozen
class NoticeDay:
    """A day named in a holiday notice."""

    date: dt.date
    name: Text


@attrs.frozen
class SpecialDay:
    """A day on which the working-day calendar departs from Monday to Friday.

    ``kind`` is ``"holiday"`` (a weekday off) or ``"workday"`` (a weekend day worked).
    """

    date: dt.date
    kind: Literal["holiday", "workday"]
    name: Text

    def describe(self) -> Text:
        """``2025-10-08 国庆节 (holiday)`` style text in both languages."""
        iso = self.date.isoformat()
        if self.kind == "holiday":
            return Text(zh=f"{iso} {self.name.zh}（放假）", en=f"{iso} {self.name.en} (day off)")
        return Text(zh=f"{iso} {self.name.zh}（上班）", en=f"{iso} {self.name.en} (working day)")


def _bad_notice(source: str, problem: Text) -> InvalidInputError:
    return InvalidInputError(
        Text(
            zh=f"节假日通知 {source} 有误：{problem.zh}",
            en=f"holiday notice {source}: {problem.en}",
        ),
        hint=Text(
            zh="请按 docs/explanation/calendar.md 的“载入新一年的通知”一节修改后重试",
            en='correct it as shown in docs/explanation/calendar.md, "Loading a new year\'s notice"',
        ),
    )


def _parse_date(value: object, source: str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _bad_notice(
            source, Text(zh=f"{where} 应为日期而非时间", en=f"{where} must be a date, not a time")
        )
    day = date_value(value)
    if day is not None:
        return day
    raise _bad_notice(
        source,
        Text(
            zh=f"{where} 应为 YYYY-MM-DD 格式的日期，收到 {value!r}",
            en=f"{where} must be a date like YYYY-MM-DD, got {value!r}",
        ),
    )


def _parse_name(entry: Mapping[str, Any], default: Text, source: str, where: str) -> Text:
    name = entry.get("name")
    zh = entry.get("name_zh", name)
    en = entry.get("name_en", name)
    if zh is None and en is None:
        return default
    zh = en if zh is None else zh
    en = zh if en is None else en
    if not isinstance(zh, str) or not isinstance(en, str):
        raise _bad_notice(
            source, Text(zh=f"{where} 的名称应为文字", en=f"{where}: a name must be text")
        )
    return Text(zh=zh, en=en)


def _parse_days(
    data: Mapping[str, Any], key: str, default: Text, source: str
) -> tuple[NoticeDay, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise _bad_notice(source, Text(zh=f"{key} 应为列表", en=f"{key} must be a list"))
    days: list[NoticeDay] = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if isinstance(entry, (str, dt.date)):
            entry = {"date": entry}  # noqa: PLW2901 - a bare date is shorthand for a table
        if not isinstance(entry, Mapping) or "date" not in entry:
            raise _bad_notice(
                source,
                Text(zh=f"{where} 应含 date 字段", en=f"{where} must be a table with a date"),
            )
        day = _parse_date(entry["date"], source, f"{where}.date")
        days.append(NoticeDay(day, _parse_name(entry, default, source, where)))
    return tuple(days)


@attrs.frozen
class HolidayNotice:
    """One year's holiday notice as data: the days off and the make-up working days.

    ``holidays`` lists every day off of the notice's breaks (weekend days inside a break may
    be listed or not: they are days off either way); ``workdays`` lists the Saturdays and
    Sundays worked. Dates lie in ``year`` or in December of the year before (a notice may
    arrange the last days of the previous year, as the 2019 notice did for 2018-12-29..31).
    """

    year: int
    holidays: tuple[NoticeDay, ...]
    workdays: tuple[NoticeDay, ...]
    source: str = "<mapping>"
    references: tuple[str, ...] = ()
    """Where the data comes from: the State Council notices it transcribes (a file's
    ``source``, or the ``papers`` of a holiday-cn file)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "<mapping>") -> HolidayNotice:
        """Read a notice from a mapping (the parsed TOML or JSON), checking its form.

        Raises `InvalidInputError` when a field is missing or
        malformed, a date lies outside the notice's year (or the December before), a date
        is listed twice, or a make-up working day is not a Saturday or Sunday.
        """
        if not isinstance(data, Mapping):
            raise _bad_notice(source, Text(zh="内容应为表", en="the notice must be a table"))
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool):
            raise _bad_notice(
                source, Text(zh="缺少整数字段 year", en="a whole-number field year is required")
            )
        unknown = sorted(set(data) - {"year", "holidays", "workdays", "source", "title"})
        if unknown:
            raise _bad_notice(
                source,
                Text(
                    zh=f"未知字段 {', '.join(unknown)}", en=f"unknown fields {', '.join(unknown)}"
                ),
            )
        days_off = _parse_days(data, "holidays", Text(zh="节假日", en="public holiday"), source)
        worked = _parse_days(data, "workdays", _MAKE_UP_WORKDAY, source)
        seen: set[dt.date] = set()
        for day in (*days_off, *worked):
            if not (day.date.year == year or (day.date.year == year - 1 and day.date.month == 12)):
                raise _bad_notice(
                    source,
                    Text(
                        zh=f"{day.date} 不在 {year} 年（或上年 12 月）内",
                        en=f"{day.date} is not in {year} (or the December before)",
                    ),
                )
            if day.date in seen:
                both = day.date in {d.date for d in days_off} and day.date in {
                    d.date for d in worked
                }
                if both:
                    raise CalendarDataConflictError(
                        Text(
                            zh=f"{source}：{day.date} 同时被列为放假日和上班日",
                            en=f"{source}: {day.date} is listed both as a day off and as a "
                            "working day",
                        ),
                        hint=Text(
                            zh="请对照国务院通知原文更正该日期",
                            en="check the date against the State Council's notice and correct it",
                        ),
                    )
                raise _bad_notice(
                    source, Text(zh=f"{day.date} 重复列出", en=f"{day.date} is listed twice")
                )
            seen.add(day.date)
        for day in worked:
            if day.date.weekday() < 5:
                raise _bad_notice(
                    source,
                    Text(
                        zh=f"调休上班日 {day.date} 不是周六或周日",
                        en=f"make-up working day {day.date} is not a Saturday or Sunday",
                    ),
                )
        return cls(year=year, holidays=days_off, workdays=worked, source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> HolidayNotice:
        """Read a notice from a ``.toml`` or ``.json`` file: this library's format, or a
        yearly file of holiday-cn (``{"year", "papers", "days": [{"name", "date",
        "isOffDay"}]}``, https://github.com/NateScarlet/holiday-cn).

        A file must list at least one day and name its source (``source``; holiday-cn:
        ``papers``): an empty placeholder for a coming year is refused (`InvalidInputError`),
        never loaded as a year without holidays.
        """
        file = Path(path)
        source = str(file)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise _bad_notice(
                source,
                Text(zh=f"无法读取文件（{exc.strerror}）", en=f"cannot read it ({exc.strerror})"),
            ) from exc
        try:
            if file.suffix.lower() == ".toml":
                data = tomllib.loads(raw.decode("utf-8"))
            elif file.suffix.lower() == ".json":
                data = json.loads(raw.decode("utf-8"))
            else:
                raise _bad_notice(
                    source,
                    Text(
                        zh="文件应以 .toml 或 .json 结尾", en="the file must end in .toml or .json"
                    ),
                )
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _bad_notice(
                source, Text(zh=f"格式错误：{exc}", en=f"cannot be parsed: {exc}")
            ) from exc
        except RecursionError:
            raise _bad_notice(
                source, Text(zh="嵌套过深，无法解析", en="cannot be parsed: nested too deeply")
            ) from None
        if isinstance(data, Mapping) and ("days" in data or "papers" in data):
            data = _from_holiday_cn(data, source)
        if not isinstance(data, Mapping):
            raise _bad_notice(source, Text(zh="内容应为表", en="the notice must be a table"))
        notice = cls.from_mapping(data, source=source)
        if not notice.holidays and not notice.workdays:
            raise _bad_notice(
                source,
                Text(
                    zh=f"未列出 {notice.year} 年的任何放假日或调休上班日（可能是尚未公布的占位文件）",
                    en=f"lists no day off and no working day for {notice.year} (a placeholder "
                    "for a year whose notice is not out yet?)",
                ),
            )
        return attrs.evolve(notice, references=_references(data.get("source"), source))


_HOLIDAY_NAMES_EN = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-autumn Festival",
    "国庆节": "National Day",
}


def _name_en(name: str) -> str:
    """holiday-cn names days in Chinese only; the usual English names, else the Chinese."""
    parts = [part.strip('“”"') for part in name.replace("、", ",").split(",")]
    found = [next((en for zh, en in _HOLIDAY_NAMES_EN.items() if zh in p), "") for p in parts]
    return " and ".join(found) if all(found) else name


def _references(value: object, source: str) -> tuple[str, ...]:
    """The source a notice file names (a text, or a list of texts), which it must."""
    items = value if isinstance(value, list) else [value]
    texts = tuple(item.strip() for item in items if isinstance(item, str) and item.strip())
    if not texts or len(texts) != len(items):
        raise _bad_notice(
            source,
            Text(
                zh="未注明数据来源（source，holiday-cn 文件为 papers：国务院通知的网址）",
                en="names no source (source; in a holiday-cn file, papers: the URLs of the "
                "State Council's notices)",
            ),
        )
    return texts


def _from_holiday_cn(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A holiday-cn file as this library's mapping (``days`` split by ``isOffDay``)."""
    unknown = sorted(set(data) - {"$schema", "$id", "year", "papers", "days"})
    if unknown:
        raise _bad_notice(
            source,
            Text(zh=f"未知字段 {', '.join(unknown)}", en=f"unknown fields {', '.join(unknown)}"),
        )
    days = data.get("days")
    if not isinstance(days, list):
        raise _bad_notice(source, Text(zh="days 应为列表", en="days must be a list"))
    holidays: list[dict[str, object]] = []
    workdays: list[dict[str, object]] = []
    for index, day in enumerate(days):
        where = f"days[{index}]"
        if not isinstance(day, Mapping) or not isinstance(day.get("isOffDay"), bool):
            raise _bad_notice(
                source,
                Text(
                    zh=f"{where} 应含 date、name 与布尔字段 isOffDay",
                    en=f"{where} must have a date, a name and a true/false isOffDay",
                ),
            )
        name = day.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad_notice(
                source, Text(zh=f"{where} 的 name 应为文字", en=f"{where}: name must be text")
            )
        en = _name_en(name)
        if day["isOffDay"]:
            holidays.append({"date": day.get("date"), "name_zh": name, "name_en": en})
        else:
            workdays.append(
                {
                    "date": day.get("date"),
                    "name_zh": f"{name}调休上班",
                    "name_en": f"make-up working day ({en})",
                }
            )
    return {
        "year": data.get("year"),
        "holidays": holidays,
        "workdays": workdays,
        "source": data.get("papers"),
    }
