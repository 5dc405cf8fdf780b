"""Opening a declaration round is an official's act (第九条) and must leave evidence, as every
step of a case does: an event in the outbox naming who opened which window, bound to a
hash-chained record that the audit verifies.

`Workflow.open_round` writes the round, the next entry of the round's own chain in the
history (``round:<year>``) and a `RoundOpened` event in one transaction (issue 15).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.audit import verify_store


def test_opening_a_round_leaves_an_event_and_a_verified_record() -> None:
    workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 5, 20)))
    bureau = Actor(Role.CITY_BUREAU, "bureau-01", name="市工业和信息化局")
    heard = []
    workflow.bus.subscribe(heard.append)

    workflow.open_round(
        2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau, "昆工信发〔2025〕1号"
    )

    outbox = workflow.store.read_outbox()
    assert [record.event for record in outbox] == heard
    assert len(heard) == 1
    event = heard[0]
    assert event.actor == bureau
    assert event.payload["year"] == 2025
    assert event.payload["opens_on"] == "2025-06-01"
    assert event.payload["closes_on"] == "2025-07-31"
    assert verify_store(workflow.store).ok
