"""The shared-deployment store: PostgreSQL through psycopg 3 and psycopg's own pool.

Several application servers and worker processes may share one database. Guarantees, and how:

- each write is one transaction (state, history, outbox, idempotency key);
- a stale writer is refused: ``UPDATE … WHERE version = expected`` under row locks, so of
  two concurrent writers exactly one succeeds and the other gets a version conflict;
- locks are taken in one order: every write transaction first takes one transaction-level
  advisory lock, then its row locks. Outbox positions are therefore committed in order (a
  consumer reading "after my cursor" never skips an event that commits late), and two
  overlapping multi-case writes cannot deadlock: the second waits for the first to end. A
  deadlock or serialization failure that still happens (say, with a host's own locks) is
  retried twice, then reported as `ConcurrencyConflictError`;
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
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.pq import TransactionStatus

from .._i18n import Text
from ..case import Case, State
from ..errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    InvalidInputError,
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
from ._schema import MIGRATION_NAMES, POSTGRES_M001, POSTGRES_M002, check_known
from ._sql import SQLStoreBase
from ._work_queue import POSTGRES_M004, SQLWorkQueue
from .tokens import POSTGRES_M006

__all__ = ["PostgresStore"]

_PAGE = 500
_OUTBOX_LOCK = 0x6B6D6261  # "kmba": one advisory lock id for the order of every write
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MIGRATIONS = {
    "m001_initial": POSTGRES_M001,
    "m002_append_only": POSTGRES_M002,
    "m004_work_queue": POSTGRES_M004,
    "m006_api_tokens": POSTGRES_M006,  # the HTTP service's tokens (stores/tokens.py)
}
_ATTEMPTS = 3
"""Tries of one write that meets a deadlock or serialization failure."""
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


@attrs.frozen
class _Rows:
    """One change's rows, its JSON encoded once (by ``dumps``) before the transaction."""

    case: dict[str, Any]
    application: str | None
    history: dict[str, Any]
    events: list[str]

    @classmethod
    def encode(cls, change: Change) -> _Rows:
        """Encode ``change``, refusing (before anything is written) one no store keeps."""
        case = case_columns(change.case)
        case["data"] = dumps(case["data"])
        application = (
            dumps(application_data(change.case.application))
            if change.expected_version == 0
            else None
        )
        history = history_columns(change.history)
        history["data"] = dumps(history["data"])
        events = [dumps(event_data(event)) for event in change.events]
        texts = [case["data"], history["data"], *events]
        if application is not None:
            texts.append(application)
        refuse_unstorable(change, texts)
        return cls(case, application, history, events)


