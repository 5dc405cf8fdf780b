"""Reading a roster or a staff table back from ``.xlsx`` or ``.csv`` (`read_roster`,
`read_staff`, `import_roster`, `import_staff`): as strict as
`kmbase_workflow.serialization`, every bad cell reported with its sheet, row and column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._i18n import Text
from ..errors import ApplicationFormatError, FieldValueError, InvalidInputError
from ..records import Application, ResidentEnterprise, StaffMember
from ..serialization import value_problem
from ._cells import column_letter, csv_unguard, local_text, openpyxl_module, suffix_error
from ._forms import (
    EDUCATION_LABELS,
    EDUCATION_SYNONYMS,
    ROSTER_COLUMNS,
    ROSTER_TABLE,
    STAFF_COLUMNS,
    STAFF_TABLE,
    Column,
    Kind,
)

__all__ = ["import_roster", "import_staff", "read_roster", "read_staff"]

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"是", "true", "y", "yes", "1"})
_FALSE = frozenset({"否", "false", "n", "no", "0"})
_TOTAL_MARKERS = frozenset({"合计", "总计", "total"})
_HEADER_SCAN_ROWS = 20

_EXPECTED: Mapping[Kind, Text] = {
    Kind.TEXT: Text(zh="应为文本", en="expected text"),
    Kind.INTEGER: Text(zh="应为整数", en="expected an integer"),
    Kind.NUMBER: Text(zh="应为数字", en="expected a number"),
    Kind.BOOLEAN: Text(
        zh="应为 是/否（或 true/false、Y/N、1/0）", en="expected 是/否 (or true/false, Y/N, 1/0)"
    ),
    Kind.DATE: Text(
        zh="应为日期（Excel 日期或 YYYY-MM-DD）",
        en="expected a date (an Excel date or YYYY-MM-DD)",
    ),
    Kind.EDUCATION: Text(
        zh="应为以下之一：" + "、".join(EDUCATION_LABELS.values()),
        en="expected one of: " + ", ".join(EDUCATION_LABELS.values()),
    ),
}
_REQUIRED = Text(zh="必填，不能为空", en="required, must not be empty")


_FINITE = Text(
    zh="应为有限的数字（不能是无穷大或 NaN）",
    en="expected a finite number (not infinity or NaN)",
)
_NOT_FINITE_TEXT = frozenset({"nan", "inf", "infinity"})


class _BadCellError(ValueError):
    """A cell that does not hold a value of its column's kind."""

    def __init__(self, expected: Text | None = None) -> None:
        super().__init__()
        self.expected = expected
        """What the cell should have held, when more precise than its column's kind."""


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normalise(header: object) -> str:
    """A header as compared: no whitespace, half-width brackets made full-width, lower case."""
    text = re.sub(r"\s+", "", str(header))
    return text.replace("(", "（").replace(")", "）").lower()


def _text(value: object, text: str | None) -> object:
    if text is not None:
        return csv_unguard(text)
    # A phone number typed into Excel is stored as a number: read its digits back.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise _BadCellError


def _integer(value: object, text: str | None) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel keeps every number as a float: 12.0 is the integer 12
    if text is not None and _INTEGER_TEXT.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts (4,300): no count is that large
            raise _BadCellError from None
    raise _BadCellError


def _number(value: object, text: str | None) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif text is not None and _NUMBER_TEXT.fullmatch(text):
        number = float(text)  # "1e999" is decimal text, and float() makes it infinity
    elif text is not None and text.lower().lstrip("+-") in _NOT_FINITE_TEXT:
        raise _BadCellError(_FINITE)
    else:
        raise _BadCellError
    if not math.isfinite(number):
        raise _BadCellError(_FINITE)
    return number


def _boolean(value: object, text: str | None) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    if text is not None and text.lower() in _TRUE:
        return True
    if text is not None and text.lower() in _FALSE:
        return False
    raise _BadCellError


def _date(value: object, text: str | None) -> object:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise _BadCellError
        return value.date()
    if isinstance(value, dt.date):
        return value
    if text is not None:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise _BadCellError from None
    raise _BadCellError


def _education(_value: object, text: str | None) -> object:
    if text is not None:
        for education, label in EDUCATION_LABELS.items():
            if text in (label, education.value) or text.lower() == education.value:
                return education
        if text in EDUCATION_SYNONYMS:
            return EDUCATION_SYNONYMS[text]
    raise _BadCellError


