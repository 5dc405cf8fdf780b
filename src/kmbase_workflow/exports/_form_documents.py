"""The official forms as documents (`Document`): 附件1 as the form to print, sign and stamp
(`application_form`: 承诺书, 申请表 and its four tables) and 附件2 推荐汇总表
(`recommendation_document`: the rows of the workbook).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..case import Case
from ..policy import Policy, load_policy
from ..records import Application
from ._application_form import application_form_table
from ._document_model import Block, Break, Cell, Document, Para, Style, Table, row
from ._excel import (
    _free_services,
    _results,
    _roster_total,
    recommendation_rows,
)
from ._forms import (
    ACTIVITIES_HEADERS,
    ACTIVITIES_TABLE,
    APPLICATION_FORM_TITLE,
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
    Column,
    record_cells,
    roster_in_form_order,
    service_label,
)

if TYPE_CHECKING:
    from ..workflow import Workflow

__all__ = ["application_form", "recommendation_document"]

# -- 附件1 as the form --------------------------------------------------------------------------

_PLEDGE_TEXT = (
    "一、按照规定组织申报材料，并对申报昆明市小型微型企业创业创新示范基地所有申报资料"
    "（包括文字、文件、数据、图片、合同、凭证及证明材料等）的真实性、完整性和准确性负责。",
    "二、遵守国家相关法律法规，上年度未发生偷漏税、拖欠职工工资及欠缴社会保险费、"
    "重大以上生产安全事故、重特大环境污染事件和重大产品质量安全事故等行为。",
    "三、按照规定程序申报昆明市小型微型企业创业创新示范基地，对涉及有关业务的部门及人员，"
    "不采取吃请、馈赠、贿赂等不正当手段。",
)
"""附件1 承诺书 as the annex prints it (the form's own words, as the tables' headers)."""


def _pledge(application: Application, policy: Policy) -> list[Block]:
    blocks: list[Block] = [
        Para("承诺书", Style.TITLE),
        Para("我单位对如下事项郑重承诺：", Style.SALUTATION),
        *(Para(text) for text in _PLEDGE_TEXT),
        Para("如有违反上述承诺，我单位愿承担一切责任。"),
    ]
    refused = [
        f"{pledge.article.zh}：{pledge.description.zh}"
        for pledge in policy.pledges
        if application.pledges.get(pledge.id) is False
    ]
    if refused:
        blocks.append(Para("注：申请单位申明不能承诺：" + "；".join(refused) + "。", Style.NOTE))
    blocks += [
        Para(f"申报单位（公章）：{application.operator.name}", Style.PLAIN),
        Para("法定代表人（签字）：", Style.PLAIN),
        Para("日期：　　年　　月　　日", Style.PLAIN),
    ]
    return blocks


def _grouped_header(columns: Sequence[Column]) -> tuple[tuple[Cell, ...], tuple[Cell, ...]]:
    """The two header rows of a table whose columns have groups (教育情况 over 学历 …)."""
    upper: list[Cell] = []
    lower: list[Cell] = []
    index = 0
    while index < len(columns):
        column = columns[index]
        if column.group is None:
            upper.append(Cell(column.header, header=True, down=2))
            lower.append(Cell(None, header=True, merged=True))
            index += 1
            continue
        members = [c for c in columns[index:] if c.group == column.group]
        upper.append(Cell(column.group, span=len(members), header=True))
        lower.extend(Cell(member.header, header=True) for member in members)
        index += len(members)
    return tuple(upper), tuple(lower)


def _staff_table(application: Application) -> Table:
    upper, lower = _grouped_header(STAFF_COLUMNS)
    rows = [upper, lower]
    for number, member in enumerate(application.staff, start=1):
        rows.append(row(record_cells(STAFF_COLUMNS, member, number)))
    widths = tuple(column.width for column in STAFF_COLUMNS)
    return Table(tuple(rows), widths=widths, size=9, header_rows=2)


def _roster_table(application: Application) -> Table:
    rows = [row([column.header for column in ROSTER_COLUMNS], header=True)]
    residents = roster_in_form_order(application.residents)
    for number, resident in enumerate(residents, start=1):
        rows.append(row(record_cells(ROSTER_COLUMNS, resident, number)))
    rows.append(row(_roster_total(residents)))
    widths = tuple(column.width for column in ROSTER_COLUMNS)
    return Table(tuple(rows), widths=widths, size=9)


def _activities_table(application: Application, policy: Policy) -> Table:
    rows = [row(ACTIVITIES_HEADERS, header=True)]
    free = _free_services(application)
    functions = policy.service_functions.functions
    for number, function in enumerate(functions, start=1):
        figures = application.services.get(function.id)
        values: list[object] = [number, service_label(function), None, None, None]
        if figures is not None:
            values[2:5] = [figures.description or None, figures.activities, _results(figures)]
        cells = list(row(values))
        if number == 1:
            cells.append(Cell(free, down=len(functions)))
        else:
            cells.append(Cell(None, merged=True))
        cells.append(Cell(None))
        rows.append(tuple(cells))
    return Table(tuple(rows), widths=(6, 16, 36, 10, 24, 24, 12), size=10.5)


def _satisfaction_table(application: Application) -> Table:
    upper = [Cell(header, header=True, down=2) for header in SATISFACTION_HEADERS[:-1]]
    upper.append(Cell(SATISFACTION_HEADERS[-1], span=2, header=True))
    lower = [Cell(None, header=True, merged=True) for _ in SATISFACTION_HEADERS[:-1]]
    lower += [Cell(text, header=True) for text in SATISFACTION_SUBHEADERS]
    rows = [tuple(upper), tuple(lower)]
    survey = application.satisfaction_survey
    for number, response in enumerate(survey, start=1):
        rows.append(
            row(
                [
                    number,
                    response.enterprise,
                    response.contact_person,
                    response.contact_phone,
                    response.services,
                    TICK if response.satisfied else None,
                    None if response.satisfied else TICK,
                ]
            )
        )
    satisfied = sum(response.satisfied for response in survey)
    rows.append(row([TOTAL, None, None, None, None, satisfied, len(survey) - satisfied]))
    return Table(tuple(rows), widths=(6, 30, 10, 15, 30, 8, 8), size=10.5, header_rows=2)


def application_form(application: Application | Case, *, policy: Policy | None = None) -> Document:
    """附件1 of an application (or a case's) as the form to print, sign and stamp: the
    承诺书 (the annex's three undertakings; a pledge the application says it cannot make is
    noted under them), the 申请表 (as `export_application_tables` lays it out; for a case
    the district's opinion fills 审查推荐意见), then the four tables on landscape pages:
    管理和专职服务人员情况表, 入驻企业（项目）名录表 (by 入驻基地时间, with 合计),
    开展服务活动情况表 (one row per service function of ``policy``, default: the policy in
    force on the declaration date) and 入驻小微企业服务满意度评价表."""
    case = application if isinstance(application, Case) else None
    if isinstance(application, Case):
        application = application.application
    chosen = policy if policy is not None else load_policy(application.declared_on)
    name = application.base.name
    blocks: list[Block] = _pledge(application, chosen)
    blocks += [
        Break(),
        Para(APPLICATION_FORM_TITLE, Style.TITLE),
        application_form_table(application, chosen, case),
        Break(landscape=True),
        Para(STAFF_TABLE, Style.TITLE),
        Para(f"基地名称：{name}", Style.PLAIN),
        _staff_table(application),
        Break(landscape=True),
        Para(ROSTER_TABLE, Style.TITLE),
        Para("（顺序按企业入驻基地年份）", Style.CENTERED),
        Para(f"基地名称：{name}", Style.PLAIN),
        _roster_table(application),
        Break(landscape=True),
        Para(ACTIVITIES_TABLE, Style.TITLE),
        Para(f"基地名称：{name}", Style.PLAIN),
        _activities_table(application, chosen),
        Break(landscape=True),
        Para(SATISFACTION_TABLE, Style.TITLE),
        Para(f"基地名称：{name}", Style.PLAIN),
        _satisfaction_table(application),
    ]
    summary = {
        "document": "application-form",
        "case": case.id if case is not None else None,
        "base": name,
        "staff": len(application.staff),
        "residents": len(application.residents),
        "services": len(chosen.service_functions.functions),
        "survey": len(application.satisfaction_survey),
    }
    return Document("application-form", f"附件1 {APPLICATION_FORM_TITLE}", tuple(blocks), summary)


# -- 附件2 as a document -------------------------------------------------------------------------


def recommendation_document(
    workflow: Workflow,
    district: str,
    round_year: int,
    *,
    filled_by: str = "",
    phone: str = "",
    unit: str | None = None,
) -> Document:
    """附件2 推荐汇总表 of a district's round as a document (landscape): the rows of
    `recommendation_rows`, as the workbook of `export_recommendation_table` has them."""
    rows = recommendation_rows(workflow, district, round_year)
    table_rows = [row(RECOMMENDATION_HEADERS, header=True)]
    table_rows += [row(entry.cells(number)) for number, entry in enumerate(rows, start=1)]
    blocks: list[Block] = [
        Break(landscape=True),
        Para(RECOMMENDATION_TITLE, Style.TITLE),
        Para(f"推荐单位（公章）：{district if unit is None else unit}", Style.PLAIN),
        Table(tuple(table_rows), widths=(5, 18, 18, 18, 8, 8, 12, 9, 8, 16), size=10.5),
        Para(f"{RECOMMENDATION_NOTE}　　填表人：{filled_by}　　联系电话：{phone}", Style.NOTE),
    ]
    summary = {
        "document": "recommendations",
        "district": district,
        "round": round_year,
        "rows": len(rows),
        "recommended": sum(entry.recommended for entry in rows),
        "cases": [entry.case_id for entry in rows],
    }
    return Document("recommendations", RECOMMENDATION_TITLE, tuple(blocks), summary)
