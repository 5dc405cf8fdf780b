"""The lifecycle's guards, roles and refusals, through the Workflow service.

Every refusal is checked the same way (:func:`refused`): it raises TransitionRefusedError whose
``failures`` name each failed guard with its article in both languages, and the case, its
history, the outbox and the subscribers saw nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.calendar import default_calendar
from kmbase_workflow.case import (
    CollectiveDecision,
    ExpertOpinion,
    NoticeAnnouncement,
    Objection,
    Recommendation,
    Revocation,
    RevocationGround,
    State,
)
from kmbase_workflow.eligibility import Status, evaluate, judge_spot_check
from kmbase_workflow.errors import InvalidInputError, TransitionRefusedError
from kmbase_workflow.lifecycle import (
    STEPS,
    GuardContext,
    GuardFailure,
    Step,
    Trigger,
    check_guards,
    step_for,
)
from kmbase_workflow.policy import load_policy
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.workflow import Outcome
from lifecycle_helpers import (
    ACTORS,
    ANNOUNCED_ON,
    APPLICATION,
    AWAY,
    BUREAU,
    CERTIFIED_ON,
    CORRECTION,
    DECISION,
    DISTRICT,
    EVALUATED_ON,
    EXPERT,
    FAILED_EVALUATION,
    GOOD_RECOMMENDATION,
    HOME,
    NOTICE_DUE,
    OPEN_STATES,
    OPERATOR,
    OTHER_DISTRICT,
    OTHER_OPERATOR,
    PUBLIC,
    PUBLISHED_ON,
    SYSTEM,
    VALID_UNTIL,
    VIOLATION,
    Harness,
    complete_but_ineligible,
    harness,
    other_base,
    step_case,
    walk_to,
)

# -- the refusal contract ----------------------------------------------------------------------


def refused(h: Harness, case_id: str | None, call: Callable[[], object]) -> list[GuardFailure]:
    """Run ``call``, expect a refusal that changed nothing, return its failures."""
    before = h.snapshot(case_id) if case_id is not None else None
    outbox = len(h.store.read_outbox(0, 10_000))
    seen = len(h.seen)
    with pytest.raises(TransitionRefusedError) as info:
        call()
    failures = list(info.value.failures)
    assert failures, "a refusal lists at least one failed guard"
    for failure in failures:
        assert failure.guard
        assert failure.article.zh.strip(), failure
        assert failure.article.en.strip(), failure
        assert failure.message.zh.strip(), failure
        assert failure.message.en.strip(), failure
        # the error's text carries every failure, in both languages
        assert failure.message.zh in info.value.describe("zh")
        assert failure.message.en in info.value.describe("en")
    if case_id is not None:
        assert h.snapshot(case_id) == before
    assert len(h.store.read_outbox(0, 10_000)) == outbox
    assert len(h.seen) == seen
    return failures


def guards(failures: list[GuardFailure]) -> set[str]:
    return {f.guard for f in failures}


def spot(failures: list[GuardFailure]) -> set[str]:
    """Guard names with the spot check's doubled prefix folded (see the bug test below)."""
    return {f.guard.replace("spot_check.spot_check.", "spot_check.") for f in failures}


def only(failures: list[GuardFailure], guard: str) -> GuardFailure:
    matching = [f for f in failures if f.guard in (guard, guard.replace(".", ".spot_check.", 1))]
    assert len(matching) == 1, failures
    return matching[0]


# -- declare (第八条, 第九条, 第十五条) --------------------------------------------------------


def test_declare_without_an_open_round_is_refused_under_article_9() -> None:
    h = harness(open_round=False)
    failures = refused(h, None, lambda: h.workflow.declare(APPLICATION, OPERATOR, case_id="c1"))
    assert guards(failures) == {"round_open"}
    assert failures[0].article.zh == "第九条"
    assert list(h.workflow.cases()) == []


def test_declare_outside_the_round_window_is_refused() -> None:
    h = harness(dt.date(2025, 8, 1))  # the round closed on 31 July
    failures = refused(h, None, lambda: h.workflow.declare(APPLICATION, OPERATOR, case_id="c1"))
    assert guards(failures) == {"round_open"}
    h.set(dt.date(2025, 7, 31))  # the last day is inside
    assert h.workflow.declare(APPLICATION, OPERATOR, case_id="c1").case.state is State.DECLARED


def test_a_second_round_in_a_year_is_refused() -> None:
    h = harness()
    with pytest.raises(TransitionRefusedError) as info:
        h.workflow.open_round(2025, dt.date(2025, 9, 1), dt.date(2025, 9, 30), BUREAU)
    assert [f.article.zh for f in info.value.failures] == ["第九条"]
    assert [r.opens_on for r in h.store.rounds()] == [dt.date(2025, 6, 1)]


def test_only_the_city_bureau_opens_a_round() -> None:
    h = harness(open_round=False)
    with pytest.raises(TransitionRefusedError):
        h.workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), DISTRICT)
    assert h.store.rounds() == []


def test_declare_with_missing_materials_names_each_item_of_article_8() -> None:
    h = harness()
    materials = dict(APPLICATION.materials)
    del materials["audit_report"]
    materials["staff_credentials"] = "   "
    app = attrs.evolve(APPLICATION, materials=materials)
    failures = refused(h, None, lambda: h.workflow.declare(app, OPERATOR, case_id="c1"))
    assert guards(failures) == {"materials.audit_report", "materials.staff_credentials"}
    by_guard = {f.guard: f for f in failures}
    assert by_guard["materials.audit_report"].article.zh == "第八条第（三）项"
    assert "财务审计报告" in by_guard["materials.audit_report"].message.zh
    assert by_guard["materials.staff_credentials"].article.zh == "第八条第（五）项"
    assert "audited financial report" in by_guard["materials.audit_report"].message.en


