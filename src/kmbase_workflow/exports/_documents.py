"""The documents officials sign, computed from the record (`Document`), before any format:

- `public_notice`: the 公示 of a round's bases going into public notice (第十三条), with the
  period as the cases' stored notice holds it (first and last day, counted on the calendar
  when it was announced: never recomputed here);
- `certification_notice`: the 认定 notice (第十四条) of a round's certified bases, citing the
  collective decision, with each base's validity as stored (第十五条);
- `application_form`: 附件1 as the form (承诺书, 申请表 and its four tables) of a case;
- `recommendation_document`: 附件2 推荐汇总表 as a document (the rows of the workbook).

What the records do not hold (the issuing office, where to object) comes from the host's
`DocumentSettings`: never invented; a document that needs a missing one is refused.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._i18n import Text
from ..case import Case, CollectiveDecision
from ..errors import InvalidInputError
from ..lifecycle import STEPS, Trigger
from ..policy import Policy, load_policy
from ..records import Application
from ._application_form import application_form_table
from ._document_model import (
    Block,
    Break,
    Cell,
    Document,
    Para,
    Style,
    Table,
    chinese_date,
    chinese_number,
    row,
)
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

__all__ = [
    "BASE_TITLE",
    "CertificationNotice",
    "DocumentSettings",
    "NoticeEntry",
    "ObjectionContact",
    "PublicNotice",
    "application_form",
    "certification_notice",
    "load_document_settings",
    "public_notice",
    "recommendation_document",
]

BASE_TITLE = "昆明市小型微型企业创业创新示范基地"
"""The title a base is awarded (第十四条)."""
_DISTRICT_AUTHORITIES = "县（市）区、开发（度假）区中小企业主管部门"


# -- the host's configuration -----------------------------------------------------------------


@attrs.frozen
class ObjectionContact:
    """Where and how to object during the public notice (第十三条): who receives objections,
    and at least one way to reach them."""

    receiver: str
    """The office or person who receives objections (e.g. 市工业和信息化局中小企业处)."""
    phone: str = ""
    email: str = ""
    address: str = ""

    def lines(self) -> tuple[str, ...]:
        """The contact as the notice prints it, one line each, given ones only."""
        labelled = (
            ("联系部门", self.receiver),
            ("联系电话", self.phone),
            ("电子邮箱", self.email),
            ("通信地址", self.address),
        )
        return tuple(f"{label}：{value}" for label, value in labelled if value)


@attrs.frozen
class DocumentSettings:
    """What the documents need that the records do not hold: the host's configuration.

    ``office`` is the issuing office (发文机关, e.g. 昆明市工业和信息化局) signing the 公示
    and the 认定 notice; ``objections`` where to object to the 公示. Neither is ever
    invented: `public_notice` refuses without both, `certification_notice` without
    ``office``. Load them from TOML with `load_document_settings`.
    """

    office: str = ""
    objections: ObjectionContact | None = None


def _settings_error(source: str, problems: Sequence[str], en: Sequence[str]) -> InvalidInputError:
    return InvalidInputError(
        Text(zh=f"{source}：" + "；".join(problems), en=f"{source}: " + "; ".join(en)),
        hint=Text(
            zh="格式见 docs/how-to/documents.md（office、[objections] receiver 及 phone/email/address）",
            en="see docs/how-to/documents.md for the format (office, [objections] receiver and phone/email/address)",
        ),
    )


def _text_field(data: Mapping[str, Any], key: str, where: str, problems: list[Text]) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        problems.append(Text(zh=f"{where}{key} 应为文本", en=f"{where}{key} must be text"))
        return ""
    return value.strip()


def load_document_settings(source: str | Path | Mapping[str, Any]) -> DocumentSettings:
    """The host's `DocumentSettings` from a TOML file (or its parsed mapping)::

        office = "昆明市工业和信息化局"

        [objections]
        receiver = "昆明市工业和信息化局中小企业处"
        phone = "0871-00000000"
        email = ""
        address = ""

    A file that cannot be read or parsed, or a value that is not text, is refused
    (`InvalidInputError`); missing values stay empty, and the documents that need them refuse.
    """
    name = "<settings>" if isinstance(source, Mapping) else str(source)
    if isinstance(source, Mapping):
        data: Mapping[str, Any] = source
    else:
        try:
            data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise _settings_error(
                name, [f"无法读取：{reason}"], [f"cannot read: {reason}"]
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _settings_error(
                name, [f"不是有效的 TOML：{exc}"], [f"not valid TOML: {exc}"]
            ) from None
    problems: list[Text] = []
    office = _text_field(data, "office", "", problems)
    objections: ObjectionContact | None = None
    raw = data.get("objections")
    if raw is not None and not isinstance(raw, Mapping):
        problems.append(Text(zh="[objections] 应为表", en="[objections] must be a table"))
    elif raw is not None:
        fields = {
            key: _text_field(raw, key, "objections.", problems)
            for key in ("receiver", "phone", "email", "address")
        }
        objections = ObjectionContact(**fields)
    unknown = sorted(set(data) - {"office", "objections"})
    if unknown:
        problems.append(
            Text(zh=f"未知的键：{'、'.join(unknown)}", en=f"unknown keys: {', '.join(unknown)}")
        )
    if problems:
        raise _settings_error(
            name, [problem.zh for problem in problems], [problem.en for problem in problems]
        )
    return DocumentSettings(office=office, objections=objections)


def _missing_setting(what: Text) -> InvalidInputError:
    return InvalidInputError(
        Text(
            zh=f"文书需要{what.zh}，但主机配置中没有（不会编造）",
            en=f"the document needs {what.en}, which the host's settings do not give (never invented)",
        ),
        hint=Text(
            zh="在配置文件中填写（--settings FILE 或环境变量 KMBASE_DOCUMENTS），见 docs/how-to/documents.md",
            en="fill it in the settings file (--settings FILE or $KMBASE_DOCUMENTS), see docs/how-to/documents.md",
        ),
    )


def _office(settings: DocumentSettings) -> str:
    if not settings.office.strip():
        raise _missing_setting(Text(zh="发文机关（office）", en="the issuing office (office)"))
    return settings.office.strip()


def _objections(settings: DocumentSettings) -> ObjectionContact:
    contact = settings.objections
    if contact is None or not contact.receiver.strip():
        raise _missing_setting(
            Text(
                zh="受理异议的部门（[objections] receiver）",
                en="who receives objections ([objections] receiver)",
            )
        )
    if not (contact.phone.strip() or contact.email.strip() or contact.address.strip()):
        raise _missing_setting(
            Text(
                zh="反映异议的联系方式（[objections] phone、email 或 address）",
                en="a way to object ([objections] phone, email or address)",
            )
        )
    return contact


# -- the lists of a round ---------------------------------------------------------------------


@attrs.frozen
class NoticeEntry:
    """A base on the 公示 or the 认定 notice: as the record holds it now (a filed change of
    name or operator, 第十九条, is the name the public knows)."""

    case_id: str
    base_name: str
    operator_name: str
    district: str
    valid_from: dt.date | None = None
    """First day of validity (认定 notice only)."""
    valid_until: dt.date | None = None
    """Last day of validity (认定 notice only)."""


def _entry(case: Case) -> NoticeEntry:
    validity = case.validity
    return NoticeEntry(
        case_id=case.id,
        base_name=case.base_name,
        operator_name=case.operator.name,
        district=case.district,
        valid_from=validity.start if validity is not None else None,
        valid_until=validity.due if validity is not None else None,
    )


def _list_order(case: Case) -> tuple[int, dt.date, str, str]:
    """The order of the lists: the bureau's selection (择优, 第十一条) by rank, then the order
    of declaration, then name."""
    rank = case.selection.rank if case.selection is not None else 1 << 30
    return (rank, case.declared_on, case.base_name, case.id)


def _article(trigger: Trigger) -> str:
    return next(step.article.zh for step in STEPS if step.trigger is trigger)


def _measures(policy: Policy) -> str:
    return f"《{policy.title.zh}》（{policy.document}）"


def _steps_passed() -> str:
    """The steps every listed base passed, each with its article (第十条 to 第十二条)."""
    return (
        f"经{_DISTRICT_AUTHORITIES}推荐（{_article(Trigger.RECOMMEND)}）、"
        f"专家评审（{_article(Trigger.PASS_REVIEW)}）和"
        f"现场核查（{_article(Trigger.PASS_INSPECTION)}）"
    )


def _list_table(entries: Sequence[NoticeEntry], *, validity: bool) -> Table:
    headers = ["序号", "基地名称", "运营主体", "所在县区"]
    widths: list[float] = [8, 30, 30, 14]
    if validity:
        headers.append("有效期")
        widths = [7, 22, 24, 11, 26]
    rows = [row(headers, header=True)]
    for number, entry in enumerate(entries, start=1):
        values: list[object] = [number, entry.base_name, entry.operator_name, entry.district]
        if validity:
            assert entry.valid_from is not None
            assert entry.valid_until is not None
            values.append(f"{chinese_date(entry.valid_from)}至{chinese_date(entry.valid_until)}")
        rows.append(row(values))
    return Table(tuple(rows), widths=tuple(widths), size=12 if validity else 14)


def _signature(office: str, dated: dt.date) -> tuple[Para, Para]:
    return (Para(office, Style.SIGNATURE), Para(chinese_date(dated), Style.DATE))


def _round_cases(workflow: Workflow, round_year: int) -> list[Case]:
    return list(workflow.cases(round_year=round_year))


def _refuse_choice(what: Text, choices: Iterable[str], option: str) -> InvalidInputError:
    listed = "、".join(choices)
    return InvalidInputError(
        Text(
            zh=f"本年度有多个{what.zh}：{listed}",
            en=f"the round has several {what.en}: {', '.join(choices)}",
        ),
        hint=Text(zh=f"请用 {option} 选择一个", en=f"choose one with {option}"),
    )


# -- the 公示 (第十三条) ------------------------------------------------------------------------


@attrs.frozen
class PublicNotice:
    """The 公示 of a round (第十三条), as computed from the record."""

    round_year: int
    entries: tuple[NoticeEntry, ...]
    starts_on: dt.date
    """The first day of the notice, as stored (the day it is first up on the portal)."""
    ends_on: dt.date
    """The last day of the notice, as stored (counted on the working-day calendar)."""
    working_days: int
    """Working days from the first to the last day, both included."""
    provisional: bool
    """A day of the period lies in a year without an official holiday notice."""
    office: str
    contact: ObjectionContact
    dated: dt.date
    policy: Policy

    @property
    def title(self) -> str:
        return f"{self.office}关于{self.round_year}年度{BASE_TITLE}拟认定名单的公示"

    @property
    def title_lines(self) -> str:
        """The title broken where its sense allows (GB/T 9704-2012 7.3.1: 回行时词意完整)."""
        return f"{self.office}关于{self.round_year}年度\n{BASE_TITLE}\n拟认定名单的公示"

    @property
    def period(self) -> str:
        """``2025年9月26日至2025年10月15日``."""
        return f"{chinese_date(self.starts_on)}至{chinese_date(self.ends_on)}"

    def document(self) -> Document:
        """The notice as a `Document`."""
        article = self.policy.periods.notice.article.zh
        blocks: list[Block] = [
            Para(self.title_lines, Style.TITLE),
            Para(
                f"根据{_measures(self.policy)}{article}规定，{_steps_passed()}，"
                f"{self.office}确定了{self.round_year}年度{BASE_TITLE}拟认定名单"
                f"（共{len(self.entries)}家），现予以公示。"
            ),
            Para(
                f"公示期为{self.period}（{self.working_days}个工作日）。公示期内，对公示的基地"
                f"有异议的，请向{self.contact.receiver}反映，并提供必要的证明材料。"
                f"对公示期内有异议的基地，{self.office}将组织调查核实（{article}）。"
            ),
            *(Para(line) for line in self.contact.lines()),
            Para(f"{self.round_year}年度{BASE_TITLE}拟认定名单", Style.CENTERED),
            _list_table(self.entries, validity=False),
            *_signature(self.office, self.dated),
        ]
        return Document("notice", self.title, tuple(blocks), self.summary())

    def summary(self) -> dict[str, object]:
        """What the notice holds, as plain data."""
        return {
            "document": "notice",
            "round": self.round_year,
            "bases": len(self.entries),
            "cases": [entry.case_id for entry in self.entries],
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "working_days": self.working_days,
            "provisional": self.provisional,
            "dated": self.dated.isoformat(),
        }


def public_notice(
    workflow: Workflow,
    round_year: int,
    settings: DocumentSettings,
    *,
    starts_on: dt.date | None = None,
    dated: dt.date | None = None,
) -> PublicNotice:
    """The 公示 of ``round_year``: every case of the round the bureau put into public notice
    (whatever happened to it since: the notice as published), in the order of the bureau's
    selection (rank), then of declaration.

    The period is the cases' stored notice (`Case.notice`: its first and last day as
    announced). When the round's cases were put into notice with different periods, choose
    one with ``starts_on`` (its first day). ``dated`` (the date at the foot) defaults to the
    first day. Refused (`InvalidInputError`) when no case of the round is in notice, or when
    ``settings`` lacks the office or where to object.
    """
    office = _office(settings)
    contact = _objections(settings)
    noticed = [case for case in _round_cases(workflow, round_year) if case.notice is not None]
    periods = sorted({(case.notice.start, case.notice.due) for case in noticed if case.notice})
    if starts_on is not None:
        periods = [period for period in periods if period[0] == starts_on]
    if not periods:
        since = "" if starts_on is None else f"（自 {starts_on} 起）"
        since_en = "" if starts_on is None else f" starting on {starts_on}"
        raise InvalidInputError(
            Text(
                zh=f"{round_year} 年度没有进入社会公示的基地{since}",
                en=f"no base of the {round_year} round has been put into public notice{since_en}",
            ),
            hint=Text(
                zh="先发布公示（kmbase publicize），或检查年度与公示开始日",
                en="publicize first (kmbase publicize), or check the round and the first day",
            ),
        )
    if len(periods) > 1:
        raise _refuse_choice(
            Text(zh="公示期", en="notice periods"),
            [f"{start}～{due}" for start, due in periods],
            "--starts-on (starts_on)",
        )
    first, last = periods[0]
    cases = sorted(
        (
            case
            for case in noticed
            if case.notice is not None and (case.notice.start, case.notice.due) == (first, last)
        ),
        key=_list_order,
    )
    notice = cases[0].notice
    assert notice is not None
    working_days = workflow.calendar.count_working_days(
        first - dt.timedelta(days=1), last, allow_provisional=True
    )
    return PublicNotice(
        round_year=round_year,
        entries=tuple(_entry(case) for case in cases),
        starts_on=first,
        ends_on=last,
        working_days=working_days,
        provisional=any(case.notice.provisional for case in cases if case.notice is not None),
        office=office,
        contact=contact,
        dated=dated if dated is not None else first,
        policy=workflow.policy_for(cases[0]),
    )


# -- the 认定 notice (第十四条, 第十五条) ----------------------------------------------------------


@attrs.frozen
class CertificationNotice:
    """The notice that certifies a round's bases (第十四条), with their validity (第十五条)."""

    round_year: int
    entries: tuple[NoticeEntry, ...]
    decision: CollectiveDecision
    notice_period: tuple[dt.date, dt.date] | None
    """The public notice the bases went through, when they shared one."""
    office: str
    dated: dt.date
    policy: Policy

    @property
    def title(self) -> str:
        return f"{self.office}关于认定{self.round_year}年度{BASE_TITLE}的通知"

    @property
    def title_lines(self) -> str:
        """The title broken where its sense allows (GB/T 9704-2012 7.3.1)."""
        return f"{self.office}关于认定{self.round_year}年度\n{BASE_TITLE}的通知"

    def document(self) -> Document:
        """The notice as a `Document`."""
        validity = self.policy.periods.validity
        award = _article(Trigger.CERTIFY)
        noticed = "社会公示"
        if self.notice_period is not None:
            first, last = self.notice_period
            noticed = f"社会公示（{chinese_date(first)}至{chinese_date(last)}）"
        years = chinese_number(validity.years)
        again = "，在有效期满当年可再次申报" if validity.reapply_in_final_year else ""
        blocks: list[Block] = [
            Para(self.title_lines, Style.TITLE),
            Para(f"{_DISTRICT_AUTHORITIES}：", Style.SALUTATION),
            Para(
                f"根据{_measures(self.policy)}，{_steps_passed()}、{noticed}，"
                f"并经{self.office}集体决策（{self.decision.reference}，"
                f"{chinese_date(self.decision.decided_on)}），认定以下{len(self.entries)}家基地为"
                f"“{BASE_TITLE}”，并颁发牌匾（{award}）。"
            ),
            Para(
                f"市级示范基地认定有效期为{years}年{again}（{validity.article.zh}），"
                "各基地的有效期见下表。在有效期内如有违法违规等行为，一经查实，"
                "予以撤销市级示范基地称号。"
            ),
            Para(f"{self.round_year}年度{BASE_TITLE}名单", Style.CENTERED),
            _list_table(self.entries, validity=True),
            *_signature(self.office, self.dated),
        ]
        return Document("decision", self.title, tuple(blocks), self.summary())

    def summary(self) -> dict[str, object]:
        """What the notice holds, as plain data."""
        return {
            "document": "decision",
            "round": self.round_year,
            "bases": len(self.entries),
            "cases": [entry.case_id for entry in self.entries],
            "decision": self.decision.reference,
            "decided_on": self.decision.decided_on.isoformat(),
            "validity": [
                [entry.valid_from.isoformat(), entry.valid_until.isoformat()]
                for entry in self.entries
                if entry.valid_from is not None and entry.valid_until is not None
            ],
            "dated": self.dated.isoformat(),
        }


