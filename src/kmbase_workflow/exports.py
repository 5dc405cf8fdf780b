"""Excel and CSV: the official forms as spreadsheets, and rosters read back from them.

Exports (``.xlsx``, with ``openpyxl``: ``pip install 'kmbase-workflow[excel]'``):

- `export_recommendation_table`: 附件2 推荐汇总表, a district's judged cases of a round;
- `export_application_tables`: the four tables of 附件1 for one application, one sheet
  each (管理和专职服务人员情况表, 入驻企业（项目）名录表, 开展服务活动情况表,
  入驻小微企业服务满意度评价表);
- `export_roster` and `export_staff`: one table as ``.xlsx`` or ``.csv``.

Imports (``.xlsx`` or ``.csv``): `read_roster` and `read_staff` read the rows of
入驻企业（项目）名录表 and 管理和专职服务人员情况表 under their official Chinese headers (or
the records' English field names); `import_roster` and `import_staff` put them
into an application. Reading is as strict as `kmbase_workflow.serialization`: a bad file
raises one `ApplicationFormatError` listing every bad cell with
its sheet, row and column::

    入驻企业（项目）名录表 row 5, column D (从业人员数（人）): expected an integer, got "十二"

CSV needs no extra package; the library imports without ``openpyxl`` and only asks for it when
an ``.xlsx`` file is written or read. docs/exports.md describes every column.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs

from ._i18n import Text
from .case import Case, State
from .eligibility import evaluate
from .errors import ApplicationFormatError, FieldValueError, InvalidInputError
from .policy import Policy, load_policy
from .records import Application, Education, ResidentEnterprise, StaffMember

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from .workflow import Workflow

__all__ = [
    "RecommendationRow",
    "export_application_tables",
    "export_recommendation_table",
    "export_roster",
    "export_staff",
    "import_roster",
    "import_staff",
    "read_roster",
    "read_staff",
    "recommendation_rows",
]

_RECOMMENDATION_TITLE = "昆明市小型微型企业创业创新示范基地推荐汇总表"
_STAFF_TABLE = "管理和专职服务人员情况表"
_ROSTER_TABLE = "入驻企业（项目）名录表"
_ACTIVITIES_TABLE = "开展服务活动情况表"
_SATISFACTION_TABLE = "入驻小微企业服务满意度评价表"
_RECOMMENDATION_NOTE = "注：本表由县（市）区、开发（度假）区中小企业主管部门填写"
_YES, _NO = "是", "否"
_TICK = "√"
_TOTAL = "合计"

_Cell = str | int | float | dt.date | None
"""What the writers put into a cell (``None``: empty)."""

# -- optional dependency ------------------------------------------------------------------------


def _openpyxl() -> Any:
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


# -- the columns of the forms -----------------------------------------------------------------


class _Kind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    EDUCATION = "education"


@attrs.frozen
class _Column:
    header: str
    """The header as printed on the form (supplementary columns: the library's own)."""
    field: str | None
    """The record field it holds (``None`` for 序号)."""
    kind: _Kind = _Kind.TEXT
    group: str | None = None
    """The upper header of a two-level header (教育情况 over 学历 …)."""
    width: float = 14


_INDEX = _Column("序号", None, width=6)

_STAFF_COLUMNS: tuple[_Column, ...] = (
    _INDEX,
    _Column("姓名", "name", width=12),
    _Column("岗位", "position", width=16),
    _Column("学历", "education", _Kind.EDUCATION, group="教育情况", width=12),
    _Column("毕业院校及专业", "school_and_major", group="教育情况", width=22),
    _Column("资格证名称", "qualification", group="专业资质情况", width=16),
    _Column("发证机关", "qualification_issuer", group="专业资质情况", width=16),
    _Column("在基地工作年限（年）", "years_at_base", _Kind.NUMBER, width=12),
    _Column("联系电话", "phone", width=15),
    _Column("是否为持证创业导师", "startup_mentor", _Kind.BOOLEAN, width=12),
    # Supplementary: not on the form, needed for 第六条第（五）项.
    _Column("是否为专职服务人员", "full_time_service", _Kind.BOOLEAN, width=12),
    _Column("是否具有中级及以上职称", "intermediate_title_or_above", _Kind.BOOLEAN, width=14),
)
"""管理和专职服务人员情况表: the form's columns, then two supplementary ones."""

_ROSTER_COLUMNS: tuple[_Column, ...] = (
    _INDEX,
    _Column("企业名称", "name", width=30),
    _Column("入驻基地时间", "moved_in_on", _Kind.DATE, width=13),
    _Column("从业人员数（人）", "employees", _Kind.INTEGER, width=10),
    _Column("主营业务", "main_business", width=24),
    _Column("所属产业类型", "industry", width=14),
    _Column("上年度销售收入（万元）", "revenue_last_year_10k_yuan", _Kind.NUMBER, width=12),
    _Column("创新成果", "innovation_outputs", _Kind.INTEGER, width=10),
    _Column("联系人", "contact_person", width=10),
    _Column("联系电话", "contact_phone", width=15),
    # Supplementary: not on the form, needed for 第六条第（三）项 and 第（四）项.
    _Column("主营业务是否属于主导产业", "in_leading_industry", _Kind.BOOLEAN, width=14),
    _Column("是否为小型微型企业", "small_or_micro", _Kind.BOOLEAN, width=12),
)
"""入驻企业（项目）名录表: the form's columns, then two supplementary ones."""

_ACTIVITIES_HEADERS = (
    "序号",
    "服务活动类型",
    "服务活动简介",
    "服务场次",
    "活动成果",
    "公益性服务活动情况",
    "备注",
)
_SATISFACTION_HEADERS = ("序号", "企业名称", "联系人", "联系电话", "服务内容简述", "企业满意度")
_SATISFACTION_SUBHEADERS = ("满意", "不满意")
_RECOMMENDATION_HEADERS = (
    "序号",
    "基地名称",
    "地址",
    "运营机构名称",
    "负责人",
    "联系人",
    "联系电话（手机）",
    "是否满足各项申报条件",
    "是否同意推荐",
    "备注",
)

_EDUCATION_LABELS: Mapping[Education, str] = {
    Education.DOCTORATE: "博士研究生",
    Education.MASTER: "硕士研究生",
    Education.BACHELOR: "本科",
    Education.COLLEGE: "大专",
    Education.OTHER: "其他",
}
_EDUCATION_SYNONYMS: Mapping[str, Education] = {
    "博士": Education.DOCTORATE,
    "硕士": Education.MASTER,
    "大学本科": Education.BACHELOR,
    "专科": Education.COLLEGE,
    "大学专科": Education.COLLEGE,
}

# -- recommendation summary table (附件2) -------------------------------------------------------


@attrs.frozen
class RecommendationRow:
    """A row of 推荐汇总表 (附件2): one case the district judged in the round."""

    case_id: str
    """The case (not printed: the form has no column for it)."""
    base_name: str
    """基地名称."""
    address: str
    """地址 (the base's address)."""
    operator_name: str
    """运营机构名称."""
    person_in_charge: str
    """负责人 (the operator's legal representative)."""
    contact_person: str
    """联系人 (the base's contact person)."""
    contact_phone: str
    """联系电话（手机）(the base's contact phone)."""
    eligible: bool
    """是否满足各项申报条件: the eligibility verdict under the policy in force on declaration."""
    recommended: bool
    """是否同意推荐: the district recommended (``True``) or declined (``False``)."""
    remarks: str
    """备注: the recommendation opinion, or the reason for declining."""

    def cells(self, number: int) -> tuple[object, ...]:
        """The row's cells in the form's column order, numbered ``number`` (序号)."""
        return (
            number,
            self.base_name,
            self.address,
            self.operator_name,
            self.person_in_charge,
            self.contact_person,
            self.contact_phone,
            _YES if self.eligible else _NO,
            _YES if self.recommended else _NO,
            self.remarks,
        )

    def as_dict(self, number: int) -> dict[str, object]:
        """The row as ``{official header: value}``, numbered ``number`` (序号)."""
        return dict(zip(_RECOMMENDATION_HEADERS, self.cells(number), strict=True))


def _judged(case: Case) -> bool:
    return case.recommendation is not None or case.state is State.NOT_RECOMMENDED


def recommendation_rows(
    workflow: Workflow, district: str, round_year: int
) -> tuple[RecommendationRow, ...]:
    """The rows of the district's 推荐汇总表 for a round: every case of ``district`` and
    ``round_year`` that the district has judged, recommended first, then declined, each in
    the order of declaration (date, then base name).

    A case counts as recommended when the district recommended it, whatever happened to it
    afterwards (review, inspection, withdrawal); as declined when it ended ``not_recommended``.
    Cases still waiting for the district, or withdrawn before it judged them, are left out.
    """
    judged = [
        case for case in workflow.cases(district=district, round_year=round_year) if _judged(case)
    ]
    judged.sort(
        key=lambda case: (case.recommendation is None, case.declared_on, case.base_name, case.id)
    )
    rows = []
    for case in judged:
        application = case.application
        verdict = evaluate(application, workflow.policy_for(case))
        if case.recommendation is not None:
            remarks = case.recommendation.opinion
        else:
            remarks = case.closing_reason or ""
        rows.append(
            RecommendationRow(
                case_id=case.id,
                base_name=application.base.name,
                address=application.base.address,
                operator_name=application.operator.name,
                person_in_charge=application.operator.legal_representative,
                contact_person=application.base.contact_person,
                contact_phone=application.base.contact_phone,
                eligible=verdict.eligible,
                recommended=case.recommendation is not None,
                remarks=remarks,
            )
        )
    return tuple(rows)


def export_recommendation_table(
    workflow: Workflow,
    district: str,
    round_year: int,
    path: str | Path,
    *,
    filled_by: str = "",
    phone: str = "",
    unit: str | None = None,
) -> tuple[RecommendationRow, ...]:
    """Write the district's 推荐汇总表 (附件2) for a round to ``path`` (``.xlsx``).

    Row 1 is the title, row 2 ``推荐单位（公章）：`` with ``unit`` (default: ``district``),
    row 3 the form's headers, then one row per judged case (see `recommendation_rows`),
    then the form's note with ``填表人：filled_by`` and ``联系电话：phone``. Returns the rows
    written (none is still a valid, empty table).
    """
    target = _xlsx_path(path)
    rows = recommendation_rows(workflow, district, round_year)
    workbook = _new_workbook()
    sheet = workbook.create_sheet("推荐汇总表")
    width = len(_RECOMMENDATION_HEADERS)
    _title(sheet, 1, _RECOMMENDATION_TITLE, width)
    sheet.cell(2, 1, f"推荐单位（公章）：{district if unit is None else unit}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    _header_row(sheet, 3, _RECOMMENDATION_HEADERS)
    for offset, row in enumerate(rows):
        _data_row(sheet, 4 + offset, row.cells(offset + 1))
    note_row = 4 + len(rows)
    sheet.cell(note_row, 1, _RECOMMENDATION_NOTE)
    sheet.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=6)
    sheet.cell(note_row, 7, f"填表人：{filled_by}")
    sheet.merge_cells(start_row=note_row, start_column=7, end_row=note_row, end_column=8)
    sheet.cell(note_row, 9, f"联系电话：{phone}")
    sheet.merge_cells(start_row=note_row, start_column=9, end_row=note_row, end_column=10)
    _widths(sheet, (6, 28, 28, 28, 10, 10, 15, 12, 10, 30))
    sheet.freeze_panes = "A4"
    _save(workbook, target)
    return rows


# -- the tables of 附件1 ------------------------------------------------------------------------


def _cell_value(value: object, kind: _Kind) -> object:
    """A record value as a spreadsheet cell (``None`` for an empty cell)."""
    if value is None or value == "":
        return None
    if kind is _Kind.BOOLEAN:
        return _YES if value else _NO
    if kind is _Kind.EDUCATION and isinstance(value, Education):
        return _EDUCATION_LABELS[value]
    return value


def _record_cells(columns: Sequence[_Column], record: object, number: int) -> list[object]:
    return [
        number if column.field is None else _cell_value(getattr(record, column.field), column.kind)
        for column in columns
    ]


def _roster_in_form_order(residents: Iterable[ResidentEnterprise]) -> list[ResidentEnterprise]:
    # 顺序按企业入驻基地年份: by the date moved in; the application's order breaks ties.
    return sorted(residents, key=lambda resident: resident.moved_in_on)


def _roster_total(residents: Sequence[ResidentEnterprise]) -> list[object]:
    revenues = [r.revenue_last_year_10k_yuan for r in residents]
    known = [revenue for revenue in revenues if revenue is not None]
    totals: dict[str, object] = {
        "employees": sum(r.employees for r in residents),
        "revenue_last_year_10k_yuan": round(math.fsum(known), 6) if known else None,
        "innovation_outputs": sum(r.innovation_outputs for r in residents),
    }
    return [
        _TOTAL if column.field is None else totals.get(column.field) for column in _ROSTER_COLUMNS
    ]


def _grouped_header(sheet: Worksheet, row: int, columns: Sequence[_Column]) -> None:
    """A two-level header in rows ``row`` and ``row + 1``: groups over their columns,
    ungrouped headers merged down over both rows."""
    for index, column in enumerate(columns, start=1):
        if column.group is None:
            _header_cell(sheet, row, index, column.header)
            _header_cell(sheet, row + 1, index, None)
            sheet.merge_cells(start_row=row, start_column=index, end_row=row + 1, end_column=index)
        else:
            first = next(i for i, c in enumerate(columns, start=1) if c.group == column.group)
            if first == index:
                _header_cell(sheet, row, index, column.group)
                last = max(i for i, c in enumerate(columns, start=1) if c.group == column.group)
                for other in range(index + 1, last + 1):
                    _header_cell(sheet, row, other, None)
                sheet.merge_cells(start_row=row, start_column=index, end_row=row, end_column=last)
            _header_cell(sheet, row + 1, index, column.header)


def _staff_sheet(workbook: Workbook, application: Application) -> None:
    sheet = workbook.create_sheet(_STAFF_TABLE)
    _table_heading(sheet, _STAFF_TABLE, application, len(_STAFF_COLUMNS))
    _grouped_header(sheet, 3, _STAFF_COLUMNS)
    for offset, member in enumerate(application.staff):
        _data_row(sheet, 5 + offset, _record_cells(_STAFF_COLUMNS, member, offset + 1))
    _widths(sheet, [column.width for column in _STAFF_COLUMNS])
    sheet.freeze_panes = "C5"


def _roster_sheet(workbook: Workbook, application: Application) -> None:
    sheet = workbook.create_sheet(_ROSTER_TABLE)
    _table_heading(
        sheet, _ROSTER_TABLE, application, len(_ROSTER_COLUMNS), note="（顺序按企业入驻基地年份）"
    )
    _header_row(sheet, 3, [column.header for column in _ROSTER_COLUMNS])
    residents = _roster_in_form_order(application.residents)
    for offset, resident in enumerate(residents):
        _data_row(sheet, 4 + offset, _record_cells(_ROSTER_COLUMNS, resident, offset + 1))
    _data_row(sheet, 4 + len(residents), _roster_total(residents), bold=True)
    _widths(sheet, [column.width for column in _ROSTER_COLUMNS])
    sheet.freeze_panes = "C4"


def _results(figures: Any) -> str:
    parts = []
    if figures.enterprises_served is not None:
        parts.append(f"服务企业{figures.enterprises_served}家次")
    if figures.person_times is not None:
        parts.append(f"培训{figures.person_times}人次")
    return "；".join(parts)


def _activities_sheet(workbook: Workbook, application: Application, policy: Policy) -> None:
    sheet = workbook.create_sheet(_ACTIVITIES_TABLE)
    _table_heading(sheet, _ACTIVITIES_TABLE, application, len(_ACTIVITIES_HEADERS))
    _header_row(sheet, 3, _ACTIVITIES_HEADERS)
    functions = policy.service_functions.functions
    for offset, function in enumerate(functions):
        figures = application.services.get(function.id)
        cells: list[object] = [offset + 1, function.name.zh, None, None, None, None, None]
        if figures is not None:
            cells[2] = figures.description or None
            cells[3] = figures.activities
            cells[4] = _results(figures) or None
        _data_row(sheet, 4 + offset, cells)
    volume = application.service_volume
    if volume is not None:
        share = f"{volume.free_or_low_fee / volume.total:.1%}" if volume.total else "—"
        note_row = 4 + len(functions)
        sheet.cell(
            note_row,
            1,
            f"注：上一年度服务共 {volume.total} 次，其中公益性服务或低收费服务 "
            f"{volume.free_or_low_fee} 次，占 {share}",
        )
        sheet.merge_cells(
            start_row=note_row,
            start_column=1,
            end_row=note_row,
            end_column=len(_ACTIVITIES_HEADERS),
        )
    _widths(sheet, (6, 16, 36, 10, 24, 20, 12))
    sheet.freeze_panes = "A4"


def _satisfaction_sheet(workbook: Workbook, application: Application) -> None:
    sheet = workbook.create_sheet(_SATISFACTION_TABLE)
    width = len(_SATISFACTION_HEADERS) + 1
    _table_heading(sheet, _SATISFACTION_TABLE, application, width)
    for index, header in enumerate(_SATISFACTION_HEADERS[:-1], start=1):
        _header_cell(sheet, 3, index, header)
        _header_cell(sheet, 4, index, None)
        sheet.merge_cells(start_row=3, start_column=index, end_row=4, end_column=index)
    _header_cell(sheet, 3, width - 1, _SATISFACTION_HEADERS[-1])
    _header_cell(sheet, 3, width, None)
    sheet.merge_cells(start_row=3, start_column=width - 1, end_row=3, end_column=width)
    _header_cell(sheet, 4, width - 1, _SATISFACTION_SUBHEADERS[0])
    _header_cell(sheet, 4, width, _SATISFACTION_SUBHEADERS[1])
    survey = application.satisfaction_survey
    for offset, response in enumerate(survey):
        cells: list[object] = [
            offset + 1,
            response.enterprise,
            response.contact_person or None,
            response.contact_phone or None,
            response.services or None,
            _TICK if response.satisfied else None,
            None if response.satisfied else _TICK,
        ]
        _data_row(sheet, 5 + offset, cells)
    satisfied = sum(response.satisfied for response in survey)
    total: list[object] = [_TOTAL, None, None, None, None, satisfied, len(survey) - satisfied]
    _data_row(sheet, 5 + len(survey), total, bold=True)
    _widths(sheet, (6, 30, 10, 15, 30, 8, 8))
    sheet.freeze_panes = "C5"


def export_application_tables(
    application: Application | Case, path: str | Path, *, policy: Policy | None = None
) -> None:
    """Write the four tables of 附件1 for an application (or a case's) to ``path`` (``.xlsx``).

    One sheet per table, named as the form names it: 管理和专职服务人员情况表,
    入驻企业（项目）名录表 (ordered by 入驻基地时间, with a 合计 row),
    开展服务活动情况表 (one row per service function of ``policy``, default: the policy in
    force on the declaration date) and 入驻小微企业服务满意度评价表 (满意/不满意 ticked, with
    a 合计 row). Row 1 holds the table's title, row 2 the base's name.
    """
    target = _xlsx_path(path)
    if isinstance(application, Case):
        application = application.application
    chosen = policy if policy is not None else load_policy(application.declared_on)
    workbook = _new_workbook()
    _staff_sheet(workbook, application)
    _roster_sheet(workbook, application)
    _activities_sheet(workbook, application, chosen)
    _satisfaction_sheet(workbook, application)
    _save(workbook, target)


def _single_table(
    path: str | Path,
    table: str,
    columns: Sequence[_Column],
    records: Sequence[object],
    xlsx: Callable[[Workbook], None],
) -> None:
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        lines = [[column.header for column in columns]]
        for number, record in enumerate(records, start=1):
            lines.append([_csv_text(cell) for cell in _record_cells(columns, record, number)])
        try:
            with target.open("w", encoding="utf-8-sig", newline="") as handle:
                csv.writer(handle).writerows(lines)
        except OSError as exc:
            raise _write_error(target, exc) from None
        return
    if suffix != ".xlsx":
        raise _suffix_error(target, (".xlsx", ".csv"), table)
    workbook = _new_workbook()
    xlsx(workbook)
    _save(workbook, target)


def export_roster(application: Application, path: str | Path) -> None:
    """Write 入驻企业（项目）名录表 alone to ``path``: ``.xlsx`` (as in
    `export_application_tables`) or ``.csv`` (one header row, then the rows in the form's
    order, no title and no 合计 row; UTF-8 with a byte-order mark so that Excel reads it)."""
    _single_table(
        path,
        _ROSTER_TABLE,
        _ROSTER_COLUMNS,
        _roster_in_form_order(application.residents),
        lambda workbook: _roster_sheet(workbook, application),
    )


def export_staff(application: Application, path: str | Path) -> None:
    """Write 管理和专职服务人员情况表 alone to ``path``: ``.xlsx`` (two-level header as on the
    form) or ``.csv`` (one header row with the lower headers, no title)."""
    _single_table(
        path,
        _STAFF_TABLE,
        _STAFF_COLUMNS,
        application.staff,
        lambda workbook: _staff_sheet(workbook, application),
    )


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# -- writing helpers --------------------------------------------------------------------------


def _new_workbook() -> Workbook:
    openpyxl = _openpyxl()
    workbook: Workbook = openpyxl.Workbook()
    del workbook[workbook.sheetnames[0]]
    return workbook


def _title(sheet: Worksheet, row: int, text: str, width: int) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    cell = sheet.cell(row, 1, text)
    cell.font = Font(bold=True, size=14)
    cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    sheet.row_dimensions[row].height = 28


def _table_heading(
    sheet: Worksheet, table: str, application: Application, width: int, *, note: str = ""
) -> None:
    _title(sheet, 1, table, width)
    sheet.cell(2, 1, f"基地名称：{application.base.name}{note}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)


def _border() -> Any:
    from openpyxl.styles import Border, Side  # noqa: PLC0415

    side = Side(style="thin")
    return Border(left=side, right=side, top=side, bottom=side)


def _header_cell(sheet: Worksheet, row: int, column: int, text: str | None) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    cell = sheet.cell(row, column, text)
    cell.font = Font(bold=True)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    cell.border = _border()


def _header_row(sheet: Worksheet, row: int, headers: Iterable[str]) -> None:
    for index, header in enumerate(headers, start=1):
        _header_cell(sheet, row, index, header)


def _data_row(sheet: Worksheet, row: int, cells: Sequence[object], *, bold: bool = False) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    border = _border()
    for index, value in enumerate(cells, start=1):
        cell = sheet.cell(row, index, cast("_Cell", value))
        cell.border = border
        cell.alignment = Alignment(vertical="center", wrap_text=isinstance(value, str))
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        if bold:
            cell.font = Font(bold=True)


def _widths(sheet: Worksheet, widths: Iterable[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[_column_letter(index)].width = width


def _save(workbook: Workbook, target: Path) -> None:
    try:
        workbook.save(target)
    except OSError as exc:
        raise _write_error(target, exc) from None


def _write_error(target: Path, exc: OSError) -> InvalidInputError:
    reason = exc.strerror or str(exc)
    return InvalidInputError(
        Text(zh=f"无法写入 {target}：{reason}", en=f"cannot write {target}: {reason}"),
        hint=Text(zh="请检查路径和权限", en="check the path and its permissions"),
    )


def _suffix_error(target: Path, allowed: Sequence[str], what: str) -> InvalidInputError:
    names = "、".join(allowed)
    return InvalidInputError(
        Text(
            zh=f"{target}：{what} 只能是 {names} 文件",
            en=f"{target}: {what} must be a {' or '.join(allowed)} file",
        ),
        hint=Text(zh=f"请使用 {names} 扩展名", en=f"use the {' or '.join(allowed)} extension"),
    )


def _xlsx_path(path: str | Path) -> Path:
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise _suffix_error(target, (".xlsx",), "Excel")
    return target


def _column_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column index (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# -- reading ----------------------------------------------------------------------------------

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"是", "true", "y", "yes", "1"})
_FALSE = frozenset({"否", "false", "n", "no", "0"})
_TOTAL_MARKERS = frozenset({"合计", "总计", "total"})
_HEADER_SCAN_ROWS = 20

_EXPECTED: Mapping[_Kind, Text] = {
    _Kind.TEXT: Text(zh="应为文本", en="expected text"),
    _Kind.INTEGER: Text(zh="应为整数", en="expected an integer"),
    _Kind.NUMBER: Text(zh="应为数字", en="expected a number"),
    _Kind.BOOLEAN: Text(
        zh="应为 是/否（或 true/false、Y/N、1/0）", en="expected 是/否 (or true/false, Y/N, 1/0)"
    ),
    _Kind.DATE: Text(
        zh="应为日期（Excel 日期或 YYYY-MM-DD）",
        en="expected a date (an Excel date or YYYY-MM-DD)",
    ),
    _Kind.EDUCATION: Text(
        zh="应为以下之一：" + "、".join(_EDUCATION_LABELS.values()),
        en="expected one of: " + ", ".join(_EDUCATION_LABELS.values()),
    ),
}
_REQUIRED = Text(zh="必填，不能为空", en="required, must not be empty")


class _BadCellError(ValueError):
    """A cell that does not hold a value of its column's kind."""


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normalise(header: object) -> str:
    """A header as compared: no whitespace, half-width brackets made full-width, lower case."""
    text = re.sub(r"\s+", "", str(header))
    return text.replace("(", "（").replace(")", "）").lower()


def _text(value: object, text: str | None) -> object:
    if text is not None:
        return text
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
        return int(text)
    raise _BadCellError


def _number(value: object, text: str | None) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if text is not None and _NUMBER_TEXT.fullmatch(text):
        return float(text)
    raise _BadCellError


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
        for education, label in _EDUCATION_LABELS.items():
            if text in (label, education.value) or text.lower() == education.value:
                return education
        if text in _EDUCATION_SYNONYMS:
            return _EDUCATION_SYNONYMS[text]
    raise _BadCellError


_PARSERS: Mapping[_Kind, Callable[[object, str | None], object]] = {
    _Kind.TEXT: _text,
    _Kind.INTEGER: _integer,
    _Kind.NUMBER: _number,
    _Kind.BOOLEAN: _boolean,
    _Kind.DATE: _date,
    _Kind.EDUCATION: _education,
}


def _parse(value: object, kind: _Kind) -> object:
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
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Chinese Windows saves CSV in the local code page (GBK, within GB 18030).
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInputError(
                Text(
                    zh=f"{path} 既不是 UTF-8 也不是 GB18030 编码的文本",
                    en=f"{path} is neither UTF-8 nor GB18030 text",
                ),
                hint=Text(zh="请以 UTF-8 保存 CSV 文件", en="save the CSV file as UTF-8"),
            ) from None
    try:
        return [list(row) for row in csv.reader(text.splitlines())]
    except csv.Error as exc:
        raise InvalidInputError(
            Text(zh=f"{path} 不是有效的 CSV：{exc}", en=f"{path} is not valid CSV: {exc}"),
            hint=Text(zh="请检查文件格式", en="check the file's format"),
        ) from None


def _read_xlsx(path: Path, table: str, sheet: str | None) -> tuple[str, list[list[object]]]:
    openpyxl = _openpyxl()
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
        rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
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
        raise _suffix_error(source, (".xlsx", ".csv"), table)
    return _Grid(where, [(number, row) for number, row in enumerate(rows, start=1)])


def _at(grid: _Grid, row: int, index: int, header: str | None, problem: Text) -> Text:
    letter = _column_letter(index + 1)
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
    fields: dict[int, _Column]
    """Column index (0-based) → the column it holds (序号 included)."""
    headers: dict[int, str]
    """Column index → the header as written in the file."""
    ignored: set[int]
    """Columns without a header."""


def _lookup(columns: Sequence[_Column]) -> dict[str, _Column]:
    names: dict[str, _Column] = {}
    for column in columns:
        names[_normalise(column.header)] = column
        if column.field is not None:
            names[_normalise(column.field)] = column
    return names


def _layout(
    grid: _Grid, table: str, columns: Sequence[_Column], problems: list[Text]
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
    fields: dict[int, _Column] = {}
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
                        zh=f"列 {_describe(header)} 与 {_column_letter(seen[column.header] + 1)} "
                        f"列重复",
                        en=f"column {_describe(header)} repeats column "
                        f"{_column_letter(seen[column.header] + 1)}",
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


_RECORDS: Mapping[str, type[Any]] = {_ROSTER_TABLE: ResidentEnterprise, _STAFF_TABLE: StaffMember}


def _attribute(table: str, field: str) -> attrs.Attribute[Any]:
    attribute: attrs.Attribute[Any] = getattr(attrs.fields(_RECORDS[table]), field)
    return attribute


def _required(table: str, column: _Column) -> bool:
    assert column.field is not None
    return _attribute(table, column.field).default is attrs.NOTHING


def _is_total(row: Sequence[object]) -> bool:
    first = next((cell for cell in row if not _is_empty(cell)), None)
    return isinstance(first, str) and (
        _normalise(first) in _TOTAL_MARKERS or first.strip().startswith(("注：", "注:"))
    )


def _read_records(
    path: str | Path, table: str, columns: Sequence[_Column], sheet: str | None
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
            if column.kind is _Kind.TEXT:
                values[column.field] = ""
            elif _required(table, column):
                problems.append(_at(grid, number, index, header, _REQUIRED))
                failed = True
            continue
        try:
            values[column.field] = _parse(cell, column.kind)
        except _BadCellError:
            expected = _EXPECTED[column.kind]
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
    # Each field's own checks (not negative, not empty), all of them, before building.
    for field, value in values.items():
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
        path, _ROSTER_TABLE, _ROSTER_COLUMNS, sheet
    )
    return records


def read_staff(path: str | Path, *, sheet: str | None = None) -> tuple[StaffMember, ...]:
    """The rows of 管理和专职服务人员情况表 in ``path`` (``.xlsx`` or ``.csv``), in file order.

    In a workbook, the sheet named ``sheet``, else the one named 管理和专职服务人员情况表, else
    the first. Errors as for `read_roster`.
    """
    records: tuple[StaffMember, ...] = _read_records(path, _STAFF_TABLE, _STAFF_COLUMNS, sheet)
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
