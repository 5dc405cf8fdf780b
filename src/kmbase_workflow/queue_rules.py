"""The work-queue rules: when a case awaits whom, and the pending obligations a commit
writes to the work-queue projection (`work_items_for`).

A case awaits an actor when one of `QUEUE_RULES` holds for it. A rule names the states it
concerns and the triggers that discharge it; *who* is awaited, the actions they may take
and the article come from the lifecycle's one declaration per trigger
(`kmbase_workflow.lifecycle.STEPS` and ``RECORDS``), and the dates from
`kmbase_workflow.deadlines` and the policy in force.

The workflow imports this module to derive each change's work items; the queues read by
people (`kmbase_workflow.queues`) sit above the workflow and read the projection.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable, Iterable, Iterator

import attrs

from ._i18n import Lang, Text
from .actors import Role
from .calendar import WorkingDayCalendar
from .case import Case, State
from .deadlines import earliest_certification_date
from .errors import unknown_choice
from .lifecycle import (
    AWAITING_CERTIFICATION,
    TITLE_HELD,
    AnnualReportDue,
    Trigger,
    annual_reports_due,
    step_for,
)
from .policy import Policy, bundled_policies
from .stores import WorkItem

__all__ = [
    "QUEUE_RULES",
    "AnnualReportDue",
    "QueueKind",
    "QueueRule",
    "unfiled_annual_reports",
    "work_items_for",
    "work_queue_rules_table",
]


class QueueKind(enum.Enum):
    """What a case awaits (one `QueueRule` each)."""

    DECLARATION_REVIEW = "declaration_review"
    CORRECTION = "correction"
    LAPSED_CORRECTION = "lapsed_correction"
    EXPERT_REVIEW = "expert_review"
    SITE_INSPECTION = "site_inspection"
    NOTICE = "notice"
    OBJECTION = "objection"
    CERTIFICATION = "certification"
    TITLE_WITHDRAWAL = "title_withdrawal"
    ANNUAL_REPORT = "annual_report"
    CHANGE_FILING = "change_filing"
    PLAQUE_RETURN = "plaque_return"

    @classmethod
    def _missing_(cls, value: object) -> QueueKind:
        raise unknown_choice(cls, value)

    @property
    def rule(self) -> QueueRule:
        """The rule of this kind."""
        return _RULES[self]


@attrs.frozen
class _Dated:
    """One occurrence of a rule on a case: its qualifier and dates."""

    since: dt.date
    qualifier: str = ""
    due_on: dt.date | None = None
    ready_on: dt.date | None = None
    opens_on: dt.date | None = None
    role: Role | None = None
    """Only this role is awaited (annual reports: the base's or the district's)."""
    article: Text | None = None
    """The article of the deadline, when it is not the triggers' (第十六条, 第十七条)."""


Occurrences = Callable[[Case, Policy, WorkingDayCalendar], Iterable[_Dated]]


