"""The MariaDB/MySQL store passes the store contract against a real server."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import pymysql
import pytest

from kmbase_workflow.errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    InvalidInputError,
    SchemaVersionError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from kmbase_workflow.stores import (
    CaseQuery,
    CaseStore,
    Change,
    OutboxRecord,
    database_exists,
    open_store,
)
from kmbase_workflow.stores import mysql as mysql_module
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.mysql import MySQLStore, _translate, connect
from kmbase_workflow.testing import StoreContract, WorkQueueContract, sample_case, sample_change
from kmbase_workflow.testing.capabilities import DeliveryContract, RawRowContract, TokenContract
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.mysql


class TestMySQLStore(
    StoreContract, WorkQueueContract, TokenContract, RawRowContract, DeliveryContract
):
    @pytest.fixture(autouse=True)
    def _database(self, mysql_url: str) -> None:  # noqa: F811
        self.url = mysql_url

    def make_store(self) -> CaseStore:
        return MySQLStore(self.url)


# -- the outbox is read in commit order --------------------------------------------------------


def _declared(case_id: str) -> Change:
    return sample_change(sample_case(case_id), None)


def _ids(records: Sequence[OutboxRecord]) -> list[str]:
    return [record.event.id for record in records]


def test_a_writer_takes_its_position_only_once_an_earlier_one_has_committed(
    mysql_url: str,  # noqa: F811
) -> None:
    # "first" holds its events uncommitted; "second" must not take a position (and commit
    # it) meanwhile, or a reader could pass it and never see "first"'s lower one. No timing
    # luck: "first" holds until released (an hour at most), and the server is asked until
    # it says "second" waits, or "second" ended (its error is the failure).
    store = MySQLStore(mysql_url)
    holding, release = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}

    def seam(point: str) -> None:
        if point == "before_commit" and threading.current_thread().name == "first":
            holding.set()
            assert release.wait(3600)

    def commit(change: Change) -> None:
        try:
            store.commit(change)
        except BaseException as error:
            errors[threading.current_thread().name] = error
            raise

    store.on_checkpoint = seam
    first = threading.Thread(target=commit, args=(_declared("first"),), name="first")
    second = threading.Thread(target=commit, args=(_declared("second"),), name="second")
    first.start()
    assert holding.wait(600), errors
    second.start()
    try:
        _wait_for_a_lock_wait(mysql_url, second, errors)  # "second" waits for the outbox
        assert store.read_outbox(0, 100) == []  # nothing committed, nothing readable
    finally:
        release.set()
        first.join(600)
        second.join(600)
    assert errors == {}
    records = store.read_outbox(0, 100)
    assert _ids(records) == ["first-v1-e0", "second-v1-e0"]
    assert records[0].position < records[1].position
    store.close()


def _wait_for_a_lock_wait(
    url: str, writer: threading.Thread, errors: dict[str, BaseException]
) -> None:
    """Return once a transaction of the test's database waits for a lock (the server says
    so); fail if ``writer`` ended first (with the writers' errors, if any), or after ten
    minutes."""
    database = urlsplit(url).path.lstrip("/")
    deadline = time.monotonic() + 600
    with contextlib.closing(MySQLStore(url)) as probe, probe._connection() as connection:
        while time.monotonic() < deadline and writer.is_alive():
            row = connection.execute(
                "SELECT COUNT(*) FROM information_schema.innodb_trx t JOIN "
                "information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
                "WHERE t.trx_state = 'LOCK WAIT' AND p.db = %s",
                (database,),
            ).fetchone()
            if row[0]:
                return
            time.sleep(0.01)
        # what the server says of this database's connections, so a failure can be read
        seen = connection.execute(
            "SELECT p.id, p.command, p.state, t.trx_state, LEFT(p.info, 120) "
            "FROM information_schema.processlist p LEFT JOIN information_schema.innodb_trx t "
            "ON p.id = t.trx_mysql_thread_id WHERE p.db = %s",
            (database,),
        ).fetchall()
    ended = "" if writer.is_alive() else " (it ended without waiting)"
    pytest.fail(
        f"no writer ever waited for the outbox{ended}; the writers' errors: {errors!r}; "
        f"the database's connections: {seen}"
    )


# -- the database itself -----------------------------------------------------------------------


def test_history_outbox_and_applications_are_append_only_in_the_database(
    mysql_url: str,  # noqa: F811
) -> None:
    with MySQLStore(mysql_url) as store:
        store.commit(_declared("case-1"))
        raw = connect(mysql_url)
        for statement in (
            "UPDATE history SET action = 'x'",
            "DELETE FROM history",
            "REPLACE INTO history SELECT * FROM history",
            "UPDATE outbox SET type = 'x'",
            "DELETE FROM outbox",
            "UPDATE applications SET data = '{}'",
            "INSERT INTO applications (case_id, data) VALUES ('case-1', '{}') "
            "ON DUPLICATE KEY UPDATE data = '{}'",
        ):
            with pytest.raises(pymysql.MySQLError, match=r"append-only|written once"):
                raw.cursor().execute(statement)
        raw.close()
        assert store.history("case-1")[0].action


def test_keys_are_compared_byte_for_byte(mysql_url: str) -> None:  # noqa: F811
    # The server's default collation folds case, accents and trailing spaces; keys must not.
    with MySQLStore(mysql_url) as store:
        store.commit(_declared("Case-1"))
        store.commit(_declared("case-1"))
        store.commit(_declared("case-1 "))
        store.commit(sample_change(sample_case("café", base_id="基地-café"), None))
        assert store.get("case-1 ").id == "case-1 "
        assert store.get("Case-1").id == "Case-1"
        with pytest.raises(CaseNotFoundError):
            store.get("cafe")
        assert [c.id for c in store.find(CaseQuery(base_id="基地-café"))] == ["café"]
        assert list(store.find(CaseQuery(base_id="基地-CAFE"))) == []


def test_a_newer_schema_is_refused(mysql_url: str) -> None:  # noqa: F811
    with MySQLStore(mysql_url) as store:
        store._run("INSERT INTO schema_migrations (name) VALUES (?)", ("m999_future",))
    with pytest.raises(SchemaVersionError):
        MySQLStore(mysql_url)


def test_stores_are_chosen_by_url(mysql_url: str) -> None:  # noqa: F811
    for scheme in ("mysql", "mariadb"):
        url = mysql_url.replace("mysql://", f"{scheme}://", 1)
        with open_store(f"{url}?max_connections=3") as store:
            assert isinstance(store, MySQLStore)
            assert store.max_connections == 3
            assert store.schema_version == MIGRATION_NAMES
    with pytest.raises(InvalidInputError, match="unknown options"):
        open_store(f"{mysql_url}?schema=x")
    with pytest.raises(InvalidInputError, match="max_connections"):
        open_store(f"{mysql_url}?max_connections=none")
    with pytest.raises(InvalidInputError, match="database name"):
        open_store(mysql_url.rsplit("/", 1)[0] + "/bad-name")


def test_an_unreachable_server_is_a_retryable_unavailable_error_without_the_password() -> None:
    with pytest.raises(StoreUnavailableError) as info:
        MySQLStore("mysql://someone:s3cret@127.0.0.1:1/none", connect_timeout=1)
    assert info.value.retryable
    assert "s3cret" not in info.value.describe("en")
    assert "***" in info.value.describe("en")
    assert "MySQL" in info.value.describe("zh")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1213, ConcurrencyConflictError),  # deadlock
        (1205, StoreBusyError),  # lock wait timeout
        (2013, StoreUnavailableError),  # connection lost
        (1045, StoreUnavailableError),  # access denied
        (1146, StoreError),  # no such table: not retryable
    ],
)
def test_driver_errors_leave_the_store_as_library_errors(code: int, kind: type[StoreError]) -> None:
    error = _translate(pymysql.err.OperationalError(code, "detail"), "mysql://x")
    assert type(error) is kind
    assert error.retryable is (kind in (StoreBusyError, StoreUnavailableError))


def test_a_deadlock_is_retried_then_reported(mysql_url: str) -> None:  # noqa: F811
    with MySQLStore(mysql_url) as store:
        calls = []

        def deadlock(point: str) -> None:
            if point == "case":
                calls.append(point)
                raise pymysql.err.OperationalError(1213, "Deadlock found")

        store.on_checkpoint = deadlock
        with pytest.raises(ConcurrencyConflictError):
            store.commit(_declared("case-1"))
        assert len(calls) == 3
        store.on_checkpoint = None
        with pytest.raises(CaseNotFoundError):
            store.get("case-1")


def test_a_closed_store_says_so(mysql_url: str) -> None:  # noqa: F811
    store = MySQLStore(mysql_url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get("case-1")


def _kill_connections(url: str) -> None:
    """End every other connection to the test's database, as a server restart would."""
    admin = connect(url)
    cursor = admin.cursor()
    cursor.execute(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
        "AND ID <> CONNECTION_ID()"
    )
    for (number,) in cursor.fetchall():
        cursor.execute(f"KILL {int(number)}")
    admin.close()


def test_a_lost_connection_is_unavailable_and_a_retry_reconnects(
    mysql_url: str,  # noqa: F811
) -> None:
    with MySQLStore(mysql_url) as store:
        store.commit(_declared("case-1"))
        _kill_connections(mysql_url)
        with pytest.raises(StoreUnavailableError) as info:
            store.get("case-1")
        assert info.value.retryable
        assert store.get("case-1").version == 1  # the lost connection was dropped


def test_a_connection_that_rested_is_checked_before_it_is_lent(
    mysql_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mysql_module, "_IDLE_CHECK", 0.0)
    with MySQLStore(mysql_url) as store:
        store.commit(_declared("case-1"))
        _kill_connections(mysql_url)  # e.g. the server's wait_timeout ended them
        assert store.get("case-1").version == 1  # no error: a new connection was opened


@pytest.mark.parametrize("name", MIGRATION_NAMES)
def test_every_migration_has_a_mysql_script(name: str) -> None:
    # a migration added for the other dialects must be written for this one too
    assert mysql_module.MYSQL[name].strip()
    assert set(mysql_module.MYSQL) == set(MIGRATION_NAMES)


def test_a_missing_database_is_refused_when_it_must_exist(mysql_url: str) -> None:  # noqa: F811
    assert not database_exists(mysql_url)
    with pytest.raises(InvalidInputError, match="no database at"):
        open_store(mysql_url, create=False)
    assert not database_exists(mysql_url)  # nothing was created
    open_store(mysql_url).close()
    assert database_exists(mysql_url)
    open_store(mysql_url, create=False).close()
