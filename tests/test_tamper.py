"""The shipped tamper suite on SQLite, PostgreSQL and MariaDB: every alteration is prevented by the
database or detected by the audit (plain, or against a signed checkpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmbase_workflow.stores import CaseStore
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing.tamper import (
    RECORDED,
    Database,
    MySQLDatabase,
    Outcome,
    PostgresDatabase,
    SQLiteDatabase,
    TamperReport,
    TamperSuite,
    run_tamper_suite,
)
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name


class TestSQLiteTampering(TamperSuite):
    dialect = "sqlite"

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    def make_store(self) -> CaseStore:
        return SQLiteStore(self.folder / "cases.db")

    def database(self, store: CaseStore) -> Database:
        assert isinstance(store, SQLiteStore)
        return SQLiteDatabase(store.path)


class TestPostgresTampering(TamperSuite):
    dialect = "postgresql"

    @pytest.fixture(autouse=True)
    def _schema(self, schema: str) -> None:  # noqa: F811
        self.schema = schema

    def make_store(self) -> CaseStore:
        from kmbase_workflow.stores.postgres import PostgresStore

        return PostgresStore(URL, schema=self.schema)

    def database(self, store: CaseStore) -> Database:
        return PostgresDatabase(URL, self.schema)


@pytest.mark.mysql
class TestMySQLTampering(TamperSuite):
    dialect = "mysql"

    @pytest.fixture(autouse=True)
    def _database(self, mysql_url: str) -> None:  # noqa: F811
        self.url = mysql_url

    def make_store(self) -> CaseStore:
        from kmbase_workflow.stores.mysql import MySQLStore

        return MySQLStore(self.url)

    def database(self, store: CaseStore) -> Database:
        return MySQLDatabase(self.url)


def test_the_suite_counts_its_outcomes(tmp_path: Path) -> None:
    """The tally the docs quote (reusing what the classes above ran, else running it)."""
    folder = iter(range(1000))
    report = run_tamper_suite(
        lambda: SQLiteStore(tmp_path / f"{next(folder)}.db"),
        lambda store: SQLiteDatabase(store.path),  # type: ignore[attr-defined]
        "sqlite",
    )
    counts = report.counts()
    print(report.summary())
    for result in report.results:
        print(f"  {result.tamper}: {result.outcome.value}")
    assert counts[Outcome.PASSED.value] == 0
    assert counts[Outcome.PREVENTED.value] > 0
    assert counts[Outcome.DETECTED.value] > 0
    assert counts[Outcome.DETECTED_BY_CHECKPOINT.value] > 0
    assert sum(counts.values()) == len(report.results)
    postgres = [result for (dialect, _), result in RECORDED.items() if dialect == "postgresql"]
    if postgres:
        print(TamperReport("postgresql", tuple(postgres)).summary())
    mysql = [result for (dialect, _), result in RECORDED.items() if dialect == "mysql"]
    if mysql:
        print(TamperReport("mysql", tuple(mysql)).summary())
