"""The regulation's steps read more exactly (issue 10) and honest time (issue 12): each rule at
its boundary, one side and the other, with the article the refusal cites."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.case import (
    ChangeKind,
    CollectiveDecision,
    State,
)
from kmbase_workflow.errors import TransitionRefusedError
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    CORRECTION,
    DECISION,
    DISTRICT,
    EXPERT,
    GOOD_RECOMMENDATION,
    OPERATOR,
    PUBLIC,
    PUBLISHED_ON,
    ROUND_CLOSES,
    SYSTEM,
    VIOLATION,
    Harness,
    harness,
    other_base,
    walk_to,
)


def refused(call: object) -> dict[str, str]:
    """The failed guards of a refused call, by name, with the article each cites."""
    assert callable(call)
    with pytest.raises(TransitionRefusedError) as info:
        call()
    return {f.guard: f.article.zh for f in info.value.failures}


def inspected(h: Harness | None = None) -> Harness:
    h = h or harness()
    walk_to(h, State.SITE_INSPECTED)
    return h


# -- 第十三条: the notice as announced ------------------------------------------------------------


@pytest.mark.parametrize(("days", "accepted"), [(9, False), (10, True), (15, True)])
def test_the_announced_notice_is_at_least_the_minimum(days: int, accepted: bool) -> None:
    h = inspected()
    h.set(PUBLISHED_ON)  # Friday 2025-09-26; National Day follows
    call = lambda: h.workflow.publicize("c1", BUREAU, working_days=days)  # noqa: E731
    if not accepted:
        assert refused(call) == {"notice_length": "第十三条"}
        return
    notice = call().case.notice
    assert notice is not None
    expected = h.workflow.calendar.add_working_days(PUBLISHED_ON, days - 1)
    assert notice.due == expected  # the day the notice is up counts as day 1


def test_a_notice_announced_to_an_end_date() -> None:
    h = inspected()
    h.set(PUBLISHED_ON)
    # 2025-10-15 is the 10th working day from 2025-09-26, 10-14 only the 9th
    assert refused(lambda: h.workflow.publicize("c1", BUREAU, ends_on=dt.date(2025, 10, 14))) == {
        "notice_length": "第十三条"
    }
    longer = h.workflow.publicize("c1", BUREAU, ends_on=dt.date(2025, 10, 20)).case.notice
    assert longer is not None
    assert longer.due == dt.date(2025, 10, 20)


def test_a_longer_notice_takes_objections_and_delays_certification_to_its_end() -> None:
    h = inspected()
    h.set(PUBLISHED_ON)
    h.workflow.publicize("c1", BUREAU, ends_on=dt.date(2025, 10, 20))
    h.set(dt.date(2025, 10, 17))  # after the minimum's end, inside the announced notice
    h.workflow.raise_objection("c1", PUBLIC, "入驻企业数不实")
    h.workflow.verify_objection("c1", BUREAU, "经核实无问题", sustained=False)
    decision = CollectiveDecision("纪要〔2025〕13号", dt.date(2025, 10, 20))
    h.set(dt.date(2025, 10, 20))
    assert "notice_over" in refused(lambda: h.workflow.certify("c1", BUREAU, decision))
    h.set(dt.date(2025, 10, 21))
    decision = attrs.evolve(decision, decided_on=dt.date(2025, 10, 21))
    assert h.workflow.certify("c1", BUREAU, decision).case.state is State.CERTIFIED


def test_a_notice_starting_later_is_announced_and_starts_on_its_day() -> None:
    h = inspected()
    h.set(dt.date(2025, 9, 22))
    outcome = h.workflow.publicize("c1", BUREAU, PUBLISHED_ON)
    assert outcome.case.state is State.NOTICE_ANNOUNCED
    assert [e.type for e in outcome.events] == ["notice_announced"]
    h.set(dt.date(2025, 9, 25))  # not yet under notice: no objection, nothing to start
    assert refused(lambda: h.workflow.raise_objection("c1", PUBLIC, "不实")) == {
        "inside_notice": "第十三条"
    }
    assert h.workflow.sweep().started == ()
    h.set(PUBLISHED_ON)
    report = h.workflow.sweep()
    assert report.started == ("c1",)
    assert h.workflow.case("c1").state is State.PUBLICIZED
    assert [e.type for e in report.events] == ["publicized"]
    assert h.workflow.sweep().started == ()  # once


def test_start_notice_is_refused_before_the_first_day() -> None:
    h = inspected()
    h.set(dt.date(2025, 9, 22))
    h.workflow.publicize("c1", BUREAU, PUBLISHED_ON)
    assert refused(lambda: h.workflow.fire("c1", "start_notice", SYSTEM)) == {
        "notice_start": "第十三条"
    }


# -- 第十条: the return for correction (退回补正) -------------------------------------------------


def test_the_district_returns_and_the_operator_resubmits() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    returned = h.workflow.return_for_correction(
        "c1", DISTRICT, CORRECTION.deficiencies, CORRECTION.due
    )
    assert returned.case.state is State.RETURNED_FOR_CORRECTION
    assert returned.case.correction is not None
    assert returned.case.correction.deficiencies == CORRECTION.deficiencies
    first_material = next(iter(APPLICATION.materials))
    amended = attrs.evolve(
        APPLICATION, materials={**APPLICATION.materials, first_material: "补正后的材料"}
    )
    h.set(dt.date(2025, 7, 1))
    again = h.workflow.resubmit("c1", OPERATOR, amended)
    assert again.case.state is State.DECLARED
    assert again.case.application == amended
    assert again.case.correction is None
    history = h.workflow.history("c1")
    # the history keeps both versions of the application
    assert history[0].payload["base"]["name"] == APPLICATION.base.name
    assert history[-1].payload["materials"][first_material] == "补正后的材料"
    assert history[0].payload["materials"][first_material] == APPLICATION.materials[first_material]
    assert h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION).case.state is (
        State.DISTRICT_RECOMMENDED
    )


def test_a_correction_deadline_lies_inside_the_round() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    late = ROUND_CLOSES + dt.timedelta(days=1)
    assert refused(lambda: h.workflow.return_for_correction("c1", DISTRICT, ["缺材料"], late)) == {
        "correction_within_round": "第九条"
    }
    assert refused(
        lambda: h.workflow.return_for_correction("c1", DISTRICT, [" "], ROUND_CLOSES)
    ) == {"deficiencies": "第十条"}
    h.workflow.return_for_correction("c1", DISTRICT, ["缺材料"], ROUND_CLOSES)


def test_a_resubmission_after_the_deadline_or_of_another_base_is_refused() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    h.workflow.return_for_correction("c1", DISTRICT, ["缺材料"], dt.date(2025, 7, 1))
    h.set(dt.date(2025, 7, 2))
    assert refused(lambda: h.workflow.resubmit("c1", OPERATOR, APPLICATION)) == {
        "correction_due": "第十条"
    }
    h2 = harness()
    walk_to(h2, State.DECLARED)
    h2.workflow.return_for_correction("c1", DISTRICT, ["缺材料"], dt.date(2025, 7, 1))
    elsewhere = attrs.evolve(APPLICATION, base=attrs.evolve(APPLICATION.base, district="呈贡区"))
    assert refused(lambda: h2.workflow.resubmit("c1", OPERATOR, elsewhere)) == {
        "same_base": "第十条"
    }


# -- 第十九条: the operator is its credit code, carried through a change ---------------------------


def test_a_renamed_operator_still_acts_by_its_credit_code() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    renamed = Actor(Role.OPERATOR, OPERATOR.id, name=APPLICATION.operator.name + " ")
    assert h.workflow.withdraw("c1", renamed, "主动撤回").case.state is State.WITHDRAWN


def test_a_filed_change_of_operator_hands_the_case_to_the_new_operator() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 2, 10))
    successor = attrs.evolve(
        APPLICATION.operator, name="昆明春城数字产业运营有限公司", legal_representative="李四"
    )
    successor = attrs.evolve(successor, unified_social_credit_code=other_code())
    outcome = h.workflow.file_change(
        "c1", OPERATOR, "运营主体变更", dt.date(2026, 2, 9), kind=ChangeKind.OPERATOR,
        operator=successor,
    )  # fmt: skip
    assert outcome.case.operator == successor
    assert outcome.events[0].payload["operator"] == successor.unified_social_credit_code
    assert h.workflow.history("c1")[-1].payload["operator"]["name"] == successor.name
    # from now on the new operator acts, the old one does not
    assert refused(lambda: h.workflow.file_annual_report("c1", OPERATOR, 2026)) == {
        "operator": "第九条、第十九条"
    }
    new = Actor.for_operator(successor)
    assert h.workflow.file_annual_report("c1", new, 2026).case.annual_reports


def test_a_change_of_operator_must_give_the_new_operator() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 2, 10))
    assert refused(
        lambda: h.workflow.file_change(
            "c1", OPERATOR, "运营主体变更", dt.date(2026, 2, 9), kind=ChangeKind.OPERATOR
        )
    ) == {"new_operator": "第十九条"}
    renamed = h.workflow.file_change(
        "c1", OPERATOR, "更名", dt.date(2026, 2, 9), kind=ChangeKind.NAME, base_name="春城数创园"
    )
    assert renamed.case.base_name == "春城数创园"


def other_code() -> str:
    """A valid unified social credit code other than the example's (GB 32100-2015)."""
    from kmbase_workflow._credit_code import credit_code_check_character

    body = "91530102MA6K5YQ2X"
    return body + credit_code_check_character(body)


