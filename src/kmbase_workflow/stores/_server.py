"""What the stores of a database server (PostgreSQL, MariaDB/MySQL) share beyond the SQL:
a pool of connections, a host's own connection and transaction (`ServerStore.using`), the
batch write retried when it meets a lock cycle, and the applied migrations.

Each store says how its driver opens a transaction (`ServerStore._transaction`), which of
its errors is a lock cycle (`ServerStore._lock_cycle`), and wraps a host's connection if it
must (`ServerStore._bind`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Protocol, Self

from ..errors import ConcurrencyConflictError
from ._protocol import Change
from ._sql import Batch, BatchRefusedError, SQLStoreBase
from ._work_queue import SQLWorkQueue

__all__ = ["ServerStore"]

ATTEMPTS = 3
"""Tries of one write that meets a deadlock (or, on PostgreSQL, a serialization failure)."""


class _Pool(Protocol):
    def close(self) -> None: ...


class ServerStore(SQLWorkQueue, SQLStoreBase):
    """The part of `PostgresStore <kmbase_workflow.stores.postgres.PostgresStore>` and
    `MySQLStore <kmbase_workflow.stores.mysql.MySQLStore>` that does not depend on the
    driver."""

    APPLICATION_TEXT_AS_WRITTEN: ClassVar[bool] = False
    """Whether the database gives an application's JSON text back as written (MySQL's
    LONGTEXT), so a committed declaration's application is kept by its text (`Batch.kept`);
    PostgreSQL's JSONB gives data back, not the text."""

    _pool: _Pool | None
    _bound: contextvars.ContextVar[Any]
    """The host's connection bound by `using` in this thread or task (``None``: the pool's)."""

    def _bind(self, connection: Any) -> Any:
        """A host's connection as this store's code calls it (as given, unless a store must
        wrap it)."""
        return connection

    def _transaction(
        self, connection: Any, *, rollback: bool = False
    ) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover - each store's
        """A transaction on ``connection`` (a savepoint inside a host's): committed when the
        block ends (rolled back if ``rollback``), rolled back if it raises."""
        raise NotImplementedError

    def _lock_cycle(self, error: Exception) -> bool:  # pragma: no cover - each store's
        """Whether the driver's ``error`` is a deadlock (or a serialization failure): the
        write is tried again."""
        raise NotImplementedError

    @contextlib.contextmanager
    def using(self, connection: Any) -> Iterator[Self]:
        """Within the block, this store reads and writes through the host's ``connection``
        (a connection of the store's driver to the same database, in a transaction the host
        opened and will end), in this thread or task only: the store commits nothing, so the
        host's own rows and the case's change commit together, or not at all, when the host
        commits or rolls back. A deadlock is not retried here (the host's transaction is no
        longer usable): it is reported as `ConcurrencyConflictError`."""
        token = self._bound.set(self._bind(connection))
        try:
            yield self
        finally:
            self._bound.reset(token)

    @property
    def schema_version(self) -> tuple[str, ...]:
        """The migrations applied to this database (or schema), oldest first."""
        rows = self._all("SELECT name FROM schema_migrations ORDER BY applied_at, name")
        return tuple(_text(row[0]) for row in rows)

    def close(self) -> None:
        """Close the pool and its connections (closing twice is harmless)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    @contextlib.contextmanager
    def _write_transaction(self) -> Iterator[Any]:
        """A connection inside a transaction (the host's, within `using`): committed when
        the block ends, rolled back if it raises."""
        with self._connection() as connection, self._transaction(connection):
            yield connection

    def commit_many(self, changes: Sequence[Change]) -> None:
        """Write several changes in one transaction: all of them, or none, one batched
        statement per table. A lock cycle is retried (`ATTEMPTS` tries in all, none inside
        a host's transaction), then reported as `ConcurrencyConflictError`."""
        if not changes:
            return
        batch = Batch.encode(changes)
        attempts = 1 if self._bound.get() is not None else ATTEMPTS
        with self._connection() as connection:
            for attempt in range(1, attempts + 1):
                try:
                    self._commit_batch(connection, changes, batch)
                    if self.APPLICATION_TEXT_AS_WRITTEN and self._bound.get() is None:
                        batch.kept()  # committed (a host's transaction commits later, or not)
                    return
                except Exception as error:
                    if not self._lock_cycle(error):
                        raise
                    if attempt == attempts:
                        raise ConcurrencyConflictError.lock_cycle(attempts) from error

    def _commit_batch(self, connection: Any, changes: Sequence[Change], batch: Batch) -> None:
        try:
            with self._transaction(connection):
                self._write_batch(connection, batch)
                self._project(connection, changes)
                self._checkpoint("before_commit")
        except BatchRefusedError:
            with self._transaction(connection, rollback=True):
                self._explain_refusal(connection, changes)


def _text(value: Any) -> str:
    """A name as the driver returns it (MariaDB/MySQL: bytes of a ``VARBINARY``)."""
    return value.decode("utf-8") if isinstance(value, bytes | bytearray) else str(value)
