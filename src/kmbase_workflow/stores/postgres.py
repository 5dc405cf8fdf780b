"""The shared-deployment store: PostgreSQL through psycopg 3.

Several application servers may share one database. Guarantees, and how:

- each write is one transaction (state, history, outbox, idempotency key);
- a stale writer is refused: ``UPDATE … WHERE version = expected`` under row locks, so of
  two concurrent writers exactly one succeeds and the other gets a version conflict;
- the outbox is in commit order: writers take a transaction-level advisory lock before
  appending events, so positions are committed in order and a consumer reading "after my
  cursor" never skips an event that commits late;
- history is append-only in the database (a trigger refuses UPDATE and DELETE).

``schema`` puts the tables in their own PostgreSQL schema (default ``kmbase``), so the
library can live in a host application's existing database.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .._i18n import Text
from ..case import Case, State
from ..errors import InvalidInputError, StoreError
from ._protocol import CaseQuery, Change
from ._rows import (
    application_data,
    case_columns,
    case_from_json,
    event_data,
    history_columns,
)
from ._schema import MIGRATION_NAMES, POSTGRES_M001, POSTGRES_M002, check_known
from ._sql import SQLStoreBase
from .memory import conflict, key_taken, not_found

__all__ = ["PostgresStore"]

_PAGE = 500
_OUTBOX_LOCK = 0x6B6D6261  # "kmba": one advisory lock id for the outbox's commit order
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MIGRATIONS = {"m001_initial": POSTGRES_M001, "m002_append_only": POSTGRES_M002}


class PostgresStore(SQLStoreBase):
    """Cases, history and outbox in a PostgreSQL database (tables created on open)."""

    PLACEHOLDER = "%s"
    GREATEST = "GREATEST"

    def _date_param(self, day: dt.date) -> object:
        return day

    def __init__(self, url: str, *, schema: str = "kmbase", connect_timeout: int = 10) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise InvalidInputError(
                Text(zh=f"无效的模式名 {schema}", en=f"invalid schema name {schema}"),
                hint=Text(
                    zh="使用小写字母、数字和下划线", en="use lower-case letters, digits and _"
                ),
            )
        self.schema = schema
        self.on_checkpoint: Callable[[str], None] | None = None
        """Called at named points inside a write: a seam for crash tests."""
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout)
        except psycopg.Error as error:
            raise StoreError(
                Text(
                    zh=f"无法连接 PostgreSQL（{_redact(url)}）：{error}",
                    en=f"cannot connect to PostgreSQL ({_redact(url)}): {error}",
                ),
                hint=Text(
                    zh="请检查地址、端口与权限", en="check the URL, the port and the credentials"
                ),
            ) from None
        self._lock = threading.RLock()
        try:
            # Only when missing: a least-privileged role may not CREATE, even IF NOT EXISTS.
            if self._conn.execute("SELECT to_regnamespace(%s)", (schema,)).fetchone() == (None,):
                self._conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            self._conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _migrate(self) -> None:
        with self._lock, self._conn.transaction():
            # One migrator at a time, even with several servers starting together.
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_OUTBOX_LOCK + 1,))
            if self._conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,):
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
            applied = [
                row[0]
                for row in self._conn.execute(
                    "SELECT name FROM schema_migrations ORDER BY applied_at, name"
                )
            ]
            check_known(applied, f"PostgreSQL schema {self.schema}")
            for name in MIGRATION_NAMES:
                if name not in applied:
                    self._conn.execute(_MIGRATIONS[name])
                    self._conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))

    @property
    def schema_version(self) -> tuple[str, ...]:
        """The migrations applied to this schema, oldest first."""
        with self._lock:
            return tuple(
                row[0]
                for row in self._conn.execute(
                    "SELECT name FROM schema_migrations ORDER BY applied_at, name"
                )
            )

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none."""
        with self._lock, self._conn.transaction():
            for change in changes:
                self._write(change)
            self._checkpoint("before_commit")

    def _write(self, change: Change) -> None:
        case = change.case
        columns = case_columns(case)
        columns["data"] = Jsonb(columns["data"])
        execute = self._conn.execute
        if change.expected_version == 0:
            cursor = execute(
                "INSERT INTO cases (id, base_id, round_year, district, state, version, declared_on, "
                "notice_due, validity_due, data) VALUES (%(id)s, %(base_id)s, %(round_year)s, "
                "%(district)s, %(state)s, %(version)s, %(declared_on)s, %(notice_due)s, "
                "%(validity_due)s, %(data)s) ON CONFLICT (id) DO NOTHING",
                columns,
            )
            if cursor.rowcount != 1:
                raise conflict(case.id, 0, self._version(case.id))
            execute(
                "INSERT INTO applications (case_id, data) VALUES (%s, %s)",
                (case.id, Jsonb(application_data(case.application))),
            )
        else:
            cursor = execute(
                "UPDATE cases SET state = %(state)s, version = %(version)s, "
                "notice_due = %(notice_due)s, validity_due = %(validity_due)s, data = %(data)s "
                "WHERE id = %(id)s AND version = %(expected)s",
                {**columns, "expected": change.expected_version},
            )
            if cursor.rowcount != 1:
                actual = self._version(case.id)
                if actual == 0:
                    raise not_found(case.id)
                raise conflict(case.id, change.expected_version, actual)
        self._checkpoint("case")
        history = history_columns(change.history)
        history["data"] = Jsonb(history["data"])
        execute(
            "INSERT INTO history (case_id, sequence, action, from_state, to_state, at, "
            "previous_hash, hash, data) VALUES (%(case_id)s, %(sequence)s, %(action)s, "
            "%(from_state)s, %(to_state)s, %(at)s, %(previous_hash)s, %(hash)s, %(data)s)",
            history,
        )
        self._checkpoint("history")
        if change.events:
            execute("SELECT pg_advisory_xact_lock(%s)", (_OUTBOX_LOCK,))
            with self._conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO outbox (id, type, case_id, occurred_at, data) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [
                        (e.id, e.type, e.case_id, e.occurred_at, Jsonb(event_data(e)))
                        for e in change.events
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
                raise key_taken(change.idempotency_key)

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        with self._lock:
            row = self._conn.execute(
                "SELECT c.data, a.data FROM cases c JOIN applications a ON a.case_id = c.id "
                "WHERE c.id = %s",
                (case_id,),
            ).fetchone()
        if row is None:
            raise not_found(case_id)
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
            with self._lock:
                rows = self._conn.execute(query, (*last, *params)).fetchall()
            for row in rows:
                yield case_from_json(row[2], row[3])
            if len(rows) < _PAGE:
                return
            last = (rows[-1][0], rows[-1][1])

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query`` (filtered in SQL), in declaration order."""
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
        """Cases whose notice ended before ``before``, and certified cases."""
        return self._pages(
            sql.SQL(
                "(c.state IN (%s, %s) AND c.notice_due < %s) "
                "OR (c.state = %s AND c.validity_due IS NOT NULL)"
            ),
            [State.PUBLICIZED.value, State.VERIFIED.value, before, State.CERTIFIED.value],
        )


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
