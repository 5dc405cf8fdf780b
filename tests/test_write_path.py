"""The write path encodes each record once: the shortcuts it takes make the very entries,
digests and rows the plain path makes (the same bytes, whatever the text holds)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.case import State
from kmbase_workflow.encoding import application_data, canonical_json, dumps
from kmbase_workflow.errors import FieldValueError
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.history import HistoryEntry, application_digest, case_digest, event_digest
from kmbase_workflow.serialization import converter
from kmbase_workflow.stores._rows import refuse_unstorable
from kmbase_workflow.stores._sql import Batch
from lifecycle_helpers import OPERATOR, harness, other_base, walk_to

BUREAU = Actor(Role.CITY_BUREAU, "bureau-01")
NOW = dt.datetime(2025, 6, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _entry(payload: dict[str, object], reason: str = "") -> HistoryEntry:
    return HistoryEntry(
        case_id="c1",
        sequence=1,
        action="declare",
        from_state=None,
        to_state="declared",
        actor=BUREAU,
        at=NOW,
        reason=reason,
        payload=payload,
    )


@pytest.mark.parametrize(
    "reason",
    ["", "申报", "\x00payload\x00", canonical_json("\x00payload\x00"), '"\\u0000payload\\u0000"'],
)
def test_an_entry_sealed_with_its_payload_s_text_is_the_entry_sealed_without(reason: str) -> None:
    payload = application_data(eligible_application())
    plain = _entry(payload, reason).sealed_with_data("a" * 64)
    spliced = _entry(payload, reason).sealed_with_data(
        "a" * 64, payload_text=canonical_json(payload)
    )
    assert spliced[0] == plain[0]
    assert spliced[2] == plain[2]
    assert spliced[0].content_hash() == spliced[0].hash
    assert converter.unstructure(spliced[0]) == plain[1] == spliced[1]
    assert dumps(spliced[1]) == dumps(plain[1])  # the stored row: its keys in one order


def test_an_empty_payload_s_text_is_not_spliced() -> None:
    plain = _entry({}).sealed_with_data("b" * 64)
    spliced = _entry({}).sealed_with_data("b" * 64, payload_text=canonical_json({}))
    assert spliced[0].hash == plain[0].hash


def test_a_declaration_binds_what_the_plain_digests_make() -> None:
    workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    application = eligible_application()
    change = workflow.prepare(
        "", "declare", Actor.for_operator(application.operator), payload=application
    )
    entry = change.history
    assert entry.application_hash == application_digest(application)
    assert entry.case_hash == case_digest(change.case)
    assert entry.event_digests == tuple(event_digest(event) for event in change.events)
    assert entry.payload == application_data(application)
    assert entry.content_hash() == entry.hash
    assert change.data is not None
    assert change.data.application_text == canonical_json(application_data(application))


def test_an_application_s_unstorable_text_is_still_refused_by_its_field() -> None:
    workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    application = eligible_application()
    bad = attrs.evolve(application, base=attrs.evolve(application.base, address="昆明\x00市"))
    change = workflow.prepare("", "declare", Actor.for_operator(bad.operator), payload=bad)
    with pytest.raises(FieldValueError, match=r"base\.address") as raised:
        refuse_unstorable(change)
    assert "U+0000" in str(raised.value)


def test_a_declaration_s_and_a_resubmission_s_rows_are_the_plain_path_s() -> None:
    h = harness()
    walk_to(h, State.RETURNED_FOR_CORRECTION, "c1", other_base("退回基地"))
    amended = attrs.evolve(other_base("退回基地"), declared_on=h.workflow.today())
    changes = [
        h.workflow.prepare("c1", "resubmit", OPERATOR, payload=amended),
        h.workflow.prepare("", "declare", OPERATOR, payload=other_base("新基地")),
    ]
    for change in changes:
        assert change.data is not None
        assert change.data.application_data is not None
        fresh = attrs.evolve(change, data=None)  # encoded again from the records
        assert Batch.encode([change]) == Batch.encode([fresh])


def test_a_declaration_reads_the_rounds_once() -> None:
    # on PostgreSQL each read of the rounds is a round trip; the draft case and the round's
    # guard (第八条) read the same round, open on the day of the declaration
    workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    store = workflow.store
    reads = []
    rounds = store.rounds

    def counted() -> object:
        reads.append(1)
        return rounds()

    store.rounds = counted  # type: ignore[method-assign]
    application = eligible_application()
    outcome = workflow.declare(application, Actor.for_operator(application.operator))
    assert outcome.case.round_year == 2025
    assert len(reads) == 1


def test_a_keyed_declaration_encodes_its_application_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the command's digest (idempotency) and the entry's take the same digest of the
    # application: it is unstructured and encoded once, and both digests are the plain path's
    from kmbase_workflow import history
    from kmbase_workflow.workflow import _change

    workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    application = eligible_application()
    calls = []
    real = _change.application_data

    def counted(value: object) -> object:
        calls.append(value)
        return real(value)  # type: ignore[arg-type]

    monkeypatch.setattr(_change, "application_data", counted)
    monkeypatch.setattr(history, "application_data", counted)  # application_digest's
    operator = Actor.for_operator(application.operator)
    outcome = workflow.declare(application, operator, idempotency_key="k1")
    assert len(calls) == 1
    assert outcome.entry.application_hash == application_digest(application)
    assert outcome.entry.content_hash() == outcome.entry.hash
    again = workflow.declare(application, operator, idempotency_key="k1")
    assert again.replayed
    assert again.case.id == outcome.case.id
