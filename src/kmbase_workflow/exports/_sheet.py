"""Laying out a sheet: a title, bold bordered headers, bordered data rows, column widths, and
saving. Every cell goes through `_cells.put`, so none from data is ever a formula."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cells import column_letter, openpyxl_module, put, write_error

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "data_row",
    "header_cell",
    "header_row",
    "new_workbook",
    "save",
    "thin_border",
    "title",
    "widths",
]


def new_workbook() -> Workbook:
    openpyxl = openpyxl_module()
    workbook: Workbook = openpyxl.Workbook()
    del workbook[workbook.sheetnames[0]]
    return workbook


def title(sheet: Worksheet, row: int, text: str, width: int) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    cell = put(sheet, row, 1, text)
    cell.font = Font(bold=True, size=14)
    cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    sheet.row_dimensions[row].height = 28


def thin_border() -> Any:
    from openpyxl.styles import Border, Side  # noqa: PLC0415

    side = Side(style="thin")
    return Border(left=side, right=side, top=side, bottom=side)


def header_cell(sheet: Worksheet, row: int, column: int, text: str | None) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    cell = put(sheet, row, column, text)
    cell.font = Font(bold=True)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    cell.border = thin_border()


def header_row(sheet: Worksheet, row: int, headers: Iterable[str]) -> None:
    for index, header in enumerate(headers, start=1):
        header_cell(sheet, row, index, header)


def data_row(sheet: Worksheet, row: int, cells: Sequence[object], *, bold: bool = False) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    border = thin_border()
    for index, value in enumerate(cells, start=1):
        cell = put(sheet, row, index, value)
        cell.border = border
        cell.alignment = Alignment(vertical="center", wrap_text=isinstance(value, str))
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        if bold:
            cell.font = Font(bold=True)


def widths(sheet: Worksheet, widths: Iterable[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[column_letter(index)].width = width


def save(workbook: Workbook, target: Path) -> None:
    try:
        workbook.save(target)
    except OSError as exc:
        raise write_error(target, exc) from None
