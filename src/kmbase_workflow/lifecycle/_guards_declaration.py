"""The guards of declaring and correcting (第八条 to 第十条, 第十五条, 第二十条): the round is
open, the materials are complete, one open case per base, the year of re-application, a
return for correction and its resubmission."""

from __future__ import annotations

from collections.abc import Iterator

from ..case import ROUND_CHAIN_PREFIX, Correction
from ..deadlines import reapplication_year
from ..eligibility import district_problems
from ..records import Application
from ._model import TITLE_HELD, GuardContext, GuardFailure, failure, text


def _not_a_round_chain(ctx: GuardContext) -> Iterator[GuardFailure]:
    """A case id never begins with ``round:``: that names a declaration round's chain in the
    history (第二十条), which no case may share."""
    if ctx.case.id.startswith(ROUND_CHAIN_PREFIX):
        yield failure(
            "case_id",
            text("第二十条", "Art. 20"),
            f"案件编号不能以“{ROUND_CHAIN_PREFIX}”开头（留给申报批次的历史记录）",
            f"a case id may not begin with “{ROUND_CHAIN_PREFIX}” (it names a declaration "
            "round's history)",
        )


def _round_open(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.declaration.article
    if ctx.round is None or not ctx.round.is_open_on(ctx.today):
        yield failure(
            "round_open",
            article,
            f"{ctx.today} 不在申报期内（市工业和信息化局每年组织一次申报）",
            f"{ctx.today} is outside any declaration round (one round a year, set by its notice)",
        )


def _materials_of(application: Application, ctx: GuardContext) -> Iterator[GuardFailure]:
    provided = application.materials
    for material in ctx.policy.materials:
        if material.required and not provided.get(material.id, "").strip():
            yield failure(
                f"materials.{material.id}",
                material.article,
                f"缺少申报材料：{material.name.zh}",
                f"missing material: {material.name.en}",
            )


def _materials_complete(ctx: GuardContext) -> Iterator[GuardFailure]:
    yield from _materials_of(ctx.case.application, ctx)


def _district_listed(ctx: GuardContext) -> Iterator[GuardFailure]:
    """The base lies in one of the policy's districts (第四条, 第九条 属地原则)."""
    for problem in district_problems(ctx.case.district, ctx.policy):
        yield GuardFailure("district_listed", text("第四条、第九条", "Art. 4, 9"), problem)


def _one_open_case_and_reapplication(ctx: GuardContext) -> Iterator[GuardFailure]:
    validity_article = ctx.policy.periods.validity.article
    for other in ctx.other_cases:
        if other.id == ctx.case.id:
            continue
        if other.state.is_open:
            yield failure(
                "one_open_case",
                ctx.policy.periods.declaration.article,
                f"该基地已有未办结的申报（{other.id}，{other.round_year} 年度，{other.state.label.zh}）",
                f"the base already has an open application ({other.id}, round {other.round_year}, "
                f"{other.state.label.en})",
            )
        elif other.state in TITLE_HELD and other.validity is not None:
            allowed = reapplication_year(other.validity, ctx.policy.periods.validity)
            if ctx.case.round_year < allowed:
                yield failure(
                    "reapplication_year",
                    validity_article,
                    f"该基地认定有效期至 {other.validity.due}，{allowed} 年起方可再次申报",
                    f"the base's certification is valid until {other.validity.due}; "
                    f"it may apply again from {allowed}",
                )


def _correction(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.spot_check.article
    payload = ctx.payload
    if not isinstance(payload, Correction) or not any(d.strip() for d in payload.deficiencies):
        yield failure(
            "deficiencies",
            article,
            "退回补正须列明需补正的问题",
            "a return for correction must list what is to be corrected",
        )
        return
    if payload.due < ctx.today:
        yield failure(
            "correction_due",
            article,
            f"补正期限 {payload.due} 早于今天 {ctx.today}",
            f"the correction deadline {payload.due} is before today ({ctx.today})",
        )
    if ctx.round is not None and payload.due > ctx.round.closes_on:
        yield failure(
            "correction_within_round",
            ctx.policy.periods.declaration.article,
            f"补正期限 {payload.due} 晚于本年度申报截止日 {ctx.round.closes_on}",
            f"the correction deadline {payload.due} is after the round closes "
            f"({ctx.round.closes_on})",
        )


def _resubmission(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.spot_check.article
    correction = ctx.case.correction
    if correction is not None and ctx.today > correction.due:
        yield failure(
            "correction_due",
            article,
            f"补正期限 {correction.due} 已过",
            f"the correction deadline {correction.due} has passed",
        )
    amended = ctx.payload
    if not isinstance(amended, Application):
        yield failure(
            "amended_application",
            article,
            "须提交补正后的申请",
            "the amended application is needed",
        )
        return
    declared = ctx.case.application
    if (
        amended.operator.unified_social_credit_code != declared.operator.unified_social_credit_code
        or amended.base.district != declared.base.district
    ):
        yield failure(
            "same_base",
            article,
            "补正后的申请须为同一运营主体、同一县区的同一基地",
            "the amended application must be the same base, operator and district",
        )
    yield from _materials_of(amended, ctx)


def _correction_lapsed(ctx: GuardContext) -> Iterator[GuardFailure]:
    """The district concludes a return for correction only once its deadline has passed
    without a resubmission (第十条)."""
    correction = ctx.case.correction
    if correction is None or ctx.today <= correction.due:
        due = correction.due if correction else "—"
        yield failure(
            "correction_lapsed",
            ctx.policy.spot_check.article,
            f"补正期限 {due} 尚未届满，今天是 {ctx.today}",
            f"the correction deadline {due} has not passed; today is {ctx.today}",
        )
