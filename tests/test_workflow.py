"""The Workflow service: records that change no state, the sweep, concurrency and idempotency."""

from __future__ import annotations

import datetime as dt
import inspect
import typing
from collections.abc import Callable

import attrs
import pytest

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.case import State
from kmbase_workflow.errors import (
    ConcurrencyConflictError,
    TransitionRefusedError,
)
from kmbase_workflow.events import (
    AnnualReportFiled,
    AnnualReportOverdue,
    ChangeFiled,
    EvaluationRecorded,
    ExpertOpinionRecorded,
    ProvinciallyRecommended,
    RoundSelected,
)
from kmbase_workflow.lifecycle import RECORDS, STEPS, Trigger
from kmbase_workflow.workflow import Outcome, Workflow
from lifecycle_helpers import (
    BUREAU,
    CERTIFIED_ON,
    DISTRICT,
    EXPERT,
    GOOD_RECOMMENDATION,
    NOTICE_DUE,
    OPERATOR,
    OTHER_DISTRICT,
    OTHER_OPERATOR,
    PUBLIC,
    SYSTEM,
    VALID_UNTIL,
    VIOLATION,
    Harness,
    harness,
    other_base,
    walk_to,
)


def refused_record(h: Harness, case_id: str, call: Callable[[], object]) -> set[str]:
    """A refused record: nothing changed; returns the failed guards' names."""
    before = h.snapshot(case_id)
    with pytest.raises(TransitionRefusedError) as info:
        call()
    assert h.snapshot(case_id) == before
    for failure in info.value.failures:
        assert failure.article.zh
        assert failure.article.en
        assert failure.message.zh
        assert failure.message.en
    return {f.guard for f in info.value.failures}


def assert_recorded(h: Harness, outcome: Outcome, action: str, event_type: type) -> None:
    """A record keeps the state, adds one history entry and publishes one event."""
    case = outcome.case
    history = h.workflow.history(case.id)
    assert history[-1] == outcome.entry
    assert len(history) == case.version
    assert outcome.entry.action == action
    assert outcome.entry.from_state == outcome.entry.to_state == case.state.value
    assert [type(e) for e in outcome.events] == [event_type]
    assert outcome.events[0] in h.seen
    assert outcome.entry.event_ids == (outcome.events[0].id,)
    assert h.workflow.verify_chain(case.id).ok


# -- expert opinions and selection (第十一条) -----------------------------------------------------


def test_an_expert_opinion_is_recorded_without_changing_state() -> None:
    h = harness()
    before = walk_to(h, State.DISTRICT_RECOMMENDED)
    outcome = h.workflow.record_expert_opinion("c1", EXPERT, 86.5, "服务功能完善")
    assert outcome.case.state is State.DISTRICT_RECOMMENDED
    assert outcome.case.version == before.version + 1
    assert outcome.case.expert_opinions[-1].score == 86.5
    assert outcome.case.expert_opinions[-1].expert == EXPERT.id
    assert_recorded(h, outcome, "expert_opinion", ExpertOpinionRecorded)
    assert outcome.events[0].payload["score"] == 86.5


def test_expert_opinions_only_from_experts_and_only_under_review() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    # the bureau may only enter an opinion on a named expert's behalf, recorded as such
    assert refused_record(
        h, "c1", lambda: h.workflow.record_expert_opinion("c1", BUREAU, 80, "x")
    ) == {"expert"}
    entered = h.workflow.record_expert_opinion("c1", BUREAU, 80, "x", expert="专家乙")
    assert entered.case.expert_opinions[-1].entered_by == BUREAU.id
    assert refused_record(
        h, "c1", lambda: h.workflow.record_expert_opinion("c1", PUBLIC, 80, "x", expert="专家丙")
    ) == {"role"}
    h2 = harness()
    walk_to(h2, State.DECLARED)
    assert refused_record(
        h2, "c1", lambda: h2.workflow.record_expert_opinion("c1", EXPERT, 80, "x")
    ) == {"state"}


def test_selection_ranks_the_round_by_mean_score() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED, "a")
    walk_to(h, State.DISTRICT_RECOMMENDED, "b", application=other_base())
    h.workflow.record_expert_opinion("a", EXPERT, 70, "中")
    h.workflow.record_expert_opinion("a", Actor(Role.EXPERT, "专家乙"), 90, "优")  # mean 80
    h.workflow.record_expert_opinion("b", EXPERT, 85, "良")
    outcomes = h.workflow.select_round(2025, BUREAU, quota=1)
    assert [(o.case.id, o.case.selection.rank, o.case.selection.selected) for o in outcomes] == [  # type: ignore[union-attr]
        ("b", 1, True),
        ("a", 2, False),
    ]
    for outcome in outcomes:
        assert_recorded(h, outcome, "selection", RoundSelected)
        assert outcome.case.state is State.DISTRICT_RECOMMENDED


