"""The PostgreSQL store passes the store contract against a real server."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import psycopg
import pytest

from kmbase_workflow import Actor, FixedClock, Role, SchemaVersionError, Workflow, open_store
from kmbase_workflow.case import State
from kmbase_workflow.errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    StoreError,
    StoreUnavailableError,
)
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.stores import CaseQuery, CaseStore, Change
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.testing import StoreContract, WorkQueueContract, sample_case, sample_change
from kmbase_workflow.testing.capabilities import DeliveryContract, RawRowContract, TokenContract
from postgres_server import URL, require_server, schema  # noqa: F401 - the fixture is used by name


class TestPostgresStore(
    StoreContract, WorkQueueContract, TokenContract, RawRowContract, DeliveryContract
):
    @pytest.fixture(autouse=True)
    def _schema(self, schema: str) -> None:  # noqa: F811
        self.schema = schema

    def make_store(self) -> CaseStore:
        return PostgresStore(URL, schema=self.schema)


def test_history_is_append_only_in_the_database(schema: str) -> None:  # noqa: F811
    store = PostgresStore(URL, schema=schema)
    store.commit(sample_change(sample_case("case-1"), None))
    with psycopg.connect(URL, autocommit=True) as raw:
        raw.execute(f"SET search_path TO {schema}")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            raw.execute("UPDATE history SET action = 'x'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            raw.execute("DELETE FROM history")
    store.close()


def test_the_store_s_connections_compile_no_query_but_a_host_s_keep_their_setting(
    schema: str,  # noqa: F811
) -> None:
    # Keyed statements never pay back JIT; after a bulk load (no statistics yet) it cost each
    # look-up 10-80 ms (issue 16). A host's connection, lent with using(), is left alone.
    with PostgresStore(URL, schema=schema) as store:
        with store._connection() as connection:
            assert connection.execute("SHOW jit").fetchone() == ("off",)
        with psycopg.connect(URL, autocommit=True) as host:
            host.execute("SET jit = on")
            with store.using(host), store._connection() as lent:
                assert lent.execute("SHOW jit").fetchone() == ("on",)


def test_a_selection_larger_than_a_page_comes_whole_and_in_declaration_order(
    schema: str,  # noqa: F811
) -> None:
    # find_states reads in one streamed statement, not page by page
    with PostgresStore(URL, schema=schema) as store:
        first = sample_case("first")
        store.commit_many(
            [
                sample_change(attrs.evolve(first, id=f"c{i:04d}", base_id=f"b{i}"), None)
                for i in range(1200)
            ]
        )
        found = list(store.find_states(CaseQuery(round_year=first.round_year)))
    assert [case_id for case_id, _ in found] == [f"c{i:04d}" for i in range(1200)]
    assert {state for _, state in found} == {first.state}


def test_a_newer_schema_is_refused(schema: str) -> None:  # noqa: F811
    PostgresStore(URL, schema=schema).close()
    with psycopg.connect(URL, autocommit=True) as raw:
        raw.execute(f"INSERT INTO {schema}.schema_migrations (name) VALUES ('m999_future')")
    with pytest.raises(SchemaVersionError):
        PostgresStore(URL, schema=schema)


def test_stores_are_chosen_by_url(schema: str) -> None:  # noqa: F811
    store = open_store(f"{URL}?schema={schema}")
    assert isinstance(store, PostgresStore)
    assert store.schema == schema
    assert store.schema_version == MIGRATION_NAMES
    store.close()


def test_the_password_never_reaches_a_message() -> None:
    from kmbase_workflow import StoreError

    with pytest.raises(StoreError) as info:
        PostgresStore("postgresql://someone:s3cret@127.0.0.1:1/none", connect_timeout=1)
    assert "s3cret" not in info.value.describe("en")
    assert "***" in info.value.describe("en")


# -- driver errors never leave the store ---------------------------------------------------------


def test_an_unreachable_server_is_a_retryable_unavailable_error() -> None:
    with pytest.raises(StoreUnavailableError) as info:
        PostgresStore("postgresql://postgres@127.0.0.1:1/none", connect_timeout=1)
    assert info.value.retryable
    assert info.value.exit_code == 5
    assert "PostgreSQL" in info.value.describe("zh")


def test_a_lost_connection_is_unavailable_and_a_retry_reconnects(
    schema: str,  # noqa: F811
) -> None:
    store = PostgresStore(URL + "?application_name=kmbase-lost", schema=schema)
    store.commit(sample_change(sample_case("case-1"), None))
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'kmbase-lost'"
        )
    with pytest.raises(StoreUnavailableError) as info:
        store.get("case-1")
    assert info.value.retryable
    # Retrying helps: each lost connection is discarded, and the pool opens new ones.
    for _ in range(store.max_connections + 1):
        try:
            assert store.get("case-1").version == 1
            break
        except StoreUnavailableError:
            continue
    else:
        pytest.fail("retrying never reached the server again")
    store.close()


def test_a_closed_store_says_so() -> None:
    require_server()
    store = PostgresStore(URL, schema="kmbase_closed_probe")
    store.close()
    store.close()
    with pytest.raises(StoreError):
        store.get("case-1")
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute("DROP SCHEMA kmbase_closed_probe CASCADE")


# -- lock order: overlapping bulk commits ----------------------------------------------------------


def _second_step(first: Change) -> Change:
    case = attrs.evolve(first.case, version=2, state=State.DISTRICT_RECOMMENDED)
    return sample_change(case, first.history)


def _blocked(admin: psycopg.Connection[Any], application: str) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.application_name = %s",
        (application,),
    ).fetchone()
    return bool(row and row[0])


def test_overlapping_multi_case_commits_take_locks_in_one_order(schema: str) -> None:  # noqa: F811
    setup = PostgresStore(URL, schema=schema)
    first = {case_id: sample_change(sample_case(case_id), None) for case_id in ("c1", "c2")}
    setup.commit_many(list(first.values()))
    one = PostgresStore(URL + "?application_name=kmbase-one", schema=schema)
    two = PostgresStore(URL + "?application_name=kmbase-two", schema=schema)
    one_holds_a_row, two_wrote_a_row = threading.Event(), threading.Event()
    admin = psycopg.connect(URL, autocommit=True)

    def one_waits(point: str) -> None:
        # After its first case (row lock on c1, outbox lock), let the other run start and
        # get as far as it can: to its own first row (c2), or blocked on a lock.
        # No timing luck: each side waits for the other's sign as long as it takes (ten
        # minutes at most, then fails saying which sign never came).
        if point == "outbox" and not one_holds_a_row.is_set():
            one_holds_a_row.set()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and "two" not in outcomes:
                if two_wrote_a_row.is_set() or _blocked(admin, "kmbase-two"):
                    return
                time.sleep(0.01)
            raise AssertionError("the second run neither wrote nor waited")

    def two_writes(point: str) -> None:
        if point == "case":
            two_wrote_a_row.set()

    one.on_checkpoint = one_waits
    two.on_checkpoint = two_writes
    outcomes: dict[str, BaseException | None] = {}

    def run(name: str, store: PostgresStore, changes: list[Change]) -> None:
        if name == "two" and not one_holds_a_row.wait(600):
            outcomes[name] = AssertionError("the first run never held its rows")
            return
        try:
            store.commit_many(changes)
            outcomes[name] = None
        except BaseException as error:
            outcomes[name] = error

    threads = [
        threading.Thread(
            target=run, args=("one", one, [_second_step(first["c1"]), _second_step(first["c2"])])
        ),
        threading.Thread(
            target=run, args=("two", two, [_second_step(first["c2"]), _second_step(first["c1"])])
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(1200)
    admin.close()
    assert outcomes["one"] is None
    # The second run waited for the whole first transaction before it locked any row, then
    # found its versions stale: a conflict, never a deadlock.
    assert isinstance(outcomes["two"], ConcurrencyConflictError), outcomes["two"]
    assert not two_wrote_a_row.is_set()
    assert [setup.get(case_id).version for case_id in ("c1", "c2")] == [2, 2]
    for store in (setup, one, two):
        store.close()


def test_a_deadlock_is_retried_then_reported_as_a_conflict(schema: str) -> None:  # noqa: F811
    store = PostgresStore(URL, schema=schema)
    failures = [psycopg.errors.DeadlockDetected("deadlock detected")]

    def once(point: str) -> None:
        if point == "history" and failures:
            raise failures.pop()

    store.on_checkpoint = once
    change = sample_change(sample_case("case-1"), None)
    store.commit(change)  # the first attempt died in a deadlock, the second went through
    assert store.get("case-1") == change.case
    assert [record.event for record in store.read_outbox(0, 100)] == list(change.events)

    def always(point: str) -> None:
        if point == "history":
            raise psycopg.errors.SerializationFailure("could not serialize access")

    store.on_checkpoint = always
    with pytest.raises(ConcurrencyConflictError):
        store.commit(sample_change(sample_case("case-2"), None))
    store.on_checkpoint = None
    with pytest.raises(CaseNotFoundError):
        store.get("case-2")
    store.close()


# -- a host's own transaction ------------------------------------------------------------------------


def test_a_host_transaction_keeps_its_rows_and_the_case_together(schema: str) -> None:  # noqa: F811
    store = PostgresStore(URL, schema=schema)
    clock = FixedClock(dt.date(2025, 6, 20))
    workflow = Workflow(store, clock=clock)
    bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau)
    application = eligible_application()
    operator = Actor.for_operator(application.operator)
    host = psycopg.connect(URL)  # the portal's connection, not in autocommit
    host.execute(f"CREATE TABLE public.uploads_{schema} (case_id TEXT, file TEXT)")
    host.commit()

    def uploads() -> int:
        with psycopg.connect(URL) as other:
            row = other.execute(f"SELECT count(*) FROM public.uploads_{schema}").fetchone()
            return int(row[0]) if row else -1

    def portal_request_that_fails() -> None:
        with host.transaction():
            host.execute(f"INSERT INTO public.uploads_{schema} VALUES ('wuhua', '申请报告.pdf')")
            with store.using(host):
                workflow.declare(application, operator, case_id="wuhua")
                assert workflow.case("wuhua").version == 1  # the host's transaction sees it
            with pytest.raises(CaseNotFoundError):
                workflow.case("wuhua")  # nobody else does yet
            raise RuntimeError("the portal fails after both writes")

    with pytest.raises(RuntimeError, match="portal"):
        portal_request_that_fails()
    assert uploads() == 0
    with pytest.raises(CaseNotFoundError):
        workflow.case("wuhua")
    opened = store.read_outbox(0, 100)  # the round's opening alone: nothing of the portal's
    assert [record.event.type for record in opened] == ["round_opened"]

    with host.transaction():
        host.execute(f"INSERT INTO public.uploads_{schema} VALUES ('wuhua', '申请报告.pdf')")
        with store.using(host):
            workflow.declare(application, operator, case_id="wuhua")
        # the host's own unqualified names still resolve as before
        assert host.execute("SELECT current_schema()").fetchone() == ("public",)
    assert uploads() == 1
    assert workflow.case("wuhua").version == 1
    assert [r.event.type for r in store.read_outbox(0, 100)] == ["round_opened", "declared"]
    host.execute(f"DROP TABLE public.uploads_{schema}")
    host.commit()
    host.close()
    store.close()


def test_the_pool_is_sized_from_the_url(schema: str) -> None:  # noqa: F811
    store = open_store(f"{URL}?schema={schema}&max_connections=3")
    assert isinstance(store, PostgresStore)
    assert store.max_connections == 3
    store.close()


def test_servers_opening_a_new_schema_at_once_all_succeed(schema: str) -> None:  # noqa: F811
    servers = 8
    barrier = threading.Barrier(servers)

    def start(_: int) -> tuple[str, ...]:
        barrier.wait(30)
        with PostgresStore(URL, schema=schema, max_connections=1) as store:
            return store.schema_version

    with ThreadPoolExecutor(servers) as pool:
        versions = list(pool.map(start, range(servers)))
    assert versions == [MIGRATION_NAMES] * servers