def test_the_optional_other_evidence_is_not_demanded() -> None:
    h = harness()
    materials = {k: v for k, v in APPLICATION.materials.items() if k != "other_evidence"}
    app = attrs.evolve(APPLICATION, materials=materials)
    assert h.workflow.declare(app, OPERATOR, case_id="c1").case.state is State.DECLARED


def test_several_declare_guards_fail_at_once() -> None:
    h = harness(open_round=False)
    app = attrs.evolve(APPLICATION, materials={})
    failures = refused(h, None, lambda: h.workflow.declare(app, DISTRICT, case_id="c1"))
    assert {"role", "round_open", "materials.application_report"} <= guards(failures)
    assert len(failures) == 2 + 6  # role, round, six required materials


def test_a_second_open_case_for_the_same_base_is_refused() -> None:
    h = harness()
    h.workflow.declare(APPLICATION, OPERATOR, case_id="c1")
    failures = refused(h, "c1", lambda: h.workflow.declare(APPLICATION, OPERATOR, case_id="c2"))
    assert guards(failures) == {"one_open_case"}
    assert failures[0].article.zh == "第九条"
    assert "c1" in failures[0].message.en
    assert [c.id for c in h.workflow.cases()] == ["c1"]


def test_a_closed_case_does_not_block_a_new_declaration() -> None:
    h = harness()
    walk_to(h, State.WITHDRAWN)
    assert h.workflow.declare(APPLICATION, OPERATOR, case_id="c2").case.state is State.DECLARED


def test_a_certified_base_may_declare_again_only_in_the_year_its_validity_ends() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)  # valid through 2028-10-15
    h.workflow.open_round(2027, dt.date(2027, 6, 1), dt.date(2027, 7, 31), BUREAU)
    h.set(dt.date(2027, 6, 15))
    failures = refused(h, "c1", lambda: h.workflow.declare(APPLICATION, OPERATOR, case_id="c2"))
    failure = only(failures, "reapplication_year")
    assert len(failures) == 1
    assert failure.article.zh == "第十五条"
    assert "2028" in failure.message.en

    h.workflow.open_round(2028, dt.date(2028, 6, 1), dt.date(2028, 7, 31), BUREAU)
    h.set(dt.date(2028, 6, 15))  # still certified, but this is the final year
    outcome = h.workflow.declare(APPLICATION, OPERATOR, case_id="c2")
    assert outcome.case.round_year == 2028
    assert h.workflow.case("c1").state is State.CERTIFIED


# -- recommend (第六条, 第七条, 第十条) --------------------------------------------------------


def _recommend(h: Harness, recommendation: object, actor: Actor = DISTRICT) -> Outcome:
    return h.workflow.fire("c1", Trigger.RECOMMEND, actor, payload=recommendation)


def test_recommending_an_ineligible_application_lists_each_failed_rule_with_its_article() -> None:
    h = harness()
    app = complete_but_ineligible()
    walk_to(h, State.DECLARED, application=app)
    failures = refused(h, "c1", lambda: _recommend(h, GOOD_RECOMMENDATION, OTHER_DISTRICT))
    expected = {
        f"eligibility.{finding.rule}": finding.article
        for finding in evaluate(app, load_policy()).findings
        if finding.status is not Status.PASS
    }
    assert len(expected) > 5
    assert {f.guard: f.article for f in failures} == expected
    by_guard = {f.guard: f for f in failures}
    assert by_guard["eligibility.resident_enterprises"].article.zh.startswith("第六条")
    assert by_guard["eligibility.service_functions"].article.zh.startswith("第七条")


def test_recommend_needs_the_authenticity_check() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    rec = attrs.evolve(GOOD_RECOMMENDATION, authenticity_checked=False)
    failures = refused(h, "c1", lambda: _recommend(h, rec))
    assert guards(failures) == {"authenticity_checked"}
    assert failures[0].article.zh == "第十条"


@pytest.mark.parametrize(
    ("residents", "sampled", "ok"),
    [(60, 6, True), (60, 5, False), (61, 6, False), (61, 7, True), (70, 7, True), (91, 9, False)],
)
def test_the_spot_check_must_cover_ten_percent_rounded_up(
    residents: int, sampled: int, ok: bool
) -> None:
    """第十条: 10% of the resident small and micro enterprises the application reports for
    the judged year (2024), rounded up."""
    h = harness()
    # the roster lists and flags as many as reported (roster_complete,
    # small_micro_flags_consistent): the example's 60 and new residents of its leading industry
    first = APPLICATION.residents[0]
    added = tuple(
        attrs.evolve(first, name=f"新入驻企业{i}")
        for i in range(residents - len(APPLICATION.residents))
    )
    latest = attrs.evolve(
        APPLICATION.yearly[-1],
        resident_enterprises=residents,
        resident_small_micro_enterprises=residents,
    )
    reported = attrs.evolve(
        APPLICATION,
        yearly=(*APPLICATION.yearly[:-1], latest),
        residents=(*APPLICATION.residents, *added),
    )
    walk_to(h, State.DECLARED, application=reported)
    rec = Recommendation("同意推荐", True, SpotCheck(residents, sampled, sampled))
    if ok:
        assert _recommend(h, rec).case.state is State.DISTRICT_RECOMMENDED
    else:
        failures = refused(h, "c1", lambda: _recommend(h, rec))
        failure = only(failures, "spot_check.sample_size")
        assert failure.article.zh == "第十条"
        assert str(sampled + 1) in failure.message.en  # the minimum it needed


