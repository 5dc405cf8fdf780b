"""Opening a declaration round is an official's act (第九条) and must leave evidence, as every
step of a case does: an event in the outbox naming who opened which window, bound to a
hash-chained record that the audit verifies.

Pinned as a strict xfail: `Workflow.open_round` today saves the round alone (no history
entry, no event). Rounds are not cases, and the store's one write (`Change`) and the audit
know only cases, so the fix spans the stores, the events and the audit (issue 15); when it
lands this test passes and the marker must go.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.audit import verify_store


@pytest.mark.xfail(
    strict=True, reason="open_round writes no history entry and no event yet (issue 15)"
)
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
