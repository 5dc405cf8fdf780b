"""The guards of reviewing (第十条 to 第十二条): the district's recommendation and the
eligibility verdict, the experts' opinions and the round's selection, the site inspection."""

from __future__ import annotations

from collections.abc import Iterator

from ..actors import Role
from ..case import ExpertOpinion, Recommendation, Selection
from ..eligibility import (
    Status,
    claimed_satisfaction_rate,
    evaluate,
    expert_score_problems,
    judge_spot_check,
    spot_check_population,
)
from ._model import GuardContext, GuardFailure, failure, text


def _recommendation(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    article = ctx.policy.spot_check.article
    if not isinstance(payload, Recommendation):
        yield failure(
            "recommendation",
            article,
            "推荐须附推荐意见、真实性初审和满意度抽查结果",
            "a recommendation needs the opinion, the authenticity check and the spot check",
        )
        return
    if not payload.opinion.strip():
        yield failure("opinion", article, "缺少推荐意见", "the recommendation opinion is missing")
    if not payload.authenticity_checked:
        yield failure(
            "authenticity_checked",
            article,
            "尚未完成申报材料真实性、完整性初审",
            "the materials have not been checked for authenticity and completeness",
        )
    application = ctx.case.application
    claimed = claimed_satisfaction_rate(application)
    # The share is of the residents the application reports for the judged year (第十条).
    population = spot_check_population(application, ctx.policy, judged_on=ctx.case.judged_on)
    if population is None:
        year = ctx.policy.figures.expected_year(ctx.case.judged_on)
        yield failure(
            "spot_check.population",
            article,
            f"申请未填报 {year} 年度入驻小微企业数，无法确定抽查比例的基数",
            f"the application reports no resident small and micro enterprises for {year}: "
            "the spot check has no population to be a share of",
        )
        return
    checked = judge_spot_check(
        payload.spot_check, ctx.policy, claimed_rate=claimed, population=population
    )
    for finding in checked:
        if finding.status is Status.FAIL:
            yield GuardFailure(finding.rule, finding.article, finding.message)


def _eligible(ctx: GuardContext) -> Iterator[GuardFailure]:
    # Judged as of the day the case was really declared, whatever date the file carries.
    verdict = evaluate(ctx.case.application, ctx.policy, judged_on=ctx.case.judged_on)
    if verdict.eligible:  # nothing to report: the findings are not even rendered
        return
    for finding in verdict.findings:
        if finding.status is not Status.PASS:
            yield GuardFailure(f"eligibility.{finding.rule}", finding.article, finding.message)


_REVIEW = text("第十一条", "Art. 11")


def _expert_opinions(ctx: GuardContext) -> Iterator[GuardFailure]:
    needed = ctx.policy.expert_review.minimum_opinions
    given = len(ctx.case.expert_opinions)
    if given < needed:
        yield failure(
            "expert_opinions",
            _REVIEW,
            f"专家评审意见不足：需 {needed} 份，已有 {given} 份",
            f"not enough expert opinions: {needed} needed, {given} recorded",
        )
    selection = ctx.case.selection
    if selection is not None and selection.stale:
        yield failure(
            "selection_stale",
            _REVIEW,
            "择优排序后又有专家意见，须重新择优",
            "expert opinions arrived after the round was ranked; rank it again",
        )
    elif selection is not None and not selection.selected:
        yield failure(
            "selection",
            _REVIEW,
            f"择优排序未入选（第 {selection.rank}/{selection.of} 名）",
            f"not selected in the round's ranking (rank {selection.rank} of {selection.of})",
        )


def _expert_opinion(ctx: GuardContext) -> Iterator[GuardFailure]:
    opinion = ctx.payload
    if not isinstance(opinion, ExpertOpinion):
        yield failure("opinion", _REVIEW, "缺少专家评审意见", "the expert opinion is missing")
        return
    for problem in expert_score_problems(opinion.score, ctx.policy):
        yield GuardFailure("score", _REVIEW, problem)
    if not opinion.opinion.strip():
        yield failure("opinion", _REVIEW, "评审意见不能为空", "the opinion is empty")
    if not opinion.expert.strip():
        yield failure(
            "expert",
            _REVIEW,
            "须写明给出意见的专家",
            "the expert who gave the opinion must be named",
        )
    if ctx.actor.role is Role.EXPERT and opinion.expert != ctx.actor.id:
        yield failure(
            "own_opinion",
            _REVIEW,
            f"专家 {ctx.actor.id} 只能提交本人的意见（收到 {opinion.expert} 的）",
            f"expert {ctx.actor.id} can give only their own opinion (got {opinion.expert}'s)",
        )
    if ctx.actor.role is not Role.EXPERT and opinion.entered_by != ctx.actor.id:
        yield failure(
            "entered_by",
            _REVIEW,
            "代专家录入的意见须记录录入人",
            "an opinion entered on an expert's behalf must record who entered it",
        )
    if any(o.expert == opinion.expert for o in ctx.case.expert_opinions):
        yield failure(
            "one_opinion_per_expert",
            _REVIEW,
            f"专家 {opinion.expert} 已对本案提交过意见",
            f"expert {opinion.expert} has already given an opinion on this case",
        )


def _selection(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not isinstance(ctx.payload, Selection):
        yield failure("selection", _REVIEW, "缺少择优结果", "the ranking is missing")


def _inspection_opinion(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not (isinstance(ctx.payload, str) and ctx.payload.strip()):
        yield failure(
            "inspection_opinion",
            text("第十二条", "Art. 12"),
            "缺少现场核查意见",
            "the site inspection opinion is missing",
        )
