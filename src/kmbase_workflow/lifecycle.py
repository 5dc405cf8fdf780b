"""The certification lifecycle: every step, declared once.

A `Step` says all that one trigger means: the states it leaves and the one it reaches (none
for a *record*, which changes no state), who may fire it, its article and label, the type of
its payload, its guards, its effect on the case and the event it emits. `STEPS` (the state
changes) and `RECORDS` (expert opinions, selection, reports, filings …) hold them all;
everything else derives from them: the ``transitions`` graph (`MACHINE`), the bulk runner's
and the command line's payloads, the diagrams, the table of `lifecycle_table` that
docs/explanation/lifecycle.md shows, and the workflow's one write path.

A case is plain data (`Case`), never a ``Machine`` of its own: ``transitions`` holds the
graph once (`MACHINE`), and the graph is then read back into a dictionary, so
firing a trigger is a look-up; ``transitions`` runs no guard, effect or callback (see
`MACHINE`).
Guards are plain functions of a `GuardContext`; all of a step's guards run, so a refusal
names every failed guard with its article, in Chinese and English. Who may act is the
`Authorization` the workflow is given (default: `regulation_roles`, the roles of 第四条).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
from transitions import Machine

from ._i18n import Lang, Text
from .actors import Actor, Role
from .calendar import WorkingDayCalendar
from .case import (
    ROUND_CHAIN_PREFIX,
    AnnualReport,
    Case,
    ChangeFiling,
    ChangeKind,
    CollectiveDecision,
    Correction,
    DeclarationRound,
    Evaluation,
    ExpertOpinion,
    NoticeAnnouncement,
    Objection,
    PlaqueReturn,
    ProvincialRecommendation,
    Recommendation,
    Revocation,
    RevocationGround,
    Selection,
    State,
)
from .deadlines import (
    annual_report_deadlines,
    change_filing_deadline,
    earliest_certification_date,
    in_notice,
    notice_deadline,
    reapplication_year,
    validity_deadline,
)
from .eligibility import (
    Status,
    claimed_satisfaction_rate,
    district_problems,
    evaluate,
    expert_score_problems,
    judge_spot_check,
    notice_problems,
    spot_check_population,
)
from .errors import (
    ApplicationFormatError,
    InvalidInputError,
    PayloadFormatError,
    TransitionRefusedError,
    unknown_choice,
)
from .events import (
    EVENT_TYPES,
    AnnualReportFiled,
    Certified,
    ChangeFiled,
    CorrectionLapsed,
    CorrectionRequested,
    Declared,
    EvaluationFailed,
    EvaluationRecorded,
    Event,
    EventDeadlines,
    ExpertOpinionRecorded,
    Expired,
    InspectionFailed,
    InspectionPassed,
    NoticeAnnounced,
    NoticePeriodEnded,
    NotRecommended,
    ObjectionRaised,
    ObjectionSustained,
    ObjectionVerified,
    PlaqueReturned,
    ProvinciallyRecommended,
    Publicized,
    Recommended,
    Resubmitted,
    ReviewFailed,
    ReviewPassed,
    Revoked,
    RoundSelected,
    Withdrawn,
)
from .policy import Policy
from .records import Application
from .serialization import structure

__all__ = [
    "MACHINE",
    "RECORDS",
    "STEPS",
    "Authorization",
    "GuardContext",
    "GuardFailure",
    "Step",
    "Trigger",
    "all_of",
    "apply_trigger",
    "check_guards",
    "check_payload_type",
    "completed",
    "event_deadlines",
    "event_details",
    "lifecycle_table",
    "next_state",
    "refusal",
    "regulation_roles",
    "step_for",
]


class Trigger(enum.Enum):
    """What can happen to a case: the state changes of `STEPS` and the records of `RECORDS`.

    An unknown name is an `InvalidInputError` (a ``ValueError``) listing the choices.
    """

    DECLARE = "declare"
    RETURN_FOR_CORRECTION = "return_for_correction"
    RESUBMIT = "resubmit"
    CONCLUDE_LAPSED_CORRECTION = "conclude_lapsed_correction"
    RECOMMEND = "recommend"
    DECLINE = "decline"
    PASS_REVIEW = "pass_review"
    FAIL_REVIEW = "fail_review"
    PASS_INSPECTION = "pass_inspection"
    FAIL_INSPECTION = "fail_inspection"
    ANNOUNCE_NOTICE = "announce_notice"
    START_NOTICE = "start_notice"
    PUBLICIZE = "publicize"
    OBJECT = "object"
    VERIFY = "verify"
    SUSTAIN_OBJECTION = "sustain_objection"
    CERTIFY = "certify"
    EXPIRE = "expire"
    FAIL_EVALUATION = "fail_evaluation"
    REVOKE = "revoke"
    WITHDRAW = "withdraw"
    EXPERT_OPINION = "expert_opinion"
    SELECTION = "selection"
    ANNUAL_REPORT = "annual_report"
    EVALUATION = "evaluation"
    CHANGE_FILING = "change_filing"
    PROVINCIAL_RECOMMENDATION = "provincial_recommendation"
    PLAQUE_RETURN = "plaque_return"
    NOTIFY = "notify"

    @classmethod
    def _missing_(cls, value: object) -> Trigger:
        raise unknown_choice(cls, value)

    @property
    def label(self) -> Text:
        """The trigger's name in both languages."""
        return step_for(self).label

    @property
    def changes_state(self) -> bool:
        """False for a record (the case keeps its state)."""
        return step_for(self).destination is not None


NEW = "new"
"""The pseudo-state before ``declare``."""


@attrs.frozen
class GuardFailure:
    """A guard that did not hold: its name, the article it enforces, and why."""

    guard: str
    article: Text
    message: Text


