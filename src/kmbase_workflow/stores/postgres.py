"""The shared-deployment store: PostgreSQL through psycopg 3 and psycopg's own pool.

Several application servers and worker processes may share one database. Guarantees, and how:

- each write is one transaction (state, history, outbox, idempotency key);
- a stale writer is refused: ``UPDATE … WHERE version = expected`` under row locks, so of
  two concurrent writers exactly one succeeds and the other gets a version conflict;
- no lock is common to all writers: writers on different cases commit side by side. A
  reader of the outbox never skips an event that commits late: each event row records its
  transaction (``tx``), and `PostgresStore.read_outbox` takes only events of transactions
  that ended before the oldest one still running, in ``(tx, position)`` order. A deadlock
  (two overlapping multi-case writes locking rows in another order) or a serialization
  failure is retried twice, then reported as `ConcurrencyConflictError`;
- each write is one batched statement per table (psycopg pipelines ``executemany``);
- history is append-only in the database (a trigger refuses UPDATE and DELETE);
- connections come from a ``psycopg_pool.ConnectionPool`` (``max_connections``, default 10),
  so one store serves the threads of a web server, each statement or transaction on a
  connection of its own; a lost connection is replaced on the next call;
- ``using(connection)`` lets a host write through its own connection, inside its own
  transaction, so that its rows and the case's change commit together or not at all;
- every ``psycopg`` error leaves the store as a library error that says whether a retry helps.

``schema`` puts the tables in their own PostgreSQL schema (default ``kmbase``), so the
library can live in a host application's existing database.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.pq import TransactionStatus

from .._i18n import Text
from ..encoding import check_text, event_from_data
from ..errors import (
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from ._delivery import SQLDelivery, delivery_tables
from ._protocol import OutboxRecord
from ._rows import summary_updates
from ._schema import BACKFILLS, MIGRATION_NAMES, POSTGRES, check_known, missing_database
from ._server import ServerStore
from ._url import options, positive, redact

__all__ = ["PostgresStore", "database_exists", "open_url"]

logger = logging.getLogger(__name__)

_PAGE = 500
_MIGRATION_LOCK = 0x6B6D6262  # one migrator at a time
_RELAY_LOCK = 0x6B6D6272
"""The first key of the advisory lock a relay holds on its consumer (the second: a hash of
the schema and the consumer's name)."""
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CURSOR = (
    "WITH cursor AS (SELECT COALESCE((SELECT tx FROM outbox WHERE position = %(after)s), "
    "'0'::xid8) AS tx) "
)
"""A reader's cursor (the position of the last event it read) with its transaction."""
_OUTBOX_BACKLOG = (
    _CURSOR + "SELECT COUNT(*) FROM outbox o, cursor WHERE (o.tx, o.position) > (cursor.tx, "
    "%(after)s)"
)
"""How many committed events come after a reader's cursor, in reading order."""
_READ_OUTBOX = (
    _CURSOR + "SELECT o.position, o.data, o.tx < pg_snapshot_xmin(pg_current_snapshot()) "
    "FROM outbox o, cursor WHERE (o.tx, o.position) > (cursor.tx, %(after)s) "
    "ORDER BY o.tx, o.position LIMIT %(limit)s"
)
"""Events after a reader's cursor in the order of their transactions, each marked whether
its transaction ended before the oldest one still running (then no event can come before
it any more)."""
_LOCK_CYCLE = ("40001", "40P01")  # serialization_failure, deadlock_detected
_BUSY = ("55P03", "57014")  # lock_not_available, query_canceled (lock or statement timeout)
_UNAVAILABLE = ("08", "53", "57P01", "57P02", "57P03")  # connection, resources, shutdown


def _translate(error: psycopg.Error, where: str) -> KmbaseError:
    """The library error for a ``psycopg`` error: whether a retry helps, in both languages."""
    state = error.sqlstate or ""
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if state in _LOCK_CYCLE:
        return ConcurrencyConflictError.lock_cycle(1)
    if state in _BUSY:
        return StoreBusyError(
            Text(
                zh=f"{where} 忙（等待锁或语句超时：{detail}），未写入任何内容",
                en=f"{where} is busy (a lock or statement timeout: {detail}); nothing was written",
            ),
            hint=Text(zh="请稍后重试", en="try again later"),
        )
    if (not state and isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)) or (
        state.startswith(_UNAVAILABLE)
    ):
        return StoreUnavailableError(
            Text(
                zh=f"无法连接 PostgreSQL（{where}）：{detail}",
                en=f"cannot reach PostgreSQL ({where}): {detail}",
            ),
            hint=Text(
                zh="请检查服务器是否运行、地址、端口与权限，稍后重试",
                en="check that the server runs, the URL, the port and the credentials; "
                "then try again",
            ),
        )
    return StoreError(
        Text(
            zh=f"PostgreSQL（{where}）出错：{detail}", en=f"PostgreSQL ({where}) failed: {detail}"
        ),
        hint=Text(zh="请将此消息报告给维护者", en="report this message to the maintainers"),
    )


