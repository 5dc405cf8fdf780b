"""Two steps that commit in the opposite order of the outbox positions they took (issue 27):
step A takes position n+1 and commits after step B took n+2 and committed. Every consumer of
the outbox must still get A's event: the three broker bridges, a delivery consumer's cursor,
the service's server-sent events resumed with ``Last-Event-ID``, and ``kmbase follow``.

The interleaving is forced through the stores' checkpoint seam (``on_checkpoint``), on every
backend. On PostgreSQL, B takes its transaction id first (it pauses after writing its case),
then A writes its case and its event (n+1) and pauses before committing; B goes on, writes
its event (n+2) and commits; every consumer reads (and gets B); then A commits and every
consumer reads again. SQLite and the memory store let one writer in at a time, and MariaDB one
writer at a time into the outbox, so there B waits for A: the same steps, which cannot come
out of order there.

The same schedule proves that a checkpoint taken between B's commit and A's verifies once A
committed (``kmbase audit verify --checkpoint`` too), that a delivery consumer's lag counts
A's event, and that ``kmbase relay`` sends a batch read out of position order (the Redis
bridge refused it, exit 6, at every restart).
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
from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.actors import Actor
from kmbase_workflow.audit import Checkpoint, checkpoint, verify_store
from kmbase_workflow.bridges import open_sink, relay
from kmbase_workflow.cli import app
from kmbase_workflow.delivery import DeliveryQueue
from kmbase_workflow.service import create_app
from kmbase_workflow.stores import CaseStore, Change, DeliveryStore, open_store
from kmbase_workflow.stores.memory import MemoryStore
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.testing import sample_case, sample_change
from lifecycle_helpers import BUREAU, DECLARED_ON, ROUND_CLOSES, ROUND_OPENS, other_base
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL as POSTGRES_URL
from postgres_server import require_server
from service_helpers import issue_tokens, sse_events

runner = CliRunner()

BACKENDS = ("memory", "sqlite", "postgres", pytest.param("mysql", marks=pytest.mark.mysql))


@attrs.define
class Backend:
    """One store's data, opened as often as a test needs (each a connection of its own)."""

    name: str
    url: str | None
    """``None``: the memory store, which only one object holds."""
    make: Callable[[], CaseStore]
    opened: list[CaseStore] = attrs.field(factory=list)

    def open(self) -> CaseStore:
        """The store once more (closed when the test ends). On PostgreSQL its reads wait
        longer than the default for older transactions to end: the server's other clients
        (other tests) may hold one open a while, and an event is read only once they ended."""
        store = self.make()
        if isinstance(store, PostgresStore):
            store.outbox_wait = 60.0
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
    if request.param == "mysql":
        url = str(request.getfixturevalue("mysql_url"))
        open_store(url).close()
        mysql = Backend("mysql", url, lambda: open_store(url))
        yield mysql
        mysql.close()
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


Write = Callable[[CaseStore], object]
"""One step's write through a store (a thread of its own runs it)."""


class Writer:
    """A write run by a thread of its own, through a store with a seam."""

    def __init__(self, store: CaseStore, write: Write, pause: Pause) -> None:
        self.store, self.write, self.pause = store, write, pause
        self.store.on_checkpoint = pause  # type: ignore[attr-defined]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.write(self.store)
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


