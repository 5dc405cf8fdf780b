"""Opening a declaration round is an official's act (第九条) and must leave evidence, as every
step of a case does: an event in the outbox naming who opened which window, bound to a
hash-chained record that the audit verifies.

`Workflow.open_round` writes the round, the next entry of the round's own chain in the
history (``round:<year>``) and a `RoundOpened` event in one transaction (issue 15).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow._i18n import Text
from kmbase_workflow.as_of import case_as_of
from kmbase_workflow.audit import round_digest, verify_case, verify_event, verify_store
from kmbase_workflow.bridges import message_body, message_headers
from kmbase_workflow.case import DeclarationRound, State
from kmbase_workflow.errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    TransitionRefusedError,
)
from kmbase_workflow.events import RoundOpened, event_from_document
from kmbase_workflow.stores import CaseStore, Change, MemoryStore, open_store
from kmbase_workflow.stores.sqlite import SQLiteStore
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    EXPERT,
    OPERATOR,
    ROUND_CLOSES,
    ROUND_OPENS,
    Harness,
    other_base,
    walk_to,
)
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture is used by name


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


# -- the round's chain, read and verified ---------------------------------------------------------


def _opened(store: CaseStore | str = "memory://") -> Workflow:
    workflow = Workflow(store, clock=FixedClock(dt.date(2025, 6, 20)))
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU, "昆工信发〔2025〕1号")
    return workflow


def test_the_round_s_chain_records_who_opened_which_window() -> None:
    workflow = _opened()
    (entry,) = workflow.history("round:2025")
    assert (entry.sequence, entry.action, entry.actor, entry.reason) == (
        1,
        "open_round",
        BUREAU,
        "昆工信发〔2025〕1号",
    )
    assert entry.payload == {
        "year": 2025,
        "opens_on": "2025-06-01",
        "closes_on": "2025-07-31",
        "notice": "昆工信发〔2025〕1号",
    }
    (stored,) = workflow.store.rounds()
    assert stored.chain_id == "round:2025"
    assert entry.case_hash == round_digest(stored)
    (record,) = workflow.store.read_outbox()
    event = record.event
    assert isinstance(event, RoundOpened)
    assert (event.case_id, event.base_id, event.round_year) == ("round:2025", "", 2025)
    assert event.article == Text(zh="第九条", en="Art. 9")
    assert entry.event_ids == (event.id,)
    assert workflow.verify_chain("round:2025").ok
    assert verify_event(workflow.store, event).ok
    report = verify_store(workflow.store)
    assert (report.ok, report.cases, report.rounds, report.entries, report.events) == (
        True,
        0,
        1,
        1,
        1,
    )


def test_a_round_is_no_case() -> None:
    workflow = _opened()
    with pytest.raises(CaseNotFoundError):
        workflow.case("round:2025")
    with pytest.raises(CaseNotFoundError):
        case_as_of(workflow, "round:2025", dt.date(2025, 6, 20))
    assert list(workflow.cases()) == []
    with pytest.raises(CaseNotFoundError):
        workflow.verify_chain("round:2099")  # no such round


def test_a_case_id_naming_a_round_s_chain_is_refused() -> None:
    workflow = _opened()
    with pytest.raises(TransitionRefusedError) as info:
        workflow.declare(APPLICATION, OPERATOR, case_id="round:2025")
    (failure,) = info.value.failures
    assert failure.guard == "case_id"
    assert failure.article == Text(zh="第二十条", en="Art. 20")
    assert "round:" in failure.message.zh
    assert "round:" in failure.message.en
    assert len(workflow.history("round:2025")) == 1
    assert [r.event.type for r in workflow.store.read_outbox()] == ["round_opened"]


def test_a_round_opened_by_0_1_0_without_a_chain_still_verifies() -> None:
    store = MemoryStore()
    store.save_round(DeclarationRound(2025, ROUND_OPENS, ROUND_CLOSES))  # as 0.1.0 wrote it
    report = verify_store(store)
    assert (report.ok, report.rounds, report.entries) == (True, 1, 0)
    assert verify_case(store, "round:2025").ok


def test_a_moved_window_or_a_deleted_round_is_found(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    _opened(SQLiteStore(path)).close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("UPDATE rounds SET closes_on = '2025-08-31' WHERE year = 2025")
    store = SQLiteStore(path)
    report = verify_store(store)
    (finding,) = report.findings
    assert (finding.case_id, finding.kind) == ("round:2025", "round")
    assert "申报期或通知被改动" in finding.problem.zh
    assert "window or notice was altered" in finding.problem.en
    assert not verify_case(store, "round:2025").ok
    raw.execute("DELETE FROM rounds")
    (finding,) = verify_store(store).findings
    assert (finding.case_id, finding.kind) == ("round:2025", "round")
    assert "批次被删除" in finding.problem.zh
    assert "it was deleted" in finding.problem.en
    store.close()
    raw.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_writers_opening_one_round_at_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two processes (two stores on one database) both find no 2025 round and open it: the
    first writes; the second waits for its lock, then finds the chain moved on and is refused
    with a conflict, writing nothing (before, it silently replaced the first's round)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.db'}"
    else:
        url = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    first, second = open_store(url), open_store(url)
    inside = threading.Event()

    def hold(name: str) -> None:
        if name == "round":  # the first's round row is written, not committed
            inside.set()
            time.sleep(0.5)

    first.on_checkpoint = hold  # type: ignore[attr-defined]
    clock = FixedClock(dt.date(2025, 5, 20))
    with ThreadPoolExecutor(1) as pool:
        opening = pool.submit(
            Workflow(first, clock=clock).open_round, 2025, ROUND_OPENS, ROUND_CLOSES, BUREAU, "甲"
        )
        assert inside.wait(10)
        with pytest.raises(ConcurrencyConflictError):
            Workflow(second, clock=clock).open_round(
                2025, ROUND_OPENS, dt.date(2025, 8, 31), BUREAU, "乙"
            )
        opening.result()
    assert [r.notice for r in second.rounds()] == ["甲"]
    assert len(second.history("round:2025")) == 1
    assert verify_store(second).ok
    first.close()
    second.close()


# -- the outbox's consumers -----------------------------------------------------------------------


def test_the_bridges_and_the_document_carry_a_round_s_event() -> None:
    workflow = _opened()
    (record,) = workflow.store.read_outbox()
    assert message_headers(record)["kmbase-case-id"] == "round:2025"
    document = json.loads(message_body(record))
    assert document["type"] == "round_opened"
    assert event_from_document(document) == record.event


# -- the round's selection: one decision, one transaction (第十一条) ----------------------------------


class _MovedUnder(MemoryStore):
    """A store where another writer moves a case on just before the next batch is written."""

    def __init__(self) -> None:
        super().__init__()
        self.before_batch: Callable[[], object] | None = None

    def commit_many(self, changes: Sequence[Change]) -> None:
        hook, self.before_batch = self.before_batch, None
        if hook is not None:
            hook()
        super().commit_many(changes)


def _two_ranked(store: MemoryStore | SQLiteStore) -> Harness:
    """Cases ``a`` (score 70) and ``b`` (85), both recommended, in the 2025 round."""
    clock = FixedClock(dt.date(2025, 6, 20))
    workflow = Workflow(store, clock=clock)
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    h = Harness(workflow, clock, store)  # type: ignore[arg-type]
    walk_to(h, State.DISTRICT_RECOMMENDED, "a")
    walk_to(h, State.DISTRICT_RECOMMENDED, "b", application=other_base())
    workflow.record_expert_opinion("a", EXPERT, 70, "中")
    workflow.record_expert_opinion("b", EXPERT, 85, "良")
    return h


def _selected(workflow: Workflow) -> dict[str, bool | None]:
    return {
        case_id: None if (found := workflow.case(case_id).selection) is None else found.selected
        for case_id in ("a", "b")
    }


def test_a_selection_that_cannot_be_written_whole_selects_none() -> None:
    """The ranking is one decision (第十一条): if one case's write is refused (another writer
    moved it on), no case of the round is ranked, and no event is written."""
    store = _MovedUnder()
    h = _two_ranked(store)
    before = len(store.read_outbox(0, 1000))
    second = Workflow(store, clock=h.clock)
    store.before_batch = lambda: second.record_expert_opinion(
        "b", Actor(Role.EXPERT, "专家乙"), 90, "优"
    )
    with pytest.raises(ConcurrencyConflictError):
        h.workflow.select_round(2025, BUREAU, quota=1)
    assert _selected(h.workflow) == {"a": None, "b": None}
    assert [r.event.type for r in store.read_outbox(before, 1000)] == ["expert_opinion_recorded"]
    h.workflow.select_round(2025, BUREAU, quota=1)  # again: both ranked, in one decision
    assert _selected(h.workflow) == {"a": False, "b": True}


def test_a_selection_failing_inside_the_database_write_selects_none(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    h = _two_ranked(store)
    before = len(store.read_outbox(0, 1000))

    def fail(name: str) -> None:
        if name == "outbox":  # both cases and their entries written, not committed
            raise RuntimeError("the disk went away")

    store.on_checkpoint = fail
    with pytest.raises(RuntimeError, match="disk"):
        h.workflow.select_round(2025, BUREAU, quota=1)
    store.on_checkpoint = None
    assert _selected(h.workflow) == {"a": None, "b": None}
    assert len(store.read_outbox(0, 1000)) == before
    assert verify_store(store).ok
    store.close()
