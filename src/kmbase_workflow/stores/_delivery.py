"""What durable delivery (`kmbase_workflow.delivery.DeliveryQueue`) needs of a store: the
`DeliveryStore` capability, whose `DeliveryRows` keep each consumer's queue over the outbox,
its dead letters and the days' sweeps.

`DeliveryQueue` checks what it is given and says what it means; the rows are the store's.
`SQLDelivery` is the SQL stores' (SQLite's statements and tables, migration
``m005_delivery``); PostgreSQL and MariaDB/MySQL change what differs in their own modules
(the database's clock, ``SKIP LOCKED``, the claims, waking by ``LISTEN``). Another backend
implements `DeliveryRows` its own way and passes
`DeliveryContract <kmbase_workflow.testing.DeliveryContract>`.

Times are seconds since the epoch, taken from the database's clock, so leases and back-off
do not depend on the clocks of the worker machines.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import attrs

from ..encoding import dumps, event_document, event_from_data
from ._protocol import OutboxRecord

if TYPE_CHECKING:
    from ._sql import SQLStoreBase

__all__ = [
    "DeadLetter",
    "DeliveryCounts",
    "DeliveryRows",
    "DeliveryStore",
    "Listener",
    "SQLDelivery",
]


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
class DeliveryCounts:
    """The figures of a queue's health, read at once: the outbox head, each consumer's
    queued events and dead letters, and the last sweep that finished."""

    head: int
    queued: dict[str, int]
    dead: dict[str, int]
    last_sweep_day: str | None
    last_sweep_at: float | None


class Listener(Protocol):
    """Wakes a follower when events are committed (PostgreSQL's ``LISTEN``)."""

    @property
    def listening(self) -> bool:
        """Whether a notification can wake it now (its connection is up)."""
        ...

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Wait up to ``timeout`` seconds, or until ``stop`` is set; true if woken by a
        commit."""
        ...

    def close(self) -> None:
        """Release what it holds (its connection)."""
        ...


class DeliveryRows(Protocol):
    """Each consumer's queue over a store's outbox. Every call is atomic; what it receives
    has been checked (`DeliveryQueue <kmbase_workflow.delivery.DeliveryQueue>` refuses names
    and numbers no store could keep)."""

    notifies: bool
    """Whether `listener` can wake a worker at each commit (else it polls)."""

    def register(self, consumer: str) -> None:
        """Make ``consumer`` known (at no cost if it is)."""
        ...

    def consumers(self) -> list[str]:
        """Every registered consumer, by name."""
        ...

    def relay(self, consumer: str, types: Collection[str] | None, limit: int) -> int:
        """In one transaction: the events after the consumer's cursor (`read_outbox` from
        `consumer_position`), those of ``types`` (all if ``None``) queued, the cursor moved
        past them. How many were read (0: caught up, or another relays it now)."""
        ...

    def claim(
        self, consumer: str, worker: str, *, limit: int, lease: float
    ) -> list[tuple[OutboxRecord, int]]:
        """Lease up to ``limit`` due events of ``consumer`` to ``worker`` for ``lease``
        seconds (the oldest first, at most one per case: the case's oldest queued), with
        the attempts counted so far, this one included."""
        ...

    def complete(self, deliveries: Sequence[tuple[str, int]]) -> None:
        """Forget the ``(consumer, position)`` rows: handled."""
        ...

    def fail(
        self, consumer: str, position: int, worker: str, error: str, *, retry_in: float | None
    ) -> None:
        """Due again in ``retry_in`` seconds, or (``None``) a dead letter; nothing if
        ``worker`` no longer holds the lease."""
        ...

    def release(self, deliveries: Sequence[tuple[str, int]], worker: str) -> None:
        """Rows ``worker`` still holds given back untried: due now, the attempt uncounted."""
        ...

    def dead_letters(self, consumer: str | None, limit: int) -> list[DeadLetter]:
        """The dead letters (of one consumer, or all), by consumer and position."""
        ...

    def redrive(self, consumer: str, positions: Collection[int] | None) -> int:
        """A consumer's dead letters (all, or those at ``positions``) queued again, due
        now with no attempts; how many moved."""
        ...

    def claim_sweep(self, day: str, worker: str, lease: float) -> bool:
        """Take the sweep of ``day`` unless it finished or another holds it unexpired."""
        ...

    def finish_sweep(self, day: str, worker: str, events: int) -> None:
        """Record that ``worker`` finished the sweep of ``day``, emitting ``events``."""
        ...

    def sweep_finished(self, day: str) -> bool:
        """Whether the sweep of ``day`` finished."""
        ...

    def counts(self) -> DeliveryCounts:
        """The outbox head, queued and dead per consumer, the last finished sweep."""
        ...

    def backlog(self, after: int) -> int:
        """How many committed events come after position ``after`` in the order
        `read_outbox` reads them."""
        ...

    def listener(self) -> Listener | None:
        """A listener for commits (``None``: the backend cannot notify; followers poll)."""
        ...


@runtime_checkable
class DeliveryStore(Protocol):
    """A store that keeps durable delivery's rows beside its outbox (every bundled SQL
    store; not the memory store, which keeps nothing across processes)."""

    def delivery_rows(self) -> DeliveryRows:
        """This store's delivery rows."""
        ...


