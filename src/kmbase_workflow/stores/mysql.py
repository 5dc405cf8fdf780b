"""The MySQL-family store: MariaDB 10.6+ or MySQL 8 (and servers of their protocol) through
PyMySQL, registered as the ``mysql`` and ``mariadb`` entry points of `open_store`.

It is the SQL stores' code (`SQLStoreBase`, `SQLWorkQueue`) with its own dialect, and its own
schema (the scripts below, one per migration name). Guarantees, and how:

- each write is one InnoDB transaction (state, history, outbox, idempotency key), at
  ``READ COMMITTED``, as on PostgreSQL: ``UPDATE … WHERE version = expected`` reads the
  latest committed row and locks it, so of two concurrent writers exactly one succeeds;
- the outbox is read in commit order: a writer takes the one row of ``outbox_writer``
  ``FOR UPDATE`` just before it inserts its events and holds it until it commits, so
  positions are assigned and committed in one order, and a reader that has seen position
  *n* committed can never see a lower one commit later. Writers run side by side up to
  their events (case rows, history); only the last steps of their commits take turns;
- a deadlock (1213) is retried twice, then reported as `ConcurrencyConflictError`; a lock
  wait timeout (1205) is `StoreBusyError`; a lost or refused connection is
  `StoreUnavailableError` (all three retryable);
- keys and every column a query compares (ids, districts, states, roles, consumer names)
  are ``VARBINARY``: compared byte for byte, never case- or accent-folded, trailing
  spaces significant, exactly as SQLite and PostgreSQL compare them; a key may be as long
  as `INDEXED_TEXT_LIMIT` bytes, which fits InnoDB's index limit. JSON is ``LONGTEXT``
  (utf8mb4), written and read as the text the other stores keep;
- history, outbox and applications are append-only in the database (triggers refuse
  ``UPDATE`` and ``DELETE``, so ``REPLACE`` and ``ON DUPLICATE KEY UPDATE`` too);
- connections come from a small pool (``max_connections``, default 10): one store serves
  the threads of a web server; a lost connection is dropped and replaced on the next call.

MySQL runs DDL outside transactions: a migration interrupted half-way leaves its tables
(re-running it stops at the first one). Migrations take a named lock, so several
processes opening a new database migrate it once.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.connections
import pymysql.cursors
from pymysql.constants import FIELD_TYPE

from .._i18n import Text
from ..errors import (
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from ._delivery import SQLDelivery, delivery_tables
from ._schema import (
    M007_COMMAND_DIGESTS,
    MIGRATION_NAMES,
    check_known,
    missing_database,
    statements,
)
from ._server import ServerStore
from ._sql import INSERT_OUTBOX
from ._url import options, positive, redact
from .tokens import token_table

__all__ = ["MySQLStore", "connect", "database_exists", "open_url"]

_KEY = "VARBINARY(1024)"  # INDEXED_TEXT_LIMIT bytes
_TABLE_OPTIONS = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

_M001 = f"""
CREATE TABLE applications (
    case_id {_KEY} PRIMARY KEY,
    data LONGTEXT NOT NULL
);
CREATE TABLE cases (
    id {_KEY} PRIMARY KEY,
    base_id {_KEY} NOT NULL,
    round_year INTEGER NOT NULL,
    district {_KEY} NOT NULL,
    state VARBINARY(64) NOT NULL,
    version INTEGER NOT NULL,
    declared_on DATE NOT NULL,
    notice_due DATE,
    validity_due DATE,
    data LONGTEXT NOT NULL
);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_round ON cases (round_year);
CREATE INDEX cases_district ON cases (district);
CREATE INDEX cases_base ON cases (base_id);
CREATE INDEX cases_notice_due ON cases (notice_due);
CREATE INDEX cases_validity_due ON cases (validity_due);
CREATE TABLE history (
    case_id {_KEY} NOT NULL,
    sequence INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at VARCHAR(64) NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    data LONGTEXT NOT NULL,
    PRIMARY KEY (case_id, sequence)
);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history is append-only';
CREATE TRIGGER history_no_delete BEFORE DELETE ON history FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history is append-only';
CREATE TABLE outbox (
    position BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id {_KEY} NOT NULL UNIQUE,
    type TEXT NOT NULL,
    case_id {_KEY} NOT NULL,
    occurred_at VARCHAR(64) NOT NULL,
    data LONGTEXT NOT NULL
);
CREATE TABLE outbox_writer (
    id INTEGER PRIMARY KEY
);
INSERT INTO outbox_writer (id) VALUES (1);
CREATE TABLE consumers (
    name {_KEY} PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE commands (
    `key` {_KEY} PRIMARY KEY,
    case_id {_KEY} NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE rounds (
    year INTEGER PRIMARY KEY,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    notice TEXT NOT NULL
);
"""
"""The tables of m001, with ``outbox_writer``: the row a writer locks while it inserts its
events and until it commits (the outbox's commit order, see the module doc)."""

_M002 = """
CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'outbox is append-only';
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'outbox is append-only';
CREATE TRIGGER applications_no_update BEFORE UPDATE ON applications FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'applications are written once';
CREATE TRIGGER applications_no_delete BEFORE DELETE ON applications FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'applications are written once';
CREATE INDEX outbox_case ON outbox (case_id);
"""
"""As on the other stores (第二十条): ``REPLACE`` deletes and ``ON DUPLICATE KEY UPDATE``
updates, so these triggers refuse them too. MySQL has no trigger on ``TRUNCATE``: that
needs the ``DROP`` privilege, which the application's account should not have; the audit
detects what it removes."""

_M003 = """
ALTER TABLE cases ADD COLUMN base_name TEXT, ADD COLUMN operator_code TEXT,
    ADD COLUMN operator TEXT;
CREATE INDEX cases_operator ON cases (operator_code(64));
CREATE INDEX cases_declared ON cases (declared_on, id);
"""
"""The summary columns, and the index of the paging order ``(declared_on, id)``. No
database of this backend predates them, so there is nothing to backfill."""

_M004 = """
CREATE TABLE work_queue (
    case_id VARBINARY(1024) NOT NULL,
    obligation VARBINARY(255) NOT NULL,
    role VARBINARY(64) NOT NULL,
    district VARBINARY(1024) NOT NULL,
    base_id VARBINARY(1024) NOT NULL,
    base_name TEXT NOT NULL,
    operator_id VARBINARY(1024) NOT NULL,
    round_year INTEGER NOT NULL,
    state VARBINARY(64) NOT NULL,
    version INTEGER NOT NULL,
    actions TEXT NOT NULL,
    article_zh TEXT NOT NULL,
    article_en TEXT NOT NULL,
    since DATE NOT NULL,
    opens_on DATE,
    due_on DATE,
    ready_on DATE,
    sort_on DATE NOT NULL,
    PRIMARY KEY (case_id, obligation, role)
);
CREATE INDEX work_queue_role ON work_queue (role, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_district ON work_queue
    (role, district, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_operator ON work_queue
    (role, operator_id, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_due ON work_queue (due_on, sort_on);
CREATE INDEX cases_round_district_state ON cases (round_year, district, state);
CREATE INDEX cases_state_notice ON cases (state, notice_due);
CREATE TABLE work_queue_status (
    name VARBINARY(1100) PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO work_queue_status (name, value)
    SELECT 'stale', 'migrated' FROM DUAL WHERE EXISTS (SELECT 1 FROM cases);
"""
"""The work-queue projection (`kmbase_workflow.stores._work_queue`); MySQL has no partial
indexes, so the "with a deadline" ones are one index on the deadline."""

_M005 = delivery_tables(
    key=_KEY, time="DOUBLE", position="BIGINT", json="LONGTEXT", day="VARBINARY(64)"
)
"""The delivery tables (`kmbase_workflow.stores._delivery.delivery_tables` says what each
holds)."""

_M006 = token_table(key="VARBINARY(64)", time="VARCHAR(64)")
"""The API tokens (`kmbase_workflow.stores.tokens`); times as ISO text, as on SQLite."""

MYSQL: dict[str, str] = {
    "m001_initial": _M001,
    "m002_append_only": _M002,
    "m003_summary_columns": _M003,
    "m004_work_queue": _M004,
    "m005_delivery": _M005,
    "m006_api_tokens": _M006,
    "m007_command_digests": M007_COMMAND_DIGESTS,
}
"""This backend's script of each migration the library knows (`MIGRATION_NAMES`)."""

_MIGRATION_LOCK_WAIT = 60
_DATABASE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_DEADLOCK = 1213
_BUSY = frozenset({1205, 1969, 3024, 3572})
"""Lock wait timeout; statement time limit (MariaDB, MySQL); ``NOWAIT`` lock refused."""
_UNAVAILABLE = frozenset(
    {1040, 1044, 1045, 1049, 1053, 1152, 1153, 1927, 2002, 2003, 2005, 2006, 2013, 2055, 4031}
)
"""Too many connections, access or database refused, server shutting down, connection
lost, refused or killed."""


def _text(value: Any) -> Any:
    """``VARBINARY`` columns come back as bytes: every one this store keeps is UTF-8 text."""
    return value.decode("utf-8") if isinstance(value, bytes | bytearray) else value


_DECODERS: dict[Any, Any] = {
    **pymysql.converters.conversions,
    **dict.fromkeys((FIELD_TYPE.VAR_STRING, FIELD_TYPE.STRING, FIELD_TYPE.VARCHAR), _text),
    FIELD_TYPE.BLOB: _text,
}


def _translate(error: pymysql.MySQLError, where: str) -> KmbaseError:
    """The library error for a PyMySQL error: whether a retry helps, in both languages."""
    code = error.args[0] if error.args and isinstance(error.args[0], int) else 0
    detail = str(error.args[1]) if len(error.args) > 1 else (str(error) or type(error).__name__)
    if code == _DEADLOCK:
        return ConcurrencyConflictError.lock_cycle(1)
    if code in _BUSY:
        return StoreBusyError(
            Text(
                zh=f"{where} 忙（等待锁或语句超时：{detail}），未写入任何内容",
                en=f"{where} is busy (a lock or statement timeout: {detail}); nothing was written",
            ),
            hint=Text(zh="请稍后重试", en="try again later"),
        )
    if code in _UNAVAILABLE or isinstance(error, pymysql.err.InterfaceError):
        return StoreUnavailableError(
            Text(
                zh=f"无法连接 MySQL/MariaDB（{where}）：{detail}",
                en=f"cannot reach MySQL/MariaDB ({where}): {detail}",
            ),
            hint=Text(
                zh="请检查服务器是否运行、地址、端口、数据库与权限，稍后重试",
                en="check that the server runs, the URL, the port, the database and the "
                "credentials; then try again",
            ),
        )
    return StoreError(
        Text(
            zh=f"MySQL/MariaDB（{where}）出错：{detail}",
            en=f"MySQL/MariaDB ({where}) failed: {detail}",
        ),
        hint=Text(zh="请将此消息报告给维护者", en="report this message to the maintainers"),
    )


class _Connection:
    """A PyMySQL connection with the ``execute`` the SQL stores' code calls (as sqlite3's
    and psycopg's connections have)."""

    def __init__(self, raw: pymysql.connections.Connection[Any]) -> None:
        self.raw = raw

    def cursor(self) -> pymysql.cursors.Cursor:
        """A buffered cursor."""
        cursor: pymysql.cursors.Cursor = self.raw.cursor()
        return cursor

    def execute(self, statement: str, params: Any = None) -> pymysql.cursors.Cursor:
        """Run one statement; its cursor, fetched already."""
        cursor = self.cursor()
        cursor.execute(statement, params if params else None)
        return cursor

    def executemany(self, statement: str, rows: Sequence[Any]) -> pymysql.cursors.Cursor:
        """Run one statement per row (an ``INSERT … VALUES`` goes as one multi-row insert)."""
        cursor = self.cursor()
        cursor.executemany(statement, rows)
        return cursor


_IDLE_CHECK = 30.0
"""Seconds a pooled connection may rest before it is pinged on reuse (the server closes
idle connections after its ``wait_timeout``)."""


class _Pool:
    """At most ``size`` connections, each used by one thread at a time; a connection left in
    an unknown state (an error inside a block that a rollback cannot clear) is dropped, and
    one that rested long is pinged before it is lent again."""

    def __init__(
        self, connect: Callable[[], pymysql.connections.Connection[Any]], size: int, timeout: float
    ) -> None:
        self._connect = connect
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[tuple[pymysql.connections.Connection[Any], float]] = []
        self._lock = threading.Lock()
        self.timeout = timeout
        self.closed = False

    def _take(self) -> pymysql.connections.Connection[Any]:
        with self._lock:
            raw, rested = self._idle.pop() if self._idle else (None, 0.0)
        if raw is not None and time.monotonic() - rested > _IDLE_CHECK:
            try:
                raw.ping(reconnect=False)
            except pymysql.MySQLError:
                with contextlib.suppress(Exception):
                    raw.close()
                raw = None
        return raw if raw is not None else self._connect()

    @contextlib.contextmanager
    def connection(self) -> Iterator[pymysql.connections.Connection[Any]]:
        if not self._slots.acquire(timeout=self.timeout):
            raise TimeoutError
        raw = None
        try:
            raw = self._take()
            yield raw
        except BaseException:
            if raw is not None:
                try:
                    raw.rollback()
                except Exception:
                    with contextlib.suppress(Exception):
                        raw.close()
                    raw = None
            raise
        finally:
            if raw is not None:
                with self._lock:
                    if self.closed:
                        with contextlib.suppress(Exception):
                            raw.close()
                    else:
                        self._idle.append((raw, time.monotonic()))
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for raw, _ in idle:
            with contextlib.suppress(Exception):
                raw.close()


_ON_CONFLICT = re.compile(r"\s*ON CONFLICT \(([^)]*)\) DO (NOTHING|UPDATE SET (.*))\Z", re.S)
_INTO = re.compile(r"INSERT INTO (\w+)")
_KEY_COLUMN = re.compile(r"(?<![`\w])(?<!%\()key(?![`\w])")
"""The column ``key`` (a reserved word in MySQL), not the placeholder ``%(key)s``."""


@functools.lru_cache(maxsize=4096)
def _dialect(statement: str) -> str:
    """A statement of the SQL stores (PostgreSQL's ``%s`` placeholders already) in MySQL's
    words: ``ON CONFLICT … DO NOTHING`` becomes a no-op ``ON DUPLICATE KEY UPDATE`` (it
    counts no row, as a skipped insert counts none), ``DO UPDATE SET … excluded.c`` becomes
    ``ON DUPLICATE KEY UPDATE … VALUES(c)``, and the column ``key`` is quoted."""
    statement = _KEY_COLUMN.sub("`key`", statement)
    found = _ON_CONFLICT.search(statement)
    if found is None:
        return statement
    into = _INTO.search(statement)
    table = into.group(1) if into else ""
    if found.group(3) is None:
        column = found.group(1).split(",")[0].strip()
        update = f"{table}.{column} = {table}.{column}"
    else:
        update = re.sub(r"\bexcluded\.(\w+)", r"VALUES(\1)", found.group(3))
    return f"{statement[: found.start()]} ON DUPLICATE KEY UPDATE {update}"


class MySQLDelivery(SQLDelivery):
    """Delivery on MariaDB and MySQL: the server's clock, ``SKIP LOCKED``; the store's reads
    join the delivery's transaction (`MySQLStore.using`). MySQL cannot update a table that
    a subquery of the same statement reads, nor return the rows it updated: a claim selects
    its rows ``FOR UPDATE SKIP LOCKED``, then updates and reads them."""

    now = "UNIX_TIMESTAMP(SYSDATE(6))"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    store: MySQLStore

    def joined(self, connection: Any) -> contextlib.AbstractContextManager[Any]:
        return self.store.using(connection)

    def hold_relay(self, connection: Any, consumer: str) -> bool:
        held = connection.execute(
            self.sql("SELECT name FROM delivery_consumers WHERE name = ?" + self.skip_locked),
            (consumer,),
        ).fetchone()
        return held is not None

    def take(
        self, connection: Any, consumer: str, worker: str, limit: int, lease: float
    ) -> list[Any]:
        chosen = connection.execute(
            self.sql(
                "SELECT q.position FROM delivery_queue q WHERE q.consumer = ? "
                "AND q.available_at <= {now} AND NOT EXISTS (SELECT 1 FROM delivery_queue e "
                "WHERE e.consumer = q.consumer AND e.case_id = q.case_id "
                f"AND e.position < q.position) ORDER BY q.position LIMIT ?{self.skip_locked}",
            ),
            (consumer, limit),
        ).fetchall()
        positions = [int(row[0]) for row in chosen]
        if not positions:
            return []
        marks = ", ".join("?" for _ in positions)
        connection.execute(
            self.sql(
                "UPDATE delivery_queue SET available_at = {now} + ?, leased_by = ?, "
                f"attempts = attempts + 1 WHERE consumer = ? AND position IN ({marks})",
            ),
            (lease, worker, consumer, *positions),
        )
        return list(
            connection.execute(
                self.sql(
                    "SELECT position, data, attempts FROM delivery_queue "
                    f"WHERE consumer = ? AND position IN ({marks})",
                ),
                (consumer, *positions),
            ).fetchall()
        )

    def take_sweep(self, connection: Any, day: str, worker: str, lease: float) -> bool:
        # ON DUPLICATE KEY UPDATE has no WHERE: each assignment keeps the old value unless
        # the sweep is free (its conditions read columns no earlier assignment changed).
        free = "finished_at IS NULL AND lease_until < {now}"
        cursor = connection.execute(
            self.sql(
                "INSERT INTO delivery_sweeps (day, leased_by, lease_until) "
                "VALUES (?, ?, {now} + ?) ON DUPLICATE KEY UPDATE "
                f"leased_by = IF({free}, VALUES(leased_by), leased_by), "
                f"lease_until = IF({free}, VALUES(lease_until), lease_until)",
            ),
            (day, worker, lease),
        )
        return int(cursor.rowcount) > 0  # 1 inserted, 2 taken over, 0 left as it was


class MySQLStore(ServerStore):
    """Cases, history and outbox in a MariaDB or MySQL database (created if missing, and
    migrated, on open).

    ``max_connections`` bounds the pool; ``pool_timeout`` is how long a call waits for a free
    connection before `StoreUnavailableError`.
    """

    PLACEHOLDER = "%s"
    GREATEST = "GREATEST"
    DELIVERY = MySQLDelivery
    PAGE_KEY = ("c.declared_on", "c.id")
    PAGE_START = (dt.date.min, "")

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = 10,
        max_connections: int = 10,
        pool_timeout: float = 30.0,
        create: bool = True,
    ) -> None:
        self._params = _parameters(url, connect_timeout)
        self.database = _database(url)
        self.max_connections = max_connections
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at named points inside a write: a seam for crash tests."""
        self._where = redact(url)
        self._bound: contextvars.ContextVar[_Connection | None] = contextvars.ContextVar(
            f"kmbase_mysql_{id(self)}", default=None
        )
        try:
            self._migrate(create=create)
        except pymysql.MySQLError as error:
            raise _translate(error, self._where) from None
        self._pool: _Pool | None = _Pool(self._open, max_connections, pool_timeout)

    def _open(self, database: str | None = None) -> pymysql.connections.Connection[Any]:
        return pymysql.connect(database=database or self.database, **self._params)

    def _migrate(self, *, create: bool) -> None:
        server = pymysql.connect(**self._params)
        try:
            cursor = server.cursor()
            # Only when missing: a least-privileged account may not CREATE, even IF NOT EXISTS.
            if not _exists(cursor, self.database):
                if not create:  # a mistyped database is refused, not created empty
                    raise missing_database(self._where)
                cursor.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{self.database}` "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )
            server.select_db(self.database)
            # One migrator at a time, even with several servers starting together.
            cursor.execute(
                "SELECT GET_LOCK(%s, %s)", (f"kmbase.{self.database}", _MIGRATION_LOCK_WAIT)
            )
            if cursor.fetchone() != (1,):
                raise StoreBusyError(
                    Text(
                        zh=f"{self._where} 正由另一进程迁移，超过 {_MIGRATION_LOCK_WAIT} 秒",
                        en=f"another process kept migrating {self._where} beyond "
                        f"{_MIGRATION_LOCK_WAIT} s",
                    ),
                    hint=Text(zh="请稍后重试", en="try again later"),
                )
            try:
                cursor.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR(255) PRIMARY "
                    "KEY, applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
                    + _TABLE_OPTIONS
                )
                cursor.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name")
                applied = [_text(row[0]) for row in cursor.fetchall()]
                check_known(applied, f"MySQL database {self.database}")
                for name in MIGRATION_NAMES:
                    if name in applied:
                        continue
                    for statement in statements(MYSQL[name]):
                        table = statement.startswith("CREATE TABLE")
                        cursor.execute(statement + (_TABLE_OPTIONS if table else ""))
                    cursor.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            finally:
                cursor.execute("SELECT RELEASE_LOCK(%s)", (f"kmbase.{self.database}",))
        finally:
            server.close()

    # -- connections ---------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return _dialect(super()._sql(statement))

    @contextlib.contextmanager
    def _connection(self) -> Iterator[_Connection]:
        bound = self._bound.get()
        if bound is not None:
            try:
                yield bound
            except pymysql.MySQLError as error:
                raise _translate(error, self._where) from error
            return
        if self._pool is None or self._pool.closed:
            raise StoreError(
                Text(zh=f"存储 {self._where} 已关闭", en=f"the store {self._where} is closed"),
                hint=Text(zh="请重新打开存储", en="open the store again"),
            )
        try:
            with self._pool.connection() as raw:
                yield _Connection(raw)
        except TimeoutError:
            raise StoreUnavailableError(
                Text(
                    zh=f"在时限内没有可用的 MySQL/MariaDB 连接（{self._where}）",
                    en=f"no MySQL/MariaDB connection free in time ({self._where})",
                ),
                hint=Text(
                    zh="连接均忙；请稍后重试，或增大 max_connections",
                    en="every connection is busy; try again later, or raise max_connections",
                ),
            ) from None
        except pymysql.MySQLError as error:
            raise _translate(error, self._where) from error

    @contextlib.contextmanager
    def _transaction(self, connection: _Connection, *, rollback: bool = False) -> Iterator[None]:
        """A transaction on ``connection`` (a savepoint inside a host's, within `using`):
        committed when the block ends (rolled back if ``rollback``), rolled back if it raises."""
        nested = self._bound.get() is not None

        def undo() -> None:
            if nested:
                connection.execute("ROLLBACK TO SAVEPOINT kmbase")
            else:
                connection.raw.rollback()

        if nested:
            connection.execute("SAVEPOINT kmbase")
        else:
            connection.raw.begin()
        try:
            yield
        except BaseException:
            undo()
            raise
        if rollback:
            undo()
        elif nested:
            connection.execute("RELEASE SAVEPOINT kmbase")
        else:
            connection.raw.commit()

    def _bind(self, connection: Any) -> _Connection:
        return connection if isinstance(connection, _Connection) else _Connection(connection)

    def _lock_cycle(self, error: Exception) -> bool:
        return isinstance(error, pymysql.err.OperationalError) and error.args[0] == _DEADLOCK

    # -- writing -------------------------------------------------------------------------------

    def _many(self, connection: Any, statement: str, rows: Sequence[Any]) -> int:
        if rows and statement == INSERT_OUTBOX:
            # Positions are assigned, and committed, in one order: hold the outbox until
            # this transaction ends (the module doc says why).
            connection.execute("SELECT id FROM outbox_writer WHERE id = 1 FOR UPDATE")
            self._checkpoint("outbox_held")
        return super()._many(connection, statement, rows)


def _database(url: str) -> str:
    """The database a URL names (default ``kmbase``), refused unless a plain name."""
    database = unquote(urlsplit(url).path.lstrip("/")) or "kmbase"
    if not _DATABASE_NAME.match(database):
        raise InvalidInputError(
            Text(zh=f"无效的数据库名 {database}", en=f"invalid database name {database}"),
            hint=Text(zh="使用字母、数字和下划线", en="use letters, digits and _"),
        )
    return database


def _parameters(url: str, connect_timeout: int = 10) -> dict[str, Any]:
    """PyMySQL's connection parameters for a ``mysql://`` URL (no database: the caller
    chooses), with the store's settings: utf8mb4, autocommit, ``READ COMMITTED``, keys
    decoded to text."""
    parts = urlsplit(url)
    try:
        port = parts.port or 3306
    except ValueError:
        port = 0
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "charset": "utf8mb4",
        "connect_timeout": connect_timeout,
        "autocommit": True,
        "conv": _DECODERS,
        "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    }


def _exists(cursor: pymysql.cursors.Cursor, database: str) -> bool:
    cursor.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (database,))
    return cursor.fetchone() is not None


def database_exists(url: str) -> bool:
    """Whether the database a ``mysql://`` URL names exists (nothing is created)."""
    try:
        with contextlib.closing(pymysql.connect(**_parameters(url))) as server:
            return _exists(server.cursor(), _database(url))
    except pymysql.MySQLError as error:
        raise _translate(error, redact(url)) from None


def connect(url: str) -> pymysql.connections.Connection[Any]:
    """A connection to the database of a ``mysql://`` URL with the store's settings (for
    tools and tests that need raw access, as an administrator has it)."""
    return pymysql.connect(database=_database(url), **_parameters(url))


def open_url(url: str, *, create: bool = True) -> MySQLStore:
    """``mysql://user:password@host:3306/database`` (or ``mariadb://``; default database
    ``kmbase``, created if missing unless ``create=False``): ``?max_connections=N`` sizes the
    pool (default 10), ``?connect_timeout=SECONDS`` (default 10). The ``mysql`` and
    ``mariadb`` entry points of `open_store`."""
    base, _, query = url.partition("?")
    given = options(query)
    size = positive(given.pop("max_connections", "10"), "max_connections", int)
    timeout = positive(given.pop("connect_timeout", "10"), "connect_timeout", int)
    if given:
        raise InvalidInputError(
            Text(
                zh=f"存储地址中有未知选项：{', '.join(sorted(given))}",
                en=f"unknown options in the store URL: {', '.join(sorted(given))}",
            ),
            hint=Text(
                zh="可用：max_connections、connect_timeout",
                en="known: max_connections, connect_timeout",
            ),
        )
    return MySQLStore(base, max_connections=size, connect_timeout=timeout, create=create)
