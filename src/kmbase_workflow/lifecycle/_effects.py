"""What a step records on the case (its effect), and the fields of a payload the library
fills itself before the guards run (the day of filing, lateness: `Step.complete`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._i18n import Text
from ..case import AnnualReport, ChangeFiling, Correction, Evaluation, Objection, PlaqueReturn
from ..deadlines import change_filing_deadline, notice_deadline, validity_deadline
from ._guards_notice import _announced_working_days, _announcement
from ._guards_title import _annual_report_due
from ._model import Effect, GuardContext, Trigger


def _set(field: str) -> Effect:
    return lambda ctx: {field: ctx.payload}


def _append(field: str) -> Effect:
    return lambda ctx: {field: (*getattr(ctx.case, field), ctx.payload)}


def _returned_today(ctx: GuardContext) -> object:
    payload = ctx.payload
    return (
        attrs.evolve(payload, returned_on=ctx.today) if isinstance(payload, Correction) else payload
    )


def _resubmit_effect(ctx: GuardContext) -> Mapping[str, Any]:
    return {"application": ctx.payload, "correction": None, "amended_on": ctx.today}


def _expert_opinion_effect(ctx: GuardContext) -> Mapping[str, Any]:
    changes: dict[str, Any] = {"expert_opinions": (*ctx.case.expert_opinions, ctx.payload)}
    if ctx.case.selection is not None:  # the ranking no longer reflects every opinion
        changes["selection"] = attrs.evolve(ctx.case.selection, stale=True)
    return changes


def _notice_effect(ctx: GuardContext) -> Mapping[str, Any]:
    announcement = _announcement(ctx)
    start = announcement.starts_on or ctx.today
    period = ctx.policy.periods.notice
    days = _announced_working_days(ctx, start, announcement)
    if days is not None:
        period = attrs.evolve(period, working_days=days)
    notice = notice_deadline(
        start,
        attrs.evolve(ctx.policy.periods, notice=period),
        calendar=ctx.calendar,
        allow_provisional=ctx.allow_provisional,
    )
    ends_on = announcement.ends_on
    if ends_on is not None and ends_on > notice.due:
        # announced to run past its last working day (to a Sunday, say): it lasts as
        # announced, and objections are received until that day (第十三条)
        explanation = Text(
            zh=f"{notice.explanation.zh}；按公告持续至 {ends_on}",
            en=f"{notice.explanation.en}; it runs as announced to {ends_on}",
        )
        notice = attrs.evolve(notice, due=ends_on, explanation=explanation)
    return {"notice": notice}


def _objection_effect(ctx: GuardContext) -> Mapping[str, Any]:
    # dated the day it is raised (第十三条's window is judged on it), never the caller's date
    objection = ctx.payload
    if isinstance(objection, Objection):
        objection = attrs.evolve(objection, raised_on=ctx.today)
    return {"objections": (*ctx.case.objections, objection)}


def _investigation_effect(ctx: GuardContext) -> Mapping[str, Any]:
    sustained = ctx.trigger is Trigger.SUSTAIN_OBJECTION
    return {
        "objections": tuple(
            attrs.evolve(o, finding=ctx.reason, sustained=sustained) if o.sustained is None else o
            for o in ctx.case.objections
        )
    }


def _certify_effect(ctx: GuardContext) -> Mapping[str, Any]:
    return {
        "decision": ctx.payload,
        "certified_on": ctx.today,
        "validity": validity_deadline(ctx.today, ctx.policy.periods.validity),
    }


def _evaluated_today(ctx: GuardContext) -> object:
    payload = ctx.payload
    if not isinstance(payload, Evaluation):
        return payload
    return attrs.evolve(payload, evaluated_on=ctx.today)


def _report_filed_today(ctx: GuardContext) -> object:
    report = ctx.payload
    if not isinstance(report, AnnualReport):
        return report
    due = _annual_report_due(ctx.case, ctx.policy, report.year, report.by_district, ctx.calendar)
    return attrs.evolve(report, submitted_on=ctx.today, late=due is not None and ctx.today > due)


def _change_filed_today(ctx: GuardContext) -> object:
    filing = ctx.payload
    if not isinstance(filing, ChangeFiling):
        return filing
    deadline = change_filing_deadline(
        filing.completed_on,
        ctx.policy.periods,
        calendar=ctx.calendar,
        allow_provisional=ctx.allow_provisional,
    )
    return attrs.evolve(filing, filed_on=ctx.today, due=deadline.due, late=ctx.today > deadline.due)


def _notify_effect(ctx: GuardContext) -> Mapping[str, Any]:
    assert isinstance(ctx.payload, Mapping)
    return {"notified": (*ctx.case.notified, ctx.payload["key"])}


def _lapsed_effect(ctx: GuardContext) -> Mapping[str, Any]:
    correction = ctx.case.correction
    due = correction.due if correction else "—"
    cited = (
        f"补正期限 {due} 已过，未补正重新提交（第十条）"
        f" / the correction deadline {due} lapsed without a resubmission (Art. 10)"
    )
    return {"closing_reason": f"{cited}; {ctx.reason}" if ctx.reason.strip() else cited}


def _plaque_effect(ctx: GuardContext) -> Mapping[str, Any]:
    assert isinstance(ctx.payload, PlaqueReturn)
    assert ctx.case.revocation is not None
    returned = ctx.payload.returned_on
    return {"revocation": attrs.evolve(ctx.case.revocation, plaque_returned_on=returned)}
