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
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import sqlite_utils

from .._i18n import Text
from ..errors import (
    KmbaseError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from ._protocol import Change
from ._rows import summary_updates
from ._schema import (
    BACKFILLS,
    MIGRATION_NAMES,
    MIGRATION_SET,
    SQLITE,
    check_known,
    missing_database,
    statements,
)
from ._sql import Batch, BatchRefusedError, SQLStoreBase
from ._url import options, positive
from ._work_queue import SQLWorkQueue

__all__ = ["SQLiteStore", "database_exists", "open_url"]


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
        self._holding = threading.local()
        """``depth``: how deep the calling thread is in `_connection` (inside, it reads through
        the writer's connection: its own transaction's rows are not committed yet)."""
        self._readers = threading.local()
        self._opened_readers: dict[threading.Thread, sqlite3.Connection] = {}
        self._readers_lock = threading.Lock()
        self.reads_without_waiting = self.path != ":memory:"
        """Reads outside a write (a case, a token, a queue) go through a connection of the
        reading thread's own: in WAL mode a reader never waits for the writer, so a request
        reads while another's commit waits for the disk (a private ``:memory:`` database has
        no second connection: its reads take the one)."""
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
            depth = getattr(self._holding, "depth", 0)
            self._holding.depth = depth + 1
            try:
                yield self._conn
            except sqlite3.Error as error:
                raise _translate(error, self.path) from error
            finally:
                self._holding.depth = depth

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
        for name in MIGRATION_NAMES:
            migrations(name=name)(_migration(name))
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
        with self._readers_lock:
            readers, self._opened_readers = self._opened_readers, {}
        for reader in readers.values():
            reader.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's own connection for a read (`_own_reader`), else the writer's
        (`_connection`)."""
        reader = self._own_reader()
        if reader is None:
            with self._connection() as connection:
                yield connection
            return
        try:
            yield reader
        except sqlite3.Error as error:
            raise _translate(error, self.path) from error

    def _own_reader(self) -> sqlite3.Connection | None:
        """The calling thread's own connection for reading committed rows (opened on its
        first read, closed with the store, or once its thread has ended when another thread
        opens one), or ``None`` where a read takes the writer's: a private ``:memory:``
        database, a closed store (its error), a thread inside `_connection` (in a write, it
        reads what it wrote)."""
        if (
            not self.reads_without_waiting
            or self._conn is None
            or getattr(self._holding, "depth", 0) > 0
        ):
            return None
        reader: sqlite3.Connection | None = getattr(self._readers, "connection", None)
        if reader is None:
            with self._readers_lock:  # not the writer's: it may be in a transaction
                for thread in [t for t in self._opened_readers if not t.is_alive()]:
                    self._opened_readers.pop(thread).close()
                try:
                    reader = sqlite3.connect(
                        self.path, timeout=self.timeout, isolation_level=None,
                        check_same_thread=False,
                    )  # fmt: skip
                    reader.execute("PRAGMA query_only=ON")
                except sqlite3.Error as error:
                    raise _translate(error, self.path) from error
                self._opened_readers[threading.current_thread()] = reader
            self._readers.connection = reader
        return reader

    @contextlib.contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside ``BEGIN IMMEDIATE``: committed when the block ends, rolled
        back if it raises."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none.

        Rows are encoded before the write lock is taken and written with one
        ``executemany`` per table; if any check fails, the batch is rolled back and replayed
        change by change (and rolled back again) only to name the change that failed.
        """
        if not changes:
            return
        batch = Batch.encode(changes)
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                self._write_batch(connection, batch)
                self._project(connection, changes)
                self._checkpoint("before_commit")
                connection.execute("COMMIT")
                batch.kept()
            except BatchRefusedError:
                connection.execute("ROLLBACK")
                connection.execute("BEGIN IMMEDIATE")
                try:
                    self._explain_refusal(connection, changes)
                finally:
                    connection.execute("ROLLBACK")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise


def open_url(url: str, *, create: bool = True) -> SQLiteStore:
    """``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:``
    (``?timeout=SECONDS``: how long a writer waits for the lock, default 30); ``create=False``:
    a file that does not exist is refused. The ``sqlite`` entry point of `open_store`."""
    path, query = _path(url)
    timeout = positive(options(query).pop("timeout", "30"), "timeout", float)
    if not create and path != ":memory:" and not Path(path).is_file():
        raise missing_database(path)
    return SQLiteStore(path, timeout=timeout)


def database_exists(url: str) -> bool:
    """Whether the file a ``sqlite://`` URL names exists (``:memory:`` never does)."""
    path, _ = _path(url)
    return path != ":memory:" and Path(path).exists()


def _path(url: str) -> tuple[str, str]:
    """The file a ``sqlite://`` URL names (or ``:memory:``), and its query."""
    path, _, query = url.partition("://")[2].partition("?")
    return (":memory:" if path == ":memory:" else path.removeprefix("/")), query


def _migration(name: str) -> Callable[[sqlite_utils.Database], None]:
    def migrate(db: sqlite_utils.Database) -> None:
        _run_migration(name, db)

    return migrate


def _run_migration(name: str, db: sqlite_utils.Database) -> None:
    for statement in statements(SQLITE[name]):
        db.execute(statement)
    if name in BACKFILLS:
        rows = db.execute(
            "SELECT c.id, c.data, a.data FROM cases c JOIN applications a ON a.case_id = c.id"
        ).fetchall()
        db.conn.executemany(
            "UPDATE cases SET base_name = ?, operator_code = ?, operator = ? WHERE id = ?",
            summary_updates(rows),
        )
