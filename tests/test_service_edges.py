"""The HTTP service's edges (issue 22): refusals that tell no more than a read would, a
gateway identity from a district the policy does not list, the public schema, bounded path
and header integers, the selection quota, ``Allow`` on a 405, a bounded health check, the
``Location`` behind a prefix and the workbooks' errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
import tomllib
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.service import GatewayAuthenticator, create_app, sign_identity
from lifecycle_helpers import BUREAU, DECLARED_ON, ROUND_CLOSES, ROUND_OPENS
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture
from service_helpers import APPLICATION_JSON, Service, issue_tokens, ok, service

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """The service over SQLite and PostgreSQL (where a refusal reads other cases)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    yield from service(url)


@pytest.fixture
def memory_svc() -> Iterator[Service]:
    yield from service("memory://")


def _declared(svc: Service) -> None:
    bureau = svc.as_("city_bureau")
    opened = bureau.open_round(
        json={"year": 2025, "opens_on": ROUND_OPENS.isoformat(), "closes_on": "2025-07-31"}
    )
    ok(opened, 201)
    ok(svc.client.declare(content=APPLICATION_JSON, params={"case_id": "c1"}), 201)


# -- a refusal tells no more than a read (issue 22, identity and disclosure) ------------------


def test_a_refusal_on_another_s_case_is_answered_as_a_read(store_svc: Service) -> None:
    svc = store_svc
    _declared(svc)
    owner = ok(svc.client.show(case_id="c1"))["application"]["operator"]
    for name in ("other_operator", "other_district"):
        refused = svc.as_(name).fire_withdraw(case_id="c1", json={"reason": "试探"})
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["failures"] == []
        text = refused.text
        for secret in (owner["name"], owner["unified_social_credit_code"], "五华区", "declared"):
            assert secret not in text, f"{name} learns {secret!r}: {text}"
        # exactly what a read of the case answers
        read = svc.as_(name).show(case_id="c1").json()["error"]
        assert error["message"] == read["message"]
    # the owner is still told why, with the rules
    own = svc.client.fire_pass_review(case_id="c1", json={})
    assert own.status_code == 409
    assert own.json()["error"]["failures"]


def test_declaring_a_base_another_operator_holds_tells_nothing_of_it(store_svc: Service) -> None:
    svc = store_svc
    _declared(svc)
    held = ok(svc.client.show(case_id="c1"))
    # the same application, the same base (its id is derived from it), another caller
    refused = svc.as_("other_operator").declare(content=APPLICATION_JSON, params={"case_id": "c2"})
    assert refused.status_code in (403, 404), refused.text
    text = refused.text.replace(held["base_id"], "")
    for secret in ("c1", "2025", "declared", "已申报", "open application", "未办结"):
        assert secret not in text, f"learns {secret!r}: {text}"
    assert refused.json()["error"]["failures"] == []


# -- who the caller is ------------------------------------------------------------------------


def test_a_gateway_identity_from_a_district_the_policy_does_not_list_is_refused() -> None:
    secret = b"k" * 40
    workflow = Workflow("memory://", clock=FixedClock(DECLARED_ON))
    now = int(dt.datetime.now(dt.UTC).timestamp())
    nowhere = {"role": "district_authority", "id": "u-9", "district": "不存在区", "name": "某"}
    home = {**nowhere, "district": "五华区"}
    with TestClient(create_app(workflow, auth=GatewayAuthenticator(secret))) as http:
        refused = http.get("/me", headers=sign_identity(secret, nowhere, now))
        assert refused.status_code in (401, 403), refused.text
        error = refused.json()["error"]
        assert "不存在区" in error["zh"]
        assert "district" in error["en"]
        assert http.get("/cases", headers=sign_identity(secret, nowhere, now)).status_code in (
            401,
            403,
        )
        assert http.get("/me", headers=sign_identity(secret, home, now)).status_code == 200
    workflow.close()


def test_the_application_schema_is_public_as_the_document_says(memory_svc: Service) -> None:
    http = memory_svc.client.http
    assert http.get("/schema/application.json").status_code == 200
    document = http.get("/openapi.json").json()
    public = {
        path
        for path, methods in document["paths"].items()
        for operation in methods.values()
        if operation.get("security") == []
    }
    assert public == {"/health", "/schema/application.json"}
    # every other route refuses a caller without a token (a route that reads no case too)
    assert http.get("/me").status_code == 401
    page = (ROOT / "docs" / "reference" / "service-api.md").read_text(encoding="utf-8")
    assert "every route but `/health` and `/schema/application.json` needs" in page


# -- integers the store cannot hold, and a quota below zero ----------------------------------


@pytest.mark.parametrize("huge", [str(2**64), "9" * 30, "-1"])
def test_a_year_past_the_store_s_integers_is_a_422(store_svc: Service, huge: str) -> None:
    bureau = store_svc.as_("city_bureau")
    selection = bureau.http.post(
        f"/rounds/{huge}/selection",
        json={"quota": 1},
        headers={"Authorization": f"Bearer {store_svc.tokens['city_bureau']}"},
    )
    assert selection.status_code == 422, selection.text
    table = bureau.http.get(
        f"/rounds/{huge}/districts/五华区/recommendation-table.xlsx",
        headers={"Authorization": f"Bearer {store_svc.tokens['city_bureau']}"},
    )
    assert table.status_code == 422, table.text
    # the documents' routes take the same bounded year (issue 26 came after the bound)
    for path in (
        f"/rounds/{huge}/notice.txt",
        f"/rounds/{huge}/decision.txt",
        f"/rounds/{huge}/districts/五华区/recommendation-table.txt",
    ):
        answer = bureau.http.get(
            path, headers={"Authorization": f"Bearer {store_svc.tokens['city_bureau']}"}
        )
        assert answer.status_code == 422, (path, answer.text)


