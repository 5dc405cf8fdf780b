"""What a store must do: the protocol every backend implements.

A store keeps cases, their hash-chained history and the outbox of events. A case it
returns may hold its application deferred (``kmbase_workflow.case.DeferredApplication``):
read when first used, never for a step that does not judge it. Its one write,
`CaseStore.commit`, is atomic (as is `CaseStore.save_round`, a declaration round's): the new case, its history entry, its events and its
idempotency key are all written, or none is. A commit whose ``expected_version`` is not the
stored version raises `ConcurrencyConflictError` and writes
nothing.

Every store refuses, before writing anything, what one of them could not keep (NUL
characters, lone surrogates, numbers that are not finite, indexed text over
`INDEXED_TEXT_LIMIT` bytes), with a
`FieldValueError` naming the field; and translates its driver's errors into the library's
(`StoreBusyError`, `StoreUnavailableError`, `StoreError`, `ConcurrencyConflictError`), so a
caller never needs to import ``sqlite3`` or ``psycopg``. Every bundled store may be shared by
the threads of a process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

import attrs

from ..case import Case, DeclarationRound, State
from ..encoding import ChangeData
from ..events import Event
from ..history import HistoryEntry
from ._work_queue import WorkItem

__all__ = ["CaseQuery", "CaseStore", "Change", "CommandResult", "OutboxRecord", "RawRowStore"]


def reads_without_waiting(source: object) -> bool:
    """Whether ``source`` (a store, or its token rows) reads through a connection no writer
    holds, so a read never waits for a transaction to end: it says so with
    ``reads_without_waiting = True`` (a SQLite file in WAL mode, memory's token rows)."""
    return getattr(source, "reads_without_waiting", False) is True


@attrs.frozen
class Change:
    """One atomic write: the case after a step, and what the step recorded."""

    case: Case
    expected_version: int
    """The version the writer loaded (0 for a new case)."""
    history: HistoryEntry
    events: tuple[Event, ...]
    idempotency_key: str | None = None
    command_digest: str | None = None
    """With ``idempotency_key``: the digest of the command that made this change (its trigger,
    case, actor and payload, as ``Workflow.prepare`` digests it), kept with the key so
    a replay is of the very same command."""
    work_items: tuple[WorkItem, ...] | None = None
    """The case's pending obligations after the step (the work-queue projection, written in
    the same transaction); ``None``: not derived, and the projection is marked stale."""
    data: ChangeData | None = attrs.field(default=None, eq=False, repr=False)
    """The records above as plain data, made once by the step that built them (its digests
    were computed from it) and reused for the rows; used only while it describes these very
    records (`kmbase_workflow.stores._rows.change_data`)."""
    base_cases: tuple[tuple[str, int], ...] | None = None
    """For a declaration: the (id, version) of every case of its base that its rules were
    checked against (第九条, 第十五条). The store writes it only while the base's cases are
    still exactly those, and refuses it otherwise (`ConcurrencyConflictError`): two
    declarations of one base checked at once cannot both be written. ``None``: not checked."""


@attrs.frozen
class CommandResult:
    """What an idempotency key produced the first time: the case and the version it wrote,
    and the digest of the command (``None`` for a key stored before digests were kept)."""

    case_id: str
    version: int
    digest: str | None = None


@attrs.frozen
class OutboxRecord:
    """An event in the durable log, at its position (1, 2, 3 … in commit order)."""

    position: int
    event: Event


@attrs.frozen(kw_only=True)
class CaseQuery:
    """A filter over cases; ``None`` fields do not filter."""

    state: State | None = None
    states: Sequence[State] | None = None
    round_year: int | None = None
    district: str | None = None
    base_id: str | None = None
    operator_code: str | None = None
    """The unified social credit code of the base's operator as it stands now (after any
    filed change of operator, 第十九条)."""
    base_name: str | None = None
    """The base's name as it stands now (after any filed change of name, 第十九条)."""

    def matches(self, case: Case) -> bool:
        """Whether ``case`` passes this filter (stores may translate it to SQL instead)."""
        return (
            (self.state is None or case.state is self.state)
            and (self.states is None or case.state in self.states)
            and (self.round_year is None or case.round_year == self.round_year)
            and (self.district is None or case.district == self.district)
            and (self.base_id is None or case.base_id == self.base_id)
            and (self.operator_code is None or case.operator_code == self.operator_code)
            and (self.base_name is None or case.base_name == self.base_name)
        )


@runtime_checkable
class CaseStore(Protocol):
    """Durable (or in-memory) state of the workflow."""

    def commit(self, change: Change) -> None:
        """Write ``change`` atomically, or raise ``ConcurrencyConflictError`` and write nothing."""
        ...

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none (bulk runs)."""
        ...

    def get(self, case_id: str) -> Case:
        """The case with this id (``CaseNotFoundError`` if there is none)."""
        ...

    def get_many(self, case_ids: Sequence[str]) -> dict[str, Case]:
        """The cases with these ids that exist, by id: what `get` returns for each, read
        in one query (a bulk run reads a chunk at once)."""
        ...

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query``, in declaration order, without loading all of them."""
        ...

    def find_states(self, query: CaseQuery) -> Iterator[tuple[str, State]]:
        """The id and state of each case `find` would return, in the same order, without
        reading the cases (a bulk run selects by this, then reads a chunk at a time)."""
        ...

    def history(self, case_id: str) -> list[HistoryEntry]:
        """A case's history, oldest first."""
        ...

    def last_hash(self, case_id: str) -> str | None:
        """The hash of the case's newest history entry (``None`` for an unknown case)."""
        ...

    def last_hashes(self, case_ids: Sequence[str]) -> dict[str, str]:
        """`last_hash` of each known case, by id, in one query."""
        ...

    def command_result(self, idempotency_key: str) -> CommandResult | None:
        """What the command with this key wrote, if it ran before."""
        ...

    def command_results(self, idempotency_keys: Sequence[str]) -> dict[str, CommandResult]:
        """`command_result` of each key that ran before, by key, in one query."""
        ...

    def read_outbox(self, after: int = 0, limit: int = 100) -> list[OutboxRecord]:
        """Events after position ``after``, oldest first, at most ``limit``."""
        ...

    def consumer_position(self, consumer: str) -> int:
        """The last position a named consumer acknowledged (0 if it never did)."""
        ...

    def acknowledge(self, consumer: str, position: int) -> None:
        """Move a named consumer's cursor to ``position`` (never backwards)."""
        ...

    def save_round(
        self,
        declaration_round: DeclarationRound,
        entry: HistoryEntry | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        """Record a year's declaration round (replacing that year's round) with what opening
        it recorded: ``entry``, the next entry of the round's chain in the history (its
        ``case_id`` `DeclarationRound.chain_id <kmbase_workflow.case.DeclarationRound.chain_id>`),
        and ``events`` for the outbox, in one transaction: all of them, or none. An entry
        that is not the next of its chain (another writer opened the round first) raises
        `ConcurrencyConflictError` and writes nothing."""
        ...

    def rounds(self) -> list[DeclarationRound]:
        """Every declaration round, by year."""
        ...

    def deadlines_due(self, before: dt.date) -> Iterator[Case]:
        """Cases with a public notice or validity ending before ``before`` that are still
        in the state the deadline concerns (publicized/verified, certified)."""
        ...

    def close(self) -> None:
        """Release the store's resources (its connection or pool); closing twice is harmless."""
        ...

    def __enter__(self) -> Self:
        """``with open_store(url) as store:`` closes the store when the block ends."""
        ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...


@runtime_checkable
class RawRowStore(Protocol):
    """A store that shows its rows as stored, so the audit can check every column that
    summarises the data (state, version, round, district, base, deadlines …) against it
    (`kmbase_workflow.audit.verify_store`; every bundled SQL store is one).

    ``raw_rows(table, case_id)`` returns the rows of ``cases``, ``applications``,
    ``history`` or ``outbox`` (of one case, or all), every column by name, ``data``
    decoded from JSON, dates and times as ISO text.
    """

    def raw_rows(self, table: str, case_id: str | None = None) -> list[dict[str, Any]]:
        """Rows as stored (see the class doc)."""
        ...
