"""The in-memory store: a real backend (same contract as SQLite and PostgreSQL), kept in
dictionaries behind one lock. For tests, simulations and scripts that need no durability.

It refuses what the database stores refuse (text no database keeps, over-long keys), so a
test against it says what production will do."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from .._closing import Closing
from ..case import Case, DeclarationRound, State
from ..encoding import check_text
from ..errors import CaseNotFoundError, ConcurrencyConflictError
from ..events import Event
from ..history import HistoryEntry
from ._protocol import CaseQuery, Change, CommandResult, OutboxRecord
from ._rows import refuse_unstorable, refuse_unstorable_round
from ._work_queue import MemoryWorkQueue

if TYPE_CHECKING:
    from .tokens import MemoryTokens

__all__ = ["MemoryStore", "database_exists", "open_url"]


class MemoryStore(MemoryWorkQueue, Closing):
    """Cases, history and outbox in memory; thread-safe; lost when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cases: dict[str, Case] = {}
        self._history: dict[str, list[HistoryEntry]] = {}
        self._outbox: list[OutboxRecord] = []
        self._keys: dict[str, CommandResult] = {}
        self._consumers: dict[str, int] = {}
        self._rounds: dict[int, DeclarationRound] = {}
        self._by_base: dict[str, list[str]] = {}
        """Case ids by base: declare looks the base's cases up, and must not scan them all."""
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at the named points of the SQL stores' writes (``"case"``, ``"history"``,
        ``"outbox"``, ``"before_commit"``; a round's: ``"round"`` first), all of them once
        the write's checks passed and before anything is applied (the lock held, as the SQL
        stores hold their transaction): the seam tests force interleavings and failures
        through, ``None`` in production."""

    def commit(self, change: Change) -> None:
        """Write ``change`` atomically (see `CaseStore`)."""
        self.commit_many([change])

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes atomically: every check passes before anything is written."""
        for change in changes:
            refuse_unstorable(change)
        with self._lock:
            versions: dict[str, int] = {}
            keys: set[str] = set()
            bases: dict[str, list[str]] = {}  # the batch's new cases, by base
            for change in changes:
                case = change.case
                current = self._cases.get(case.id)
                actual = versions.get(case.id, current.version if current is not None else 0)
                if actual != change.expected_version:
                    if actual == 0 and change.expected_version:
                        raise CaseNotFoundError.no_case(case.id)
                    raise ConcurrencyConflictError.stale_version(
                        case.id, change.expected_version, actual
                    )
                key = change.idempotency_key
                if key is not None and (key in self._keys or key in keys):
                    raise ConcurrencyConflictError.key_taken(key)
                if change.base_cases is not None and change.expected_version == 0:
                    ids = [*self._by_base.get(case.base_id, ()), *bases.get(case.base_id, ())]
                    now = {(i, versions.get(i, self._cases[i].version if i in self._cases else 0))
                           for i in ids}  # fmt: skip
                    if now != set(change.base_cases):
                        raise ConcurrencyConflictError.base_changed(case.base_id)
                    bases.setdefault(case.base_id, []).append(case.id)
                versions[case.id] = case.version
                if key is not None:
                    keys.add(key)
            self._checkpoints("case", "history", "outbox", "before_commit")
            for change in changes:
                self._apply(change)

    def _checkpoints(self, *names: str) -> None:
        if self.on_checkpoint is not None:
            for name in names:
                self.on_checkpoint(name)

    def _apply(self, change: Change) -> None:
        case = change.case
        if case.id not in self._cases:
            self._by_base.setdefault(case.base_id, []).append(case.id)
        self._cases[case.id] = case
        self._history.setdefault(case.id, []).append(change.history)
        self._project(change)
        self._append_outbox(change.events)
        if change.idempotency_key is not None:
            self._keys[change.idempotency_key] = CommandResult(
                case.id, case.version, change.command_digest
            )

    def _append_outbox(self, events: Sequence[Event]) -> None:
        start = len(self._outbox)
        self._outbox.extend(
            OutboxRecord(start + offset + 1, event) for offset, event in enumerate(events)
        )

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        with self._lock:
            try:
                return self._cases[case_id]
            except KeyError:
                raise CaseNotFoundError.no_case(case_id) from None

    def get_many(self, case_ids: Sequence[str]) -> dict[str, Case]:
        """The cases with these ids that exist, by id."""
        with self._lock:
            return {i: self._cases[i] for i in case_ids if i in self._cases}

    def last_hashes(self, case_ids: Sequence[str]) -> dict[str, str]:
        """The hash of each known case's newest history entry, by id."""
        with self._lock:
            return {i: self._history[i][-1].hash for i in case_ids if self._history.get(i)}

    def command_results(self, idempotency_keys: Sequence[str]) -> dict[str, CommandResult]:
        """What each keyed command wrote the first time, by key."""
        with self._lock:
            return {key: self._keys[key] for key in idempotency_keys if key in self._keys}

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query``, in declaration order."""
        with self._lock:
            if query.base_id is not None:
                cases = [self._cases[i] for i in self._by_base.get(query.base_id, ())]
            else:
                cases = list(self._cases.values())
        return (case for case in cases if query.matches(case))

    def find_states(self, query: CaseQuery) -> Iterator[tuple[str, State]]:
        """The id and state of each case `find` returns."""
        return ((case.id, case.state) for case in self.find(query))

    def history(self, case_id: str) -> list[HistoryEntry]:
        """A case's history, oldest first."""
        with self._lock:
            return list(self._history.get(case_id, ()))

    def last_hash(self, case_id: str) -> str | None:
        """The hash of the newest history entry."""
        with self._lock:
            entries = self._history.get(case_id)
            return entries[-1].hash if entries else None

    def command_result(self, idempotency_key: str) -> CommandResult | None:
        """What a keyed command wrote the first time."""
        with self._lock:
            return self._keys.get(idempotency_key)

    def read_outbox(self, after: int = 0, limit: int = 100) -> list[OutboxRecord]:
        """Events after position ``after``."""
        with self._lock:
            return self._outbox[max(after, 0) : max(after, 0) + limit]

    def consumer_position(self, consumer: str) -> int:
        """A named consumer's cursor."""
        with self._lock:
            return self._consumers.get(consumer, 0)

    def acknowledge(self, consumer: str, position: int) -> None:
        """Advance a consumer's cursor (never backwards)."""
        check_text("consumer", consumer, indexed=True)
        with self._lock:
            self._consumers[consumer] = max(self._consumers.get(consumer, 0), position)

    def save_round(
        self,
        declaration_round: DeclarationRound,
        entry: HistoryEntry | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        """Record a declaration round with its history entry and events, atomically."""
        refuse_unstorable_round(declaration_round, entry, events)
        with self._lock:
            if entry is not None:
                chain = self._history.get(entry.case_id, [])
                if len(chain) != entry.sequence - 1:
                    raise ConcurrencyConflictError.stale_version(
                        entry.case_id, entry.sequence - 1, len(chain)
                    )
            self._checkpoints("round", "history", "outbox", "before_commit")
            if entry is not None:
                self._history.setdefault(entry.case_id, []).append(entry)
            self._rounds[declaration_round.year] = declaration_round
            self._append_outbox(events)

    def rounds(self) -> list[DeclarationRound]:
        """Every declaration round, by year."""
        with self._lock:
            return [self._rounds[year] for year in sorted(self._rounds)]

    def deadlines_due(self, before: dt.date) -> Iterator[Case]:
        """Cases whose notice ended before ``before``, and cases holding a title (certified,
        or awaiting its withdrawal after a failed evaluation)."""
        with self._lock:
            cases = list(self._cases.values())
        for case in cases:
            if case.state.awaits_certification and case.notice is not None:
                if case.notice.due < before:
                    yield case
            elif case.state.holds_title and case.validity is not None:
                yield case  # reminders, reports and expiry fall due throughout the validity

    def api_tokens(self) -> MemoryTokens:
        """The API tokens, beside the cases, for as long as the store lives."""
        from .tokens import MemoryTokens  # noqa: PLC0415 - tokens import the stores

        with self._lock:
            tokens: MemoryTokens | None = getattr(self, "_tokens", None)
            if tokens is None:
                tokens = self._tokens = MemoryTokens()
            return tokens

    def close(self) -> None:
        """Nothing to release."""


def open_url(url: str, *, create: bool = True) -> MemoryStore:
    """``memory://``: a new, empty store (the ``memory`` entry point of `open_store`; it
    never exists before, so ``create`` changes nothing)."""
    return MemoryStore()


def database_exists(url: str) -> bool:
    """A store in memory never exists before it is opened."""
    return False
