"""The chunk readers a bulk run uses (`get_many`, `last_hashes`, `command_results`,
`find_states`) answer as the one-at-a-time reads do, for any text a caller may pass, and an
old database gains the summary columns that let a case be read without its application."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import psycopg
import pytest
from cattrs.errors import ClassValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmbase_workflow.audit import verify_store
from kmbase_workflow.demo import run_demo
from kmbase_workflow.stores import CaseQuery, CaseStore, MemoryStore
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.postgres import PostgresStore
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing import sample_case, sample_change
from postgres_server import URL, require_server

DATA = Path(__file__).parent / "data"
KNOWN = ["case-1", "case-2", "案件-3"]


def _filled(store: CaseStore) -> CaseStore:
    for case_id in KNOWN:
        store.commit(sample_change(sample_case(case_id), None, key=f"key:{case_id}"))
    return store


@pytest.fixture(scope="module", params=["memory", "sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CaseStore]:
    if request.param == "memory":
        opened: CaseStore = MemoryStore()
    elif request.param == "sqlite":
        opened = SQLiteStore(tmp_path_factory.mktemp("batch") / "cases.db")
    else:
        require_server()
        opened = PostgresStore(URL, schema=f"t_{uuid.uuid4().hex[:12]}")
    yield _filled(opened)
    if isinstance(opened, PostgresStore):
        with psycopg.connect(URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {opened.schema} CASCADE")
    opened.close()


keys = st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=1100)), max_size=8)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=keys)
def test_chunk_readers_agree_with_single_reads(store: CaseStore, ids: list[str]) -> None:
    known = [case_id for case_id in ids if case_id in KNOWN]
    assert store.get_many(ids) == {case_id: store.get(case_id) for case_id in known}
    assert store.last_hashes(ids) == {case_id: store.last_hash(case_id) for case_id in known}
    wanted = [f"key:{case_id}" for case_id in ids] + ids
    assert store.command_results(wanted) == {
        key: result for key in wanted if (result := store.command_result(key)) is not None
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(district=st.text(max_size=50), base_id=st.none() | st.text(max_size=50))
def test_find_states_agrees_with_find(store: CaseStore, district: str, base_id: str | None) -> None:
    for query in (CaseQuery(district=district, base_id=base_id), CaseQuery(base_id=base_id)):
        assert list(store.find_states(query)) == [(c.id, c.state) for c in store.find(query)]


def test_an_m002_database_gains_its_summary_columns_and_still_verifies(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(DATA / "audit-format2-m002.db", path)
    store = SQLiteStore(path)
    assert store.schema_version == MIGRATION_NAMES
    rows = store.raw_rows("cases")
    assert rows
    assert all(row["base_name"] and row["operator_code"] and row["operator"] for row in rows)
    for row in rows:
        case = store.get(str(row["id"]))
        assert (case.base_name, case.operator.unified_social_credit_code) == (
            row["base_name"],
            row["operator_code"],
        )
        assert case.application.base.district == case.district
    assert verify_store(store).ok
    store.close()


def test_an_m002_postgresql_schema_gains_its_summary_columns_and_still_verifies() -> None:
    require_server()
    from kmbase_workflow.stores._schema import POSTGRES_M001, POSTGRES_M002

    new, old = (f"t_{uuid.uuid4().hex[:12]}" for _ in range(2))
    source = PostgresStore(URL, schema=new)
    try:
        run_demo(source)  # a round through the workflow: declarations, steps, filed changes
        expected = sorted(row["id"] for row in source.raw_rows("cases"))
        source.close()
        with psycopg.connect(URL, autocommit=True) as connection, connection.transaction():
            connection.execute(f"CREATE SCHEMA {old}")
            connection.execute(f"SET search_path TO {old}")
            connection.execute(POSTGRES_M001)
            connection.execute(POSTGRES_M002)
            connection.execute(
                "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            connection.execute(
                "INSERT INTO schema_migrations (name) VALUES ('m001_initial'), ('m002_append_only')"
            )
            columns = {
                "cases": "id, base_id, round_year, district, state, version, declared_on, "
                "notice_due, validity_due, data",
                "applications": "case_id, data",
                "history": "*",
                "outbox": "position, id, type, case_id, occurred_at, data",
                "commands": "key, case_id, version",
                "rounds": "*",
            }
            for table, listed in columns.items():
                connection.execute(f"INSERT INTO {old}.{table} SELECT {listed} FROM {new}.{table}")
        migrated = PostgresStore(URL, schema=old)
        assert migrated.schema_version == MIGRATION_NAMES
        rows = migrated.raw_rows("cases")
        assert [row["id"] for row in rows] == expected
        assert all(row["base_name"] and row["operator_code"] and row["operator"] for row in rows)
        assert verify_store(migrated).ok
        # the cases' events and the demonstration round's opening (round:2025)
        assert {record.event.case_id for record in migrated.read_outbox(0, 1000)} == {
            *expected,
            "round:2025",
        }
        migrated.close()
    finally:
        with psycopg.connect(URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {new} CASCADE")
            connection.execute(f"DROP SCHEMA IF EXISTS {old} CASCADE")


def test_a_stored_operator_reads_back_equal_and_a_malformed_one_is_not_trusted() -> None:
    from kmbase_workflow.case import DeferredApplication
    from kmbase_workflow.serialization import converter

    operator = sample_case("x").operator
    plain = converter.unstructure(operator)
    read = DeferredApplication(base_name="b", district="d", operator=json.dumps(plain), data={})
    assert read.operator == operator
    for bad in ({**plain, "registered_on": "someday"}, {**plain, "name": 7}, {"name": "x"}):
        with pytest.raises(ClassValidationError):
            _ = DeferredApplication(base_name="b", district="d", operator=bad, data={}).operator


def test_a_stored_case_gives_its_operators_code_without_reading_the_operator(
    store: CaseStore,
) -> None:
    # work items, reading rights and queries by operator compare the code: a stored case
    # answers it from its summary column (a bulk run reads no operator for it)
    from kmbase_workflow.case import ChangeFiling, ChangeKind, DeferredApplication

    for case in store.get_many(KNOWN).values():
        source = case._application
        if isinstance(source, DeferredApplication):
            assert case.operator_code == sample_case("x").operator.unified_social_credit_code
            assert source._operator is None  # not read for it
        assert case.operator_code == case.operator.unified_social_credit_code
    case = store.get(KNOWN[0])
    successor = attrs.evolve(case.operator, unified_social_credit_code="91530100MA6K7N2X4T")
    filing = ChangeFiling(
        "运营主体变更", case.declared_on, kind=ChangeKind.OPERATOR, operator=successor
    )
    changed = attrs.evolve(case, change_filings=(filing,))
    assert changed.operator_code == successor.unified_social_credit_code
    assert CaseQuery(operator_code=successor.unified_social_credit_code).matches(changed)
    assert not CaseQuery(operator_code=case.operator_code).matches(changed)