# -- 第二十条 and honest time --------------------------------------------------------------------


def test_nothing_is_done_on_a_day_before_the_cases_latest_step() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    h.set(dt.date(2025, 6, 19))  # the case was recommended on 2025-06-20
    assert refused(lambda: h.workflow.record_expert_opinion("c1", EXPERT, 80, "意见")) == {
        "time_order": "第二十条"
    }
    h.set(dt.date(2025, 6, 20))  # the same day is fine
    h.workflow.record_expert_opinion("c1", EXPERT, 80, "意见")


def test_a_decision_may_not_be_dated_in_the_future_nor_before_its_step() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(DECISION.decided_on)
    future = attrs.evolve(DECISION, decided_on=DECISION.decided_on + dt.timedelta(days=1))
    assert refused(lambda: h.workflow.certify("c1", BUREAU, future)) == {
        "collective_decision_date": "第十四条"
    }
    backdated = attrs.evolve(DECISION, decided_on=dt.date(2024, 1, 1))
    assert refused(lambda: h.workflow.certify("c1", BUREAU, backdated)) == {
        "collective_decision_date": "第十四条"
    }
    h.workflow.certify("c1", BUREAU, DECISION)
    # a revocation dated before the certification
    h.set(VIOLATION.decided_on)
    early = attrs.evolve(VIOLATION, decided_on=dt.date(2025, 7, 1))
    assert refused(lambda: h.workflow.revoke("c1", BUREAU, early)) == {
        "revocation_date": "第十五条、第十八条"
    }
    assert h.workflow.revoke("c1", BUREAU, VIOLATION).case.state is State.REVOKED


