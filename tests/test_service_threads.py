"""How many requests the service works on at once (issue 24): the routes run in worker
threads, and a few threads serve a loaded service better than anyio's default of 40, which
contend for the GIL and for the store's connections (the pool holds 10 by default). The
service sets the number when it serves on its own; mounted in a host's application, the host
decides."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import threading
import types
import uuid
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kmbase_workflow import Workflow
from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.service import (
    SERVICE_THREADS,
    GatewayAuthenticator,
    create_app,
    store_threads,
)
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.stores.tokens import token_store
from postgres_server import URL, require_server


async def _threads() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_the_service_works_on_as_many_requests_at_once_as_its_store(tmp_path: Path) -> None:
    # one over a store of one connection for everything (memory): more only wait for its
    # lock and contend for the GIL; two over a SQLite file (one commits, the other reads
    # through its own connection); a pool's connections, at most SERVICE_THREADS
    file_store = Workflow(f"sqlite:///{tmp_path / 'cases.db'}")
    assert store_threads(file_store.store) == 2
    file_store.close()
    assert store_threads(Workflow("sqlite://:memory:").store) == 1
    with TestClient(create_app(Workflow("memory://"))) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 1
        assert http.get("/health").status_code == 200
    assert store_threads(Workflow("memory://").store) == 1
    assert store_threads(types.SimpleNamespace(max_connections=10)) == SERVICE_THREADS
    assert store_threads(types.SimpleNamespace(max_connections=3)) == 3
    assert store_threads(types.SimpleNamespace(max_connections=True)) == 1
    with TestClient(create_app(Workflow("memory://"), threads=3)) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 3


def test_none_keeps_the_server_s_number_and_a_mounted_service_leaves_the_host_s() -> None:
    with TestClient(create_app(Workflow("memory://"), threads=None)) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 40  # anyio's default
    host = FastAPI()
    host.mount("/kmbase", create_app(Workflow("memory://"), threads=2))
    with TestClient(host) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 40
        assert http.get("/kmbase/health").status_code == 200


def test_an_event_stream_waiting_on_the_outbox_takes_no_worker_of_the_api() -> None:
    """A stream's read of the outbox may wait (PostgreSQL waits up to ``outbox_wait`` for
    older open transactions): with the few workers of the API, waiting streams would hold
    them all and every other request would wait behind them."""
    workflow = Workflow("memory://")
    bureau = Actor(Role.CITY_BUREAU, "bureau")
    token = token_store(workflow.store).issue(bureau, now=dt.datetime.now(dt.UTC))[1]
    headers = {"Authorization": f"Bearer {token}"}
    reading, release = threading.Event(), threading.Event()
    read_outbox = workflow.store.read_outbox

    def waiting_read(after: int, limit: int) -> Any:
        reading.set()
        release.wait(10)
        return read_outbox(after, limit)

    workflow.store.read_outbox = waiting_read  # type: ignore[method-assign]
    app = create_app(workflow, threads=1)

    async def run() -> int:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1  # as the lifespan
        transport = httpx2.ASGITransport(app=app)
        async with (
            httpx2.AsyncClient(transport=transport, base_url="http://kmbase") as http,
            anyio.create_task_group() as streams,
        ):
            streams.start_soon(
                functools.partial(http.get, "/events", params={"follow": "false"}, headers=headers)
            )
            await anyio.to_thread.run_sync(reading.wait, 10, limiter=anyio.CapacityLimiter(1))
            try:
                with anyio.fail_after(10):  # the only worker, were the stream holding it
                    answered = await http.get("/cases", headers=headers)
            finally:
                release.set()
        return answered.status_code

    assert anyio.run(run) == 200


def test_the_service_sets_its_startup_heap_aside_from_the_collector_while_it_serves() -> None:
    # a full collection rescanned FastAPI's, pydantic's and the library's objects every few
    # declarations: it was most of the p99 under load (issue 24); undone when it stops
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(Workflow("memory://"))) as http:
        assert http.get("/health").status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_postgresql_store_takes_its_pools_connections_up_to_the_default() -> None:
    require_server()
    store = PostgresStore(URL, schema=f"t_{uuid.uuid4().hex[:12]}", max_connections=4)
    try:
        assert store_threads(store) == 4
    finally:
        with psycopg.connect(URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {store.schema} CASCADE")
        store.close()


class _Looking:
    """An authenticator that may wait (as a token store's database): saying nothing, it is
    taken to."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def __call__(self, headers: Any, client: str | None) -> Actor:
        self.threads.append(threading.current_thread().name)
        return Actor(Role.CITY_BUREAU, "bureau")


class _Signed(_Looking):
    """One that never waits (as the gateway's checks a signature)."""

    blocking = False


def test_an_authenticator_that_never_waits_is_called_on_the_event_loop() -> None:
    # a hop to a worker thread and back for a signature check was a cost of every request
    # (issue 24); one that may wait must never hold up the event loop
    for authenticate, in_worker in ((_Signed(), False), (_Looking(), True)):
        with TestClient(create_app(Workflow("memory://"), auth=authenticate)) as http:
            assert http.portal is not None
            loop_thread = http.portal.call(_thread_name)
            assert http.get("/me").status_code == 200
        assert authenticate.threads
        assert (authenticate.threads[0] != loop_thread) is in_worker
    assert GatewayAuthenticator(b"g" * 32).blocking is False
    # a function says it on itself (docs/explanation/service-auth.md)
    threads: list[str] = []

    def from_my_session(headers: Any, client: str | None) -> Actor:
        threads.append(threading.current_thread().name)
        return Actor(Role.CITY_BUREAU, "bureau")

    from_my_session.blocking = False  # type: ignore[attr-defined]
    with TestClient(create_app(Workflow("memory://"), auth=from_my_session)) as http:
        assert http.portal is not None
        assert http.get("/me").status_code == 200
        assert threads == [http.portal.call(_thread_name)]


async def _thread_name() -> str:
    return threading.current_thread().name


def test_a_bad_number_of_threads_is_refused_in_both_languages() -> None:
    for bad in (0, -2, True, 2.5, "four"):
        with pytest.raises(InvalidInputError) as refused:
            create_app(Workflow("memory://"), threads=bad)  # type: ignore[arg-type]
        assert "threads" in refused.value.describe("en")
        assert "threads" in refused.value.describe("zh")


def test_the_inbox_is_read_on_the_event_loop_only_over_a_store_that_never_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a SQLite file's reads never wait for its writer (WAL): the inbox saves the hop to a
    # worker thread and back; over the memory store (its lock) it keeps its worker thread
    import kmbase_workflow.service._queues as queues_routes

    threads: list[str] = []
    original = queues_routes.work_queue

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(queues_routes, "work_queue", spy)
    bureau = Actor(Role.CITY_BUREAU, "bureau")
    for url, on_loop in ((f"sqlite:///{tmp_path / 'cases.db'}", True), ("memory://", False)):
        threads.clear()
        with TestClient(create_app(Workflow(url), auth=_Signed())) as http:
            assert http.portal is not None
            loop_thread = http.portal.call(_thread_name)
            answer = http.get("/inbox")
            assert answer.status_code == 200, answer.text
            assert answer.json()["actor"] == {"role": "city_bureau", "id": bureau.id,
                                              "district": None}  # fmt: skip
        assert (threads == [loop_thread]) is on_loop, (url, threads, loop_thread)
