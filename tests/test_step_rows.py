"""A step's stored bytes: the rows a SQL store writes and the digests a history entry holds
are the same whether a change carries its plain form (unstructured once, by the step) or the
store unstructures its records afresh; and they are pinned, so that no change in how a step
is built can alter a stored byte unnoticed."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import sqlite3
from pathlib import Path

import attrs

from kmbase_workflow.actors import Actor
from kmbase_workflow.audit import case_digest, event_digest
from kmbase_workflow.case import DeclarationRound, Recommendation, State
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.serialization import converter
from kmbase_workflow.stores._rows import change_data
from kmbase_workflow.stores._sql import Batch
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import DISTRICT, OPERATOR, Harness, other_base, walk_to

_TABLES = {
    "cases": "SELECT id, state, version, notice_due, validity_due, data FROM cases ORDER BY id",
    "applications": "SELECT case_id, data FROM applications ORDER BY case_id",
    "history": "SELECT case_id, sequence, hash, data FROM history ORDER BY case_id, sequence",
    "outbox": "SELECT position, id, type, data FROM outbox ORDER BY position",
}

# Computed with the code before changes were given their plain form (commit a031f3d): a step
# must keep writing these very bytes. Re-pinned for history format 3 (issue 22): against the
# format-2 pin only the history rows' ``format``, ``hash`` and ``previous_hash`` differ; the
# cases, applications, outbox and every case and event digest are byte for byte the same.
_PINNED = "928619ada5a557c774b5a2fd216ce858a193a279aee190ec02c638326974c609"


def _walked(path: Path) -> Harness:
    store = SQLiteStore(path)
    clock = FixedClock(dt.date(2025, 6, 20))
    counter = itertools.count(1)
    workflow = Workflow(store, clock=clock, new_id=lambda: f"id{next(counter)}")
    h = Harness(workflow, clock, store)  # type: ignore[arg-type]
    # the round alone, as 0.1.0 stored it: the pinned bytes are the steps' (opening a round
    # now writes its own chain entry and event, which would take the first id and position)
    store.save_round(DeclarationRound(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31)))
    for case_id, state in (
        ("c1", State.REVOKED),
        ("c2", State.RETURNED_FOR_CORRECTION),
        ("c3", State.NOT_RECOMMENDED),
    ):
        clock.set(dt.date(2025, 6, 20))
        walk_to(h, state, case_id, other_base(f"{case_id}创业园"))
    amended = other_base("c2创业园")  # travels in the case row once resubmitted
    workflow.resubmit("c2", Actor.for_operator(amended.operator), amended)
    clock.set(dt.date(2025, 6, 20))
    return h


def _rows_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(path)) as connection:
        for table, query in _TABLES.items():
            for row in connection.execute(query):
                digest.update(repr((table, *row)).encode("utf-8"))
    return digest.hexdigest()


def test_walked_cases_write_the_pinned_bytes(tmp_path: Path) -> None:
    h = _walked(tmp_path / "cases.db")
    h.workflow.store.close()
    assert _rows_digest(tmp_path / "cases.db") == _PINNED


def test_a_steps_plain_form_is_what_the_store_would_make(tmp_path: Path) -> None:
    h = _walked(tmp_path / "cases.db")
    workflow = h.workflow
    walk_to(h, State.DECLARED, "c4", other_base("c4创业园"))
    change = workflow.prepare(
        "c4", "recommend", DISTRICT, payload=Recommendation("同意推荐", True, SpotCheck(60, 6, 6))
    )
    assert change.data is not None
    assert change.data.describes(change)
    fresh = attrs.evolve(change, data=None)
    made, remade = change_data(change), change_data(fresh)
    assert made is change.data
    assert remade is not made
    assert (made.case_data, made.history_data, made.event_data) == (
        remade.case_data,
        remade.history_data,
        remade.event_data,
    )
    assert Batch.encode([change]) == Batch.encode([fresh])
    entry = change.history
    assert entry.case_hash == case_digest(change.case)
    assert entry.event_digests == tuple(event_digest(event) for event in change.events)
    assert entry.hash == entry.content_hash()
    assert made.history_data == converter.unstructure(entry)


def test_a_change_rebuilt_with_other_records_is_unstructured_afresh(tmp_path: Path) -> None:
    h = _walked(tmp_path / "cases.db")
    walk_to(h, State.DECLARED, "c4", other_base("c4创业园"))
    change = h.workflow.prepare("c4", "withdraw", OPERATOR, reason="撤回申报")
    history = attrs.evolve(change.history, reason="改过的理由")
    rebuilt = attrs.evolve(change, history=history)
    assert change.data is not None
    assert rebuilt.data is change.data
    assert not change.data.describes(rebuilt)
    assert change_data(rebuilt).history_data["reason"] == "改过的理由"
    assert Batch.encode([rebuilt]).history[0]["data"] != Batch.encode([change]).history[0]["data"]
