"""Real processes against the same SQLite file, PostgreSQL database or MariaDB database.

Conflicting writers: every success is in the history exactly once, every failure is a
conflict, versions have no gaps. Crashes (SIGKILL at chosen points inside a save): the
database afterwards holds the last complete step, nothing of the interrupted one.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from durability_workers import crash_at, race
from kmbase_workflow.history import verify_history
from kmbase_workflow.stores import open_store
from kmbase_workflow.testing import sample_case, sample_change
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

WORKERS = 4
ATTEMPTS = 15


@pytest.fixture(params=["sqlite", "postgres", pytest.param("mysql", marks=pytest.mark.mysql)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/shared.db"
    elif request.param == "mysql":
        yield request.getfixturevalue("mysql_url")
    else:
        name = request.getfixturevalue("schema")
        yield f"{URL}?schema={name}"


def _declare(url: str) -> None:
    store = open_store(url)
    store.commit(sample_change(sample_case("case-1"), None))
    store.close()


def _check_consistent(url: str) -> list[str]:
    """The invariants after any interleaving or crash; returns the history's reasons."""
    store = open_store(url)
    case = store.get("case-1")
    history = store.history("case-1")
    report = verify_history(history)
    assert report.ok, report.problem
    assert [entry.sequence for entry in history] == list(range(1, case.version + 1))
    assert history[-1].to_state == case.state.value
    outbox_ids = [record.event.id for record in store.read_outbox(0, 10_000)]
    history_ids = [event_id for entry in history for event_id in entry.event_ids]
    assert outbox_ids == history_ids
    store.close()
    return [entry.reason for entry in history[1:]]


def test_conflicting_processes_never_lose_or_repeat_a_step(url: str) -> None:
    _declare(url)
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        results = pool.starmap(race, [(url, "case-1", w, ATTEMPTS) for w in range(WORKERS)])
    won = [reason for result in results for reason in result]
    recorded = _check_consistent(url)
    assert sorted(recorded) == sorted(won)
    assert len(set(recorded)) == len(recorded)
    assert len(won) >= ATTEMPTS  # each worker's first try after a win can win: progress was made


@pytest.mark.parametrize("point", ["case", "history", "outbox", "before_commit", "after_commit"])
def test_a_killed_writer_leaves_a_consistent_database(url: str, point: str) -> None:
    _declare(url)
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=crash_at, args=(url, "case-1", point))
    process.start()
    process.join(60)
    assert process.exitcode == -9  # SIGKILL
    recorded = _check_consistent(url)
    assert recorded == ([f"crash-{point}"] if point == "after_commit" else [])
