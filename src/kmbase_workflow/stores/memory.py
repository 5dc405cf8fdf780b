"""The in-memory store: a real backend (same contract as SQLite and PostgreSQL), kept in
dictionaries behind one lock. For tests, simulations and scripts that need no durability."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence

from .._i18n import Text
from ..case import Case, DeclarationRound, State
from ..errors import CaseNotFoundError, ConcurrencyConflictError
from ..history import HistoryEntry
from ._protocol import CaseQuery, Change, CommandResult, OutboxRecord

__all__ = ["MemoryStore"]


def conflict(case_id: str, expected: int, actual: int) -> ConcurrencyConflictError:
    """The error every store raises for a stale write."""
    return ConcurrencyConflictError(
        Text(
            zh=f"案件 {case_id} 已被他人修改（当前版本 {actual}，你持有的版本 {expected}），未写入任何内容",
            en=f"case {case_id} changed meanwhile (now version {actual}, you held {expected}); "
            "nothing was written",
        ),
        hint=Text(zh="请重新读取案件后再操作", en="reload the case and try again"),
    )


def key_taken(key: str) -> ConcurrencyConflictError:
    """The error every store raises when an idempotency key was already used."""
    return ConcurrencyConflictError(
        Text(
            zh=f"幂等键 {key} 已被另一次执行使用，未写入任何内容",
            en=f"idempotency key {key} was used by another run; nothing was written",
        ),
        hint=Text(zh="重新执行会返回首次结果", en="run again to get the first result"),
    )


def not_found(case_id: str) -> CaseNotFoundError:
    """The error every store raises for an unknown case id."""
    return CaseNotFoundError(
        Text(zh=f"没有编号为 {case_id} 的案件", en=f"no case with id {case_id}"),
        hint=Text(zh="请检查案件编号", en="check the case id"),
    )


class MemoryStore:
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

    def commit(self, change: Change) -> None:
        """Write ``change`` atomically (see `CaseStore`)."""
        self.commit_many([change])

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes atomically: every check passes before anything is written."""
        with self._lock:
            versions: dict[str, int] = {}
            keys: set[str] = set()
            for change in changes:
                case = change.case
                current = self._cases.get(case.id)
                actual = versions.get(case.id, current.version if current is not None else 0)
                if actual != change.expected_version:
                    if actual == 0 and change.expected_version:
                        raise not_found(case.id)
                    raise conflict(case.id, change.expected_version, actual)
                key = change.idempotency_key
                if key is not None and (key in self._keys or key in keys):
                    raise key_taken(key)
                versions[case.id] = case.version
                if key is not None:
                    keys.add(key)
            for change in changes:
                self._apply(change)

    def _apply(self, change: Change) -> None:
        case = change.case
        if case.id not in self._cases:
            self._by_base.setdefault(case.base_id, []).append(case.id)
        self._cases[case.id] = case
        self._history.setdefault(case.id, []).append(change.history)
        start = len(self._outbox)
        self._outbox.extend(
            OutboxRecord(start + offset + 1, event) for offset, event in enumerate(change.events)
        )
        if change.idempotency_key is not None:
            self._keys[change.idempotency_key] = CommandResult(case.id, case.version)

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        with self._lock:
            try:
                return self._cases[case_id]
            except KeyError:
                raise not_found(case_id) from None

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query``, in declaration order."""
        with self._lock:
            if query.base_id is not None:
                cases = [self._cases[i] for i in self._by_base.get(query.base_id, ())]
            else:
                cases = list(self._cases.values())
        return (case for case in cases if query.matches(case))

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
        with self._lock:
            self._consumers[consumer] = max(self._consumers.get(consumer, 0), position)

    def save_round(self, declaration_round: DeclarationRound) -> None:
        """Record a declaration round."""
        with self._lock:
            self._rounds[declaration_round.year] = declaration_round

    def rounds(self) -> list[DeclarationRound]:
        """Every declaration round, by year."""
        with self._lock:
            return [self._rounds[year] for year in sorted(self._rounds)]

    def deadlines_due(self, before: dt.date) -> Iterator[Case]:
        """Cases whose notice or validity ends before ``before``."""
        with self._lock:
            cases = list(self._cases.values())
        for case in cases:
            if case.state in (State.PUBLICIZED, State.VERIFIED) and case.notice is not None:
                if case.notice.due < before:
                    yield case
            elif case.state is State.CERTIFIED and case.validity is not None:
                yield case  # reminders and reports fall due throughout the validity

    def close(self) -> None:
        """Nothing to release."""