def certification_notice(
    workflow: Workflow,
    round_year: int,
    settings: DocumentSettings,
    *,
    decision: str | None = None,
    dated: dt.date | None = None,
) -> CertificationNotice:
    """The 认定 notice of ``round_year``: every case of the round certified by the collective
    decision (whatever happened to it since: the notice as issued), in the order of the
    bureau's selection, each with its stored validity.

    When the round's bases were certified by several decisions, choose one with ``decision``
    (its reference). ``dated`` defaults to the latest certification day of the list. Refused
    when no case of the round is certified, or when ``settings`` lacks the office.
    """
    office = _office(settings)
    certified = [
        case
        for case in _round_cases(workflow, round_year)
        if case.decision is not None and case.validity is not None
    ]
    references = sorted({case.decision.reference for case in certified if case.decision})
    if decision is not None:
        references = [reference for reference in references if reference == decision]
    if not references:
        raise InvalidInputError(
            Text(
                zh=f"{round_year} 年度没有经集体决策认定的基地"
                + ("" if decision is None else f"（决策 {decision}）"),
                en=f"no base of the {round_year} round has been certified"
                + ("" if decision is None else f" by decision {decision}"),
            ),
            hint=Text(
                zh="先认定授牌（kmbase certify），或检查年度与决策文号",
                en="certify first (kmbase certify), or check the round and the decision",
            ),
        )
    if len(references) > 1:
        raise _refuse_choice(
            Text(zh="集体决策", en="collective decisions"), references, "--decision"
        )
    cases = sorted(
        (
            case
            for case in certified
            if case.decision is not None and case.decision.reference == references[0]
        ),
        key=_list_order,
    )
    chosen = cases[0].decision
    assert chosen is not None
    periods = {(case.notice.start, case.notice.due) for case in cases if case.notice is not None}
    certified_days = [case.certified_on for case in cases if case.certified_on is not None]
    return CertificationNotice(
        round_year=round_year,
        entries=tuple(_entry(case) for case in cases),
        decision=chosen,
        notice_period=next(iter(periods)) if len(periods) == 1 else None,
        office=office,
        dated=dated if dated is not None else max(certified_days, default=chosen.decided_on),
        policy=workflow.policy_for(cases[0]),
    )


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
