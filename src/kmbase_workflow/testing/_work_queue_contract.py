"""The work-queue projection's contract (`WorkQueueContract`), for stores that are a
`WorkQueueStore <kmbase_workflow.stores.WorkQueueStore>`; the other capabilities' contracts
are in `kmbase_workflow.testing.capabilities`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import pytest

from ..case import State
from ..errors import ConcurrencyConflictError
from ..examples import eligible_application
from ..stores import (
    CaseCount,
    CaseStore,
    Change,
    NoticeRunning,
    WorkItemQuery,
    WorkQueueStore,
)
from ._samples import sample_case, sample_change, sample_item

__all__ = ["WorkQueueContract"]


class WorkQueueContract:
    """The work-queue projection's contract (`kmbase_workflow.stores.WorkQueueStore`): mix it
    into a `StoreContract` subclass of a store that keeps the projection."""

    _TODAY = dt.date(2026, 3, 2)

    def _commit(
        self, store: CaseStore, case_id: str, *items: Mapping[str, Any], **changes: object
    ) -> Change:
        case = sample_case(case_id, **changes)
        change = sample_change(case, None)
        change = attrs.evolve(change, work_items=tuple(sample_item(case, **i) for i in items))
        store.commit(change)
        return change

    @staticmethod
    def _queue(store: CaseStore) -> WorkQueueStore:
        assert isinstance(store, WorkQueueStore)
        return store

    def _ids(self, store: CaseStore, **filters: object) -> list[str]:
        query = WorkItemQuery(as_of=self._TODAY, limit=None, **filters)  # type: ignore[arg-type]
        return [item.case_id for item in self._queue(store).work_items(query)]

    def test_committed_items_read_back_and_a_new_version_replaces_them(
        self, store: CaseStore
    ) -> None:
        change = self._commit(store, "a", {})
        queue = self._queue(store)
        assert queue.work_items(WorkItemQuery(as_of=self._TODAY)) == list(change.work_items or ())
        advanced = attrs.evolve(change.case, version=2, state=State.DISTRICT_RECOMMENDED)
        following = sample_change(advanced, change.history)
        bureau = sample_item(advanced, "expert_review", role="city_bureau", actions=("selection",))
        store.commit(attrs.evolve(following, work_items=(bureau,)))
        assert queue.work_items(WorkItemQuery(as_of=self._TODAY)) == [bureau]
        assert not queue.work_queue_stale()

    def test_items_come_in_urgency_order_and_page_by_key(self, store: CaseStore) -> None:
        day = self._TODAY
        self._commit(store, "undated", {})
        self._commit(store, "overdue", {"due_on": day - dt.timedelta(days=3)})
        self._commit(store, "ready", {"ready_on": day - dt.timedelta(days=10)})
        self._commit(store, "soon", {"due_on": day + dt.timedelta(days=2)})
        self._commit(
            store, "older", {}, declared_on=dt.date(2025, 6, 1), last_acted_on=dt.date(2025, 6, 1)
        )
        self._commit(store, "later", {"opens_on": day + dt.timedelta(days=1)})
        queue = self._queue(store)
        late = queue.work_items(WorkItemQuery(as_of=day, overdue=True))
        rest = queue.work_items(WorkItemQuery(as_of=day, overdue=False, limit=None))
        assert [i.case_id for i in late] == ["overdue"]
        assert [i.case_id for i in rest] == ["ready", "soon", "older", "undated"]
        pages, after = [], None
        while True:
            page = queue.work_items(WorkItemQuery(as_of=day, overdue=False, after=after, limit=2))
            if not page:
                break
            pages.append([item.case_id for item in page])
            after = page[-1].key
        assert pages == [["ready", "soon"], ["older", "undated"]]
        assert queue.count_work_items(WorkItemQuery(as_of=day)) == 5
        assert queue.count_work_items(WorkItemQuery(as_of=day + dt.timedelta(days=1))) == 6

    def test_items_filter_by_role_district_operator_round_and_state(self, store: CaseStore) -> None:
        other = eligible_application()
        other = attrs.evolve(other, base=attrs.evolve(other.base, district="呈贡区"))
        self._commit(store, "a", {}, {"obligation": "x", "role": "city_bureau"})
        self._commit(store, "b", {"operator_id": "91530100MA6K7XQ17X"}, round_year=2026)
        self._commit(store, "c", {"state": "district_recommended"}, application=other)
        assert self._ids(store, role="city_bureau") == ["a"]
        assert self._ids(store, role="district_authority") == ["a", "b", "c"]
        assert self._ids(store, district="呈贡区") == ["c"]
        assert self._ids(store, operator_id="91530100MA6K7XQ17X") == ["b"]
        assert self._ids(store, round_year=2026) == ["b"]
        assert self._ids(store, state="district_recommended") == ["c"]
        due = {"due_on": self._TODAY}
        self._commit(store, "d", due)
        assert self._ids(store, due_from=self._TODAY, due_until=self._TODAY) == ["d"]

    def test_a_change_without_items_marks_the_queue_stale_until_rebuilt(
        self, store: CaseStore
    ) -> None:
        queue = self._queue(store)
        first = self._commit(store, "a", {})
        advanced = attrs.evolve(first.case, version=2, state=State.DISTRICT_RECOMMENDED)
        store.commit(sample_change(advanced, first.history))
        assert queue.work_queue_stale()
        assert self._ids(store) == []
        item = sample_item(advanced, "expert_review")
        assert queue.replace_work_items([("a", 1, [sample_item(first.case)])]) == 0
        assert queue.replace_work_items([("a", 2, [item]), ("missing", 1, [])]) == 1
        queue.mark_work_queue_built()
        assert not queue.work_queue_stale()
        assert queue.work_items(WorkItemQuery(as_of=self._TODAY)) == [item]

    def test_a_batch_keeps_the_rows_of_each_case_s_last_change(self, store: CaseStore) -> None:
        first = sample_change(sample_case("a"), None)
        first = attrs.evolve(first, work_items=(sample_item(first.case),))
        advanced = attrs.evolve(first.case, version=2, state=State.DISTRICT_RECOMMENDED)
        bureau = sample_item(advanced, "expert_review", role="city_bureau")
        second = attrs.evolve(sample_change(advanced, first.history), work_items=(bureau,))
        store.commit_many([first, second])
        assert self._queue(store).work_items(WorkItemQuery(as_of=self._TODAY)) == [bureau]

    def test_a_refused_batch_leaves_the_queue_as_it_was(self, store: CaseStore) -> None:
        first = self._commit(store, "a", {})
        good = sample_change(sample_case("b"), None)
        good = attrs.evolve(good, work_items=(sample_item(good.case),))
        stale = sample_change(attrs.evolve(first.case, version=5), first.history, expected=4)
        with pytest.raises(ConcurrencyConflictError):
            store.commit_many([good, attrs.evolve(stale, work_items=())])
        assert self._ids(store) == ["a"]

    def test_cases_are_counted_by_round_district_and_state(self, store: CaseStore) -> None:
        from ..deadlines import notice_deadline  # noqa: PLC0415
        from ..policy import load_policy  # noqa: PLC0415

        notice = notice_deadline(dt.date(2025, 9, 26), load_policy().periods)
        self._commit(store, "a")
        self._commit(store, "b")
        self._commit(store, "c", state=State.PUBLICIZED, notice=notice, round_year=2026)
        queue = self._queue(store)
        district = sample_case("a").district
        assert queue.case_counts() == [
            CaseCount(2025, district, "declared", 2),
            CaseCount(2026, district, "publicized", 1),
        ]
        assert queue.case_counts(round_year=2026) == [CaseCount(2026, district, "publicized", 1)]
        assert queue.case_counts(district="呈贡区") == []
        running = [NoticeRunning("c", 2026, district, "publicized", notice.due)]
        assert queue.notices_running(notice.due) == running
        assert queue.notices_running(notice.due, round_year=2025) == []
        assert queue.notices_running(notice.due + dt.timedelta(days=1)) == []