def test_only_the_city_bureau_selects() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    assert refused_record(h, "c1", lambda: h.workflow.select_round(2025, EXPERT, quota=1)) == {
        "role"
    }


# -- annual reports (第十六条, 第十七条) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "late"),
    [
        (dt.date(2026, 1, 20), False),
        # 31 January 2026 is a Saturday: the report is due Monday 2 February
        (dt.date(2026, 2, 2), False),
        (dt.date(2026, 2, 3), True),
    ],
)
def test_the_base_annual_report_is_late_after_january_rolled_to_a_working_day(
    day: dt.date, late: bool
) -> None:
    h = harness(allow_provisional=True)  # see test_bug_annual_report_needs_later_years
    walk_to(h, State.CERTIFIED)
    h.set(day)
    outcome = h.workflow.file_annual_report("c1", OPERATOR, 2026, reference="2025年度总结")
    report = outcome.case.annual_reports[-1]
    assert (report.year, report.by_district, report.submitted_on, report.late) == (
        2026,
        False,
        day,
        late,
    )
    assert_recorded(h, outcome, "annual_report", AnnualReportFiled)
    assert outcome.events[0].payload["late"] is late


@pytest.mark.parametrize(
    ("day", "late"),
    # 28 February 2026 is a Saturday made a working day (Spring Festival): no roll-over
    [(dt.date(2026, 2, 28), False), (dt.date(2026, 3, 2), True)],
)
def test_the_district_annual_report_is_due_at_the_end_of_february(day: dt.date, late: bool) -> None:
    h = harness(allow_provisional=True)  # see test_bug_annual_report_needs_later_years
    walk_to(h, State.CERTIFIED)
    h.set(day)
    outcome = h.workflow.file_annual_report("c1", DISTRICT, 2026, by_district=True)
    assert outcome.case.annual_reports[-1].late is late
    assert outcome.case.annual_reports[-1].by_district


def test_annual_reports_roles_districts_and_states() -> None:
    h = harness(allow_provisional=True)  # see test_bug_annual_report_needs_later_years
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 1, 10))
    wf = h.workflow
    assert refused_record(h, "c1", lambda: wf.file_annual_report("c1", DISTRICT, 2026)) == {
        "reporter"
    }
    assert refused_record(
        h, "c1", lambda: wf.file_annual_report("c1", OTHER_DISTRICT, 2026, by_district=True)
    ) == {"district"}
    assert refused_record(
        h, "c1", lambda: wf.file_annual_report("c1", OPERATOR, 2026, by_district=True)
    ) == {"reporter"}
    h2 = harness()
    walk_to(h2, State.PUBLICIZED)
    assert refused_record(
        h2, "c1", lambda: h2.workflow.file_annual_report("c1", OPERATOR, 2026)
    ) == {"state"}


def test_an_annual_report_in_an_official_year_needs_no_later_calendar() -> None:
    """The validity runs into years without an official notice; this year's report does not
    depend on them."""
    h = harness()  # the default: no provisional calendar
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 1, 20))
    outcome = h.workflow.file_annual_report("c1", OPERATOR, 2026)
    assert outcome.case.annual_reports[-1].late is False


def test_another_operator_cannot_file_for_the_base() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 1, 10))
    guards = refused_record(
        h, "c1", lambda: h.workflow.file_annual_report("c1", OTHER_OPERATOR, 2026)
    )
    assert guards == {"operator"}


# -- evaluations (第十八条) -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [BUREAU, EXPERT], ids=["bureau", "expert"])
def test_an_evaluation_is_recorded_by_the_bureau_or_an_expert(actor: Actor) -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 5, 6))
    outcome = h.workflow.record_evaluation("c1", actor, passed=True, evaluator="第三方机构")
    evaluation = outcome.case.evaluations[-1]
    assert (evaluation.evaluated_on, evaluation.passed) == (dt.date(2026, 5, 6), True)
    assert outcome.case.state is State.CERTIFIED
    assert_recorded(h, outcome, "evaluation", EvaluationRecorded)