def test_satisfaction_in_the_spot_check_is_evidence_the_district_weighs() -> None:
    """第十条 asks for a spot check of at least 10% of residents; it sets no satisfaction
    threshold on the sample. 4 of 6 satisfied is recorded as evidence, beside the
    applicant's claimed rate, and the district decides (the Kunming policy does not block)."""
    h = harness()
    walk_to(h, State.DECLARED)
    rec = Recommendation("同意", True, SpotCheck(60, 6, 4))
    outcome = _recommend(h, rec)
    assert outcome.case.recommendation == rec
    assert outcome.events[0].payload["spot_check"]["satisfied"] == 4


def test_a_policy_may_make_the_sample_satisfaction_blocking() -> None:
    strict = load_policy(path=Path(__file__).parent / "policies" / "second_jurisdiction.toml")
    assert strict.spot_check.satisfaction_blocking
    findings = {
        f.rule: f.status for f in judge_spot_check(SpotCheck(60, 6, 4), strict, claimed_rate=0.9)
    }
    assert findings["spot_check.satisfaction_rate"] is Status.FAIL
    lenient = {f.rule: f.status for f in judge_spot_check(SpotCheck(60, 6, 4), load_policy())}
    assert lenient["spot_check.satisfaction_rate"] is Status.PASS


def test_recommend_needs_an_opinion_and_a_recommendation_at_all() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    blank = attrs.evolve(GOOD_RECOMMENDATION, opinion="  ")
    assert guards(refused(h, "c1", lambda: _recommend(h, blank))) == {"opinion"}
    assert guards(refused(h, "c1", lambda: _recommend(h, None))) == {"recommendation"}


def test_several_recommend_guards_fail_at_once() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    rec = Recommendation(" ", False, SpotCheck(60, 5, 1))
    failures = refused(h, "c1", lambda: _recommend(h, rec, OTHER_DISTRICT))
    assert spot(failures) == {
        "district",
        "opinion",
        "authenticity_checked",
        "spot_check.sample_size",
    }


def test_spot_check_guards_are_named_after_their_findings() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    rec = Recommendation("同意", True, SpotCheck(60, 5, 1))
    failures = refused(h, "c1", lambda: _recommend(h, rec))
    assert guards(failures) == {"spot_check.sample_size"}


# -- reasons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "trigger", "actor", "article"),
    [
        (State.DECLARED, Trigger.DECLINE, DISTRICT, "第十条"),
        (State.DISTRICT_RECOMMENDED, Trigger.FAIL_REVIEW, BUREAU, "第十一条"),
        (State.EXPERT_REVIEWED, Trigger.FAIL_INSPECTION, BUREAU, "第十二条"),
    ],
)
def test_negative_decisions_need_a_reason(
    state: State, trigger: Trigger, actor: Actor, article: str
) -> None:
    h = harness()
    walk_to(h, state)
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", trigger, actor, reason=" \n"))
    assert guards(failures) == {"reason"}
    assert failures[0].article.zh == article
    outcome = h.workflow.fire("c1", trigger, actor, reason="不符合条件")
    assert outcome.case.closing_reason == "不符合条件"
    assert outcome.case.state.is_final


# -- expert review (第十一条) --------------------------------------------------------------------


def test_pass_review_needs_an_expert_opinion() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    failures = refused(h, "c1", lambda: h.workflow.pass_review("c1", BUREAU))
    assert guards(failures) == {"expert_opinions"}
    assert failures[0].article.zh == "第十一条"
    h.workflow.record_expert_opinion("c1", EXPERT, 81, "同意")
    outcome = h.workflow.pass_review("c1", BUREAU)
    assert outcome.case.expert_opinions == (ExpertOpinion(EXPERT.id, 81, "同意"),)


def test_after_selection_a_case_not_selected_cannot_pass_review() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED, "best")
    walk_to(h, State.DISTRICT_RECOMMENDED, "second", application=other_base())
    walk_to(h, State.DISTRICT_RECOMMENDED, "silent", application=other_base("官渡创客园"))
    h.workflow.record_expert_opinion("best", EXPERT, 92, "优")
    h.workflow.record_expert_opinion("second", EXPERT, 75, "良")
    outcomes = h.workflow.select_round(2025, BUREAU, quota=2)
    ranks = {o.case.id: o.case.selection for o in outcomes}
    assert ranks["best"] is not None
    assert ranks["best"].selected
    assert ranks["best"].rank == 1
    assert ranks["second"] is not None
    assert ranks["second"].selected
    # a case without opinions ranks last and is never selected, even within the quota
    assert ranks["silent"] is not None
    assert not ranks["silent"].selected
    assert ranks["silent"].rank == 3

    h2 = harness()
    walk_to(h2, State.DISTRICT_RECOMMENDED, "best")
    walk_to(h2, State.DISTRICT_RECOMMENDED, "second", application=other_base())
    h2.workflow.record_expert_opinion("best", EXPERT, 92, "优")
    h2.workflow.record_expert_opinion("second", EXPERT, 75, "良")
    h2.workflow.select_round(2025, BUREAU, quota=1)
    failures = refused(h2, "second", lambda: h2.workflow.pass_review("second", BUREAU))
    assert guards(failures) == {"selection"}
    assert failures[0].article.zh == "第十一条"
    assert "2 of 2" in failures[0].message.en
    assert h2.workflow.pass_review("best", BUREAU).case.state is State.EXPERT_REVIEWED


