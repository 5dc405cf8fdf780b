"""Idempotency keys are bound to the whole command, and a retry racing its original gets the
original's answer (issue 22), on every store."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
import pytest

from kmbase_workflow import Actor, FixedClock, Role, Workflow, open_store
from kmbase_workflow.case import State
from kmbase_workflow.errors import IdempotencyKeyReusedError, InvalidInputError
from kmbase_workflow.service import SERVICE_THREADS
from kmbase_workflow.stores import CaseQuery, CommandResult
from kmbase_workflow.stores.mysql import connect as mysql_connect
from kmbase_workflow.workflow import Outcome
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    DISTRICT,
    GOOD_RECOMMENDATION,
    OPERATOR,
    other_base,
)
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL, schema, store_url  # noqa: F401 - fixtures used by name
from service_helpers import APPLICATION_JSON, Service, ok, service

RACERS = 12
T = TypeVar("T")


@pytest.fixture
def url(store_url: str) -> str:  # noqa: F811
    return store_url


@pytest.fixture
def workflow(url: str) -> Iterator[Workflow]:
    with Workflow(open_store(url), clock=FixedClock(dt.date(2025, 6, 20))) as workflow:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
        yield workflow


# -- a key is bound to the whole command ---------------------------------------------------------


def test_a_declaration_key_sent_with_another_application_is_refused(workflow: Workflow) -> None:
    first = workflow.declare(APPLICATION, OPERATOR, idempotency_key="d")
    other = other_base()
    with pytest.raises(IdempotencyKeyReusedError):
        workflow.declare(other, OPERATOR, idempotency_key="d")
    assert [case.id for case in workflow.cases()] == [first.case.id]
    # the same declaration again is the replay, whatever fresh id it would have had
    again = workflow.declare(APPLICATION, OPERATOR, idempotency_key="d")
    assert again.replayed
    assert again.case.id == first.case.id


def test_a_declaration_key_sent_for_another_base_or_case_id_is_refused(workflow: Workflow) -> None:
    workflow.declare(APPLICATION, OPERATOR, case_id="x", idempotency_key="d")
    with pytest.raises(IdempotencyKeyReusedError):
        workflow.declare(APPLICATION, OPERATOR, case_id="y", idempotency_key="d")
    with pytest.raises(IdempotencyKeyReusedError):
        workflow.declare(APPLICATION, OPERATOR, case_id="x", base_id="b", idempotency_key="d")
    assert [case.id for case in workflow.cases()] == ["x"]


def test_a_key_sent_by_another_actor_is_refused(workflow: Workflow) -> None:
    workflow.declare(APPLICATION, OPERATOR, case_id="x")
    workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="r")
    colleague = Actor(Role.DISTRICT_AUTHORITY, "五华区工信局-2", district=DISTRICT.district)
    with pytest.raises(IdempotencyKeyReusedError):
        workflow.recommend("x", colleague, GOOD_RECOMMENDATION, idempotency_key="r")
    assert len(workflow.history("x")) == 2


def test_a_key_that_is_not_text_is_refused_as_input(workflow: Workflow) -> None:
    key: Any = 123  # what a host passes on from a JSON body
    with pytest.raises(InvalidInputError) as refused:
        workflow.declare(APPLICATION, OPERATOR, case_id="x", idempotency_key=key)
    assert "idempotency_key" in refused.value.describe("en")
    assert "幂等键" in refused.value.describe("zh")
    assert list(workflow.cases()) == []
    workflow.declare(APPLICATION, OPERATOR, case_id="x")
    with pytest.raises(InvalidInputError):
        workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION, idempotency_key=key)
    with pytest.raises(InvalidInputError):
        workflow.fire("x", "withdraw", OPERATOR, reason="撤回", idempotency_key=key)
    assert workflow.case("x").state is State.DECLARED


def _forget_digests(url: str) -> None:
    """Make the stored keys look like rows written before keys had digests."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("UPDATE commands SET digest = NULL")
    elif url.startswith("mysql"):
        connection = mysql_connect(url)
        connection.cursor().execute("UPDATE commands SET digest = NULL")
        connection.close()
    else:
        schema_name = url.rsplit("schema=", 1)[1]
        with psycopg.connect(URL, autocommit=True) as connection:
            connection.execute(f"UPDATE {schema_name}.commands SET digest = NULL")  # type: ignore[arg-type]