POSTGRES_M005 = (
    delivery_tables(time="DOUBLE PRECISION", position="BIGINT")
    + """
CREATE FUNCTION kmbase_outbox_notify() RETURNS trigger AS $$
BEGIN PERFORM pg_notify(TG_TABLE_SCHEMA || '_kmbase_outbox', ''); RETURN NULL; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION kmbase_outbox_notify();
"""
)
"""Delivery's tables; and a statement trigger that notifies ``<schema>_kmbase_outbox``
(`notify_channel`) when events are written: the notification is sent at commit (never for a
rolled-back write) and repeated ones in one transaction are folded into one, so a waiting
worker wakes once per commit."""


def notify_channel(schema: str) -> str:
    """The ``LISTEN`` channel of a PostgreSQL schema's outbox."""
    return f"{schema}_kmbase_outbox"


class PostgresDelivery(SQLDelivery):
    """Delivery on PostgreSQL: the server's clock, ``SKIP LOCKED``, ``LISTEN``; the store's
    reads join the delivery's transaction (`PostgresStore.using`)."""

    now = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    notifies = True
    store: PostgresStore

    def joined(self, connection: Any) -> contextlib.AbstractContextManager[Any]:
        return self.store.using(connection)

    def hold_relay(self, connection: Any, consumer: str) -> bool:
        # An advisory lock, not the consumer's row: a row lock gives the transaction an id
        # before it reads the outbox, and then it is itself the oldest one running, holding
        # back every event committed meanwhile (`PostgresStore.read_outbox`) until it ends.
        # Two consumers whose keys collide take turns; a relay that finds its consumer
        # held returns 0 and the worker relays again at its next pass.
        held = connection.execute(
            "SELECT pg_try_advisory_xact_lock(%s, hashtext(current_schema() || '/' || %s))",
            (_RELAY_LOCK, consumer),
        ).fetchone()
        return bool(held and held[0])

    def listener(self) -> _Listener | None:
        pool = self.store._pool
        if pool is None:
            return None
        return _Listener(str(pool.conninfo), notify_channel(self.store.schema))


