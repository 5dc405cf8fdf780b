"""附件1 昆明市小型微型企业创业创新示范基地申请表: the first form of the application report,
laid out as the regulation prints it (six columns), filled from the records.

One set of functions (``_part_one`` … ``_part_four``) fills the form row by row into a sink:
``_Form`` writes a worksheet (the workbook), ``_TableForm`` a `Table` (the Word and HTML
documents), so the two never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from ..case import Case
from ..eligibility import application_measures
from ..policy import Policy
from ..records import Application
from ._cells import put
from ._document_model import Cell, Table
from ._forms import APPLICATION_FORM_SHEET, APPLICATION_FORM_TITLE, service_label
from ._sheet import data_row, header_cell, thin_border, title, widths

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["application_form_sheet", "application_form_table"]

_WIDTH = 6
_BLANK = "　"
"""What the form's blanks hold when the records have no value (an ideographic space)."""


def _amount(value: float | int | None) -> str:
    """A number as the form's blanks show it: ``12500`` (not ``12500.0``), ``96.5``."""
    if value is None:
        return _BLANK
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: float | None) -> float | int | None:
    """A number for a cell of its own: whole amounts as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Sink(Protocol):
    row: int

    def cells(self, spans: Sequence[tuple[object, int, bool]], *, height: float = 0) -> None: ...
    def section(self, text: str) -> None: ...
    def headers(self, headers: Sequence[str]) -> None: ...
    def data(self, values: Sequence[object]) -> None: ...
    def merge_down(self, column: int, first: int, last: int) -> None: ...


class _Form:
    """Writes the form row by row; each row is label and value cells merged as on the form."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.row = 1

    def cells(self, spans: Sequence[tuple[object, int, bool]], *, height: float = 0) -> None:
        """One row: each span is (value, columns it covers, is a label)."""
        from openpyxl.styles import Alignment, Font  # noqa: PLC0415

        column = 1
        border = thin_border()
        for value, span, label in spans:
            cell = put(self.sheet, self.row, column, value)
            cell.alignment = Alignment(
                horizontal="center" if label else "left", vertical="center", wrap_text=True
            )
            if label:
                cell.font = Font(bold=True)
            for covered in range(column, column + span):
                self.sheet.cell(self.row, covered).border = border
            if span > 1:
                self.sheet.merge_cells(
                    start_row=self.row,
                    start_column=column,
                    end_row=self.row,
                    end_column=column + span - 1,
                )
            column += span
        if height:
            self.sheet.row_dimensions[self.row].height = height
        self.row += 1

    def section(self, text: str) -> None:
        """A heading across the form (一、基地基本情况 …)."""
        from openpyxl.styles import Font  # noqa: PLC0415

        cell = put(self.sheet, self.row, 1, text)
        cell.font = Font(bold=True)
        self.sheet.merge_cells(
            start_row=self.row, start_column=1, end_row=self.row, end_column=_WIDTH
        )
        self.row += 1

    def headers(self, headers: Sequence[str]) -> None:
        for index, header in enumerate(headers, start=1):
            header_cell(self.sheet, self.row, index, header)
        self.row += 1

    def data(self, values: Sequence[object]) -> None:
        data_row(self.sheet, self.row, values)
        self.row += 1

    def merge_down(self, column: int, first: int, last: int) -> None:
        self.sheet.merge_cells(
            start_row=first, start_column=column, end_row=last, end_column=column
        )


class _TableForm:
    """Fills the form into rows of `Cell` (a `Table` of six columns), row by row as `_Form`."""

    def __init__(self) -> None:
        self.rows: list[list[Cell]] = []
        self.row = 1

    def _add(self, cells: list[Cell]) -> None:
        self.rows.append(cells)
        self.row += 1

    def cells(self, spans: Sequence[tuple[object, int, bool]], *, height: float = 0) -> None:
        self._add([Cell(value, span, label) for value, span, label in spans])

    def section(self, text: str) -> None:
        self._add([Cell(text, _WIDTH, strong=True)])

    def headers(self, headers: Sequence[str]) -> None:
        self._add([Cell(header, header=True) for header in headers])

    def data(self, values: Sequence[object]) -> None:
        self._add([Cell(value) for value in values])

    def merge_down(self, column: int, first: int, last: int) -> None:
        def index(cells: list[Cell]) -> int:
            start = 1
            for position, cell in enumerate(cells):
                if start == column:
                    return position
                start += cell.span
            raise ValueError(column)

        top = self.rows[first - 1]
        at = index(top)
        top[at] = attrs.evolve(top[at], down=last - first + 1)
        for number in range(first + 1, last + 1):
            cells = self.rows[number - 1]
            below = index(cells)
            cells[below] = attrs.evolve(cells[below], value=None, merged=True)


