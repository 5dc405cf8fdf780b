"""How many requests the service works on at once (issue 24): the routes run in worker
threads, and a few threads serve a loaded service better than anyio's default of 40, which
contend for the GIL and for the store's connections (the pool holds 10 by default). The
service sets the number when it serves on its own; mounted in a host's application, the host
decides."""

from __future__ import annotations

import anyio.to_thread
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kmbase_workflow import Workflow
from kmbase_workflow.service import create_app
from kmbase_workflow.service._app import SERVICE_THREADS


async def _threads() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_the_service_works_on_a_few_requests_at_once() -> None:
    with TestClient(create_app(Workflow("memory://"))) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == SERVICE_THREADS
        assert http.get("/health").status_code == 200
    with TestClient(create_app(Workflow("memory://"), threads=3)) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 3


def test_none_keeps_the_server_s_number_and_a_mounted_service_leaves_the_host_s() -> None:
    with TestClient(create_app(Workflow("memory://"), threads=None)) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 40  # anyio's default
    host = FastAPI()
    host.mount("/kmbase", create_app(Workflow("memory://"), threads=2))
    with TestClient(host) as http:
        assert http.portal is not None
        assert http.portal.call(_threads) == 40
        assert http.get("/kmbase/health").status_code == 200