# -- site inspection (第十二条) ------------------------------------------------------------------


def test_pass_inspection_needs_the_opinion() -> None:
    h = harness()
    walk_to(h, State.EXPERT_REVIEWED)
    failures = refused(h, "c1", lambda: h.workflow.pass_inspection("c1", BUREAU, " "))
    assert guards(failures) == {"inspection_opinion"}
    assert failures[0].article.zh == "第十二条"
    outcome = h.workflow.pass_inspection("c1", BUREAU, "属实")
    assert outcome.case.inspection_opinion == "属实"


# -- public notice and objections (第十三条) ----------------------------------------------------


def test_publicize_cannot_start_in_the_past() -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(PUBLISHED_ON)
    yesterday = PUBLISHED_ON - dt.timedelta(days=1)
    failures = refused(h, "c1", lambda: h.workflow.publicize("c1", BUREAU, yesterday))
    assert guards(failures) == {"notice_start"}
    assert failures[0].article.zh == "第十三条"


def test_the_notice_runs_ten_working_days_across_national_day() -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(PUBLISHED_ON)  # Friday 2025-09-26; 1–8 October are holidays
    notice = h.workflow.publicize("c1", BUREAU).case.notice
    assert notice is not None
    assert (notice.start, notice.due) == (PUBLISHED_ON, NOTICE_DUE)
    assert notice.article.zh == "第十三条"
    assert not notice.provisional
    calendar = default_calendar()
    assert calendar.count_working_days(PUBLISHED_ON - dt.timedelta(days=1), NOTICE_DUE) == 10


def test_a_notice_may_be_scheduled_to_start_later() -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 9, 22))
    notice = h.workflow.publicize("c1", BUREAU, PUBLISHED_ON).case.notice
    assert notice is not None
    assert (notice.start, notice.due) == (PUBLISHED_ON, NOTICE_DUE)


def test_an_objection_is_dated_the_day_it_is_raised_whatever_the_caller_says() -> None:
    """A command through ``fire`` (as the HTTP API and the console send it) carries the
    caller's ``raised_on``: the case records the day the objection was raised (第十三条's
    window is judged on it), as a correction records the day it was returned."""
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 9, 22))
    h.workflow.publicize("c1", BUREAU, PUBLISHED_ON)
    today = dt.date(2025, 10, 9)
    h.set(today)
    backdated = Objection(dt.date(2025, 9, 1), "匿名", "数据不实")
    outcome = h.workflow.fire("c1", Trigger.OBJECT, PUBLIC, payload=backdated)
    assert outcome.case.open_objection == Objection(today, "匿名", "数据不实")


def test_a_correction_may_leave_its_day_out_and_is_dated_the_day_it_is_returned() -> None:
    """``returned_on`` is the library's to set (the step dates the return, 第十条): a payload
    through ``fire`` (the HTTP API, the console) may leave it out, and a stored correction
    is written as before, its day included."""
    from kmbase_workflow.serialization import unstructure

    h = harness()
    walk_to(h, State.DECLARED)
    today = dt.date(2025, 7, 1)
    h.set(today)
    step = step_for(Trigger.RETURN_FOR_CORRECTION)
    payload = step.parse_payload(
        {"deficiencies": list(CORRECTION.deficiencies), "due": "2025-07-10"}
    )
    outcome = h.workflow.fire("c1", Trigger.RETURN_FOR_CORRECTION, DISTRICT, payload=payload)
    assert outcome.case.correction == attrs.evolve(CORRECTION, returned_on=today)
    assert unstructure(outcome.case.correction) == {
        "deficiencies": ["缺少上一年度财务审计报告"],
        "due": "2025-07-10",
        "returned_on": "2025-07-01",
    }


@pytest.mark.parametrize(
    ("day", "accepted"),
    [
        (PUBLISHED_ON - dt.timedelta(days=1), False),  # the day before the notice starts
        (PUBLISHED_ON, True),
        (dt.date(2025, 10, 3), True),  # a holiday inside the notice still counts
        (NOTICE_DUE, True),  # the last day
        (NOTICE_DUE + dt.timedelta(days=1), False),  # the day after
    ],
)
def test_objections_are_accepted_only_inside_the_notice(day: dt.date, accepted: bool) -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 9, 22))
    h.workflow.publicize("c1", BUREAU, PUBLISHED_ON)
    h.set(day)
    if accepted:
        outcome = h.workflow.raise_objection("c1", PUBLIC, "数据不实")
        assert outcome.case.state is State.OBJECTED
        assert outcome.case.open_objection == Objection(day, PUBLIC.id, "数据不实")
    else:
        failures = refused(h, "c1", lambda: h.workflow.raise_objection("c1", PUBLIC, "数据不实"))
        assert guards(failures) == {"inside_notice"}
        assert failures[0].article.zh == "第十三条"


def test_an_objection_needs_content() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    failures = refused(h, "c1", lambda: h.workflow.raise_objection("c1", PUBLIC, "  "))
    assert guards(failures) == {"objection"}


def test_a_verified_base_can_be_objected_to_again_inside_the_notice() -> None:
    h = harness()
    walk_to(h, State.VERIFIED)
    outcome = h.workflow.raise_objection("c1", PUBLIC, "另一处不实")
    assert outcome.case.state is State.OBJECTED
    assert len(outcome.case.objections) == 2


