"""The work-queue projection: one row per case and pending obligation, kept by every store.

Each commit replaces the rows of the cases it writes, in the same transaction, with the rows
the writer derived (`Change.work_items <kmbase_workflow.stores.Change.work_items>`, filled by
the workflow from the lifecycle's declarations, see `kmbase_workflow.queues`): the queue can
never disagree with the cases. A change written without them (a host's hand-built change)
clears its case's rows and marks the queue stale until it is rebuilt from the cases
(`kmbase_workflow.queues.rebuild_work_queue`, ``kmbase db rebuild-work-queue``); a database
migrated to ``m004_work_queue`` with cases already in it starts stale.

Reads use indexed columns only (role, district or operator, then the urgency order; the
urgency order alone for a dashboard; round, district and state of the cases for their
counts), never a case's data or its application. The order is the *urgency key* ``(sort_on, since, case_id,
obligation, role)``; a page continues after a key (keyset paging), so a page never shifts
when rows are added before it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from ..case import Case
    from ._protocol import Change

__all__ = [
    "NO_DATE",
    "POSTGRES_M004",
    "SQLITE_M004",
    "CaseCount",
    "MemoryWorkQueue",
    "NoticeRunning",
    "SQLWorkQueue",
    "WorkItem",
    "WorkItemQuery",
    "WorkQueueStore",
]

NO_DATE = dt.date(9999, 12, 31)
"""The urgency date of an obligation with neither a deadline nor a day it becomes possible:
after every dated one."""

UrgencyKey = tuple[dt.date, dt.date, str, str, str]
"""``(sort_on, since, case_id, obligation, role)``: the order of a queue."""


@attrs.frozen(kw_only=True)
class WorkItem:
    """One pending obligation of one case, as the projection stores it (plain values).

    ``obligation`` is the rule's kind, with a qualifier when a case holds several of the
    kind (``annual_report:2026:base``). ``due_on`` is a deadline of the measures (the
    obligation is overdue after it); ``ready_on`` the first day its actions are possible
    (certification after the notice); ``opens_on`` the day it enters the queue (an annual
    report on 1 January of its year); ``since`` the day the case has waited from.
    """

    case_id: str
    obligation: str
    role: str
    district: str
    base_id: str
    base_name: str
    operator_id: str
    round_year: int
    state: str
    version: int
    actions: tuple[str, ...]
    article_zh: str
    article_en: str
    since: dt.date
    opens_on: dt.date | None = None
    due_on: dt.date | None = None
    ready_on: dt.date | None = None

    @property
    def kind(self) -> str:
        """The rule's kind (``obligation`` without its qualifier)."""
        return self.obligation.partition(":")[0]

    @property
    def sort_on(self) -> dt.date:
        """The date that orders the queue: the deadline, else the day it becomes possible."""
        return self.due_on or self.ready_on or NO_DATE

    @property
    def key(self) -> UrgencyKey:
        """Where the item stands in a queue (see the module doc)."""
        return (self.sort_on, self.since, self.case_id, self.obligation, self.role)


@attrs.frozen(kw_only=True)
class WorkItemQuery:
    """A filter over the projection, and the page wanted. ``None`` filters nothing.

    ``as_of`` hides items that open later; ``overdue`` keeps only items whose deadline is
    before ``as_of`` (``True``) or only the others (``False``). ``after``: the page starts
    after this urgency key.
    """

    as_of: dt.date
    role: str | None = None
    district: str | None = None
    operator_id: str | None = None
    round_year: int | None = None
    state: str | None = None
    overdue: bool | None = None
    due_from: dt.date | None = None
    due_until: dt.date | None = None
    after: UrgencyKey | None = None
    limit: int | None = 50

    def matches(self, item: WorkItem) -> bool:
        """Whether ``item`` passes the filter (the memory store; SQL says the same)."""
        due = item.due_on
        overdue = due is not None and due < self.as_of
        return (
            (item.opens_on is None or item.opens_on <= self.as_of)
            and (self.role is None or item.role == self.role)
            and (self.district is None or item.district == self.district)
            and (self.operator_id is None or item.operator_id == self.operator_id)
            and (self.round_year is None or item.round_year == self.round_year)
            and (self.state is None or item.state == self.state)
            and (self.overdue is None or overdue is self.overdue)
            and (self.due_from is None or (due is not None and due >= self.due_from))
            and (self.due_until is None or (due is not None and due <= self.due_until))
            and (self.after is None or item.key > self.after)
        )


