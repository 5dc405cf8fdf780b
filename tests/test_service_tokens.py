"""API tokens in each store (SQLite, PostgreSQL, memory), the ``kmbase token`` and
``kmbase serve`` commands' errors, and the gateway authenticator under fuzz."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.cli import app
from kmbase_workflow.errors import FieldValueError, InvalidInputError, StoreError
from kmbase_workflow.service import (
    GatewayAuthenticator,
    ServiceError,
    TokenAuthenticator,
    sign_identity,
)
from kmbase_workflow.stores import CaseStore, MemoryStore, open_store
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.stores.tokens import token_store
from kmbase_workflow.testing import sample_case, sample_change
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture

NOW = dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC)
runner = CliRunner()


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tokens.db'}"
    elif request.param == "mysql":
        url = request.getfixturevalue("mysql_url")
    else:
        url = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    opened = open_store(url)
    yield opened
    opened.close()


def test_a_token_stands_for_its_actor_until_revoked(store: CaseStore) -> None:
    tokens = token_store(store)
    actor = Actor(Role.DISTRICT_AUTHORITY, "wh-007", district="五华区", name="李四")
    token, secret = tokens.issue(actor, now=NOW)
    assert tokens.check(secret) == Actor(
        Role.DISTRICT_AUTHORITY, "wh-007", district="五华区", name="李四", via="http"
    )
    assert tokens.check(secret[:-1]) is None
    assert tokens.check(secret.replace(token.id, "000000000000")) is None
    assert tokens.check("") is None
    assert [t.id for t in tokens.list()] == [token.id]
    assert tokens.list()[0].created_at == NOW
    revoked = tokens.revoke(token.id, now=NOW + dt.timedelta(days=1))
    assert revoked.revoked_at == NOW + dt.timedelta(days=1)
    assert tokens.check(secret) is None
    # revoking again keeps the first time
    assert tokens.revoke(token.id, now=NOW + dt.timedelta(days=2)).revoked_at == revoked.revoked_at
    with pytest.raises(InvalidInputError, match="no token"):
        tokens.revoke("nope", now=NOW)


def test_the_database_keeps_only_the_secret_s_digest(tmp_path: Path) -> None:
    import sqlite3

    store = open_store(f"sqlite:///{tmp_path / 'tokens.db'}")
    _, secret = token_store(store).issue(Actor(Role.CITY_BUREAU, "u-1"), now=NOW)
    store.close()
    with sqlite3.connect(tmp_path / "tokens.db") as connection:
        rows = connection.execute("SELECT * FROM api_tokens").fetchall()
    dump = json.dumps(rows)
    plain = secret.removeprefix("kmb_").partition("_")[2]  # the secret may hold "_" itself
    assert plain not in dump
    assert hashlib.sha256(plain.encode()).hexdigest() in dump


def test_text_no_store_keeps_is_refused_before_writing(store: CaseStore) -> None:
    with pytest.raises(FieldValueError):
        token_store(store).issue(Actor(Role.EXPERT, "e\x00"), now=NOW)
    assert token_store(store).list() == []


SECOND_POLICY = Path(__file__).resolve().parent / "policies" / "second_jurisdiction.toml"


def test_a_district_no_policy_lists_is_refused_before_writing(store: CaseStore) -> None:
    """第四条: a token's district is one the policies list, as the service checks on each
    request; issuing one for another name would hand out a token that is refused at once."""
    from kmbase_workflow.policy import load_policy

    tokens = token_store(store)
    for name in ("五华 区", "火星区"):
        with pytest.raises(InvalidInputError) as refused:
            tokens.issue(Actor(Role.DISTRICT_AUTHORITY, "u-1", district=name), now=NOW)
        assert f"“{name}”不是 kunming-2022 所列县区" in refused.value.message.zh
        assert f'"{name}" is not a district of kunming-2022' in refused.value.message.en
    assert tokens.list() == []
    # a host's own policy lists its own districts
    second = (load_policy(path=SECOND_POLICY),)
    actor = Actor(Role.DISTRICT_AUTHORITY, "u-2", district="测试新区")
    with pytest.raises(InvalidInputError, match="测试新区"):
        tokens.issue(actor, now=NOW)
    token, _ = tokens.issue(actor, now=NOW, policies=second)
    assert token.actor.district == "测试新区"


def test_kmbase_token_issue_refuses_an_unknown_district_with_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    issue = ["token", "issue", "--actor-role", "district_authority", "--actor-id", "u", "--db", db]
    refused = runner.invoke(app, [*issue, "--actor-district", "火星区"])
    assert refused.exit_code == 2
    assert "“火星区”不是 kunming-2022 所列县区" in refused.stderr
    assert refused.stdout == ""
    english = runner.invoke(app, [*issue, "--actor-district", "火星区", "--lang", "en"])
    assert '"火星区" is not a district of kunming-2022' in english.stderr
    assert runner.invoke(app, ["token", "list", "--db", db, "--json"]).stdout.strip() == "[]"
    own = runner.invoke(
        app, [*issue, "--actor-district", "测试新区", "--policy", str(SECOND_POLICY)]
    )
    assert own.exit_code == 0, own.stderr
    assert own.stdout.startswith("kmb_")


def test_token_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0  # issue creates none
    issued = runner.invoke(
        app, ["token", "issue", "--actor-role", "expert", "--actor-id", "e-1", "--db", db]
    )
    assert issued.exit_code == 0
    secret = issued.stdout.strip()
    assert secret.startswith("kmb_")
    listed = runner.invoke(app, ["token", "list", "--db", db])
    assert "e-1" in listed.stdout
    assert "active" in listed.stdout
    assert secret not in listed.stdout
    token_id = listed.stdout.split("\t")[0]
    assert runner.invoke(app, ["token", "revoke", token_id, "--db", db]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["token", "list", "--db", db]).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "issue", "--actor-role", "district_authority", "--actor-id", "u"], "district"),
        (["token", "issue", "--actor-role", "mayor", "--actor-id", "u"], "mayor"),
        (["token", "revoke", "nope"], "no token"),
        (["serve", "--auth", "gateway"], "32 bytes"),
        (["serve", "--auth", "magic"], "magic"),
    ],
)
def test_bad_input_to_the_commands_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.delenv("KMBASE_GATEWAY_SECRET", raising=False)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    result = runner.invoke(app, [*args, "--db", db, "--lang", "en"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


SECRET = b"g" * 32
GATEWAY = GatewayAuthenticator(SECRET, now=lambda: 1_750_000_000)


@settings(max_examples=200, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            ["x-kmbase-identity", "x-kmbase-identity-timestamp", "x-kmbase-identity-signature"]
        ),
        st.text(max_size=80),
    ),
    client=st.none() | st.text(max_size=20),
)
def test_the_gateway_refuses_whatever_it_did_not_sign(
    headers: dict[str, str], client: str | None
) -> None:
    with pytest.raises(ServiceError) as error:
        GATEWAY(headers, client)
    assert error.value.status == 401


@settings(max_examples=100, deadline=None)
@given(identity=st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.none()))
def test_a_signed_identity_is_an_actor_or_a_401(identity: dict[str, str | None]) -> None:
    headers = {k.lower(): v for k, v in sign_identity(SECRET, identity, 1_750_000_000).items()}
    valid = isinstance(identity.get("role"), str) and identity["role"] in {r.value for r in Role}
    valid = valid and bool((identity.get("id") or "").strip())
    valid = valid and (identity["role"] != "district_authority" or bool(identity.get("district")))
    if not valid:
        with pytest.raises(ServiceError, match="malformed"):
            GATEWAY(headers, "10.0.0.1")
        return
    actor = GATEWAY(headers, "10.0.0.1")
    assert actor.via == "http"
    assert actor.role.value == identity["role"]


def test_a_token_check_waits_for_no_writer_where_the_store_allows_it(store: CaseStore) -> None:
    # the service then checks tokens on its event loop (issue 24); a server database's
    # check waits for a connection of its pool, so it keeps a worker thread
    tokens = token_store(store)
    without_waiting = isinstance(store, MemoryStore | SQLiteStore)
    assert tokens.checks_without_waiting is without_waiting
    assert TokenAuthenticator(tokens).blocking is not without_waiting


def test_a_sqlite_token_check_reads_beside_a_writer_in_its_transaction(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "tokens.db")
    tokens = token_store(store)
    _, secret = tokens.issue(Actor(Role.CITY_BUREAU, "bureau"), now=NOW)
    inside, release, committed = threading.Event(), threading.Event(), threading.Event()

    def pause(name: str) -> None:
        if name == "before_commit":
            inside.set()
            release.wait(30)

    def write() -> None:
        store.commit(sample_change(sample_case("c1"), None))
        committed.set()

    store.on_checkpoint = pause
    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert inside.wait(30)
        assert tokens.check(secret) is not None
        assert not committed.is_set()  # read while the writer held its transaction
    finally:
        release.set()
        writer.join()
    store.on_checkpoint = None
    assert token_store(SQLiteStore(":memory:")).checks_without_waiting is False
    store.close()
    with pytest.raises(StoreError):  # closed, its readers too
        tokens.check(secret)


def test_a_sqlite_reader_of_an_ended_thread_is_closed_when_another_opens(tmp_path: Path) -> None:
    # a host whose threads come and go keeps no connection of theirs open
    store = SQLiteStore(tmp_path / "tokens.db")
    tokens = token_store(store)
    _, secret = tokens.issue(Actor(Role.CITY_BUREAU, "bureau"), now=NOW)
    for _ in range(3):
        thread = threading.Thread(target=tokens.check, args=(secret,))
        thread.start()
        thread.join()
    assert tokens.check(secret) is not None
    assert list(store._opened_readers) == [threading.current_thread()]
    store.close()
    assert store._opened_readers == {}