def test_a_failed_evaluation_starts_the_withdrawal_of_the_title() -> None:
    """第十八条: 测评不合格的，将取消称号，收回已颁发的牌匾. The failed evaluation moves the case
    to revocation_pending; the bureau's revocation records the plaque's return."""
    from kmbase_workflow.case import Revocation, RevocationGround

    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 5, 6))
    outcome = h.workflow.record_evaluation("c1", EXPERT, passed=False, evaluator="专家组")
    assert outcome.case.state is State.REVOCATION_PENDING
    assert outcome.case.evaluations[-1].evaluated_on == dt.date(2026, 5, 6)
    assert [e.type for e in outcome.events] == ["evaluation_failed"]
    assert outcome.events[0].to_state == "revocation_pending"  # type: ignore[attr-defined]
    h.set(dt.date(2026, 5, 12))
    withdrawal = Revocation(
        RevocationGround.FAILED_EVALUATION,
        dt.date(2026, 5, 11),
        "测评不合格，取消称号",
        plaque_returned_on=dt.date(2026, 5, 12),
    )
    revoked = h.workflow.revoke("c1", BUREAU, withdrawal)
    assert revoked.case.state is State.REVOKED
    assert revoked.events[0].payload["plaque_returned_on"] == "2026-05-12"
    assert revoked.events[0].payload["ground"] == "failed_evaluation"
    # a plaque cannot be returned before the decision nor in the future
    early = attrs.evolve(withdrawal, plaque_returned_on=dt.date(2026, 5, 1))
    h2 = harness()
    walk_to(h2, State.REVOCATION_PENDING)
    h2.set(dt.date(2026, 5, 12))
    assert refused_record(h2, "c1", lambda: h2.workflow.revoke("c1", BUREAU, early)) == {
        "plaque_returned_on"
    }


def test_evaluations_refused_for_others_and_before_certification() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    for actor in (OPERATOR, DISTRICT, PUBLIC, SYSTEM):
        assert refused_record(
            h,
            "c1",
            lambda a=actor: h.workflow.record_evaluation("c1", a, passed=True, evaluator="x"),
        ) == {"role"}
    h2 = harness()
    walk_to(h2, State.SITE_INSPECTED)
    assert refused_record(
        h2, "c1", lambda: h2.workflow.record_evaluation("c1", BUREAU, passed=True, evaluator="x")
    ) == {"state"}


# -- change filings (第十九条) ----------------------------------------------------------------------

COMPLETED = dt.date(2026, 2, 10)
"""Tuesday; not counted. Working days: 11, 12, 13, 14 (a Saturday made working), then the
Spring Festival (15–23), 24, 25, 26, 27, 28 (Saturday, working) and Monday 2 March: the 10th."""


@pytest.mark.parametrize(
    ("day", "late"),
    [(COMPLETED, False), (dt.date(2026, 3, 2), False), (dt.date(2026, 3, 3), True)],
)
def test_a_change_is_filed_within_ten_working_days_after_completion(
    day: dt.date, late: bool
) -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(day)
    outcome = h.workflow.file_change("c1", OPERATOR, "法定代表人变更", COMPLETED)
    filing = outcome.case.change_filings[-1]
    assert (filing.completed_on, filing.filed_on, filing.due, filing.late) == (
        COMPLETED,
        day,
        dt.date(2026, 3, 2),
        late,
    )
    assert_recorded(h, outcome, "change_filing", ChangeFiled)


def test_change_filing_guards() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(COMPLETED)
    wf = h.workflow
    tomorrow = COMPLETED + dt.timedelta(days=1)
    assert refused_record(h, "c1", lambda: wf.file_change("c1", OPERATOR, "更名", tomorrow)) == {
        "completed_on"
    }
    assert refused_record(h, "c1", lambda: wf.file_change("c1", BUREAU, "更名", COMPLETED)) == {
        "role"
    }
    assert refused_record(h, "c1", lambda: wf.file_change("c1", BUREAU, "更名", tomorrow)) == {
        "role",
        "completed_on",
    }
    h2 = harness()
    walk_to(h2, State.DECLARED)
    assert refused_record(
        h2, "c1", lambda: h2.workflow.file_change("c1", OPERATOR, "更名", dt.date(2025, 6, 1))
    ) == {"state"}


# -- provincial recommendation (第二十一条) ----------------------------------------------------------


def test_recommendation_to_the_province() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 4, 1))
    wf = h.workflow
    for actor in (OPERATOR, DISTRICT, EXPERT):
        assert refused_record(
            h, "c1", lambda a=actor: wf.recommend_to_province("c1", a, "省级示范基地")
        ) == {"role"}
    outcome = wf.recommend_to_province("c1", BUREAU, "省级示范基地")
    assert outcome.case.provincial_recommendations[-1].recommended_on == dt.date(2026, 4, 1)
    assert_recorded(h, outcome, "provincial_recommendation", ProvinciallyRecommended)
    h.set(dt.date(2026, 4, 2))
    wf.revoke("c1", BUREAU, VIOLATION)
    assert refused_record(h, "c1", lambda: wf.recommend_to_province("c1", BUREAU, "x")) == {"state"}


