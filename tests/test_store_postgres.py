"""The PostgreSQL store passes the store contract against a real server."""

from __future__ import annotations

import psycopg
import pytest

from kmbase_workflow import SchemaVersionError, open_store
from kmbase_workflow.stores import CaseStore
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.testing import StoreContract, sample_case, sample_change
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name


class TestPostgresStore(StoreContract):
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
