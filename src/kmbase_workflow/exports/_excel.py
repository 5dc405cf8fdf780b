"""Writing the forms as spreadsheets: 附件2 推荐汇总表 (`export_recommendation_table`), the
forms of 附件1 (`export_application_tables`), and one table alone as ``.xlsx`` or ``.csv``
(`export_roster`, `export_staff`)."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..case import Case, State
from ..eligibility import evaluate
from ..policy import Policy, load_policy
from ..records import Application, ResidentEnterprise
from ._application_form import application_form_sheet
from ._cells import csv_text, put, suffix_error, write_error, xlsx_path
from ._forms import (
    ACTIVITIES_HEADERS,
    ACTIVITIES_TABLE,
    NO,
    RECOMMENDATION_HEADERS,
    RECOMMENDATION_NOTE,
    RECOMMENDATION_TITLE,
    ROSTER_COLUMNS,
    ROSTER_TABLE,
    SATISFACTION_HEADERS,
    SATISFACTION_SUBHEADERS,
    SATISFACTION_TABLE,
    STAFF_COLUMNS,
    STAFF_TABLE,
    TICK,
    TOTAL,
    YES,
    Column,
    record_cells,
    roster_in_form_order,
    service_label,
)
from ._sheet import data_row, header_cell, header_row, new_workbook, save, title, widths

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from ..workflow import Workflow

__all__ = [
    "RecommendationRow",
    "export_application_tables",
    "export_recommendation_table",
    "export_roster",
    "export_staff",
    "recommendation_rows",
]

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
    """是否满足各项申报条件: the eligibility verdict the district judged the case on (under the
    policy in force on declaration, at the day the case was declared, `Case.judged_on`)."""
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
            YES if self.eligible else NO,
            YES if self.recommended else NO,
            self.remarks,
        )

    def as_dict(self, number: int) -> dict[str, object]:
        """The row as ``{official header: value}``, numbered ``number`` (序号)."""
        return dict(zip(RECOMMENDATION_HEADERS, self.cells(number), strict=True))


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
        # the verdict the district recommended on: judged on the case's day, not the file's
        verdict = evaluate(application, workflow.policy_for(case), judged_on=case.judged_on)
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
    target = xlsx_path(path)
    rows = recommendation_rows(workflow, district, round_year)
    workbook = new_workbook()
    sheet = workbook.create_sheet("推荐汇总表")
    width = len(RECOMMENDATION_HEADERS)
    title(sheet, 1, RECOMMENDATION_TITLE, width)
    put(sheet, 2, 1, f"推荐单位（公章）：{district if unit is None else unit}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    header_row(sheet, 3, RECOMMENDATION_HEADERS)
    for offset, row in enumerate(rows):
        data_row(sheet, 4 + offset, row.cells(offset + 1))
    note_row = 4 + len(rows)
    put(sheet, note_row, 1, RECOMMENDATION_NOTE)
    sheet.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=6)
    put(sheet, note_row, 7, f"填表人：{filled_by}")
    sheet.merge_cells(start_row=note_row, start_column=7, end_row=note_row, end_column=8)
    put(sheet, note_row, 9, f"联系电话：{phone}")
    sheet.merge_cells(start_row=note_row, start_column=9, end_row=note_row, end_column=10)
    widths(sheet, (6, 28, 28, 28, 10, 10, 15, 12, 10, 30))
    sheet.freeze_panes = "A4"
    save(workbook, target)
    return rows


# -- the tables of 附件1 ------------------------------------------------------------------------


def _roster_total(residents: Sequence[ResidentEnterprise]) -> list[object]:
    revenues = [r.revenue_last_year_10k_yuan for r in residents]
    known = [revenue for revenue in revenues if revenue is not None]
    totals: dict[str, object] = {
        "employees": sum(r.employees for r in residents),
        "revenue_last_year_10k_yuan": round(math.fsum(known), 6) if known else None,
        "innovation_outputs": sum(r.innovation_outputs for r in residents),
    }
    return [
        TOTAL if column.field is None else totals.get(column.field) for column in ROSTER_COLUMNS
    ]


def _grouped_header(sheet: Worksheet, row: int, columns: Sequence[Column]) -> None:
    """A two-level header in rows ``row`` and ``row + 1``: groups over their columns,
    ungrouped headers merged down over both rows."""
    for index, column in enumerate(columns, start=1):
        if column.group is None:
            header_cell(sheet, row, index, column.header)
            header_cell(sheet, row + 1, index, None)
            sheet.merge_cells(start_row=row, start_column=index, end_row=row + 1, end_column=index)
        else:
            first = next(i for i, c in enumerate(columns, start=1) if c.group == column.group)
            if first == index:
                header_cell(sheet, row, index, column.group)
                last = max(i for i, c in enumerate(columns, start=1) if c.group == column.group)
                for other in range(index + 1, last + 1):
                    header_cell(sheet, row, other, None)
                sheet.merge_cells(start_row=row, start_column=index, end_row=row, end_column=last)
            header_cell(sheet, row + 1, index, column.header)


def _staff_sheet(workbook: Workbook, application: Application) -> None:
    sheet = workbook.create_sheet(STAFF_TABLE)
    _table_heading(sheet, STAFF_TABLE, application, len(STAFF_COLUMNS))
    _grouped_header(sheet, 3, STAFF_COLUMNS)
    for offset, member in enumerate(application.staff):
        data_row(sheet, 5 + offset, record_cells(STAFF_COLUMNS, member, offset + 1))
    widths(sheet, [column.width for column in STAFF_COLUMNS])
    sheet.freeze_panes = "C5"


def _roster_sheet(workbook: Workbook, application: Application) -> None:
    sheet = workbook.create_sheet(ROSTER_TABLE)
    _table_heading(
        sheet, ROSTER_TABLE, application, len(ROSTER_COLUMNS), note="（顺序按企业入驻基地年份）"
    )
    header_row(sheet, 3, [column.header for column in ROSTER_COLUMNS])
    residents = roster_in_form_order(application.residents)
    for offset, resident in enumerate(residents):
        data_row(sheet, 4 + offset, record_cells(ROSTER_COLUMNS, resident, offset + 1))
    data_row(sheet, 4 + len(residents), _roster_total(residents), bold=True)
    widths(sheet, [column.width for column in ROSTER_COLUMNS])
    sheet.freeze_panes = "C4"


def _results(figures: Any) -> str:
    parts = []
    if figures.enterprises_served is not None:
        parts.append(f"服务企业{figures.enterprises_served}家次")
    if figures.person_times is not None:
        parts.append(f"培训{figures.person_times}人次")
    return "；".join(parts)


def _free_services(application: Application) -> str | None:
    """公益性服务活动情况: the records keep free or low-fee services for the whole year
    (第六条第（六）项), so one text for the whole column."""
    volume = application.service_volume
    if volume is None:
        return None
    share = f"{volume.free_or_low_fee / volume.total:.1%}" if volume.total else "—"
    return (
        f"上一年度服务共 {volume.total} 次，其中公益性服务或低收费服务 "
        f"{volume.free_or_low_fee} 次，占 {share}"
    )


def _activities_sheet(workbook: Workbook, application: Application, policy: Policy) -> None:
    sheet = workbook.create_sheet(ACTIVITIES_TABLE)
    _table_heading(sheet, ACTIVITIES_TABLE, application, len(ACTIVITIES_HEADERS))
    header_row(sheet, 3, ACTIVITIES_HEADERS)
    functions = policy.service_functions.functions
    free = _free_services(application)
    for offset, function in enumerate(functions):
        figures = application.services.get(function.id)
        cells: list[object] = [offset + 1, service_label(function), None, None, None, None, None]
        if figures is not None:
            cells[2] = figures.description or None
            cells[3] = figures.activities
            cells[4] = _results(figures) or None
        if offset == 0:
            cells[5] = free
        data_row(sheet, 4 + offset, cells)
    if functions:
        free_column = ACTIVITIES_HEADERS.index("公益性服务活动情况") + 1
        sheet.merge_cells(
            start_row=4,
            start_column=free_column,
            end_row=3 + len(functions),
            end_column=free_column,
        )
    widths(sheet, (6, 16, 36, 10, 24, 24, 12))
    sheet.freeze_panes = "A4"


def _satisfaction_sheet(workbook: Workbook, application: Application) -> None:
    sheet = workbook.create_sheet(SATISFACTION_TABLE)
    width = len(SATISFACTION_HEADERS) + 1
    _table_heading(sheet, SATISFACTION_TABLE, application, width)
    for index, header in enumerate(SATISFACTION_HEADERS[:-1], start=1):
        header_cell(sheet, 3, index, header)
        header_cell(sheet, 4, index, None)
        sheet.merge_cells(start_row=3, start_column=index, end_row=4, end_column=index)
    header_cell(sheet, 3, width - 1, SATISFACTION_HEADERS[-1])
    header_cell(sheet, 3, width, None)
    sheet.merge_cells(start_row=3, start_column=width - 1, end_row=3, end_column=width)
    header_cell(sheet, 4, width - 1, SATISFACTION_SUBHEADERS[0])
    header_cell(sheet, 4, width, SATISFACTION_SUBHEADERS[1])
    survey = application.satisfaction_survey
    for offset, response in enumerate(survey):
        cells: list[object] = [
            offset + 1,
            response.enterprise,
            response.contact_person or None,
            response.contact_phone or None,
            response.services or None,
            TICK if response.satisfied else None,
            None if response.satisfied else TICK,
        ]
        data_row(sheet, 5 + offset, cells)
    satisfied = sum(response.satisfied for response in survey)
    total: list[object] = [TOTAL, None, None, None, None, satisfied, len(survey) - satisfied]
    data_row(sheet, 5 + len(survey), total, bold=True)
    widths(sheet, (6, 30, 10, 15, 30, 8, 8))
    sheet.freeze_panes = "C5"


def export_application_tables(
    application: Application | Case, path: str | Path, *, policy: Policy | None = None
) -> tuple[str, ...]:
    """Write the forms of 附件1 for an application (or a case's) to ``path`` (``.xlsx``).

    One sheet per form, named as the form names it: 申请表 (the application form itself,
    laid out as the regulation prints it; for a case the district's recommendation opinion
    fills 审查推荐意见), 管理和专职服务人员情况表, 入驻企业（项目）名录表 (ordered by
    入驻基地时间, with a 合计 row), 开展服务活动情况表 (one row per service function of
    ``policy``, default: the policy in force on the declaration date) and
    入驻小微企业服务满意度评价表 (满意/不满意 ticked, with a 合计 row). On the four tables
    row 1 holds the table's title, row 2 the base's name. Returns the sheets' names.
    """
    target = xlsx_path(path)
    case = application if isinstance(application, Case) else None
    if isinstance(application, Case):
        application = application.application
    chosen = policy if policy is not None else load_policy(application.declared_on)
    workbook = new_workbook()
    application_form_sheet(workbook, application, chosen, case)
    _staff_sheet(workbook, application)
    _roster_sheet(workbook, application)
    _activities_sheet(workbook, application, chosen)
    _satisfaction_sheet(workbook, application)
    save(workbook, target)
    return tuple(workbook.sheetnames)


def _single_table(
    path: str | Path,
    table: str,
    columns: Sequence[Column],
    records: Sequence[object],
    xlsx: Callable[[Workbook], None],
) -> None:
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        lines = [[column.header for column in columns]]
        for number, record in enumerate(records, start=1):
            lines.append([csv_text(cell) for cell in record_cells(columns, record, number)])
        try:
            with target.open("w", encoding="utf-8-sig", newline="") as handle:
                csv.writer(handle).writerows(lines)
        except OSError as exc:
            raise write_error(target, exc) from None
        return
    if suffix != ".xlsx":
        raise suffix_error(target, (".xlsx", ".csv"), table)
    workbook = new_workbook()
    xlsx(workbook)
    save(workbook, target)


def export_roster(application: Application, path: str | Path) -> None:
    """Write 入驻企业（项目）名录表 alone to ``path``: ``.xlsx`` (as in
    `export_application_tables`) or ``.csv`` (one header row, then the rows in the form's
    order, no title and no 合计 row; UTF-8 with a byte-order mark so that Excel reads it)."""
    _single_table(
        path,
        ROSTER_TABLE,
        ROSTER_COLUMNS,
        roster_in_form_order(application.residents),
        lambda workbook: _roster_sheet(workbook, application),
    )


def export_staff(application: Application, path: str | Path) -> None:
    """Write 管理和专职服务人员情况表 alone to ``path``: ``.xlsx`` (two-level header as on the
    form) or ``.csv`` (one header row with the lower headers, no title)."""
    _single_table(
        path,
        STAFF_TABLE,
        STAFF_COLUMNS,
        application.staff,
        lambda workbook: _staff_sheet(workbook, application),
    )


def _table_heading(
    sheet: Worksheet, table: str, application: Application, width: int, *, note: str = ""
) -> None:
    title(sheet, 1, table, width)
    put(sheet, 2, 1, f"基地名称：{application.base.name}{note}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