# -- the sweep -------------------------------------------------------------------------------------


def test_the_sweep_announces_the_end_of_the_notice_once() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(NOTICE_DUE)
    assert h.workflow.sweep().events == ()
    h.set(NOTICE_DUE + dt.timedelta(days=1))
    report = h.workflow.sweep()
    assert [e.type for e in report.events] == ["notice_period_ended"]
    assert report.events[0].actor == SYSTEM
    assert report.events[0].payload["notice_due"] == NOTICE_DUE.isoformat()
    entry = h.workflow.history("c1")[-1]
    assert (entry.action, entry.actor, entry.to_state) == ("notify", SYSTEM, "publicized")
    assert h.workflow.sweep().events == ()
    h.set(NOTICE_DUE + dt.timedelta(days=20))
    assert h.workflow.sweep().events == ()
    assert h.workflow.case("c1").state is State.PUBLICIZED  # the sweep certifies nothing


def test_the_sweep_reminds_at_each_lead_time_once_then_expires() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    wf = h.workflow

    def sweep_on(day: dt.date) -> list[str]:
        h.set(day)
        first = [e.type for e in wf.sweep().events]
        assert wf.sweep().events == ()  # a second run emits nothing again
        return first

    # 90 days before 2028-10-15 is Monday 2028-07-17; 30 days before is Friday 2028-09-15
    missed = sweep_on(dt.date(2028, 7, 16))
    assert "validity_ending_soon" not in missed
    # every yearly report of 2026–2028 was missed: one overdue event each, base and district
    assert missed.count("annual_report_overdue") == 6
    assert sweep_on(dt.date(2028, 7, 17)) == ["validity_ending_soon"]
    assert sweep_on(dt.date(2028, 9, 14)) == []
    assert sweep_on(dt.date(2028, 9, 15)) == ["validity_ending_soon"]
    outbox = [record.event for record in h.store.read_outbox(0, 1000)]
    leads = [e.payload["lead_days"] for e in outbox if e.type == "validity_ending_soon"]
    assert leads == [90, 30]
    assert sweep_on(VALID_UNTIL) == []
    assert wf.case("c1").state is State.CERTIFIED
    h.set(VALID_UNTIL + dt.timedelta(days=1))
    report = wf.sweep()
    assert report.expired == ("c1",)
    assert [e.type for e in report.events] == ["expired"]
    assert wf.case("c1").state is State.EXPIRED
    assert wf.history("c1")[-1].actor == SYSTEM
    again = wf.sweep()
    assert (again.expired, again.events) == ((), ())


def test_a_late_first_sweep_sends_both_reminders_at_once() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2028, 10, 1))
    types = [e.type for e in h.workflow.sweep().events]
    assert types.count("validity_ending_soon") == 2


def test_annual_report_overdue_once_per_missing_report() -> None:
    h = harness(allow_provisional=True)  # see test_bug_annual_report_needs_later_years
    walk_to(h, State.CERTIFIED)
    wf = h.workflow
    h.set(dt.date(2026, 2, 2))  # the base's 2026 report is due today
    assert wf.sweep().events == ()
    h.set(dt.date(2026, 2, 3))
    events = wf.sweep().events
    assert [(e.type, e.payload["year"], e.payload["by_district"]) for e in events] == [
        ("annual_report_overdue", 2026, False)
    ]
    assert isinstance(events[0], AnnualReportOverdue)
    assert wf.sweep().events == ()
    wf.file_annual_report("c1", OPERATOR, 2026)  # late, but filed
    h.set(dt.date(2026, 2, 27))
    wf.file_annual_report("c1", DISTRICT, 2026, by_district=True)  # on time
    h.set(dt.date(2026, 12, 31))
    assert wf.sweep().events == ()
    h.set(dt.date(2027, 2, 2))  # 31 January 2027 is a Sunday: due Monday 1 February
    assert [e.payload["year"] for e in wf.sweep().events] == [2027]


def test_a_report_filed_in_time_is_never_overdue() -> None:
    h = harness(allow_provisional=True)  # see test_bug_annual_report_needs_later_years
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 1, 15))
    h.workflow.file_annual_report("c1", OPERATOR, 2026)
    h.set(dt.date(2026, 2, 20))
    assert h.workflow.sweep().events == ()


