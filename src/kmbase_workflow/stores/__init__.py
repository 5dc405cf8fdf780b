"""Pluggable persistence: the store protocol and the bundled backends.

Backends live in their own modules so their drivers are imported only when used:
``memory``, ``sqlite`` (sqlite-utils, the embedded default), ``postgres`` (psycopg 3) and
``mysql`` (PyMySQL; MariaDB and MySQL). `open_store` picks one by the URL's scheme, from the
backends registered under the ``kmbase_workflow.stores`` entry point group (`store_backends`):
a third party adds its own the same way.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points

from .._i18n import Text
from ..encoding import INDEXED_TEXT_LIMIT
from ..errors import InvalidInputError, install_hint
from ._delivery import DeliveryCounts, DeliveryRows, DeliveryStore
from ._protocol import CaseQuery, CaseStore, Change, CommandResult, OutboxRecord, RawRowStore

# The row form of a case and of an entry, by which the audit and the tamper suite read a
# RawRowStore's rows (not public API: the library's own modules import it from here).
from ._rows import HISTORY_SUMMARY_COLUMNS as HISTORY_SUMMARY_COLUMNS
from ._rows import OUTBOX_SUMMARY_COLUMNS as OUTBOX_SUMMARY_COLUMNS
from ._rows import case_columns as case_columns
from ._rows import case_from_json as case_from_json
from ._rows import history_columns as history_columns
from ._work_queue import CaseCount, NoticeRunning, WorkItem, WorkItemQuery, WorkQueueStore
from .memory import MemoryStore
from .tokens import TokenRows, TokenStore

DEFAULT_URL = "sqlite:///kmbase.db"
"""The store used when none is given: a SQLite file in the working directory."""

URL_ENVIRONMENT_VARIABLE = "KMBASE_DB"
"""The environment variable the command line reads the store URL from."""


ENTRY_POINT_GROUP = "kmbase_workflow.stores"
"""The entry point group of store backends: each entry's name is a URL scheme, its object a
function that opens the store of a URL, ``open_url(url, *, create=True) -> CaseStore``
(``create=False``: refuse a database that does not exist, creating nothing); the module
that holds it may also say whether a URL's database exists (``database_exists(url) ->
bool``). The library's own backends are declared in its ``pyproject.toml`` as a third party
declares its own (docs/how-to/add-a-backend.md)."""

_BUNDLED = {
    "memory": "kmbase_workflow.stores.memory:open_url",
    "sqlite": "kmbase_workflow.stores.sqlite:open_url",
    "postgresql": "kmbase_workflow.stores.postgres:open_url",
    "postgres": "kmbase_workflow.stores.postgres:open_url",
    "mysql": "kmbase_workflow.stores.mysql:open_url",
    "mariadb": "kmbase_workflow.stores.mysql:open_url",
}
"""The library's own entry points, the very list its ``pyproject.toml`` declares (a test
checks). Their schemes are resolved from here, without reading every installed package's
metadata (about 0.1 s in a large environment, paid by each command's start-up), and no
other package can take them over; other schemes are looked up among the entry points."""

_EXTRAS = {"kmbase_workflow.stores.postgres": "postgres", "kmbase_workflow.stores.mysql": "mysql"}
"""The extra that installs the driver of each bundled backend that needs one."""


@functools.cache
def store_backends() -> Mapping[str, EntryPoint]:
    """Every registered backend by URL scheme (the ``kmbase_workflow.stores`` entry points
    of the installed packages; read once per process)."""
    found = {ep.name.lower(): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.update(_bundled(scheme) for scheme in _BUNDLED)
    return found


def _bundled(scheme: str) -> tuple[str, EntryPoint]:
    return scheme, EntryPoint(scheme, _BUNDLED[scheme], ENTRY_POINT_GROUP)


def open_store(url: str | None = None, *, create: bool = True) -> CaseStore:
    """A store chosen by URL (default: ``$KMBASE_DB``, else `DEFAULT_URL`), through the
    backend registered for its scheme (`store_backends`).

    With ``create=False`` a database that does not exist (an SQLite file, a PostgreSQL
    schema, a MariaDB/MySQL database) is refused with `InvalidInputError` and nothing is
    created: what only reads or verifies a store opens it so, and a mistyped path is never
    an empty store that verifies.

    - ``memory://``: in memory, gone when the process ends;
    - ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:``
      (``?timeout=SECONDS``: how long a writer waits for the lock, default 30);
    - ``postgresql://user@host:5432/database`` (``?schema=name`` picks the PostgreSQL
      schema, default ``kmbase``; ``?max_connections=N`` sizes the connection pool, default
      10); needs the ``postgres`` extra;
    - ``mysql://user:password@host:3306/database`` (or ``mariadb://``; MariaDB 10.6+ or
      MySQL 8; ``?max_connections=N``, default 10); needs the ``mysql`` extra.
    """
    url, entry = _backend(url)
    opener: Callable[..., CaseStore] = _load(entry)
    return opener(url, create=create)


def database_exists(url: str | None = None) -> bool:
    """Whether the database ``url`` names exists (an SQLite file, a PostgreSQL schema, a
    MariaDB/MySQL database), found without creating or changing anything; an in-memory store
    never does."""
    url, entry = _backend(url)
    _load(entry)
    exists: Callable[[str], bool] | None = getattr(
        importlib.import_module(entry.module), "database_exists", None
    )
    if exists is None:
        raise InvalidInputError(
            Text(
                zh=f"{entry.name}:// 存储不能判断其数据库是否存在",
                en=f"the {entry.name}:// backend cannot tell whether its database exists",
            ),
            hint=Text(
                zh="其模块需提供 database_exists(url)",
                en="its module must provide database_exists(url)",
            ),
        )
    return exists(url)


def _backend(url: str | None) -> tuple[str, EntryPoint]:
    """The URL (``$KMBASE_DB`` or `DEFAULT_URL` if none) and its scheme's backend."""
    url = url or os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL
    scheme, separator, _ = url.partition("://")
    scheme = scheme.lower()
    if separator and scheme in _BUNDLED:
        entry: EntryPoint | None = _bundled(scheme)[1]
    else:
        entry = store_backends().get(scheme) if separator else None
    if entry is None:
        known = "、".join(f"{name}://" for name in sorted(store_backends()))
        raise InvalidInputError(
            Text(zh=f"不支持的存储地址 {url}", en=f"unsupported store URL {url}"),
            hint=Text(
                zh=f"可用的地址类型：{known}",
                en=f"known schemes: {known.replace('、', ', ')}",
            ),
        )
    return url, entry