@pytest.mark.parametrize("sustained", [False, True])
def test_the_investigation_needs_its_conclusion(sustained: bool) -> None:
    h = harness()
    walk_to(h, State.OBJECTED)
    failures = refused(
        h, "c1", lambda: h.workflow.verify_objection("c1", BUREAU, " ", sustained=sustained)
    )
    assert guards(failures) == {"investigation"}
    assert failures[0].article.zh == "第十三条"
    case = h.workflow.verify_objection("c1", BUREAU, "核实结论", sustained=sustained).case
    assert case.state is (State.REJECTED if sustained else State.VERIFIED)
    assert case.open_objection is None
    assert case.objections[0].finding == "核实结论"
    assert case.objections[0].sustained is sustained


# -- certification (第十四条, 第十五条) ----------------------------------------------------------


def test_certify_waits_for_the_first_working_day_after_the_notice() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(NOTICE_DUE)
    failures = refused(h, "c1", lambda: h.workflow.certify("c1", BUREAU, DECISION))
    # the notice is not over, and a decision dated tomorrow cannot have been taken yet
    assert guards(failures) == {"notice_over", "collective_decision_date"}
    assert failures[0].article.zh == "第十四条"
    assert str(CERTIFIED_ON) in failures[0].message.en
    h.set(CERTIFIED_ON)
    assert h.workflow.certify("c1", BUREAU, DECISION).case.state is State.CERTIFIED


def test_a_notice_ending_before_a_weekend_certifies_from_monday() -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 11, 3))  # Monday; ten working days end Friday 14 November
    notice = h.workflow.publicize("c1", BUREAU).case.notice
    assert notice is not None
    assert notice.due == dt.date(2025, 11, 14)
    h.set(dt.date(2025, 11, 16))  # Sunday
    sunday = attrs.evolve(DECISION, decided_on=dt.date(2025, 11, 16))
    # the certification waits for the first working day; a decision taken on the Sunday,
    # after the notice ended, is lawful (第十四条 "公示期结束后", issue 21)
    assert guards(refused(h, "c1", lambda: h.workflow.certify("c1", BUREAU, sunday))) == {
        "notice_over"
    }
    h.set(dt.date(2025, 11, 17))
    assert h.workflow.certify("c1", BUREAU, sunday).case.certified_on == dt.date(2025, 11, 17)


def test_certify_needs_the_collective_decision_and_lists_every_failure() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(NOTICE_DUE)
    blank = CollectiveDecision(" ", NOTICE_DUE)
    failures = refused(h, "c1", lambda: h.workflow.certify("c1", BUREAU, blank))
    assert guards(failures) == {"notice_over", "collective_decision"}
    h.set(CERTIFIED_ON)
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", Trigger.CERTIFY, BUREAU))
    assert guards(failures) == {"collective_decision"}


def test_certify_is_refused_while_an_objection_is_open() -> None:
    # Through the service an open objection puts the case in OBJECTED (a 'state' refusal);
    # the guard itself is checked on a case that carries one anyway.
    h = harness()
    walk_to(h, State.DECLARED, "c2", application=other_base())
    case = walk_to(h, State.PUBLICIZED)
    objected = attrs.evolve(case, objections=(Objection(dt.date(2025, 10, 9), "甲", "不实"),))
    ctx = GuardContext(
        case=objected,
        trigger=Trigger.CERTIFY,
        actor=BUREAU,
        today=CERTIFIED_ON,
        policy=load_policy(),
        calendar=default_calendar(),
        allow_provisional=False,
        payload=DECISION,
    )
    assert [(f.guard, f.article.zh) for f in check_guards(ctx)] == [("open_objection", "第十四条")]
    for action in ("recommend", "pass_review", "pass_inspection", "publicize", "object"):
        step_case(h, "c2", action, other_base())
    assert h.workflow.case("c2").state is State.OBJECTED
    h.set(CERTIFIED_ON)
    failures = refused(h, "c2", lambda: h.workflow.certify("c2", BUREAU, DECISION))
    assert guards(failures) == {"state"}


def test_certify_records_the_decision_and_three_years_of_validity() -> None:
    h = harness()
    case = walk_to(h, State.CERTIFIED)
    assert case.decision == DECISION
    assert case.certified_on == CERTIFIED_ON
    assert case.validity is not None
    assert (case.validity.start, case.validity.due) == (CERTIFIED_ON, VALID_UNTIL)
    assert case.validity.article.zh == "第十五条"
    assert load_policy().periods.validity.years == 3


def test_expire_only_after_validity_and_only_by_the_system() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(VALID_UNTIL)
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", Trigger.EXPIRE, SYSTEM))
    assert guards(failures) == {"validity_over"}
    assert failures[0].article.zh == "第十五条"
    h.set(VALID_UNTIL + dt.timedelta(days=1))
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", Trigger.EXPIRE, BUREAU))
    assert guards(failures) == {"role"}
    assert h.workflow.fire("c1", Trigger.EXPIRE, SYSTEM).case.state is State.EXPIRED


# -- revocation (第十五条, 第十八条) -------------------------------------------------------------


def test_revoke_needs_the_grounds() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(VIOLATION.decided_on)
    blank = attrs.evolve(VIOLATION, details=" ")
    failures = refused(h, "c1", lambda: h.workflow.revoke("c1", BUREAU, blank))
    assert guards(failures) == {"revocation"}
    assert failures[0].article.zh == "第十五条、第十八条"
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", Trigger.REVOKE, BUREAU))
    assert guards(failures) == {"revocation"}
    outcome = h.workflow.revoke("c1", BUREAU, VIOLATION)
    assert outcome.case.revocation == VIOLATION
    assert outcome.entry.reason == VIOLATION.details