def test_the_sweep_leaves_other_cases_alone() -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED, "early")
    walk_to(h, State.DECLARED, "open", application=other_base())
    h.set(dt.date(2027, 1, 1))
    report = h.workflow.sweep()
    assert (report.expired, report.events, report.refused) == ((), (), ())
    assert h.workflow.case("early").version == 5


# -- concurrency and idempotency ---------------------------------------------------------------


SHARED_KEYWORDS = {"evidence", "expected_version", "idempotency_key"}
NO_REASON = {
    "revoke": "the revocation's details are the reason",
    "verify_objection": "the finding is the reason",
}
"""The named steps that take no ``reason`` keyword, and why."""
NOT_FIRED = {
    "declare": "creates the case",
    "select_round": "ranks a whole round in one transaction",
    "sweep": "fires what is due at many cases",
}
"""The steps' methods that are not a wrapper over `Workflow.fire`, and why."""


def _keywords(method: Callable[..., object]) -> set[str]:
    """The keyword names a call of ``method`` accepts, ``**options: Unpack[...]`` spelt out."""
    hints = typing.get_type_hints(method)
    names: set[str] = set()
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            (options,) = typing.get_args(hints[parameter.name])
            names |= set(typing.get_type_hints(options))
        elif parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            names.add(parameter.name)
    return names


@pytest.mark.parametrize(
    "method",
    sorted({step.method for step in [*STEPS, *RECORDS]} - set(NOT_FIRED)),
)
def test_every_named_step_takes_the_shared_keywords(method: str) -> None:
    keywords = _keywords(getattr(Workflow, method))
    assert keywords >= SHARED_KEYWORDS
    assert ("reason" in keywords) is (method not in NO_REASON)


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    before = h.snapshot("c1")
    with pytest.raises(ConcurrencyConflictError):
        h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, expected_version=0)
    assert h.snapshot("c1") == before
    outcome = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, expected_version=1)
    assert outcome.case.version == 2


def test_two_writers_holding_the_same_version_one_wins() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, expected_version=1)
    with pytest.raises(ConcurrencyConflictError):
        h.workflow.withdraw("c1", OPERATOR, "撤回", expected_version=1)
    assert h.workflow.case("c1").state is State.DISTRICT_RECOMMENDED
    assert len(h.workflow.history("c1")) == 2


def test_the_same_idempotency_key_twice_replays_the_first_outcome() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    first = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k1")
    before = h.snapshot("c1")
    second = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k1")
    assert second.replayed
    assert not first.replayed
    assert second.entry == first.entry
    assert second.case == first.case
    assert second.events == ()
    assert h.snapshot("c1") == before


def test_a_replay_is_not_refused_even_though_the_step_could_not_run_again() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    first = h.workflow.withdraw("c1", OPERATOR, "撤回", idempotency_key="w")
    again = h.workflow.withdraw("c1", OPERATOR, "撤回", idempotency_key="w")
    assert again.replayed
    assert again.entry == first.entry


def test_idempotent_declare_and_records() -> None:
    h = harness()
    first = h.workflow.declare(other_base(), _operator_of_other(), case_id="x", idempotency_key="d")
    again = h.workflow.declare(other_base(), _operator_of_other(), case_id="x", idempotency_key="d")
    assert again.replayed
    assert again.case.id == "x"
    assert again.entry == first.entry
    assert [c.id for c in h.workflow.cases()] == ["x"]
    h.workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION)
    one = h.workflow.record_expert_opinion("x", EXPERT, 80, "良", idempotency_key="e")
    two = h.workflow.record_expert_opinion("x", EXPERT, 80, "良", idempotency_key="e")
    assert two.replayed
    assert two.entry == one.entry
    assert len(h.workflow.case("x").expert_opinions) == 1


def _operator_of_other() -> Actor:
    return Actor.for_operator(other_base().operator)


def test_declaring_over_an_existing_case_id_overwrites_nothing() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    before = h.snapshot("c1")
    with pytest.raises(ConcurrencyConflictError):
        h.workflow.declare(other_base(), _operator_of_other(), case_id="c1")
    assert h.snapshot("c1") == before


def test_expire_fired_by_hand_after_validity_matches_the_sweep() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(VALID_UNTIL + dt.timedelta(days=1))
    outcome = h.workflow.fire("c1", Trigger.EXPIRE, SYSTEM, reason="期满")
    assert outcome.case.state is State.EXPIRED
    assert h.workflow.sweep().expired == ()
    assert CERTIFIED_ON < VALID_UNTIL