class _Listener:
    """``LISTEN`` on a schema's outbox channel over a connection of its own, held while
    waiting; a lost connection is opened again at the next wait (polling meanwhile)."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._connection: psycopg.Connection[Any] | None = None
        self._listen()

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def _listen(self) -> None:
        try:
            self._connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
            self._connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        except psycopg.Error as error:
            logger.warning("cannot LISTEN, polling instead: %s", error)
            self._connection = None

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._connection is None:
                stop.wait(min(remaining, 1.0))
                self._listen()
                continue
            try:
                # short slices, so a stop request is seen within a second
                for _ in self._connection.notifies(timeout=min(remaining, 1.0), stop_after=1):
                    return True
            except psycopg.Error as error:
                logger.warning("LISTEN connection lost, reconnecting: %s", error)
                self.close()
        return False

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class PostgresStore(ServerStore):
    """Cases, history and outbox in a PostgreSQL database (tables created on open).

    ``max_connections`` bounds the pool; ``pool_timeout`` is how long a call waits for a free
    connection before `StoreUnavailableError`; ``outbox_wait`` how long `read_outbox` waits
    for events held back by an older open transaction.

    A host's connection (`using`) is a psycopg 3 connection to the same database; open the
    host's transaction (``with connection.transaction():``, or a connection not in
    autocommit) before the block. Events it writes become readable (`read_outbox`) once the
    host's transaction and every older one have ended: keep it short. A batch write (one
    statement per table, pipelined) takes no lock but the rows' own, and a declaration's lock on
    its base (so two declarations of one base are written one after the other, the second
    refused if the first changed the base's cases): writers on different cases do not wait for
    each other.
    """

    BASE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(?, 9))"
    PLACEHOLDER = "%s"
    GREATEST = "GREATEST"
    DELIVERY = PostgresDelivery

    def _date_param(self, day: dt.date) -> object:
        return day

    def __init__(
        self,
        url: str,
        *,
        schema: str = "kmbase",
        connect_timeout: int = 10,
        max_connections: int = 10,
        pool_timeout: float = 30.0,
        outbox_wait: float = 2.0,
        create: bool = True,
    ) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise InvalidInputError(
                Text(zh=f"无效的模式名 {schema}", en=f"invalid schema name {schema}"),
                hint=Text(
                    zh="使用小写字母、数字和下划线", en="use lower-case letters, digits and _"
                ),
            )
        self.schema = schema
        self.max_connections = max_connections
        self.outbox_wait = outbox_wait
        """How long `read_outbox` waits for older open transactions (seconds)."""
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at named points inside a write: a seam for crash tests."""
        self._where = redact(url)
        self._bound: contextvars.ContextVar[psycopg.Connection[Any] | None] = (
            contextvars.ContextVar(f"kmbase_postgres_{id(self)}", default=None)
        )
        # Migrate over one connection of its own first: a server that cannot be reached is
        # reported now, with the driver's reason, rather than as a pool timeout later.
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout) as conn:
                self._migrate(conn, create=create)
        except psycopg.Error as error:
            raise _translate(error, self._where) from None
        self._pool: psycopg_pool.ConnectionPool[Any] | None = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            timeout=pool_timeout,
            kwargs={"autocommit": True, "connect_timeout": connect_timeout},
            configure=_search_path(schema),
            name=f"kmbase-{schema}",
            num_workers=2,
            open=True,
        )

    @staticmethod
    def schema_exists(url: str, schema: str = "kmbase", *, connect_timeout: int = 10) -> bool:
        """Whether the database of ``url`` holds the schema ``schema`` (nothing is created)."""
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout) as conn:
                found = conn.execute("SELECT to_regnamespace(%s)", (schema,)).fetchone()
        except psycopg.Error as error:
            raise _translate(error, redact(url)) from None
        return found != (None,)

    def _migrate(self, connection: psycopg.Connection[Any], *, create: bool = True) -> None:
        with connection.transaction():
            # One migrator at a time, even with several servers starting together (the schema
            # too: two concurrent CREATE SCHEMA IF NOT EXISTS can collide).
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            # Only when missing: a least-privileged role may not CREATE, even IF NOT EXISTS.
            missing = (None,)
            if (
                connection.execute("SELECT to_regnamespace(%s)", (self.schema,)).fetchone()
                == missing
            ):
                if not create:  # a mistyped ?schema= is refused, not created empty
                    raise missing_database(f"{self._where} (schema {self.schema})")
                connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            _search_path(self.schema)(connection)
            if connection.execute("SELECT to_regclass('schema_migrations')").fetchone() == missing:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
            applied = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM schema_migrations ORDER BY applied_at, name"
                )
            ]
            check_known(applied, f"PostgreSQL schema {self.schema}")
            for name in MIGRATION_NAMES:
                if name not in applied:
                    connection.execute(POSTGRES[name])
                    if name in BACKFILLS:
                        _fill_summaries(connection)
                    connection.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        bound = self._bound.get()
        if bound is not None:
            with self._host_connection(bound) as connection:
                yield connection
            return
        if self._pool is None:
            raise StoreError(
                Text(zh=f"存储 {self._where} 已关闭", en=f"the store {self._where} is closed"),
                hint=Text(zh="请重新打开存储", en="open the store again"),
            )
        try:
            with self._pool.connection() as connection:
                yield connection
        except psycopg_pool.PoolTimeout as error:
            raise StoreUnavailableError(
                Text(
                    zh=f"在时限内没有可用的 PostgreSQL 连接（{self._where}）：{error}",
                    en=f"no PostgreSQL connection free in time ({self._where}): {error}",
                ),
                hint=Text(
                    zh="服务器无法连接或连接均忙；请稍后重试，或增大 max_connections",
                    en="the server is unreachable or every connection is busy; try again "
                    "later, or raise max_connections",
                ),
            ) from None
        except psycopg.Error as error:
            raise _translate(error, self._where) from error

    @contextlib.contextmanager
    def _host_connection(
        self, connection: psycopg.Connection[Any]
    ) -> Iterator[psycopg.Connection[Any]]:
        # The host's connection keeps its own search_path: ours is set around each use only.
        try:
            row = connection.execute(
                "SELECT current_setting('search_path'), set_config('search_path', %s, false)",
                (self.schema,),
            ).fetchone()
            try:
                yield connection
            finally:
                if connection.info.transaction_status != TransactionStatus.INERROR:
                    previous = row[0] if row else "public"
                    connection.execute("SELECT set_config('search_path', %s, false)", (previous,))
        except psycopg.Error as error:
            raise _translate(error, self._where) from error

    def _transaction(
        self, connection: psycopg.Connection[Any], *, rollback: bool = False
    ) -> contextlib.AbstractContextManager[Any]:
        # psycopg nests a transaction inside a host's as a savepoint.
        return connection.transaction(force_rollback=rollback)

    def _lock_cycle(self, error: Exception) -> bool:
        return isinstance(error, psycopg.Error) and error.sqlstate in _LOCK_CYCLE

    def read_outbox(self, after: int = 0, limit: int = 100) -> list[OutboxRecord]:
        """Events after position ``after`` (the position of the last record a reader took),
        oldest first: in the order of the transactions that wrote them, and only from
        transactions that ended before the oldest one still running.

        Writers take no common lock, so a transaction may commit an event at a lower
        position after another committed a higher one; a reader that took the higher one
        and moved its cursor past it would skip the lower. Each event row records the
        transaction that wrote it (``tx``, ``pg_current_xact_id()``); a transaction below
        ``pg_snapshot_xmin(pg_current_snapshot())`` has ended, so every event it will ever
        have is visible, and any later event sorts after it by ``(tx, position)``. Within a
        transaction, events keep their positions' order; across transactions positions may
        come back out of numeric order (pass the last record's position, not the largest).

        Committed events held back by an older open transaction are waited for up to
        ``outbox_wait`` seconds (default 2), then left for the next read.
        """
        deadline = time.monotonic() + self.outbox_wait
        with self._connection() as connection:
            while True:
                rows = connection.execute(_READ_OUTBOX, {"after": after, "limit": limit}).fetchall()
                settled = [row for row in rows if row[2]]
                # Committed events above the horizon: an older transaction is still open
                # (anywhere on the server); it usually ends within milliseconds.
                if len(settled) == len(rows) or time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
        return [OutboxRecord(int(row[0]), event_from_data(row[1])) for row in settled]

    def outbox_backlog(self, after: int) -> int:
        """How many committed events come after position ``after`` in the order
        `read_outbox` reads them."""
        with self._connection() as connection:
            row = connection.execute(_OUTBOX_BACKLOG, {"after": after}).fetchone()
        return int(row[0]) if row else 0

    def acknowledge(self, consumer: str, position: int) -> None:
        """Advance a consumer's cursor (never backwards, in the order `read_outbox` reads)."""
        check_text("consumer", consumer, indexed=True)
        self._run(
            "INSERT INTO consumers AS c (name, position) VALUES (%s, %s) ON CONFLICT (name) "
            "DO UPDATE SET position = excluded.position WHERE COALESCE("
            "(SELECT (n.tx, n.position) > (o.tx, o.position) FROM outbox n, outbox o "
            "WHERE n.position = excluded.position AND o.position = c.position), "
            "excluded.position > c.position)",
            (consumer, position),
        )

    def _selection(self, where: str, params: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """One statement in declaration order, its rows streamed (psycopg's single-row mode:
        no server-side cursor, so no transaction) on a pooled connection of its own. Paging
        would ask the planner for the first page of what is left once a page: without
        statistics (a table just loaded) it sorted every match again for each page, a cost
        that grew with the square of the cases (issue 16)."""
        statement = self._sql(
            f"SELECT c.id, c.state FROM cases c WHERE {where} ORDER BY {', '.join(self.PAGE_KEY)}"
        )
        with self._connection() as connection:
            yield from connection.cursor().stream(statement, tuple(params))

    PAGE_KEY = ("c.declared_on", "c.id")
    PAGE_START = (dt.date.min, "")


def open_url(url: str, *, create: bool = True) -> PostgresStore:
    """``postgresql://user@host:5432/database`` (or ``postgres://``): ``?schema=name`` picks
    the PostgreSQL schema (default ``kmbase``), ``?max_connections=N`` sizes the pool
    (default 10); other options go to the driver. ``create=False``: a schema that does not
    exist is refused. The ``postgresql`` and ``postgres`` entry points of `open_store`."""
    base, _, query = url.partition("?")
    given = options(query)
    schema = given.pop("schema", "kmbase")
    size = positive(given.pop("max_connections", "10"), "max_connections", int)
    rest = "&".join(f"{key}={value}" for key, value in given.items())
    return PostgresStore(
        base + (f"?{rest}" if rest else ""), schema=schema, max_connections=size, create=create
    )


def database_exists(url: str) -> bool:
    """Whether the schema a ``postgresql://`` URL names exists (nothing is created)."""
    base, _, query = url.partition("?")
    given = options(query)
    schema = given.pop("schema", "kmbase")
    given.pop("max_connections", None)
    rest = "&".join(f"{key}={value}" for key, value in given.items())
    return PostgresStore.schema_exists(base + (f"?{rest}" if rest else ""), schema)


def _search_path(schema: str) -> Callable[[psycopg.Connection[Any]], None]:
    """Sets a pooled connection's search path to ``schema`` (a function of the name only,
    so the pool holds no reference back to the store), and turns JIT compilation off for it.

    Every statement of the store reads or writes a few rows by key. JIT compiles a query
    whose estimated cost is high, and the estimates of such a query are high only when the
    table has no statistics yet (right after a bulk load, before autovacuum has analysed
    it): then each keyed look-up paid 10–80 ms of compilation (PostgreSQL 15, issue 16).
    A host's own connection (`PostgresStore.using`) keeps its settings."""

    def configure(connection: psycopg.Connection[Any]) -> None:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        if connection.info.server_version >= _FIRST_WITH_JIT:
            connection.execute("SET jit = off")

    return configure


_FIRST_WITH_JIT = 110000
"""PostgreSQL 11 added JIT compilation (and its ``jit`` setting)."""


def _fill_summaries(connection: psycopg.Connection[Any]) -> None:
    """Fill the summary columns of the rows written before m003."""
    with connection.cursor(name="kmbase_m003") as rows, connection.cursor() as writer:
        rows.execute(
            "SELECT c.id, c.data, a.data FROM cases c JOIN applications a ON a.case_id = c.id"
        )
        while part := rows.fetchmany(1000):
            writer.executemany(
                "UPDATE cases SET base_name = %s, operator_code = %s, operator = %s WHERE id = %s",
                summary_updates(part),
            )