def test_revoking_for_a_failed_evaluation_needs_one_recorded() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 5, 6))
    ground = Revocation(RevocationGround.FAILED_EVALUATION, dt.date(2026, 5, 6), "测评不合格")
    failures = refused(h, "c1", lambda: h.workflow.revoke("c1", BUREAU, ground))
    assert guards(failures) == {"failed_evaluation"}
    assert failures[0].article.zh == "第十八条"
    h.workflow.record_evaluation("c1", BUREAU, passed=True, evaluator="第三方机构")
    assert guards(refused(h, "c1", lambda: h.workflow.revoke("c1", BUREAU, ground))) == {
        "failed_evaluation"
    }
    outcome = h.workflow.record_evaluation("c1", EXPERT, passed=False, evaluator="专家组")
    # 第十八条: a failed evaluation starts the withdrawal of the title at once
    assert outcome.case.state is State.REVOCATION_PENDING
    assert [e.type for e in outcome.events] == ["evaluation_failed"]
    assert h.workflow.revoke("c1", BUREAU, ground).case.state is State.REVOKED


# -- withdrawal -----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", OPEN_STATES, ids=lambda s: s.value)
def test_the_operator_may_withdraw_from_every_open_state(state: State) -> None:
    h = harness()
    walk_to(h, state)
    for actor in (OTHER_OPERATOR, BUREAU, DISTRICT, PUBLIC, SYSTEM):
        failures = refused(h, "c1", lambda actor=actor: h.workflow.withdraw("c1", actor, "撤回"))
        assert guards(failures) == {"operator" if actor is OTHER_OPERATOR else "role"}
    outcome = h.workflow.withdraw("c1", OPERATOR, "主动撤回")
    assert outcome.case.state is State.WITHDRAWN
    assert outcome.case.closing_reason == "主动撤回"


@pytest.mark.parametrize("state", [s for s in State if not s.is_open], ids=lambda s: s.value)
def test_nothing_closed_or_certified_can_be_withdrawn(state: State) -> None:
    h = harness()
    walk_to(h, state)
    assert guards(refused(h, "c1", lambda: h.workflow.withdraw("c1", OPERATOR))) == {"state"}


# -- wrong states ------------------------------------------------------------------------------------

_VALID_CALL: dict[Trigger, dict[str, object]] = {
    Trigger.RETURN_FOR_CORRECTION: {"payload": CORRECTION},
    Trigger.RESUBMIT: {"payload": APPLICATION},
    Trigger.CONCLUDE_LAPSED_CORRECTION: {},
    Trigger.RECOMMEND: {"payload": GOOD_RECOMMENDATION},
    Trigger.DECLINE: {"reason": "理由"},
    Trigger.PASS_REVIEW: {},
    Trigger.FAIL_REVIEW: {"reason": "理由"},
    Trigger.PASS_INSPECTION: {"payload": "属实"},
    Trigger.FAIL_INSPECTION: {"reason": "理由"},
    Trigger.PUBLICIZE: {},
    Trigger.ANNOUNCE_NOTICE: {"payload": NoticeAnnouncement(starts_on=PUBLISHED_ON)},
    Trigger.START_NOTICE: {},
    Trigger.OBJECT: {"payload": Objection(dt.date(2025, 10, 9), "甲", "不实")},
    Trigger.VERIFY: {"reason": "核实"},
    Trigger.SUSTAIN_OBJECTION: {"reason": "核实"},
    Trigger.CERTIFY: {"payload": DECISION},
    Trigger.EXPIRE: {"reason": "期满"},
    Trigger.FAIL_EVALUATION: {"payload": FAILED_EVALUATION},
    Trigger.REVOKE: {"payload": VIOLATION, "reason": VIOLATION.details},
    Trigger.WITHDRAW: {"reason": "撤回"},
}
"""A call that meets every guard but role and state (given the day :func:`_day_for` sets)."""

_RIGHT_ACTOR: dict[Trigger, Actor] = {
    Trigger.RETURN_FOR_CORRECTION: DISTRICT,
    Trigger.RESUBMIT: OPERATOR,
    Trigger.CONCLUDE_LAPSED_CORRECTION: DISTRICT,
    Trigger.RECOMMEND: DISTRICT,
    Trigger.DECLINE: DISTRICT,
    Trigger.OBJECT: PUBLIC,
    Trigger.EXPIRE: SYSTEM,
    Trigger.WITHDRAW: OPERATOR,
}


def _day_for(trigger: Trigger) -> dt.date | None:
    return {
        Trigger.OBJECT: dt.date(2025, 10, 9),
        Trigger.CERTIFY: CERTIFIED_ON,
        Trigger.EXPIRE: VALID_UNTIL + dt.timedelta(days=1),
        Trigger.START_NOTICE: PUBLISHED_ON,
        Trigger.FAIL_EVALUATION: EVALUATED_ON,
        Trigger.REVOKE: VIOLATION.decided_on,
        Trigger.ANNOUNCE_NOTICE: ANNOUNCED_ON,
        Trigger.CONCLUDE_LAPSED_CORRECTION: CORRECTION.due + dt.timedelta(days=1),
    }.get(trigger)


def _prepare(h: Harness, trigger: Trigger) -> None:
    """What must be on record before a trigger can pass every guard but role and state."""
    if trigger is Trigger.PASS_REVIEW:
        h.workflow.record_expert_opinion("c1", EXPERT, 80, "同意")


_WRONG_STATE = [
    (step.trigger, state)
    for step in STEPS
    if step.trigger is not Trigger.DECLARE
    for state in State
    if state not in step.sources
]


