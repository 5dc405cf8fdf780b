"""The service as offices run it: ``kmbase serve`` in its own process (uvicorn on
127.0.0.1, a free port), tokens issued and revoked with ``kmbase token``, on SQLite and on
PostgreSQL. The case is taken to its public notice through the Python API on the same
database; the running server certifies it (the server's day is fixed with ``--today``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.case import State
from kmbase_workflow.serialization import unstructure
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
from service_helpers import ok, sse_events

SRC = Path(__file__).resolve().parents[1] / "src"
KMBASE = [
    sys.executable,
    "-c",
    "import sys; from kmbase_workflow.cli import main; sys.argv[0] = 'kmbase'; main()",
]


def kmbase(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``kmbase`` command line."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [*KMBASE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    log = (tmp_path / "server.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [*KMBASE, "serve", "--db", db, "--port", str(port), "--today", CERTIFIED_ON.isoformat()],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (tmp_path / "server.log").read_text(encoding="utf-8")
                pytest.fail(f"kmbase serve did not start:\n{output}")
            time.sleep(0.2)
        yield base, db
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


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