@attrs.frozen
class CaseCount:
    """How many cases of a round and district stand in a state (from indexed columns)."""

    round_year: int
    district: str
    state: str
    count: int


@attrs.frozen
class NoticeRunning:
    """A case whose public notice has not ended (第十三条), from indexed columns."""

    case_id: str
    round_year: int
    district: str
    state: str
    notice_due: dt.date


_NOTICE_STATES = ("publicized", "objected", "verified")


@runtime_checkable
class WorkQueueStore(Protocol):
    """What a store answers about the projection (every bundled store does)."""

    def work_items(self, query: WorkItemQuery) -> list[WorkItem]:
        """Items matching ``query`` in urgency order, at most ``query.limit``."""
        ...

    def count_work_items(self, query: WorkItemQuery) -> int:
        """How many items match ``query`` (``after`` and ``limit`` ignored)."""
        ...

    def replace_work_items(self, cases: Sequence[tuple[str, int, Sequence[WorkItem]]]) -> int:
        """For each ``(case_id, version, items)``: replace the case's rows, if the case is
        still at ``version`` (a commit since then wrote newer rows). Returns how many were
        replaced."""
        ...

    def work_queue_stale(self) -> bool:
        """Whether rows may be missing (written without a projection, or not built since
        the migration): `replace_work_items` for every case, then `mark_work_queue_built`."""
        ...

    def mark_work_queue_built(self) -> None:
        """Record that the projection was rebuilt from every case."""
        ...

    def case_counts(
        self, round_year: int | None = None, district: str | None = None
    ) -> list[CaseCount]:
        """Cases by round, district and state."""
        ...

    def notices_running(
        self, as_of: dt.date, round_year: int | None = None, district: str | None = None
    ) -> list[NoticeRunning]:
        """Cases under notice (publicized, objected, verified) whose notice ends on or
        after ``as_of``, ending soonest first."""
        ...


# -- in memory -------------------------------------------------------------------------------