_PARSERS: Mapping[Kind, Callable[[object, str | None], object]] = {
    Kind.TEXT: _text,
    Kind.INTEGER: _integer,
    Kind.NUMBER: _number,
    Kind.BOOLEAN: _boolean,
    Kind.DATE: _date,
    Kind.EDUCATION: _education,
}


def _parse(value: object, kind: Kind) -> object:
    """A non-empty cell as a value of ``kind``; ``_BadCellError`` if it is not one."""
    return _PARSERS[kind](value, value.strip() if isinstance(value, str) else None)


def _describe(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return repr(value)


@attrs.frozen
class _Grid:
    where: str
    """The sheet's name (``.xlsx``) or the table's (``.csv``), to prefix each message."""
    rows: list[tuple[int, list[object]]]
    """Each row with its 1-based number in the file."""


def _read_csv(path: Path) -> list[list[object]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidInputError(
            Text(zh=f"无法读取 {path}：{reason}", en=f"cannot read {path}: {reason}"),
            hint=Text(zh="请检查路径", en="check the path"),
        ) from None
    text = local_text(raw, path)
    try:
        # newline=: a line break inside a quoted field is part of the field.
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise InvalidInputError(
            Text(zh=f"{path} 不是有效的 CSV：{exc}", en=f"{path} is not valid CSV: {exc}"),
            hint=Text(zh="请检查文件格式", en="check the file's format"),
        ) from None


def _read_xlsx(path: Path, table: str, sheet: str | None) -> tuple[str, list[list[object]]]:
    openpyxl = openpyxl_module()
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise InvalidInputError(
            Text(
                zh=f"无法读取 Excel 文件 {path}：{reason}",
                en=f"cannot read the Excel file {path}: {reason}",
            ),
            hint=Text(
                zh="请检查路径，并以 .xlsx 格式保存（不支持旧的 .xls）",
                en="check the path, and save the file as .xlsx (the old .xls is not supported)",
            ),
        ) from None
    try:
        names: list[str] = list(workbook.sheetnames)
        if sheet is not None and sheet not in names:
            raise InvalidInputError(
                Text(
                    zh=f"{path} 中没有工作表“{sheet}”（有：{'、'.join(names)}）",
                    en=f"{path} has no sheet {sheet!r} (it has: {', '.join(names)})",
                ),
                hint=Text(zh="请检查工作表名称", en="check the sheet's name"),
            )
        chosen = sheet if sheet is not None else (table if table in names else names[0])
        worksheet = workbook[chosen]
        rows: list[list[object]] = []
        try:
            rows.extend(list(row) for row in worksheet.iter_rows(values_only=True))
        except (ValueError, TypeError, OverflowError) as exc:
            # openpyxl cannot parse a stored value (a number cell holding "NaN" or "inf",
            # which no spreadsheet program writes): it stops before the row it failed on.
            at = len(rows) + 1
            raise ApplicationFormatError(
                str(path),
                [
                    Text(
                        zh=f"{chosen}：第{at}行或其后的一个单元格无法读取（{exc}）",
                        en=f"{chosen}: a cell in row {at} or below cannot be read ({exc})",
                    )
                ],
            ) from None
    finally:
        workbook.close()
    return chosen, rows


def _grid(path: str | Path, table: str, sheet: str | None) -> _Grid:
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(source)
        where = table
    elif suffix == ".xlsx":
        where, rows = _read_xlsx(source, table, sheet)
    else:
        raise suffix_error(source, (".xlsx", ".csv"), table)
    return _Grid(where, [(number, row) for number, row in enumerate(rows, start=1)])


def _at(grid: _Grid, row: int, index: int, header: str | None, problem: Text) -> Text:
    letter = column_letter(index + 1)
    if header is None:
        return Text(
            zh=f"{grid.where} 第{row}行 {letter}列：{problem.zh}",
            en=f"{grid.where} row {row}, column {letter}: {problem.en}",
        )
    return Text(
        zh=f"{grid.where} 第{row}行 {header}列（{letter}）：{problem.zh}",
        en=f"{grid.where} row {row}, column {letter} ({header}): {problem.en}",
    )


@attrs.frozen
class _Layout:
    """Where a table sits in a grid: its header row(s) and which column holds which field."""

    first_data_row: int
    fields: dict[int, Column]
    """Column index (0-based) → the column it holds (序号 included)."""
    headers: dict[int, str]
    """Column index → the header as written in the file."""
    ignored: set[int]
    """Columns without a header."""


def _lookup(columns: Sequence[Column]) -> dict[str, Column]:
    names: dict[str, Column] = {}
    for column in columns:
        names[_normalise(column.header)] = column
        if column.field is not None:
            names[_normalise(column.field)] = column
    return names


def _layout(
    grid: _Grid, table: str, columns: Sequence[Column], problems: list[Text]
) -> _Layout | None:
    names = _lookup(columns)
    anchor = next(column for column in columns if column.field == "name")
    anchors = {_normalise(anchor.header), "name"}
    groups = {_normalise(column.group) for column in columns if column.group is not None}
    position = next(
        (
            position
            for position, (_number, row) in enumerate(grid.rows[:_HEADER_SCAN_ROWS])
            if any(not _is_empty(cell) and _normalise(cell) in anchors for cell in row)
        ),
        None,
    )
    if position is None:
        problems.append(
            Text(
                zh=f"{grid.where}：前 {_HEADER_SCAN_ROWS} 行中找不到表头（含“{anchor.header}”"
                f"或 name 的一行）",
                en=f"{grid.where}: no header row (one with {anchor.header} or name) in the "
                f"first {_HEADER_SCAN_ROWS} rows",
            )
        )
        return None
    number, top = grid.rows[position]
    headers: dict[int, str] = {
        index: str(cell).strip() for index, cell in enumerate(top) if not _is_empty(cell)
    }
    first_data = position + 1
    # A two-level header (教育情况 over 学历 …): the next row holds only known headers.
    if first_data < len(grid.rows):
        below = grid.rows[first_data][1]
        filled = {index: cell for index, cell in enumerate(below) if not _is_empty(cell)}
        if filled and all(_normalise(cell) in names for cell in filled.values()):
            for index, cell in filled.items():
                headers[index] = str(cell).strip()
            first_data += 1
    fields: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for index, header in sorted(headers.items()):
        key = _normalise(header)
        column = names.get(key)
        if column is None:
            if key in groups:
                continue  # an upper header whose lower row was not recognised: no data column
            accepted = "、".join(c.header for c in columns)
            problems.append(
                _at(
                    grid,
                    number,
                    index,
                    None,
                    Text(
                        zh=f"未知列名 {_describe(header)}（可用：{accepted}，或英文字段名）",
                        en=f"unknown column {_describe(header)} (accepted: {accepted}, "
                        "or the English field names)",
                    ),
                )
            )
            continue
        if column.header in seen:
            problems.append(
                _at(
                    grid,
                    number,
                    index,
                    None,
                    Text(
                        zh=f"列 {_describe(header)} 与 {column_letter(seen[column.header] + 1)} "
                        f"列重复",
                        en=f"column {_describe(header)} repeats column "
                        f"{column_letter(seen[column.header] + 1)}",
                    ),
                )
            )
            continue
        seen[column.header] = index
        fields[index] = column
    for column in columns:
        if column.field is not None and column.header not in seen and _required(table, column):
            problems.append(
                Text(
                    zh=f"{grid.where}：缺少必填列 {column.header}（或 {column.field}）",
                    en=f"{grid.where}: required column {column.header} (or {column.field}) missing",
                )
            )
    width = max((len(row) for _n, row in grid.rows), default=0)
    ignored = set(range(width)) - set(headers)
    return _Layout(first_data, fields, headers, ignored)


_RECORDS: Mapping[str, type[Any]] = {ROSTER_TABLE: ResidentEnterprise, STAFF_TABLE: StaffMember}


def _attribute(table: str, field: str) -> attrs.Attribute[Any]:
    attribute: attrs.Attribute[Any] = getattr(attrs.fields(_RECORDS[table]), field)
    return attribute


def _required(table: str, column: Column) -> bool:
    assert column.field is not None
    return _attribute(table, column.field).default is attrs.NOTHING


def _is_total(row: Sequence[object]) -> bool:
    first = next((cell for cell in row if not _is_empty(cell)), None)
    return isinstance(first, str) and (
        _normalise(first) in _TOTAL_MARKERS or first.strip().startswith(("注：", "注:"))
    )


def _read_records(
    path: str | Path, table: str, columns: Sequence[Column], sheet: str | None
) -> tuple[Any, ...]:
    grid = _grid(path, table, sheet)
    problems: list[Text] = []
    layout = _layout(grid, table, columns, problems)
    records: list[Any] = []
    if layout is not None:
        reported_unheaded: set[int] = set()
        for number, row in grid.rows[layout.first_data_row :]:
            if all(_is_empty(cell) for cell in row) or _is_total(row):
                continue
            for index in sorted(layout.ignored - reported_unheaded):
                if index < len(row) and not _is_empty(row[index]):
                    reported_unheaded.add(index)
                    problems.append(
                        _at(
                            grid,
                            number,
                            index,
                            None,
                            Text(
                                zh=f"有值 {_describe(row[index])} 但该列没有表头",
                                en=f"holds {_describe(row[index])} but the column has no header",
                            ),
                        )
                    )
            record = _read_row(grid, table, layout, (number, row), problems)
            if record is not None:
                records.append(record)
    if problems:
        raise ApplicationFormatError(str(path), problems)
    return tuple(records)


def _read_row(
    grid: _Grid,
    table: str,
    layout: _Layout,
    row: tuple[int, Sequence[object]],
    problems: list[Text],
) -> object | None:
    number, cells = row
    values: dict[str, object] = {}
    where: dict[str, tuple[int, str]] = {}
    failed = False
    for index, column in layout.fields.items():
        if column.field is None:
            continue
        header = layout.headers[index]
        where[column.field] = (index, header)
        cell = cells[index] if index < len(cells) else None
        if _is_empty(cell):
            if column.kind is Kind.TEXT:
                values[column.field] = ""
            elif _required(table, column):
                problems.append(_at(grid, number, index, header, _REQUIRED))
                failed = True
            continue
        try:
            values[column.field] = _parse(cell, column.kind)
        except _BadCellError as error:
            expected = error.expected or _EXPECTED[column.kind]
            got = _describe(cell)
            problems.append(
                _at(
                    grid,
                    number,
                    index,
                    header,
                    Text(zh=f"{expected.zh}，实际为 {got}", en=f"{expected.en}, got {got}"),
                )
            )
            failed = True
    # What the application format refuses anywhere (a count beyond 2⁶³, a NUL), then each
    # field's own checks (not negative, not empty), all of them, before building.
    for field, value in values.items():
        if (problem := value_problem(value)) is not None:
            index, header = where[field]
            problems.append(_at(grid, number, index, header, problem))
            failed = True
            continue
        attribute = _attribute(table, field)
        if attribute.validator is None:
            continue
        try:
            attribute.validator(None, attribute, value)
        except FieldValueError as error:
            index, header = where[field]
            problems.append(_at(grid, number, index, header, error.problem))
            failed = True
    if failed:
        return None
    try:
        record: object = _RECORDS[table](**values)
    except (FieldValueError, TypeError):
        return None  # a required column is missing: reported with the header
    return record


def read_roster(path: str | Path, *, sheet: str | None = None) -> tuple[ResidentEnterprise, ...]:
    """The rows of 入驻企业（项目）名录表 in ``path`` (``.xlsx`` or ``.csv``), in file order.

    In a workbook, the sheet named ``sheet``, else the one named 入驻企业（项目）名录表, else the
    first. Raises `ApplicationFormatError` (source: the file)
    listing every unknown or missing column and every bad cell with its row and column.
    """
    records: tuple[ResidentEnterprise, ...] = _read_records(
        path, ROSTER_TABLE, ROSTER_COLUMNS, sheet
    )
    return records


def read_staff(path: str | Path, *, sheet: str | None = None) -> tuple[StaffMember, ...]:
    """The rows of 管理和专职服务人员情况表 in ``path`` (``.xlsx`` or ``.csv``), in file order.

    In a workbook, the sheet named ``sheet``, else the one named 管理和专职服务人员情况表, else
    the first. Errors as for `read_roster`.
    """
    records: tuple[StaffMember, ...] = _read_records(path, STAFF_TABLE, STAFF_COLUMNS, sheet)
    return records


def import_roster(
    application: Application, path: str | Path, *, sheet: str | None = None
) -> Application:
    """A copy of ``application`` whose ``residents`` are the rows of the roster at ``path``
    (replacing the ones it had); see `read_roster`."""
    return attrs.evolve(application, residents=read_roster(path, sheet=sheet))


def import_staff(
    application: Application, path: str | Path, *, sheet: str | None = None
) -> Application:
    """A copy of ``application`` whose ``staff`` are the rows of the staff table at ``path``
    (replacing the ones it had); see `read_staff`."""
    return attrs.evolve(application, staff=read_staff(path, sheet=sheet))