def _staff_line(application: Application) -> str:
    measures = application_measures(application)
    full_time = measures["full_time_service_staff"]
    share = measures["qualified_staff_share"]
    mentors = measures["startup_mentors"]
    assert isinstance(full_time, int)
    assert isinstance(mentors, int)
    qualified = round(share * full_time) if isinstance(share, float) else 0
    percent = f"{share:.1%}" if isinstance(share, float) else _BLANK
    return (
        f"{full_time} 人，其中：本科及以上学历和中级及以上职称 {qualified} 人，"
        f"占总人数 {percent}，创业导师 {mentors} 人"
    )


def _part_one(form: _Sink, application: Application) -> None:
    base, operator = application.base, application.operator
    form.section("一、基地基本情况")
    form.cells([("基地名称", 1, True), (base.name, 3, False), ("所属县区", 1, True),
                (base.district, 1, False)])  # fmt: skip
    form.cells([("主导产业", 1, True), ("、".join(base.leading_industries), 5, False)])
    in_leading = sum(1 for resident in application.residents if resident.in_leading_industry)
    form.cells(
        [("主营业务属于主导产业的入驻企业数（户）", 1, True), (in_leading, 5, False)], height=30
    )
    form.cells([("运营单位名称", 1, True), (operator.name, 1, False), ("单位性质", 1, True),
                (operator.nature, 1, False), ("法人代表", 1, True),
                (operator.legal_representative, 1, False)])  # fmt: skip
    form.cells([("注册日期", 1, True), (operator.registered_on, 2, False), ("注册地址", 1, True),
                (operator.registered_address, 2, False)])  # fmt: skip
    form.cells([("联系人", 1, True), (base.contact_person, 2, False),
                ("联系电话（手机）", 1, True), (base.contact_phone, 2, False)])  # fmt: skip
    form.cells([("网址及备案号", 1, True), (base.website, 2, False), ("邮箱", 1, True),
                (base.email, 2, False)])  # fmt: skip
    first = form.row
    form.cells([("基地基础设施及场地面积", 1, True),
                (f"主要基础设施：{base.facilities}", 5, False)])  # fmt: skip
    form.cells([(None, 1, True), (
        f"总场地面积：{_amount(base.site_area_m2)} 平方米，"
        f"其中：公共服务区域面积 {_amount(base.public_service_area_m2)} 平方米",
        5, False)])  # fmt: skip
    form.merge_down(1, first, first + 1)
    form.cells([("服务人员", 1, True), (_staff_line(application), 5, False)])


def _part_two(form: _Sink, application: Application) -> None:
    years = sorted(application.yearly, key=lambda figures: figures.year)
    form.section("二、入驻小微企业创业创新情况")
    form.section("（一）小微企业创业情况（最少填写两个年度，单位：户、人、万元）")
    form.headers(
        ("年度", "入驻企业户数", "入驻小微企业户数", "小微企业从业人员", "小微企业合计营业收入")
    )
    for figures in years:
        form.data(
            (
                figures.year,
                figures.resident_enterprises,
                figures.resident_small_micro_enterprises,
                figures.small_micro_employees,
                _number(figures.small_micro_revenue_10k_yuan),
            )
        )
    form.section("（二）小微企业创新情况（最少填写两个年度，单位：件、户、个）")
    form.headers(
        ("年度", "可统计创新成果项目合计", "基地内小微企业专利申请", "基地内小微企业拥有专利")
    )
    for figures in years:
        form.data(
            (figures.year, figures.innovation_outputs, figures.patent_applications,
             figures.patents_held)
        )  # fmt: skip
    form.section("（其他科技成果自行统计填写，需按认定管理办法规定内容分类）")


