"""The embedded default store: one SQLite file, through sqlite-utils.

Settings, and why:

- ``journal_mode=WAL``: readers never block the writer nor the writer readers, so a portal
  can show cases while a script writes; a crash leaves the last committed state.
- ``synchronous=FULL``: every commit reaches the disk before it returns. An audit trail
  (第二十条) must not lose a committed step on power loss; WAL keeps this cheap.
- ``busy_timeout`` (``timeout``, default 30 s): a second process waits for the write lock
  instead of failing at once; past it, `StoreBusyError` (retryable).
- ``BEGIN IMMEDIATE`` for every write: the write lock is taken before anything is read, so
  two writers never deadlock on a lock upgrade; the loser of a race gets a clean version
  conflict.
- migrations run under ``BEGIN IMMEDIATE`` and are re-read once the lock is held, so many
  processes opening a new file at once migrate it exactly once;
- one connection per store, used by one thread at a time (a lock): a store may be shared by
  the threads of a web server; SQLite runs one writer at a time anyway.
- ``foreign_keys=ON`` and triggers that refuse ``UPDATE``/``DELETE`` on the history table:
  the audit trail is append-only in the database itself, not only in this library.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import sqlite_utils

from .._i18n import Text
from ..case import Case, State
from ..errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    KmbaseError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from ._protocol import CaseQuery, Change
from ._rows import (
    application_data,
    case_columns,
    case_from_json,
    dumps,
    event_data,
    history_columns,
    refuse_unstorable,
    storable_key,
)
from ._schema import MIGRATION_SET, SQLITE_M001, SQLITE_M002, check_known
from ._sql import SQLStoreBase
from ._work_queue import SQLITE_M004, SQLWorkQueue
from .tokens import SQLITE_M006

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
        """Encode every change, refusing (before anything is written) one no store keeps."""
        batch = cls([], [], [], [], [], [])
        for change in changes:
            case = change.case
            columns = case_columns(case)
            columns["data"] = dumps(columns["data"])
            texts = [columns["data"]]
            if change.expected_version == 0:
                application = dumps(application_data(case.application))
                texts.append(application)
                batch.inserts.append(columns)
                batch.applications.append((case.id, application))
            else:
                batch.updates.append({**columns, "expected": change.expected_version})
            history = history_columns(change.history)
            history["data"] = dumps(history["data"])
            texts.append(history["data"])
            batch.history.append(history)
            events = [
                (e.id, e.type, e.case_id, e.occurred_at.isoformat(), dumps(event_data(e)))
                for e in change.events
            ]
            texts.extend(event[4] for event in events)
            refuse_unstorable(change, texts)
            batch.outbox.extend(events)
            if change.idempotency_key is not None:
                batch.commands.append((change.idempotency_key, case.id, case.version))
        return batch


def _translate(error: sqlite3.Error, path: str) -> KmbaseError:
    """The library error for a ``sqlite3`` error: whether a retry helps, in both languages."""
    name = getattr(error, "sqlite_errorname", "") or ""
    detail = str(error)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in detail:
        return StoreBusyError(
            Text(
                zh=f"数据库 {path} 被另一写入者锁定，超过等待时限，未写入任何内容",
                en=f"database {path} stayed locked by another writer beyond the timeout; "
                "nothing was written",
            ),
            hint=Text(
                zh="稍后重试（可在地址中加 ?timeout=秒 延长等待）",
                en="try again later (add ?timeout=SECONDS to the URL to wait longer)",
            ),
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in detail:
        return StoreUnavailableError(
            Text(
                zh=f"无法打开数据库 {path}：{detail}", en=f"cannot open database {path}: {detail}"
            ),
            hint=Text(
                zh="请检查路径、所在目录与权限", en="check the path, its folder and permissions"
            ),
        )
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or (
        isinstance(error, sqlite3.DatabaseError) and "not a database" in detail
    ):
        problem = Text(
            zh=f"{path} 不是可用的数据库文件（{detail}）",
            en=f"{path} is not a usable database file ({detail})",
        )
        hint = Text(
            zh="请检查路径，或从备份恢复", en="check the path, or restore the file from a backup"
        )
    elif name.startswith("SQLITE_READONLY"):
        problem = Text(
            zh=f"数据库 {path} 只读：{detail}", en=f"database {path} is read-only: {detail}"
        )
        hint = Text(
            zh="请检查文件与目录的写权限", en="check write permission on the file and folder"
        )
    elif name.startswith("SQLITE_FULL"):
        problem = Text(zh=f"磁盘已满，无法写入 {path}", en=f"the disk holding {path} is full")
        hint = Text(zh="请释放磁盘空间后重试", en="free some disk space and try again")
    else:
        problem = Text(zh=f"数据库 {path} 出错：{detail}", en=f"database {path} failed: {detail}")
        hint = Text(zh="请将此消息报告给维护者", en="report this message to the maintainers")
    return StoreError(problem, hint=hint)


def _statements(script: str) -> list[str]:
    # Statements end with ";" at the end of a line (a trigger's inner ";" does not).
    return [part.strip() for part in script.split(";\n") if part.strip()]


class SQLiteStore(SQLWorkQueue, SQLStoreBase):
    """Cases, history and outbox in one SQLite file (created and migrated on open).

    ``SQLiteStore(":memory:")`` gives a private in-memory database (for tests).
    """

    def __init__(self, path: str | Path = "kmbase.db", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at named points inside a write (``"case"``, ``"history"``, ``"outbox"``,
        ``"before_commit"``): a seam for crash tests, ``None`` in production."""
        self._lock = threading.RLock()
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise _translate(error, self.path) from error
        self.db = sqlite_utils.Database(self._conn)
        try:
            with self._connection() as connection:
                connection.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
                if self.path != ":memory:":
                    self._enable_wal()
                connection.execute("PRAGMA synchronous=FULL")
                connection.execute("PRAGMA foreign_keys=ON")
                self._migrate()
        except BaseException:
            self.close()
            raise

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(
                    Text(zh=f"数据库 {self.path} 已关闭", en=f"database {self.path} is closed"),
                    hint=Text(zh="请重新打开存储", en="open the store again"),
                )
            try:
                yield self._conn
            except sqlite3.Error as error:
                raise _translate(error, self.path) from error

    def _enable_wal(self) -> None:
        # Switching a new file to WAL takes an exclusive lock for a moment, and SQLite does
        # not wait for it through busy_timeout: several processes opening the same new file
        # retry until the first switch is done (the mode is kept in the file).
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

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

        @migrations(name="m004_work_queue")
        def _work_queue(db: sqlite_utils.Database) -> None:
            for statement in _statements(SQLITE_M004):
                db.execute(statement)

        @migrations(name="m005_delivery")
        def _delivery(db: sqlite_utils.Database) -> None:
            from ..delivery._schema import SQLITE_M005  # noqa: PLC0415 - the delivery's own

            for statement in _statements(SQLITE_M005):
                db.execute(statement)

        @migrations(name="m006_api_tokens")
        def _api_tokens(db: sqlite_utils.Database) -> None:
            db.execute(SQLITE_M006)  # the HTTP service's tokens (stores/tokens.py)

        applied = [m.name for m in migrations.applied(self.db)]
        check_known(applied, self.path)
        if not migrations.pending(self.db):
            return
        # Several processes may open a new file at once: the write lock first, then read
        # again what is applied, so exactly one of them migrates.
        connection = self.db.conn
        connection.execute("BEGIN IMMEDIATE")
        try:
            check_known((m.name for m in migrations.applied(self.db)), self.path)
            migrations.apply(self.db)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> tuple[str, ...]:
        """The migrations applied to this database, oldest first."""
        migrations = sqlite_utils.Migrations(MIGRATION_SET)
        with self._connection():
            return tuple(m.name for m in migrations.applied(self.db))

    def close(self) -> None:
        """Close the database connection (closing twice is harmless)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none.

        Rows are encoded before the write lock is taken and written with one
        ``executemany`` per table; if any check fails, the batch is rolled back and replayed
        change by change (and rolled back again) only to name the change that failed.
        """
        if not changes:
            return
        batch = _Batch.encode(changes)
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                self._write_batch(connection, batch)
                self._project(connection, changes)
                self._checkpoint("before_commit")
                connection.execute("COMMIT")
            except _BatchRefusedError:
                connection.execute("ROLLBACK")
                self._explain_refusal(connection, changes)
                raise  # pragma: no cover - _explain_refusal always raises
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _write_batch(self, connection: sqlite3.Connection, batch: _Batch) -> None:
        many = connection.executemany
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

    def _explain_refusal(self, connection: sqlite3.Connection, changes: Sequence[Change]) -> None:
        """Replay a refused batch change by change to raise the precise error."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            for change in changes:
                self._write(connection, change)
        finally:
            connection.execute("ROLLBACK")
        raise StoreError(  # pragma: no cover - a refused batch refuses again when replayed
            Text(zh="批量写入被拒绝", en="the batch was refused"),
            hint=Text(zh="请重试", en="try again"),
        )

    def _write(self, connection: sqlite3.Connection, change: Change) -> None:
        case = change.case
        columns = case_columns(case)
        columns["data"] = dumps(columns["data"])
        execute = connection.execute
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
                raise ConcurrencyConflictError.stale_version(
                    case.id, 0, self._version(case.id)
                ) from None
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
                    raise CaseNotFoundError.no_case(case.id)
                raise ConcurrencyConflictError.stale_version(
                    case.id, change.expected_version, actual
                )
        self._checkpoint("case")
        history = history_columns(change.history)
        execute(
            "INSERT INTO history (case_id, sequence, action, from_state, to_state, at, "
            "previous_hash, hash, data) VALUES (:case_id, :sequence, :action, :from_state, "
            ":to_state, :at, :previous_hash, :hash, :data)",
            {**history, "data": dumps(history["data"])},
        )
        self._checkpoint("history")
        connection.executemany(
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
                raise ConcurrencyConflictError.key_taken(change.idempotency_key) from None

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        row = None
        if storable_key(case_id):
            with self._connection() as connection:
                row = connection.execute(f"{_CASE_SELECT} WHERE c.id = ?", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFoundError.no_case(case_id)
        return case_from_json(row[1], row[2])

    def _pages(self, where: str, params: Sequence[Any]) -> Iterator[Case]:
        # Page by rowid so a long iteration holds no cursor or lock between pages.
        last = 0
        while True:
            with self._connection() as connection:
                rows = connection.execute(
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
        if not self._findable(query):
            return iter(())
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
        """Cases whose notice ended before ``before``, and cases holding a title (certified,
        or awaiting its withdrawal): their reminders, reports and expiry fall due throughout
        validity."""
        return self._pages(
            "(c.state IN (?, ?) AND c.notice_due < ?) "
            "OR (c.state IN (?, ?) AND c.validity_due IS NOT NULL)",
            [
                State.PUBLICIZED.value,
                State.VERIFIED.value,
                before.isoformat(),
                State.CERTIFIED.value,
                State.REVOCATION_PENDING.value,
            ],
        )