@attrs.frozen(kw_only=True)
class GuardContext:
    """Everything a guard or an effect may look at. Guards read, never write."""

    case: Case
    trigger: Trigger
    actor: Actor
    today: dt.date
    policy: Policy
    calendar: WorkingDayCalendar
    allow_provisional: bool
    reason: str = ""
    payload: object = None
    authorization: Authorization | None = None
    """Who may act (default `regulation_roles`)."""
    round: DeclarationRound | None = None
    """The declaration round of the case (declare: the round open today)."""
    other_cases: Sequence[Case] = ()
    """The base's other cases (declare only), for 第十五条 and one open case per round."""

    @property
    def step(self) -> Step:
        """The step being fired."""
        return step_for(self.trigger)


Guard = Callable[[GuardContext], Iterator[GuardFailure]]
Effect = Callable[[GuardContext], Mapping[str, Any]]
"""The fields of the case a step sets (besides state, version and the day of the step)."""
Details = Callable[[Case], Mapping[str, Any]]
"""What a step's event tells subscribers beyond the base, district and round."""
Authorization = Callable[[Actor, "Step", Case], Iterable[GuardFailure]]
"""Who may fire a step on a case: the failures of an attempt (none: allowed)."""


@attrs.frozen(kw_only=True)
class Step:
    """Everything one trigger means, in one place."""

    trigger: Trigger
    sources: tuple[State | None, ...]
    """The states it may be fired from (``None``: a case not yet declared)."""
    destination: State | None
    """Where it takes the case (``None``: a record, the case keeps its state)."""
    roles: frozenset[Role]
    article: Text
    label: Text
    event: type[Event]
    payload: type | None = None
    """The payload's type (``None``: none; the reason says it all)."""
    payload_key: str | None = None
    """For a scalar payload, its key in JSON (``{"opinion": "…"}``)."""
    guards: tuple[Guard, ...] = ()
    effect: Effect | None = None
    details: Details | None = None
    on_own_behalf: bool = True
    """False when anyone in the roles may act, not only the case's own parties (objections)."""
    choose_event: Callable[[object], type[Event]] | None = None
    """For a step whose event depends on its payload (the sweep's notices): which one."""
    complete: Callable[[GuardContext], object] | None = None
    """Fills the fields of the payload the library decides (the day of filing, lateness),
    whatever a caller passed, before the guards run; the history records the result."""

    def event_for(self, payload: object) -> type[Event]:
        """The event class this step emits with ``payload``."""
        return self.event if self.choose_event is None else self.choose_event(payload)

    def parse_payload(self, data: object) -> object:
        """The payload from JSON-ready ``data`` (``None``: no payload), typed as `payload`.

        ``InvalidInputError`` for data of the wrong shape, or for a payload given to a step
        that takes none.
        """
        if data is None:
            return None
        if self.payload is None:
            raise InvalidInputError(
                Text(
                    zh=f"{self.trigger.value} 不接受附带数据，请用理由说明",
                    en=f"{self.trigger.value} takes no payload; give a reason instead",
                )
            )
        if self.payload is str:
            key = self.payload_key or "value"
            value = data.get(key) if isinstance(data, dict) and set(data) == {key} else data
            if not isinstance(value, str):
                raise InvalidInputError(
                    Text(
                        zh=f'{self.trigger.value} 的附带数据应为 {{"{key}": "..."}} 或字符串',
                        en=f'the payload of {self.trigger.value} must be {{"{key}": "..."}} or a string',
                    )
                )
            return value
        if self.payload is NoticeAnnouncement and isinstance(data, str):
            data = {"starts_on": data}  # a bare date: the first day of the notice
        try:
            return structure(data, self.payload, source="payload")
        except ApplicationFormatError as error:
            raise PayloadFormatError(self.trigger.value, error.problems) from None


_ANYONE = frozenset(Role) - {Role.SYSTEM}
_TITLE_HELD = (State.CERTIFIED, State.REVOCATION_PENDING)
"""A title held: certified, or awaiting its withdrawal after a failed evaluation."""
_OPEN_STATES = tuple(state for state in State if state.is_open)