def _part_three(form: _Sink, application: Application, policy: Policy) -> None:
    form.section("三、服务能力及业绩")
    form.cells([("获得专业资质情况", 1, True), (application.qualifications, 5, False)])
    form.headers(("服务内容", "服务企业户数", "相关服务活动场次") * 2)
    functions = policy.service_functions.functions
    for left in range(0, len(functions), 2):
        row: list[object] = []
        for function in functions[left : left + 2]:
            figures = application.services.get(function.id)
            row += [
                service_label(function),
                figures.enterprises_served if figures else None,
                figures.activities if figures else None,
            ]
        form.data(row)
    form.cells(
        [
            (
                f"上一年度营业收入 {_amount(application.revenue_last_year_10k_yuan)} 万元，"
                f"减免小微企业各类服务费用 {_amount(application.fee_reductions_10k_yuan)} 万元。",
                _WIDTH,
                False,
            )
        ]
    )
    signed = [agency.name for agency in application.agencies if agency.signed_agreement]
    others = [agency.name for agency in application.agencies if not agency.signed_agreement]
    first = form.row
    form.cells([("签约合作服务机构", 1, True), ("签订合作协议的单位", 2, True),
                ("其他合作单位", 3, True)])  # fmt: skip
    lines = max(len(signed), len(others), 1)
    form.cells([(None, 1, True), ("\n".join(signed), 2, False), ("\n".join(others), 3, False)],
               height=max(18.0, 15.0 * lines))  # fmt: skip
    form.merge_down(1, first, first + 1)


def _part_four(form: _Sink, application: Application, case: Case | None) -> None:
    form.section("四、获得支持情况")
    form.cells([("得到政府扶持的情况", 1, True), (application.government_support, 5, False)],
               height=30)  # fmt: skip
    form.cells([("各级政府或省级行业协会授予称号、荣誉", 1, True),
                (application.honours, 5, False)], height=30)  # fmt: skip
    form.section("县（市）区、开发（度假）区中小企业主管部门审查推荐意见：")
    opinion = case.recommendation.opinion if case and case.recommendation else None
    form.cells([(opinion, _WIDTH, False)], height=60)
    form.cells([(None, 4, False), ("年　　月　　日", 2, False)])


def application_form_sheet(
    workbook: Workbook, application: Application, policy: Policy, case: Case | None = None
) -> None:
    """Add the 申请表 sheet: parts 一 to 四 of the form; with a ``case`` the district's
    recommendation opinion fills 审查推荐意见."""
    sheet = workbook.create_sheet(APPLICATION_FORM_SHEET)
    title(sheet, 1, APPLICATION_FORM_TITLE, _WIDTH)
    form = _Form(sheet)
    form.row = 2
    _part_one(form, application)
    _part_two(form, application)
    _part_three(form, application, policy)
    _part_four(form, application, case)
    widths(sheet, (24, 18, 16, 18, 16, 18))
    sheet.sheet_view.showGridLines = False


def application_form_table(
    application: Application, policy: Policy, case: Case | None = None
) -> Table:
    """The 申请表 as a `Table` of six columns: the same rows as `application_form_sheet`."""
    form = _TableForm()
    _part_one(form, application)
    _part_two(form, application)
    _part_three(form, application, policy)
    _part_four(form, application, case)
    rows = tuple(tuple(_full(cells)) for cells in form.rows)
    return Table(rows, widths=(24, 18, 16, 18, 16, 18), size=10.5, header_rows=0)


def _full(cells: list[Cell]) -> list[Cell]:
    """A row of the form filled out to the six columns (a short row of headers or figures,
    such as 二's five columns, ends in one wider cell)."""
    used = sum(cell.span for cell in cells)
    if used < _WIDTH and cells:
        last = cells[-1]
        cells = [*cells[:-1], attrs.evolve(last, span=last.span + _WIDTH - used)]
    return cells