class MemoryWorkQueue:
    """The projection in a dictionary (mixed into `MemoryStore`); the store's lock guards it."""

    _lock: threading.RLock
    _cases: dict[str, Case]
    _work_items: dict[str, tuple[WorkItem, ...]]
    _work_stale: bool

    def _work(self) -> dict[str, tuple[WorkItem, ...]]:
        # Created on first use: the store's own __init__ need not know of the projection.
        work: dict[str, tuple[WorkItem, ...]] | None = getattr(self, "_work_items", None)
        if work is None:
            work = self._work_items = {}
            self._work_stale = False
        return work

    def _project(self, change: Change) -> None:
        """Called by the store while it applies ``change`` (under its lock)."""
        items = change.work_items
        self._work()[change.case.id] = items or ()
        if items is None:
            self._work_stale = True

    def work_items(self, query: WorkItemQuery) -> list[WorkItem]:
        """Items matching ``query`` in urgency order."""
        with self._lock:
            found = [i for items in self._work().values() for i in items if query.matches(i)]
        found.sort(key=lambda item: item.key)
        return found if query.limit is None else found[: query.limit]

    def count_work_items(self, query: WorkItemQuery) -> int:
        """How many items match ``query``."""
        return len(self.work_items(attrs.evolve(query, after=None, limit=None)))

    def replace_work_items(self, cases: Sequence[tuple[str, int, Sequence[WorkItem]]]) -> int:
        """Replace each case's rows if it is still at that version."""
        replaced = 0
        with self._lock:
            stored = self._cases
            for case_id, version, items in cases:
                case = stored.get(case_id)
                if case is not None and case.version == version:
                    self._work()[case_id] = tuple(items)
                    replaced += 1
        return replaced

    def work_queue_stale(self) -> bool:
        """Whether a change was written without its projection."""
        with self._lock:
            self._work()
            return self._work_stale

    def mark_work_queue_built(self) -> None:
        """Record a rebuild."""
        with self._lock:
            self._work()
            self._work_stale = False

    def case_counts(
        self, round_year: int | None = None, district: str | None = None
    ) -> list[CaseCount]:
        """Cases by round, district and state."""
        counts: dict[tuple[int, str, str], int] = {}
        with self._lock:
            cases = list(self._cases.values())
        for case in cases:
            if (round_year is None or case.round_year == round_year) and (
                district is None or case.district == district
            ):
                key = (case.round_year, case.district, case.state.value)
                counts[key] = counts.get(key, 0) + 1
        return [CaseCount(*key, count) for key, count in sorted(counts.items())]

    def notices_running(
        self, as_of: dt.date, round_year: int | None = None, district: str | None = None
    ) -> list[NoticeRunning]:
        """Cases whose notice has not ended."""
        with self._lock:
            cases = list(self._cases.values())
        found = [
            NoticeRunning(
                case.id, case.round_year, case.district, case.state.value, case.notice.due
            )
            for case in cases
            if case.state.value in _NOTICE_STATES
            and case.notice is not None
            and case.notice.due >= as_of
            and (round_year is None or case.round_year == round_year)
            and (district is None or case.district == district)
        ]
        return sorted(found, key=lambda n: (n.notice_due, n.case_id))


# -- SQL ----------------------------------------------------------------------------------------

_COLUMNS = (
    "case_id",
    "obligation",
    "role",
    "district",
    "base_id",
    "base_name",
    "operator_id",
    "round_year",
    "state",
    "version",
    "actions",
    "article_zh",
    "article_en",
    "since",
    "opens_on",
    "due_on",
    "ready_on",
)
_DATES = frozenset({"since", "opens_on", "due_on", "ready_on"})
_KEY = "(sort_on, since, case_id, obligation, role)"


def _ddl(date: str) -> str:
    return f"""
CREATE TABLE work_queue (
    case_id TEXT NOT NULL,
    obligation TEXT NOT NULL,
    role TEXT NOT NULL,
    district TEXT NOT NULL,
    base_id TEXT NOT NULL,
    base_name TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    round_year INTEGER NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    actions TEXT NOT NULL,
    article_zh TEXT NOT NULL,
    article_en TEXT NOT NULL,
    since {date} NOT NULL,
    opens_on {date},
    due_on {date},
    ready_on {date},
    sort_on {date} NOT NULL,
    PRIMARY KEY (case_id, obligation, role)
);
CREATE INDEX work_queue_role ON work_queue (role, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_district ON work_queue
    (role, district, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_operator ON work_queue
    (role, operator_id, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_role_due ON work_queue
    (role, sort_on, since, case_id, obligation) WHERE due_on IS NOT NULL;
CREATE INDEX work_queue_district_due ON work_queue
    (role, district, sort_on, since, case_id, obligation) WHERE due_on IS NOT NULL;
CREATE INDEX work_queue_due ON work_queue
    (sort_on, since, case_id, obligation, role, opens_on) WHERE due_on IS NOT NULL;
CREATE INDEX cases_round_district_state ON cases (round_year, district, state);
CREATE INDEX cases_state_notice ON cases (state, notice_due);
CREATE TABLE work_queue_status (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO work_queue_status (name, value)
    SELECT 'stale', 'migrated' WHERE EXISTS (SELECT 1 FROM cases);
"""


