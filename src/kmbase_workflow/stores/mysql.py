"""The MySQL-family store: MariaDB 10.6+ or MySQL 8 (and servers of their protocol) through
PyMySQL, registered as the ``mysql`` and ``mariadb`` entry points of `open_store`.

It is the SQL stores' code (`SQLStoreBase`, `SQLWorkQueue`) with its own dialect and
delivery (``stores/_mysql_dialect.py``), and its own schema (``stores/_mysql_schema.py``,
one script per migration name); this module holds the connections, their errors and the
migrating. Guarantees, and how:

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
from ._mysql_dialect import MySQLDelivery, dialect
from ._mysql_schema import MYSQL, TABLE_OPTIONS
from ._schema import MIGRATION_NAMES, check_known, missing_database, statements
from ._server import ServerStore
from ._sql import INSERT_OUTBOX
from ._url import options, positive, redact

__all__ = ["MySQLStore", "connect", "database_exists", "open_url"]

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


class MySQLStore(ServerStore):
    """Cases, history and outbox in a MariaDB or MySQL database (created if missing, and
    migrated, on open).

    ``max_connections`` bounds the pool; ``pool_timeout`` is how long a call waits for a free
    connection before `StoreUnavailableError`.
    """

    APPLICATION_TEXT_AS_WRITTEN = True
    BASE_READ = "SELECT id, version FROM cases WHERE base_id = ? FOR UPDATE"
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
                    + TABLE_OPTIONS
                )
                cursor.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name")
                applied = [_text(row[0]) for row in cursor.fetchall()]
                check_known(applied, f"MySQL database {self.database}")
                for name in MIGRATION_NAMES:
                    if name in applied:
                        continue
                    for statement in statements(MYSQL[name]):
                        table = statement.startswith("CREATE TABLE")
                        cursor.execute(statement + (TABLE_OPTIONS if table else ""))
                    cursor.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            finally:
                cursor.execute("SELECT RELEASE_LOCK(%s)", (f"kmbase.{self.database}",))
        finally:
            server.close()

    # -- connections ---------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return dialect(super()._sql(statement))

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
