"""Firing a step on a case, as the workflow does it: the payload's type, the completed
payload, every guard, the refusal that names them, and the case after the step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from .._i18n import Text
from ..case import Case, State
from ..errors import InvalidInputError, TransitionRefusedError
from ._guards_common import _COMMON_GUARDS, _state_allows
from ._model import GuardContext, GuardFailure, Trigger, step_for


def check_payload_type(trigger: Trigger, payload: object) -> None:
    """A payload of the wrong type is a programming mistake, not a refusal: raise
    `InvalidInputError` saying which type the step takes."""
    step = step_for(trigger)
    if payload is None:
        return
    expected = step.payload
    if expected is None or not isinstance(payload, expected):
        wanted = expected.__name__ if expected is not None else "None"
        raise InvalidInputError(
            Text(
                zh=f"编程错误：{trigger.value} 的附带数据应为 {wanted}，收到 {type(payload).__name__}",
                en=f"programming error: the payload of {trigger.value} must be a {wanted}, "
                f"got {type(payload).__name__}",
            ),
            hint=Text(
                zh="请按 Step.payload 传入类型化的记录（JSON 请先用 Step.parse_payload 解析）",
                en="pass the typed record of Step.payload (parse JSON with Step.parse_payload)",
            ),
        )


def completed(ctx: GuardContext) -> GuardContext:
    """The context with the payload as the step records it (`Step.complete`)."""
    complete = ctx.step.complete
    return ctx if complete is None else attrs.evolve(ctx, payload=complete(ctx))


def check_guards(ctx: GuardContext) -> list[GuardFailure]:
    """Every failed guard of firing ``ctx.trigger`` on ``ctx.case`` (empty: allowed). A
    step not allowed from the case's state fails on that alone."""
    failures = list(_state_allows(ctx))
    if failures:
        return failures
    for guard in (*_COMMON_GUARDS[1:], *ctx.step.guards):
        failures.extend(guard(ctx))
    return failures


def refusal(
    case_id: str, action: Trigger | Text, failures: Sequence[GuardFailure]
) -> TransitionRefusedError:
    """The error for a refused step (or an action named by ``action``'s label), listing every
    failed guard and its article."""
    label = step_for(action).label if isinstance(action, Trigger) else action
    zh = "\n".join(f"  - [{f.article.zh}] {f.message.zh}" for f in failures)
    en = "\n".join(f"  - [{f.article.en}] {f.message.en}" for f in failures)
    return TransitionRefusedError(
        Text(
            zh=f"案件 {case_id} 不能{label.zh}（{len(failures)} 项条件不满足）：\n{zh}",
            en=f"case {case_id}: cannot {label.en} ({len(failures)} condition(s) not met):\n{en}",
        ),
        hint=Text(
            zh="补齐上述条件后重试；案件未作任何改动",
            en="meet them and try again; nothing was changed",
        ),
        failures=failures,
    )


_CLOSING = frozenset({State.NOT_RECOMMENDED, State.REJECTED, State.WITHDRAWN})


def apply_trigger(ctx: GuardContext) -> Case:
    """The case after ``ctx.trigger`` (guards must have passed): new state, version + 1, the
    day of the step, and what the step's effect records."""
    step = ctx.step
    case = ctx.case
    destination = step.destination or case.state
    changes: dict[str, Any] = {
        "state": destination,
        "version": case.version + 1,
        "last_acted_on": ctx.today,
    }
    if step.effect is not None:
        changes.update(step.effect(ctx))
    if destination in _CLOSING:
        changes.setdefault("closing_reason", ctx.reason)
    return attrs.evolve(case, **changes)