class PostgresStore(SQLWorkQueue, SQLStoreBase):
    """Cases, history and outbox in a PostgreSQL database (tables created on open).

    ``max_connections`` bounds the pool; ``pool_timeout`` is how long a call waits for a free
    connection before `StoreUnavailableError`.
    """

    PLACEHOLDER = "%s"
    GREATEST = "GREATEST"

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
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at named points inside a write: a seam for crash tests."""
        self._where = _redact(url)
        self._bound: contextvars.ContextVar[psycopg.Connection[Any] | None] = (
            contextvars.ContextVar(f"kmbase_postgres_{id(self)}", default=None)
        )
        # Migrate over one connection of its own first: a server that cannot be reached is
        # reported now, with the driver's reason, rather than as a pool timeout later.
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout) as conn:
                self._migrate(conn)
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

    def _migrate(self, connection: psycopg.Connection[Any]) -> None:
        with connection.transaction():
            # One migrator at a time, even with several servers starting together (the schema
            # too: two concurrent CREATE SCHEMA IF NOT EXISTS can collide).
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_OUTBOX_LOCK + 1,))
            # Only when missing: a least-privileged role may not CREATE, even IF NOT EXISTS.
            missing = (None,)
            if (
                connection.execute("SELECT to_regnamespace(%s)", (self.schema,)).fetchone()
                == missing
            ):
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
                    connection.execute(_migration(name))
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

    @contextlib.contextmanager
    def using(self, connection: psycopg.Connection[Any]) -> Iterator[PostgresStore]:
        """Within the block, this store reads and writes through the host's ``connection``
        (in this thread or task only), inside the host's transaction: the store commits
        nothing, so the host's own rows and the case's change commit together, or not at
        all, when the host commits or rolls back.

        ``connection`` is a psycopg 3 connection to the same database; open the host's
        transaction (``with connection.transaction():``, or a connection not in autocommit)
        before the block. The advisory lock that orders writes is held until the host's
        transaction ends: keep it short. A deadlock is not retried here (the host's
        transaction is no longer usable): it is reported as `ConcurrencyConflictError`.
        """
        token = self._bound.set(connection)
        try:
            yield self
        finally:
            self._bound.reset(token)

    @property
    def schema_version(self) -> tuple[str, ...]:
        """The migrations applied to this schema, oldest first."""
        rows = self._all("SELECT name FROM schema_migrations ORDER BY applied_at, name")
        return tuple(row[0] for row in rows)

    def close(self) -> None:
        """Close the pool and its connections (closing twice is harmless)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none.

        The ordering advisory lock is taken first, then row locks; a deadlock or
        serialization failure is retried (``_ATTEMPTS`` tries in all, none inside a host's
        transaction), then reported as `ConcurrencyConflictError`.
        """
        if not changes:
            return
        rows = [_Rows.encode(change) for change in changes]
        attempts = 1 if self._bound.get() is not None else _ATTEMPTS
        with self._connection() as connection:
            for attempt in range(1, attempts + 1):
                try:
                    with connection.transaction():
                        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_OUTBOX_LOCK,))
                        for change, encoded in zip(changes, rows, strict=True):
                            self._write(connection, change, encoded)
                        self._project(connection, changes)
                        self._checkpoint("before_commit")
                    return
                except psycopg.Error as error:
                    if error.sqlstate not in _LOCK_CYCLE:
                        raise
                    if attempt == attempts:
                        raise ConcurrencyConflictError.lock_cycle(attempts) from error

    @staticmethod
    def _version_in(connection: psycopg.Connection[Any], case_id: str) -> int:
        row = connection.execute("SELECT version FROM cases WHERE id = %s", (case_id,)).fetchone()
        return int(row[0]) if row else 0

    def _write(self, connection: psycopg.Connection[Any], change: Change, rows: _Rows) -> None:
        case = change.case
        execute = connection.execute
        if change.expected_version == 0:
            cursor = execute(
                "INSERT INTO cases (id, base_id, round_year, district, state, version, declared_on, "
                "notice_due, validity_due, data) VALUES (%(id)s, %(base_id)s, %(round_year)s, "
                "%(district)s, %(state)s, %(version)s, %(declared_on)s, %(notice_due)s, "
                "%(validity_due)s, %(data)s::jsonb) ON CONFLICT (id) DO NOTHING",
                rows.case,
            )
            if cursor.rowcount != 1:
                raise ConcurrencyConflictError.stale_version(
                    case.id, 0, self._version_in(connection, case.id)
                )
            execute(
                "INSERT INTO applications (case_id, data) VALUES (%s, %s::jsonb)",
                (case.id, rows.application),
            )
        else:
            cursor = execute(
                "UPDATE cases SET state = %(state)s, version = %(version)s, "
                "notice_due = %(notice_due)s, validity_due = %(validity_due)s, "
                "data = %(data)s::jsonb WHERE id = %(id)s AND version = %(expected)s",
                {**rows.case, "expected": change.expected_version},
            )
            if cursor.rowcount != 1:
                actual = self._version_in(connection, case.id)
                if actual == 0:
                    raise CaseNotFoundError.no_case(case.id)
                raise ConcurrencyConflictError.stale_version(
                    case.id, change.expected_version, actual
                )
        self._checkpoint("case")
        execute(
            "INSERT INTO history (case_id, sequence, action, from_state, to_state, at, "
            "previous_hash, hash, data) VALUES (%(case_id)s, %(sequence)s, %(action)s, "
            "%(from_state)s, %(to_state)s, %(at)s, %(previous_hash)s, %(hash)s, %(data)s::jsonb)",
            rows.history,
        )
        self._checkpoint("history")
        if change.events:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO outbox (id, type, case_id, occurred_at, data) "
                    "VALUES (%s, %s, %s, %s, %s::jsonb)",
                    [
                        (e.id, e.type, e.case_id, e.occurred_at, data)
                        for e, data in zip(change.events, rows.events, strict=True)
                    ],
                )
        self._checkpoint("outbox")
        if change.idempotency_key is not None:
            cursor = execute(
                "INSERT INTO commands (key, case_id, version) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO NOTHING",
                (change.idempotency_key, case.id, case.version),
            )
            if cursor.rowcount != 1:
                raise ConcurrencyConflictError.key_taken(change.idempotency_key)

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        row = None
        if storable_key(case_id):
            row = self._one(
                "SELECT c.data, a.data FROM cases c JOIN applications a ON a.case_id = c.id "
                "WHERE c.id = ?",
                (case_id,),
            )
        if row is None:
            raise CaseNotFoundError.no_case(case_id)
        return case_from_json(row[0], row[1])

    def _pages(self, where: sql.Composable, params: Sequence[Any]) -> Iterator[Case]:
        # Keyset pagination on (declared_on, id): no cursor or lock held between pages.
        last: tuple[Any, ...] = (dt.date.min, "")
        while True:
            query = sql.SQL(
                "SELECT c.declared_on, c.id, c.data, a.data FROM cases c "
                "JOIN applications a ON a.case_id = c.id "
                "WHERE (c.declared_on, c.id) > (%s, %s) AND ({}) "
                "ORDER BY c.declared_on, c.id LIMIT {}"
            ).format(where, sql.Literal(_PAGE))
            with self._connection() as connection:
                rows = connection.execute(query, (*last, *params)).fetchall()
            for row in rows:
                yield case_from_json(row[2], row[3])
            if len(rows) < _PAGE:
                return
            last = (rows[-1][0], rows[-1][1])

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query`` (filtered in SQL), in declaration order."""
        if not self._findable(query):
            return iter(())
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if query.state is not None:
            clauses.append(sql.SQL("c.state = %s"))
            params.append(query.state.value)
        if query.states is not None:
            clauses.append(sql.SQL("c.state = ANY(%s)"))
            params.append([state.value for state in query.states])
        for column, value in (
            ("round_year", query.round_year),
            ("district", query.district),
            ("base_id", query.base_id),
        ):
            if value is not None:
                clauses.append(sql.SQL("c.{} = %s").format(sql.Identifier(column)))
                params.append(value)
        where = sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")
        return self._pages(where, params)

    def deadlines_due(self, before: dt.date) -> Iterator[Case]:
        """Cases whose notice ended before ``before``, and cases holding a title (certified,
        or awaiting its withdrawal)."""
        return self._pages(
            sql.SQL(
                "(c.state IN (%s, %s) AND c.notice_due < %s) "
                "OR (c.state IN (%s, %s) AND c.validity_due IS NOT NULL)"
            ),
            [
                State.PUBLICIZED.value,
                State.VERIFIED.value,
                before,
                State.CERTIFIED.value,
                State.REVOCATION_PENDING.value,
            ],
        )


def _migration(name: str) -> str:
    if name == "m005_delivery":
        from ..delivery._schema import POSTGRES_M005  # noqa: PLC0415 - the delivery's own

        return POSTGRES_M005
    return _MIGRATIONS[name]


def _search_path(schema: str) -> Callable[[psycopg.Connection[Any]], None]:
    """Sets a pooled connection's search path to ``schema`` (a function of the name only,
    so the pool holds no reference back to the store)."""

    def configure(connection: psycopg.Connection[Any]) -> None:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    return configure


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
