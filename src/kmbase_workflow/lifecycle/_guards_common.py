"""The guards every step runs (its state, who acts, the order of time) and the small ones
several steps share (a reason given, a decision's date)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..actors import Role
from ..eligibility import district_problems
from ._authorization import regulation_roles
from ._model import Guard, GuardContext, GuardFailure, Trigger, failure, text


def _state_allows(ctx: GuardContext) -> Iterator[GuardFailure]:
    step = ctx.step
    source = None if ctx.trigger is Trigger.DECLARE else ctx.case.state
    if source not in step.sources:
        yield failure(
            "state",
            step.article,
            f"当前状态为“{ctx.case.state.label.zh}”，不能{step.label.zh}",
            f"cannot {step.label.en} a case that is {ctx.case.state.label.en}",
        )


def _authorized(ctx: GuardContext) -> Iterator[GuardFailure]:
    rule = ctx.authorization or regulation_roles
    yield from rule(ctx.actor, ctx.step, ctx.case)


def _time_moves_forward(ctx: GuardContext) -> Iterator[GuardFailure]:
    last = ctx.case.last_acted_on
    if last is not None and ctx.today < last:
        yield failure(
            "time_order",
            text("第二十条", "Art. 20"),
            f"本案最近一步办理于 {last}，不能在其之前的 {ctx.today} 办理",
            f"the case's latest step was on {last}; nothing can be done on an earlier day "
            f"({ctx.today})",
        )


def _known_district(ctx: GuardContext) -> Iterator[GuardFailure]:
    """A district authority names one of the policy's districts (第四条), so a typo never
    creates a district of its own."""
    if ctx.actor.role is Role.DISTRICT_AUTHORITY:
        for problem in district_problems(ctx.actor.district or "", ctx.policy):
            yield GuardFailure("actor_district", text("第四条", "Art. 4"), problem)


_COMMON_GUARDS: tuple[Guard, ...] = (
    _state_allows,
    _authorized,
    _known_district,
    _time_moves_forward,
)


def _reason_given(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not ctx.reason.strip():
        step = ctx.step
        yield failure(
            "reason", step.article, f"{step.label.zh}须说明理由", f"{step.label.en} needs a reason"
        )


def _decided_between(
    ctx: GuardContext, decided_on: dt.date, earliest: dt.date | None, guard: str
) -> Iterator[GuardFailure]:
    """A decision is dated no later than today and not before the step it decides."""
    article = ctx.step.article
    if decided_on > ctx.today:
        yield failure(
            guard,
            article,
            f"决定日期 {decided_on} 晚于今天 {ctx.today}",
            f"the decision date {decided_on} is after today ({ctx.today})",
        )
    if earliest is not None and decided_on < earliest:
        yield failure(
            guard,
            article,
            f"决定日期 {decided_on} 早于其可作出之日 {earliest}",
            f"the decision date {decided_on} is before the day it could be made ({earliest})",
        )
