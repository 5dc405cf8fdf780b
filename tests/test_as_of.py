"""History as data: a case and a round as they stood on a past day, rebuilt and checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmbase_workflow import Workflow
from kmbase_workflow.as_of import case_as_of, known_at, round_as_of
from kmbase_workflow.case import State
from kmbase_workflow.errors import CaseNotFoundError, InvalidInputError, KmbaseError
from kmbase_workflow.lifecycle import Trigger
from lifecycle_helpers import (
    BUREAU,
    CERTIFIED_ON,
    DECLARED_ON,
    DISTRICT,
    GOOD_RECOMMENDATION,
    HOME,
    Harness,
    harness,
    other_base,
    walk_to,
)

REACHABLE = [
    State.DECLARED,
    State.RETURNED_FOR_CORRECTION,
    State.NOT_RECOMMENDED,
    State.REJECTED,
    State.NOTICE_ANNOUNCED,
    State.VERIFIED,
    State.CERTIFIED,
    State.REVOCATION_PENDING,
    State.EXPIRED,
    State.REVOKED,
    State.WITHDRAWN,
]


@pytest.mark.parametrize("state", REACHABLE, ids=lambda s: s.value)
def test_a_rebuild_to_now_is_the_stored_case(state: State) -> None:
    h = harness()
    walk_to(h, state)
    now = case_as_of(h.workflow, "c1", dt.date(2100, 1, 1))
    assert now.ok, now.findings
    assert now.case == h.workflow.case("c1")
    assert len(now.entries) == len(h.workflow.history("c1"))


def test_a_case_stands_on_each_past_day_as_its_steps_left_it() -> None:
    h = harness()
    walk_to(h, State.VERIFIED)
    states = {
        day: case_as_of(h.workflow, "c1", day).case
        for day in (DECLARED_ON - dt.timedelta(days=1), DECLARED_ON, dt.date(2025, 9, 30))
    }
    assert states[DECLARED_ON - dt.timedelta(days=1)] is None
    declared = states[DECLARED_ON]
    assert declared is not None
    assert declared.state is State.SITE_INSPECTED  # every step up to inspection on that day
    publicized = states[dt.date(2025, 9, 30)]
    assert publicized is not None
    assert publicized.state is State.PUBLICIZED
    assert publicized.notice is not None
    assert publicized.objections == ()


def test_an_instant_cuts_between_steps_of_one_day() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    h.clock.advance(hours=3)
    walk_to_recommended = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION)
    first, second = h.workflow.history("c1")
    assert second.at > first.at
    assert walk_to_recommended.case.state is State.DISTRICT_RECOMMENDED
    for instant, state in ((first.at, State.DECLARED), (second.at, State.DISTRICT_RECOMMENDED)):
        past = case_as_of(h.workflow, "c1", instant)
        assert past.case is not None
        assert past.case.state is state
    with pytest.raises(InvalidInputError, match="time zone"):
        case_as_of(h.workflow, "c1", dt.datetime(2025, 6, 20, 12))


def test_a_stored_case_that_its_history_does_not_explain_is_a_finding() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    stored = h.store.get("c1")
    h.store._cases["c1"] = attrs.evolve(stored, certified_on=dt.date(2025, 1, 1))
    now = case_as_of(h.workflow, "c1", dt.date(2100, 1, 1))
    assert not now.ok
    [finding] = now.findings
    assert "differs from the stored case" in finding.en
    assert "不符" in finding.zh
    assert case_as_of(h.workflow, "c1", CERTIFIED_ON - dt.timedelta(days=1)).ok


def test_what_the_bureau_knew_when_it_certified() -> None:
    h = harness()
    walk_to(h, State.VERIFIED)
    h.set(CERTIFIED_ON)
    from lifecycle_helpers import DECISION

    h.workflow.certify("c1", BUREAU, DECISION)
    knowledge = known_at(h.workflow, "c1")
    assert knowledge.step.action == "certify"
    assert knowledge.step.payload["reference"] == DECISION.reference
    before = knowledge.before
    assert before.ok
    assert before.case is not None
    assert before.case.state is State.VERIFIED
    assert [o.sustained for o in before.case.objections] == [False]
    assert before.case.expert_opinions
    assert before.case.recommendation is not None
    assert [e.action for e in before.entries][-2:] == ["object", "verify"]
    assert knowledge.to_dict()["before"]["state"] == "verified"
    with pytest.raises(InvalidInputError, match="no step revoke"):
        known_at(h.workflow, "c1", "revoke")


def test_a_round_table_as_of_a_day() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED, "a", other_base("甲基地"))
    h.set(DECLARED_ON)
    walk_to(h, State.NOT_RECOMMENDED, "b", other_base("乙基地"))
    h.set(dt.date(2025, 7, 15))
    walk_to(h, State.DECLARED, "c", other_base("丙基地"))
    early = round_as_of(h.workflow, 2025, dt.date(2025, 7, 1))
    assert early.by_state() == {"site_inspected": 1, "not_recommended": 1}
    late = round_as_of(h.workflow, 2025, dt.date(2025, 10, 1), district=HOME)
    assert {r.case_id: r.state.value for r in late.rows} == {
        "a": "publicized",
        "b": "not_recommended",
        "c": "declared",
    }
    assert all(row.ok for row in late.rows)
    assert late.to_dict()["by_state"]["publicized"] == 1
    assert round_as_of(h.workflow, 2024, dt.date(2025, 10, 1)).rows == ()


def test_a_rebuild_holds_on_sqlite(tmp_path: Path) -> None:
    h = harness()
    h.workflow = Workflow(f"sqlite:///{tmp_path / 'a.db'}", clock=h.clock)
    h.workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    walk_to(h, State.REVOCATION_PENDING)
    now = case_as_of(h.workflow, "c1", dt.date(2100, 1, 1))
    assert now.ok, now.findings
    assert now.case == h.workflow.case("c1")
    h.workflow.close()


_FUZZ: Harness = harness()
walk_to(_FUZZ, State.PUBLICIZED)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    inputs=st.fixed_dictionaries(
        {
            "case_id": st.one_of(st.just("c1"), st.text(max_size=6)),
            "as_of": st.one_of(
                st.dates(),
                st.datetimes(),
                st.datetimes(timezones=st.just(pendulum.timezone("Asia/Shanghai"))),
                st.text(max_size=4),
                st.integers(),
                st.none(),
            ),
            "round_year": st.one_of(st.integers(), st.text(max_size=3), st.booleans()),
            "trigger": st.one_of(st.sampled_from([t.value for t in Trigger]), st.text(max_size=5)),
        }
    )
)
def test_any_input_gives_an_answer_or_a_library_error(inputs: dict[str, Any]) -> None:
    calls = (
        lambda: case_as_of(_FUZZ.workflow, inputs["case_id"], inputs["as_of"]),
        lambda: round_as_of(_FUZZ.workflow, inputs["round_year"], inputs["as_of"]),
        lambda: known_at(_FUZZ.workflow, inputs["case_id"], inputs["trigger"]),
    )
    for call in calls:
        try:
            call()
        except (KmbaseError, CaseNotFoundError) as error:
            error.describe("zh")
            error.describe("en")
