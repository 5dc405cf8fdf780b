"""The certification lifecycle: states, triggers, who may fire them, and their guards.

The state graph is declared once, with ``transitions``, and shared by every case: a case is
plain data (`Case`), never a ``Machine`` of its own. Guards are
plain functions of a `GuardContext`; all of a trigger's guards run, so a refusal names
every failed guard with its article, in Chinese and English.

====================  =========================================  =====================  ==========
trigger               from → to                                  who                    article
====================  =========================================  =====================  ==========
declare               (new) → declared                           operator               第八条 第九条 第十五条
recommend             declared → district_recommended            district authority     第六条 第七条 第十条
decline               declared → not_recommended                 district authority     第十条
pass_review           district_recommended → expert_reviewed     city bureau            第十一条
fail_review           district_recommended → rejected            city bureau            第十一条
pass_inspection       expert_reviewed → site_inspected           city bureau            第十二条
fail_inspection       expert_reviewed → rejected                 city bureau            第十二条
publicize             site_inspected → publicized                city bureau            第十三条
object                publicized, verified → objected            anyone                 第十三条
verify                objected → verified                        city bureau            第十三条
sustain_objection     objected → rejected                        city bureau            第十三条
certify               publicized, verified → certified           city bureau            第十四条 第十五条
expire                certified → expired                        system                 第十五条
revoke                certified → revoked                        city bureau            第十五条 第十八条
withdraw              any open state → withdrawn                 operator               —
====================  =========================================  =====================  ==========
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
from transitions import Machine

from ._i18n import Text
from .actors import Actor, Role
from .calendar import WorkingDayCalendar
from .case import (
    Case,
    CollectiveDecision,
    DeclarationRound,
    ExpertOpinion,
    Objection,
    Recommendation,
    Revocation,
    RevocationGround,
    State,
)
from .deadlines import (
    earliest_certification_date,
    in_public_notice,
    public_notice_deadline,
    reapplication_year,
    validity_deadline,
)
from .eligibility import Status, evaluate, judge_spot_check
from .errors import TransitionRefusedError
from .policy import Policy

__all__ = [
    "MACHINE",
    "STEPS",
    "GuardContext",
    "GuardFailure",
    "Step",
    "Trigger",
    "actor_failures",
    "apply_trigger",
    "check_guards",
    "next_state",
    "refusal",
    "step_for",
]


class Trigger(enum.Enum):
    """What can happen to a case."""

    DECLARE = "declare"
    RECOMMEND = "recommend"
    DECLINE = "decline"
    PASS_REVIEW = "pass_review"
    FAIL_REVIEW = "fail_review"
    PASS_INSPECTION = "pass_inspection"
    FAIL_INSPECTION = "fail_inspection"
    PUBLICIZE = "publicize"
    OBJECT = "object"
    VERIFY = "verify"
    SUSTAIN_OBJECTION = "sustain_objection"
    CERTIFY = "certify"
    EXPIRE = "expire"
    REVOKE = "revoke"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> Text:
        """The trigger's name in both languages."""
        return step_for(self).label


NEW = "new"
"""The pseudo-state before ``declare``."""