@pytest.mark.parametrize("last", [str(2**64), "9" * 39, "-1", "1e3"])
def test_a_last_event_id_past_the_store_s_integers_is_a_422(store_svc: Service, last: str) -> None:
    answer = store_svc.as_("city_bureau").events(
        params={"follow": False}, headers={"Last-Event-ID": last}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["en"]


def test_a_quota_below_zero_is_refused_on_every_face(memory_svc: Service) -> None:
    svc = memory_svc
    _declared(svc)
    refused = svc.as_("city_bureau").select_round(year="2025", json={"quota": 0})
    assert refused.status_code == 200  # zero selects none: allowed
    before = len(ok(svc.client.history(case_id="c1")))
    # the document says minimum 0: a client generated from it does not send -1, a raw one may
    answer = svc.client.http.post(
        "/rounds/2025/selection",
        json={"quota": -1},
        headers={"Authorization": f"Bearer {svc.tokens['city_bureau']}"},
    )
    assert answer.status_code == 422, answer.text
    assert "quota" in answer.json()["error"]["en"]
    assert len(ok(svc.client.history(case_id="c1"))) == before  # nothing written
    with pytest.raises(InvalidInputError, match="quota"):
        svc.workflow.select_round(2025, BUREAU, quota=-1)


# -- answers: Allow on a 405, Location behind a prefix, the workbooks ------------------------


def test_a_405_says_which_methods_are_allowed(memory_svc: Service) -> None:
    http = memory_svc.client.http
    answer = http.delete("/cases")
    assert answer.status_code == 405
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert answer.json()["error"]["code"] == "ServiceError"
    health = http.post("/health")
    assert health.status_code == 405
    assert "GET" in health.headers["allow"]


def test_a_location_behind_a_mount_carries_the_prefix() -> None:
    workflow = Workflow("memory://", clock=FixedClock(DECLARED_ON))
    tokens = issue_tokens(workflow)
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    host = FastAPI()
    host.mount("/kmbase", create_app(workflow))
    with TestClient(host) as http:
        declared = http.post(
            "/kmbase/cases",
            content=APPLICATION_JSON,
            params={"case_id": "c1"},
            headers={"Authorization": f"Bearer {tokens['operator']}"},
        )
        assert declared.status_code == 201, declared.text
        assert declared.headers["location"] == "/kmbase/cases/c1"
        shown = http.get(
            declared.headers["location"], headers={"Authorization": f"Bearer {tokens['operator']}"}
        )
        assert shown.json()["id"] == "c1"
    workflow.close()


def test_the_service_extra_brings_what_the_workbook_routes_need() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = project["project"]["optional-dependencies"]["service"]
    assert any(requirement.startswith("openpyxl") for requirement in extra)


def test_a_refused_workbook_is_no_attachment(memory_svc: Service) -> None:
    svc = memory_svc
    _declared(svc)
    refused = svc.as_("other_district").recommendation_table(year="2025", district="五华区")
    assert refused.status_code == 403
    assert "content-disposition" not in refused.headers
    assert refused.headers["content-type"].startswith("application/json")
    missing = svc.client.application_tables(case_id="nope")
    assert missing.status_code == 404
    assert "content-disposition" not in missing.headers


# -- /health when the database goes away -----------------------------------------------------


class Forwarder:
    """A TCP relay from a port of 127.0.0.1 to ``target``: ``cut()`` closes the port and every
    connection through it, as a database server that went away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)
                each.close()

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()
        with self.lock:
            for each in self.sockets:
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)
                each.close()


@pytest.mark.postgres
def test_health_answers_503_at_once_when_postgresql_is_gone(request: pytest.FixtureRequest) -> None:
    name = request.getfixturevalue("schema")
    parsed = urllib.parse.urlsplit(POSTGRES_URL)
    relay = Forwarder((parsed.hostname or "127.0.0.1", parsed.port or 5432))
    userinfo = parsed.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{relay.port}" if userinfo else f"127.0.0.1:{relay.port}"
    url = parsed._replace(netloc=netloc).geturl()
    workflow = Workflow(f"{url}?schema={name}")
    try:
        with TestClient(create_app(workflow)) as http:
            assert http.get("/health").status_code == 200
            relay.cut()  # the server is gone: its port refuses, its connections are closed
            # the first probe meets a dead connection (at once); the next ones find none and,
            # without the bound, would wait the pool's 30 s for one: three probes give up far
            # sooner than that (a bound, not a measurement)
            answered: list[int] = []

            def probe() -> None:
                answered.extend(http.get("/health").status_code for _ in range(3))

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            prober.join(timeout=20)
            assert answered == [503, 503, 503]
    finally:
        workflow.close()


def test_a_write_s_answer_links_to_the_steps_that_may_follow() -> None:
    document = json.loads((ROOT / "docs" / "reference" / "openapi.json").read_text("utf-8"))
    declared = document["paths"]["/cases"]["post"]["responses"]["201"]["links"]
    assert {"show", "history", "fire_recommend", "fire_withdraw"} <= set(declared)
    assert "fire_certify" not in declared  # a declared case is not certified next
    recommended = document["paths"]["/cases/{case_id}/recommend"]["post"]["responses"]["200"]
    assert "fire_pass_review" in recommended["links"]
    assert recommended["links"]["show"]["parameters"] == {"case_id": "$response.body#/case/id"}
    operations = {
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
    }
    for path in document["paths"].values():
        for operation in path.values():
            for answer in operation["responses"].values():
                for link in answer.get("links", {}).values():
                    assert link["operationId"] in operations