def test_rounds_may_not_overlap() -> None:
    h = harness()  # the 2025 round: 2025-06-01 … 2025-07-31
    with pytest.raises(TransitionRefusedError, match="overlaps round 2025"):
        h.workflow.open_round(2026, dt.date(2025, 7, 31), dt.date(2026, 1, 31), BUREAU)
    with pytest.raises(TransitionRefusedError, match="must open in 2026"):
        h.workflow.open_round(2026, dt.date(2025, 12, 1), dt.date(2026, 1, 31), BUREAU)
    opened = h.workflow.open_round(2026, dt.date(2026, 1, 2), dt.date(2026, 3, 31), BUREAU)
    assert opened.year == 2026


# -- 第十一条: opinions, scores, selection ----------------------------------------------------------


@pytest.mark.parametrize("score", [150.0, -5.0, float("nan"), float("inf")])
def test_scores_outside_the_scale_are_refused(score: float) -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    assert refused(lambda: h.workflow.record_expert_opinion("c1", EXPERT, score, "意见")) == {
        "score": "第十一条"
    }


@pytest.mark.parametrize("score", [0.0, 100.0])
def test_scores_at_the_ends_of_the_scale_are_accepted(score: float) -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    assert h.workflow.record_expert_opinion("c1", EXPERT, score, "意见").case.expert_score == score