def _load(entry: EntryPoint) -> Callable[..., CaseStore]:
    """A backend's opener; a missing driver is bad input that names what to install."""
    try:
        opener: Callable[..., CaseStore] = entry.load()
    except ImportError as error:
        extra = _EXTRAS.get(entry.module)
        missing = error.name or str(error)
        raise InvalidInputError(
            Text(
                zh=f"{entry.name}:// 存储的驱动未安装（{missing}）",
                en=f"the driver of {entry.name}:// stores is not installed ({missing})",
            ),
            hint=install_hint(extra)
            if extra
            else Text(zh=f"请安装 {missing}", en=f"install {missing}"),
        ) from None
    return opener


__all__ = [
    "DEFAULT_URL",
    "ENTRY_POINT_GROUP",
    "INDEXED_TEXT_LIMIT",
    "URL_ENVIRONMENT_VARIABLE",
    "CaseCount",
    "CaseQuery",
    "CaseStore",
    "Change",
    "CommandResult",
    "DeliveryCounts",
    "DeliveryRows",
    "DeliveryStore",
    "MemoryStore",
    "NoticeRunning",
    "OutboxRecord",
    "RawRowStore",
    "TokenRows",
    "TokenStore",
    "WorkItem",
    "WorkItemQuery",
    "WorkQueueStore",
    "database_exists",
    "open_store",
    "store_backends",
]
