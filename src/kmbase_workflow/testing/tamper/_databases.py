"""Raw access to the database behind a store, as its administrator has it: one class per
bundled backend (SQLite, PostgreSQL, MariaDB/MySQL), each with its own SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol

from ...encoding import dumps


class Database(Protocol):
    """Raw access to the database behind a store, as its administrator has it."""

    dialect: str
    """``sqlite``, ``postgresql`` or ``mysql``."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (``?`` placeholders) in its own transaction."""
        ...

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query (``?`` placeholders)."""
        ...

    def json(self, value: Any) -> Any:
        """``value`` as a parameter for a JSON column."""
        ...

    def drop_guards(self) -> None:
        """Drop every trigger that guards the tables."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class SQLiteDatabase:
    """`Database` for a SQLite file."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._conn.execute(statement, tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""
        return list(self._conn.execute(statement, tuple(params)).fetchall())

    def json(self, value: Any) -> Any:
        """JSON text."""
        return dumps(value)

    def drop_guards(self) -> None:
        """Drop every trigger."""
        for (name,) in self.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            self.execute(f'DROP TRIGGER "{name}"')

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class PostgresDatabase:
    """`Database` for a PostgreSQL schema."""

    dialect = "postgresql"

    def __init__(self, url: str, schema: str) -> None:
        import psycopg  # noqa: PLC0415 - only when PostgreSQL is tested

        self._conn = psycopg.connect(url, autocommit=True)
        self._conn.execute(f'SET search_path TO "{schema}"')
        self.schema = schema

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._conn.execute(statement.replace("?", "%s"), tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""
        cursor = self._conn.execute(statement.replace("?", "%s"), tuple(params))
        return list(cursor.fetchall())

    def json(self, value: Any) -> Any:
        """A JSONB parameter."""
        from psycopg.types.json import Jsonb  # noqa: PLC0415

        return Jsonb(value)

    def drop_guards(self) -> None:
        """Drop every user trigger of the schema."""
        triggers = self.rows(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
            "AND n.nspname = ?",
            (self.schema,),
        )
        for name, table in triggers:
            self.execute(f'DROP TRIGGER "{name}" ON "{table}"')

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class MySQLDatabase:
    """`Database` for a MariaDB or MySQL database (``mysql://`` URL, as the store's)."""

    dialect = "mysql"

    def __init__(self, url: str) -> None:
        from ...stores.mysql import connect  # noqa: PLC0415 - only when MySQL is tested

        self._conn = connect(url)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._conn.cursor().execute(statement.replace("?", "%s"), tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""
        cursor = self._conn.cursor()
        cursor.execute(statement.replace("?", "%s"), tuple(params))
        return list(cursor.fetchall())

    def json(self, value: Any) -> Any:
        """JSON text."""
        return dumps(value)

    def drop_guards(self) -> None:
        """Drop every trigger of the database."""
        names = self.rows(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
        )
        for (name,) in names:
            self.execute(f"DROP TRIGGER `{name}`")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
