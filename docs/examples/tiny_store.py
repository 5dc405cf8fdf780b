"""A backend of another package, registered as ``tiny://`` (docs/how-to/add-a-backend.md).

Its cases, history, outbox, work queue and tokens are the memory store's; what it adds is a
capability of its own, durable delivery's rows (`DeliveryRows`), so `kmbase worker`, its
webhooks and `DeliveryQueue` run on it as on the bundled SQL stores. A real backend keeps
each of these in its database; tests/test_add_a_backend.py installs this very file through
an entry point and runs the store contract on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence

import attrs

from kmbase_workflow.delivery import DeadLetter
from kmbase_workflow.stores import DeliveryCounts, MemoryStore, OutboxRecord


@attrs.define
class _Queued:
    """An event relayed to a consumer and not yet handled."""

    record: OutboxRecord
    available_at: float
    attempts: int = 0
    leased_by: str | None = None
    last_error: str | None = None


@attrs.define
class _Sweep:
    leased_by: str
    lease_until: float
    finished_at: float | None = None
    events: int = 0


class TinyDelivery:
    """`DeliveryRows` in dictionaries, under one lock (the clock: this process's)."""

    notifies = False  # followers poll: nothing here can wake another process

    def __init__(self, store: TinyStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._queued: dict[str, dict[int, _Queued]] = {}
        self._dead: dict[str, dict[int, tuple[DeadLetter, _Queued]]] = {}
        self._sweeps: dict[str, _Sweep] = {}

    def register(self, consumer: str) -> None:
        with self._lock:
            self._queued.setdefault(consumer, {})
            self._dead.setdefault(consumer, {})

    def consumers(self) -> list[str]:
        with self._lock:
            return sorted(self._queued)

    def relay(self, consumer: str, types: Collection[str] | None, limit: int) -> int:
        with self._lock:  # one relay at a time; the store's reads take their own lock
            records = self._store.read_outbox(self._store.consumer_position(consumer), limit)
            queue = self._queued[consumer]
            for record in records:
                if types is None or record.event.type in types:
                    queue.setdefault(record.position, _Queued(record, time.time()))
            if records:
                self._store.acknowledge(consumer, records[-1].position)
            return len(records)

    def claim(
        self, consumer: str, worker: str, *, limit: int, lease: float
    ) -> list[tuple[OutboxRecord, int]]:
        now = time.time()
        with self._lock:
            queue = self._queued.get(consumer, {})
            oldest: dict[str, int] = {}  # each case's oldest queued event
            for position in sorted(queue):
                oldest.setdefault(queue[position].record.event.case_id, position)
            due = [p for p in sorted(oldest.values()) if queue[p].available_at <= now][:limit]
            for position in due:
                row = queue[position]
                row.available_at, row.leased_by, row.attempts = (
                    now + lease,
                    worker,
                    row.attempts + 1,
                )
            return [(queue[p].record, queue[p].attempts) for p in due]

    def complete(self, deliveries: Sequence[tuple[str, int]]) -> None:
        with self._lock:
            for consumer, position in deliveries:
                self._queued.get(consumer, {}).pop(position, None)

    def fail(
        self, consumer: str, position: int, worker: str, error: str, *, retry_in: float | None
    ) -> None:
        now = time.time()
        with self._lock:
            row = self._queued.get(consumer, {}).get(position)
            if row is None or row.leased_by != worker:
                return  # the lease is no longer this worker's
            if retry_in is not None:
                row.available_at, row.leased_by, row.last_error = now + retry_in, None, error
                return
            event = row.record.event
            letter = DeadLetter(
                consumer, position, event.case_id, event.id, event.type, row.attempts, now, error
            )
            self._dead[consumer][position] = (letter, row)
            del self._queued[consumer][position]

    def release(self, deliveries: Sequence[tuple[str, int]], worker: str) -> None:
        with self._lock:
            for consumer, position in deliveries:
                row = self._queued.get(consumer, {}).get(position)
                if row is not None and row.leased_by == worker:
                    row.available_at, row.leased_by = time.time(), None
                    row.attempts -= 1

    def dead_letters(self, consumer: str | None, limit: int) -> list[DeadLetter]:
        with self._lock:
            letters = [
                letter
                for name in sorted(self._dead)
                if consumer is None or name == consumer
                for _, (letter, _row) in sorted(self._dead[name].items())
            ]
        return letters[:limit]

    def redrive(self, consumer: str, positions: Collection[int] | None) -> int:
        with self._lock:
            dead = self._dead.get(consumer, {})
            moved = [p for p in sorted(dead) if positions is None or p in positions]
            for position in moved:
                _, row = dead.pop(position)
                row.available_at, row.attempts, row.leased_by = time.time(), 0, None
                self._queued[consumer].setdefault(position, row)
            return len(moved)

    def claim_sweep(self, day: str, worker: str, lease: float) -> bool:
        now = time.time()
        with self._lock:
            sweep = self._sweeps.get(day)
            if sweep is not None and (sweep.finished_at is not None or sweep.lease_until >= now):
                return False  # finished, or another holds it
            self._sweeps[day] = _Sweep(worker, now + lease, events=sweep.events if sweep else 0)
            return True

    def finish_sweep(self, day: str, worker: str, events: int) -> None:
        now = time.time()
        with self._lock:
            before = self._sweeps.get(day)
            total = events + (before.events if before else 0)
            self._sweeps[day] = _Sweep(worker, now, finished_at=now, events=total)

    def sweep_finished(self, day: str) -> bool:
        with self._lock:
            sweep = self._sweeps.get(day)
            return sweep is not None and sweep.finished_at is not None

    def counts(self) -> DeliveryCounts:
        outbox = self._store.read_outbox(0, 2**62)
        with self._lock:
            finished = [(s.finished_at, day) for day, s in self._sweeps.items() if s.finished_at]
            last = max(finished, default=None)
            return DeliveryCounts(
                head=max((record.position for record in outbox), default=0),
                queued={name: len(rows) for name, rows in self._queued.items() if rows},
                dead={name: len(rows) for name, rows in self._dead.items() if rows},
                last_sweep_day=last[1] if last else None,
                last_sweep_at=last[0] if last else None,
            )

    def backlog(self, after: int) -> int:
        return len(self._store.read_outbox(after, 2**62))

    def listener(self) -> None:
        return None  # followers poll


class TinyStore(MemoryStore):
    """The memory store, with delivery's rows: a `DeliveryStore`."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._delivery = TinyDelivery(self)

    def delivery_rows(self) -> TinyDelivery:
        return self._delivery


def open_url(url: str, *, create: bool = True) -> TinyStore:
    """The ``tiny`` entry point: a new, empty store (it never exists before, so ``create``
    changes nothing)."""
    return TinyStore(url)


def database_exists(url: str) -> bool:
    """A store in memory never exists before it is opened."""
    return False
