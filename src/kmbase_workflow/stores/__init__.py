"""Pluggable persistence: the store protocol and the bundled backends.

Backends live in their own modules so their drivers are imported only when used:
``memory`` (here), ``sqlite`` (sqlite-utils, the embedded default) and ``postgres``
(psycopg 3). `open_store` picks one by URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._i18n import Text
from ..errors import InvalidInputError, install_hint
from ._protocol import CaseQuery, CaseStore, Change, CommandResult, OutboxRecord
from ._rows import INDEXED_TEXT_LIMIT
from ._schema import missing_database
from ._work_queue import CaseCount, NoticeRunning, WorkItem, WorkItemQuery, WorkQueueStore
from .memory import MemoryStore

if TYPE_CHECKING:
    from .postgres import PostgresStore

DEFAULT_URL = "sqlite:///kmbase.db"
"""The store used when none is given: a SQLite file in the working directory."""

URL_ENVIRONMENT_VARIABLE = "KMBASE_DB"
"""The environment variable the command line reads the store URL from."""


def open_store(url: str | None = None, *, create: bool = True) -> CaseStore:
    """A store chosen by URL (default: ``$KMBASE_DB``, else `DEFAULT_URL`).

    With ``create=False`` a database that does not exist (an SQLite file, a PostgreSQL
    schema) is refused with `InvalidInputError` and nothing is created: what only reads or
    verifies a store opens it so, and a mistyped path is never an empty store that verifies.

    - ``memory://``: in memory, gone when the process ends;
    - ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:``
      (``?timeout=SECONDS``: how long a writer waits for the lock, default 30);
    - ``postgresql://user@host:5432/database`` (``?schema=name`` picks the PostgreSQL
      schema, default ``kmbase``; ``?max_connections=N`` sizes the connection pool, default
      10); needs the ``postgres`` extra.
    """
    kind, where, options = _parse(url)
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        from .sqlite import SQLiteStore  # noqa: PLC0415 - drivers load only when chosen

        timeout = _number(options.pop("timeout", "30"), "timeout", float)
        if not create and where != ":memory:" and not Path(where).is_file():
            raise missing_database(where)
        return SQLiteStore(where, timeout=timeout)
    postgres_store = _postgres_store()
    schema = options.pop("schema", "kmbase")
    size = _number(options.pop("max_connections", "10"), "max_connections", int)
    rest = "&".join(f"{key}={value}" for key, value in options.items())
    return postgres_store(
        where + (f"?{rest}" if rest else ""), schema=schema, max_connections=size, create=create
    )


def database_exists(url: str | None = None) -> bool:
    """Whether the database ``url`` names exists (an SQLite file, a PostgreSQL schema),
    found without creating or changing anything; an in-memory store never does."""
    kind, where, options = _parse(url)
    if kind == "memory" or where == ":memory:":
        return False
    if kind == "sqlite":
        return Path(where).exists()
    query = "&".join(
        f"{key}={value}"
        for key, value in options.items()
        if key not in ("schema", "max_connections")
    )
    return _postgres_store().schema_exists(
        where + (f"?{query}" if query else ""), options.get("schema", "kmbase")
    )


def _parse(url: str | None) -> tuple[str, str, dict[str, str]]:
    """The kind of store a URL names (``memory``, ``sqlite``, ``postgres``), where (a file
    path, the connection URL without its query) and the options of its query."""
    url = url or os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL
    if url == "memory://":
        return "memory", "", {}
    if url.startswith("sqlite://"):
        path, _, query = url.removeprefix("sqlite://").partition("?")
        return (
            "sqlite",
            ":memory:" if path == ":memory:" else path.removeprefix("/"),
            _options(query),
        )
    if url.startswith(("postgresql://", "postgres://")):
        base, _, query = url.partition("?")
        return "postgres", base, _options(query)
    raise InvalidInputError(
        Text(zh=f"不支持的存储地址 {url}", en=f"unsupported store URL {url}"),
        hint=Text(
            zh="可用：memory://、sqlite:///路径、postgresql://…",
            en="use memory://, sqlite:///path or postgresql://...",
        ),
    )


def _postgres_store() -> type[PostgresStore]:
    try:
        from .postgres import PostgresStore  # noqa: PLC0415 - drivers load only when chosen
    except ImportError:
        raise InvalidInputError(
            Text(
                zh="未安装 PostgreSQL 驱动 psycopg",
                en="the PostgreSQL driver psycopg is not installed",
            ),
            hint=install_hint("postgres"),
        ) from None
    return PostgresStore


def _options(query: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in query.split("&") if "=" in part)


def _number(value: str, name: str, kind: type[float] | type[int]) -> Any:
    try:
        number = kind(value)
    except ValueError:
        number = 0
    if not number > 0:
        raise InvalidInputError(
            Text(
                zh=f"存储地址中的 {name} 无效：{value}",
                en=f"invalid {name} in the store URL: {value}",
            ),
            hint=Text(zh=f"{name} 须为正数", en=f"{name} must be a positive number"),
        )
    return number


__all__ = [
    "DEFAULT_URL",
    "INDEXED_TEXT_LIMIT",
    "URL_ENVIRONMENT_VARIABLE",
    "CaseCount",
    "CaseQuery",
    "CaseStore",
    "Change",
    "CommandResult",
    "MemoryStore",
    "NoticeRunning",
    "OutboxRecord",
    "WorkItem",
    "WorkItemQuery",
    "WorkQueueStore",
    "database_exists",
    "open_store",
]
