"""Delivery: outbox throughput to a consumer, and commit → webhook latency.

Prints, for SQLite and (when reachable) PostgreSQL and MariaDB/MySQL, in one run:
- the raw insert rate of N events (``commit_many`` in chunks of 100, one event per case);
- the throughput of the same N events delivered to a durable consumer (relay, lease,
  handle, complete) by one worker;
- the latency from a commit returning to a local webhook receiver getting the event
  (median and p99; one event committed every 20 ms), with the worker's default waking:
  ``LISTEN/NOTIFY`` on PostgreSQL, polling every `SQLITE_POLL` seconds elsewhere;
- on SQLite, the rate of webhook deliveries to a receiver that closes each connection
  (HTTP/1.0) and to one that keeps it open (HTTP/1.1), with the connections each was opened.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import psycopg

from kmbase_workflow import Workflow
from kmbase_workflow.delivery import SQLITE_POLL, Consumer, Webhook, Worker
from kmbase_workflow.stores import CaseStore, Change, open_store
from kmbase_workflow.testing import sample_case, sample_change

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from webhook_receiver import SECRET, receiving

EVENTS = int(os.environ.get("KMBASE_BENCH_DELIVERY_EVENTS", "2000"))
LATENCY_SAMPLES = int(os.environ.get("KMBASE_BENCH_DELIVERY_SAMPLES", "200"))
POSTGRES = os.environ.get("KMBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL = os.environ.get("KMBASE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


def _changes(count: int) -> list[Change]:
    template = sample_case("template")
    tag = uuid.uuid4().hex[:6]
    return [
        sample_change(attrs.evolve(template, id=f"bench-{tag}-{i:06d}"), None) for i in range(count)
    ]


def _insert_rate(store: CaseStore, changes: list[Change]) -> float:
    started = time.perf_counter()
    for start in range(0, len(changes), 100):
        store.commit_many(changes[start : start + 100])
    return len(changes) / (time.perf_counter() - started)


def _throughput(store: CaseStore, count: int) -> float:
    handled = 0

    def handle(_record: object) -> None:
        nonlocal handled
        handled += 1

    worker = Worker(Workflow(store), consumers=[Consumer("bench", handle)], sweep=False, batch=100)
    started = time.perf_counter()
    worker.run(handle_signals=False, until=lambda: handled >= count)
    return handled / (time.perf_counter() - started)


def _latency(url: str) -> tuple[float, float]:
    with receiving() as receiver:
        store = open_store(url)
        worker = Worker(
            Workflow(open_store(url)),
            webhooks=[Webhook("bench", receiver.url, SECRET)],
            sweep=False,
        )
        # the receiver starts at the head: it is not sent what the runs above wrote
        worker.queue.store.acknowledge("webhook:bench", worker.queue.status().head)
        thread = threading.Thread(target=worker.run, kwargs={"handle_signals": False})
        thread.start()
        committed: dict[str, float] = {}
        for change in _changes(LATENCY_SAMPLES):
            store.commit(change)
            committed[change.events[0].id] = time.perf_counter()
            time.sleep(0.02)
        deadline = time.monotonic() + 120
        while len(receiver.ids() & committed.keys()) < len(committed):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        worker.stop()
        thread.join()
        store.close()
        worker.workflow.close()
        arrived: dict[str, float] = {}
        for event_id, _case, _position, at in receiver.received:
            arrived.setdefault(event_id, at)
    delays = sorted(arrived[e] - committed[e] for e in committed if e in arrived)
    return statistics.median(delays), delays[int(len(delays) * 0.99) - 1]


def _webhook_rate(url: str, count: int, *, keep_alive: bool) -> tuple[float, int]:
    """Deliveries per second of ``count`` events to one webhook, and the connections opened."""
    store = open_store(url)
    for start in range(0, count, 100):
        store.commit_many(_changes(min(100, count - start)))
    with receiving(keep_alive=keep_alive) as receiver:
        worker = Worker(
            Workflow(store),
            webhooks=[Webhook(f"rate-{keep_alive}", receiver.url, SECRET)],
            sweep=False,
            poll=0.01,
        )
        started = time.perf_counter()
        worker.run(
            handle_signals=False,
            until=lambda: all(c.lag == 0 for c in worker.queue.status().consumers),
        )
        rate = len(receiver.ids()) / (time.perf_counter() - started)
    store.close()
    return rate, receiver.connections


def _run_webhook_rates(folder: str) -> None:
    count = min(EVENTS, 500)
    closing = _webhook_rate(f"sqlite:///{Path(folder) / 'closing.db'}", count, keep_alive=False)
    kept = _webhook_rate(f"sqlite:///{Path(folder) / 'kept.db'}", count, keep_alive=True)
    print(
        f"{count} webhook deliveries (SQLite): {closing[0]:6.0f}/s to a receiver closing each "
        f"connection ({closing[1]} opened) | {kept[0]:6.0f}/s to a keep-alive one "
        f"({kept[1]} opened)",
        flush=True,
    )


def _run(name: str, url: str) -> None:
    store = open_store(url)
    rate = _insert_rate(store, _changes(EVENTS))
    throughput = _throughput(store, EVENTS)
    store.close()
    median, p99 = _latency(url)
    print(
        f"{name:>10}: insert {rate:8.0f} events/s | delivered to a consumer "
        f"{throughput:8.0f} events/s ({throughput / rate:.2f}x insert) | commit->webhook "
        f"median {median * 1000:7.1f} ms, p99 {p99 * 1000:7.1f} ms",
        flush=True,
    )


def main() -> None:
    print(f"{EVENTS} events; latency over {LATENCY_SAMPLES} commits, one every 20 ms")
    with tempfile.TemporaryDirectory() as folder:
        _run(f"SQLite (poll {SQLITE_POLL:g} s)", f"sqlite:///{Path(folder) / 'bench.db'}")
        _run_webhook_rates(folder)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(POSTGRES, connect_timeout=3):
            pass
    except psycopg.Error as error:
        print(f"PostgreSQL skipped: {error}".strip())
        return
    try:
        _run("PostgreSQL (LISTEN)", f"{POSTGRES}?schema={schema}")
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    _run_mysql()


def _run_mysql() -> None:
    """The same on MariaDB/MySQL, in a database of its own (dropped afterwards)."""
    try:
        from kmbase_workflow.stores.mysql import connect  # noqa: PLC0415 - the mysql extra

        connect(MYSQL).close()
    except Exception as error:  # no driver, or no server: say so and go on
        print(f"MariaDB skipped: {error}".strip())
        return
    database = f"bench_{uuid.uuid4().hex[:8]}"
    url = urlsplit(MYSQL)._replace(path=f"/{database}", query="").geturl()
    try:
        _run(f"MariaDB (poll {SQLITE_POLL:g} s)", url)
    finally:
        with contextlib.closing(connect(url)) as connection:
            connection.cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")


if __name__ == "__main__":
    main()
