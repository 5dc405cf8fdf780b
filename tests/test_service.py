"""The HTTP service in process (the ASGI app through starlette's test client), on the memory
store, SQLite and PostgreSQL: a client of the published OpenAPI document takes a case to
certification; errors, idempotency, authentication, reading rights, calendar answers,
downloads and the event stream."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.case import State
from kmbase_workflow.deadlines import notice_deadline
from kmbase_workflow.errors import InvalidInputError, StoreUnavailableError
from kmbase_workflow.lifecycle import RECORDS, STEPS, Trigger
from kmbase_workflow.policy import load_policy
from kmbase_workflow.service import (
    GatewayAuthenticator,
    create_app,
    reference_documents,
    sign_identity,
)
from kmbase_workflow.stores.tokens import token_store
from lifecycle_helpers import BUREAU, CERTIFIED_ON, OPERATOR
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture
from service_helpers import (
    APPLICATION_JSON,
    Service,
    ok,
    service,
    sse_events,
    walk_to_certification,
)

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    elif request.param == "mysql":
        url = request.getfixturevalue("mysql_url")
    else:
        schema = request.getfixturevalue("schema")
        url = f"{POSTGRES_URL}?schema={schema}"
    yield from service(url)


@pytest.fixture
def memory_svc() -> Iterator[Service]:
    yield from service("memory://")


def test_a_client_of_the_document_takes_a_case_to_certification(svc: Service) -> None:
    walk_to_certification(svc)
    case = ok(svc.client.show(case_id="c1"))
    assert case["state"] == State.CERTIFIED.value
    assert case["certified_on"] == CERTIFIED_ON.isoformat()
    history = ok(svc.client.history(case_id="c1"))
    assert isinstance(history, list)
    # every write recorded who acted, as the token says, through HTTP
    assert {entry["actor"]["via"] for entry in history} == {"http"}
    assert history[0]["actor"]["id"] == OPERATOR.id
    assert history[-1]["actor"] == {
        "role": "city_bureau",
        "id": BUREAU.id,
        "district": None,
        "name": "",
        "via": "http",
    }
    assert ok(svc.client.verification(case_id="c1"))["ok"] is True
    assert svc.workflow.verify_chain("c1").ok


def test_idempotency_keys_replay_the_first_outcome(memory_svc: Service) -> None:
    svc = memory_svc
    bureau = svc.as_("city_bureau")
    ok(
        bureau.open_round(json={"year": 2025, "opens_on": "2025-06-01", "closes_on": "2025-07-31"}),
        201,
    )
    key = {"Idempotency-Key": "declare-1"}
    first = ok(svc.client.declare(content=APPLICATION_JSON, headers=key), 201)
    again = ok(svc.client.declare(content=APPLICATION_JSON, headers=key))
    assert again["replayed"] is True
    assert again["entry"] == first["entry"]
    assert len(svc.workflow.history(first["case"]["id"])) == 1
    # the same key for another command is a conflict, and nothing is written
    case_id = first["case"]["id"]
    refused = svc.client.fire_withdraw(case_id=case_id, json={"reason": "x"}, headers=key)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "IdempotencyKeyReusedError"
    assert svc.workflow.case(case_id).state is State.DECLARED
    # a key is the caller's own: another caller's same key neither replays nor blocks it
    district = svc.as_("district")
    declined = district.fire_decline(case_id=case_id, json={"reason": "不符"}, headers=key)
    assert ok(declined)["replayed"] is False


def test_errors_carry_the_code_both_languages_and_the_failed_rules(memory_svc: Service) -> None:
    svc = memory_svc
    refused = svc.as_("city_bureau").open_round(
        json={"year": 2025, "opens_on": "2025-08-01", "closes_on": "2025-07-01"}
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "TransitionRefusedError"
    assert error["failures"][0]["article"] == {"zh": "第九条", "en": "Art. 9"}
    assert "不能组织申报" in error["zh"]
    assert "cannot open the round" in error["en"]
    # a bad application: every problem with its path, as the library reports it
    data = json.loads(APPLICATION_JSON)
    data["operator"]["registered_on"] = "yesterday"
    data["typo"] = 1
    bad = svc.client.declare(content=json.dumps(data))
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["code"] == "ApplicationFormatError"
    paths = " ".join(problem["en"] for problem in body["problems"])
    assert "operator.registered_on" in paths
    assert "typo" in paths
    missing = svc.client.show(case_id="nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "CaseNotFoundError"
    unknown = svc.client.http.post(
        "/cases/c1/teleport", json={}, headers={"Authorization": f"Bearer {svc.tokens['operator']}"}
    )
    assert unknown.status_code == 422
    assert "certify" in unknown.json()["error"]["hint"]["en"]


def test_an_unavailable_store_is_503_with_retry_after(
    memory_svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmbase_workflow._i18n import Text

    def down(_case_id: str) -> None:
        raise StoreUnavailableError(Text(zh="数据库不可用", en="the database is down"))

    monkeypatch.setattr(memory_svc.workflow.store, "get", down)
    response = memory_svc.client.show(case_id="c1")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["error"]["retryable"] is True


def test_no_token_a_bad_one_or_a_revoked_one_is_401(memory_svc: Service) -> None:
    svc = memory_svc
    http = svc.client.http
    assert http.get("/me").status_code == 401
    assert http.get("/me").headers["WWW-Authenticate"].startswith("Bearer")
    assert http.get("/me", headers={"Authorization": "Bearer kmb_abc_def"}).status_code == 401
    tokens = token_store(svc.workflow.store)
    token, secret = tokens.issue(Actor(Role.EXPERT, "e-9"), now=dt.datetime.now(dt.UTC))
    assert ok(svc.client.as_(secret).me())["id"] == "e-9"
    tokens.revoke(token.id, now=dt.datetime.now(dt.UTC))
    assert svc.client.as_(secret).me().status_code == 401
    # the secret is never stored, only its SHA-256
    assert all(secret not in repr(listed) for listed in tokens.list())


def test_a_role_the_client_claims_is_never_taken(memory_svc: Service) -> None:
    svc = memory_svc
    walk = svc.as_("city_bureau")
    ok(
        walk.open_round(json={"year": 2025, "opens_on": "2025-06-01", "closes_on": "2025-07-31"}),
        201,
    )
    ok(svc.client.declare(content=APPLICATION_JSON, params={"case_id": "c1"}), 201)
    claimed = {"X-Role": "district_authority", "X-Kmbase-Identity": "city_bureau"}
    response = svc.client.fire_decline(case_id="c1", json={"reason": "x"}, headers=claimed)
    assert response.status_code == 409
    assert [f["guard"] for f in response.json()["error"]["failures"]] == ["role"]


def test_the_gateway_mode_takes_only_signed_fresh_identities() -> None:
    secret = b"s" * 32
    now = 1_750_000_000
    gateway = GatewayAuthenticator(secret, now=lambda: now)
    identity = {"role": "district_authority", "id": "u-7", "district": "五华区", "name": "李四"}
    headers = {k.lower(): v for k, v in sign_identity(secret, identity, now).items()}
    actor = gateway(headers, "10.0.0.1")
    assert (actor.role, actor.id, actor.district, actor.via) == (
        Role.DISTRICT_AUTHORITY,
        "u-7",
        "五华区",
        "http",
    )
    forged = {k.lower(): v for k, v in sign_identity(b"x" * 32, identity, now).items()}
    stale = {k.lower(): v for k, v in sign_identity(secret, identity, now - 3600).items()}
    claimed = {
        **headers,
        "x-kmbase-identity": sign_identity(secret, {**identity, "role": "city_bureau"}, now)[
            "X-Kmbase-Identity"
        ],
    }
    for refused in (forged, stale, claimed, {}):
        with pytest.raises(Exception, match="not authenticated"):
            gateway(refused, "10.0.0.1")
    not_an_object = {k.lower(): v for k, v in sign_identity(secret, {}, now).items()}
    with pytest.raises(Exception, match="malformed"):
        gateway(not_an_object, "10.0.0.1")
    with pytest.raises(InvalidInputError, match="too short"):
        GatewayAuthenticator(b"short")
    behind = GatewayAuthenticator(secret, trusted_proxies=["10.0.0.0/24"], now=lambda: now)
    assert behind(headers, "10.0.0.9").id == "u-7"
    for client in ("192.168.1.1", None, "testclient"):
        with pytest.raises(Exception, match="gateway"):
            behind(headers, client)


def test_the_gateway_mode_serves_requests() -> None:
    secret = b"k" * 40
    workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
    now = int(dt.datetime.now(dt.UTC).timestamp())
    identity = {"role": "city_bureau", "id": "u-1", "name": "张三"}
    with TestClient(create_app(workflow, auth=GatewayAuthenticator(secret))) as http:
        assert (
            http.get("/me", headers=sign_identity(secret, identity, now)).json()["name"] == "张三"
        )
        assert http.get("/me", headers={"X-Kmbase-Identity": "e30="}).status_code == 401


def test_a_district_and_an_operator_read_their_own_cases_only(memory_svc: Service) -> None:
    svc = memory_svc
    ok(
        svc.as_("city_bureau").open_round(
            json={"year": 2025, "opens_on": "2025-06-01", "closes_on": "2025-07-31"}
        ),
        201,
    )
    ok(svc.client.declare(content=APPLICATION_JSON, params={"case_id": "c1"}), 201)
    assert svc.as_("district").show(case_id="c1").status_code == 200
    assert svc.as_("other_district").show(case_id="c1").status_code == 403
    assert svc.as_("other_operator").history(case_id="c1").status_code == 403
    assert svc.as_("public").cases().status_code == 403
    assert [c["id"] for c in ok(svc.as_("district").cases())] == ["c1"]
    assert ok(svc.as_("other_district").cases()) == []


def test_calendar_and_deadline_answers_are_the_library_s(memory_svc: Service) -> None:
    client = memory_svc.as_("district")
    national_day = ok(client.working_day(params={"date": "2025-10-01"}))
    assert national_day["working_day"] is False
    assert national_day["holiday"]["en"] == "National Day"
    assert ok(client.working_day(params={"date": "2025-09-28"}))["working_day"] is True
    assert (
        ok(client.add_working_days(params={"date": "2025-09-26", "days": 10}))["result"]
        == "2025-10-16"
    )
    assert (
        ok(client.count_working_days(params={"start": "2025-09-26", "end": "2025-10-16"}))[
            "working_days"
        ]
        == 10
    )
    notice = ok(client.notice_end(params={"published": "2025-09-26"}))
    expected = notice_deadline(dt.date(2025, 9, 26), load_policy(dt.date(2025, 9, 26)).periods)
    assert notice["deadline"]["due"] == expected.due.isoformat() == "2025-10-15"
    assert notice["earliest_certification"] == "2025-10-16"
    assert (
        ok(client.change_filing(params={"completed": "2026-02-09"}))["deadline"]["kind"]
        == "change_filing"
    )
    assert client.working_day(params={"date": "2025-13-01"}).status_code == 422
    far = client.working_day(params={"date": "2099-03-02"})
    assert far.status_code == 422
    assert far.json()["error"]["code"] == "CalendarDataMissingError"
    provisional = ok(client.working_day(params={"date": "2040-03-02", "allow_provisional": True}))
    assert provisional["provisional"] is True


def test_the_forms_download_as_workbooks(memory_svc: Service) -> None:
    import openpyxl

    svc = memory_svc
    walk_to_certification(svc)
    forms = svc.as_("city_bureau").application_tables(case_id="c1")
    assert forms.status_code == 200
    assert "%E9%99%84%E4%BB%B61" in forms.headers["Content-Disposition"]  # 附件1
    assert openpyxl.load_workbook(io.BytesIO(forms.content)).sheetnames[0] == "申请表"
    table = svc.as_("district").recommendation_table(year="2025", district="五华区")
    sheet = openpyxl.load_workbook(io.BytesIO(table.content))["推荐汇总表"]
    assert any(
        "春城数字经济创业创新园" in str(cell.value) for row in sheet.iter_rows() for cell in row
    )
    assert (
        svc.as_("other_district").recommendation_table(year="2025", district="五华区").status_code
        == 403
    )


def test_events_stream_and_resume_after_the_last_event_id(memory_svc: Service) -> None:
    svc = memory_svc
    walk_to_certification(svc)
    bureau = svc.as_("city_bureau")
    stream = bureau.events(params={"follow": False})
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = sse_events(stream.text)
    # the round's opening comes first (a round's event, round:2025), then the case's steps
    assert [e["event"] for e in events[:2]] == ["round_opened", "declared"]
    assert events[-1]["event"] == "certified"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    resumed = sse_events(
        bureau.events(params={"follow": False}, headers={"Last-Event-ID": "3"}).text
    )
    assert resumed == events[3:]
    # a district sees its own district's events and the rounds' (public notices, 第九条);
    # an operator none
    assert len(sse_events(svc.as_("district").events(params={"follow": False}).text)) == len(events)
    others = sse_events(svc.as_("other_district").events(params={"follow": False}).text)
    assert [e["event"] for e in others] == ["round_opened"]
    assert others[0]["data"]["case_id"] == "round:2025"
    assert svc.as_("operator").events(params={"follow": False}).status_code == 403


def test_a_body_too_large_is_refused_before_it_is_read(memory_svc: Service) -> None:
    response = memory_svc.client.declare(content="[" * 5_000_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "ServiceError"


def test_every_trigger_has_its_route_in_the_document() -> None:
    document = json.loads((REFERENCE / "openapi.json").read_text(encoding="utf-8"))
    for step in (*STEPS, *RECORDS):
        if step.trigger is Trigger.DECLARE:
            assert "post" in document["paths"]["/cases"]
            continue
        operation = document["paths"][f"/cases/{{case_id}}/{step.trigger.value}"]["post"]
        assert operation["operationId"] == f"fire_{step.trigger.value}"
        assert step.article.zh in operation["description"]


def test_the_published_documents_are_generated_from_the_records() -> None:
    for name, text in reference_documents().items():
        stored = (REFERENCE / name).read_text(encoding="utf-8")
        assert stored == text, (
            f"docs/reference/{name} is stale: run PYTHONPATH=src python -m kmbase_workflow.service"
        )


def test_the_application_schema_accepts_the_example_and_refuses_a_typo() -> None:
    published = json.loads((REFERENCE / "application.schema.json").read_text(encoding="utf-8"))
    document = json.loads(APPLICATION_JSON)
    jsonschema.Draft202012Validator(published).validate(document)
    document["operater"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(published).validate(document)


def test_the_api_reference_page_lists_every_route() -> None:
    document = json.loads((REFERENCE / "openapi.json").read_text(encoding="utf-8"))
    page = (REFERENCE / "service-api.md").read_text(encoding="utf-8")
    missing = [
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
        if f"| {method.upper()} | `{path}` |" not in page
    ]
    assert not missing, f"docs/reference/service-api.md: list {missing}"


def test_a_host_mounts_the_service_and_brings_its_own_authenticator() -> None:
    from fastapi import FastAPI

    from kmbase_workflow._i18n import Text
    from kmbase_workflow.service import ServiceError

    sessions = {"s-1": Actor(Role.EXPERT, "e-1", name="王五", via="http")}

    def from_my_session(headers: object, client: str | None) -> Actor:
        actor = sessions.get(headers.get("x-session", ""))
        if actor is None:
            raise ServiceError(401, Text(zh="未登录", en="not signed in"))
        return actor

    host = FastAPI()
    host.mount("/kmbase", create_app(Workflow("memory://"), auth=from_my_session))
    with TestClient(host) as http:
        assert http.get("/kmbase/me", headers={"x-session": "s-1"}).json()["name"] == "王五"
        refused = http.get("/kmbase/me", headers={"x-session": "forged"})
        assert refused.status_code == 401
        assert refused.json()["error"]["en"] == "not signed in"
