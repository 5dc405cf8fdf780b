"""Two steps that commit in the opposite order of the outbox positions they took (issue 27):
step A takes position n+1 and commits after step B took n+2 and committed. Every consumer of
the outbox must still get A's event: the three broker bridges, a delivery consumer's cursor,
the service's server-sent events resumed with ``Last-Event-ID``, and ``kmbase follow``.

The interleaving is forced through the stores' checkpoint seam (``on_checkpoint``), on every
backend. On PostgreSQL, B takes its transaction id first (it pauses after writing its case),
then A writes its case and its event (n+1) and pauses before committing; B goes on, writes
its event (n+2) and commits; every consumer reads (and gets B); then A commits and every
consumer reads again. SQLite and the memory store let one writer in at a time, so there B
waits for A: the same steps, which cannot come out of order there.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from broker_servers import BROKERS, target
from kmbase_workflow import Workflow
from kmbase_workflow.bridges import open_sink, relay
from kmbase_workflow.cli import app
from kmbase_workflow.delivery import DeliveryQueue
from kmbase_workflow.service import create_app
from kmbase_workflow.stores import CaseStore, Change, open_store
from kmbase_workflow.stores.memory import MemoryStore
from kmbase_workflow.testing import sample_case, sample_change
from postgres_server import URL as POSTGRES_URL
from postgres_server import require_server
from service_helpers import issue_tokens, sse_events

runner = CliRunner()

BACKENDS = ("memory", "sqlite", "postgres")


@attrs.define
class Backend:
    """One store's data, opened as often as a test needs (each a connection of its own)."""

    name: str
    url: str | None
    """``None``: the memory store, which only one object holds."""
    make: Callable[[], CaseStore]
    opened: list[CaseStore] = attrs.field(factory=list)

    def open(self) -> CaseStore:
        """The store once more (closed when the test ends)."""
        store = self.make()
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        shared = MemoryStore()
        yield Backend("memory", None, lambda: shared)
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.db'}"
        open_store(url).close()
        sqlite = Backend("sqlite", url, lambda: open_store(url))
        yield sqlite
        sqlite.close()
        return
    require_server()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = f"{POSTGRES_URL}?schema={schema}"
    open_store(url).close()
    postgres = Backend("postgres", url, lambda: open_store(url))
    yield postgres
    postgres.close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class Pause:
    """A checkpoint seam that stops the writing thread at one named point until released."""

    def __init__(self, at: str) -> None:
        self.at = at
        self.reached = threading.Event()
        self.go = threading.Event()

    def __call__(self, name: str) -> None:
        if name == self.at and not self.reached.is_set():
            self.reached.set()
            assert self.go.wait(60), f"never released at {self.at}"


class Writer:
    """A change committed by a thread of its own, through a store with a seam."""

    def __init__(self, store: CaseStore, change: Change, pause: Pause) -> None:
        self.store, self.change, self.pause = store, change, pause
        self.store.on_checkpoint = pause  # type: ignore[attr-defined]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.store.commit(self.change)
        except BaseException as error:  # reported by finish()
            self.error = error

    def start(self) -> Writer:
        self.thread.start()
        return self

    def reach(self) -> None:
        assert self.pause.reached.wait(60), f"never reached {self.pause.at}"

    def finish(self) -> None:
        self.pause.go.set()
        self.thread.join(60)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        self.store.on_checkpoint = None  # type: ignore[attr-defined]


def declared(case_id: str) -> Change:
    return sample_change(sample_case(case_id), None)


A = declared("case-a")
B = declared("case-b")
A_EVENT, B_EVENT = A.events[0].id, B.events[0].id


def interleave(backend: Backend, meanwhile: Callable[[], object], *, writes: bool = False) -> None:
    """A takes its outbox position before B and commits after B; ``meanwhile`` runs (the
    consumers read) after B committed, while A has not yet (where the backend allows: on
    SQLite a consumer that ``writes`` in a transaction of its own waits for A, as B does)."""
    if backend.name == "postgres":
        b = Writer(backend.open(), B, Pause("case")).start()
        b.reach()  # B holds its transaction id, not yet its position
        a = Writer(backend.open(), A, Pause("before_commit")).start()
        a.reach()  # A took position n+1 and has not committed
        b.finish()  # B takes n+2 and commits
        meanwhile()
        a.finish()
        return
    # SQLite's write lock and the memory store's lock let one writer in at a time
    a = Writer(backend.open(), A, Pause("before_commit")).start()
    a.reach()
    if backend.name == "sqlite" and not writes:
        meanwhile()  # readers do not wait for the writer
    b = Writer(backend.open(), B, Pause("never")).start()  # waits for A's lock
    a.finish()
    b.finish()


