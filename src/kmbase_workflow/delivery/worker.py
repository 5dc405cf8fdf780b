"""The worker: runs the sweep on its daily schedule, relays the outbox to each consumer and
delivers it (webhooks, Python handlers), until it is told to stop.

Several workers may run at once on one PostgreSQL database:

- each delivery is leased to one worker at a time (`DeliveryQueue.claim`), and a case's
  events go one at a time, in order;
- each consumer is served in a thread of its own (its relay and its leased batches, the
  batch's events ``concurrency`` at a time), so an endpoint that is slow or never answers
  delays only its own events: the other consumers' go on meanwhile;
- the sweep of a day is claimed by one worker (`DeliveryQueue.claim_sweep`), and even when
  two sweeps overlap (a holder whose lease ran out, or ``sweep_every``) each notice is sent
  once: the sweep writes every step against the version it read (`Workflow.sweep`);
- ``SIGTERM`` or ``SIGINT`` (or `Worker.stop`) ends the loop after the deliveries under way:
  those finish, the leased ones not yet started are given back (`DeliveryQueue.release`).
  A worker killed outright loses its leases when they end (``lease`` seconds), and another
  worker delivers those events again: delivery is at least once.

Waking: on PostgreSQL a worker ``LISTEN``\\s to its schema's outbox channel (written by a
trigger at each commit) and wakes at once, polling every ``poll`` seconds as a fall-back
(a lost notification, a retry coming due); on SQLite it polls every ``poll`` seconds
(`SQLITE_POLL`).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from types import FrameType
from typing import Any

import attrs

from .._i18n import Text
from ..deadlines import DEFAULT_REMINDER_LEAD_DAYS
from ..errors import InvalidInputError, KmbaseError, install_hint
from ..stores import CaseStore, OutboxRecord
from ..stores._delivery import DeliveryStore, Listener
from ..workflow import Workflow
from .queue import Delivery, DeliveryQueue, QueueStatus
from .webhooks import Webhook, WebhookClient

__all__ = [
    "POSTGRES_POLL",
    "SQLITE_POLL",
    "Backoff",
    "Consumer",
    "JsonLogFormatter",
    "Metrics",
    "Waiter",
    "Worker",
]

logger = logging.getLogger(__name__)

SQLITE_POLL = 1.0
"""Seconds between two looks at a SQLite outbox when there was nothing to do."""
POSTGRES_POLL = 5.0
"""Seconds a PostgreSQL worker waits for a notification before it looks anyway."""

Handler = Callable[[OutboxRecord], object]
"""A consumer's handler: returns when the event is handled, raises when it is not."""


@attrs.frozen
class Backoff:
    """When to try a failed delivery again: ``base`` × 2^(attempt − 1) seconds, at most
    ``cap``, less a random part of up to ``jitter`` of it (so that failed deliveries do
    not come back all at once); after ``max_attempts`` attempts, a dead letter."""

    base: float = 2.0
    cap: float = 900.0
    max_attempts: int = 10
    jitter: float = 0.5

    def __attrs_post_init__(self) -> None:
        if not (
            self.base >= 0 and self.cap >= 0 and self.max_attempts >= 1 and 0 <= self.jitter <= 1
        ):
            raise InvalidInputError(
                Text(zh="重试设置无效", en="invalid retry settings"),
                hint=Text(
                    zh="base、cap ≥ 0，max_attempts ≥ 1，0 ≤ jitter ≤ 1",
                    en="base, cap ≥ 0; max_attempts ≥ 1; 0 ≤ jitter ≤ 1",
                ),
            )

    def delay(self, attempts: int, rng: random.Random | None = None) -> float | None:
        """Seconds before the next try after ``attempts`` failed ones; ``None``: give up."""
        if attempts >= self.max_attempts:
            return None
        full = min(self.cap, self.base * 2.0 ** min(max(attempts - 1, 0), 62))
        return full * (1.0 - self.jitter * (rng or random).random())


@attrs.frozen
class Consumer:
    """A named consumer handled in this process: ``handler`` is called with each event of
    ``types`` (``None``: every event), at least once, in order per case; an exception is a
    failure, retried with back-off, then kept as a dead letter."""

    name: str
    handler: Handler
    types: frozenset[str] | None = None

    @classmethod
    def of(cls, webhook: Webhook) -> Consumer:
        """The consumer that delivers to ``webhook``."""
        return cls(webhook.consumer, webhook, webhook.types)