def _text(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


def _failure(guard: str, article: Text, zh: str, en: str) -> GuardFailure:
    return GuardFailure(guard, article, Text(zh=zh, en=en))


# -- authorization (第四条) -------------------------------------------------------------------


def regulation_roles(actor: Actor, step: Step, case: Case) -> list[GuardFailure]:
    """The roles of the measures: the step's roles (第四条); a district authority acts for
    its own district's bases only (第四条, 第九条 属地原则); an operator for its own base only,
    recognised by its unified social credit code (the current operator, after any filed
    change of operator, 第十九条). Objections are open to anyone (第十三条)."""
    if actor.role not in step.roles:
        allowed_zh = "、".join(sorted(role.label.zh for role in step.roles))
        allowed_en = ", ".join(sorted(role.label.en for role in step.roles))
        return [
            _failure(
                "role",
                _text("第四条", "Art. 4"),
                f"{actor.role.label.zh}不能{step.label.zh}，只有{allowed_zh}可以",
                f"a {actor.role.label.en} cannot {step.label.en}; only: {allowed_en}",
            )
        ]
    if not step.on_own_behalf:
        return []
    if actor.role is Role.DISTRICT_AUTHORITY and actor.district != case.district:
        return [
            _failure(
                "district",
                _text("第四条、第九条（属地原则）", "Art. 4, 9 (locality)"),
                f"{actor.district}主管部门不能办理{case.district}的基地",
                f"the authority of {actor.district} cannot act on a base in {case.district}",
            )
        ]
    operator = case.operator
    if actor.role is Role.OPERATOR and actor.id != operator.unified_social_credit_code:
        return [
            _failure(
                "operator",
                _text("第九条、第十九条", "Art. 9, 19"),
                f"{actor.id}不是该基地运营主体（{operator.name}，"
                f"统一社会信用代码 {operator.unified_social_credit_code}）",
                f"{actor.id} is not the base's operator ({operator.name}, unified social "
                f"credit code {operator.unified_social_credit_code})",
            )
        ]
    return []


def all_of(*rules: Authorization) -> Authorization:
    """An authorization that asks every rule and reports every refusal (a host adds its own
    rules beside `regulation_roles`)."""

    def check(actor: Actor, step: Step, case: Case) -> list[GuardFailure]:
        return [failure for rule in rules for failure in rule(actor, step, case)]

    return check


# -- guards every step shares -------------------------------------------------------------


def _state_allows(ctx: GuardContext) -> Iterator[GuardFailure]:
    step = ctx.step
    source = None if ctx.trigger is Trigger.DECLARE else ctx.case.state
    if source not in step.sources:
        yield _failure(
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
        yield _failure(
            "time_order",
            _text("第二十条", "Art. 20"),
            f"本案最近一步办理于 {last}，不能在其之前的 {ctx.today} 办理",
            f"the case's latest step was on {last}; nothing can be done on an earlier day "
            f"({ctx.today})",
        )


def _known_district(ctx: GuardContext) -> Iterator[GuardFailure]:
    """A district authority names one of the policy's districts (第四条), so a typo never
    creates a district of its own."""
    if ctx.actor.role is Role.DISTRICT_AUTHORITY:
        for problem in district_problems(ctx.actor.district or "", ctx.policy):
            yield GuardFailure("actor_district", _text("第四条", "Art. 4"), problem)


_COMMON_GUARDS: tuple[Guard, ...] = (
    _state_allows,
    _authorized,
    _known_district,
    _time_moves_forward,
)


# -- the guards of particular steps ---------------------------------------------------------


def _reason_given(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not ctx.reason.strip():
        step = ctx.step
        yield _failure(
            "reason", step.article, f"{step.label.zh}须说明理由", f"{step.label.en} needs a reason"
        )


def _not_a_round_chain(ctx: GuardContext) -> Iterator[GuardFailure]:
    """A case id never begins with ``round:``: that names a declaration round's chain in the
    history (第二十条), which no case may share."""
    if ctx.case.id.startswith(ROUND_CHAIN_PREFIX):
        yield _failure(
            "case_id",
            _text("第二十条", "Art. 20"),
            f"案件编号不能以“{ROUND_CHAIN_PREFIX}”开头（留给申报批次的历史记录）",
            f"a case id may not begin with “{ROUND_CHAIN_PREFIX}” (it names a declaration "
            "round's history)",
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


def _materials_of(application: Application, ctx: GuardContext) -> Iterator[GuardFailure]:
    provided = application.materials
    for material in ctx.policy.materials:
        if material.required and not provided.get(material.id, "").strip():
            yield _failure(
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
        yield GuardFailure("district_listed", _text("第四条、第九条", "Art. 4, 9"), problem)


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
        elif other.state in _TITLE_HELD and other.validity is not None:
            allowed = reapplication_year(other.validity, ctx.policy.periods.validity)
            if ctx.case.round_year < allowed:
                yield _failure(
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
        yield _failure(
            "deficiencies",
            article,
            "退回补正须列明需补正的问题",
            "a return for correction must list what is to be corrected",
        )
        return
    if payload.due < ctx.today:
        yield _failure(
            "correction_due",
            article,
            f"补正期限 {payload.due} 早于今天 {ctx.today}",
            f"the correction deadline {payload.due} is before today ({ctx.today})",
        )
    if ctx.round is not None and payload.due > ctx.round.closes_on:
        yield _failure(
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
        yield _failure(
            "correction_due",
            article,
            f"补正期限 {correction.due} 已过",
            f"the correction deadline {correction.due} has passed",
        )
    amended = ctx.payload
    if not isinstance(amended, Application):
        yield _failure(
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
        yield _failure(
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
        yield _failure(
            "correction_lapsed",
            ctx.policy.spot_check.article,
            f"补正期限 {due} 尚未届满，今天是 {ctx.today}",
            f"the correction deadline {due} has not passed; today is {ctx.today}",
        )


def _lapsed_effect(ctx: GuardContext) -> Mapping[str, Any]:
    correction = ctx.case.correction
    due = correction.due if correction else "—"
    cited = (
        f"补正期限 {due} 已过，未补正重新提交（第十条）"
        f" / the correction deadline {due} lapsed without a resubmission (Art. 10)"
    )
    return {"closing_reason": f"{cited}; {ctx.reason}" if ctx.reason.strip() else cited}


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
    application = ctx.case.application
    claimed = claimed_satisfaction_rate(application)
    # The share is of the residents the application reports for the judged year (第十条).
    population = spot_check_population(application, ctx.policy, judged_on=ctx.case.judged_on)
    if population is None:
        year = ctx.policy.figures.expected_year(ctx.case.judged_on)
        yield _failure(
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


_REVIEW = _text("第十一条", "Art. 11")


def _expert_opinions(ctx: GuardContext) -> Iterator[GuardFailure]:
    needed = ctx.policy.expert_review.minimum_opinions
    given = len(ctx.case.expert_opinions)
    if given < needed:
        yield _failure(
            "expert_opinions",
            _REVIEW,
            f"专家评审意见不足：需 {needed} 份，已有 {given} 份",
            f"not enough expert opinions: {needed} needed, {given} recorded",
        )
    selection = ctx.case.selection
    if selection is not None and selection.stale:
        yield _failure(
            "selection_stale",
            _REVIEW,
            "择优排序后又有专家意见，须重新择优",
            "expert opinions arrived after the round was ranked; rank it again",
        )
    elif selection is not None and not selection.selected:
        yield _failure(
            "selection",
            _REVIEW,
            f"择优排序未入选（第 {selection.rank}/{selection.of} 名）",
            f"not selected in the round's ranking (rank {selection.rank} of {selection.of})",
        )


def _expert_opinion(ctx: GuardContext) -> Iterator[GuardFailure]:
    opinion = ctx.payload
    if not isinstance(opinion, ExpertOpinion):
        yield _failure("opinion", _REVIEW, "缺少专家评审意见", "the expert opinion is missing")
        return
    for problem in expert_score_problems(opinion.score, ctx.policy):
        yield GuardFailure("score", _REVIEW, problem)
    if not opinion.opinion.strip():
        yield _failure("opinion", _REVIEW, "评审意见不能为空", "the opinion is empty")
    if not opinion.expert.strip():
        yield _failure(
            "expert",
            _REVIEW,
            "须写明给出意见的专家",
            "the expert who gave the opinion must be named",
        )
    if ctx.actor.role is Role.EXPERT and opinion.expert != ctx.actor.id:
        yield _failure(
            "own_opinion",
            _REVIEW,
            f"专家 {ctx.actor.id} 只能提交本人的意见（收到 {opinion.expert} 的）",
            f"expert {ctx.actor.id} can give only their own opinion (got {opinion.expert}'s)",
        )
    if ctx.actor.role is not Role.EXPERT and opinion.entered_by != ctx.actor.id:
        yield _failure(
            "entered_by",
            _REVIEW,
            "代专家录入的意见须记录录入人",
            "an opinion entered on an expert's behalf must record who entered it",
        )
    if any(o.expert == opinion.expert for o in ctx.case.expert_opinions):
        yield _failure(
            "one_opinion_per_expert",
            _REVIEW,
            f"专家 {opinion.expert} 已对本案提交过意见",
            f"expert {opinion.expert} has already given an opinion on this case",
        )


def _selection(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not isinstance(ctx.payload, Selection):
        yield _failure("selection", _REVIEW, "缺少择优结果", "the ranking is missing")


def _inspection_opinion(ctx: GuardContext) -> Iterator[GuardFailure]:
    if not (isinstance(ctx.payload, str) and ctx.payload.strip()):
        yield _failure(
            "inspection_opinion",
            _text("第十二条", "Art. 12"),
            "缺少现场核查意见",
            "the site inspection opinion is missing",
        )


def _announcement(ctx: GuardContext) -> NoticeAnnouncement:
    return ctx.payload if isinstance(ctx.payload, NoticeAnnouncement) else NoticeAnnouncement()


def _notice_period(ctx: GuardContext) -> Iterator[GuardFailure]:
    """The announced notice: not in the past, not shorter than the policy's minimum (第十三条);
    ``publicize`` starts today, ``announce_notice`` on a later day."""
    period = ctx.policy.periods.notice
    announcement = _announcement(ctx)
    start = announcement.starts_on or ctx.today
    if start < ctx.today:
        yield _failure(
            "notice_start",
            period.article,
            f"公示开始日 {start} 早于今天 {ctx.today}",
            f"the notice cannot start in the past ({start} is before {ctx.today})",
        )
    if ctx.trigger is Trigger.PUBLICIZE and start > ctx.today:
        yield _failure(
            "notice_start",
            period.article,
            f"公示 {start} 才开始，今天只能发布公告（announce_notice）",
            f"the notice starts on {start}; today it can only be announced (announce_notice)",
        )
    if ctx.trigger is Trigger.ANNOUNCE_NOTICE and start <= ctx.today:
        yield _failure(
            "notice_start",
            period.article,
            "今天开始的公示请直接公示（publicize）",
            "a notice that starts today is publicized (publicize), not announced",
        )
    if announcement.working_days is not None and announcement.ends_on is not None:
        yield _failure(
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
        yield _failure(
            "notice_start",
            ctx.policy.periods.notice.article,
            f"公示自 {start} 开始，今天是 {ctx.today}",
            f"the notice starts on {start}; today is {ctx.today}",
        )


def _inside_notice(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.notice.article
    notice = ctx.case.notice
    if not isinstance(ctx.payload, Objection) or not ctx.payload.content.strip():
        yield _failure("objection", article, "异议须写明内容", "an objection needs its content")
    if notice is None or not in_notice(notice, ctx.today):
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
            ctx.policy.periods.notice.article,
            "须写明调查核实结论",
            "the investigation's conclusion is needed",
        )


_CERTIFICATION = _text("第十四条", "Art. 14")


def _certifiable(ctx: GuardContext) -> Iterator[GuardFailure]:
    notice = ctx.case.notice
    earliest: dt.date | None = None
    if notice is None:
        yield _failure("notice", _CERTIFICATION, "尚未公示", "the base has not been publicized")
    else:
        earliest = earliest_certification_date(
            notice, calendar=ctx.calendar, allow_provisional=ctx.allow_provisional
        )
        if ctx.today < earliest:
            yield _failure(
                "notice_over",
                _CERTIFICATION,
                f"公示期至 {notice.due} 结束，{earliest} 起方可认定",
                f"the notice runs until {notice.due}; certification is possible from {earliest}",
            )
    if ctx.case.open_objection is not None:
        yield _failure(
            "open_objection",
            _CERTIFICATION,
            "仍有异议未核实",
            "an objection is still being investigated",
        )
    decision = ctx.payload
    if not isinstance(decision, CollectiveDecision) or not decision.reference.strip():
        yield _failure(
            "collective_decision",
            _CERTIFICATION,
            "须记录市工业和信息化局集体决策",
            "the city bureau's collective decision must be recorded",
        )
        return
    # 公示期结束后: any day after the notice's last, a day off included (第十四条)
    after_notice = notice.due + dt.timedelta(days=1) if notice is not None else None
    yield from _decided_between(ctx, decision.decided_on, after_notice, "collective_decision_date")


def _decided_between(
    ctx: GuardContext, decided_on: dt.date, earliest: dt.date | None, guard: str
) -> Iterator[GuardFailure]:
    """A decision is dated no later than today and not before the step it decides."""
    article = ctx.step.article
    if decided_on > ctx.today:
        yield _failure(
            guard,
            article,
            f"决定日期 {decided_on} 晚于今天 {ctx.today}",
            f"the decision date {decided_on} is after today ({ctx.today})",
        )
    if earliest is not None and decided_on < earliest:
        yield _failure(
            guard,
            article,
            f"决定日期 {decided_on} 早于其可作出之日 {earliest}",
            f"the decision date {decided_on} is before the day it could be made ({earliest})",
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


_EVALUATION = _text("第十八条", "Art. 18")


def _evaluation(passed: bool) -> Guard:
    def guard(ctx: GuardContext) -> Iterator[GuardFailure]:
        evaluation = ctx.payload
        if not isinstance(evaluation, Evaluation) or not evaluation.evaluator.strip():
            yield _failure(
                "evaluation",
                _EVALUATION,
                "测评须写明测评机构或专家",
                "an evaluation needs its evaluator",
            )
        elif evaluation.passed is not passed:
            other = "fail_evaluation" if passed else "evaluation"
            yield _failure(
                "evaluation_result",
                _EVALUATION,
                f"测评结果与操作不符，请用 {other}",
                f"the evaluation's result does not fit this step; use {other}",
            )

    return guard


def _revocation(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    if not isinstance(payload, Revocation) or not payload.details.strip():
        yield _failure(
            "revocation",
            _text("第十五条、第十八条", "Art. 15, 18"),
            "撤销须写明违法违规事实（第十五条）或测评不合格（第十八条）",
            "a revocation needs the violation (Art. 15) or the failed evaluation (Art. 18)",
        )
        return
    if payload.ground is RevocationGround.FAILED_EVALUATION and not any(
        not evaluation.passed for evaluation in ctx.case.evaluations
    ):
        yield _failure(
            "failed_evaluation",
            _EVALUATION,
            "没有记录不合格的测评",
            "no failed evaluation has been recorded",
        )
    yield from _decided_between(ctx, payload.decided_on, ctx.case.certified_on, "revocation_date")
    returned = payload.plaque_returned_on
    if returned is not None and (returned > ctx.today or returned < payload.decided_on):
        yield _failure(
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
        yield _failure(
            "plaque_returned",
            _EVALUATION,
            f"牌匾已于 {revocation.plaque_returned_on} 收回",
            f"the plaque was returned on {revocation.plaque_returned_on}",
        )
        return
    if not isinstance(payload, PlaqueReturn) or revocation is None:
        yield _failure(
            "plaque_return", _EVALUATION, "须写明牌匾收回日期", "the day of the return is needed"
        )
        return
    returned = payload.returned_on
    if returned > ctx.today or returned < revocation.decided_on:
        yield _failure(
            "plaque_returned_on",
            _EVALUATION,
            f"牌匾收回日期 {returned} 应在撤销决定日 {revocation.decided_on} 与今天之间",
            f"the plaque's return ({returned}) must lie between the revocation "
            f"({revocation.decided_on}) and today",
        )


def _plaque_effect(ctx: GuardContext) -> Mapping[str, Any]:
    assert isinstance(ctx.payload, PlaqueReturn)
    assert ctx.case.revocation is not None
    returned = ctx.payload.returned_on
    return {"revocation": attrs.evolve(ctx.case.revocation, plaque_returned_on=returned)}


def _annual_report(ctx: GuardContext) -> Iterator[GuardFailure]:
    report = ctx.payload
    if not isinstance(report, AnnualReport):
        yield _failure(
            "annual_report",
            ctx.step.article,
            "缺少年度工作总结和计划",
            "the annual summary and plan is missing",
        )
        return
    expected = Role.DISTRICT_AUTHORITY if report.by_district else Role.OPERATOR
    if ctx.actor.role is not expected:
        yield _failure(
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
        yield _failure(
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
        yield _failure(
            "report_once",
            article,
            f"{report.year} 年度已报送；如需更正请以更正报送（correction）",
            f"the report of {report.year} is filed; file a correction (correction) to replace it",
        )
    elif report.correction and not filed:
        yield _failure(
            "report_corrected",
            article,
            f"{report.year} 年度尚未报送，没有可更正的报告",
            f"no report of {report.year} has been filed: there is nothing to correct",
        )


def _change_filing(ctx: GuardContext) -> Iterator[GuardFailure]:
    article = ctx.policy.periods.change_filing.article
    filing = ctx.payload
    if not isinstance(filing, ChangeFiling) or not filing.change.strip():
        yield _failure("change", article, "须写明变更事项", "the change must be described")
        return
    if filing.completed_on > ctx.today:
        yield _failure(
            "completed_on",
            article,
            f"变更完成日 {filing.completed_on} 晚于今天",
            f"the change cannot be completed in the future ({filing.completed_on})",
        )
    if filing.kind is ChangeKind.OPERATOR and filing.operator is None:
        yield _failure(
            "new_operator",
            article,
            "变更运营主体须提交新运营主体的信息",
            "a change of operator must give the new operator",
        )
    if filing.kind is ChangeKind.NAME and not (filing.base_name or "").strip():
        yield _failure(
            "new_name", article, "变更名称须提交新名称", "a change of name must give the new name"
        )


def _provincial(ctx: GuardContext) -> Iterator[GuardFailure]:
    record = ctx.payload
    if not isinstance(record, ProvincialRecommendation) or not record.programme.strip():
        yield _failure(
            "programme",
            ctx.step.article,
            "须写明推荐的省级项目",
            "the provincial programme must be named",
        )


def _notice_not_sent(ctx: GuardContext) -> Iterator[GuardFailure]:
    payload = ctx.payload
    key = payload.get("key") if isinstance(payload, Mapping) else None
    if not isinstance(key, str) or key in ctx.case.notified:
        yield _failure(
            "notified",
            ctx.step.article,
            f"该提醒已发送（{key}）",
            f"this notice was already sent ({key})",
        )


# -- effects --------------------------------------------------------------------------------


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
    return {"objections": (*ctx.case.objections, ctx.payload)}


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


def _notice_event(payload: object) -> type[Event]:
    """A notice's event class, named by the payload's ``event`` (its ``type``)."""
    name = payload.get("event") if isinstance(payload, Mapping) else None
    return EVENT_TYPES.get(str(name), NoticePeriodEnded)


def _notify_effect(ctx: GuardContext) -> Mapping[str, Any]:
    assert isinstance(ctx.payload, Mapping)
    return {"notified": (*ctx.case.notified, ctx.payload["key"])}


def _annual_report_due(
    case: Case, policy: Policy, year: int, by_district: bool, calendar: WorkingDayCalendar
) -> dt.date | None:
    """The due date of one year's report (第十六条, 第十七条). Other years of the validity may
    lie beyond the official calendar, which does not matter for this one."""
    if case.certified_on is None:
        return None
    kind = "district_annual_report" if by_district else "base_annual_report"
    for deadline in annual_report_deadlines(
        case.certified_on, policy.periods, calendar=calendar, allow_provisional=True
    ):
        if deadline.kind.value == kind and deadline.start.year == year:
            return deadline.due
    return None


# -- what events tell -----------------------------------------------------------------------


def _notice_details(case: Case) -> Mapping[str, Any]:
    if case.notice is None:
        return {}
    return {
        "notice_start": case.notice.start.isoformat(),
        "notice_due": case.notice.due.isoformat(),
        "provisional": case.notice.provisional,
    }


def _validity_details(case: Case) -> Mapping[str, Any]:
    if case.validity is None:
        return {}
    return {
        "valid_from": case.validity.start.isoformat(),
        "valid_until": case.validity.due.isoformat(),
    }


def _correction_details(case: Case) -> Mapping[str, Any]:
    if case.correction is None:
        return {}
    return {"correction_due": case.correction.due.isoformat()}


def _revocation_details(case: Case) -> Mapping[str, Any]:
    if case.revocation is None:
        return {}
    returned = case.revocation.plaque_returned_on
    return {
        "ground": case.revocation.ground.value,
        "plaque_returned_on": returned.isoformat() if returned else None,
    }


def _operator_details(case: Case) -> Mapping[str, Any]:
    return {
        "operator": case.operator.unified_social_credit_code,
        "operator_name": case.operator.name,
        "base_name": case.base_name,
    }


# -- the steps ------------------------------------------------------------------------------

_DISTRICT = frozenset({Role.DISTRICT_AUTHORITY})
_BUREAU = frozenset({Role.CITY_BUREAU})
_OPERATOR = frozenset({Role.OPERATOR})
_SYSTEM = frozenset({Role.SYSTEM})
_A9 = _text("第九条", "Art. 9")
_A10 = _text("第十条", "Art. 10")
_A12 = _text("第十二条", "Art. 12")
_A13 = _text("第十三条", "Art. 13")
_A15 = _text("第十五条", "Art. 15")
_A15_18 = _text("第十五条、第十八条", "Art. 15, 18")
_CERTIFIED = _TITLE_HELD

STEPS: tuple[Step, ...] = (
    Step(trigger=Trigger.DECLARE, sources=(None,), destination=State.DECLARED, roles=_OPERATOR,
         article=_A9, label=_text("申报", "declare"), event=Declared, payload=Application,
         guards=(_not_a_round_chain, _round_open, _district_listed, _materials_complete,
                 _one_open_case_and_reapplication)),
    Step(trigger=Trigger.RETURN_FOR_CORRECTION, sources=(State.DECLARED,),
         destination=State.RETURNED_FOR_CORRECTION, roles=_DISTRICT, article=_A10,
         label=_text("退回补正", "return for correction"), event=CorrectionRequested,
         payload=Correction, complete=_returned_today, guards=(_correction,),
         effect=_set("correction")),
    Step(trigger=Trigger.RESUBMIT, sources=(State.RETURNED_FOR_CORRECTION,),
         destination=State.DECLARED, roles=_OPERATOR, article=_A10,
         label=_text("补正后重新提交", "resubmit"), event=Resubmitted, payload=Application,
         guards=(_resubmission,), effect=_resubmit_effect),
    Step(trigger=Trigger.CONCLUDE_LAPSED_CORRECTION, sources=(State.RETURNED_FOR_CORRECTION,),
         destination=State.NOT_RECOMMENDED, roles=_DISTRICT, article=_A10,
         label=_text("补正逾期办结（不予推荐）", "conclude a lapsed correction (not recommended)"),
         event=CorrectionLapsed, guards=(_correction_lapsed,), effect=_lapsed_effect,
         details=_correction_details),
    Step(trigger=Trigger.RECOMMEND, sources=(State.DECLARED,),
         destination=State.DISTRICT_RECOMMENDED, roles=_DISTRICT, article=_A10,
         label=_text("初审推荐", "recommend"), event=Recommended, payload=Recommendation,
         guards=(_recommendation, _eligible), effect=_set("recommendation")),
    Step(trigger=Trigger.DECLINE, sources=(State.DECLARED,), destination=State.NOT_RECOMMENDED,
         roles=_DISTRICT, article=_A10, label=_text("不予推荐", "decline"),
         event=NotRecommended, guards=(_reason_given,)),
    Step(trigger=Trigger.PASS_REVIEW, sources=(State.DISTRICT_RECOMMENDED,),
         destination=State.EXPERT_REVIEWED, roles=_BUREAU, article=_REVIEW,
         label=_text("专家评审通过", "pass expert review"), event=ReviewPassed,
         guards=(_expert_opinions,)),
    Step(trigger=Trigger.FAIL_REVIEW, sources=(State.DISTRICT_RECOMMENDED,),
         destination=State.REJECTED, roles=_BUREAU, article=_REVIEW,
         label=_text("专家评审未通过", "fail expert review"), event=ReviewFailed,
         guards=(_reason_given,)),
    Step(trigger=Trigger.PASS_INSPECTION, sources=(State.EXPERT_REVIEWED,),
         destination=State.SITE_INSPECTED, roles=_BUREAU, article=_A12,
         label=_text("现场核查通过", "pass site inspection"), event=InspectionPassed,
         payload=str, payload_key="opinion", guards=(_inspection_opinion,),
         effect=_set("inspection_opinion")),
    Step(trigger=Trigger.FAIL_INSPECTION, sources=(State.EXPERT_REVIEWED,),
         destination=State.REJECTED, roles=_BUREAU, article=_A12,
         label=_text("现场核查未通过", "fail site inspection"), event=InspectionFailed,
         guards=(_reason_given,)),
    Step(trigger=Trigger.ANNOUNCE_NOTICE, sources=(State.SITE_INSPECTED,),
         destination=State.NOTICE_ANNOUNCED, roles=_BUREAU, article=_A13,
         label=_text("发布公示公告", "announce the public notice"), event=NoticeAnnounced,
         payload=NoticeAnnouncement, guards=(_notice_period,), effect=_notice_effect,
         details=_notice_details),
    Step(trigger=Trigger.START_NOTICE, sources=(State.NOTICE_ANNOUNCED,),
         destination=State.PUBLICIZED, roles=_SYSTEM | _BUREAU, article=_A13,
         label=_text("公示开始", "start the public notice"), event=Publicized,
         guards=(_notice_started,), details=_notice_details),
    Step(trigger=Trigger.PUBLICIZE, sources=(State.SITE_INSPECTED,),
         destination=State.PUBLICIZED, roles=_BUREAU, article=_A13,
         label=_text("社会公示", "publicize"), event=Publicized, payload=NoticeAnnouncement,
         payload_key="starts_on", guards=(_notice_period,), effect=_notice_effect,
         details=_notice_details),
    Step(trigger=Trigger.OBJECT,
         sources=(State.NOTICE_ANNOUNCED, State.PUBLICIZED, State.VERIFIED),
         destination=State.OBJECTED, roles=_ANYONE, article=_A13,
         label=_text("提出异议", "object"), event=ObjectionRaised, payload=Objection,
         guards=(_inside_notice,), effect=_objection_effect, on_own_behalf=False),
    Step(trigger=Trigger.VERIFY, sources=(State.OBJECTED,), destination=State.VERIFIED,
         roles=_BUREAU, article=_A13, label=_text("核实无问题", "verify"),
         event=ObjectionVerified, guards=(_finding_given,), effect=_investigation_effect),
    Step(trigger=Trigger.SUSTAIN_OBJECTION, sources=(State.OBJECTED,),
         destination=State.REJECTED, roles=_BUREAU, article=_A13,
         label=_text("异议成立", "sustain objection"), event=ObjectionSustained,
         guards=(_finding_given,), effect=_investigation_effect),
    Step(trigger=Trigger.CERTIFY, sources=(State.PUBLICIZED, State.VERIFIED),
         destination=State.CERTIFIED, roles=_BUREAU, article=_CERTIFICATION,
         label=_text("认定授牌", "certify"), event=Certified, payload=CollectiveDecision,
         guards=(_certifiable,), effect=_certify_effect, details=_validity_details),
    Step(trigger=Trigger.EXPIRE, sources=_CERTIFIED, destination=State.EXPIRED, roles=_SYSTEM,
         article=_A15, label=_text("有效期满", "expire"), event=Expired,
         guards=(_validity_over,)),
    Step(trigger=Trigger.FAIL_EVALUATION, sources=(State.CERTIFIED,),
         destination=State.REVOCATION_PENDING, roles=_BUREAU | {Role.EXPERT},
         article=_EVALUATION, label=_text("测评不合格", "fail the evaluation"),
         event=EvaluationFailed, payload=Evaluation, complete=_evaluated_today,
         guards=(_evaluation(passed=False),), effect=_append("evaluations")),
    Step(trigger=Trigger.REVOKE, sources=_CERTIFIED, destination=State.REVOKED, roles=_BUREAU,
         article=_A15_18, label=_text("撤销称号", "revoke"), event=Revoked, payload=Revocation,
         guards=(_revocation,), effect=_set("revocation"), details=_revocation_details),
    Step(trigger=Trigger.WITHDRAW, sources=_OPEN_STATES, destination=State.WITHDRAWN,
         roles=_OPERATOR, article=_text("—", "—"), label=_text("撤回申报", "withdraw"),
         event=Withdrawn),
)  # fmt: skip
"""Every state change of the lifecycle, in the order of the measures."""

RECORDS: tuple[Step, ...] = (
    Step(trigger=Trigger.EXPERT_OPINION, sources=(State.DISTRICT_RECOMMENDED,),
         destination=None, roles=frozenset({Role.EXPERT, Role.CITY_BUREAU}), article=_REVIEW,
         label=_text("记录专家评审意见", "record an expert opinion"),
         event=ExpertOpinionRecorded, payload=ExpertOpinion, guards=(_expert_opinion,),
         effect=_expert_opinion_effect),
    Step(trigger=Trigger.SELECTION, sources=(State.DISTRICT_RECOMMENDED,), destination=None,
         roles=_BUREAU, article=_REVIEW, label=_text("择优排序", "rank within the round"),
         event=RoundSelected, payload=Selection, guards=(_selection,),
         effect=_set("selection")),
    Step(trigger=Trigger.ANNUAL_REPORT, sources=_CERTIFIED, destination=None,
         roles=_OPERATOR | _DISTRICT, article=_text("第十六条、第十七条", "Art. 16, 17"),
         label=_text("报送年度工作总结和计划", "file the annual summary and plan"),
         event=AnnualReportFiled, payload=AnnualReport, complete=_report_filed_today,
         guards=(_annual_report,), effect=_append("annual_reports")),
    Step(trigger=Trigger.EVALUATION, sources=(State.CERTIFIED,), destination=None,
         roles=_BUREAU | {Role.EXPERT}, article=_EVALUATION,
         label=_text("记录测评结果", "record an evaluation"), event=EvaluationRecorded,
         payload=Evaluation, complete=_evaluated_today, guards=(_evaluation(passed=True),),
         effect=_append("evaluations")),
    Step(trigger=Trigger.CHANGE_FILING, sources=_CERTIFIED, destination=None, roles=_OPERATOR,
         article=_text("第十九条", "Art. 19"), label=_text("重大变更备案", "file a major change"),
         event=ChangeFiled, payload=ChangeFiling, complete=_change_filed_today,
         guards=(_change_filing,), effect=_append("change_filings"), details=_operator_details),
    Step(trigger=Trigger.PROVINCIAL_RECOMMENDATION, sources=(State.CERTIFIED,),
         destination=None, roles=_BUREAU, article=_text("第二十一条", "Art. 21"),
         label=_text("推荐申报省级示范基地", "recommend to the province"),
         event=ProvinciallyRecommended, payload=ProvincialRecommendation,
         guards=(_provincial,), effect=_append("provincial_recommendations")),
    Step(trigger=Trigger.PLAQUE_RETURN, sources=(State.REVOKED,), destination=None,
         roles=_BUREAU, article=_EVALUATION, label=_text("收回牌匾", "record the plaque's return"),
         event=PlaqueReturned, payload=PlaqueReturn, guards=(_plaque_return,),
         effect=_plaque_effect, details=_revocation_details),
    Step(trigger=Trigger.NOTIFY, sources=tuple(State), destination=None, roles=_SYSTEM,
         article=_text("第十条、第十三条、第十五条、第十六条、第十七条", "Art. 10, 13, 15, 16, 17"),
         label=_text("发送期限提醒", "send a deadline notice"), event=NoticePeriodEnded,
         payload=dict, guards=(_notice_not_sent,), effect=_notify_effect,
         choose_event=_notice_event),
)  # fmt: skip
"""Every record: a step that changes no state (the case keeps its state)."""

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
        if step.destination is not None
    ],
    initial=NEW,
    auto_transitions=False,
    send_event=False,
)
"""The one ``transitions`` machine that declares the graph of `STEPS`; it holds no cases.

What ``transitions`` does here, and what it does not: it holds the graph as declared (its
states, and each trigger's edges), and that graph is read back once into a plain dictionary,
``(state, trigger) -> next state``, which `next_state` looks up. Nothing fires through the
machine: no model, no callbacks, no per-case state (a case is frozen data; a ``Machine`` per
case would cost more than the case, see ``benchmarks/bench_lifecycle.py``). Guards, effects
and events are the steps' own (`Step`), run by the workflow; the diagrams are drawn from
`STEPS` (`kmbase_workflow.diagrams`), not by ``transitions``' graph extension. The machine
does not validate the graph (it accepts an unknown destination, or two edges for one trigger
from one state): ``tests/test_trigger_spec.py`` checks it against `STEPS`."""

# Here the graph is read back from the machine (once, at import) into a dictionary: firing
# a trigger is a look-up in it, never a call into ``transitions``.
_NEXT: dict[tuple[str, str], State] = {
    (transition.source, trigger): State(transition.dest)
    for trigger, event in MACHINE.events.items()
    for transitions in event.transitions.values()
    for transition in transitions
}
_STEP = {step.trigger: step for step in (*STEPS, *RECORDS)}


def step_for(trigger: Trigger) -> Step:
    """The step a trigger fires."""
    return _STEP[trigger]


def next_state(state: State | None, trigger: Trigger) -> State | None:
    """Where ``trigger`` takes a case in ``state`` (``None``: not allowed from there; a record
    leaves the case where it is)."""
    step = _STEP[trigger]
    if step.destination is None:
        return state if state in step.sources else None
    return _NEXT.get((NEW if state is None else state.value, trigger.value))


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


def event_details(trigger: Trigger, case: Case) -> dict[str, Any]:
    """What a step's event tells subscribers about the case after it, without loading it."""
    details: dict[str, Any] = {
        "base_name": case.base_name,
        "district": case.district,
        "round_year": case.round_year,
    }
    step = step_for(trigger)
    if step.details is not None:
        details.update(step.details(case))
    return details


def event_deadlines(ctx: GuardContext, case: Case) -> EventDeadlines:
    """The deadlines every event carries (schema 2): the case's notice and validity after the
    step, and the due day of the report or change filing the step concerns."""
    notice, validity, payload = case.notice, case.validity, ctx.payload
    report_due = change_due = None
    if isinstance(payload, AnnualReport):
        report_due = _annual_report_due(
            case, ctx.policy, payload.year, payload.by_district, ctx.calendar
        )
    elif isinstance(payload, ChangeFiling):
        change_due = payload.due
    elif isinstance(payload, Mapping) and isinstance(payload.get("due"), str):
        report_due = dt.date.fromisoformat(payload["due"])  # the sweep's overdue report notice
    return EventDeadlines(
        notice_start=notice.start if notice else None,
        notice_end=notice.due if notice else None,
        notice_provisional=notice.provisional if notice else False,
        valid_from=validity.start if validity else None,
        valid_until=validity.due if validity else None,
        report_due=report_due,
        change_filing_due=change_due,
    )


def lifecycle_table(lang: Lang = "en") -> str:
    """The lifecycle as a Markdown table, drawn from `STEPS` and `RECORDS` (docs/explanation/lifecycle.md
    shows it; a test keeps the two equal)."""
    header = (
        "| trigger | from → to | who | article | payload |",
        "|---|---|---|---|---|",
    )
    rows = []
    for step in (*STEPS, *RECORDS):
        sources = ", ".join("(new)" if s is None else s.value for s in step.sources)
        if len(step.sources) == len(State):
            sources = "any"
        elif step.sources == _OPEN_STATES:
            sources = "any open state"
        to = step.destination.value if step.destination is not None else "(unchanged)"
        roles = ", ".join(sorted(role.label.in_(lang) for role in step.roles))
        if step.roles == _ANYONE:
            roles = "anyone" if lang == "en" else "任何人"
        payload = f"`{step.payload.__name__}`" if step.payload is not None else "—"
        rows.append(
            f"| `{step.trigger.value}` | {sources} → {to} | {roles} | "
            f"{step.article.in_(lang)} | {payload} |"
        )
    return "\n".join((*header, *rows))
