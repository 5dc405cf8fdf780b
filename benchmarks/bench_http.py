"""The HTTP service against the Python API, in the same run: requests per second for a read
(``GET /cases/{id}``) and a trigger (``POST /cases/{id}/recommend``) from several clients
against ``kmbase serve`` (uvicorn, one process, SQLite; PostgreSQL when reachable), beside
the same work through `Workflow` from as many threads."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import attrs
import httpx2
import psycopg

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.case import Recommendation
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.serialization import unstructure
from kmbase_workflow.stores.tokens import token_store

CLIENTS = int(os.environ.get("KMBASE_BENCH_CLIENTS", "4"))
CASES = int(os.environ.get("KMBASE_BENCH_HTTP_CASES", "200"))
READS = int(os.environ.get("KMBASE_BENCH_HTTP_READS", "2000"))
POSTGRES = os.environ.get("KMBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SRC = Path(__file__).resolve().parents[1] / "src"
DAY = dt.date(2025, 6, 20)
BUREAU = Actor(Role.CITY_BUREAU, "bureau")
RECOMMENDATION = Recommendation("同意推荐", True, SpotCheck(60, 6, 6))


def _prepare(url: str) -> tuple[list[str], list[str], str]:
    """2 × CASES declared cases (one half for HTTP, one for Python) and a district token."""
    workflow = Workflow(url, clock=FixedClock(DAY))
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    application = eligible_application()
    ids = []
    for i in range(2 * CASES):
        base = attrs.evolve(application.base, name=f"基地{i:05d}")
        outcome = workflow.declare(
            attrs.evolve(application, base=base), Actor.for_operator(application.operator)
        )
        ids.append(outcome.case.id)
    district = Actor(Role.DISTRICT_AUTHORITY, "district", district=application.base.district)
    _, token = token_store(workflow.store).issue(district, now=dt.datetime.now(dt.UTC))
    workflow.close()
    return ids[:CASES], ids[CASES:], token


def _parallel(work: list[Callable[[], object]]) -> float:
    """Run ``work`` from CLIENTS threads; operations per second."""
    chunks = [work[i::CLIENTS] for i in range(CLIENTS)]
    started = time.perf_counter()
    threads = [threading.Thread(target=lambda c=chunk: [call() for call in c]) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(work) / (time.perf_counter() - started)


def _server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-c",
        "import sys; from kmbase_workflow.cli import main; main()",
        "serve", "--db", url, "--port", str(port), "--today", DAY.isoformat(),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx2.get(f"{base}/health").status_code == 200:
                return process, base
        except httpx2.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("kmbase serve did not start")


def _run(label: str, url: str) -> None:
    http_ids, python_ids, token = _prepare(url)
    process, base = _server(url)
    local = threading.local()

    def client() -> httpx2.Client:
        if not hasattr(local, "client"):
            local.client = httpx2.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
        return local.client  # type: ignore[no-any-return]

    def get(case_id: str) -> None:
        assert client().get(f"/cases/{case_id}").status_code == 200

    body = json.dumps({"payload": unstructure(RECOMMENDATION)})

    def recommend(case_id: str) -> None:
        response = client().post(f"/cases/{case_id}/recommend", content=body)
        assert response.status_code == 200, response.text

    try:
        reads = [http_ids[i % len(http_ids)] for i in range(READS)]
        http_read = _parallel([lambda c=c: get(c) for c in reads])
        http_fire = _parallel([lambda c=c: recommend(c) for c in http_ids])
    finally:
        process.terminate()
        process.wait()
    workflow = Workflow(url, clock=FixedClock(DAY))
    district = Actor(Role.DISTRICT_AUTHORITY, "district", district="五华区", via="python")
    python_read = _parallel([lambda c=c: workflow.case(c) for c in reads])
    python_fire = _parallel(
        [lambda c=c: workflow.recommend(c, district, RECOMMENDATION) for c in python_ids]
    )
    workflow.close()
    print(f"{label}: {CLIENTS} clients, {READS} reads, {CASES} triggers each way")
    print(
        f"  read    GET /cases/{{id}}        {http_read:8.0f} req/s   Workflow.case   {python_read:8.0f} /s   ratio {python_read / http_read:5.1f}x"
    )
    print(
        f"  trigger POST /cases/{{id}}/recommend {http_fire:5.0f} req/s   Workflow.recommend {python_fire:5.0f} /s   ratio {python_fire / http_fire:5.1f}x"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        _run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}")
    try:
        with psycopg.connect(POSTGRES, connect_timeout=3, autocommit=True) as connection:
            schema = f"bench_http_{os.getpid()}"
            try:
                _run("PostgreSQL", f"{POSTGRES}?schema={schema}")
            finally:
                connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    except psycopg.OperationalError as error:
        print(f"PostgreSQL: skipped ({error})")


if __name__ == "__main__":
    main()
