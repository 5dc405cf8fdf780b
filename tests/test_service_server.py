"""The service as offices run it: ``kmbase serve`` in its own process (uvicorn on
127.0.0.1, a free port), tokens issued and revoked with ``kmbase token``, on SQLite and on
PostgreSQL. The case is taken to its public notice through the Python API on the same
database; the running server certifies it (the server's day is fixed with ``--today``)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.case import State
from kmbase_workflow.serialization import unstructure
from kmbase_workflow.service import sign_identity
from kmbase_workflow.stores import open_store
from lifecycle_helpers import (
    BUREAU,
    CERTIFIED_ON,
    DECISION,
    DECLARED_ON,
    ROUND_CLOSES,
    ROUND_OPENS,
    Harness,
    walk_to,
)
from openapi_client import OpenAPIClient
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture
from service_helpers import KMBASE, SRC, kmbase_serve, ok, sse_events


def kmbase(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``kmbase`` command line."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [*KMBASE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(base URL, store URL)`` of a running ``kmbase serve`` whose day is CERTIFIED_ON,
    over a store holding case c1 in its public notice."""
    if request.param == "sqlite":
        db = f"sqlite:///{tmp_path / 'served.db'}"
    else:
        db = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    clock = FixedClock(DECLARED_ON)
    workflow = Workflow(db, clock=clock)
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    walk_to(Harness(workflow, clock, workflow.store), State.PUBLICIZED, "c1")  # type: ignore[arg-type]
    workflow.close()
    with kmbase_serve("--db", db, "--today", CERTIFIED_ON.isoformat(), folder=tmp_path) as base:
        yield base, db


@pytest.mark.parametrize(
    "server", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_running_server_certifies_streams_and_refuses_a_revoked_token(
    server: tuple[str, str],
) -> None:
    base, db = server
    issued = kmbase(
        "token",
        "issue",
        "--actor-role",
        "city_bureau",
        "--actor-id",
        BUREAU.id,
        "--actor-name",
        "张三",
        "--db",
        db,
        "--format",
        "json",
    )
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)
    listed = kmbase("token", "list", "--db", db, "--format", "json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [token["id"]]
    assert token["token"] not in listed.stdout  # the secret is shown once, never listed
    with httpx2.Client(base_url=base, timeout=30) as http:
        client = OpenAPIClient(http, token["token"])
        assert ok(client.me())["name"] == "张三"
        key = {"Idempotency-Key": "certify-c1"}
        body = {"payload": unstructure(DECISION)}
        first = ok(client.fire_certify(case_id="c1", json=body, headers=key))
        again = ok(client.fire_certify(case_id="c1", json=body, headers=key))
        assert again["replayed"] is True
        assert again["entry"] == first["entry"]
        assert ok(client.show(case_id="c1"))["state"] == "certified"
        entry = ok(client.history(case_id="c1"))[-1]
        assert entry["actor"] == {
            "role": "city_bureau",
            "id": BUREAU.id,
            "district": None,
            "name": "张三",
            "via": "http",
        }
        assert entry["entered_at"] is not None  # the server's --today is a claimed day: recorded
        assert ok(client.verification(case_id="c1"))["ok"] is True
        events = sse_events(client.events(params={"follow": False}).text)
        assert events[-1]["event"] == "certified"
        # a live stream, resumed after the last event but one
        headers = {
            "Authorization": f"Bearer {token['token']}",
            "Last-Event-ID": str(events[-2]["id"]),
        }
        with http.stream("GET", "/events", headers=headers) as stream:
            lines = []
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("data: "):
                    break
        assert sse_events("\n".join(lines) + "\n\n") == events[-1:]
        table = client.recommendation_table(year="2025", district="五华区")
        assert table.status_code == 200
        assert table.content[:2] == b"PK"
        revoked = kmbase("token", "revoke", token["id"], "--db", db)
        assert revoked.returncode == 0, revoked.stderr
        assert client.me().status_code == 401


def test_the_gateway_is_the_socket_s_peer_never_a_forwarded_header(tmp_path: Path) -> None:
    """``--trusted-proxy`` names the gateway's address: a request from elsewhere that says
    ``X-Forwarded-For: <the gateway>`` is still from elsewhere (issue 22)."""
    secret = "g" * 40
    identity = {"role": "city_bureau", "id": "u-1", "name": "张三"}
    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    args = ("--db", db, "--auth", "gateway", "--trusted-proxy", "127.0.0.2")
    env = {"KMBASE_GATEWAY_SECRET": secret}
    open_store(db).close()  # kmbase serve refuses a database that does not exist
    with kmbase_serve(*args, folder=tmp_path, env=env) as base:
        signed = sign_identity(secret.encode(), identity, int(time.time()))
        # from 127.0.0.1, claiming to be the gateway: refused
        with httpx2.Client(base_url=base, timeout=30) as elsewhere:
            claimed = elsewhere.get("/me", headers={**signed, "X-Forwarded-For": "127.0.0.2"})
            assert claimed.status_code == 401, claimed.text
            assert "gateway" in claimed.json()["error"]["en"]
            forwarded = {**signed, "Forwarded": "for=127.0.0.2", "X-Real-IP": "127.0.0.2"}
            assert elsewhere.get("/me", headers=forwarded).status_code == 401
        # from the gateway's own address, which forwards its client's: accepted
        transport = httpx2.HTTPTransport(local_address="127.0.0.2")
        with httpx2.Client(base_url=base, timeout=30, transport=transport) as gateway:
            answer = gateway.get("/me", headers={**signed, "X-Forwarded-For": "203.0.113.7"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["name"] == "张三"


def test_each_request_is_logged_unless_the_access_log_is_off(tmp_path: Path) -> None:
    """``--no-access-log``: a gateway or proxy in front logs the requests already."""
    db = f"sqlite:///{tmp_path / 'logged.db'}"
    open_store(db).close()
    for flag, logged in (("--access-log", True), ("--no-access-log", False)):
        folder = tmp_path / flag
        folder.mkdir()
        with kmbase_serve("--db", db, flag, folder=folder) as base:
            assert httpx2.get(f"{base}/schema/application.json", timeout=30).status_code == 200
        log = "".join(path.read_text("utf-8") for path in folder.glob("server-*.log"))
        assert ("GET /schema/application.json" in log) is logged, log