_TABLES = """
CREATE TABLE delivery_consumers (
    name {key} PRIMARY KEY,
    created_at {time} NOT NULL
);
CREATE TABLE delivery_queue (
    consumer {key} NOT NULL,
    position {position} NOT NULL,
    case_id {key} NOT NULL,
    event_id {key} NOT NULL,
    data {json} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at {time} NOT NULL,
    leased_by {key},
    last_error TEXT,
    PRIMARY KEY (consumer, position)
);
CREATE INDEX delivery_queue_case ON delivery_queue (consumer, case_id, position);
CREATE INDEX delivery_queue_due ON delivery_queue (consumer, available_at);
CREATE TABLE delivery_dead (
    consumer {key} NOT NULL,
    position {position} NOT NULL,
    case_id {key} NOT NULL,
    event_id {key} NOT NULL,
    data {json} NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at {time} NOT NULL,
    last_error TEXT NOT NULL,
    PRIMARY KEY (consumer, position)
);
CREATE TABLE delivery_sweeps (
    day {day} PRIMARY KEY,
    leased_by {key} NOT NULL,
    lease_until {time} NOT NULL,
    finished_at {time},
    events INTEGER NOT NULL DEFAULT 0
);
"""


def delivery_tables(
    *, key: str = "TEXT", time: str, position: str, json: str = "TEXT", day: str = "TEXT"
) -> str:
    """Migration ``m005_delivery`` in one dialect's column types:

    - ``delivery_consumers``: the named consumers (webhooks, Python handlers); their cursor
      over the outbox is the store's own (``consumers``, moved with ``acknowledge``);
    - ``delivery_queue``: events relayed to a consumer and not yet handled, one row each,
      with their attempts, the time before which no one may take them (back-off, or the
      lease of the worker holding them) and the last error; a handled event's row is
      deleted;
    - ``delivery_dead``: events that failed ``max_attempts`` times, for an operator to see
      and re-drive;
    - ``delivery_sweeps``: one row per day the sweep ran (who holds it, when it finished).
    """
    return _TABLES.format(key=key, time=time, position=position, json=json, day=day)


SQLITE_M005 = delivery_tables(time="REAL", position="INTEGER")