@pytest.mark.parametrize(
    ("trigger", "state"), _WRONG_STATE, ids=[f"{t.value}-{s.value}" for t, s in _WRONG_STATE]
)
def test_a_trigger_from_a_wrong_state_is_refused_with_a_state_failure(
    trigger: Trigger, state: State
) -> None:
    h = harness()
    walk_to(h, state)
    day = _day_for(trigger)
    if day is not None and day > h.workflow.today():
        h.set(day)
    actor = _RIGHT_ACTOR.get(trigger, BUREAU)
    call = _VALID_CALL[trigger]
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", trigger, actor, **call))  # type: ignore[arg-type]
    assert [(f.guard, f.article) for f in failures] == [("state", step_for(trigger).article)]
    assert state.label.en in failures[0].message.en


def test_declare_cannot_be_fired_on_an_existing_case() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    with pytest.raises(InvalidInputError):
        h.workflow.fire("c1", Trigger.DECLARE, OPERATOR)
    assert h.workflow.case("c1").version == 1


def test_the_state_table_is_the_one_of_the_measures() -> None:
    """A hand-written copy of the table, so an accidental edit of STEPS shows."""
    d, r, n = State.DECLARED, State.DISTRICT_RECOMMENDED, State.NOT_RECOMMENDED
    e, s, x = State.EXPERT_REVIEWED, State.SITE_INSPECTED, State.REJECTED
    p, o, v, c = State.PUBLICIZED, State.OBJECTED, State.VERIFIED, State.CERTIFIED
    b, a, k = State.RETURNED_FOR_CORRECTION, State.NOTICE_ANNOUNCED, State.REVOCATION_PENDING
    expected = {
        Trigger.DECLARE: ({None}, d),
        Trigger.RETURN_FOR_CORRECTION: ({d}, b),
        Trigger.RESUBMIT: ({b}, d),
        Trigger.CONCLUDE_LAPSED_CORRECTION: ({b}, n),
        Trigger.ANNOUNCE_NOTICE: ({s}, a),
        Trigger.START_NOTICE: ({a}, p),
        Trigger.FAIL_EVALUATION: ({c}, k),
        Trigger.RECOMMEND: ({d}, r),
        Trigger.DECLINE: ({d}, n),
        Trigger.PASS_REVIEW: ({r}, e),
        Trigger.FAIL_REVIEW: ({r}, x),
        Trigger.PASS_INSPECTION: ({e}, s),
        Trigger.FAIL_INSPECTION: ({e}, x),
        Trigger.PUBLICIZE: ({s}, p),
        Trigger.OBJECT: ({a, p, v}, o),
        Trigger.VERIFY: ({o}, v),
        Trigger.SUSTAIN_OBJECTION: ({o}, x),
        Trigger.CERTIFY: ({p, v}, c),
        Trigger.EXPIRE: ({c, k}, State.EXPIRED),
        Trigger.REVOKE: ({c, k}, State.REVOKED),
        Trigger.WITHDRAW: ({d, b, r, e, s, a, p, o, v}, State.WITHDRAWN),
    }
    assert {step.trigger: (set(step.sources), step.destination) for step in STEPS} == expected


# -- roles and districts --------------------------------------------------------------------------

_FIRST_SOURCE: dict[Trigger, State] = {
    step.trigger: step.sources[0] for step in STEPS if step.trigger is not Trigger.DECLARE
}


def _expected_allowed(step: Step, label: str) -> bool:
    """From the table: the role must be listed; an act reserved to district authorities is
    for the base's own district; an act reserved to operators is for the base's operator.
    Acts open to anyone (objecting) carry no such restriction."""
    actor = ACTORS[label]
    if actor.role not in step.roles:
        return False
    if step.roles == frozenset({Role.DISTRICT_AUTHORITY}):
        return actor.district == HOME
    if step.roles == frozenset({Role.OPERATOR}):
        return actor.id == OPERATOR.id
    return True


_MATRIX = [
    pytest.param(
        step,
        label,
        id=f"{step.trigger.value}-{label}",
    )
    for step in STEPS
    for label in ACTORS
]


@pytest.mark.parametrize(("step", "label"), _MATRIX)
def test_who_may_fire_each_trigger_follows_the_table(step: Step, label: str) -> None:
    h = harness()
    actor = ACTORS[label]
    allowed = _expected_allowed(step, label)
    if step.trigger is Trigger.DECLARE:
        call: Callable[[], Outcome] = lambda: h.workflow.declare(APPLICATION, actor, case_id="c1")  # noqa: E731
        case_id = None
    else:
        walk_to(h, _FIRST_SOURCE[step.trigger])
        day = _day_for(step.trigger)
        if day is not None:
            h.set(day)
        _prepare(h, step.trigger)
        kwargs = _VALID_CALL[step.trigger]
        call = lambda: h.workflow.fire("c1", step.trigger, actor, **kwargs)  # type: ignore[arg-type]  # noqa: E731
        case_id = "c1"
    if allowed:
        outcome = call()
        assert outcome.case.state is step.destination
        assert outcome.entry.actor == actor
    else:
        failures = refused(h, case_id, call)
        assert len(failures) == 1, failures
        expected_guard = (
            "role"
            if actor.role not in step.roles
            else "district"
            if actor.role is Role.DISTRICT_AUTHORITY
            else "operator"
        )
        assert failures[0].guard == expected_guard
        assert failures[0].article.zh.startswith("第")


