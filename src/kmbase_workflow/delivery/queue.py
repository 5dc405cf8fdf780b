"""Durable subscriptions: named consumers, each with its own queue over the outbox.

A consumer's events travel in two steps, each at least once:

1. **relay** (`DeliveryQueue.relay`): in one transaction, the consumer's cursor (the
   store's own, `CaseStore.consumer_position`), the events after it (the store's
   `CaseStore.read_outbox`, so an event committed late with a lower position is never
   skipped), their rows in ``delivery_queue`` and the cursor moved past them
   (`CaseStore.acknowledge`). On PostgreSQL the consumer's row is locked ``FOR UPDATE SKIP
   LOCKED`` first: one relay per consumer at a time, the others go on delivering.
2. **claim** (`DeliveryQueue.claim`), then `complete` or `fail`: a worker leases a batch
   of rows: ``available_at`` moves to the end of the lease, so a worker that dies loses its
   lease when it ends and another worker takes the rows again. On PostgreSQL the batch is
   chosen ``FOR UPDATE SKIP LOCKED`` (as PostgreSQL job queues such as pgmq and
   procrastinate do): concurrent workers take different rows without waiting on each
   other. A row is taken only if no earlier event *of the same case* is still queued for
   this consumer (procrastinate's "lock" rule): a case's events are handled one at a time,
   in order, while different cases go in parallel.

A handled event's row is deleted; a failed one waits (back-off) and is tried again, and
after ``max_attempts`` it moves to ``delivery_dead``, out of the way of the case's later
events, until an operator re-drives it (`DeliveryQueue.redrive`).

On SQLite every claim runs under ``BEGIN IMMEDIATE`` (one writer at a time), so leases
hold between processes too; the deployment it is meant for is one worker process. MariaDB
and MySQL choose ``FOR UPDATE SKIP LOCKED`` as PostgreSQL does.

What differs between databases (their clock, ``SKIP LOCKED``, the claims) is each
store's `DeliverySQL <kmbase_workflow.stores._delivery.DeliverySQL>`, named in its own
module: a store is a `DeliveryStore <kmbase_workflow.stores._delivery.DeliveryStore>`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import attrs

from .._i18n import Text
from ..encoding import check_text, dumps, storable_key
from ..encoding import event_document as event_data
from ..encoding import event_from_data as event_from_json
from ..errors import InvalidInputError
from ..stores import CaseStore, OutboxRecord
from ..stores._delivery import DeliveryStore
from ..stores._sql import SQLStoreBase

__all__ = ["ConsumerStatus", "DeadLetter", "Delivery", "DeliveryQueue", "QueueStatus"]

_MAX_POSITION = 2**63
"""Positions are 64-bit integers in both databases."""
RELAY_BATCH = 500
"""Events relayed to one consumer per transaction."""


@attrs.frozen
class Delivery:
    """An event leased to a worker for one consumer (``attempts`` counts this one)."""

    consumer: str
    record: OutboxRecord
    attempts: int


@attrs.frozen
class DeadLetter:
    """An event a consumer failed ``attempts`` times, kept until it is re-driven."""

    consumer: str
    position: int
    case_id: str
    event_id: str
    event_type: str
    attempts: int
    failed_at: float
    """Seconds since the epoch (database clock)."""
    last_error: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return attrs.asdict(self)


@attrs.frozen
class ConsumerStatus:
    """Where one consumer stands: ``lag`` is how many committed events it has not handled
    (not yet relayed, plus queued), ``dead`` how many wait for an operator."""

    name: str
    position: int
    queued: int
    dead: int
    lag: int


@attrs.frozen
class QueueStatus:
    """The outbox head, every consumer, and the last sweep that finished."""

    head: int
    consumers: tuple[ConsumerStatus, ...]
    last_sweep_day: str | None
    last_sweep_at: float | None
    """Seconds since the epoch (database clock) of the last finished sweep."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return attrs.asdict(self)


