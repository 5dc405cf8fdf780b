"""A service over a workflow with a movable clock, one token per actor of
lifecycle_helpers, and the walk of a case to certification through the OpenAPI client."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import attrs
import httpx2
import pytest
from fastapi.testclient import TestClient

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.serialization import unstructure
from kmbase_workflow.service import create_app
from kmbase_workflow.stores.tokens import token_store
from lifecycle_helpers import (
    ACTORS,
    CERTIFIED_ON,
    DECISION,
    DECLARED_ON,
    GOOD_RECOMMENDATION,
    PUBLISHED_ON,
)
from openapi_client import OpenAPIClient

SRC = Path(__file__).resolve().parents[1] / "src"
KMBASE = [
    sys.executable,
    "-c",
    "import sys; from kmbase_workflow.cli import main; sys.argv[0] = 'kmbase'; main()",
]
"""The ``kmbase`` command line, from this checkout."""
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "eligible.json"
APPLICATION_JSON = EXAMPLE.read_text(encoding="utf-8")


@attrs.define
class Service:
    """A workflow, its clock, a token per actor name of lifecycle_helpers.ACTORS, and a
    client of the OpenAPI document (as the operator until told otherwise)."""

    workflow: Workflow
    clock: FixedClock
    tokens: dict[str, str]
    client: OpenAPIClient

    def as_(self, name: str) -> OpenAPIClient:
        """The client acting with ``name``'s token."""
        return self.client.as_(self.tokens[name])


def issue_tokens(workflow: Workflow) -> dict[str, str]:
    """A token for each actor of lifecycle_helpers (the system's included)."""
    tokens = token_store(workflow.store)
    now = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    return {name: tokens.issue(actor, now=now)[1] for name, actor in ACTORS.items()}


def service(url: str, threads: int | Literal["store"] = "store") -> Iterator[Service]:
    """A service in process over the store at ``url`` (the clock on the declaration day),
    working on ``threads`` requests at once (`create_app`'s)."""
    clock = FixedClock(DECLARED_ON)
    workflow = Workflow(url, clock=clock)
    tokens = issue_tokens(workflow)
    with TestClient(create_app(workflow, poll_interval=0.01, threads=threads)) as http:
        yield Service(workflow, clock, tokens, OpenAPIClient(http, tokens["operator"]))
    workflow.close()


def ok(response: object, status: int = 200) -> dict[str, object]:
    """The JSON of a response that has ``status`` (its body shown otherwise)."""
    code = response.status_code
    text = response.text
    assert code == status, text
    data: dict[str, object] = response.json()
    return data


def walk_to_certification(svc: Service, case_id: str = "c1") -> None:
    """Open the round, declare, recommend, review, inspect, publicize, certify: over HTTP."""
    walk_to_notice(svc, case_id)
    svc.clock.set(CERTIFIED_ON)
    bureau = svc.as_("city_bureau")
    ok(bureau.fire_certify(case_id=case_id, json={"payload": unstructure(DECISION)}))


def walk_to_notice(svc: Service, case_id: str = "c1") -> None:
    """Open the round, declare, recommend, review, inspect, publicize (on PUBLISHED_ON): over
    HTTP."""
    bureau, district, expert = svc.as_("city_bureau"), svc.as_("district"), svc.as_("expert")
    ok(
        bureau.open_round(json={"year": 2025, "opens_on": "2025-06-01", "closes_on": "2025-07-31"}),
        201,
    )
    ok(svc.client.declare(content=APPLICATION_JSON, params={"case_id": case_id}), 201)
    ok(district.fire_recommend(case_id=case_id, json={"payload": unstructure(GOOD_RECOMMENDATION)}))
    opinion = {"expert": "专家甲", "score": 88.0, "opinion": "服务功能完善"}
    ok(expert.fire_expert_opinion(case_id=case_id, json={"payload": opinion}))
    ok(bureau.fire_pass_review(case_id=case_id, json={}))
    ok(bureau.fire_pass_inspection(case_id=case_id, json={"payload": {"opinion": "现场核查属实"}}))
    svc.clock.set(PUBLISHED_ON)
    ok(bureau.fire_publicize(case_id=case_id, json={}))


def sse_events(text: str) -> list[dict[str, object]]:
    """The events of a server-sent event stream: id, event, data (parsed)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields and "id" in fields:
            found.append(
                {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return found


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def kmbase_serve(*args: str, folder: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The base URL of ``kmbase serve ARGS`` running in its own process on 127.0.0.1 (a free
    port), once its ``/health`` answers 200; stopped when the block ends."""
    port = free_port()
    variables = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    log_path = folder / f"server-{port}.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*KMBASE, "serve", "--port", str(port), *args],
            env=variables,
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
                    pytest.fail(f"kmbase serve did not start:\n{log_path.read_text('utf-8')}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)
