"""The guards of the public notice and certification (第十三条, 第十四条): when a notice
starts and how long it lasts, objections and their investigation, and certifying."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..case import CollectiveDecision, NoticeAnnouncement, Objection
from ..deadlines import earliest_certification_date, in_notice
from ..eligibility import notice_problems
from ._guards_common import _decided_between
from ._model import GuardContext, GuardFailure, Trigger, failure, text


def _announcement(ctx: GuardContext) -> NoticeAnnouncement:
    return ctx.payload if isinstance(ctx.payload, NoticeAnnouncement) else NoticeAnnouncement()


def _notice_period(ctx: GuardContext) -> Iterator[GuardFailure]:
    """The announced notice: not in the past, not shorter than the policy's minimum (第十三条);
    each of ``publicize`` and ``announce_notice`` only for the notice it fits
    (`Trigger.of_notice`)."""
    period = ctx.policy.periods.notice
    announcement = _announcement(ctx)
    start = announcement.starts_on or ctx.today
    if start < ctx.today:
        yield failure(
            "notice_start",
            period.article,
            f"公示开始日 {start} 早于今天 {ctx.today}",
            f"the notice cannot start in the past ({start} is before {ctx.today})",
        )
    fits = Trigger.of_notice(start, ctx.today)
    if ctx.trigger is not fits and fits is Trigger.ANNOUNCE_NOTICE:
        yield failure(
            "notice_start",
            period.article,
            f"公示 {start} 才开始，今天只能发布公告（announce_notice）",
            f"the notice starts on {start}; today it can only be announced (announce_notice)",
        )
    elif ctx.trigger is not fits:
        yield failure(
            "notice_start",
            period.article,
            "今天开始的公示请直接公示（publicize）",
            "a notice that starts today is publicized (publicize), not announced",
        )
    if announcement.working_days is not None and announcement.ends_on is not None:
        yield failure(
            "notice_length",
            period.article,
            "公示期请只给出工作日数或结束日之一",
            "give the notice's working days or its last day, not both",
        )
        return
    days = _announced_working_days(ctx, start, announcement)
    if days is not None:
        for problem in notice_problems(days, ctx.policy):
            yield GuardFailure("notice_length", period.article, problem)


def _announced_working_days(
    ctx: GuardContext, start: dt.date, announcement: NoticeAnnouncement
) -> int | None:
    if announcement.working_days is not None:
        return announcement.working_days
    if announcement.ends_on is None:
        return None
    # The start day counts when it is a working day (as published notices count).
    first = ctx.calendar.working_day_on_or_after(start, allow_provisional=ctx.allow_provisional)
    if announcement.ends_on < first:
        return 0
    return 1 + ctx.calendar.count_working_days(
        first, announcement.ends_on, allow_provisional=ctx.allow_provisional
    )


def _notice_started(ctx: GuardContext) -> Iterator[GuardFailure]:
    notice = ctx.case.notice
    if notice is None or ctx.today < notice.start:
        start = notice.start if notice else "—"
        yield failure(
            "notice_start",
            ctx.policy.periods.notice.article,
            f"公示自 {start} 开始，今天是 {ctx.today}",
            f"the notice starts on {start}; today is {ctx.today}",
        )


def _inside_notice(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.notice.article
    notice = ctx.case.notice
    if not isinstance(ctx.payload, Objection) or not ctx.payload.content.strip():
        yield failure("objection", article, "异议须写明内容", "an objection needs its content")
    if notice is None or not in_notice(notice, ctx.today):
        period = f"{notice.start}–{notice.due}" if notice else "—"
        yield failure(
            "inside_notice",
            article,
            f"只在公示期内（{period}）受理异议，今天是 {ctx.today}",
            f"objections are accepted only during the notice ({period}); today is {ctx.today}",
        )


def _finding_given(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not ctx.reason.strip():
        yield failure(
            "investigation",
            ctx.policy.periods.notice.article,
            "须写明调查核实结论",
            "the investigation's conclusion is needed",
        )


_CERTIFICATION = text("第十四条", "Art. 14")


def _certifiable(ctx: GuardContext) -> Iterator[GuardFailure]:
    notice = ctx.case.notice
    earliest: dt.date | None = None
    if notice is None:
        yield failure("notice", _CERTIFICATION, "尚未公示", "the base has not been publicized")
    else:
        earliest = earliest_certification_date(
            notice, calendar=ctx.calendar, allow_provisional=ctx.allow_provisional
        )
        if ctx.today < earliest:
            yield failure(
                "notice_over",
                _CERTIFICATION,
                f"公示期至 {notice.due} 结束，{earliest} 起方可认定",
                f"the notice runs until {notice.due}; certification is possible from {earliest}",
            )
    if ctx.case.open_objection is not None:
        yield failure(
            "open_objection",
            _CERTIFICATION,
            "仍有异议未核实",
            "an objection is still being investigated",
        )
    decision = ctx.payload
    if not isinstance(decision, CollectiveDecision) or not decision.reference.strip():
        yield failure(
            "collective_decision",
            _CERTIFICATION,
            "须记录市工业和信息化局集体决策",
            "the city bureau's collective decision must be recorded",
        )
        return
    # 公示期结束后: any day after the notice's last, a day off included (第十四条)
    after_notice = notice.due + dt.timedelta(days=1) if notice is not None else None
    yield from _decided_between(ctx, decision.decided_on, after_notice, "collective_decision_date")