def interleave(
    backend: Backend,
    meanwhile: Callable[[], object],
    *,
    writes: bool = False,
    a: Write = lambda store: store.commit(A),
    b: Write = lambda store: store.commit(B),
) -> None:
    """A takes its outbox position before B and commits after B; ``meanwhile`` runs (the
    consumers read) after B committed, while A has not yet (where the backend allows: on
    SQLite a consumer that ``writes`` in a transaction of its own waits for A, as B does)."""
    if backend.name == "postgres":
        second = Writer(backend.open(), b, Pause("case")).start()
        second.reach()  # B holds its transaction id, not yet its position
        first = Writer(backend.open(), a, Pause("before_commit")).start()
        first.reach()  # A took position n+1 and has not committed
        second.finish()  # B takes n+2 and commits
        meanwhile()
        first.finish()
        return
    # SQLite's write lock and the memory store's lock let one writer in at a time; on MariaDB
    # B waits for the outbox A holds until it commits
    first = Writer(backend.open(), a, Pause("before_commit")).start()
    first.reach()
    if backend.name in ("sqlite", "mysql") and not writes:
        meanwhile()  # readers do not wait for the writer
    second = Writer(backend.open(), b, Pause("never")).start()  # waits for A's lock
    first.finish()
    second.finish()


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
    store = backend.open()
    if not isinstance(store, DeliveryStore):
        pytest.skip(
            f"the {backend.name} store keeps no delivery queue (it is no DeliveryStore: a "
            "queue must outlive the process, see DeliveryQueue)"
        )
    queue = DeliveryQueue(store)
    queue.register("portal")
    delivered: list[str] = []

    def deliver() -> None:
        while queue.relay("portal"):
            pass
        claimed = queue.claim("portal", "worker-1")
        delivered.extend(delivery.record.event.id for delivery in claimed)
        queue.complete(claimed)

    interleave(backend, deliver, writes=True)  # relaying moves the cursor in a transaction
    [status] = queue.status().consumers  # the lag counts A's event, read after B's
    assert status.lag == len(backend.open().read_outbox(status.position, 100)) > 0
    deliver()
    assert queue.status().consumers[0].lag == 0
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


# -- checkpoints ------------------------------------------------------------------------------

KEY = b"held by the auditor, never by the DBA"


def _declarations(backend: Backend) -> dict[str, Write]:
    """Two real declarations (A's and B's, of two bases) in the round opened here, so the
    audit has real chains to verify."""
    Workflow(backend.open(), clock=FixedClock(DECLARED_ON)).open_round(
        2025, ROUND_OPENS, ROUND_CLOSES, BUREAU
    )

    def declare(name: str, case_id: str) -> Write:
        def write(store: CaseStore) -> None:
            application = other_base(name)
            operator = Actor.for_operator(application.operator)
            Workflow(store, clock=FixedClock(DECLARED_ON)).declare(
                application, operator, case_id=case_id
            )

        return write

    return {"a": declare("甲小微企业创业园", "case-a"), "b": declare("乙小微企业创业园", "case-b")}


def test_a_checkpoint_taken_while_a_step_commits_verifies(backend: Backend) -> None:
    """Taken after B committed and before A did (A's event at the lower position): the
    database is untouched, so verifying against the checkpoint finds nothing, after A
    committed as before."""
    if backend.url is None:
        pytest.skip("a memory store's checkpoint waits for the write's lock")
    taken: list[Checkpoint] = []
    interleave(
        backend, lambda: taken.append(checkpoint(backend.open(), KEY)), **_declarations(backend)
    )
    [saved] = taken
    report = verify_store(backend.open(), Checkpoint.from_json(saved.to_json()), KEY)
    assert report.ok, [finding.problem.en for finding in report.findings]
    assert report.events == 3  # the round's, A's and B's


def test_kmbase_audit_verify_accepts_a_checkpoint_taken_while_a_step_commits(
    backend: Backend, tmp_path: Path
) -> None:
    if backend.url is None:
        pytest.skip("the command line opens a store by URL")
    key_file = tmp_path / "audit.key"
    key_file.write_bytes(KEY)
    saved = tmp_path / "checkpoint.json"
    common = ["--db", str(backend.url), "--key-file", str(key_file)]

    def take() -> None:
        result = runner.invoke(app, ["audit", "checkpoint", *common, "--output", str(saved)])
        assert result.exit_code == 0, result.output

    interleave(backend, take, **_declarations(backend))
    result = runner.invoke(app, ["audit", "verify", *common, "--checkpoint", str(saved)])
    assert result.exit_code == 0, result.output