class DeliveryQueue:
    """The delivery tables of one SQL store (SQLite, PostgreSQL, MariaDB or MySQL).

    >>> from kmbase_workflow.stores.sqlite import SQLiteStore
    >>> queue = DeliveryQueue(SQLiteStore(":memory:"))
    >>> queue.relay("archive"), queue.claim("archive", "worker-1")
    (0, [])
    """

    def __init__(self, store: CaseStore) -> None:
        if not (isinstance(store, SQLStoreBase) and isinstance(store, DeliveryStore)):
            raise InvalidInputError(
                Text(
                    zh="投递需要 SQL 存储：SQLite、PostgreSQL、MariaDB 或 MySQL"
                    "（内存存储不跨进程保存）",
                    en="delivery needs a SQL store: SQLite, PostgreSQL, MariaDB or MySQL (a "
                    "memory store keeps nothing across processes)",
                ),
                hint=Text(
                    zh="用 sqlite:///路径、postgresql://… 或 mysql://… 打开存储",
                    en="open the store with sqlite:///path, postgresql://... or mysql://...",
                ),
            )
        self.store: SQLStoreBase = store
        self.dialect = store.DELIVERY
        self.postgres = self.dialect.notifies
        """Whether a worker is woken by ``LISTEN`` (PostgreSQL) rather than polling."""
        self._registered: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return self.dialect.sql(self.store, statement)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One transaction on a connection of the store's; the store's own reads and writes
        inside the block (``read_outbox``, ``acknowledge``) take part in it."""
        with (
            self.store._write_transaction() as connection,
            self.dialect.joined(self.store, connection),
        ):
            yield connection

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.store._connection() as connection:
            return list(connection.execute(self._sql(statement), tuple(params)).fetchall())

    # -- consumers --------------------------------------------------------------------------

    def register(self, consumer: str) -> None:
        """Make ``consumer`` known (its cursor starts at the beginning of the outbox)."""
        check_text("consumer", consumer, indexed=True)
        if not consumer.strip():
            raise InvalidInputError(
                Text(zh="消费者名称为空", en="the consumer's name is empty"),
                hint=Text(zh="例如 portal 或 webhook:portal", en="e.g. portal or webhook:portal"),
            )
        if consumer in self._registered:
            return
        with self._transaction() as connection:
            connection.execute(
                self._sql(
                    "INSERT INTO delivery_consumers (name, created_at) VALUES (?, {now}) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                (consumer,),
            )
        self._registered.add(consumer)

    def consumers(self) -> list[str]:
        """Every registered consumer, by name."""
        return [str(row[0]) for row in self._rows("SELECT name FROM delivery_consumers ORDER BY 1")]

    def relay(
        self, consumer: str, *, types: Collection[str] | None = None, limit: int = RELAY_BATCH
    ) -> int:
        """Copy the events after the consumer's cursor into its queue (only ``types``, if
        given) and move the cursor past them, in one transaction. Returns how many events
        were read (0: caught up, or another worker is relaying this consumer now)."""
        self.register(consumer)
        with self._transaction() as connection:
            if self.dialect.skip_locked:
                held = connection.execute(
                    self._sql(
                        "SELECT name FROM delivery_consumers WHERE name = ?"
                        + self.dialect.skip_locked
                    ),
                    (consumer,),
                ).fetchone()
                if held is None:
                    return 0
            records = self.store.read_outbox(self.store.consumer_position(consumer), limit)
            if not records:
                return 0
            rows = [
                (consumer, r.position, r.event.case_id, r.event.id, dumps(event_data(r.event)))
                for r in records
                if types is None or r.event.type in types
            ]
            if rows:
                statement = self._sql(
                    "INSERT INTO delivery_queue (consumer, position, case_id, event_id, data, "
                    "attempts, available_at) VALUES (?, ?, ?, ?, ?, 0, {now}) "
                    "ON CONFLICT (consumer, position) DO NOTHING"
                )
                self.store._many(connection, statement, rows)
            self.store.acknowledge(consumer, records[-1].position)
        return len(records)

    # -- leases -----------------------------------------------------------------------------

    def claim(
        self, consumer: str, worker: str, *, limit: int = 20, lease: float = 60.0
    ) -> list[Delivery]:
        """Lease up to ``limit`` due events of ``consumer`` to ``worker`` for ``lease``
        seconds: the oldest first, at most one per case (the case's oldest queued)."""
        if not storable_key(consumer):
            return []
        if not (isinstance(limit, int) and limit > 0 and lease > 0):
            raise InvalidInputError(
                Text(zh="批量和租期须为正数", en="the batch size and the lease must be positive"),
                hint=Text(zh="例如 limit=20, lease=60", en="e.g. limit=20, lease=60"),
            )
        with self._transaction() as connection:
            rows = self.dialect.claim(
                self.store, connection, consumer, worker, limit=limit, lease=lease
            )
        deliveries = [
            Delivery(consumer, OutboxRecord(position, event_from_json(_json(data))), attempts)
            for position, data, attempts in rows
        ]
        return sorted(deliveries, key=lambda delivery: delivery.record.position)

    def complete(self, deliveries: Sequence[Delivery]) -> None:
        """The events were handled: forget them (one transaction)."""
        if not deliveries:
            return
        statement = self._sql("DELETE FROM delivery_queue WHERE consumer = ? AND position = ?")
        rows = [(delivery.consumer, delivery.record.position) for delivery in deliveries]
        with self._transaction() as connection:
            self.store._many(connection, statement, rows)

    def fail(self, delivery: Delivery, worker: str, error: str, *, retry_in: float | None) -> None:
        """The event failed: try again in ``retry_in`` seconds, or (``None``) move it to the
        dead letters. Nothing happens if ``worker`` no longer holds the lease."""
        key = (delivery.consumer, delivery.record.position, worker)
        where = "WHERE consumer = ? AND position = ? AND leased_by = ?"
        with self._transaction() as connection:
            if retry_in is not None:
                connection.execute(
                    self._sql(
                        "UPDATE delivery_queue SET available_at = {now} + ?, leased_by = NULL, "
                        f"last_error = ? {where}"
                    ),
                    (retry_in, error, *key),
                )
                return
            connection.execute(
                self._sql(
                    "INSERT INTO delivery_dead (consumer, position, case_id, event_id, data, "
                    "attempts, failed_at, last_error) SELECT consumer, position, case_id, "
                    f"event_id, data, attempts, {{now}}, ? FROM delivery_queue {where} "
                    "ON CONFLICT (consumer, position) DO NOTHING"
                ),
                (error, *key),
            )
            connection.execute(self._sql(f"DELETE FROM delivery_queue {where}"), key)

    def release(self, deliveries: Sequence[Delivery], worker: str) -> None:
        """Give leased events back untried (a worker stopping): due now, attempt not counted."""
        if not deliveries:
            return
        with self._transaction() as connection:
            for delivery in deliveries:
                connection.execute(
                    self._sql(
                        "UPDATE delivery_queue SET available_at = {now}, leased_by = NULL, "
                        "attempts = attempts - 1 WHERE consumer = ? AND position = ? "
                        "AND leased_by = ?"
                    ),
                    (delivery.consumer, delivery.record.position, worker),
                )

    # -- dead letters -----------------------------------------------------------------------

    def dead_letters(self, consumer: str | None = None, *, limit: int = 1000) -> list[DeadLetter]:
        """The dead letters (of one consumer, or all), oldest event first."""
        if consumer is not None and not storable_key(consumer):
            return []  # no consumer could have such a name
        where, params = ("WHERE consumer = ? ", [consumer]) if consumer is not None else ("", [])
        rows = self._rows(
            "SELECT consumer, position, case_id, event_id, data, attempts, failed_at, last_error "
            f"FROM delivery_dead {where}ORDER BY consumer, position LIMIT ?",
            [*params, limit],
        )
        return [
            DeadLetter(
                str(row[0]), int(row[1]), str(row[2]), str(row[3]), str(_json(row[4])["type"]),
                int(row[5]), float(row[6]), str(row[7]),
            )
            for row in rows
        ]  # fmt: skip

    def redrive(self, consumer: str, positions: Collection[int] | None = None) -> int:
        """Put a consumer's dead letters (all, or those at ``positions``) back in its queue,
        due now with no attempts counted; returns how many moved."""
        if not storable_key(consumer):
            return 0
        where = "WHERE consumer = ?"
        params: list[Any] = [consumer]
        if positions is not None:
            positions = {int(p) for p in positions if 0 < int(p) < _MAX_POSITION}
            if not positions:
                return 0
            where += f" AND position IN ({', '.join('?' for _ in positions)})"
            params.extend(int(position) for position in positions)
        with self._transaction() as connection:
            connection.execute(
                self._sql(
                    "INSERT INTO delivery_queue (consumer, position, case_id, event_id, data, "
                    "attempts, available_at, last_error) SELECT consumer, position, case_id, "
                    f"event_id, data, 0, {{now}}, last_error FROM delivery_dead {where} "
                    "ON CONFLICT (consumer, position) DO NOTHING"
                ),
                params,
            )
            cursor = connection.execute(self._sql(f"DELETE FROM delivery_dead {where}"), params)
            return int(cursor.rowcount)

    # -- the sweep's day --------------------------------------------------------------------

    def claim_sweep(self, day: str, worker: str, *, lease: float = 600.0) -> bool:
        """Whether ``worker`` may run the sweep of ``day``: no one finished it, and no one
        else holds it (a holder that died loses it when its lease ends)."""
        with self._transaction() as connection:
            return self.dialect.claim_sweep(self.store, connection, day, worker, lease)

    def finish_sweep(self, day: str, worker: str, events: int) -> None:
        """Record that ``worker`` finished the sweep of ``day``, emitting ``events``."""
        with self._transaction() as connection:
            connection.execute(
                self._sql(
                    "INSERT INTO delivery_sweeps (day, leased_by, lease_until, finished_at, "
                    "events) VALUES (?, ?, {now}, {now}, ?) ON CONFLICT (day) DO UPDATE SET "
                    "leased_by = excluded.leased_by, finished_at = excluded.finished_at, "
                    "events = delivery_sweeps.events + excluded.events"
                ),
                (day, worker, events),
            )

    def sweep_finished(self, day: str) -> bool:
        """Whether the sweep of ``day`` finished."""
        rows = self._rows(
            "SELECT 1 FROM delivery_sweeps WHERE day = ? AND finished_at IS NOT NULL", [day]
        )
        return bool(rows)

    # -- health -----------------------------------------------------------------------------

    def status(self) -> QueueStatus:
        """The outbox head, each consumer's cursor, queue, dead letters and lag."""
        head_row = self._rows("SELECT COALESCE(MAX(position), 0) FROM outbox")
        head = int(head_row[0][0])
        counts = {
            (str(row[0]), str(row[1])): int(row[2])
            for row in self._rows(
                "SELECT 'queued', consumer, COUNT(*) FROM delivery_queue GROUP BY consumer "
                "UNION ALL SELECT 'dead', consumer, COUNT(*) FROM delivery_dead GROUP BY consumer"
            )
        }
        consumers = []
        for name in self.consumers():
            position = self.store.consumer_position(name)
            queued = counts.get(("queued", name), 0)
            consumers.append(
                ConsumerStatus(
                    name=name,
                    position=position,
                    queued=queued,
                    dead=counts.get(("dead", name), 0),
                    lag=self.store.outbox_backlog(position) + queued,
                )
            )
        sweep = self._rows(
            "SELECT day, finished_at FROM delivery_sweeps WHERE finished_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT 1"
        )
        return QueueStatus(
            head=head,
            consumers=tuple(consumers),
            last_sweep_day=str(sweep[0][0]) if sweep else None,
            last_sweep_at=float(sweep[0][1]) if sweep else None,
        )


def _json(value: str | dict[str, Any]) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)
