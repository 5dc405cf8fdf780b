"""What the SQL stores share: the reads and small writes that differ only by dialect.

Statements are written once with ``?`` placeholders; a dialect translates them (psycopg uses
``%s``) and says how dates travel (SQLite stores ISO text, PostgreSQL ``DATE``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from ..case import DeclarationRound
from ..history import HistoryEntry
from ._protocol import CaseQuery, Change, CommandResult, OutboxRecord
from ._rows import check_text, event_from_json, history_from_row, storable_key

_RAW_TABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "cases": (
        (
            "id",
            "base_id",
            "round_year",
            "district",
            "state",
            "version",
            "declared_on",
            "notice_due",
            "validity_due",
            "data",
        ),
        "id",
        "id",
    ),
    "applications": (("case_id", "data"), "case_id", "case_id"),
    "history": (
        (
            "case_id",
            "sequence",
            "action",
            "from_state",
            "to_state",
            "at",
            "previous_hash",
            "hash",
            "data",
        ),
        "case_id",
        "case_id, sequence",
    ),
    "outbox": (("position", "id", "type", "case_id", "occurred_at", "data"), "case_id", "position"),
}
"""For `SQLStoreBase.raw_rows`: each table's columns, the case column, the order."""


def _raw_value(column: str, value: Any) -> Any:
    if column == "data" and isinstance(value, str | bytes):
        return json.loads(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class SQLStoreBase:
    """The dialect-independent part of `SQLiteStore` and `PostgresStore`."""

    PLACEHOLDER = "?"
    GREATEST = "MAX"
    """SQLite's two-argument ``MAX`` is PostgreSQL's ``GREATEST``."""

    on_checkpoint: Callable[[str], None] | None

    def _connection(self) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover
        """A connection for one statement or transaction, for this thread alone while the
        block runs; the driver's errors raised in the block leave it as library errors."""
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        return statement if self.PLACEHOLDER == "?" else statement.replace("?", self.PLACEHOLDER)

    def _one(self, statement: str, params: Sequence[Any]) -> Any:
        with self._connection() as connection:
            return connection.execute(self._sql(statement), tuple(params)).fetchone()

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._connection() as connection:
            return list(connection.execute(self._sql(statement), tuple(params)).fetchall())

    def _run(self, statement: str, params: Sequence[Any]) -> None:
        with self._connection() as connection:
            connection.execute(self._sql(statement), tuple(params))

    @staticmethod
    def _findable(query: CaseQuery) -> bool:
        """Whether a query's keys could match anything stored (a NUL cannot, for instance)."""
        return all(key is None or storable_key(key) for key in (query.base_id, query.district))

    def _date_param(self, day: dt.date) -> object:
        """How a date is passed to the database (SQLite: ISO text)."""
        return day.isoformat()

    def _date_value(self, value: object) -> dt.date:
        """A date as the database returns it."""
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def _checkpoint(self, name: str) -> None:
        if self.on_checkpoint is not None:
            self.on_checkpoint(name)

    def commit_many(self, changes: Sequence[Change]) -> None:  # pragma: no cover - each store's
        raise NotImplementedError

    def commit(self, change: Change) -> None:
        """Write one change atomically."""
        self.commit_many([change])

    def _version(self, case_id: str) -> int:
        row = self._one("SELECT version FROM cases WHERE id = ?", (case_id,))
        return int(row[0]) if row else 0

    def history(self, case_id: str) -> list[HistoryEntry]:
        """A case's history, oldest first."""
        if not storable_key(case_id):
            return []
        rows = self._all("SELECT data FROM history WHERE case_id = ? ORDER BY sequence", (case_id,))
        return [history_from_row(row[0]) for row in rows]

    def last_hash(self, case_id: str) -> str | None:
        """The hash of the newest history entry."""
        if not storable_key(case_id):
            return None
        row = self._one(
            "SELECT hash FROM history WHERE case_id = ? ORDER BY sequence DESC LIMIT 1", (case_id,)
        )
        return str(row[0]) if row else None

    def command_result(self, idempotency_key: str) -> CommandResult | None:
        """What a keyed command wrote the first time."""
        if not storable_key(idempotency_key):
            return None
        row = self._one("SELECT case_id, version FROM commands WHERE key = ?", (idempotency_key,))
        return CommandResult(str(row[0]), int(row[1])) if row else None

    def read_outbox(self, after: int = 0, limit: int = 100) -> list[OutboxRecord]:
        """Events after position ``after``, oldest first."""
        rows = self._all(
            "SELECT position, data FROM outbox WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return [OutboxRecord(int(row[0]), event_from_json(row[1])) for row in rows]

    def consumer_position(self, consumer: str) -> int:
        """A named consumer's cursor."""
        if not storable_key(consumer):
            return 0
        row = self._one("SELECT position FROM consumers WHERE name = ?", (consumer,))
        return int(row[0]) if row else 0

    def acknowledge(self, consumer: str, position: int) -> None:
        """Advance a consumer's cursor (never backwards)."""
        check_text("consumer", consumer, indexed=True)
        self._run(
            "INSERT INTO consumers (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
            f"SET position = {self.GREATEST}(consumers.position, excluded.position)",
            (consumer, position),
        )

    def save_round(self, declaration_round: DeclarationRound) -> None:
        """Record a declaration round (replacing that year's)."""
        check_text("declaration_round.notice", declaration_round.notice)
        self._run(
            "INSERT INTO rounds (year, opens_on, closes_on, notice) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (year) DO UPDATE SET opens_on = excluded.opens_on, "
            "closes_on = excluded.closes_on, notice = excluded.notice",
            (
                declaration_round.year,
                self._date_param(declaration_round.opens_on),
                self._date_param(declaration_round.closes_on),
                declaration_round.notice,
            ),
        )

    def rounds(self) -> list[DeclarationRound]:
        """Every declaration round, by year."""
        rows = self._all("SELECT year, opens_on, closes_on, notice FROM rounds ORDER BY year")
        return [
            DeclarationRound(
                int(row[0]), self._date_value(row[1]), self._date_value(row[2]), str(row[3])
            )
            for row in rows
        ]

    def raw_rows(self, table: str, case_id: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``cases``, ``applications``, ``history`` or ``outbox`` as stored (of one
        case, or all): every column, ``data`` decoded, dates and times as ISO text. The audit
        (`kmbase_workflow.audit.RawRowStore`) checks the columns against the data."""
        columns, key, order = _RAW_TABLES[table]
        where = f" WHERE {key} = ?" if case_id is not None else ""
        rows = self._all(
            f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY {order}",
            () if case_id is None else (case_id,),
        )
        return [
            {name: _raw_value(name, value) for name, value in zip(columns, row, strict=True)}
            for row in rows
        ]

    def close(self) -> None:  # pragma: no cover - each store's
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
