"""The embedded default store: one SQLite file, through sqlite-utils.

Settings, and why:

- ``journal_mode=WAL``: readers never block the writer nor the writer readers, so a portal
  can show cases while a script writes; a crash leaves the last committed state.
- ``synchronous=FULL``: every commit reaches the disk before it returns. An audit trail
  (第二十条) must not lose a committed step on power loss; WAL keeps this cheap.
- ``busy_timeout`` (``timeout``, default 30 s): a second process waits for the write lock
  instead of failing at once.
- ``BEGIN IMMEDIATE`` for every write: the write lock is taken before anything is read, so
  two writers never deadlock on a lock upgrade; the loser of a race gets a clean version
  conflict.
- ``foreign_keys=ON`` and triggers that refuse ``UPDATE``/``DELETE`` on the history table:
  the audit trail is append-only in the database itself, not only in this library.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import sqlite_utils

from .._i18n import Text
from ..case import Case, State
from ..errors import StoreError
from ._protocol import CaseQuery, Change
from ._rows import (
    application_data,
    case_columns,
    case_from_json,
    dumps,
    event_data,
    history_columns,
)
from ._schema import MIGRATION_SET, SQLITE_M001, SQLITE_M002, check_known
from ._sql import SQLStoreBase
from .memory import conflict, key_taken, not_found

__all__ = ["SQLiteStore"]

_PAGE = 500
_CASE_SELECT = (
    "SELECT c.rowid AS r, c.data AS data, a.data AS application "
    "FROM cases c JOIN applications a ON a.case_id = c.id"
)


class _BatchRefusedError(Exception):
    """A check failed inside a batch; the store replays it to say which change."""


@attrs.frozen
class _Batch:
    """The rows of a batch, encoded once, grouped by statement."""

    inserts: list[dict[str, Any]]
    applications: list[tuple[str, str]]
    updates: list[dict[str, Any]]
    history: list[dict[str, Any]]
    outbox: list[tuple[str, str, str, str, str]]
    commands: list[tuple[str, str, int]]

    @classmethod
    def encode(cls, changes: Sequence[Change]) -> _Batch:
        batch = cls([], [], [], [], [], [])
        for change in changes:
            case = change.case
            columns = case_columns(case)
            columns["data"] = dumps(columns["data"])
            if change.expected_version == 0:
                batch.inserts.append(columns)
                batch.applications.append((case.id, dumps(application_data(case.application))))
            else:
                batch.updates.append({**columns, "expected": change.expected_version})
            history = history_columns(change.history)
            history["data"] = dumps(history["data"])
            batch.history.append(history)
            batch.outbox.extend(
                (e.id, e.type, e.case_id, e.occurred_at.isoformat(), dumps(event_data(e)))
                for e in change.events
            )
            if change.idempotency_key is not None:
                batch.commands.append((change.idempotency_key, case.id, case.version))
        return batch


def _statements(script: str) -> list[str]:
    # Statements end with ";" at the end of a line (a trigger's inner ";" does not).
    return [part.strip() for part in script.split(";\n") if part.strip()]


class SQLiteStore(SQLStoreBase):
    """Cases, history and outbox in one SQLite file (created and migrated on open).

    ``SQLiteStore(":memory:")`` gives a private in-memory database (for tests).
    """

    def __init__(self, path: str | Path = "kmbase.db", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at named points inside a write (``"case"``, ``"history"``, ``"outbox"``,
        ``"before_commit"``): a seam for crash tests, ``None`` in production."""
        try:
            connection = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise StoreError(
                Text(
                    zh=f"无法打开数据库 {self.path}：{error}",
                    en=f"cannot open database {self.path}: {error}",
                ),
                hint=Text(zh="请检查路径与权限", en="check the path and permissions"),
            ) from None
        self._lock = threading.RLock()
        self._conn = connection
        self.db = sqlite_utils.Database(connection)
        try:
            connection.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            if self.path != ":memory:":
                self.db.enable_wal()
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            connection.close()
            raise

    def _migrate(self) -> None:
        migrations = sqlite_utils.Migrations(MIGRATION_SET)

        @migrations(name="m001_initial")
        def _initial(db: sqlite_utils.Database) -> None:
            for statement in _statements(SQLITE_M001):
                db.execute(statement)

        @migrations(name="m002_append_only")
        def _append_only(db: sqlite_utils.Database) -> None:
            for statement in _statements(SQLITE_M002):
                db.execute(statement)

        check_known((m.name for m in migrations.applied(self.db)), self.path)
        migrations.apply(self.db)

    @property
    def schema_version(self) -> tuple[str, ...]:
        """The migrations applied to this database, oldest first."""
        migrations = sqlite_utils.Migrations(MIGRATION_SET)
        return tuple(m.name for m in migrations.applied(self.db))

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none.

        Rows are encoded before the write lock is taken and written with one
        ``executemany`` per table; if any check fails, the batch is rolled back and replayed
        change by change (and rolled back again) only to name the change that failed.
        """
        if not changes:
            return
        batch = _Batch.encode(changes)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._write_batch(batch)
                self._checkpoint("before_commit")
                self._conn.execute("COMMIT")
            except _BatchRefusedError:
                self._conn.execute("ROLLBACK")
                self._explain_refusal(changes)
                raise  # pragma: no cover - _explain_refusal always raises
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _write_batch(self, batch: _Batch) -> None:
        many = self._conn.executemany
        try:
            many(
                "INSERT INTO cases (id, base_id, round_year, district, state, version, "
                "declared_on, notice_due, validity_due, data) VALUES (:id, :base_id, "
                ":round_year, :district, :state, :version, :declared_on, :notice_due, "
                ":validity_due, :data)",
                batch.inserts,
            )
        except sqlite3.IntegrityError:
            raise _BatchRefusedError from None
        many("INSERT INTO applications (case_id, data) VALUES (?, ?)", batch.applications)
        if batch.updates:
            cursor = many(
                "UPDATE cases SET state = :state, version = :version, notice_due = :notice_due, "
                "validity_due = :validity_due, data = :data WHERE id = :id AND version = :expected",
                batch.updates,
            )
            if cursor.rowcount != len(batch.updates):
                raise _BatchRefusedError
        self._checkpoint("case")
        many(
            "INSERT INTO history (case_id, sequence, action, from_state, to_state, at, "
            "previous_hash, hash, data) VALUES (:case_id, :sequence, :action, :from_state, "
            ":to_state, :at, :previous_hash, :hash, :data)",
            batch.history,
        )
        self._checkpoint("history")
        many(
            "INSERT INTO outbox (id, type, case_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
            batch.outbox,
        )
        self._checkpoint("outbox")
        try:
            many("INSERT INTO commands (key, case_id, version) VALUES (?, ?, ?)", batch.commands)
        except sqlite3.IntegrityError:
            raise _BatchRefusedError from None

    def _explain_refusal(self, changes: Sequence[Change]) -> None:
        """Replay a refused batch change by change to raise the precise error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for change in changes:
                self._write(change)
        finally:
            self._conn.execute("ROLLBACK")
        raise StoreError(  # pragma: no cover - a refused batch refuses again when replayed
            Text(zh="批量写入被拒绝", en="the batch was refused"),
            hint=Text(zh="请重试", en="try again"),
        )

    def _write(self, change: Change) -> None:
        case = change.case
        columns = case_columns(case)
        columns["data"] = dumps(columns["data"])
        execute = self._conn.execute
        if change.expected_version == 0:
            try:
                execute(
                    "INSERT INTO cases (id, base_id, round_year, district, state, version, "
                    "declared_on, notice_due, validity_due, data) VALUES (:id, :base_id, "
                    ":round_year, :district, :state, :version, :declared_on, :notice_due, "
                    ":validity_due, :data)",
                    columns,
                )
            except sqlite3.IntegrityError:
                raise conflict(case.id, 0, self._version(case.id)) from None
            execute(
                "INSERT INTO applications (case_id, data) VALUES (?, ?)",
                (case.id, dumps(application_data(case.application))),
            )
        else:
            cursor = execute(
                "UPDATE cases SET state = :state, version = :version, notice_due = :notice_due, "
                "validity_due = :validity_due, data = :data WHERE id = :id AND version = :expected",
                {**columns, "expected": change.expected_version},
            )
            if cursor.rowcount != 1:
                actual = self._version(case.id)
                if actual == 0:
                    raise not_found(case.id)
                raise conflict(case.id, change.expected_version, actual)
        self._checkpoint("case")
        history = history_columns(change.history)
        execute(
            "INSERT INTO history (case_id, sequence, action, from_state, to_state, at, "
            "previous_hash, hash, data) VALUES (:case_id, :sequence, :action, :from_state, "
            ":to_state, :at, :previous_hash, :hash, :data)",
            {**history, "data": dumps(history["data"])},
        )
        self._checkpoint("history")
        self._conn.executemany(
            "INSERT INTO outbox (id, type, case_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
            [
                (e.id, e.type, e.case_id, e.occurred_at.isoformat(), dumps(event_data(e)))
                for e in change.events
            ],
        )
        self._checkpoint("outbox")
        if change.idempotency_key is not None:
            try:
                execute(
                    "INSERT INTO commands (key, case_id, version) VALUES (?, ?, ?)",
                    (change.idempotency_key, case.id, case.version),
                )
            except sqlite3.IntegrityError:
                raise key_taken(change.idempotency_key) from None

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        with self._lock:
            row = self._conn.execute(f"{_CASE_SELECT} WHERE c.id = ?", (case_id,)).fetchone()
        if row is None:
            raise not_found(case_id)
        return case_from_json(row[1], row[2])

    def _pages(self, where: str, params: Sequence[Any]) -> Iterator[Case]:
        # Page by rowid so a long iteration holds no cursor or lock between pages.
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"{_CASE_SELECT} WHERE c.rowid > ? AND ({where}) ORDER BY c.rowid LIMIT {_PAGE}",
                    (last, *params),
                ).fetchall()
            for row in rows:
                yield case_from_json(row[1], row[2])
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query`` (filtered in SQL), in declaration order."""
        clauses: list[str] = []
        params: list[Any] = []
        if query.state is not None:
            clauses.append("c.state = ?")
            params.append(query.state.value)
        if query.states is not None:
            clauses.append(f"c.state IN ({', '.join('?' for _ in query.states)})")
            params.extend(state.value for state in query.states)
        for column, value in (
            ("round_year", query.round_year),
            ("district", query.district),
            ("base_id", query.base_id),
        ):
            if value is not None:
                clauses.append(f"c.{column} = ?")
                params.append(value)
        return self._pages(" AND ".join(clauses) or "1", params)

    def deadlines_due(self, before: dt.date) -> Iterator[Case]:
        """Cases whose notice ended before ``before``, and certified cases (their reminders,
        reports and expiry fall due throughout validity)."""
        return self._pages(
            "(c.state IN (?, ?) AND c.notice_due < ?) OR (c.state = ? AND c.validity_due IS NOT NULL)",
            [
                State.PUBLICIZED.value,
                State.VERIFIED.value,
                before.isoformat(),
                State.CERTIFIED.value,
            ],
        )