SQLITE_M004 = _ddl("TEXT")
"""``m004_work_queue`` for SQLite (dates as ISO text)."""
POSTGRES_M004 = _ddl("DATE")
"""``m004_work_queue`` for PostgreSQL."""


def _round_and_district(
    clauses: list[str], params: list[Any], round_year: int | None, district: str | None
) -> None:
    """Narrow a query of ``cases`` to a round and a district, where given."""
    for column, value in (("round_year", round_year), ("district", district)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)


class SQLWorkQueue:
    """The projection in the ``work_queue`` table (mixed into the SQL stores)."""

    # Provided by SQLStoreBase and the dialect.
    _sql: Callable[[str], str]
    _all: Callable[..., list[Any]]
    _one: Callable[[str, Sequence[Any]], Any]
    _connection: Callable[[], contextlib.AbstractContextManager[Any]]
    _write_transaction: Callable[[], contextlib.AbstractContextManager[Any]]
    _date_param: Callable[[dt.date], object]
    _date_value: Callable[[object], dt.date]

    def _queue_row(self, item: WorkItem) -> tuple[Any, ...]:
        values: list[Any] = []
        for column in _COLUMNS:
            value = getattr(item, column)
            if column == "actions":
                value = " ".join(value)
            elif column in _DATES and value is not None:
                value = self._date_param(value)
            values.append(value)
        values.append(self._date_param(item.sort_on))
        return tuple(values)

    def _queue_insert_sql(self) -> str:
        columns = (*_COLUMNS, "sort_on")
        return self._sql(
            f"INSERT INTO work_queue ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )

    def _project(self, connection: Any, changes: Sequence[Change]) -> None:
        """Replace the rows of the changed cases, inside the store's write transaction (a
        case written several times in one batch keeps the rows of its last change)."""
        last = {change.case.id: change for change in changes}
        cursor = connection.cursor()
        try:
            cursor.executemany(
                self._sql("DELETE FROM work_queue WHERE case_id = ?"), [(key,) for key in last]
            )
            rows = [self._queue_row(i) for c in last.values() for i in (c.work_items or ())]
            if rows:
                cursor.executemany(self._queue_insert_sql(), rows)
            # One marker per case, not one shared row: writers of different cases never
            # wait for each other here (the queue is stale while any marker is left).
            unprojected = [(f"stale:{key}",) for key, c in last.items() if c.work_items is None]
            if unprojected:
                cursor.executemany(
                    self._sql(
                        "INSERT INTO work_queue_status (name, value) VALUES (?, 'unprojected') "
                        "ON CONFLICT (name) DO NOTHING"
                    ),
                    unprojected,
                )
        finally:
            cursor.close()

    def _queue_item(self, row: Sequence[Any]) -> WorkItem:
        values = dict(zip(_COLUMNS, row, strict=False))
        for column in _DATES:
            if values[column] is not None:
                values[column] = self._date_value(values[column])
        values["actions"] = tuple(str(values["actions"]).split())
        values["round_year"] = int(values["round_year"])
        values["version"] = int(values["version"])
        return WorkItem(**values)

    def _queue_where(self, query: WorkItemQuery) -> tuple[str, list[Any]]:
        today = self._date_param(query.as_of)
        clauses = ["(opens_on IS NULL OR opens_on <= ?)"]
        params: list[Any] = [today]
        for column in ("role", "district", "operator_id", "round_year", "state"):
            value = getattr(query, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        # A row with a deadline sorts by it (sort_on = due_on), so "overdue" and "due between"
        # are ranges of the partial indexes on rows with a deadline.
        dated = query.overdue is True or query.due_from is not None or query.due_until is not None
        if dated:
            clauses.append("due_on IS NOT NULL")
        if query.overdue is True:
            clauses.append("sort_on < ?")
            params.append(today)
        elif query.overdue is False and (query.due_from is None or query.due_from < query.as_of):
            clauses.append("(due_on IS NULL OR due_on >= ?)")
            params.append(today)
        if query.due_from is not None:
            clauses.append("sort_on >= ?")
            params.append(self._date_param(query.due_from))
        if query.due_until is not None:
            clauses.append("sort_on <= ?")
            params.append(self._date_param(query.due_until))
        if query.after is not None:
            clauses.append(f"{_KEY} > (?, ?, ?, ?, ?)")
            sort_on, since, *rest = query.after
            params.extend((self._date_param(sort_on), self._date_param(since), *rest))
        return " AND ".join(clauses), params

    def work_items(self, query: WorkItemQuery) -> list[WorkItem]:
        """Items matching ``query`` in urgency order (indexed columns only)."""
        where, params = self._queue_where(query)
        limit = "" if query.limit is None else f" LIMIT {int(query.limit)}"
        rows = self._all(
            f"SELECT {', '.join(_COLUMNS)} FROM work_queue WHERE {where} "
            f"ORDER BY sort_on, since, case_id, obligation, role{limit}",
            params,
        )
        return [self._queue_item(row) for row in rows]

    def count_work_items(self, query: WorkItemQuery) -> int:
        """How many items match ``query``."""
        where, params = self._queue_where(attrs.evolve(query, after=None))
        row = self._one(f"SELECT COUNT(*) FROM work_queue WHERE {where}", params)
        return int(row[0])

    def replace_work_items(self, cases: Sequence[tuple[str, int, Sequence[WorkItem]]]) -> int:
        """Replace each case's rows if it is still at that version (one transaction)."""
        replaced = 0
        with self._write_transaction() as connection:
            for case_id, version, items in cases:
                current = connection.execute(
                    self._sql("SELECT version FROM cases WHERE id = ?"), (case_id,)
                ).fetchone()
                if current is None or int(current[0]) != version:
                    continue
                connection.execute(
                    self._sql("DELETE FROM work_queue WHERE case_id = ?"), (case_id,)
                )
                if items:
                    cursor = connection.cursor()
                    cursor.executemany(
                        self._queue_insert_sql(), [self._queue_row(i) for i in items]
                    )
                    cursor.close()
                replaced += 1
        return replaced

    def work_queue_stale(self) -> bool:
        """Whether the projection must be rebuilt."""
        return (
            self._one(
                "SELECT value FROM work_queue_status WHERE name = 'stale' OR substr(name, 1, 6) = 'stale:' "
                "LIMIT 1",
                (),
            )
            is not None
        )

    def mark_work_queue_built(self) -> None:
        """Record a rebuild."""
        with self._connection() as connection:
            connection.execute(
                "DELETE FROM work_queue_status WHERE name = 'stale' OR substr(name, 1, 6) = 'stale:'"
            )

    def case_counts(
        self, round_year: int | None = None, district: str | None = None
    ) -> list[CaseCount]:
        """Cases by round, district and state (indexed columns only)."""
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        _round_and_district(clauses, params, round_year, district)
        rows = self._all(
            f"SELECT round_year, district, state, COUNT(*) FROM cases WHERE {' AND '.join(clauses)} "
            "GROUP BY round_year, district, state ORDER BY round_year, district, state",
            params,
        )
        return [CaseCount(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def notices_running(
        self, as_of: dt.date, round_year: int | None = None, district: str | None = None
    ) -> list[NoticeRunning]:
        """Cases whose notice has not ended (indexed columns only)."""
        clauses = [f"state IN ({', '.join('?' for _ in _NOTICE_STATES)})", "notice_due >= ?"]
        params: list[Any] = [*_NOTICE_STATES, self._date_param(as_of)]
        _round_and_district(clauses, params, round_year, district)
        rows = self._all(
            f"SELECT id, round_year, district, state, notice_due FROM cases "
            f"WHERE {' AND '.join(clauses)} ORDER BY notice_due, id",
            params,
        )
        return [
            NoticeRunning(str(r[0]), int(r[1]), str(r[2]), str(r[3]), self._date_value(r[4]))
            for r in rows
        ]
