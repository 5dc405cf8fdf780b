"""The guards of a title held (第十五条 to 第二十一条): its expiry, evaluations and
revocation, the plaque's return, annual reports, change filings, provincial recommendations,
and the sweep's notices sent once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

import attrs

from ..actors import Role
from ..calendar import WorkingDayCalendar
from ..case import (
    AnnualReport,
    Case,
    ChangeFiling,
    ChangeKind,
    Evaluation,
    PlaqueReturn,
    ProvincialRecommendation,
    Revocation,
    RevocationGround,
)
from ..deadlines import Deadline, DeadlineKind, annual_report_deadlines
from ..policy import Policy
from ._guards_common import _decided_between
from ._model import Guard, GuardContext, GuardFailure, failure, text


def _validity_over(ctx: GuardContext) -> Iterator[GuardFailure]:
    validity = ctx.case.validity
    if validity is None or ctx.today <= validity.due:
        due = validity.due if validity else "—"
        yield failure(
            "validity_over",
            ctx.policy.periods.validity.article,
            f"有效期至 {due}，尚未届满",
            f"validity runs until {due} and has not ended",
        )


_EVALUATION = text("第十八条", "Art. 18")


def _evaluation(passed: bool) -> Guard:
    def guard(ctx: GuardContext) -> Iterator[GuardFailure]:
        evaluation = ctx.payload
        if not isinstance(evaluation, Evaluation) or not evaluation.evaluator.strip():
            yield failure(
                "evaluation",
                _EVALUATION,
                "测评须写明测评机构或专家",
                "an evaluation needs its evaluator",
            )
        elif evaluation.passed is not passed:
            other = "fail_evaluation" if passed else "evaluation"
            yield failure(
                "evaluation_result",
                _EVALUATION,
                f"测评结果与操作不符，请用 {other}",
                f"the evaluation's result does not fit this step; use {other}",
            )

    return guard


def _revocation(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    if not isinstance(payload, Revocation) or not payload.details.strip():
        yield failure(
            "revocation",
            text("第十五条、第十八条", "Art. 15, 18"),
            "撤销须写明违法违规事实（第十五条）或测评不合格（第十八条）",
            "a revocation needs the violation (Art. 15) or the failed evaluation (Art. 18)",
        )
        return
    if payload.ground is RevocationGround.FAILED_EVALUATION and not any(
        not evaluation.passed for evaluation in ctx.case.evaluations
    ):
        yield failure(
            "failed_evaluation",
            _EVALUATION,
            "没有记录不合格的测评",
            "no failed evaluation has been recorded",
        )
    yield from _decided_between(ctx, payload.decided_on, ctx.case.certified_on, "revocation_date")
    returned = payload.plaque_returned_on
    if returned is not None and (returned > ctx.today or returned < payload.decided_on):
        yield failure(
            "plaque_returned_on",
            _EVALUATION,
            f"牌匾收回日期 {returned} 应在决定日与今天之间",
            f"the plaque's return ({returned}) must lie between the decision and today",
        )


def _plaque_return(ctx: GuardContext) -> Iterator[GuardFailure]:
    """The plaque comes back once, on a day between the revocation and today (第十八条)."""
    revocation = ctx.case.revocation
    payload = ctx.payload
    if revocation is not None and revocation.plaque_returned_on is not None:
        yield failure(
            "plaque_returned",
            _EVALUATION,
            f"牌匾已于 {revocation.plaque_returned_on} 收回",
            f"the plaque was returned on {revocation.plaque_returned_on}",
        )
        return
    if not isinstance(payload, PlaqueReturn) or revocation is None:
        yield failure(
            "plaque_return", _EVALUATION, "须写明牌匾收回日期", "the day of the return is needed"
        )
        return
    returned = payload.returned_on
    if returned > ctx.today or returned < revocation.decided_on:
        yield failure(
            "plaque_returned_on",
            _EVALUATION,
            f"牌匾收回日期 {returned} 应在撤销决定日 {revocation.decided_on} 与今天之间",
            f"the plaque's return ({returned}) must lie between the revocation "
            f"({revocation.decided_on}) and today",
        )


def _annual_report(ctx: GuardContext) -> Iterator[GuardFailure]:
    report = ctx.payload
    if not isinstance(report, AnnualReport):
        yield failure(
            "annual_report",
            ctx.step.article,
            "缺少年度工作总结和计划",
            "the annual summary and plan is missing",
        )
        return
    expected = Role.DISTRICT_AUTHORITY if report.by_district else Role.OPERATOR
    if ctx.actor.role is not expected:
        yield failure(
            "reporter",
            ctx.step.article,
            f"该报告由{expected.label.zh}报送",
            f"this report is filed by the {expected.label.en}",
        )
    periods = ctx.policy.periods
    article = (
        periods.district_annual_report if report.by_district else periods.base_annual_report
    ).article
    due = _annual_report_due(ctx.case, ctx.policy, report.year, report.by_district, ctx.calendar)
    if due is None:
        yield failure(
            "report_year",
            article,
            f"认定有效期内没有 {report.year} 年度的报送",
            f"the title's validity covers no report of {report.year}",
        )
        return
    filed = any(
        r.year == report.year and r.by_district == report.by_district
        for r in ctx.case.annual_reports
    )
    if filed and not report.correction:
        yield failure(
            "report_once",
            article,
            f"{report.year} 年度已报送；如需更正请以更正报送（correction）",
            f"the report of {report.year} is filed; file a correction (correction) to replace it",
        )
    elif report.correction and not filed:
        yield failure(
            "report_corrected",
            article,
            f"{report.year} 年度尚未报送，没有可更正的报告",
            f"no report of {report.year} has been filed: there is nothing to correct",
        )


def _change_filing(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.change_filing.article
    filing = ctx.payload
    if not isinstance(filing, ChangeFiling) or not filing.change.strip():
        yield failure("change", article, "须写明变更事项", "the change must be described")
        return
    if filing.completed_on > ctx.today:
        yield failure(
            "completed_on",
            article,
            f"变更完成日 {filing.completed_on} 晚于今天",
            f"the change cannot be completed in the future ({filing.completed_on})",
        )
    if filing.kind is ChangeKind.OPERATOR and filing.operator is None:
        yield failure(
            "new_operator",
            article,
            "变更运营主体须提交新运营主体的信息",
            "a change of operator must give the new operator",
        )
    if filing.kind is ChangeKind.NAME and not (filing.base_name or "").strip():
        yield failure(
            "new_name", article, "变更名称须提交新名称", "a change of name must give the new name"
        )


def _provincial(ctx: GuardContext) -> Iterator[GuardFailure]:
    record = ctx.payload
    if not isinstance(record, ProvincialRecommendation) or not record.programme.strip():
        yield failure(
            "programme",
            ctx.step.article,
            "须写明推荐的省级项目",
            "the provincial programme must be named",
        )


def _notice_not_sent(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    key = payload.get("key") if isinstance(payload, Mapping) else None
    if not isinstance(key, str) or key in ctx.case.notified:
        yield failure(
            "notified",
            ctx.step.article,
            f"该提醒已发送（{key}）",
            f"this notice was already sent ({key})",
        )


@attrs.frozen
class AnnualReportDue:
    """One annual summary and plan a certified base (or its district) owes (第十六条,
    第十七条): the year it is for, who files it and its deadline."""

    year: int
    by_district: bool
    deadline: Deadline

    @property
    def key(self) -> str:
        """``2026:district`` or ``2026:base``: how the queue and the sweep name it."""
        return f"{self.year}:{'district' if self.by_district else 'base'}"


def annual_reports_due(
    case: Case, policy: Policy, calendar: WorkingDayCalendar
) -> Iterator[AnnualReportDue]:
    """Every annual report of a certified case's validity, filed or not (第十六条, 第十七条):
    what the report's guard, the work queue and the sweep read. Years beyond the official
    calendar get provisional dates."""
    if case.certified_on is None:
        return
    for deadline in annual_report_deadlines(
        case.certified_on, policy.periods, calendar=calendar, allow_provisional=True
    ):
        yield AnnualReportDue(
            year=deadline.start.year,
            by_district=deadline.kind is DeadlineKind.DISTRICT_ANNUAL_REPORT,
            deadline=deadline,
        )


def _annual_report_due(
    case: Case, policy: Policy, year: int, by_district: bool, calendar: WorkingDayCalendar
) -> dt.date | None:
    """The due date of one year's report, none if the validity covers no such report."""
    for due in annual_reports_due(case, policy, calendar):
        if (due.year, due.by_district) == (year, by_district):
            return due.deadline.due
    return None