def test_one_opinion_per_expert() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    h.workflow.record_expert_opinion("c1", EXPERT, 80, "意见")
    assert refused(lambda: h.workflow.record_expert_opinion("c1", EXPERT, 99, "再评")) == {
        "one_opinion_per_expert": "第十一条"
    }
    assert refused(
        lambda: h.workflow.record_expert_opinion("c1", BUREAU, 99, "代录", expert=EXPERT.id)
    ) == {"one_opinion_per_expert": "第十一条"}


def test_an_opinion_after_the_selection_forces_a_new_one() -> None:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED, "a")
    walk_to(h, State.DISTRICT_RECOMMENDED, "b", application=other_base())
    h.workflow.record_expert_opinion("a", EXPERT, 90, "优")
    h.workflow.record_expert_opinion("b", EXPERT, 80, "良")
    first = h.workflow.select_round(2025, BUREAU, quota=1)
    assert {o.case.id: o.case.selection.decision for o in first} == {"a": 1, "b": 1}  # type: ignore[union-attr]
    # one transaction: the entries of the ranking are written together
    late = Actor(Role.EXPERT, "专家乙")
    h.workflow.record_expert_opinion("b", late, 100, "优")  # mean 90: a tie, more opinions win
    assert refused(lambda: h.workflow.pass_review("b", BUREAU)) == {"selection_stale": "第十一条"}
    second = h.workflow.select_round(2025, BUREAU, quota=1)
    ranks = {o.case.id: o.case.selection for o in second}
    b, a = ranks["b"], ranks["a"]
    assert b is not None
    assert a is not None
    assert (b.selected, b.decision, a.selected) == (True, 2, False)
    assert h.workflow.pass_review("b", BUREAU).case.state is State.EXPERT_REVIEWED
    # the superseded ranking stays in the history
    actions = [e.action for e in h.workflow.history("a")]
    assert actions.count("selection") == 2


# -- 第四条: districts are the policy's -----------------------------------------------------------


def test_a_base_or_an_official_naming_an_unknown_district_is_refused() -> None:
    h = harness()
    typo = attrs.evolve(APPLICATION, base=attrs.evolve(APPLICATION.base, district="五华 区"))
    failures = refused(lambda: h.workflow.declare(typo, OPERATOR, case_id="x"))
    assert failures == {"district_listed": "第四条、第九条"}
    walk_to(h, State.DECLARED)
    clerk = Actor(Role.DISTRICT_AUTHORITY, "wh-1", district="五华")
    assert "actor_district" in refused(
        lambda: h.workflow.recommend("c1", clerk, GOOD_RECOMMENDATION)
    )


def test_an_amended_application_is_kept_and_bound_on_every_store(tmp_path: object) -> None:
    """The amended application survives a reopen of an SQLite file, the chain binds it, and
    an edit of it is found."""
    import json
    import sqlite3
    from pathlib import Path

    from kmbase_workflow import Workflow
    from kmbase_workflow.clock import FixedClock
    from kmbase_workflow.stores import open_store

    assert isinstance(tmp_path, Path)
    db = tmp_path / "amended.db"
    clock = FixedClock(dt.date(2025, 6, 20))
    with Workflow(open_store(f"sqlite:///{db}"), clock=clock) as workflow:
        workflow.open_round(2025, dt.date(2025, 6, 1), ROUND_CLOSES, BUREAU)
        workflow.declare(APPLICATION, OPERATOR, case_id="c1")
        workflow.return_for_correction("c1", DISTRICT, ["补充审计报告"], dt.date(2025, 7, 1))
        first = next(iter(APPLICATION.materials))
        amended = attrs.evolve(APPLICATION, materials={**APPLICATION.materials, first: "补正版"})
        workflow.resubmit("c1", OPERATOR, amended)
    with Workflow(open_store(f"sqlite:///{db}"), clock=clock) as workflow:
        assert workflow.case("c1").application == amended
        assert workflow.verify_chain("c1").ok
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TRIGGER IF EXISTS cases_no_update")
        (data,) = connection.execute("SELECT data FROM cases WHERE id = 'c1'").fetchone()
        changed = json.loads(data)
        changed["application"]["materials"][first] = "偷改"
        connection.execute("UPDATE cases SET data = ? WHERE id = 'c1'", (json.dumps(changed),))
    with Workflow(open_store(f"sqlite:///{db}"), clock=clock) as workflow:
        assert not workflow.verify_chain("c1").ok