def test_the_schedule_is_the_one_described(backend: Backend) -> None:
    """On PostgreSQL A really takes the lower position and B really commits first; elsewhere
    nothing of A is read before A commits, and B comes after it."""
    seen: list[str] = []

    def read() -> None:
        seen.extend(record.event.id for record in backend.open().read_outbox(0, 100))

    interleave(backend, read)
    positions = {r.event.id: r.position for r in backend.open().read_outbox(0, 100)}
    assert positions[A_EVENT] < positions[B_EVENT]
    if backend.name == "postgres":
        assert seen == [B_EVENT]  # B committed, A not yet
    else:
        assert seen == []


# -- the consumers ----------------------------------------------------------------------------


@pytest.mark.parametrize("broker", BROKERS)
def test_a_bridge_relays_the_event_that_committed_late(backend: Backend, broker: str) -> None:
    consumer_store = backend.open()
    with contextlib.contextmanager(target)(broker) as place:
        with open_sink(place.url, **place.options) as sink:

            def relay_now() -> None:
                relay(consumer_store, sink, consumer=broker, until_caught_up=True)

            relay_now()  # an empty outbox: nothing
            interleave(backend, relay_now)
            relay_now()
        received = [message.message_id for message in place.drain()]
        assert set(received) == {A_EVENT, B_EVENT}
        assert len(received) == 2
        # a restarted relay has nothing left to send and does not stop on its own stream
        with open_sink(place.url, **place.options) as sink:
            assert relay(consumer_store, sink, consumer=broker, until_caught_up=True).relayed == 0
        assert place.drain() == []


def test_a_delivery_consumer_gets_the_event_that_committed_late(backend: Backend) -> None:
    if backend.url is None:
        pytest.skip("delivery queues live in a SQL store")
    queue = DeliveryQueue(backend.open())
    delivered: list[str] = []

    def deliver() -> None:
        while queue.relay("portal"):
            pass
        claimed = queue.claim("portal", "worker-1")
        delivered.extend(delivery.record.event.id for delivery in claimed)
        queue.complete(claimed)

    interleave(backend, deliver, writes=True)  # relaying moves the cursor in a transaction
    deliver()
    assert sorted(delivered) == sorted([A_EVENT, B_EVENT])


def test_server_sent_events_resumed_by_last_event_id_get_the_event_that_committed_late(
    backend: Backend,
) -> None:
    workflow = Workflow(backend.open() if backend.url is None else backend.url)
    token = issue_tokens(workflow)["city_bureau"]
    received: list[str] = []
    last: list[str] = []
    with TestClient(create_app(workflow, poll_interval=0.01)) as http:

        def listen() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            if last:
                headers["Last-Event-ID"] = last[-1]
            response = http.get("/events", params={"follow": "false"}, headers=headers)
            assert response.status_code == 200, response.text
            events = sse_events(response.text)
            received.extend(str(event["data"]["id"]) for event in events)  # type: ignore[index]
            last.extend(str(event["id"]) for event in events)

        listen()
        interleave(backend, listen)
        listen()
    workflow.close()
    assert sorted(received) == sorted([A_EVENT, B_EVENT])


def test_kmbase_follow_gets_the_event_that_committed_late(backend: Backend) -> None:
    if backend.url is None:
        pytest.skip("the command line opens a store by URL")
    followed: list[str] = []

    def follow() -> None:
        result = runner.invoke(app, ["follow", "portal", "--db", str(backend.url), "--json"])
        assert result.exit_code == 0, result.output
        followed.extend(json.loads(line)["id"] for line in result.output.splitlines() if line)

    interleave(backend, follow)
    follow()
    assert sorted(followed) == sorted([A_EVENT, B_EVENT])


@pytest.mark.parametrize("broker", BROKERS)
def test_kmbase_relay_sends_a_batch_read_out_of_position_order(
    backend: Backend, broker: str
) -> None:
    """Both events in one batch, B's (n+2) read before A's (n+1): the relay command sends
    both and exits 0, and again 0 when run once more (it used to stop with exit 6 on each
    restart, behind its own Redis stream id)."""
    if backend.url is None:
        pytest.skip("the command line opens a store by URL")
    interleave(backend, lambda: None)
    with contextlib.contextmanager(target)(broker) as place:
        command = ["relay", "--to", place.url, "--db", str(backend.url), "--once"]
        command += ["--consumer", broker, *place.cli_options()]
        for _ in range(2):
            result = runner.invoke(app, command)
            assert result.exit_code == 0, result.output
        assert sorted(message.message_id for message in place.drain()) == [A_EVENT, B_EVENT]
