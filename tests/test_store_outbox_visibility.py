"""PostgreSQL writers share no lock, yet a reader of the outbox never skips an event.

Writers on different cases commit side by side (issue 16: one advisory lock serialised them
all). An event may then commit at a lower position after another committed a higher one; a
reader whose cursor had moved past the higher one would never see the lower one. The store
orders reads by writing transaction and takes only transactions that have ended before
the oldest one still running (see `PostgresStore.read_outbox`). Proved here step by step
with two held-open transactions, and with real processes racing (on MariaDB too, whose
order comes from a lock instead: tests/test_store_mysql.py forces its interleaving).

The horizon is the whole server's: a transaction another test holds open anywhere on it
holds these events back too. A read that must see events therefore waits for them as long as
it takes (``outbox_wait``, `_SETTLE`), and returns as soon as they are settled; only a read
that must see nothing waits briefly.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from kmbase_workflow.delivery import DeliveryQueue
from kmbase_workflow.stores import Change, OutboxRecord, open_store
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.testing import sample_case, sample_change
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from outbox_workers import write_steps
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

_SETTLE = 60.0
"""How long a read that must see events waits for older transactions to end (it returns as
soon as they have)."""


@pytest.fixture
def store(schema: str) -> Iterator[PostgresStore]:  # noqa: F811
    opened = PostgresStore(URL, schema=schema, outbox_wait=_SETTLE)
    yield opened
    opened.close()


def _declared(case_id: str) -> Change:
    return sample_change(sample_case(case_id), None)


def _ids(records: list[Any]) -> list[str]:
    return [record.event.id for record in records]


def test_an_event_committed_late_at_a_lower_position_is_not_skipped(
    store: PostgresStore,
) -> None:
    with psycopg.connect(URL) as early, psycopg.connect(URL) as late:
        # "early" gets its transaction id first, but writes its event last.
        early.execute("SELECT pg_current_xact_id()")
        with store.using(late):
            store.commit(_declared("late"))  # lower position, still open
        with store.using(early):
            store.commit(_declared("early"))  # higher position
        early.commit()
        seen = store.read_outbox(0, 100)
        assert _ids(seen) == ["early-v1-e0"]  # the open transaction holds nothing back
        positions = {record.event.id: record.position for record in seen}
        late.commit()
    after = store.read_outbox(seen[-1].position, 100)
    assert _ids(after) == ["late-v1-e0"]
    assert after[0].position < positions["early-v1-e0"]  # a lower position, yet not skipped
    assert store.read_outbox(after[-1].position, 100) == []


def test_an_event_is_not_read_while_an_older_transaction_may_still_write_before_it(
    store: PostgresStore,
) -> None:
    store.outbox_wait = 0.2  # the open transaction will not end while the reader waits
    with psycopg.connect(URL) as open_one:
        with store.using(open_one):
            store.commit(_declared("slow"))
        store.commit(_declared("fast"))
        assert store.read_outbox(0, 100) == []  # "fast" waits for "slow" to end
        open_one.commit()
    store.outbox_wait = _SETTLE
    assert _ids(store.read_outbox(0, 100)) == ["slow-v1-e0", "fast-v1-e0"]


def test_a_consumer_cursor_follows_the_order_of_reading(store: PostgresStore) -> None:
    with psycopg.connect(URL) as early, psycopg.connect(URL) as late:
        early.execute("SELECT pg_current_xact_id()")
        with store.using(late):
            store.commit(_declared("late"))
        with store.using(early):
            store.commit(_declared("early"))
        early.commit()
        late.commit()
    first, second = store.read_outbox(0, 100)
    assert first.position > second.position  # read in transaction order
    store.acknowledge("portal", first.position)
    store.acknowledge("portal", second.position)
    assert store.consumer_position("portal") == second.position
    store.acknowledge("portal", first.position)  # backwards in reading order: ignored
    assert store.consumer_position("portal") == second.position
    assert store.read_outbox(store.consumer_position("portal"), 100) == []


def test_a_relay_holds_back_no_event_committed_while_it_runs(
    store: PostgresStore,
    schema: str,  # noqa: F811
) -> None:
    # A relay that took a transaction id before it read the outbox (a row lock gives one)
    # was itself the oldest transaction running: every event committed after it took that
    # id stayed above the horizon until the relay ended, so its read waited `outbox_wait`
    # and left them out.
    store.commit(_declared("before"))
    writer = PostgresStore(URL, schema=schema)
    read = store.read_outbox

    def read_after_a_commit(after: int = 0, limit: int = 100) -> list[OutboxRecord]:
        writer.commit(_declared("during"))  # commits while the relay's transaction is open
        return read(after, limit)

    store.read_outbox = read_after_a_commit  # type: ignore[method-assign]
    queue = DeliveryQueue(store)
    assert queue.relay("portal") == 2
    writer.close()
    assert [d.record.event.id for d in queue.claim("portal", "w")] == [
        "before-v1-e0",
        "during-v1-e0",
    ]


WRITERS = 4
STEPS = 40


@pytest.fixture(params=["postgres", pytest.param("mysql", marks=pytest.mark.mysql)])
def url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each server kind (MariaDB orders its outbox by a lock instead)."""
    if request.param == "mysql":
        return str(request.getfixturevalue("mysql_url"))
    return f"{URL}?schema={request.getfixturevalue('schema')}"


def test_racing_writers_and_a_reader_lose_and_repeat_nothing(url: str) -> None:
    open_store(url).close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        pending = pool.starmap_async(write_steps, [(url, f"w{n}", STEPS) for n in range(WRITERS)])
        reader = open_store(url)
        seen: list[str] = []
        cursor = 0
        while not pending.ready() or (batch := reader.read_outbox(cursor, 50)):
            batch = reader.read_outbox(cursor, 50)
            if batch:
                seen.extend(_ids(batch))
                cursor = batch[-1].position
        pending.get()
        seen.extend(_ids(reader.read_outbox(cursor, 10_000)))
        everything = _ids(reader.read_outbox(0, 100_000))
        reader.close()
    assert len(everything) == WRITERS * STEPS * 2
    assert sorted(seen) == sorted(everything)  # nothing skipped, nothing twice
    # each case's events in the order its steps committed
    for n in range(WRITERS):
        mine = [event for event in seen if event.startswith(f"w{n}-")]
        assert mine == sorted(mine, key=lambda event: (int(event.split("-")[1]), event))


def test_the_outbox_keeps_its_append_only_guarantee(store: PostgresStore) -> None:
    store.commit(_declared("case-1"))
    with psycopg.connect(URL, autocommit=True) as connection:
        connection.execute(f"SET search_path TO {store.schema}")
        with pytest.raises(psycopg.Error, match="append-only"):
            connection.execute("UPDATE outbox SET tx = '1'::xid8")