class SQLDelivery:
    """`DeliveryRows` in the tables of migration ``m005_delivery`` of a SQL store, in
    SQLite's words; PostgreSQL and MariaDB/MySQL change the class attributes and the
    methods marked "dialect" in their own modules."""

    now: ClassVar[str] = "((julianday('now') - 2440587.5) * 86400.0)"
    """Dialect: the database's clock in seconds since the epoch (leases never read a
    worker's)."""
    skip_locked: ClassVar[str] = ""
    """Dialect: appended to a selection of rows to lock, so concurrent workers take
    different rows without waiting (SQLite has one writer at a time, so nothing)."""
    notifies: bool = False

    def __init__(self, store: SQLStoreBase) -> None:
        self.store = store

    # -- dialect ------------------------------------------------------------------------------

    def joined(self, connection: Any) -> contextlib.AbstractContextManager[Any]:
        """Dialect: inside it, the store's own reads and writes (``read_outbox``,
        ``acknowledge``) take part in the transaction open on ``connection`` (SQLite's one
        connection does so already)."""
        return contextlib.nullcontext()

    def hold_relay(self, connection: Any, consumer: str) -> bool:
        """Dialect: whether this transaction may relay ``consumer`` (one relay of a
        consumer at a time, the others go on delivering; SQLite has one writer anyway)."""
        return True

    def take(
        self, connection: Any, consumer: str, worker: str, limit: int, lease: float
    ) -> list[Any]:
        """Dialect: lease ``consumer``'s due rows to ``worker`` inside the transaction open
        on ``connection``; ``(position, data, attempts)`` of each."""
        statement = (
            "UPDATE delivery_queue SET available_at = {now} + ?, leased_by = ?, "
            "attempts = attempts + 1 WHERE consumer = ? AND position IN ("
            "SELECT q.position FROM delivery_queue q WHERE q.consumer = ? "
            "AND q.available_at <= {now} AND NOT EXISTS (SELECT 1 FROM delivery_queue e "
            "WHERE e.consumer = q.consumer AND e.case_id = q.case_id AND e.position < q.position) "
            f"ORDER BY q.position LIMIT ?{self.skip_locked}) "
            "RETURNING position, data, attempts"
        )
        return list(
            connection.execute(
                self.sql(statement), (lease, worker, consumer, consumer, limit)
            ).fetchall()
        )

    def take_sweep(self, connection: Any, day: str, worker: str, lease: float) -> bool:
        """Dialect: take the sweep of ``day`` for ``worker`` inside the transaction open on
        ``connection`` unless it finished or another holds it unexpired."""
        row = connection.execute(
            self.sql(
                "INSERT INTO delivery_sweeps (day, leased_by, lease_until) "
                "VALUES (?, ?, {now} + ?) ON CONFLICT (day) DO UPDATE SET "
                "leased_by = excluded.leased_by, lease_until = excluded.lease_until "
                "WHERE delivery_sweeps.finished_at IS NULL "
                "AND delivery_sweeps.lease_until < {now} RETURNING day",
            ),
            (day, worker, lease),
        ).fetchone()
        return row is not None

    def listener(self) -> Listener | None:
        """Dialect: SQLite cannot notify another process; followers poll."""
        return None

    # -- plumbing -----------------------------------------------------------------------------

    def sql(self, statement: str) -> str:
        """``statement`` with ``{now}`` filled in, in the store's dialect."""
        return self.store._sql(statement.replace("{now}", self.now))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.store._write_transaction() as connection, self.joined(connection):
            yield connection

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.store._all(statement.replace("{now}", self.now), params)

    # -- DeliveryRows ---------------------------------------------------------------------------

    def register(self, consumer: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                self.sql(
                    "INSERT INTO delivery_consumers (name, created_at) VALUES (?, {now}) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                (consumer,),
            )

    def consumers(self) -> list[str]:
        return [str(row[0]) for row in self._rows("SELECT name FROM delivery_consumers ORDER BY 1")]

    def relay(self, consumer: str, types: Collection[str] | None, limit: int) -> int:
        with self._transaction() as connection:
            if not self.hold_relay(connection, consumer):
                return 0
            records = self.store.read_outbox(self.store.consumer_position(consumer), limit)
            if not records:
                return 0
            rows = [
                (consumer, r.position, r.event.case_id, r.event.id, dumps(event_document(r.event)))
                for r in records
                if types is None or r.event.type in types
            ]
            statement = self.sql(
                "INSERT INTO delivery_queue (consumer, position, case_id, event_id, data, "
                "attempts, available_at) VALUES (?, ?, ?, ?, ?, 0, {now}) "
                "ON CONFLICT (consumer, position) DO NOTHING"
            )
            self.store._many(connection, statement, rows)
            self.store.acknowledge(consumer, records[-1].position)
        return len(records)

    def claim(
        self, consumer: str, worker: str, *, limit: int, lease: float
    ) -> list[tuple[OutboxRecord, int]]:
        with self._transaction() as connection:
            rows = self.take(connection, consumer, worker, limit, lease)
        return [
            (OutboxRecord(int(row[0]), event_from_data(_json(row[1]))), int(row[2])) for row in rows
        ]

    def complete(self, deliveries: Sequence[tuple[str, int]]) -> None:
        statement = self.sql("DELETE FROM delivery_queue WHERE consumer = ? AND position = ?")
        with self._transaction() as connection:
            self.store._many(connection, statement, deliveries)

    def fail(
        self, consumer: str, position: int, worker: str, error: str, *, retry_in: float | None
    ) -> None:
        key = (consumer, position, worker)
        where = "WHERE consumer = ? AND position = ? AND leased_by = ?"
        with self._transaction() as connection:
            if retry_in is not None:
                connection.execute(
                    self.sql(
                        "UPDATE delivery_queue SET available_at = {now} + ?, leased_by = NULL, "
                        f"last_error = ? {where}"
                    ),
                    (retry_in, error, *key),
                )
                return
            connection.execute(
                self.sql(
                    "INSERT INTO delivery_dead (consumer, position, case_id, event_id, data, "
                    "attempts, failed_at, last_error) SELECT consumer, position, case_id, "
                    f"event_id, data, attempts, {{now}}, ? FROM delivery_queue {where} "
                    "ON CONFLICT (consumer, position) DO NOTHING"
                ),
                (error, *key),
            )
            connection.execute(self.sql(f"DELETE FROM delivery_queue {where}"), key)

    def release(self, deliveries: Sequence[tuple[str, int]], worker: str) -> None:
        statement = self.sql(
            "UPDATE delivery_queue SET available_at = {now}, leased_by = NULL, "
            "attempts = attempts - 1 WHERE consumer = ? AND position = ? AND leased_by = ?"
        )
        with self._transaction() as connection:
            for consumer, position in deliveries:
                connection.execute(statement, (consumer, position, worker))

    def dead_letters(self, consumer: str | None, limit: int) -> list[DeadLetter]:
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

    def redrive(self, consumer: str, positions: Collection[int] | None) -> int:
        where = "WHERE consumer = ?"
        params: list[Any] = [consumer]
        if positions is not None:
            where += f" AND position IN ({', '.join('?' for _ in positions)})"
            params.extend(positions)
        with self._transaction() as connection:
            connection.execute(
                self.sql(
                    "INSERT INTO delivery_queue (consumer, position, case_id, event_id, data, "
                    "attempts, available_at, last_error) SELECT consumer, position, case_id, "
                    f"event_id, data, 0, {{now}}, last_error FROM delivery_dead {where} "
                    "ON CONFLICT (consumer, position) DO NOTHING"
                ),
                params,
            )
            cursor = connection.execute(self.sql(f"DELETE FROM delivery_dead {where}"), params)
            return int(cursor.rowcount)

    def claim_sweep(self, day: str, worker: str, lease: float) -> bool:
        with self._transaction() as connection:
            return self.take_sweep(connection, day, worker, lease)

    def finish_sweep(self, day: str, worker: str, events: int) -> None:
        with self._transaction() as connection:
            connection.execute(
                self.sql(
                    "INSERT INTO delivery_sweeps (day, leased_by, lease_until, finished_at, "
                    "events) VALUES (?, ?, {now}, {now}, ?) ON CONFLICT (day) DO UPDATE SET "
                    "leased_by = excluded.leased_by, finished_at = excluded.finished_at, "
                    "events = delivery_sweeps.events + excluded.events"
                ),
                (day, worker, events),
            )

    def sweep_finished(self, day: str) -> bool:
        return bool(
            self._rows(
                "SELECT 1 FROM delivery_sweeps WHERE day = ? AND finished_at IS NOT NULL", [day]
            )
        )

    def counts(self) -> DeliveryCounts:
        head = int(self._rows("SELECT COALESCE(MAX(position), 0) FROM outbox")[0][0])
        counts = {
            (str(row[0]), str(row[1])): int(row[2])
            for row in self._rows(
                "SELECT 'queued', consumer, COUNT(*) FROM delivery_queue GROUP BY consumer "
                "UNION ALL SELECT 'dead', consumer, COUNT(*) FROM delivery_dead GROUP BY consumer"
            )
        }
        sweep = self._rows(
            "SELECT day, finished_at FROM delivery_sweeps WHERE finished_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT 1"
        )
        return DeliveryCounts(
            head=head,
            queued={name: n for (kind, name), n in counts.items() if kind == "queued"},
            dead={name: n for (kind, name), n in counts.items() if kind == "dead"},
            last_sweep_day=str(sweep[0][0]) if sweep else None,
            last_sweep_at=float(sweep[0][1]) if sweep else None,
        )

    def backlog(self, after: int) -> int:
        return self.store.outbox_backlog(after)


def _json(value: str | bytes | dict[str, Any]) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)