def _waiting(case: Case, _policy: Policy, _calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    yield _Dated(since=case.last_acted_on or case.declared_on)


@attrs.frozen(kw_only=True, cache_hash=True)  # a key of the cached lookups, per write
class QueueRule:
    """When a case awaits someone: in one of ``states``, until one of ``triggers`` is fired.

    The roles awaited, their actions and the article are the lifecycle's (`roles`,
    `actions_for`, `article`); ``occurrences`` gives the dates (and, for a rule that can
    hold several times on one case, one qualifier each).
    """

    kind: QueueKind
    label: Text
    states: tuple[State, ...]
    triggers: tuple[Trigger, ...]
    deadline: Text
    """Which date applies, in words (for the docs)."""
    only: frozenset[Role] | None = None
    """Restricts the awaited roles (a filed change awaits the bureau, not an expert)."""
    cause: Trigger | None = None
    """The trigger whose record the rule answers (a change filing): its article is cited."""
    occurrences: Occurrences = _waiting

    def roles_in(self, state: State) -> frozenset[Role]:
        """Who is awaited in ``state``: the roles that may fire one of the triggers from
        it (the system and the public never are)."""
        roles = frozenset(r for t in self.triggers for r in self._roles(t, state))
        return roles & self.only if self.only is not None else roles

    @staticmethod
    def _roles(trigger: Trigger, state: State) -> frozenset[Role]:
        step = step_for(trigger)
        if state not in step.sources:
            return frozenset()
        return step.roles - {Role.SYSTEM, Role.PUBLIC}

    def actions_for(self, role: Role, state: State) -> tuple[Trigger, ...]:
        """The triggers ``role`` may fire from ``state`` to discharge the rule."""
        return tuple(t for t in self.triggers if role in self._roles(t, state))

    @property
    def article(self) -> Text:
        """The articles of the triggers (or of the cause), as the lifecycle declares them."""
        steps = [step_for(self.cause)] if self.cause else [step_for(t) for t in self.triggers]
        zh = dict.fromkeys(s.article.zh for s in steps if s.article.zh != "—")
        en = dict.fromkeys(s.article.en for s in steps if s.article.en != "—")
        return Text(zh="、".join(zh), en="; ".join(en))


def _correction(case: Case, _policy: Policy, _calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    correction = case.correction
    since = case.last_acted_on or case.declared_on
    yield _Dated(since=since, due_on=correction.due if correction else None)


def _lapsed_correction(
    case: Case, _policy: Policy, _calendar: WorkingDayCalendar
) -> Iterator[_Dated]:
    # the district may conclude from the day after the correction deadline (第十条)
    correction = case.correction
    if correction is not None:
        lapsed = correction.due + dt.timedelta(days=1)
        yield _Dated(since=case.last_acted_on or case.declared_on, ready_on=lapsed)


def _plaque_return(case: Case, _policy: Policy, _calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    revocation = case.revocation
    if revocation is not None and revocation.plaque_returned_on is None:
        yield _Dated(since=revocation.decided_on)


def _certification(case: Case, _policy: Policy, calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    since = case.last_acted_on or case.declared_on
    ready = None
    if case.notice is not None:
        ready = earliest_certification_date(case.notice, calendar=calendar, allow_provisional=True)
    yield _Dated(since=since, ready_on=ready)


def _objection(case: Case, _policy: Policy, _calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    objection = case.open_objection
    yield _Dated(since=objection.raised_on if objection else case.last_acted_on or case.declared_on)


def unfiled_annual_reports(
    case: Case, policy: Policy, calendar: WorkingDayCalendar
) -> Iterator[AnnualReportDue]:
    """The annual reports of a certified case's validity not filed yet (第十六条, 第十七条):
    the one rule the work queue and the sweep's overdue notices both apply. Years beyond the
    official calendar get provisional dates."""
    filed = {(report.year, report.by_district) for report in case.annual_reports}
    for due in annual_reports_due(case, policy, calendar):
        if (due.year, due.by_district) not in filed:
            yield due


def _annual_reports(case: Case, policy: Policy, calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    for due in unfiled_annual_reports(case, policy, calendar):
        yield _Dated(
            since=due.deadline.start,
            qualifier=due.key,
            due_on=due.deadline.due,
            opens_on=due.deadline.start,
            role=Role.DISTRICT_AUTHORITY if due.by_district else Role.OPERATOR,
            article=due.deadline.article,
        )


def _change_filings(case: Case, _policy: Policy, _calendar: WorkingDayCalendar) -> Iterator[_Dated]:
    # A filing awaits the bureau until the bureau records an evaluation or a decision on the
    # base on or after the day it was filed.
    acted = [e.evaluated_on for e in case.evaluations if e.evaluated_on is not None]
    acted += [r.recommended_on for r in case.provincial_recommendations]
    for number, filing in enumerate(case.change_filings, start=1):
        filed = filing.filed_on or filing.completed_on
        if not any(day >= filed for day in acted):
            yield _Dated(since=filed, qualifier=str(number))


def _t(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


QUEUE_RULES: tuple[QueueRule, ...] = (
    QueueRule(kind=QueueKind.DECLARATION_REVIEW, label=_t("初审推荐申报", "review a declaration"),
              states=(State.DECLARED,),
              triggers=(Trigger.RETURN_FOR_CORRECTION, Trigger.RECOMMEND, Trigger.DECLINE),
              deadline=_t("无（以当年申报通知为准）", "none (set by the year's declaration notice)")),
    QueueRule(kind=QueueKind.CORRECTION, label=_t("补正退回的申请", "correct a returned application"),
              states=(State.RETURNED_FOR_CORRECTION,),
              triggers=(Trigger.RESUBMIT, Trigger.WITHDRAW),
              deadline=_t("退回时确定的补正期限", "the correction deadline set when returned"),
              occurrences=_correction),
    QueueRule(kind=QueueKind.LAPSED_CORRECTION,
              label=_t("办结逾期未补正的申请", "conclude a lapsed correction"),
              states=(State.RETURNED_FOR_CORRECTION,),
              triggers=(Trigger.CONCLUDE_LAPSED_CORRECTION,),
              deadline=_t("补正期限届满次日起可办理", "possible from the day after the "
                          "correction deadline"),
              occurrences=_lapsed_correction),
    QueueRule(kind=QueueKind.EXPERT_REVIEW, label=_t("专家评审与择优", "expert review and selection"),
              states=(State.DISTRICT_RECOMMENDED,),
              triggers=(Trigger.EXPERT_OPINION, Trigger.SELECTION, Trigger.PASS_REVIEW,
                        Trigger.FAIL_REVIEW),
              deadline=_t("无", "none")),
    QueueRule(kind=QueueKind.SITE_INSPECTION, label=_t("现场核查", "site inspection"),
              states=(State.EXPERT_REVIEWED,),
              triggers=(Trigger.PASS_INSPECTION, Trigger.FAIL_INSPECTION),
              deadline=_t("无", "none")),
    QueueRule(kind=QueueKind.NOTICE, label=_t("社会公示", "public notice"),
              states=(State.SITE_INSPECTED,),
              triggers=(Trigger.ANNOUNCE_NOTICE, Trigger.PUBLICIZE),
              deadline=_t("无", "none")),
    QueueRule(kind=QueueKind.OBJECTION, label=_t("调查核实异议", "investigate an objection"),
              states=(State.OBJECTED,),
              triggers=(Trigger.VERIFY, Trigger.SUSTAIN_OBJECTION),
              deadline=_t("无（自异议提出之日起等待）", "none (waiting since the objection)"),
              occurrences=_objection),
    QueueRule(kind=QueueKind.CERTIFICATION, label=_t("公示期满后认定", "certify after the notice"),
              states=AWAITING_CERTIFICATION, triggers=(Trigger.CERTIFY,),
              deadline=_t("公示期结束后的第一个工作日起可办理", "possible from the first working day "
                          "after the notice ends"),
              occurrences=_certification),
    QueueRule(kind=QueueKind.TITLE_WITHDRAWAL, label=_t("测评不合格，取消称号",
                                                        "withdraw the title after a failed evaluation"),
              states=(State.REVOCATION_PENDING,), triggers=(Trigger.REVOKE,),
              deadline=_t("无", "none")),
    QueueRule(kind=QueueKind.ANNUAL_REPORT, label=_t("报送年度工作总结和计划",
                                                     "file the annual summary and plan"),
              states=TITLE_HELD, triggers=(Trigger.ANNUAL_REPORT,),
              deadline=_t("政策文件规定的年度报送期限", "the yearly due date of the policy"),
              occurrences=_annual_reports),
    QueueRule(kind=QueueKind.CHANGE_FILING, label=_t("审阅重大变更备案", "review a major-change filing"),
              states=TITLE_HELD,
              triggers=(Trigger.EVALUATION, Trigger.FAIL_EVALUATION, Trigger.REVOKE),
              only=frozenset({Role.CITY_BUREAU}), cause=Trigger.CHANGE_FILING,
              deadline=_t("无（至局方其后作出测评或决定）",
                          "none (until the bureau records an evaluation or decision after it)"),
              occurrences=_change_filings),
    QueueRule(kind=QueueKind.PLAQUE_RETURN, label=_t("收回牌匾", "take the plaque back"),
              states=(State.REVOKED,), triggers=(Trigger.PLAQUE_RETURN,),
              deadline=_t("无（自撤销之日起等待）", "none (waiting since the revocation)"),
              occurrences=_plaque_return),
)  # fmt: skip
"""Every work-queue rule: when a case awaits whom (see the module doc)."""

_RULES = {rule.kind: rule for rule in QUEUE_RULES}
_BY_STATE: dict[State, tuple[QueueRule, ...]] = {
    state: tuple(rule for rule in QUEUE_RULES if state in rule.states) for state in State
}


@functools.cache
def _awaited(rule: QueueRule, state: State) -> tuple[tuple[Role, tuple[str, ...]], ...]:
    """Who a rule awaits in ``state`` (by role name) and what each may fire: fixed by the
    lifecycle's declarations, so worked out once per rule and state, not per commit."""
    return tuple(
        (role, tuple(t.value for t in rule.actions_for(role, state)))
        for role in sorted(rule.roles_in(state), key=lambda r: r.value)
    )


@functools.cache
def _article_of(rule: QueueRule) -> Text:
    return rule.article


def work_items_for(
    case: Case, *, policy: Policy, calendar: WorkingDayCalendar
) -> tuple[WorkItem, ...]:
    """The pending obligations of ``case`` as the projection stores them (the workflow
    writes them with each commit)."""
    items = []
    operator_id = case.operator_code
    for rule in _BY_STATE[case.state]:
        for dated in rule.occurrences(case, policy, calendar):
            article = dated.article or _article_of(rule)
            obligation = rule.kind.value + (f":{dated.qualifier}" if dated.qualifier else "")
            for role, actions in _awaited(rule, case.state):
                if dated.role is not None and role is not dated.role:
                    continue
                items.append(
                    WorkItem(
                        case_id=case.id,
                        obligation=obligation,
                        role=role.value,
                        district=case.district,
                        base_id=case.base_id,
                        base_name=case.base_name,
                        operator_id=operator_id,
                        round_year=case.round_year,
                        state=case.state.value,
                        version=case.version,
                        actions=actions,
                        article_zh=article.zh,
                        article_en=article.en,
                        since=dated.since,
                        opens_on=dated.opens_on,
                        due_on=dated.due_on,
                        ready_on=dated.ready_on,
                    )
                )
    return tuple(items)


# -- the rules as a table for the docs ------------------------------------------------------------------------------------------


def work_queue_rules_table(lang: Lang = "en", policy: Policy | None = None) -> str:
    """The rules as a Markdown table, drawn from `QUEUE_RULES`, the lifecycle and the
    ``policy`` (default: the newest bundled one) for the deadlines' articles
    (docs/how-to/work-queues.md shows it; a test keeps the two equal)."""
    if policy is None:
        policy = bundled_policies()[-1]
    reports = {  # the annual reports' periods of the policy, by who files
        Role.OPERATOR: policy.periods.base_annual_report,
        Role.DISTRICT_AUTHORITY: policy.periods.district_annual_report,
    }
    header = (
        "| queue | awaits | states | actions | date that applies | article |",
        "|---|---|---|---|---|---|",
    )
    rows = []
    for rule in QUEUE_RULES:
        groups: dict[tuple[Role, tuple[Trigger, ...]], list[State]] = {}
        for state in rule.states:
            for role in rule.roles_in(state):
                groups.setdefault((role, rule.actions_for(role, state)), []).append(state)
        for (role, actions), states in sorted(groups.items(), key=lambda g: g[0][0].value):
            deadline, article = rule.deadline.in_(lang), rule.article.in_(lang)
            if rule.kind is QueueKind.ANNUAL_REPORT:  # the policy's period and its article
                deadline = reports[role].description.in_(lang)
                article = reports[role].article.in_(lang)
            rows.append(
                f"| `{rule.kind.value}` ({rule.label.in_(lang)}) | {role.label.in_(lang)} | "
                f"{', '.join(s.value for s in states)} | "
                f"{', '.join(f'`{t.value}`' for t in actions)} | {deadline} | {article} |"
            )
    return "\n".join((*header, *rows))