def test_back_dating_is_recorded_and_forward_dating_refused() -> None:
    """第二十条: entering last year's paper records is allowed, never silent: each entry
    records when it was really entered; a day that has not come is refused."""
    from kmbase_workflow import Workflow
    from kmbase_workflow.clock import FixedClock
    from kmbase_workflow.errors import InvalidInputError
    from kmbase_workflow.history import verify_history

    real = FixedClock(dt.datetime(2026, 11, 29, 15, 30))
    claimed = FixedClock(dt.date(2025, 6, 20))
    workflow = Workflow("memory://", clock=claimed, entry_clock=real)
    workflow.open_round(2025, dt.date(2025, 6, 1), ROUND_CLOSES, BUREAU)
    entry = workflow.declare(APPLICATION, OPERATOR, case_id="c1").entry
    assert entry.at.date() == dt.date(2025, 6, 20)  # the day it claims
    assert entry.entered_at == real.now()  # and when it was entered
    assert verify_history([attrs.evolve(entry, entered_at=None)]).ok is False  # under the hash
    same_day = Workflow("memory://", clock=real, entry_clock=real)
    same_day.open_round(2026, dt.date(2026, 11, 1), dt.date(2026, 12, 31), BUREAU)
    late = attrs.evolve(APPLICATION, declared_on=dt.date(2026, 11, 29))
    assert same_day.declare(late, OPERATOR).entry.entered_at is None  # nothing to record
    future = Workflow("memory://", clock=FixedClock(dt.date(2028, 10, 20)), entry_clock=real)
    with pytest.raises(InvalidInputError, match="has not come"):
        future.withdraw("c1", OPERATOR)


def test_the_review_needs_the_opinions_the_policy_asks_for() -> None:
    """第十一条 专家评审: the policy says how many opinions the review needs (Kunming: one)."""
    from kmbase_workflow import Workflow
    from kmbase_workflow.policy import load_policy

    panel = load_policy()
    panel = attrs.evolve(panel, expert_review=attrs.evolve(panel.expert_review, minimum_opinions=2))
    h = harness()
    h.workflow = Workflow(h.store, clock=h.clock, policies=[panel])
    walk_to(h, State.DISTRICT_RECOMMENDED)
    h.workflow.record_expert_opinion("c1", EXPERT, 80, "同意")
    assert refused(lambda: h.workflow.pass_review("c1", BUREAU)) == {"expert_opinions": "第十一条"}
    h.workflow.record_expert_opinion("c1", Actor(Role.EXPERT, "专家乙"), 84, "同意")
    assert h.workflow.pass_review("c1", BUREAU).case.state is State.EXPERT_REVIEWED


def test_a_title_awaiting_withdrawal_still_bars_an_early_reapplication() -> None:
    """第十五条: a base applies again only in the year its validity ends; a title whose
    withdrawal is pending (第十八条) is still held, so the same rule applies."""
    h = harness()
    walk_to(h, State.REVOCATION_PENDING)
    h.workflow.open_round(2026, dt.date(2026, 6, 1), dt.date(2026, 7, 31), BUREAU)
    h.set(dt.date(2026, 6, 10))
    assert refused(lambda: h.workflow.declare(APPLICATION, OPERATOR, case_id="again")) == {
        "reapplication_year": "第十五条"
    }