class Waiter:
    """Waits for new events: woken at each commit where the store can notify (its delivery
    rows' `listener <kmbase_workflow.stores.DeliveryRows.listener>`: PostgreSQL's
    ``LISTEN``), a plain timeout elsewhere. ``kmbase follow`` and the worker wait through it."""

    def __init__(self, store: CaseStore) -> None:
        self._listener: Listener | None = (
            store.delivery_rows().listener() if isinstance(store, DeliveryStore) else None
        )

    @property
    def listening(self) -> bool:
        """Whether notifications wake this waiter (PostgreSQL, connection up)."""
        return self._listener is not None and self._listener.listening

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Wait up to ``timeout`` seconds; true if woken by a notification."""
        stop = stop or threading.Event()
        if self._listener is None:
            stop.wait(timeout)
            return False
        return self._listener.wait(timeout, stop)

    def close(self) -> None:
        """Close the listening connection."""
        if self._listener is not None:
            self._listener.close()


class Metrics:
    """The worker's figures in Prometheus' text format (needs the ``metrics`` extra):
    deliveries by consumer and outcome, each consumer's lag, queue and dead letters, the
    outbox head and the time of the last finished sweep."""

    def __init__(self) -> None:
        try:
            import prometheus_client as prom  # noqa: PLC0415 - optional extra
        except ImportError:
            raise InvalidInputError(
                Text(zh="未安装 prometheus-client", en="prometheus-client is not installed"),
                hint=install_hint("metrics"),
            ) from None
        self._prom = prom
        self.registry = prom.CollectorRegistry()
        self.deliveries = prom.Counter(
            "kmbase_deliveries",
            "Deliveries by consumer and outcome (delivered, retried, dead).",
            ["consumer", "outcome"],
            registry=self.registry,
        )
        self.lag = prom.Gauge(
            "kmbase_consumer_lag",
            "Committed events a consumer has not handled yet.",
            ["consumer"],
            registry=self.registry,
        )
        self.queued = prom.Gauge(
            "kmbase_consumer_queued", "Events queued for a consumer.", ["consumer"],
            registry=self.registry,
        )  # fmt: skip
        self.dead = prom.Gauge(
            "kmbase_dead_letters", "Dead letters of a consumer.", ["consumer"],
            registry=self.registry,
        )  # fmt: skip
        self.head = prom.Gauge(
            "kmbase_outbox_head", "The newest outbox position.", registry=self.registry
        )
        self.last_sweep = prom.Gauge(
            "kmbase_last_sweep_timestamp_seconds",
            "When the last sweep finished (seconds since the epoch).",
            registry=self.registry,
        )
        self._server: Any = None

    def observe(self, status: QueueStatus) -> None:
        """Set the gauges from a status."""
        self.head.set(status.head)
        for consumer in status.consumers:
            self.lag.labels(consumer.name).set(consumer.lag)
            self.queued.labels(consumer.name).set(consumer.queued)
            self.dead.labels(consumer.name).set(consumer.dead)
        if status.last_sweep_at is not None:
            self.last_sweep.set(status.last_sweep_at)

    def text(self) -> str:
        """The figures as Prometheus scrapes them."""
        return self._prom.generate_latest(self.registry).decode()

    def serve(self, port: int, address: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` on ``port`` (0: any free port); returns the port."""
        server, _thread = self._prom.start_http_server(port, address, registry=self.registry)
        self._server = server
        return int(server.server_port)

    def close(self) -> None:
        """Stop serving."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``kmbase``
    fields (``extra={"kmbase": {...}}``), for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "kmbase", {}),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class Worker:
    """Sweeps, relays and delivers for a `Workflow` (see the module docs).

    ``webhooks`` and ``consumers`` are what it delivers to; ``sweep_at`` is the local time
    (Asia/Shanghai, the workflow's clock) after which each day's sweep runs, once per day
    across all workers, or, with ``sweep_every`` seconds, every so often in every worker
    (safe, and useful in tests); ``sweep=False`` leaves the sweep to others. Each
    consumer is served in a thread of its own: ``batch`` of its events are leased at a time
    for ``lease`` seconds and handled by up to ``concurrency`` threads (one event per case
    at a time). A webhook's ``timeout`` must be shorter than the lease, or another worker
    could take a delivery still under way. ``metrics``, if given, is kept up to date; a
    status line is logged every ``status_every`` seconds.
    """

    def __init__(
        self,
        workflow: Workflow,
        *,
        webhooks: Iterable[Webhook] = (),
        consumers: Iterable[Consumer] = (),
        backoff: Backoff | None = None,
        sweep: bool = True,
        sweep_at: dt.time = dt.time(0, 10),
        sweep_every: float | None = None,
        lead_days: Sequence[int] = DEFAULT_REMINDER_LEAD_DAYS,
        poll: float | None = None,
        batch: int = 20,
        lease: float = 60.0,
        concurrency: int = 4,
        metrics: Metrics | None = None,
        status_every: float = 30.0,
        name: str | None = None,
    ) -> None:
        self.workflow = workflow
        self.queue = DeliveryQueue(workflow.store)
        hooks = tuple(webhooks)
        self._clients = tuple(WebhookClient(webhook) for webhook in hooks)
        """Each webhook's connections, reused by its deliveries until the worker stops."""
        self.consumers: tuple[Consumer, ...] = (
            *(Consumer(c.webhook.consumer, c, c.webhook.types) for c in self._clients),
            *consumers,
        )
        names = [consumer.name for consumer in self.consumers]
        if len(set(names)) != len(names):
            raise InvalidInputError(
                Text(zh=f"消费者名称重复：{names}", en=f"consumer names repeat: {names}"),
                hint=Text(zh="每个消费者一个名称", en="give each consumer its own name"),
            )
        if batch < 1 or lease <= 0 or concurrency < 1:
            raise InvalidInputError(
                Text(
                    zh="批量、租期、并发须为正数",
                    en="batch, lease and concurrency must be positive",
                ),
                hint=Text(zh="例如 batch=20, lease=60, concurrency=4", en="e.g. 20, 60, 4"),
            )
        slowest = max((hook.timeout for hook in hooks), default=0.0)
        if slowest >= lease:
            raise InvalidInputError(
                Text(
                    zh=f"webhook 超时 {slowest} 秒不短于租期 {lease} 秒：租期结束时投递可能仍在进行，"
                    "另一个工作进程会再取走它",
                    en=f"a webhook timeout of {slowest} s is not shorter than the lease of "
                    f"{lease} s: a delivery could still be under way when its lease ends, and "
                    "another worker would take it",
                ),
                hint=Text(
                    zh="延长租期（--lease）或缩短超时（--timeout）",
                    en="lengthen the lease (--lease) or shorten the timeout (--timeout)",
                ),
            )
        if slowest * -(-batch // concurrency) >= lease:
            # the last event of a batch could still wait its turn when the lease ends, and
            # another worker would take it meanwhile (delivered twice, still at least once)
            logger.warning(
                "lease %s s is shorter than a batch of %s timed-out requests (%s s each, %s at "
                "once): lengthen --lease or shorten --batch", lease, batch, slowest, concurrency,
            )  # fmt: skip
        self.backoff = backoff or Backoff()
        self.sweep, self.sweep_at, self.sweep_every = sweep, sweep_at, sweep_every
        self.lead_days = tuple(lead_days)
        self.poll = (
            poll if poll is not None else (POSTGRES_POLL if self.queue.notifies else SQLITE_POLL)
        )
        self.batch, self.lease, self.concurrency = batch, lease, concurrency
        self.metrics = metrics
        self.status_every = status_every
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._swept_day: str | None = None
        self._next_sweep = 0.0
        self._next_status = 0.0
        self._rng = random.Random()
        self._wake = threading.Event()
        """Set when a consumer's pass ends (or `stop`): the loop stops waiting for work."""
        self._lanes: concurrent.futures.ThreadPoolExecutor | None = None
        """One thread per consumer, each running that consumer's passes one at a time."""
        self._passes: dict[str, concurrent.futures.Future[int]] = {}
        """The pass under way of each consumer that has one."""
        self._pools: dict[str, concurrent.futures.ThreadPoolExecutor] = {}
        """Each consumer's delivery threads (``concurrency`` of them)."""
        for consumer in self.consumers:
            self.queue.register(consumer.name)

    # -- the loop ---------------------------------------------------------------------------

    def stop(self, *_: object) -> None:
        """Ask the loop to end after the deliveries under way (also the signal handler)."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """Whether `stop` was asked for."""
        return self._stop.is_set()

    def run(self, *, handle_signals: bool = True, until: Callable[[], bool] | None = None) -> None:
        """Work until `stop` (or ``SIGTERM``/``SIGINT`` when ``handle_signals``, in the main
        thread), or until ``until()`` is true after a pass; store errors are logged and
        the loop goes on after a pause (a database restarting is not the worker's end)."""
        previous: dict[int, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for number in (signal.SIGTERM, signal.SIGINT):
                previous[number] = signal.signal(number, self._on_signal)
        waiter = Waiter(self.workflow.store)
        logger.info(
            "worker %s started", self.name,
            extra={"kmbase": {"event": "worker_started", "worker": self.name,
                              "consumers": [c.name for c in self.consumers],
                              "listening": waiter.listening}},
        )  # fmt: skip
        try:
            while not self._stop.is_set():
                try:
                    done = self.run_once()
                except KmbaseError as error:
                    logger.warning(
                        "worker pass failed: %s", error.describe("en"),
                        extra={"kmbase": {"event": "pass_failed", "worker": self.name}},
                    )  # fmt: skip
                    done = 0
                if until is not None and until():
                    break
                if not done:
                    waiter.wait(self.poll, self._wake)
        finally:
            waiter.close()
            self._shut_down()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            logger.info(
                "worker %s stopped", self.name,
                extra={"kmbase": {"event": "worker_stopped", "worker": self.name}},
            )  # fmt: skip

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        logger.info("worker %s: signal %s, stopping", self.name, number)
        self.stop()

    def run_once(self) -> int:
        """One pass: the sweep if due, then a pass of each consumer not still busy with its
        previous one (its relay and one leased batch), each consumer in its own thread.
        Returns once a pass under way has ended, or after ``poll`` seconds, with how many
        events the ended passes relayed or handled (0: nothing to do, or nothing ended)."""
        self._wake.clear()
        if self.sweep:
            try:
                self.run_sweep_if_due()
            except KmbaseError as error:  # a failed sweep must not hold the deliveries back
                logger.warning(
                    "sweep failed: %s", error.describe("en"),
                    extra={"kmbase": {"event": "sweep_failed", "worker": self.name,
                                      "error": error.describe("en")}},
                )  # fmt: skip
        if self._lanes is None and self.consumers:
            self._lanes = concurrent.futures.ThreadPoolExecutor(
                max_workers=len(self.consumers), thread_name_prefix="kmbase-consumer"
            )
        for consumer in self.consumers:
            if self._stop.is_set() or self._lanes is None:
                break
            if consumer.name not in self._passes:
                future = self._lanes.submit(self._pass, consumer)
                future.add_done_callback(lambda _: self._wake.set())
                self._passes[consumer.name] = future
        done = self._ended(timeout=self.poll)
        if time.monotonic() >= self._next_status:
            self._next_status = time.monotonic() + self.status_every
            self.report()
        return done

    def _ended(self, timeout: float | None) -> int:
        """Wait up to ``timeout`` seconds for a consumer's pass to end; forget those that
        ended and return how many events they relayed or handled (a pass's store error is
        raised, the other ended passes are counted at the next call)."""
        if not self._passes:
            return 0
        concurrent.futures.wait(
            self._passes.values(), timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        done = 0
        for name, future in list(self._passes.items()):
            if future.done():
                del self._passes[name]
                done += future.result()
        return done

    def _shut_down(self) -> None:
        """Let the passes under way end (their deliveries under way finish, the events not
        started are given back), then stop the threads."""
        while self._passes:
            try:
                self._ended(timeout=None)
            except KmbaseError as error:
                logger.warning(
                    "worker pass failed: %s", error.describe("en"),
                    extra={"kmbase": {"event": "pass_failed", "worker": self.name}},
                )  # fmt: skip
        lanes, self._lanes = self._lanes, None
        if lanes is not None:
            lanes.shutdown(wait=True)
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.shutdown(wait=True)
        for client in self._clients:
            client.close()

    def report(self) -> QueueStatus:
        """Log the status (lag, dead letters, last sweep) and set the metrics."""
        status = self.queue.status()
        if self.metrics is not None:
            self.metrics.observe(status)
        logger.info(
            "status: head %s, %s", status.head,
            ", ".join(f"{c.name} lag {c.lag} dead {c.dead}" for c in status.consumers) or "-",
            extra={"kmbase": {"event": "status", "worker": self.name, **status.to_dict()}},
        )  # fmt: skip
        return status

    # -- the sweep --------------------------------------------------------------------------

    def run_sweep_if_due(self) -> bool:
        """Run the sweep if it is due and this worker may (see the class docs)."""
        now = self.workflow.clock.now()
        day = now.date().isoformat()
        if self.sweep_every is not None:
            if time.monotonic() < self._next_sweep:
                return False
            self._next_sweep = time.monotonic() + self.sweep_every
        else:
            if self._swept_day == day or now.time() < self.sweep_at:
                return False
            if self.queue.sweep_finished(day):
                self._swept_day = day
                return False
            if not self.queue.claim_sweep(day, self.name, lease=max(600.0, self.lease)):
                return False
        report = self.workflow.sweep(lead_days=self.lead_days)
        self.queue.finish_sweep(day, self.name, len(report.events))
        self._swept_day = day
        logger.info(
            "sweep of %s: %s event(s), %s expired", day, len(report.events), len(report.expired),
            extra={"kmbase": {"event": "swept", "worker": self.name, "day": day,
                              "events": len(report.events), "expired": list(report.expired),
                              "started": list(report.started),
                              "refused": [case for case, _ in report.refused]}},
        )  # fmt: skip
        return True

    # -- deliveries -------------------------------------------------------------------------

    def _pass(self, consumer: Consumer) -> int:
        """One consumer's relay and one leased batch (in the consumer's own thread)."""
        done = self.queue.relay(consumer.name, types=consumer.types)
        if self._stop.is_set():
            return done
        return done + self._deliver(consumer)

    def _deliver(self, consumer: Consumer) -> int:
        deliveries = self.queue.claim(consumer.name, self.name, limit=self.batch, lease=self.lease)
        if not deliveries:
            return 0
        pool = self._pools.get(consumer.name)
        if pool is None:
            pool = self._pools[consumer.name] = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="kmbase-delivery"
            )
        futures = {pool.submit(self._handle, consumer, d): d for d in deliveries}
        released: list[Delivery] = []
        handled: list[Delivery] = []
        try:
            for future, delivery in futures.items():
                if self._stop.is_set() and future.cancel():
                    released.append(delivery)
                elif future.result():
                    handled.append(delivery)
        finally:
            # one transaction for the batch's successes (on SQLite, one disk sync)
            self.queue.complete(handled)
            self.queue.release(released, self.name)
        if self.metrics is not None and handled:
            self.metrics.deliveries.labels(consumer.name, "delivered").inc(len(handled))
        return len(deliveries) - len(released)

    def _handle(self, consumer: Consumer, delivery: Delivery) -> bool:
        """Hand one event to its consumer: true if handled, false if failed (recorded)."""
        record = delivery.record
        context = {
            "worker": self.name, "consumer": consumer.name, "position": record.position,
            "event_id": record.event.id, "case_id": record.event.case_id,
            "attempts": delivery.attempts,
        }  # fmt: skip
        try:
            consumer.handler(record)
        except Exception as error:  # a consumer's failure is recorded, never spread
            reason = f"{type(error).__name__}: {error}"[:2000]
            retry_in = self.backoff.delay(delivery.attempts, self._rng)
            self.queue.fail(delivery, self.name, reason, retry_in=retry_in)
            outcome = "retried" if retry_in is not None else "dead"
            logger.warning(
                "%s failed on %s (attempt %s): %s", consumer.name, record.position,
                delivery.attempts, reason,
                extra={"kmbase": {"event": f"delivery_{outcome}", **context, "error": reason,
                                  "retry_in": retry_in}},
            )  # fmt: skip
            if self.metrics is not None:
                self.metrics.deliveries.labels(consumer.name, outcome).inc()
            return False
        logger.debug(
            "%s handled %s", consumer.name, record.position,
            extra={"kmbase": {"event": "delivered", **context}},
        )  # fmt: skip
        return True
