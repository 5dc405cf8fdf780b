"""What durable delivery (`kmbase_workflow.delivery.DeliveryQueue`) needs of a store: the
`DeliveryStore` capability, and `DeliverySQL`, the statements a SQL dialect writes its own
way. Each SQL backend names its dialect (``DELIVERY``) in its own module; this one holds
SQLite's, the base the others change.

Delivery's other statements are written once, in ``delivery/queue.py``, in the words every
dialect's ``_sql`` translates (as the store's own statements are).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._sql import SQLStoreBase

__all__ = ["DeliverySQL", "DeliveryStore"]


class DeliverySQL:
    """How one SQL dialect runs delivery's statements (this class: SQLite's)."""

    now: ClassVar[str] = "((julianday('now') - 2440587.5) * 86400.0)"
    """The database's clock in seconds since the epoch (leases never read a worker's)."""
    skip_locked: ClassVar[str] = ""
    """Appended to a selection of rows to lock: concurrent workers take different rows
    without waiting (SQLite has one writer at a time, so nothing)."""
    notifies: ClassVar[bool] = False
    """Whether a worker can wait for new events by ``LISTEN`` (PostgreSQL) rather than poll."""

    def sql(self, store: SQLStoreBase, statement: str) -> str:
        """``statement`` with ``{now}`` filled in, in the store's dialect."""
        return store._sql(statement.replace("{now}", self.now))

    def joined(
        self, store: SQLStoreBase, connection: Any
    ) -> contextlib.AbstractContextManager[Any]:
        """Inside it, the store's own reads and writes (``read_outbox``, ``acknowledge``)
        take part in the transaction open on ``connection``."""
        return contextlib.nullcontext()

    def claim(
        self,
        store: SQLStoreBase,
        connection: Any,
        consumer: str,
        worker: str,
        *,
        limit: int,
        lease: float,
    ) -> list[tuple[int, Any, int]]:
        """Lease ``consumer``'s due rows to ``worker`` (the oldest first, at most one per
        case: the case's oldest queued), inside the transaction open on ``connection``;
        ``(position, data, attempts)`` of each."""
        statement = (
            "UPDATE delivery_queue SET available_at = {now} + ?, leased_by = ?, "
            "attempts = attempts + 1 WHERE consumer = ? AND position IN ("
            "SELECT q.position FROM delivery_queue q WHERE q.consumer = ? "
            "AND q.available_at <= {now} AND NOT EXISTS (SELECT 1 FROM delivery_queue e "
            "WHERE e.consumer = q.consumer AND e.case_id = q.case_id AND e.position < q.position) "
            f"ORDER BY q.position LIMIT ?{self.skip_locked}) "
            "RETURNING position, data, attempts"
        )
        rows = connection.execute(
            self.sql(store, statement), (lease, worker, consumer, consumer, limit)
        ).fetchall()
        return [(int(row[0]), row[1], int(row[2])) for row in rows]

    def claim_sweep(
        self, store: SQLStoreBase, connection: Any, day: str, worker: str, lease: float
    ) -> bool:
        """Take the sweep of ``day`` for ``worker`` unless it finished or another holds it
        (a lease not yet ended), inside the transaction open on ``connection``."""
        row = connection.execute(
            self.sql(
                store,
                "INSERT INTO delivery_sweeps (day, leased_by, lease_until) "
                "VALUES (?, ?, {now} + ?) ON CONFLICT (day) DO UPDATE SET "
                "leased_by = excluded.leased_by, lease_until = excluded.lease_until "
                "WHERE delivery_sweeps.finished_at IS NULL "
                "AND delivery_sweeps.lease_until < {now} RETURNING day",
            ),
            (day, worker, lease),
        ).fetchone()
        return row is not None


@runtime_checkable
class DeliveryStore(Protocol):
    """A store that keeps delivery's tables (migration ``m005_delivery``) beside its outbox:
    a SQL store (`SQLStoreBase`) naming its dialect's `DeliverySQL`."""

    DELIVERY: ClassVar[DeliverySQL]
