"""Events: subscription forms, delivery after commit, failing subscribers, order."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from kmbase_workflow.actors import Actor
from kmbase_workflow.case import Case, State
from kmbase_workflow.errors import ConcurrencyConflictError, TransitionRefusedError
from kmbase_workflow.events import (
    EVENT_TYPES,
    Certified,
    Declared,
    DeliveryFailure,
    Event,
    EventBus,
    ExpertOpinionRecorded,
    Publicized,
    Recommended,
    TransitionEvent,
)
from kmbase_workflow.lifecycle import STEPS
from kmbase_workflow.stores import MemoryStore
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    BUREAU,
    CERTIFIED_ON,
    DECISION,
    DISTRICT,
    EXPERT,
    GOOD_RECOMMENDATION,
    OPERATOR,
    Harness,
    harness,
    other_base,
    walk_to,
)


def test_every_transition_has_its_event_type() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    transition_types = {e.type for e in h.seen if isinstance(e, TransitionEvent)}
    assert transition_types <= set(EVENT_TYPES)
    assert {cls for cls in EVENT_TYPES.values() if issubclass(cls, TransitionEvent)} == {
        step.event for step in STEPS
    }


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_an_event_class_documents_its_description(event_type: str) -> None:
    # The reference pages show the docstring, a consumer reads ``description``: one wording.
    cls = EVENT_TYPES[event_type]
    summary = " ".join((cls.__doc__ or "").split("\n\n")[0].split())
    assert summary == f"{cls.description.zh} / {cls.description.en}."


def test_subscribe_to_one_type() -> None:
    h = harness()
    got: list[Event] = []
    h.workflow.bus.subscribe(got.append, Recommended)
    walk_to(h, State.EXPERT_REVIEWED)
    assert [type(e) for e in got] == [Recommended]
    event = got[0]
    assert isinstance(event, Recommended)
    assert (event.trigger, event.from_state, event.to_state) == (
        "recommend",
        "declared",
        "district_recommended",
    )
    assert event.actor == DISTRICT
    assert event.case_id == "c1"
    assert event.payload["district"] == "五华区"


def test_subscribe_to_a_set_of_types_and_to_everything() -> None:
    h = harness()
    some: list[Event] = []
    everything: list[Event] = []
    h.workflow.bus.subscribe(some.append, Declared, ExpertOpinionRecorded, Certified)
    h.workflow.bus.subscribe(everything.append)
    walk_to(h, State.CERTIFIED)
    assert [e.type for e in some] == ["declared", "expert_opinion_recorded", "certified"]
    # h.seen subscribed first and saw the 2025 round open too (RoundOpened)
    assert [e.type for e in h.seen[:1]] == ["round_opened"]
    assert everything == h.seen[1:]
    assert len(everything) == h.workflow.case("c1").version


def test_a_base_class_subscription_takes_its_subclasses() -> None:
    h = harness()
    transitions: list[Event] = []
    h.workflow.bus.subscribe(transitions.append, TransitionEvent)
    walk_to(h, State.EXPERT_REVIEWED)
    assert [e.type for e in transitions] == ["declared", "recommended", "review_passed"]


def test_the_decorator_form() -> None:
    h = harness()
    got: list[str] = []

    @h.workflow.bus.on(Publicized)
    def remember(event: Event) -> None:
        got.append(event.payload["notice_due"])

    walk_to(h, State.PUBLICIZED)
    assert got == ["2025-10-15"]
    assert callable(remember)


def test_the_context_manager_form_unsubscribes_on_exit() -> None:
    h = harness()
    got: list[Event] = []
    with h.workflow.bus.subscribed(got.append) as subscription:
        h.workflow.declare(other_base(), _operator(), case_id="a")
    walk_to(h, State.DECLARED)
    assert [e.case_id for e in got] == ["a"]
    h.workflow.bus.unsubscribe(subscription)  # already gone: no error


def test_a_failing_subscriber_never_undoes_the_change_nor_stops_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooked: list[DeliveryFailure] = []
    clock_h = harness()
    bus = EventBus(on_error=hooked.append)
    wf = Workflow(MemoryStore(), clock=clock_h.clock, bus=bus)
    wf.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    before: list[str] = []
    after: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber down")

    bus.subscribe(lambda e: before.append(e.type))
    bus.subscribe(broken)
    bus.subscribe(lambda e: after.append(e.type))
    with caplog.at_level(logging.ERROR, logger="kmbase_workflow.events"):
        outcome = wf.declare(other_base(), _operator(), case_id="a")
    assert wf.case("a").state is State.DECLARED
    assert wf.history("a") == [outcome.entry]
    # the round's opening (before the subscribers came) is in the outbox too
    assert [r.event.type for r in wf.store.read_outbox()] == ["round_opened", "declared"]
    assert before == after == ["declared"]
    (failure,) = outcome.delivery_failures
    assert failure.event == outcome.events[0]
    assert "broken" in failure.handler
    assert isinstance(failure.error, RuntimeError)
    assert bus.failures == [failure]
    assert hooked == [failure]
    assert any("broken" in r.getMessage() for r in caplog.records)
    # the next change is delivered as usual, and its failure is reported too
    second = wf.recommend("a", DISTRICT, GOOD_RECOMMENDATION)
    assert after == ["declared", "recommended"]
    assert len(second.delivery_failures) == 1
    assert len(bus.failures) == 2


def test_the_bus_keeps_only_the_most_recent_failures() -> None:
    bus = EventBus(keep_failures=2)

    def broken(event: Event) -> None:
        raise ValueError(event.id)

    bus.subscribe(broken)
    events = [_event(str(i)) for i in range(5)]
    returned = bus.publish(events)
    assert len(returned) == 5
    assert [f.event.id for f in bus.failures] == ["3", "4"]


def test_order_commit_then_emission_then_subscription() -> None:
    h = harness()
    calls: list[tuple[str, str]] = []
    h.workflow.bus.subscribe(lambda e: calls.append(("first", e.type)))
    h.workflow.bus.subscribe(lambda e: calls.append(("second", e.type)))
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 3, 5))
    h.workflow.sweep()  # two reports overdue: base (January) then district (February)
    types = [t for who, t in calls if who == "first"]
    assert types == [t for who, t in calls if who == "second"]
    assert calls[:2] == [("first", "declared"), ("second", "declared")]
    assert types == [
        "declared",
        "recommended",
        "expert_opinion_recorded",
        "review_passed",
        "inspection_passed",
        "publicized",
        "certified",
        "annual_report_overdue",
        "annual_report_overdue",
    ]
    overdue = [e for e in h.seen if e.type == "annual_report_overdue"]
    assert [e.payload["by_district"] for e in overdue] == [False, True]
    # the outbox holds the same events in the same order
    # (h.seen, subscribed before the harness opened the round, begins with RoundOpened)
    assert [r.event for r in h.store.read_outbox(0, 100)] == h.seen
    assert [r.position for r in h.store.read_outbox(0, 100)] == list(range(1, 11))


def test_event_ids_are_unique_and_recorded_in_the_history() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    seen = [e for e in h.seen if e.case_id == "c1"]  # h.seen saw the round open too
    ids = [e.id for e in seen]
    assert len(set(ids)) == len(ids)
    assert [i for entry in h.workflow.history("c1") for i in entry.event_ids] == ids
    assert all(
        e.occurred_at == entry.at for e, entry in zip(seen, h.workflow.history("c1"), strict=True)
    )


def test_a_refused_trigger_publishes_nothing() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    seen = len(h.seen)
    outbox = len(h.store.read_outbox(0, 100))
    with pytest.raises(TransitionRefusedError):
        h.workflow.certify("c1", BUREAU, DECISION)  # too early
    assert len(h.seen) == seen
    assert len(h.store.read_outbox(0, 100)) == outbox


class StaleReads(MemoryStore):
    """A store whose ``get`` returns what another process read before a concurrent write."""

    def __init__(self) -> None:
        super().__init__()
        self.stale: dict[str, Case] = {}

    def get(self, case_id: str) -> Case:
        return self.stale.get(case_id) or super().get(case_id)


def _stale_harness() -> tuple[Harness, StaleReads]:
    base = harness()
    store = StaleReads()
    wf = Workflow(store, clock=base.clock)
    h = Harness(wf, base.clock, store)
    wf.bus.subscribe(h.seen.append)
    wf.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    return h, store


def test_a_commit_that_conflicts_publishes_nothing() -> None:
    h, store = _stale_harness()
    walk_to(h, State.DISTRICT_RECOMMENDED)
    loaded_by_a = store.get("c1")  # writer A loads version 2
    h.workflow.record_expert_opinion("c1", EXPERT, 80, "良")  # writer B commits version 3
    store.stale["c1"] = loaded_by_a
    seen = len(h.seen)
    history = len(h.workflow.history("c1"))
    with pytest.raises(ConcurrencyConflictError):
        h.workflow.withdraw("c1", OPERATOR, "撤回")  # A writes on top of version 2
    assert len(h.seen) == seen
    assert len(h.store.read_outbox(0, 100)) == seen
    del store.stale["c1"]
    assert len(h.workflow.history("c1")) == history
    assert h.workflow.case("c1").state is State.DISTRICT_RECOMMENDED
    assert h.workflow.verify_chain("c1").ok


def test_certified_event_carries_the_validity() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    (certified,) = [e for e in h.seen if isinstance(e, Certified)]
    assert certified.payload["valid_from"] == CERTIFIED_ON.isoformat()
    assert certified.payload["valid_until"] == "2028-10-15"
    assert certified.actor == BUREAU


def _operator() -> Actor:
    return Actor.for_operator(other_base().operator)


def _event(event_id: str) -> Event:
    return Declared(
        id=event_id,
        case_id="x",
        base_id="b",
        occurred_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        actor=OPERATOR,
        trigger="declare",
        from_state=None,
        to_state="declared",
    )