def test_a_key_stored_before_digests_still_replays(url: str, workflow: Workflow) -> None:
    if url.startswith("memory"):
        pytest.skip("a memory store holds no rows of an earlier version")
    first = workflow.declare(APPLICATION, OPERATOR, case_id="x", idempotency_key="d")
    workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="r")
    _forget_digests(url)
    assert workflow.declare(APPLICATION, OPERATOR, case_id="x", idempotency_key="d").replayed
    assert workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="r").replayed
    with pytest.raises(IdempotencyKeyReusedError):  # an old row is compared as before
        workflow.withdraw("x", OPERATOR, "撤回", idempotency_key="r")
    assert workflow.case("x").version == first.case.version + 1


# -- retries racing their original -----------------------------------------------------------


def _race(workflow: Workflow, command: Callable[[], T], racers: int = RACERS) -> list[T]:
    """Run ``command`` on ``racers`` threads at once: every one has looked its key up (and
    found nothing) before any of them writes."""
    barrier = threading.Barrier(racers)
    looked_up = threading.local()
    store = workflow.store
    read = store.command_result

    def command_result(key: str) -> CommandResult | None:
        found = read(key)
        if not getattr(looked_up, "once", False):
            looked_up.once = True
            barrier.wait(timeout=60)
        return found

    store.command_result = command_result  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(racers) as pool:
            return list(pool.map(lambda _: command(), range(racers)))
    finally:
        del store.command_result  # type: ignore[method-assign]


def test_declarations_racing_with_one_key_all_get_the_first_answer(workflow: Workflow) -> None:
    outcomes = _race(workflow, lambda: workflow.declare(APPLICATION, OPERATOR, idempotency_key="d"))
    assert sum(not outcome.replayed for outcome in outcomes) == 1
    assert {outcome.case.id for outcome in outcomes} == {outcomes[0].case.id}
    assert {outcome.entry.hash for outcome in outcomes} == {outcomes[0].entry.hash}
    assert len(list(workflow.store.find(CaseQuery()))) == 1


def test_steps_racing_with_one_key_all_get_the_first_answer(workflow: Workflow) -> None:
    workflow.declare(APPLICATION, OPERATOR, case_id="x")
    outcomes = _race(
        workflow,
        lambda: workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="r"),
    )
    assert sum(not outcome.replayed for outcome in outcomes) == 1
    assert {outcome.entry.hash for outcome in outcomes} == {workflow.history("x")[1].hash}
    assert len(workflow.history("x")) == 2


def test_a_racing_key_of_another_command_is_still_refused(workflow: Workflow) -> None:
    workflow.declare(APPLICATION, OPERATOR, case_id="x")
    turns = itertools.count()

    def command() -> Outcome:
        if next(turns) % 2:
            return workflow.withdraw("x", OPERATOR, "撤回", idempotency_key="k")
        return workflow.recommend("x", DISTRICT, GOOD_RECOMMENDATION, idempotency_key="k")

    outcomes: list[Outcome | Exception] = []

    def attempt() -> Outcome:
        try:
            outcome = command()
        except Exception as error:
            outcomes.append(error)
            raise
        outcomes.append(outcome)
        return outcome

    with pytest.raises(Exception):  # noqa: B017, PT011 - some of them are refused
        _race(workflow, attempt)
    written = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(workflow.history("x")) == 2
    assert refused
    assert all(isinstance(error, IdempotencyKeyReusedError) for error in refused)
    winner = workflow.history("x")[1].action
    assert all(outcome.entry.action == winner for outcome in written)


@pytest.fixture
def svc(url: str) -> Iterator[Service]:
    yield from service(url)


@pytest.fixture
def racing_svc(url: str) -> Iterator[Service]:
    # several requests at once, whatever the store (over SQLite the service works on one by
    # default: two processes serving one file race all the same)
    yield from service(url, threads=SERVICE_THREADS)


def test_http_retries_racing_their_original_get_its_answer(racing_svc: Service) -> None:
    svc = racing_svc
    # before: 409 (TransitionRefusedError or a conflict) for a command that succeeded
    bureau = svc.as_("city_bureau")
    year = {"year": 2025, "opens_on": "2025-06-01", "closes_on": "2025-07-31"}
    ok(bureau.open_round(json=year), 201)
    key = {"Idempotency-Key": "declare-1"}
    # as many as the service works on at once (more would queue behind the barrier)
    racers = SERVICE_THREADS
    responses = _race(
        svc.workflow,
        lambda: svc.client.declare(content=APPLICATION_JSON, headers=key),
        racers,
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (racers - 1) + [201]
    bodies = [response.json() for response in responses]
    assert len({body["case"]["id"] for body in bodies}) == 1
    assert sum(body["replayed"] for body in bodies) == racers - 1
    # the key sent with another application is still a conflict
    other = APPLICATION_JSON.replace(APPLICATION.base.name, "盘龙小微企业创业园")
    refused = svc.client.declare(content=other, headers=key)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "IdempotencyKeyReusedError"
