"""Durable consumers, webhooks and the worker, on SQLite and on real PostgreSQL and MariaDB
servers."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durability_workers import next_change
from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow._i18n import Text
from kmbase_workflow.delivery import (
    Backoff,
    Consumer,
    Delivery,
    DeliveryQueue,
    Metrics,
    Waiter,
    Webhook,
    WebhookError,
    Worker,
    message,
    sign,
    verify,
)
from kmbase_workflow.delivery.webhooks import WebhookClient
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.stores import CaseStore, MemoryStore, OutboxRecord, open_store
from kmbase_workflow.testing import sample_case, sample_change
from lifecycle_helpers import NOTICE_DUE
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name
from webhook_receiver import SECRET, receiving
from worker_processes import publicized_cases


@pytest.fixture(params=["sqlite", "postgres", pytest.param("mysql", marks=pytest.mark.mysql)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'delivery.db'}"
    if request.param == "mysql":
        return str(request.getfixturevalue("mysql_url"))
    return f"{URL}?schema={request.getfixturevalue('schema')}"


def _write(store: CaseStore, cases: int, steps: int) -> list[str]:
    """``cases`` new cases, each taken ``steps`` more steps; returns the event ids in order
    (from the changes: on a busy PostgreSQL server, reading the outbox at once may still
    wait for other tests' transactions, and return less)."""
    ids = [f"case-{uuid.uuid4().hex[:8]}" for _ in range(cases)]
    changes = [sample_change(sample_case(case_id), None) for case_id in ids]
    for change in changes:
        store.commit(change)
    for step in range(steps):
        for case_id in ids:
            change = next_change(store, case_id, f"s{step}")  # type: ignore[assignment]
            store.commit(change)
            changes.append(change)
    return [event.id for change in changes for event in change.events]


def _drain(worker: Worker) -> None:
    """Run ``worker`` until its consumers have nothing queued or left to relay."""
    worker.run(
        handle_signals=False,
        until=lambda: all(c.lag == 0 for c in worker.queue.status().consumers),
    )


# -- durable consumers ------------------------------------------------------------------------


def test_a_consumer_gets_every_event_in_order_per_case_across_restarts(url: str) -> None:
    store = open_store(url)
    events = _write(store, cases=4, steps=3)
    seen: list[OutboxRecord] = []
    first = Worker(Workflow(store), consumers=[Consumer("archive", seen.append)], sweep=False)
    _drain(first)
    assert [r.event.id for r in seen] != []
    assert {r.event.id for r in seen} == set(events)
    # a restart (a new worker, a new store) delivers only what came since
    more = _write(store, cases=1, steps=1)
    second = Worker(
        Workflow(open_store(url)), consumers=[Consumer("archive", seen.append)], sweep=False
    )
    _drain(second)
    assert [r.event.id for r in seen].count(more[0]) == 1
    assert len(seen) == len(events) + len(more)
    by_case: dict[str, list[int]] = defaultdict(list)
    for record in seen:
        by_case[record.event.case_id].append(record.position)
    assert all(positions == sorted(positions) for positions in by_case.values())
    store.close()


def test_instances_of_one_consumer_share_the_work_never_holding_one_event_twice(
    url: str,
) -> None:
    store = open_store(url)
    events = _write(store, cases=6, steps=4)
    held: set[int] = set()
    overlaps: list[int] = []
    handled: list[OutboxRecord] = []
    lock = threading.Lock()

    def handle(record: OutboxRecord) -> None:
        with lock:
            if record.position in held:
                overlaps.append(record.position)
            held.add(record.position)
        time.sleep(0.001)  # let the other instances run meanwhile
        with lock:
            held.discard(record.position)
            handled.append(record)

    workers = [
        Worker(
            Workflow(open_store(url)),
            consumers=[Consumer("portal", handle)],
            sweep=False,
            batch=3,
            concurrency=2,
        )
        for _ in range(3)
    ]
    threads = [threading.Thread(target=_drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not overlaps
    assert sorted(r.event.id for r in handled) == sorted(events)  # each once: no one failed
    by_case: dict[str, list[int]] = defaultdict(list)
    for record in handled:
        by_case[record.event.case_id].append(record.position)
    assert all(positions == sorted(positions) for positions in by_case.values())
    store.close()


def test_a_lease_that_ends_gives_the_event_to_another_worker(url: str) -> None:
    # No timing luck: a lease that cannot end while the test runs proves that a leased
    # event is no one else's, and one that ends at once is waited out (a loaded machine
    # may take a while to see its end, never to pass it).
    store = open_store(url)
    _write(store, cases=1, steps=0)
    queue = DeliveryQueue(store)
    queue.relay("archive")
    queue.relay("portal")
    [held] = queue.claim("archive", "live-worker", lease=3600)
    assert queue.claim("archive", "other") == []  # leased
    assert held.attempts == 1
    [taken] = queue.claim("portal", "dead-worker", lease=0.001)
    again = _claim_within(queue, "portal", "other", seconds=60)  # the holder's lease ended
    assert again.record.position == taken.record.position
    assert again.attempts == 2
    queue.fail(taken, "dead-worker", "late", retry_in=None)  # a stale holder changes nothing
    assert queue.dead_letters() == []
    assert queue.claim("portal", "third") == []  # still the other worker's
    store.close()


def _claim_within(queue: DeliveryQueue, consumer: str, worker: str, *, seconds: float) -> Delivery:
    """The one event ``worker`` claims (for an hour) of ``consumer`` as soon as it is due;
    fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        claimed = queue.claim(consumer, worker, lease=3600)
        if claimed:
            [delivery] = claimed
            return delivery
        time.sleep(0.01)
    pytest.fail(f"no event of {consumer} came due in {seconds} s")


def test_a_failing_consumer_backs_off_then_dead_letters_then_is_redriven(url: str) -> None:
    store = open_store(url)
    events = _write(store, cases=2, steps=1)
    broken = {events[0]}
    seen: list[str] = []

    def handle(record: OutboxRecord) -> None:
        if record.event.id in broken:
            raise RuntimeError("portal down")
        seen.append(record.event.id)

    worker = Worker(
        Workflow(store),
        consumers=[Consumer("portal", handle)],
        backoff=Backoff(base=0.0, max_attempts=3),
        sweep=False,
    )
    _drain(worker)
    [letter] = worker.queue.dead_letters("portal")
    assert (letter.event_id, letter.attempts) == (events[0], 3)
    assert "portal down" in letter.last_error
    assert set(seen) == set(events) - broken  # the dead letter no longer holds its case back
    broken.clear()
    assert worker.queue.redrive("portal", [letter.position]) == 1
    _drain(worker)
    assert seen[-1] == events[0]
    assert worker.queue.dead_letters() == []
    store.close()


def test_a_failed_event_holds_back_its_case_until_it_is_handled(url: str) -> None:
    store = open_store(url)
    events = _write(store, cases=1, steps=2)
    queue = DeliveryQueue(store)
    queue.relay("portal")
    [first] = queue.claim("portal", "w")
    queue.fail(first, "w", "boom", retry_in=3600)
    assert queue.claim("portal", "w") == []  # the case's next event waits for the first
    assert queue.status().consumers[0].lag == len(events)
    store.close()


def test_a_consumer_with_types_gets_only_those(url: str) -> None:
    store = open_store(url)
    _write(store, cases=2, steps=1)
    seen: list[str] = []
    worker = Worker(
        Workflow(store),
        consumers=[
            Consumer("declared-only", lambda r: seen.append(r.event.type), frozenset({"declared"}))
        ],
        sweep=False,
    )
    _drain(worker)
    assert seen == ["declared", "declared"]
    store.close()


def test_a_memory_store_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="SQLite"):
        DeliveryQueue(MemoryStore())


@given(name=st.text(max_size=40))
@settings(max_examples=40, deadline=None)
def test_any_consumer_name_is_kept_or_refused_cleanly(name: str) -> None:
    with open_store("sqlite://:memory:") as store:
        queue = DeliveryQueue(store)
        try:
            queue.register(name)
        except InvalidInputError:
            return  # refused with a message (empty, NUL, surrogates)
        assert queue.consumers() == [name]
        assert queue.relay(name) == 0
        assert queue.claim(name, "w") == []
        assert queue.redrive(name) == 0


# -- webhooks ---------------------------------------------------------------------------------


def test_webhooks_receive_every_event_signed(url: str) -> None:
    store = open_store(url)
    events = _write(store, cases=3, steps=1)
    with receiving() as receiver:
        worker = Worker(
            Workflow(store), webhooks=[Webhook("portal", receiver.url, SECRET)], sweep=False
        )
        _drain(worker)
    assert receiver.ids() == set(events)
    assert receiver.bad_signatures == 0
    store.close()


def test_a_workers_deliveries_to_a_webhook_share_its_connection(tmp_path: Path) -> None:
    """One client per webhook for as long as the worker runs: a case's two events go one
    after the other over one kept-alive connection, which is closed when the worker stops."""
    store = open_store(f"sqlite:///{tmp_path / 'delivery.db'}")
    events = _write(store, cases=1, steps=1)
    with receiving(keep_alive=True) as receiver:
        worker = Worker(
            Workflow(store), webhooks=[Webhook("portal", receiver.url, SECRET)], sweep=False
        )
        _drain(worker)
        assert [received[0] for received in receiver.received] == events
        assert receiver.connections == 1
        assert receiver.wait_closed()  # stopped: the worker hung up
    store.close()


def test_a_receiver_that_fails_for_a_while_gets_everything_after_it_recovers(url: str) -> None:
    store = open_store(url)
    events = _write(store, cases=3, steps=1)
    with receiving() as receiver:
        receiver.failing = True
        worker = Worker(
            Workflow(store),
            webhooks=[Webhook("portal", receiver.url, SECRET)],
            backoff=Backoff(base=0.0, max_attempts=100),
            sweep=False,
        )
        passes = 0

        def recovered() -> bool:
            nonlocal passes
            passes += 1
            if passes == 5:
                receiver.failing = False
            return passes > 5 and worker.queue.status().consumers[0].lag == 0

        worker.run(handle_signals=False, until=recovered)
    assert receiver.refused > 0
    assert receiver.ids() == set(events)
    store.close()


def test_an_unreachable_endpoint_is_a_failure_with_its_reason() -> None:
    record = OutboxRecord(1, sample_change(sample_case("c1"), None).events[0])
    hook = Webhook("nowhere", "http://127.0.0.1:9/hooks", SECRET, timeout=2)
    with pytest.raises(Exception, match=r"127\.0\.0\.1:9"):
        hook(record)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_and_is_not_followed(status: int) -> None:
    record = OutboxRecord(1, sample_change(sample_case("c1"), None).events[0])
    with receiving() as receiver:
        receiver.redirect = status
        hook = Webhook("portal", receiver.url, SECRET)
        with pytest.raises(WebhookError, match=f"HTTP {status}"):
            hook(record)
    assert receiver.followed == 0  # no GET went to the Location


def test_a_redirected_delivery_is_retried_then_dead_lettered(url: str) -> None:
    store = open_store(url)
    [event] = _write(store, cases=1, steps=0)
    with receiving() as receiver:
        receiver.redirect = 302
        worker = Worker(
            Workflow(store),
            webhooks=[Webhook("portal", receiver.url, SECRET)],
            backoff=Backoff(base=0.0, max_attempts=2),
            sweep=False,
        )
        _drain(worker)
    [letter] = worker.queue.dead_letters("webhook:portal")
    assert (letter.event_id, letter.attempts) == (event, 2)
    assert "HTTP 302" in letter.last_error
    assert (receiver.followed, receiver.received) == (0, [])
    store.close()


def test_a_trickling_answer_is_cut_at_the_deadline_and_recorded_as_failed(url: str) -> None:
    store = open_store(url)
    [event] = _write(store, cases=1, steps=0)
    with receiving() as receiver:
        receiver.trickle = 0.05  # one byte every 50 ms: no single read ever waits 0.5 s
        worker = Worker(
            Workflow(store),
            webhooks=[Webhook("portal", receiver.url, SECRET, timeout=0.5)],
            backoff=Backoff(max_attempts=1),
            sweep=False,
        )
        _drain(worker)  # one attempt (max_attempts=1): delivered, or a dead letter
        [letter] = worker.queue.dead_letters("webhook:portal")
        assert receiver.cut.wait(60)  # the worker hung up before the answer was complete
    assert (letter.event_id, letter.attempts) == (event, 1)
    assert "0.5" in letter.last_error
    store.close()


@pytest.mark.parametrize("through", ["alone", "client"])
def test_a_name_server_that_never_answers_is_cut_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    """On its own and through a worker's client (whose closing does not wait for the
    look-up either)."""
    looking_up, answer = threading.Event(), threading.Event()

    def stuck(*_: object, **__: object) -> None:
        looking_up.set()
        answer.wait()
        raise socket.gaierror("no answer")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    record = OutboxRecord(1, sample_change(sample_case("c1"), None).events[0])
    errors: list[str] = []

    def deliver() -> None:
        hook = Webhook("portal", "http://receiver.example/hooks", SECRET, timeout=0.3)
        client = WebhookClient(hook) if through == "client" else None
        try:
            (client or hook)(record)
        except WebhookError as error:
            errors.append(str(error))
        finally:
            if client is not None:
                client.close()

    thread = threading.Thread(target=deliver)
    thread.start()
    try:
        assert looking_up.wait(60)
        thread.join(60)
        returned_while_stuck = not thread.is_alive() and not answer.is_set()
    finally:
        answer.set()
        thread.join()
    assert returned_while_stuck  # the look-up is left behind, the delivery is not held
    assert errors == ["no answer from http://receiver.example/hooks within its deadline of 0.3 s"]


def test_a_hanging_endpoint_delays_only_its_own_events(url: str) -> None:
    store = open_store(url)
    events = _write(store, cases=3, steps=1)
    with receiving() as hanging, receiving() as healthy:
        hanging.hold = threading.Event()
        worker = Worker(
            Workflow(store),
            webhooks=[
                Webhook("hanging", hanging.url, SECRET, timeout=120),
                Webhook("healthy", healthy.url, SECRET),
            ],
            lease=600,
            poll=0.05,
            sweep=False,
        )
        thread = threading.Thread(target=worker.run, kwargs={"handle_signals": False})
        thread.start()
        try:
            assert hanging.holding.acquire(timeout=60)  # a request hangs at the first endpoint
            # ... and meanwhile the other endpoint gets every event, the first still hanging
            delivered = healthy.wait_for(set(events), timeout=60)
            hanging_meanwhile = (hanging.hold.is_set(), list(hanging.received))
        finally:
            hanging.hold.set()
            worker.stop()
            thread.join()
    assert delivered
    assert hanging_meanwhile == (False, [])
    by_case: dict[str, list[int]] = defaultdict(list)
    for _id, case_id, position, _at in healthy.received:
        by_case[case_id].append(position)
    assert all(positions == sorted(positions) for positions in by_case.values())
    store.close()


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), float("inf")])
def test_a_webhook_timeout_must_be_a_positive_number_of_seconds(timeout: float) -> None:
    with pytest.raises(InvalidInputError):
        Webhook("portal", "http://127.0.0.1:9/hooks", SECRET, timeout=timeout)


def test_a_webhook_deadline_must_end_before_the_lease() -> None:
    hook = Webhook("portal", "http://127.0.0.1:9/hooks", SECRET, timeout=30)
    with open_store("sqlite://:memory:") as store, pytest.raises(InvalidInputError) as caught:
        Worker(Workflow(store), webhooks=[hook], lease=30)
    assert "lease" in caught.value.describe("en")


@pytest.mark.parametrize("spec", ["ftp://x", "", "portal"])
def test_a_webhook_url_must_be_http(spec: str) -> None:
    with pytest.raises(InvalidInputError):
        Webhook("portal", spec, SECRET)


@given(secret=st.text(min_size=1), body=st.binary(), timestamp=st.integers(0, 2**40))
def test_a_signature_verifies_and_any_change_breaks_it(
    secret: str, body: bytes, timestamp: int
) -> None:
    headers = {
        "X-Kmbase-Timestamp": str(timestamp),
        "X-Kmbase-Signature": sign(secret, timestamp, body),
    }
    assert verify(secret, headers, body, now=timestamp)
    assert not verify(secret, headers, body + b"x", now=timestamp)
    assert not verify(secret + "x", headers, body, now=timestamp)
    assert not verify(secret, headers, body, now=timestamp + 301)  # a replayed old request
    later = {**headers, "X-Kmbase-Timestamp": str(timestamp + 1)}
    assert not verify(secret, later, body, now=timestamp)


@given(headers=st.dictionaries(st.text(), st.text()), body=st.binary())
def test_verify_never_raises(headers: dict[str, str], body: bytes) -> None:
    assert verify(SECRET, headers, body) in (True, False)


def test_the_body_is_the_position_and_the_stored_event() -> None:
    event = sample_change(sample_case("c1"), None).events[0]
    data = json.loads(message(OutboxRecord(7, event)))
    assert data["position"] == 7
    assert data["event"]["id"] == event.id
    assert data["event"]["type"] == event.type


# -- back-off ---------------------------------------------------------------------------------


@given(
    base=st.floats(0, 100),
    cap=st.floats(0, 10_000),
    attempts=st.integers(1, 10_000),
    jitter=st.floats(0, 1),
)
def test_backoff_is_bounded_and_gives_up(
    base: float, cap: float, attempts: int, jitter: float
) -> None:
    backoff = Backoff(base=base, cap=cap, max_attempts=20, jitter=jitter)
    delay = backoff.delay(attempts)
    if attempts >= 20:
        assert delay is None
    else:
        assert delay is not None
        assert 0 <= delay <= min(cap, base * 2.0 ** (attempts - 1))


def test_backoff_without_jitter_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base=1, cap=10, max_attempts=8, jitter=0)
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 10, 10, 10, None]


@pytest.mark.parametrize("settings_", [{"base": -1}, {"max_attempts": 0}, {"jitter": 2}])
def test_bad_backoff_is_refused(settings_: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        Backoff(**settings_)  # type: ignore[arg-type]


# -- waking, the sweep, health ----------------------------------------------------------------


def test_a_postgres_waiter_wakes_at_a_commit(schema: str) -> None:  # noqa: F811
    store = open_store(f"{URL}?schema={schema}")
    waiter = Waiter(store)
    assert waiter.listening
    writer = threading.Timer(0.2, lambda: _write(store, cases=1, steps=0))
    writer.start()
    assert waiter.wait(60)  # woken by the commit, long before the timeout
    writer.join()
    waiter.close()
    store.close()


def test_a_sqlite_waiter_polls(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'w.db'}") as store:
        waiter = Waiter(store)
        assert not waiter.listening
        assert waiter.wait(0.01) is False


def test_one_worker_runs_a_days_sweep(url: str) -> None:
    publicized_cases(url, 2)
    clock = FixedClock(NOTICE_DUE + dt.timedelta(days=2))  # at midnight
    workers = [Worker(Workflow(open_store(url), clock=clock)) for _ in range(3)]
    assert not any(worker.run_sweep_if_due() for worker in workers)  # before --sweep-at
    clock.set(dt.datetime.combine(NOTICE_DUE + dt.timedelta(days=2), dt.time(9)))
    ran = [worker.run_sweep_if_due() for worker in workers]
    assert ran.count(True) == 1
    assert not any(worker.run_sweep_if_due() for worker in workers)  # done for the day
    status = workers[0].queue.status()
    assert status.last_sweep_day == (NOTICE_DUE + dt.timedelta(days=2)).isoformat()
    notices = [
        r
        for r in workers[0].workflow.store.read_outbox(0, 1000)
        if r.event.type == "notice_period_ended"
    ]
    assert len(notices) == 2
    for worker in workers:
        worker.workflow.close()


def test_metrics_are_served_in_prometheus_text(url: str) -> None:
    store = open_store(url)
    _write(store, cases=2, steps=0)
    metrics = Metrics()
    worker = Worker(
        Workflow(store),
        consumers=[Consumer("archive", lambda r: None)],
        metrics=metrics,
        sweep=False,
    )
    worker.queue.relay("archive")
    worker.report()
    port = metrics.serve(0)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    metrics.close()
    assert 'kmbase_consumer_lag{consumer="archive"} 2.0' in text
    assert "kmbase_outbox_head 2.0" in text
    _drain(worker)
    worker.report()
    assert 'kmbase_deliveries_total{consumer="archive",outcome="delivered"} 2.0' in metrics.text()
    assert 'kmbase_consumer_lag{consumer="archive"} 0.0' in metrics.text()
    store.close()


def test_consumer_names_must_differ() -> None:
    with open_store("sqlite://:memory:") as store, pytest.raises(InvalidInputError):
        Worker(Workflow(store), consumers=[Consumer("a", print), Consumer("a", print)])


def test_the_old_events_keep_their_shape_through_the_queue(url: str) -> None:
    store = open_store(url)
    _write(store, cases=1, steps=1)
    seen: list[OutboxRecord] = []
    _drain(Worker(Workflow(store), consumers=[Consumer("c", seen.append)], sweep=False))
    assert [attrs.asdict(r.event) for r in seen] == [
        attrs.asdict(r.event) for r in store.read_outbox(0, 100)
    ]
    store.close()


def test_a_failing_sweep_does_not_stop_the_deliveries(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    _write(store, cases=1, steps=0)
    seen: list[OutboxRecord] = []
    worker = Worker(Workflow(store), consumers=[Consumer("c", seen.append)], sweep_every=0.0)

    def broken(**_: object) -> None:
        raise InvalidInputError(Text(zh="日历缺失", en="calendar missing"))

    worker.workflow.sweep = broken  # type: ignore[method-assign, assignment]
    worker.run_once()
    assert len(seen) == 1
    store.close()
