"""The PostgreSQL side of the audit: the privileges docs/explanation/audit.md grants the application's
role are enough to work and too few to alter the record; the audit reads JSONB and dates."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kmbase_workflow.audit import verify_store
from kmbase_workflow.demo import run_demo
from kmbase_workflow.stores._schema import MIGRATION_NAMES, POSTGRES_M001
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.testing import sample_case, sample_change
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

DOCS = Path(__file__).resolve().parents[1] / "docs" / "explanation" / "audit.md"


def _grants(schema_name: str, role: str) -> list[str]:
    block = re.search(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None, "docs/explanation/audit.md lost its GRANT block"
    text = block.group(1).replace("kmbase_app", role).replace("kmbase.", f"{schema_name}.")
    text = text.replace("SCHEMA kmbase ", f"SCHEMA {schema_name} ")
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def app_role(schema: str) -> Iterator[str]:  # noqa: F811
    PostgresStore(URL, schema=schema).close()  # the owner creates and migrates the schema
    role = f"kmbase_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN")
        for grant in _grants(schema, role):
            owner.execute(grant)  # type: ignore[arg-type]
    yield role
    with psycopg.connect(URL, autocommit=True) as owner:
        owner.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]
        owner.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]
        owner.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE history SET action = 'forged'",
        "DELETE FROM history",
        "TRUNCATE history",
        "UPDATE outbox SET type = 'forged'",
        "DELETE FROM outbox",
        "TRUNCATE outbox",
        "UPDATE applications SET data = '{}'",
        "DELETE FROM applications",
        "DROP TRIGGER history_append_only ON history",
        "ALTER TABLE history DISABLE TRIGGER ALL",
        "ALTER TABLE outbox DISABLE TRIGGER ALL",
    ],
)
def test_the_documented_grants_work_and_refuse_alterations(
    schema: str,  # noqa: F811
    app_role: str,
    statement: str,
) -> None:
    url = URL.replace("postgres@", f"{app_role}@")
    store = PostgresStore(url, schema=schema)
    store.commit(sample_change(sample_case("case-1"), None))
    assert store.get("case-1").id == "case-1"
    with store._connection() as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute(statement)  # type: ignore[arg-type]
    store.close()


def test_a_round_on_postgresql_verifies(schema: str) -> None:  # noqa: F811
    store = PostgresStore(URL, schema=schema)
    run_demo(store)
    report = verify_store(store)
    assert report.ok, [f.problem.en for f in report.findings]
    # the round's opening is one entry of its own chain and one event (RoundOpened)
    assert (report.cases, report.rounds, report.entries, report.events) == (5, 1, 58, 58)
    store.close()


def test_a_schema_at_m001_is_upgraded_and_then_refuses_truncate(schema: str) -> None:  # noqa: F811
    with psycopg.connect(URL, autocommit=True) as owner:
        owner.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
        owner.execute(f"SET search_path TO {schema}")  # type: ignore[arg-type]
        owner.execute(POSTGRES_M001)  # type: ignore[arg-type]
        owner.execute(
            "CREATE TABLE schema_migrations "
            "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        owner.execute("INSERT INTO schema_migrations (name) VALUES ('m001_initial')")
        owner.execute("TRUNCATE history")  # m001 let this through
    store = PostgresStore(URL, schema=schema)
    assert store.schema_version == MIGRATION_NAMES
    store.commit(sample_change(sample_case("case-1"), None))
    for table in ("history", "outbox", "applications"):
        with (
            store._connection() as connection,
            pytest.raises(psycopg.errors.RaiseException, match="append-only"),
        ):
            connection.execute(f"TRUNCATE {table}")  # type: ignore[arg-type]
    store.close()
