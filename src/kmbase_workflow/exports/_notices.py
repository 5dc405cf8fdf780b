"""The notices of a round, computed from the record (`Document`): the 公示 of the bases going
into public notice (第十三条, `public_notice`), with the period as the cases' stored notice
holds it (first and last day, counted on the calendar when it was announced: never
recomputed here), and the 认定 notice of the certified bases (第十四条,
`certification_notice`), citing the collective decision, with each base's validity as stored
(第十五条). The issuing office and where to object come from the host's `DocumentSettings`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from .._i18n import Text
from ..case import Case, CollectiveDecision
from ..errors import InvalidInputError
from ..lifecycle import STEPS, Trigger
from ..policy import Policy
from ._document_model import (
    Block,
    Document,
    Para,
    Style,
    Table,
    chinese_date,
    chinese_number,
    row,
)
from ._document_settings import (
    DocumentSettings,
    ObjectionContact,
    required_objections,
    required_office,
)

if TYPE_CHECKING:
    from ..workflow import Workflow

__all__ = [
    "BASE_TITLE",
    "CertificationNotice",
    "NoticeEntry",
    "PublicNotice",
    "certification_notice",
    "public_notice",
]

BASE_TITLE = "昆明市小型微型企业创业创新示范基地"
"""The title a base is awarded (第十四条)."""
_DISTRICT_AUTHORITIES = "县（市）区、开发（度假）区中小企业主管部门"


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
    office = required_office(settings)
    contact = required_objections(settings)
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
    office = required_office(settings)
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