def _article(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


@attrs.frozen
class Step:
    """One trigger of the graph: its sources, its destination, who may fire it, its article."""

    trigger: Trigger
    sources: tuple[State | None, ...]
    """``None`` stands for a case not yet declared."""
    destination: State
    roles: frozenset[Role]
    article: Text
    label: Text


_ANYONE = frozenset(Role) - {Role.SYSTEM}
_OPEN_STATES = tuple(state for state in State if state.is_open)

STEPS: tuple[Step, ...] = (
    Step(Trigger.DECLARE, (None,), State.DECLARED, frozenset({Role.OPERATOR}),
         _article("第九条", "Art. 9"), Text(zh="申报", en="declare")),
    Step(Trigger.RECOMMEND, (State.DECLARED,), State.DISTRICT_RECOMMENDED,
         frozenset({Role.DISTRICT_AUTHORITY}), _article("第十条", "Art. 10"),
         Text(zh="初审推荐", en="recommend")),
    Step(Trigger.DECLINE, (State.DECLARED,), State.NOT_RECOMMENDED,
         frozenset({Role.DISTRICT_AUTHORITY}), _article("第十条", "Art. 10"),
         Text(zh="不予推荐", en="decline")),
    Step(Trigger.PASS_REVIEW, (State.DISTRICT_RECOMMENDED,), State.EXPERT_REVIEWED,
         frozenset({Role.CITY_BUREAU}), _article("第十一条", "Art. 11"),
         Text(zh="专家评审通过", en="pass expert review")),
    Step(Trigger.FAIL_REVIEW, (State.DISTRICT_RECOMMENDED,), State.REJECTED,
         frozenset({Role.CITY_BUREAU}), _article("第十一条", "Art. 11"),
         Text(zh="专家评审未通过", en="fail expert review")),
    Step(Trigger.PASS_INSPECTION, (State.EXPERT_REVIEWED,), State.SITE_INSPECTED,
         frozenset({Role.CITY_BUREAU}), _article("第十二条", "Art. 12"),
         Text(zh="现场核查通过", en="pass site inspection")),
    Step(Trigger.FAIL_INSPECTION, (State.EXPERT_REVIEWED,), State.REJECTED,
         frozenset({Role.CITY_BUREAU}), _article("第十二条", "Art. 12"),
         Text(zh="现场核查未通过", en="fail site inspection")),
    Step(Trigger.PUBLICIZE, (State.SITE_INSPECTED,), State.PUBLICIZED,
         frozenset({Role.CITY_BUREAU}), _article("第十三条", "Art. 13"),
         Text(zh="社会公示", en="publicize")),
    Step(Trigger.OBJECT, (State.PUBLICIZED, State.VERIFIED), State.OBJECTED, _ANYONE,
         _article("第十三条", "Art. 13"), Text(zh="提出异议", en="object")),
    Step(Trigger.VERIFY, (State.OBJECTED,), State.VERIFIED, frozenset({Role.CITY_BUREAU}),
         _article("第十三条", "Art. 13"), Text(zh="核实无问题", en="verify")),
    Step(Trigger.SUSTAIN_OBJECTION, (State.OBJECTED,), State.REJECTED,
         frozenset({Role.CITY_BUREAU}), _article("第十三条", "Art. 13"),
         Text(zh="异议成立", en="sustain objection")),
    Step(Trigger.CERTIFY, (State.PUBLICIZED, State.VERIFIED), State.CERTIFIED,
         frozenset({Role.CITY_BUREAU}), _article("第十四条", "Art. 14"),
         Text(zh="认定授牌", en="certify")),
    Step(Trigger.EXPIRE, (State.CERTIFIED,), State.EXPIRED, frozenset({Role.SYSTEM}),
         _article("第十五条", "Art. 15"), Text(zh="有效期满", en="expire")),
    Step(Trigger.REVOKE, (State.CERTIFIED,), State.REVOKED, frozenset({Role.CITY_BUREAU}),
         _article("第十五条、第十八条", "Art. 15, 18"), Text(zh="撤销称号", en="revoke")),
    Step(Trigger.WITHDRAW, _OPEN_STATES, State.WITHDRAWN, frozenset({Role.OPERATOR}),
         _article("—", "—"), Text(zh="撤回申报", en="withdraw")),
)  # fmt: skip
"""Every trigger of the lifecycle, in the order of the measures."""

MACHINE = Machine(
    model=None,
    states=[NEW, *(state.value for state in State)],
    transitions=[
        {
            "trigger": step.trigger.value,
            "source": [NEW if source is None else source.value for source in step.sources],
            "dest": step.destination.value,
        }
        for step in STEPS
    ],
    initial=NEW,
    auto_transitions=False,
    send_event=False,
)
"""The one ``transitions`` machine that declares the graph; it holds no cases."""

# The graph read back from the machine once, so firing a trigger is a dictionary look-up.
_NEXT: dict[tuple[str, str], State] = {
    (transition.source, trigger): State(transition.dest)
    for trigger, event in MACHINE.events.items()
    for transitions in event.transitions.values()
    for transition in transitions
}
_STEP = {step.trigger: step for step in STEPS}


def step_for(trigger: Trigger) -> Step:
    """The step a trigger fires."""
    return _STEP[trigger]


def next_state(state: State | None, trigger: Trigger) -> State | None:
    """Where ``trigger`` takes a case in ``state`` (``None``: not allowed from there)."""
    return _NEXT.get((NEW if state is None else state.value, trigger.value))


# -- guards ---------------------------------------------------------------------------------


@attrs.frozen
class GuardFailure:
    """A guard that did not hold: its name, the article it enforces, and why."""

    guard: str
    article: Text
    message: Text


@attrs.frozen(kw_only=True)
class GuardContext:
    """Everything a guard may look at. Guards read, never write."""

    case: Case
    trigger: Trigger
    actor: Actor
    today: dt.date
    policy: Policy
    calendar: WorkingDayCalendar
    allow_provisional: bool
    reason: str = ""
    payload: object = None
    round: DeclarationRound | None = None
    """The declaration round open today (declare only)."""
    other_cases: Sequence[Case] = ()
    """The base's other cases (declare only), for 第十五条 and one open case per round."""


Guard = Callable[[GuardContext], Iterator[GuardFailure]]


def _failure(guard: str, article: Text, zh: str, en: str) -> GuardFailure:
    return GuardFailure(guard, article, Text(zh=zh, en=en))


def actor_failures(
    actor: Actor, case: Case, roles: frozenset[Role], action: Text, *, on_own_behalf: bool = True
) -> list[GuardFailure]:
    """Whether ``actor`` may do ``action`` on ``case``: its role is one of ``roles`` (第四条);
    a district authority acts for its own district's bases only (第四条, 第九条); an operator
    for its own base only. ``on_own_behalf=False`` (objections, open to anyone) checks the
    role alone."""
    if actor.role not in roles:
        allowed_zh = "、".join(sorted(role.label.zh for role in roles))
        allowed_en = ", ".join(sorted(role.label.en for role in roles))
        return [
            _failure(
                "role",
                Text(zh="第四条", en="Art. 4"),
                f"{actor.role.label.zh}不能{action.zh}，只有{allowed_zh}可以",
                f"a {actor.role.label.en} cannot {action.en}; only: {allowed_en}",
            )
        ]
    if not on_own_behalf:
        return []
    if actor.role is Role.DISTRICT_AUTHORITY and actor.district != case.district:
        return [
            _failure(
                "district",
                Text(zh="第四条、第九条（属地原则）", en="Art. 4, 9 (locality)"),
                f"{actor.district}主管部门不能办理{case.district}的基地",
                f"the authority of {actor.district} cannot act on a base in {case.district}",
            )
        ]
    operator = case.application.operator.name
    if actor.role is Role.OPERATOR and actor.name != operator:
        return [
            _failure(
                "operator",
                Text(zh="第九条", en="Art. 9"),
                f"{actor.name}不是该基地的运营主体（{operator}）",
                f"{actor.name} is not the base's operator ({operator})",
            )
        ]
    return []


def _role(ctx: GuardContext) -> Iterator[GuardFailure]:
    step = step_for(ctx.trigger)
    # An objection may come from anyone (第十三条), not only from the base's own parties.
    yield from actor_failures(
        ctx.actor,
        ctx.case,
        step.roles,
        step.label,
        on_own_behalf=ctx.trigger is not Trigger.OBJECT,
    )


def _reason_given(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not ctx.reason.strip():
        step = step_for(ctx.trigger)
        yield _failure(
            "reason",
            step.article,
            f"{step.label.zh}须说明理由",
            f"{step.label.en} needs a reason",
        )


def _round_open(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.declaration.article
    if ctx.round is None or not ctx.round.is_open_on(ctx.today):
        yield _failure(
            "round_open",
            article,
            f"{ctx.today} 不在申报期内（市工业和信息化局每年组织一次申报）",
            f"{ctx.today} is outside any declaration round (one round a year, set by its notice)",
        )


def _materials_complete(ctx: GuardContext) -> Iterator[GuardFailure]:
    provided = ctx.case.application.materials
    missing = [m for m in ctx.policy.materials if m.required and not provided.get(m.id, "").strip()]
    for material in missing:
        yield _failure(
            f"materials.{material.id}",
            material.article,
            f"缺少申报材料：{material.name.zh}",
            f"missing material: {material.name.en}",
        )


def _one_open_case_and_reapplication(ctx: GuardContext) -> Iterator[GuardFailure]:
    validity_article = ctx.policy.periods.validity.article
    for other in ctx.other_cases:
        if other.id == ctx.case.id:
            continue
        if other.state.is_open:
            yield _failure(
                "one_open_case",
                ctx.policy.periods.declaration.article,
                f"该基地已有未办结的申报（{other.id}，{other.round_year} 年度，{other.state.label.zh}）",
                f"the base already has an open application ({other.id}, round {other.round_year}, "
                f"{other.state.label.en})",
            )
        elif other.state is State.CERTIFIED and other.validity is not None:
            allowed = reapplication_year(other.validity, ctx.policy.periods.validity)
            if ctx.case.round_year < allowed:
                yield _failure(
                    "reapplication_year",
                    validity_article,
                    f"该基地认定有效期至 {other.validity.due}，{allowed} 年起方可再次申报",
                    f"the base's certification is valid until {other.validity.due}; "
                    f"it may apply again from {allowed}",
                )


def _recommendation(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    article = ctx.policy.spot_check.article
    if not isinstance(payload, Recommendation):
        yield _failure(
            "recommendation",
            article,
            "推荐须附推荐意见、真实性初审和满意度抽查结果",
            "a recommendation needs the opinion, the authenticity check and the spot check",
        )
        return
    if not payload.opinion.strip():
        yield _failure("opinion", article, "缺少推荐意见", "the recommendation opinion is missing")
    if not payload.authenticity_checked:
        yield _failure(
            "authenticity_checked",
            article,
            "尚未完成申报材料真实性、完整性初审",
            "the materials have not been checked for authenticity and completeness",
        )
    for finding in judge_spot_check(payload.spot_check, ctx.policy):
        if finding.status is not Status.PASS:
            yield GuardFailure(finding.rule, finding.article, finding.message)


def _eligible(ctx: GuardContext) -> Iterator[GuardFailure]:
    verdict = evaluate(ctx.case.application, ctx.policy)
    for finding in verdict.findings:
        if finding.status is not Status.PASS:
            yield GuardFailure(f"eligibility.{finding.rule}", finding.article, finding.message)


def _expert_opinions(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = Text(zh="第十一条", en="Art. 11")
    opinions = list(ctx.case.expert_opinions)
    if isinstance(ctx.payload, ExpertOpinion):
        opinions.append(ctx.payload)
    if not opinions:
        yield _failure(
            "expert_opinions",
            article,
            "尚无专家评审意见",
            "no expert opinion has been recorded",
        )
    selection = ctx.case.selection
    if selection is not None and not selection.selected:
        yield _failure(
            "selection",
            article,
            f"择优排序未入选（第 {selection.rank}/{selection.of} 名）",
            f"not selected in the round's ranking (rank {selection.rank} of {selection.of})",
        )


def _inspection_opinion(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not (isinstance(ctx.payload, str) and ctx.payload.strip()):
        yield _failure(
            "inspection_opinion",
            Text(zh="第十二条", en="Art. 12"),
            "缺少现场核查意见",
            "the site inspection opinion is missing",
        )


def _notice_start(ctx: GuardContext) -> Iterator[GuardFailure]:
    start = ctx.payload if isinstance(ctx.payload, dt.date) else ctx.today
    if start < ctx.today:
        yield _failure(
            "notice_start",
            ctx.policy.periods.public_notice.article,
            f"公示开始日 {start} 早于今天 {ctx.today}",
            f"the notice cannot start in the past ({start} is before {ctx.today})",
        )


def _inside_notice(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.public_notice.article
    notice = ctx.case.notice
    if not isinstance(ctx.payload, Objection) or not ctx.payload.content.strip():
        yield _failure("objection", article, "异议须写明内容", "an objection needs its content")
    if notice is None or not in_public_notice(notice, ctx.today):
        period = f"{notice.start}–{notice.due}" if notice else "—"
        yield _failure(
            "inside_notice",
            article,
            f"只在公示期内（{period}）受理异议，今天是 {ctx.today}",
            f"objections are accepted only during the notice ({period}); today is {ctx.today}",
        )


def _finding_given(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not ctx.reason.strip():
        yield _failure(
            "investigation",
            ctx.policy.periods.public_notice.article,
            "须写明调查核实结论",
            "the investigation's conclusion is needed",
        )


def _certifiable(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = Text(zh="第十四条", en="Art. 14")
    notice = ctx.case.notice
    if notice is None:
        yield _failure("notice", article, "尚未公示", "the base has not been publicized")
    else:
        earliest = earliest_certification_date(
            notice, calendar=ctx.calendar, allow_provisional=ctx.allow_provisional
        )
        if ctx.today < earliest:
            yield _failure(
                "notice_over",
                article,
                f"公示期至 {notice.due} 结束，{earliest} 起方可认定",
                f"the notice runs until {notice.due}; certification is possible from {earliest}",
            )
    if ctx.case.open_objection is not None:
        yield _failure(
            "open_objection", article, "仍有异议未核实", "an objection is still being investigated"
        )
    if not isinstance(ctx.payload, CollectiveDecision) or not ctx.payload.reference.strip():
        yield _failure(
            "collective_decision",
            article,
            "须记录市工业和信息化局集体决策",
            "the city bureau's collective decision must be recorded",
        )


def _validity_over(ctx: GuardContext) -> Iterator[GuardFailure]:
    validity = ctx.case.validity
    if validity is None or ctx.today <= validity.due:
        due = validity.due if validity else "—"
        yield _failure(
            "validity_over",
            ctx.policy.periods.validity.article,
            f"有效期至 {due}，尚未届满",
            f"validity runs until {due} and has not ended",
        )


def _revocation(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    if not isinstance(payload, Revocation) or not payload.details.strip():
        yield _failure(
            "revocation",
            Text(zh="第十五条、第十八条", en="Art. 15, 18"),
            "撤销须写明违法违规事实（第十五条）或测评不合格（第十八条）",
            "a revocation needs the violation (Art. 15) or the failed evaluation (Art. 18)",
        )
        return
    if payload.ground is RevocationGround.FAILED_EVALUATION and not any(
        not evaluation.passed for evaluation in ctx.case.evaluations
    ):
        yield _failure(
            "failed_evaluation",
            Text(zh="第十八条", en="Art. 18"),
            "没有记录不合格的测评",
            "no failed evaluation has been recorded",
        )


_GUARDS: dict[Trigger, tuple[Guard, ...]] = {
    Trigger.DECLARE: (_round_open, _materials_complete, _one_open_case_and_reapplication),
    Trigger.RECOMMEND: (_recommendation, _eligible),
    Trigger.DECLINE: (_reason_given,),
    Trigger.PASS_REVIEW: (_expert_opinions,),
    Trigger.FAIL_REVIEW: (_reason_given,),
    Trigger.PASS_INSPECTION: (_inspection_opinion,),
    Trigger.FAIL_INSPECTION: (_reason_given,),
    Trigger.PUBLICIZE: (_notice_start,),
    Trigger.OBJECT: (_inside_notice,),
    Trigger.VERIFY: (_finding_given,),
    Trigger.SUSTAIN_OBJECTION: (_finding_given,),
    Trigger.CERTIFY: (_certifiable,),
    Trigger.EXPIRE: (_validity_over,),
    Trigger.REVOKE: (_revocation,),
    Trigger.WITHDRAW: (),
}


def check_guards(ctx: GuardContext) -> list[GuardFailure]:
    """Every failed guard of firing ``ctx.trigger`` on ``ctx.case`` (empty: allowed)."""
    source = None if ctx.trigger is Trigger.DECLARE else ctx.case.state
    if next_state(source, ctx.trigger) is None:
        step = step_for(ctx.trigger)
        return [
            _failure(
                "state",
                step.article,
                f"当前状态为“{ctx.case.state.label.zh}”，不能{step.label.zh}",
                f"cannot {step.label.en} a case that is {ctx.case.state.label.en}",
            )
        ]
    failures = list(_role(ctx))
    for guard in _GUARDS[ctx.trigger]:
        failures.extend(guard(ctx))
    return failures


def refusal(
    case_id: str, action: Trigger | Text, failures: Sequence[GuardFailure]
) -> TransitionRefusedError:
    """The error for a refused trigger (or a record named by ``action``'s label), listing
    every failed guard and its article."""
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


# -- effects ----------------------------------------------------------------------------------


def apply_trigger(ctx: GuardContext) -> Case:
    """The case after ``ctx.trigger`` (guards must have passed): new state, version + 1, and
    what the step records."""
    case = ctx.case
    destination = next_state(None if ctx.trigger is Trigger.DECLARE else case.state, ctx.trigger)
    if destination is None:  # pragma: no cover - check_guards refuses first
        raise refusal(case.id, ctx.trigger, check_guards(ctx))
    changes: dict[str, Any] = {"state": destination, "version": case.version + 1}
    payload = ctx.payload
    trigger = ctx.trigger
    if trigger is Trigger.RECOMMEND and isinstance(payload, Recommendation):
        changes["recommendation"] = payload
    elif trigger is Trigger.PASS_REVIEW and isinstance(payload, ExpertOpinion):
        changes["expert_opinions"] = (*case.expert_opinions, payload)
    elif trigger is Trigger.PASS_INSPECTION and isinstance(payload, str):
        changes["inspection_opinion"] = payload
    elif trigger is Trigger.PUBLICIZE:
        start = payload if isinstance(payload, dt.date) else ctx.today
        changes["notice"] = public_notice_deadline(
            start,
            ctx.policy.periods,
            calendar=ctx.calendar,
            allow_provisional=ctx.allow_provisional,
        )
    elif trigger is Trigger.OBJECT and isinstance(payload, Objection):
        changes["objections"] = (*case.objections, payload)
    elif trigger in (Trigger.VERIFY, Trigger.SUSTAIN_OBJECTION):
        sustained = trigger is Trigger.SUSTAIN_OBJECTION
        changes["objections"] = tuple(
            attrs.evolve(o, finding=ctx.reason, sustained=sustained) if o.sustained is None else o
            for o in case.objections
        )
    elif trigger is Trigger.CERTIFY and isinstance(payload, CollectiveDecision):
        changes["decision"] = payload
        changes["certified_on"] = ctx.today
        changes["validity"] = validity_deadline(ctx.today, ctx.policy.periods.validity)
    elif trigger is Trigger.REVOKE and isinstance(payload, Revocation):
        changes["revocation"] = payload
    if destination in (State.NOT_RECOMMENDED, State.REJECTED, State.WITHDRAWN):
        changes["closing_reason"] = ctx.reason
    return attrs.evolve(case, **changes)
