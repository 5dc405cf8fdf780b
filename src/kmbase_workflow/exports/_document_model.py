"""The shape every document of `kmbase_workflow.exports` is computed into, before any format:
paragraphs of a kind (title, body, signature …), tables of text cells, and page breaks (a wide
table turns its page to landscape). One function computes a document's content from the
record; the renderers of ``_render`` (``.docx``, HTML, plain text) consume it, so the formats
never disagree. Every piece of data is a Python string here: a renderer writes it as text.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "Block",
    "Break",
    "Cell",
    "Document",
    "Para",
    "Style",
    "Table",
    "cell_text",
    "chinese_date",
    "chinese_number",
    "row",
]


class Style(enum.Enum):
    """What a paragraph is, as GB/T 9704-2012 lays it out."""

    TITLE = "title"
    """标题: 小标宋 二号, centred."""
    SALUTATION = "salutation"
    """主送机关: flush left."""
    BODY = "body"
    """正文: 仿宋 三号, first line indented two characters."""
    CENTERED = "centered"
    """A centred line (a table's title on a page of its own)."""
    PLAIN = "plain"
    """A line flush left, not indented (a form's blanks: 基地名称：…)."""
    SIGNATURE = "signature"
    """发文机关署名: centred above the date."""
    DATE = "date"
    """成文日期: right, four characters in from the margin."""
    NOTE = "note"
    """A small note under a table (注：…)."""


@attrs.frozen
class Para:
    """A paragraph."""

    text: str
    style: Style = Style.BODY


@attrs.frozen
class Cell:
    """A table cell: its value (text, a number, a date, ``None`` for a blank), the columns
    it spans, the rows it spans (``down``), and whether it is a header (bold, centred). A cell
    that a cell above covers is ``merged``: renderers leave it out (HTML) or join it (Word)."""

    value: object = None
    span: int = 1
    header: bool = False
    down: int = 1
    merged: bool = False
    strong: bool = False
    """Bold, flush left (a heading across a form: 一、基地基本情况)."""

    @property
    def text(self) -> str:
        """The value as the documents print it (a date as ``2019年3月1日``)."""
        return cell_text(self.value)


@attrs.frozen
class Table:
    """A table: rows of cells (each row's spans add up to the table's width), the columns'
    relative widths, and the size of its text in points."""

    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...]
    size: float = 14
    header_rows: int = 1
    """The first rows repeat on every page."""

    @property
    def width(self) -> int:
        """The number of columns."""
        return len(self.widths)


@attrs.frozen
class Break:
    """A new page; ``landscape`` turns it (and the pages after it, until the next break)."""

    landscape: bool = False


Block = Para | Table | Break


@attrs.frozen
class Document:
    """A document as computed from the record: a title (the file's title too), its blocks in
    order, and a summary of what it holds (``--json``, the HTTP headers, tests)."""

    kind: str
    """``notice``, ``decision``, ``application-form`` or ``recommendations``."""
    title: str
    blocks: tuple[Block, ...]
    summary: Mapping[str, object] = attrs.field(factory=dict)

    def tables(self) -> tuple[Table, ...]:
        """The document's tables in order."""
        return tuple(block for block in self.blocks if isinstance(block, Table))

    def paragraphs(self) -> tuple[Para, ...]:
        """The document's paragraphs in order."""
        return tuple(block for block in self.blocks if isinstance(block, Para))


def chinese_date(day: dt.date) -> str:
    """A date as official documents write it: ``2025年9月26日`` (Arabic numerals, no zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


_DIGITS = "零一二三四五六七八九"


def chinese_number(number: int) -> str:
    """A small whole number in Chinese numerals (三, 十, 十五, 二十): periods in words."""
    if not 0 <= number < 100:
        return str(number)
    tens, units = divmod(number, 10)
    if tens == 0:
        return _DIGITS[units]
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[units] if units else "")


def cell_text(value: object) -> str:
    """A value as a document prints it: ``None`` blank, a date in Chinese, a whole float
    without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return chinese_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def row(values: Sequence[object], *, header: bool = False) -> tuple[Cell, ...]:
    """A row of one-column cells."""
    return tuple(Cell(value, header=header) for value in values)
