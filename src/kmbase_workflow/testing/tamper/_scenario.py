"""The database a tamper alters: the demonstration's round written through the store under
test, and a checkpoint signed before any alteration."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import attrs

from ...audit import Checkpoint, checkpoint
from ...case import Case, DeclarationRound
from ...clock import FixedClock
from ...events import Event
from ...history import HistoryEntry
from ...stores import CaseStore, Change, MemoryStore, case_columns, history_columns
from ._databases import Database

TAMPER_KEY = b"tamper-suite-checkpoint-key-0123456789"
"""The key the suite signs its checkpoints with (a test key: never use it in production)."""


_RoundOpening = tuple[DeclarationRound, HistoryEntry | None, tuple[Event, ...]]
"""What `CaseStore.save_round` was given: the round, its chain's entry, its events."""


class _Recorder(MemoryStore):
    """A memory store that remembers every change and every round it opened, to replay them
    into the store under test."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[Change] = []
        self.opened: list[_RoundOpening] = []

    def save_round(
        self,
        declaration_round: DeclarationRound,
        entry: HistoryEntry | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        super().save_round(declaration_round, entry, events)
        self.opened.append((declaration_round, entry, tuple(events)))

    def commit_many(self, changes: Sequence[Change]) -> None:
        super().commit_many(changes)
        self.changes.extend(changes)


@functools.cache
def _demo_changes() -> tuple[tuple[_RoundOpening, ...], tuple[Change, ...]]:
    """The demonstration's rounds as opened (they come first) and its changes."""
    from ...demo import run_demo  # noqa: PLC0415 - the demo imports the exports

    recorder = _Recorder()
    run_demo(recorder)
    return tuple(recorder.opened), tuple(recorder.changes)


@attrs.frozen
class Scenario:
    """The database a tamper alters: a round written through ``store``, and its checkpoint."""

    store: CaseStore
    db: Database
    changes: tuple[Change, ...]
    checkpoint: Checkpoint
    rounds: tuple[DeclarationRound, ...] = ()
    """The rounds opened (through ``save_round``, with their chain's entry and event)."""

    @property
    def target(self) -> Case:
        """The case with the longest history (certified, reported on, expired)."""
        newest = {change.case.id: change.case for change in self.changes}
        return max(newest.values(), key=lambda case: case.version)

    def snapshot(self, case_id: str, version: int) -> Change:
        """The change that wrote ``case_id`` at ``version``."""
        return next(c for c in self.changes if c.case.id == case_id and c.case.version == version)

    def write_case(self, case: Case) -> None:
        """Overwrite a case row, every column consistent with the data."""
        columns = case_columns(case)
        self.db.execute(
            "UPDATE cases SET base_id = ?, round_year = ?, state = ?, version = ?, "
            "notice_due = ?, validity_due = ?, data = ? WHERE id = ?",
            (
                columns["base_id"],
                columns["round_year"],
                columns["state"],
                columns["version"],
                columns["notice_due"],
                columns["validity_due"],
                self.db.json(columns["data"]),
                case.id,
            ),
        )

    def write_history(self, case_id: str, entries: Sequence[HistoryEntry]) -> None:
        """Replace a case's history rows (the guards must be dropped first)."""
        self.db.execute("DELETE FROM history WHERE case_id = ?", (case_id,))
        for entry in entries:
            self.insert_history(entry)

    def insert_history(
        self, entry: HistoryEntry, verb: str = "INSERT INTO", suffix: str = ""
    ) -> None:
        """Write ``entry``'s row with the columns the stores make of it (`history_columns`)."""
        row = history_columns(entry)
        self.db.execute(
            f"{verb} history ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}){suffix}",
            tuple(self.db.json(v) if k == "data" else v for k, v in row.items()),
        )

    def resealed(self, entries: Sequence[HistoryEntry], start: int) -> list[HistoryEntry]:
        """``entries`` re-sealed with plain SHA-256 from index ``start`` on."""
        result = list(entries[:start])
        for entry in entries[start:]:
            previous = result[-1].hash if result else entry.previous_hash
            result.append(entry.sealed(previous))
        return result


def _scenario(store: CaseStore, db: Database) -> Scenario:
    opened, changes = _demo_changes()
    for declaration_round, entry, events in opened:
        store.save_round(declaration_round, entry, events)
    store.commit_many(changes)
    saved = checkpoint(store, TAMPER_KEY, clock=FixedClock(dt.datetime(2028, 12, 31, 18, 0)))
    return Scenario(store, db, changes, saved, tuple(r for r, _, _ in opened))
