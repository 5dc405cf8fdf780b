"""What every spreadsheet file of `kmbase_workflow.exports` shares: the optional ``openpyxl``,
paths and their errors, column letters, and how one value becomes one cell.

Data is never code. Every cell written from data goes through `put` (``.xlsx``) or
`csv_text` (``.csv``):

- in a workbook, text is always a text cell: a name such as ``=HYPERLINK(...)`` or ``#N/A``
  is stored as the string it is, never as a formula or an error value, and text that starts
  with ``= + - @`` is marked with Excel's quote prefix so that editing the cell keeps it text;
  characters XML cannot hold (control characters) become U+FFFD;
- in a CSV file, text that starts with ``= + - @``, a tab or a carriage return gets a leading
  apostrophe (the OWASP guard against CSV injection), which `csv_unguard` takes away again
  when the library reads its own file back.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .._i18n import Text
from ..errors import InvalidInputError, install_hint

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FORMULA_TRIGGERS",
    "column_letter",
    "csv_safe",
    "csv_text",
    "csv_unguard",
    "local_text",
    "openpyxl_module",
    "optional_module",
    "put",
    "suffix_error",
    "write_error",
    "xlsx_path",
]


def optional_module(module: str, package: str, extra: str, what: Text, otherwise: Text) -> Any:
    """The optional ``module`` (from ``package``), or a bilingual error saying ``what`` needs
    it and naming the ``extra`` that installs it, or what to do ``otherwise``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InvalidInputError(
            Text(
                zh=f"{what.zh}需要 {package}，但未安装",
                en=f"{what.en} needs {package}, which is not installed",
            ),
            hint=install_hint(extra, otherwise=otherwise),
        ) from None


def openpyxl_module() -> Any:
    """The ``openpyxl`` module, or a bilingual error naming the extra that installs it."""
    return optional_module(
        "openpyxl",
        "openpyxl",
        "excel",
        Text(zh="读写 Excel（.xlsx）文件", en="reading and writing Excel (.xlsx) files"),
        Text(zh="改用 .csv 文件", en="use a .csv file"),
    )


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column index (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def write_error(target: Path, exc: OSError) -> InvalidInputError:
    """The library error for a file that cannot be written."""
    reason = exc.strerror or str(exc)
    return InvalidInputError(
        Text(zh=f"无法写入 {target}：{reason}", en=f"cannot write {target}: {reason}"),
        hint=Text(zh="请检查路径和权限", en="check the path and its permissions"),
    )


def suffix_error(target: Path, allowed: Sequence[str], what: str) -> InvalidInputError:
    """The library error for a file whose extension is not one of ``allowed``."""
    names = "、".join(allowed)
    return InvalidInputError(
        Text(
            zh=f"{target}：{what} 只能是 {names} 文件",
            en=f"{target}: {what} must be a {' or '.join(allowed)} file",
        ),
        hint=Text(zh=f"请使用 {names} 扩展名", en=f"use the {' or '.join(allowed)} extension"),
    )


def xlsx_path(path: str | Path) -> Path:
    """``path`` as a `Path`, refused unless it ends in ``.xlsx``."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise suffix_error(target, (".xlsx",), "Excel")
    return target


_Value = str | int | float | dt.date | None
"""What the writers put into a cell (``None``: empty)."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters with which a spreadsheet program takes a CSV field for a formula."""
CSV_GUARD = "'"
"""What `csv_safe` puts before such a field (OWASP's recommendation)."""


def local_text(raw: bytes, source: object) -> str:
    """The text of a file a person saved (a CSV table, a list of ids): UTF-8, with or without
    a byte-order mark, else GB18030, the code page in which Excel and Notepad on Chinese
    Windows save (GBK is within it); `InvalidInputError` naming ``source`` otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInputError(
            Text(
                zh=f"{source} 既不是 UTF-8 也不是 GB18030 编码的文本",
                en=f"{source} is neither UTF-8 nor GB18030 text",
            ),
            hint=Text(zh="请以 UTF-8 保存文件", en="save the file as UTF-8"),
        ) from None


def csv_safe(text: str) -> str:
    """``text`` with an apostrophe in front when it starts like a formula (see
    `FORMULA_TRIGGERS`), so that no spreadsheet program runs it."""
    return CSV_GUARD + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_unguard(text: str) -> str:
    """The text `csv_safe` was given: one apostrophe before a formula character removed."""
    if text.startswith(CSV_GUARD) and text[1:2] and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def csv_text(value: object) -> str:
    """A cell value as CSV text (``None``: empty; a date: ISO; text: `csv_safe`)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return csv_safe(value)
    return str(value)


def put(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write ``value`` into a cell: text always as text (never a formula or an error value),
    anything else (numbers, dates, ``None``) as it is. Returns the cell."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # noqa: PLC0415 - optional extra

    cell = cast("Cell", sheet.cell(row, column))
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        cell.value = text
        # openpyxl takes "=..." for a formula and "#N/A" for an error: it is data, text.
        cell.data_type = "s"
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    else:
        cell.value = cast("_Value", value)
    return cell