@pytest.mark.parametrize(
    ("trigger", "actor", "allowed"),
    [
        (Trigger.CERTIFY, DISTRICT, False),  # a district authority cannot certify
        (Trigger.CERTIFY, BUREAU, True),
        (Trigger.OBJECT, PUBLIC, True),  # the public can object
        (Trigger.OBJECT, EXPERT, True),
        (Trigger.OBJECT, SYSTEM, False),
        (Trigger.RECOMMEND, OPERATOR, False),  # an operator cannot recommend itself
        (Trigger.RECOMMEND, BUREAU, False),  # nor can the city bureau skip the district
        (Trigger.RECOMMEND, OTHER_DISTRICT, False),
        (Trigger.WITHDRAW, OTHER_OPERATOR, False),  # only the base's own operator withdraws
        (Trigger.EXPIRE, BUREAU, False),
        (Trigger.REVOKE, DISTRICT, False),
        (Trigger.PUBLICIZE, EXPERT, False),
        (Trigger.PASS_REVIEW, EXPERT, False),  # experts advise; the bureau decides
    ],
    ids=lambda v: v.value if isinstance(v, Trigger) else getattr(v, "name", str(v)),
)
def test_hand_written_role_expectations(trigger: Trigger, actor: Actor, allowed: bool) -> None:
    step = step_for(trigger)
    in_table = actor.role in step.roles and (
        actor.role is not Role.DISTRICT_AUTHORITY or actor.district == HOME
    )
    if step.roles == frozenset({Role.OPERATOR}):
        in_table = in_table and actor.id == OPERATOR.id
    assert in_table is allowed
    h = harness()
    walk_to(h, _FIRST_SOURCE[trigger])
    day = _day_for(trigger)
    if day is not None:
        h.set(day)
    _prepare(h, trigger)
    kwargs = _VALID_CALL[trigger]
    if allowed:
        assert h.workflow.fire("c1", trigger, actor, **kwargs).case.state is step.destination  # type: ignore[arg-type]
    else:
        refused(h, "c1", lambda: h.workflow.fire("c1", trigger, actor, **kwargs))  # type: ignore[arg-type]


def test_a_district_authority_must_name_its_district() -> None:
    from kmbase_workflow.errors import FieldValueError

    with pytest.raises(FieldValueError):
        Actor(Role.DISTRICT_AUTHORITY, "某区")
    assert AWAY != HOME


# -- each rule once -----------------------------------------------------------------------


def test_the_states_that_hold_a_title_are_said_once() -> None:
    """Reports, filings and expiry concern the states of `State.holds_title`; the steps and
    the queue rules read them from there."""
    from kmbase_workflow.lifecycle import TITLE_HELD
    from kmbase_workflow.queues import QUEUE_RULES

    assert TITLE_HELD == (State.CERTIFIED, State.REVOCATION_PENDING)
    assert [state for state in State if state.holds_title] == list(TITLE_HELD)
    for trigger in (Trigger.EXPIRE, Trigger.ANNUAL_REPORT, Trigger.CHANGE_FILING):
        assert step_for(trigger).sources == TITLE_HELD
    assert {rule.kind.value for rule in QUEUE_RULES if rule.states == TITLE_HELD} == {
        "annual_report",
        "change_filing",
    }


def test_the_states_that_await_certification_are_said_once() -> None:
    """第十四条 certifies a base whose notice had no objection or whose objection was found
    groundless: `State.awaits_certification`; certify, its queue, the end of the notice the
    sweep announces and the store's due cases read it from there."""
    from kmbase_workflow.lifecycle import AWAITING_CERTIFICATION
    from kmbase_workflow.queues import QUEUE_RULES

    assert AWAITING_CERTIFICATION == (State.PUBLICIZED, State.VERIFIED)
    assert [state for state in State if state.awaits_certification] == list(AWAITING_CERTIFICATION)
    assert step_for(Trigger.CERTIFY).sources == AWAITING_CERTIFICATION
    assert [rule.kind.value for rule in QUEUE_RULES if rule.states == AWAITING_CERTIFICATION] == [
        "certification"
    ]


@pytest.mark.parametrize("days_ahead", [0, 3])
def test_the_notice_trigger_the_workflow_picks_is_the_one_the_guard_lets_through(
    days_ahead: int,
) -> None:
    """`Trigger.of_notice` decides between publicize and announce_notice; the guard of both
    and `Workflow.publicize` ask it, so they cannot disagree (第十三条)."""
    starts_on = PUBLISHED_ON + dt.timedelta(days=days_ahead)
    chosen = Trigger.of_notice(starts_on, PUBLISHED_ON)
    other = Trigger.ANNOUNCE_NOTICE if chosen is Trigger.PUBLICIZE else Trigger.PUBLICIZE
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(PUBLISHED_ON)
    payload = step_for(other).parse_payload(starts_on.isoformat())
    failures = refused(h, "c1", lambda: h.workflow.fire("c1", other, BUREAU, payload=payload))
    assert guards(failures) == {"notice_start"}
    outcome = h.workflow.publicize("c1", BUREAU, starts_on)
    assert h.workflow.history("c1")[-1].action == chosen.value
    assert outcome.case.notice is not None
    assert outcome.case.notice.start == starts_on


@pytest.mark.parametrize("trigger", [Trigger.ANNOUNCE_NOTICE, Trigger.PUBLICIZE])
def test_a_notice_payload_may_be_its_first_day_alone(trigger: Trigger) -> None:
    step = step_for(trigger)
    assert step.shorthand is not None
    assert step.parse_payload("2025-09-29") == NoticeAnnouncement(starts_on=dt.date(2025, 9, 29))


def test_a_trigger_declared_twice_is_a_programming_error() -> None:
    from kmbase_workflow.lifecycle._model import declare

    with pytest.raises(ValueError, match="declared twice"):
        declare(step_for(Trigger.CERTIFY))
