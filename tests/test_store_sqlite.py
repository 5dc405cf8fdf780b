"""The SQLite store passes the store contract, and keeps what only a file can promise."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from kmbase_workflow import SchemaVersionError, open_store
from kmbase_workflow.stores import CaseStore
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing import StoreContract, WorkQueueContract, sample_case, sample_change
from kmbase_workflow.testing.capabilities import DeliveryContract, RawRowContract, TokenContract


class TestSQLiteStore(
    StoreContract, WorkQueueContract, TokenContract, RawRowContract, DeliveryContract
):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    def make_store(self) -> CaseStore:
        return SQLiteStore(self.folder / "cases.db")


def test_history_is_append_only_in_the_database(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    store.commit(sample_change(sample_case("case-1"), None))
    raw = sqlite3.connect(tmp_path / "cases.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE history SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM history")


def test_wal_mode_and_full_sync(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    assert store.db.journal_mode == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_reopening_keeps_everything_and_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    first = SQLiteStore(path)
    change = sample_change(sample_case("case-1"), None)
    first.commit(change)
    first.close()
    again = SQLiteStore(path)
    assert again.get("case-1") == change.case
    assert again.schema_version == MIGRATION_NAMES


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    SQLiteStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('kmbase_workflow', 'm999_future', '2030-01-01')"
    )
    raw.commit()
    with pytest.raises(SchemaVersionError) as info:
        SQLiteStore(path)
    assert "m999_future" in info.value.describe("en")
    assert "升级" in info.value.describe("zh")


def test_stores_are_chosen_by_url(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/by-url.db")
    assert isinstance(store, SQLiteStore)
    assert (tmp_path / "by-url.db").exists()


def test_a_read_does_not_wait_for_another_threads_commit(tmp_path: Path) -> None:
    """Issue 24: while one thread's write waits (here at its commit, held open), another
    thread reads the committed rows through a connection of its own (WAL) instead of waiting
    for the writer's lock: the service works on a second request while a commit waits for the
    disk."""
    store = SQLiteStore(tmp_path / "cases.db")
    store.commit(sample_change(sample_case("case-1"), None))
    holding, release = threading.Event(), threading.Event()

    def seam(point: str) -> None:
        if point == "before_commit" and threading.current_thread().name == "writer":
            holding.set()
            release.wait(60)

    store.on_checkpoint = seam
    writer = threading.Thread(
        target=store.commit, args=(sample_change(sample_case("case-2"), None),), name="writer"
    )
    writer.start()
    assert holding.wait(60)
    read: list[object] = []
    reader = threading.Thread(target=lambda: read.append(store.get("case-1")))
    reader.start()
    reader.join(10)
    waited = reader.is_alive()
    release.set()
    writer.join(60)
    reader.join(60)
    assert not waited, "the read waited for the other thread's commit"
    assert [case.id for case in read] == ["case-1"]  # type: ignore[attr-defined]
    assert store.get("case-2").id == "case-2"  # committed once released
    store.close()


def test_a_private_memory_database_reads_through_its_one_connection() -> None:
    store = SQLiteStore(":memory:")
    store.commit(sample_change(sample_case("case-1"), None))
    assert not store.reads_without_waiting
    assert store.get("case-1").id == "case-1"
    store.close()
