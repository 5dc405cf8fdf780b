"""The contract every store passes: one set of tests, subclassed once per backend.

Subclass `StoreContract` in a pytest module and implement `make_store` to
return a fresh, empty store; pytest then runs every ``test_*`` method against it (the way
eventsourcing tests its recorders). Stores that expose ``on_checkpoint`` (a callable the
store calls at named points inside a write) also get the atomicity tests.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from ..case import ChangeFiling, ChangeKind, DeclarationRound, State
from ..errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    FieldValueError,
    InvalidInputError,
)
from ..examples import eligible_application
from ..history import verify_history
from ..records import Application
from ..serialization import converter
from ..stores import INDEXED_TEXT_LIMIT, CaseQuery, CaseStore, Change, CommandResult

# Re-exported: the samples and the work queue's contract lived here, and hosts import them
# from here.
from ._samples import round_opening, sample_case, sample_change, sample_item
from ._work_queue_contract import WorkQueueContract

__all__ = [
    "StoreContract",
    "WorkQueueContract",
    "sample_case",
    "sample_change",
    "sample_item",
]


class StoreContract:
    """The store contract. Subclass it and implement `make_store`."""

    def make_store(self) -> CaseStore:
        """A fresh, empty store of the backend under test."""
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[CaseStore]:
        """The store under test, closed afterwards."""
        store = self.make_store()
        try:
            yield store
        finally:
            store.close()

    def _declare(self, store: CaseStore, case_id: str, **changes: object) -> Change:
        change = sample_change(sample_case(case_id, **changes), None)
        store.commit(change)
        return change

    def _advance(self, store: CaseStore, change: Change, **changes: object) -> Change:
        case = attrs.evolve(
            change.case,
            version=change.case.version + 1,
            state=State.DISTRICT_RECOMMENDED,
            **changes,  # type: ignore[arg-type]
        )
        following = sample_change(case, change.history)
        store.commit(following)
        return following

    # -- writing and reading back ---------------------------------------------------------------

    def test_a_committed_case_reads_back_equal(self, store: CaseStore) -> None:
        change = self._declare(store, "case-1")
        assert store.get("case-1") == change.case

    def _declaration_of_base(
        self, case_id: str, base: str, checked: tuple[tuple[str, int], ...]
    ) -> Change:
        change = sample_change(sample_case(case_id, base_id=base), None)
        return attrs.evolve(change, base_cases=checked)

    def test_a_declaration_is_written_only_while_its_base_is_as_checked(
        self, store: CaseStore
    ) -> None:
        """第九条: two declarations of one base checked at once (each saw no case of it)
        cannot both be written: the second is refused, nothing of it written; one checked
        against the first is written."""
        store.commit(self._declaration_of_base("first", "base-x", ()))
        with pytest.raises(ConcurrencyConflictError) as refused:
            store.commit(self._declaration_of_base("second", "base-x", ()))
        assert "base-x" in refused.value.describe("en")
        assert "base-x" in refused.value.describe("zh")
        with pytest.raises(CaseNotFoundError):
            store.get("second")
        assert [e.action for e in store.history("second")] == []
        store.commit(self._declaration_of_base("third", "base-x", (("first", 1),)))
        assert store.get("third").base_id == "base-x"
        # a case of the base that moved on since the check refuses the declaration too
        store.commit(self._advance_case(store.get("first")))
        with pytest.raises(ConcurrencyConflictError):
            store.commit(
                self._declaration_of_base("fourth", "base-x", (("first", 1), ("third", 1)))
            )

    def test_a_declaration_written_while_another_of_its_base_commits_is_refused(
        self, store: CaseStore
    ) -> None:
        """The check is part of the write: a declaration whose base gains a case from a write
        still open when it was checked waits for that write, then is refused (no timing luck:
        the first write holds at its commit until the second has been tried)."""
        holding, release = threading.Event(), threading.Event()
        errors: dict[str, BaseException] = {}

        def seam(point: str) -> None:
            if point == "before_commit" and threading.current_thread().name == "first":
                holding.set()
                release.wait(60)

        def commit(change: Change) -> None:
            try:
                store.commit(change)
            except BaseException as error:  # reported below
                errors[threading.current_thread().name] = error

        store.on_checkpoint = seam  # type: ignore[attr-defined]
        try:
            first = threading.Thread(
                target=commit, args=(self._declaration_of_base("a", "base-z", ()),), name="first"
            )
            second = threading.Thread(
                target=commit, args=(self._declaration_of_base("b", "base-z", ()),), name="second"
            )
            first.start()
            assert holding.wait(60)
            second.start()
            second.join(0.5)  # it waits for the first write, or is refused, never written
            release.set()
            first.join(60)
            second.join(60)
        finally:
            release.set()
            store.on_checkpoint = None  # type: ignore[attr-defined]
        assert "first" not in errors
        assert isinstance(errors.get("second"), ConcurrencyConflictError), errors
        assert {c.id for c in store.find(CaseQuery(base_id="base-z"))} == {"a"}

    def test_two_declarations_of_one_base_in_one_batch_are_refused_together(
        self, store: CaseStore
    ) -> None:
        with pytest.raises(ConcurrencyConflictError):
            store.commit_many(
                [
                    self._declaration_of_base("one", "base-y", ()),
                    self._declaration_of_base("two", "base-y", ()),
                ]
            )
        for case_id in ("one", "two"):
            with pytest.raises(CaseNotFoundError):
                store.get(case_id)
        store.commit_many(
            [
                self._declaration_of_base("one", "base-y", ()),
                self._declaration_of_base("two", "base-y", (("one", 1),)),
            ]
        )
        assert {c.id for c in store.find(CaseQuery(base_id="base-y"))} == {"one", "two"}

    def _advance_case(self, case: Any) -> Change:
        return sample_change(
            attrs.evolve(case, version=case.version + 1, state=State.DISTRICT_RECOMMENDED),
            None,
        )

    def test_a_case_is_read_without_structuring_its_application(self, store: CaseStore) -> None:
        """Issue 16: reads for a step that does not judge the application, and lists, leave
        the application alone until it is used; then it is the one declared."""
        declared = self._declare(store, "case-1")
        structured: list[object] = []
        structure = converter.get_structure_hook(Application)

        def spy(data: Any, kind: Any) -> Application:
            structured.append(data)
            return structure(data, kind)  # type: ignore[no-any-return]

        converter.register_structure_hook(Application, spy)
        try:
            read = [
                store.get("case-1"),
                store.get_many(["case-1"])["case-1"],
                *store.find(CaseQuery(district=declared.case.district)),
            ]
            for case in read:
                assert (case.base_name, case.district, case.operator) == (
                    declared.case.base_name,
                    declared.case.district,
                    declared.case.operator,
                )
            assert structured == []
            assert read[0].application == declared.case.application
            assert len(structured) <= 1
        finally:
            converter.register_structure_hook(Application, structure)

    def test_the_summary_follows_a_filed_change(self, store: CaseStore) -> None:
        declared = self._declare(store, "case-1")
        operator = attrs.evolve(declared.case.operator, name="新运营主体有限公司")
        filing = ChangeFiling(
            "更名", dt.date(2025, 7, 1), kind=ChangeKind.NAME, base_name="新名称基地"
        )
        moved = ChangeFiling(
            "变更运营主体", dt.date(2025, 7, 2), kind=ChangeKind.OPERATOR, operator=operator
        )
        self._advance(store, declared, change_filings=(filing, moved))
        for case in (store.get("case-1"), *store.find(CaseQuery(base_id=declared.case.base_id))):
            assert (case.base_name, case.operator) == ("新名称基地", operator)
            assert case.application == declared.case.application

    def test_a_base_is_found_by_its_operator_and_name_as_they_stand(self, store: CaseStore) -> None:
        """Issue 21 (第十五条, 第十九条): a base is found by the operator and the name it has
        after its filed changes, never by those it was declared with."""
        declared = self._declare(store, "case-1")
        self._declare(store, "case-2")  # another case, declared with the same name and operator
        code = declared.case.operator.unified_social_credit_code
        renamed = ChangeFiling(
            "更名", dt.date(2025, 7, 1), kind=ChangeKind.NAME, base_name="新名称基地"
        )
        self._advance(store, declared, change_filings=(renamed,))

        def ids(**filters: str) -> list[str]:
            return [case.id for case in store.find(CaseQuery(**filters))]  # type: ignore[arg-type]

        assert ids(operator_code=code, base_name="新名称基地") == ["case-1"]
        assert ids(operator_code=code, base_name=declared.case.application.base.name) == ["case-2"]
        assert ids(operator_code="nobody", base_name="新名称基地") == []
        assert ids(base_name="新名称\x00") == []

    def test_a_chunk_is_read_at_once(self, store: CaseStore) -> None:
        first = self._declare(store, "case-1")
        store.commit(sample_change(sample_case("case-2"), None, key="run:case-2"))
        self._advance(store, first)
        ids = ["case-1", "nobody", "case-2", "case-1", "\x00"]
        assert store.get_many(ids) == {"case-1": store.get("case-1"), "case-2": store.get("case-2")}
        assert store.last_hashes(ids) == {
            "case-1": store.last_hash("case-1"),
            "case-2": store.last_hash("case-2"),
        }
        assert store.command_results(["run:case-2", "run:nothing", "\x00"]) == {
            "run:case-2": store.command_result("run:case-2")
        }
        assert not store.get_many([])
        assert not store.last_hashes([])
        assert not store.command_results([])

    def test_an_unknown_case_is_not_found(self, store: CaseStore) -> None:
        with pytest.raises(CaseNotFoundError):
            store.get("nothing")

    def test_history_reads_back_in_order_and_verifies(self, store: CaseStore) -> None:
        first = self._declare(store, "case-1")
        second = self._advance(store, first)
        history = store.history("case-1")
        assert history == [first.history, second.history]
        assert verify_history(history).ok
        assert store.last_hash("case-1") == second.history.hash
        assert store.last_hash("nothing") is None

    def test_an_update_replaces_the_state(self, store: CaseStore) -> None:
        second = self._advance(store, self._declare(store, "case-1"))
        assert store.get("case-1") == second.case
        assert store.get("case-1").state is State.DISTRICT_RECOMMENDED

    # -- optimistic concurrency ----------------------------------------------------------------

    def test_a_stale_writer_gets_a_conflict_and_writes_nothing(self, store: CaseStore) -> None:
        first = self._declare(store, "case-1")
        self._advance(store, first)
        outbox = store.read_outbox(0, 1000)
        stale = sample_change(
            attrs.evolve(first.case, version=2, state=State.NOT_RECOMMENDED), first.history
        )
        with pytest.raises(ConcurrencyConflictError):
            store.commit(stale)
        assert store.get("case-1").state is State.DISTRICT_RECOMMENDED
        assert len(store.history("case-1")) == 2
        assert store.read_outbox(0, 1000) == outbox

    def test_declaring_an_existing_id_again_is_a_conflict(self, store: CaseStore) -> None:
        self._declare(store, "case-1")
        with pytest.raises(ConcurrencyConflictError):
            store.commit(sample_change(sample_case("case-1"), None))
        assert len(store.history("case-1")) == 1

    def test_updating_an_unknown_case_is_not_found(self, store: CaseStore) -> None:
        ghost = sample_change(sample_case("ghost", version=2), None, expected=1)
        with pytest.raises(CaseNotFoundError):
            store.commit(ghost)

    # -- idempotency ---------------------------------------------------------------------------

    def test_an_idempotency_key_remembers_what_it_wrote(self, store: CaseStore) -> None:
        assert store.command_result("run-1:case-1") is None
        store.commit(sample_change(sample_case("case-1"), None, key="run-1:case-1"))
        result = store.command_result("run-1:case-1")
        assert result is not None
        assert (result.case_id, result.version) == ("case-1", 1)

    def test_an_idempotency_key_keeps_its_command_digest(self, store: CaseStore) -> None:
        # the workflow compares a replayed command with the one the key ran by this digest
        change = sample_change(sample_case("case-1"), None, key="k-1")
        store.commit(attrs.evolve(change, command_digest="d" * 64))
        store.commit(sample_change(sample_case("case-2"), None, key="k-2"))
        assert store.command_result("k-1") == CommandResult("case-1", 1, "d" * 64)
        assert store.command_results(["k-1", "k-2"]) == {
            "k-1": CommandResult("case-1", 1, "d" * 64),
            "k-2": CommandResult("case-2", 1, None),
        }

    def test_a_reused_key_is_refused_and_nothing_written(self, store: CaseStore) -> None:
        store.commit(sample_change(sample_case("case-1"), None, key="same"))
        with pytest.raises(ConcurrencyConflictError):
            store.commit(sample_change(sample_case("case-2"), None, key="same"))
        with pytest.raises(CaseNotFoundError):
            store.get("case-2")

    # -- atomic batches ------------------------------------------------------------------------

    def test_commit_many_writes_all_or_nothing(self, store: CaseStore) -> None:
        first = self._declare(store, "case-1")
        good = sample_change(sample_case("case-2"), None)
        stale = sample_change(attrs.evolve(first.case, version=5), first.history, expected=4)
        with pytest.raises(ConcurrencyConflictError):
            store.commit_many([good, stale])
        with pytest.raises(CaseNotFoundError):
            store.get("case-2")
        assert len(store.read_outbox(0, 1000)) == 1
        store.commit_many([good, sample_change(sample_case("case-3"), None)])
        assert {case.id for case in store.find(CaseQuery())} == {"case-1", "case-2", "case-3"}

    def test_a_failure_inside_a_write_leaves_nothing(self, store: CaseStore) -> None:
        if not hasattr(store, "on_checkpoint"):
            pytest.skip("this store exposes no checkpoints inside a write")
        for point in ("case", "history", "outbox", "before_commit"):

            def fail(name: str, point: str = point) -> None:
                if name == point:
                    raise RuntimeError(point)

            store.on_checkpoint = fail
            with pytest.raises(RuntimeError, match=point):
                store.commit(sample_change(sample_case(f"case-{point}"), None))
            store.on_checkpoint = None
            with pytest.raises(CaseNotFoundError):
                store.get(f"case-{point}")
            assert store.history(f"case-{point}") == []
        assert store.read_outbox(0, 1000) == []

    # -- the outbox ----------------------------------------------------------------------------

    def test_the_outbox_is_ordered_and_complete(self, store: CaseStore) -> None:
        first = sample_change(sample_case("case-1"), None, events=2)
        store.commit(first)
        second = sample_change(sample_case("case-2"), None, events=3)
        store.commit(second)
        records = store.read_outbox(0, 1000)
        assert [record.event for record in records] == [*first.events, *second.events]
        positions = [record.position for record in records]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
        assert store.read_outbox(positions[1], 2) == records[2:4]
        assert store.read_outbox(positions[-1], 10) == []

    def test_a_consumer_cursor_only_moves_forward(self, store: CaseStore) -> None:
        assert store.consumer_position("portal") == 0
        store.acknowledge("portal", 5)
        store.acknowledge("portal", 3)
        assert store.consumer_position("portal") == 5
        assert store.consumer_position("archive") == 0

    # -- queries -------------------------------------------------------------------------------

    def test_find_filters_by_state_round_district_and_base(self, store: CaseStore) -> None:
        self._declare(store, "a")
        self._advance(store, self._declare(store, "b"))
        other = eligible_application()
        other = attrs.evolve(other, base=attrs.evolve(other.base, district="呈贡区"))
        self._declare(store, "c", round_year=2026, application=other)

        def ids(**filters: object) -> list[str]:
            query = CaseQuery(**filters)  # type: ignore[arg-type]
            found = list(store.find(query))
            assert list(store.find_states(query)) == [(case.id, case.state) for case in found]
            return [case.id for case in found]

        assert ids() == ["a", "b", "c"]
        assert ids(state=State.DECLARED) == ["a", "c"]
        assert ids(states=[State.DISTRICT_RECOMMENDED, State.CERTIFIED]) == ["b"]
        assert ids(round_year=2026) == ["c"]
        assert ids(district="呈贡区") == ["c"]
        assert ids(base_id="base-b") == ["b"]
        assert ids(state=State.DECLARED, district="五华区") == ["a"]
        assert ids(states=[]) == []
        assert ids(district="\x00") == []

    def test_find_pages_through_many_cases_in_declaration_order(self, store: CaseStore) -> None:
        ids = [f"case-{index:04d}" for index in range(520)]
        store.commit_many([sample_change(sample_case(case_id), None) for case_id in ids])
        assert [case.id for case in store.find(CaseQuery())] == ids
        assert [case_id for case_id, _ in store.find_states(CaseQuery())] == ids

    def test_deadlines_due_finds_ended_notices_and_certified_cases(self, store: CaseStore) -> None:
        from ..deadlines import notice_deadline, validity_deadline  # noqa: PLC0415
        from ..policy import load_policy  # noqa: PLC0415

        periods = load_policy().periods
        notice = notice_deadline(dt.date(2025, 9, 26), periods)
        self._declare(store, "publicized", state=State.PUBLICIZED, notice=notice)
        self._declare(store, "declared")
        self._declare(
            store,
            "certified",
            state=State.CERTIFIED,
            certified_on=dt.date(2025, 10, 16),
            validity=validity_deadline(dt.date(2025, 10, 16), periods.validity),
        )
        due = {case.id for case in store.deadlines_due(notice.due + dt.timedelta(days=1))}
        assert due == {"publicized", "certified"}
        assert {case.id for case in store.deadlines_due(notice.due)} == {"certified"}

    # -- rounds --------------------------------------------------------------------------------

    def test_rounds_are_kept_by_year(self, store: CaseStore) -> None:
        later = DeclarationRound(2026, dt.date(2026, 5, 1), dt.date(2026, 6, 30), "2026 通知")
        store.save_round(later)
        first = DeclarationRound(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31))
        store.save_round(first)
        assert store.rounds() == [first, later]
        moved = attrs.evolve(first, closes_on=dt.date(2025, 8, 15))
        store.save_round(moved)
        assert store.rounds() == [moved, later]

    def test_a_round_is_saved_with_its_entry_and_events(self, store: CaseStore) -> None:
        first = DeclarationRound(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), "通知")
        entry, events = round_opening(first, None)
        store.save_round(first, entry, events)
        assert store.rounds() == [first]
        assert store.history(first.chain_id) == [entry]
        assert store.last_hash(first.chain_id) == entry.hash
        assert [record.event for record in store.read_outbox(0, 1000)] == list(events)
        # a later opening of the year's round (a store keeps one per year) chains on
        moved = attrs.evolve(first, closes_on=dt.date(2025, 8, 15))
        second, more = round_opening(moved, entry)
        store.save_round(moved, second, more)
        assert store.rounds() == [moved]
        assert store.history(first.chain_id) == [entry, second]
        assert verify_history(store.history(first.chain_id)).ok
        assert [record.event for record in store.read_outbox(0, 1000)] == [*events, *more]

    def test_a_round_entry_that_is_not_the_next_is_a_conflict(self, store: CaseStore) -> None:
        first = DeclarationRound(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31))
        store.save_round(first, *round_opening(first, None))
        # a second writer built its entry before the first wrote: the chain moved on
        late = attrs.evolve(first, notice="另一通知")
        with pytest.raises(ConcurrencyConflictError):
            store.save_round(late, *round_opening(late, None, "late"))
        assert store.rounds() == [first]
        assert len(store.history(first.chain_id)) == 1
        assert len(store.read_outbox(0, 1000)) == 1

    def test_a_refused_round_write_leaves_nothing(self, store: CaseStore) -> None:
        opened = DeclarationRound(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31))
        entry, (event,) = round_opening(opened, None)
        bad = attrs.evolve(event, payload={"notice": "通知\x00"})
        with pytest.raises(FieldValueError) as info:
            store.save_round(opened, entry, (bad,))
        assert info.value.field == "events[0].payload.notice"
        with pytest.raises(InvalidInputError):  # an entry of another chain
            store.save_round(opened, attrs.evolve(entry, case_id="round:2024"), (event,))
        self._assert_no_round(store, opened)

    def test_a_failure_inside_a_round_write_leaves_nothing(self, store: CaseStore) -> None:
        if not hasattr(store, "on_checkpoint"):
            pytest.skip("this store exposes no checkpoints inside a write")
        opened = DeclarationRound(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31))
        for point in ("round", "history", "outbox", "before_commit"):

            def fail(name: str, point: str = point) -> None:
                if name == point:
                    raise RuntimeError(point)

            store.on_checkpoint = fail
            with pytest.raises(RuntimeError, match=point):
                store.save_round(opened, *round_opening(opened, None))
            store.on_checkpoint = None
            self._assert_no_round(store, opened)

    def _assert_no_round(self, store: CaseStore, declaration_round: DeclarationRound) -> None:
        assert store.rounds() == []
        assert store.history(declaration_round.chain_id) == []
        assert store.read_outbox(0, 1000) == []

    # -- validated at the edge: what one store cannot keep, no store accepts --------------------

    def _assert_refused(self, store: CaseStore, change: Change, field: str) -> None:
        with pytest.raises(FieldValueError) as info:
            store.commit(change)
        assert info.value.field == field
        assert info.value.describe("zh") != info.value.describe("en")
        with pytest.raises(CaseNotFoundError):
            store.get(change.case.id)
        assert store.history(change.case.id) == []
        assert store.read_outbox(0, 1000) == []

    def test_a_nul_character_anywhere_is_refused_naming_the_field(self, store: CaseStore) -> None:
        case = sample_case("case-1")
        base = attrs.evolve(case.application.base, name="春城\x00基地")
        bad = attrs.evolve(case, application=attrs.evolve(case.application, base=base))
        self._assert_refused(store, sample_change(bad, None), "case.application.base.name")
        change = sample_change(sample_case("case-1"), None)
        history = attrs.evolve(change.history, reason="理由\x00")
        self._assert_refused(store, attrs.evolve(change, history=history), "history.reason")

    def test_a_lone_surrogate_anywhere_is_refused_naming_the_field(self, store: CaseStore) -> None:
        change = sample_change(sample_case("case-1"), None)
        event = attrs.evolve(change.events[0], payload={"note": "\ud800"})
        self._assert_refused(store, attrs.evolve(change, events=(event,)), "events[0].payload.note")

    def test_a_number_that_is_not_finite_is_refused_naming_the_field(
        self, store: CaseStore
    ) -> None:
        # JSON has no NaN nor infinity: PostgreSQL's JSONB refuses them, SQLite's text would
        # keep them; no store does
        for number in (math.nan, math.inf, -math.inf):
            change = sample_change(sample_case("case-1"), None)
            event = attrs.evolve(change.events[0], payload={"score": number})
            self._assert_refused(
                store, attrs.evolve(change, events=(event,)), "events[0].payload.score"
            )

    def test_an_indexed_text_too_long_for_an_index_is_refused(self, store: CaseStore) -> None:
        # A 1,000-character Chinese name is 3,000 bytes: past PostgreSQL's btree row limit.
        long_base = sample_case("case-1", base_id="基" * 1000)
        self._assert_refused(store, sample_change(long_base, None), "case.base_id")
        change = sample_change(sample_case("case-1"), None, key="k" * (INDEXED_TEXT_LIMIT + 1))
        self._assert_refused(store, change, "idempotency_key")
        at_limit = sample_case("case-1", base_id="b" * INDEXED_TEXT_LIMIT)
        store.commit(sample_change(at_limit, None))
        assert [c.id for c in store.find(CaseQuery(base_id="b" * INDEXED_TEXT_LIMIT))] == ["case-1"]

    def test_a_key_no_store_can_hold_is_simply_not_there(self, store: CaseStore) -> None:
        self._declare(store, "case-1")
        for key in ("case\x001", "case-\ud800", "c" * (INDEXED_TEXT_LIMIT * 4)):
            with pytest.raises(CaseNotFoundError):
                store.get(key)
            assert store.history(key) == []
            assert store.last_hash(key) is None
            assert store.command_result(key) is None
            assert store.consumer_position(key) == 0
            assert list(store.find(CaseQuery(base_id=key))) == []
            assert list(store.find(CaseQuery(district=key))) == []

    def test_a_consumer_name_no_store_can_hold_is_refused(self, store: CaseStore) -> None:
        with pytest.raises(FieldValueError) as info:
            store.acknowledge("archive\x00", 3)
        assert info.value.field == "consumer"

    # -- sharing and closing -------------------------------------------------------------------

    def test_a_store_is_a_context_manager_that_closes(self) -> None:
        with self.make_store() as store:
            self._declare(store, "case-1")
            assert store.get("case-1").id == "case-1"
        store.close()  # closing twice is harmless

    def test_threads_may_share_one_store(self, store: CaseStore) -> None:
        threads = 16

        def work(index: int) -> int:
            change = self._declare(store, f"case-{index}")
            self._advance(store, change)
            return store.get(f"case-{index}").version

        with ThreadPoolExecutor(threads) as pool:
            versions = list(pool.map(work, range(threads)))
        assert versions == [2] * threads
        records = store.read_outbox(0, 1000)
        assert len(records) == 2 * threads
        assert len({record.position for record in records}) == 2 * threads
