"""What every spreadsheet file of `kmbase_workflow.exports` shares: the optional ``openpyxl``,
paths and their errors, column letters, and how one value becomes one cell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._i18n import Text
from ..errors import InvalidInputError

__all__ = [
    "column_letter",
    "csv_text",
    "openpyxl_module",
    "suffix_error",
    "write_error",
    "xlsx_path",
]


def openpyxl_module() -> Any:
    """The ``openpyxl`` module, or a bilingual error naming the extra that installs it."""
    try:
        import openpyxl  # noqa: PLC0415 - optional: only .xlsx files need it
    except ImportError:
        raise InvalidInputError(
            Text(
                zh="读写 Excel（.xlsx）文件需要 openpyxl，但未安装",
                en="reading and writing Excel (.xlsx) files needs openpyxl, which is not installed",
            ),
            hint=Text(
                zh="pip install 'kmbase-workflow[excel]'，或改用 .csv 文件",
                en="pip install 'kmbase-workflow[excel]', or use a .csv file",
            ),
        ) from None
    return openpyxl


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


def csv_text(value: object) -> str:
    """A cell value as CSV text (``None``: empty; a date: ISO)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
