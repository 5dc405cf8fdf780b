"""Durable subscriptions: named consumers, each with its own queue over the outbox.

A consumer's events travel in two steps, each at least once:

1. **relay** (`DeliveryQueue.relay`): in one transaction, the consumer's cursor (the
   store's own, `CaseStore.consumer_position`), the events after it (the store's
   `CaseStore.read_outbox`, so an event committed late with a lower position is never
   skipped), their rows in ``delivery_queue`` and the cursor moved past them
   (`CaseStore.acknowledge`). One relay per consumer at a time, the others go on
   delivering: on PostgreSQL it holds an advisory lock on the consumer (a row lock would give
   its transaction an id before it reads, holding back every event committed meanwhile), on
   MariaDB and MySQL the consumer's row ``FOR UPDATE SKIP LOCKED``.
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

The rows are the store's: a store that offers the delivery capability
(`DeliveryStore <kmbase_workflow.stores.DeliveryStore>`, each bundled SQL store) keeps them
its own way (its `DeliveryRows <kmbase_workflow.stores.DeliveryRows>`); this class checks
what it is given and says what it means.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import attrs

from .._i18n import Text
from ..encoding import check_text, storable_key
from ..errors import InvalidInputError
from ..stores import CaseStore, OutboxRecord
from ..stores._delivery import DeadLetter, DeliveryRows, DeliveryStore

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
    """The delivery rows of one store (a `DeliveryStore <kmbase_workflow.stores.DeliveryStore>`:
    SQLite, PostgreSQL, MariaDB or MySQL, or a third party's).

    >>> from kmbase_workflow.stores.sqlite import SQLiteStore
    >>> queue = DeliveryQueue(SQLiteStore(":memory:"))
    >>> queue.relay("archive"), queue.claim("archive", "worker-1")
    (0, [])
    """

    def __init__(self, store: CaseStore) -> None:
        if not isinstance(store, DeliveryStore):
            raise InvalidInputError(
                Text(
                    zh=f"存储 {type(store).__name__} 不能保存投递队列：请用 SQLite、PostgreSQL、"
                    "MariaDB 或 MySQL（内存存储不跨进程保存）",
                    en=f"the store {type(store).__name__} cannot keep delivery's queue: use "
                    "SQLite, PostgreSQL, MariaDB or MySQL (a memory store keeps nothing "
                    "across processes)",
                ),
                hint=Text(
                    zh="用 sqlite:///路径、postgresql://… 或 mysql://… 打开存储，"
                    "或使用实现 delivery_rows() 的存储",
                    en="open the store with sqlite:///path, postgresql://... or mysql://..., "
                    "or use a store that implements delivery_rows()",
                ),
            )
        self.store = store
        self.rows: DeliveryRows = store.delivery_rows()
        self.notifies = self.rows.notifies
        """Whether a worker is woken at each commit (PostgreSQL's ``LISTEN``) rather than
        polling."""
        self._registered: set[str] = set()

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
        self.rows.register(consumer)
        self._registered.add(consumer)

    def consumers(self) -> list[str]:
        """Every registered consumer, by name."""
        return self.rows.consumers()

    def relay(
        self, consumer: str, *, types: Collection[str] | None = None, limit: int = RELAY_BATCH
    ) -> int:
        """Copy the events after the consumer's cursor into its queue (only ``types``, if
        given) and move the cursor past them, in one transaction. Returns how many events
        were read (0: caught up, or another worker is relaying this consumer now)."""
        self.register(consumer)
        return self.rows.relay(consumer, types, limit)

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
        leased = self.rows.claim(consumer, worker, limit=limit, lease=lease)
        deliveries = [Delivery(consumer, record, attempts) for record, attempts in leased]
        return sorted(deliveries, key=lambda delivery: delivery.record.position)

    def complete(self, deliveries: Sequence[Delivery]) -> None:
        """The events were handled: forget them (one transaction)."""
        if deliveries:
            self.rows.complete([_key(delivery) for delivery in deliveries])

    def fail(self, delivery: Delivery, worker: str, error: str, *, retry_in: float | None) -> None:
        """The event failed: try again in ``retry_in`` seconds, or (``None``) move it to the
        dead letters. Nothing happens if ``worker`` no longer holds the lease."""
        self.rows.fail(*_key(delivery), worker, error, retry_in=retry_in)

    def release(self, deliveries: Sequence[Delivery], worker: str) -> None:
        """Give leased events back untried (a worker stopping): due now, attempt not counted."""
        if deliveries:
            self.rows.release([_key(delivery) for delivery in deliveries], worker)

    # -- dead letters -----------------------------------------------------------------------

    def dead_letters(self, consumer: str | None = None, *, limit: int = 1000) -> list[DeadLetter]:
        """The dead letters (of one consumer, or all), oldest event first."""
        if consumer is not None and not storable_key(consumer):
            return []  # no consumer could have such a name
        return self.rows.dead_letters(consumer, limit)

    def redrive(self, consumer: str, positions: Collection[int] | None = None) -> int:
        """Put a consumer's dead letters (all, or those at ``positions``) back in its queue,
        due now with no attempts counted; returns how many moved."""
        if not storable_key(consumer):
            return 0
        if positions is not None:
            positions = sorted({int(p) for p in positions if 0 < int(p) < _MAX_POSITION})
            if not positions:
                return 0
        return self.rows.redrive(consumer, positions)

    # -- the sweep's day --------------------------------------------------------------------

    def claim_sweep(self, day: str, worker: str, *, lease: float = 600.0) -> bool:
        """Whether ``worker`` may run the sweep of ``day``: no one finished it, and no one
        else holds it (a holder that died loses it when its lease ends)."""
        return self.rows.claim_sweep(day, worker, lease)

    def finish_sweep(self, day: str, worker: str, events: int) -> None:
        """Record that ``worker`` finished the sweep of ``day``, emitting ``events``."""
        self.rows.finish_sweep(day, worker, events)

    def sweep_finished(self, day: str) -> bool:
        """Whether the sweep of ``day`` finished."""
        return self.rows.sweep_finished(day)

    # -- health -----------------------------------------------------------------------------

    def status(self) -> QueueStatus:
        """The outbox head, each consumer's cursor, queue, dead letters and lag."""
        counts = self.rows.counts()
        consumers = []
        for name in self.consumers():
            position = self.store.consumer_position(name)
            queued = counts.queued.get(name, 0)
            consumers.append(
                ConsumerStatus(
                    name=name,
                    position=position,
                    queued=queued,
                    dead=counts.dead.get(name, 0),
                    lag=self.rows.backlog(position) + queued,
                )
            )
        return QueueStatus(
            head=counts.head,
            consumers=tuple(consumers),
            last_sweep_day=counts.last_sweep_day,
            last_sweep_at=counts.last_sweep_at,
        )


def _key(delivery: Delivery) -> tuple[str, int]:
    """The ``(consumer, position)`` of a delivery's row."""
    return delivery.consumer, delivery.record.position
