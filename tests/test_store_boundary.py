"""The store boundary: driver errors never leave a store, errors are built in errors.py,
and the stores hold under a web server's threads and several processes starting at once."""

from __future__ import annotations

import ast
import datetime as dt
import multiprocessing
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kmbase_workflow
from durability_workers import open_many_times
from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.case import State
from kmbase_workflow.cli import app
from kmbase_workflow.errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.stores import open_store
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing import sample_case, sample_change
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

runner = CliRunner()
SOURCE = Path(kmbase_workflow.__file__).parent

# -- errors live in errors.py -----------------------------------------------------------------


def test_error_builders_live_in_errors_py() -> None:
    builders = {"conflict", "key_taken", "not_found"}
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("memory"):
                imported = {alias.name for alias in node.names}
                assert not imported & builders, f"{path.name} imports error builders from memory"
        for node in tree.body:  # module-level builders outside errors.py
            if isinstance(node, ast.FunctionDef):
                assert node.name not in builders, f"{path.name} builds errors: {node.name}"


def test_the_builders_say_what_happened_in_both_languages() -> None:
    stale = ConcurrencyConflictError.stale_version("case-1", 2, 3)
    assert "version 3" in stale.describe("en")
    assert "版本 3" in stale.describe("zh")
    taken = ConcurrencyConflictError.key_taken("run-1")
    assert "run-1" in taken.describe("en")
    assert "幂等键" in taken.describe("zh")
    missing = CaseNotFoundError.no_case("case-9")
    assert "case-9" in missing.describe("en")
    assert "案件" in missing.describe("zh")
    assert not stale.retryable
    assert not missing.retryable


# -- driver errors are translated at the boundary ------------------------------------------------


def test_a_locked_sqlite_file_is_a_retryable_busy_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    store = SQLiteStore(path, timeout=0.05)
    with pytest.raises(StoreBusyError) as info:
        store.commit(sample_change(sample_case("case-1"), None))
    assert info.value.retryable
    assert info.value.exit_code == 5
    assert "锁" in info.value.describe("zh")
    assert "locked" in info.value.describe("en")
    holder.execute("ROLLBACK")
    store.commit(sample_change(sample_case("case-1"), None))  # the same call, later, succeeds
    assert store.get("case-1").version == 1
    store.close()
    holder.close()


def test_the_busy_timeout_can_be_set_in_the_url(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/cases.db?timeout=0.25")
    assert isinstance(store, SQLiteStore)
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 250
    store.close()


def test_a_file_that_is_not_a_database_is_a_store_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the tables you are looking for" * 100)
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert not info.value.retryable
    result = runner.invoke(app, ["db", "init", "--db", f"sqlite:///{path}", "--lang", "en"])
    assert result.exit_code == 6, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_a_folder_that_cannot_hold_a_database_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError) as info:
        SQLiteStore(tmp_path / "no" / "such" / "folder" / "cases.db")
    assert info.value.retryable


def test_an_unreachable_database_has_its_own_exit_code() -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=1"
    result = runner.invoke(app, ["db", "init", "--db", url, "--lang", "en"])
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output


# -- concurrent first opens ------------------------------------------------------------------------

PROCESSES = 8
ROUNDS = 20


def test_many_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    with context.Manager() as manager:
        failures = manager.list()
        processes = [
            context.Process(target=open_many_times, args=(str(tmp_path), ROUNDS, barrier, failures))
            for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(120)
        assert [process.exitcode for process in processes] == [0] * PROCESSES
        assert list(failures) == []
    for index in range(ROUNDS):
        store = SQLiteStore(tmp_path / f"new-{index}.db")
        assert store.schema_version == MIGRATION_NAMES
        store.close()


# -- one Workflow shared by the threads of a web server ----------------------------------------

THREADS = 40


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shared.db"
    return f"{URL}?schema={request.getfixturevalue('schema')}"


def test_one_workflow_serves_forty_threads_at_once(shared_url: str) -> None:
    bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
    application = eligible_application()
    operator = Actor.for_operator(application.operator)
    workflow = Workflow(open_store(shared_url), clock=FixedClock(dt.date(2025, 6, 20)))
    with workflow.store:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau)

        def request(index: int) -> tuple[str, int]:
            case_id = f"case-{index:02d}"
            workflow.declare(application, operator, case_id=case_id, base_id=f"base-{index}")
            outcome = workflow.withdraw(case_id, operator, "撤回 withdrawn")
            return outcome.case.state.value, outcome.case.version

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(request, range(THREADS)))
        assert results == [(State.WITHDRAWN.value, 2)] * THREADS
        for index in range(THREADS):
            assert workflow.verify_chain(f"case-{index:02d}").ok
        events = workflow.store.read_outbox(0, 10 * THREADS)
        assert events[0].event.type == "round_opened"  # opened before the threads came
        assert len(events) == 1 + 2 * THREADS
        assert len({record.event.id for record in events}) == 1 + 2 * THREADS
