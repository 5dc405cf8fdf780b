"""What a host application relies on (issue 11): library errors for bad arguments, idempotency
keys bound to their command, one notice however many sweeps run, a closable Workflow."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from kmbase_workflow import Workflow
from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.case import State
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.errors import (
    ConcurrencyConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    KmbaseError,
)
from kmbase_workflow.lifecycle import Trigger
from kmbase_workflow.stores import open_store
from lifecycle_helpers import (
    BUREAU,
    DECISION,
    DISTRICT,
    GOOD_RECOMMENDATION,
    NOTICE_DUE,
    OPERATOR,
    harness,
    other_base,
    walk_to,
)


@pytest.mark.parametrize(
    ("kind", "value"),
    [(Trigger, "approve"), (Role, "bureau"), (State, "done")],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_an_unknown_name_is_a_library_error_listing_the_choices(kind: type, value: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        kind(value)
    error = info.value
    assert isinstance(error, KmbaseError)
    assert isinstance(error, ValueError)  # still what enum callers catch
    assert value in error.describe("zh")
    assert value in error.describe("en")
    first = next(iter(kind)).value
    assert first in error.describe("en")


def test_fire_with_an_unknown_trigger_is_a_library_error() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    with pytest.raises(InvalidInputError):
        h.workflow.fire("c1", "approve", BUREAU)


def test_a_dict_where_a_record_is_expected_is_a_programming_error_not_a_refusal() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(dt.date(2025, 10, 16))
    with pytest.raises(InvalidInputError, match="programming error") as info:
        h.workflow.fire(
            "c1", Trigger.CERTIFY, BUREAU, payload={"reference": "x", "decided_on": "2025-10-16"}
        )
    assert "CollectiveDecision" in info.value.describe("en")
    assert h.workflow.case("c1").state is State.PUBLICIZED


# -- idempotency keys ---------------------------------------------------------------------------


def test_a_key_replays_its_own_command() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    first = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k1")
    again = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k1")
    assert again.replayed
    assert again.entry == first.entry
    assert len(h.workflow.history("c1")) == first.case.version


def test_a_key_reused_for_another_case_or_trigger_is_a_conflict() -> None:
    h = harness()
    walk_to(h, State.DECLARED, "c1")
    walk_to(h, State.DECLARED, "c2", application=other_base())
    h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k1")
    before = h.snapshot("c2")
    with pytest.raises(IdempotencyKeyReusedError) as info:
        h.workflow.recommend("c2", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k1")
    assert isinstance(info.value, ConcurrencyConflictError)
    assert "k1" in info.value.describe("en")
    assert h.snapshot("c2") == before  # nothing written for the other case
    with pytest.raises(IdempotencyKeyReusedError):
        h.workflow.decline("c1", DISTRICT, "不推荐", idempotency_key="k1")


def test_a_key_reused_with_another_payload_is_a_conflict() -> None:
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 9, 26))
    h.workflow.publicize("c1", BUREAU, idempotency_key="notice-1")
    with pytest.raises(IdempotencyKeyReusedError):
        h.workflow.publicize("c1", BUREAU, working_days=15, idempotency_key="notice-1")


def test_a_declaration_key_replays_the_declaration() -> None:
    h = harness()
    application = other_base()
    first = h.workflow.declare(
        application, Actor.for_operator(application.operator), idempotency_key="d1"
    )
    again = h.workflow.declare(
        application, Actor.for_operator(application.operator), idempotency_key="d1"
    )
    assert again.replayed
    assert again.case.id == first.case.id


# -- the sweep under concurrency ----------------------------------------------------------------


def _sweep_race(db: str, workers: int) -> list[str]:
    """``workers`` sweeps of one database at the same moment; returns the notices sent."""
    clock = FixedClock(NOTICE_DUE + dt.timedelta(days=2))
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def sweep() -> None:
        with Workflow(open_store(db), clock=clock) as workflow:
            barrier.wait()
            try:
                workflow.sweep()
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with Workflow(open_store(db), clock=clock) as workflow:
        return [
            record.event.type
            for record in workflow.store.read_outbox(0, 10_000)
            if record.event.type == "notice_period_ended"
        ]


def test_concurrent_sweeps_send_each_notice_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sweep.db'}"
    clock = FixedClock(dt.date(2025, 6, 20))
    with Workflow(open_store(db), clock=clock) as workflow:
        h = harness()
        h.workflow = workflow
        h.clock = clock
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
        for index in range(3):
            application = other_base(f"第{index}创业园")
            walk_to(h, State.PUBLICIZED, f"c{index}", application=application)
            clock.set(dt.date(2025, 6, 20))
    for _ in range(3):
        assert len(_sweep_race(db, 4)) == 3  # one per case, however many sweeps ran


def test_a_sweep_that_lost_a_race_looks_again() -> None:
    """A second sweeper that listed the cases before the first one committed (its list is
    stale) reads each case afresh before it acts, and sends nothing twice."""
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(NOTICE_DUE + dt.timedelta(days=1))
    stale = list(h.store.deadlines_due(h.workflow.today()))
    first = h.workflow.sweep()
    assert [e.type for e in first.events] == ["notice_period_ended"]
    h.store.deadlines_due = lambda before: iter(stale)  # type: ignore[method-assign]
    second = h.workflow.sweep()
    assert second.events == ()
    notices = [e for e in h.seen if e.type == "notice_period_ended"]
    assert len(notices) == 1


# -- lifetime -----------------------------------------------------------------------------------


def test_a_workflow_closes_its_store(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'closed.db'}"
    with Workflow(db, clock=FixedClock(dt.date(2025, 6, 20))) as workflow:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    with pytest.raises(Exception):  # noqa: B017,PT011 - the closed connection's own error
        workflow.store.rounds()


def test_certify_on_the_decision_day_after_the_notice() -> None:
    """The walk's dates hold together under the time rules (a control for the tests above)."""
    h = harness()
    walk_to(h, State.PUBLICIZED)
    h.set(DECISION.decided_on)
    assert h.workflow.certify("c1", BUREAU, DECISION).case.state is State.CERTIFIED
    assert h.workflow.case("c1").operator.unified_social_credit_code == OPERATOR.id
