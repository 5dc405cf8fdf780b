"""Issue 24: a step on a case declared (or read) a moment ago in this process does not parse
and structure its ~30 KB application again (`kept_applications`), and nothing it keeps can
stand in for what the database holds."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from kmbase_workflow.audit import verify_store
from kmbase_workflow.case import KeptApplications, kept_applications
from kmbase_workflow.errors import CaseNotFoundError, ConcurrencyConflictError
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.records import Application
from kmbase_workflow.serialization import converter
from kmbase_workflow.stores._sql import Batch
from kmbase_workflow.stores.mysql import MySQLStore, connect
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing import sample_case, sample_change
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from strategies import application_records


@pytest.fixture(autouse=True)
def _nothing_kept() -> Iterator[None]:
    kept_applications.clear()
    yield
    kept_applications.clear()


def _declared_text(store: SQLiteStore, case_id: str) -> str:
    row = store._one("SELECT data FROM applications WHERE case_id = ?", (case_id,))
    assert isinstance(row[0], str)
    return row[0]


# -- kept by the process that declared ----------------------------------------------------------


def test_a_case_read_back_after_its_declaration_has_the_declared_application(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    change = sample_change(sample_case("case-1"), None)
    store.commit(change)
    # the very record: not parsed and structured again
    assert store.get("case-1").application is change.case.application
    store.close()


def test_mysql_keeps_the_declared_application_too(mysql_url: str) -> None:  # noqa: F811
    store = MySQLStore(mysql_url)
    try:
        change = sample_change(sample_case("case-1"), None)
        store.commit(change)
        assert store.get("case-1").application is change.case.application
    finally:
        store.close()


def test_a_declaration_inside_a_hosts_transaction_is_not_kept(mysql_url: str) -> None:  # noqa: F811
    """The host commits later, or rolls back: what it rolls back must never be kept."""
    store = MySQLStore(mysql_url)
    host = connect(mysql_url)
    try:
        host.begin()
        with store.using(host):
            store.commit(sample_change(sample_case("case-1"), None))
        host.rollback()
        assert len(kept_applications) == 0
        with pytest.raises(CaseNotFoundError):
            store.get("case-1")
    finally:
        host.close()
        store.close()


def test_a_read_structures_once_and_another_store_on_the_file_reuses_it(tmp_path: Path) -> None:
    writer = SQLiteStore(tmp_path / "cases.db")
    writer.commit(sample_change(sample_case("case-1"), None))
    writer.close()
    kept_applications.clear()  # as in another process: nothing kept yet
    first, second = SQLiteStore(tmp_path / "cases.db"), SQLiteStore(tmp_path / "cases.db")
    read = first.get("case-1").application
    assert second.get("case-1").application is read
    first.close()
    second.close()


def test_a_refused_declaration_keeps_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    store.commit(sample_change(sample_case("case-1"), None))
    kept = len(kept_applications)
    other = attrs.evolve(
        eligible_application(), base=attrs.evolve(eligible_application().base, name="另一基地")
    )
    with pytest.raises(ConcurrencyConflictError):  # the id is taken: nothing is written
        store.commit(sample_change(sample_case("case-1", application=other), None))
    assert len(kept_applications) == kept
    assert store.get("case-1").application != other
    store.close()


# -- never a stand-in for the database ---------------------------------------------------------


def test_an_application_changed_behind_the_store_is_read_as_changed_and_the_audit_fails(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cases.db"
    store = SQLiteStore(path)
    store.commit(sample_change(sample_case("case-1"), None))
    text = _declared_text(store, "case-1")
    assert kept_applications.get(text) is not None
    data = json.loads(text)
    data["base"]["name"] = "篡改后的基地"
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TRIGGER applications_no_update")
        raw.execute(
            "UPDATE applications SET data = ? WHERE case_id = ?",
            (json.dumps(data, ensure_ascii=False), "case-1"),
        )
    assert store.get("case-1").application.base.name == "篡改后的基地"
    report = verify_store(store)
    assert not report.ok
    store.close()


# -- the kept record is what its text reads as ------------------------------------------------


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(application=application_records())
def test_the_text_a_declaration_is_stored_as_structures_to_the_kept_record(
    application: Application,
) -> None:
    batch = Batch.encode([sample_change(sample_case("case-1", application=application), None)])
    [(text, kept)] = batch.declared
    assert kept is application
    assert converter.structure(json.loads(text), Application) == application


# -- the memory itself -------------------------------------------------------------------------


def test_the_least_recently_used_go_first_and_size_zero_keeps_none() -> None:
    kept = KeptApplications(2)
    first, second, third = (
        attrs.evolve(eligible_application(), base=attrs.evolve(eligible_application().base, name=n))
        for n in ("甲", "乙", "丙")
    )
    kept.keep("a", first)
    kept.keep("b", second)
    assert kept.get("a") is first  # "a" used: "b" is now the oldest
    kept.keep("c", third)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (first, None, third)
    assert len(kept) == 2
    kept.size = 0
    kept.clear()
    kept.keep("a", first)
    assert kept.get("a") is None
    assert len(kept) == 0


def test_threads_reading_one_case_each_get_the_declared_record(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    change = sample_change(sample_case("case-1"), None)
    store.commit(change)
    kept_applications.clear()  # every thread reads it from the file at once
    read: list[Application] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            read.append(store.get("case-1").application)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(read) == 8
    assert all(application == change.case.application for application in read)
    store.close()
