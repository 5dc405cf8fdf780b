"""The work queues, the dashboard and history as data over HTTP, in process on the memory
store, SQLite and PostgreSQL, through the client of the published OpenAPI document (which
checks every answer against the document's schema): whose inbox shows what, paging, who may
read a dashboard or a case's past, and the errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmbase_workflow._i18n import Text
from kmbase_workflow.actors import Actor
from kmbase_workflow.errors import SchemaVersionError
from kmbase_workflow.queues import work_queue
from kmbase_workflow.serialization import unstructure
from kmbase_workflow.service import status_of
from lifecycle_helpers import (
    AWAY,
    BUREAU,
    CERTIFIED_ON,
    DECISION,
    DECLARED_ON,
    DISTRICT,
    HOME,
    NOTICE_DUE,
    other_base,
)
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture
from service_helpers import (
    APPLICATION_JSON,
    Service,
    ok,
    service,
    walk_to_certification,
    walk_to_notice,
)


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
        url = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    yield from service(url)


@pytest.fixture
def memory_svc() -> Iterator[Service]:
    yield from service("memory://")


def _open_round(svc: Service) -> None:
    ok(
        svc.as_("city_bureau").open_round(
            json={"year": 2025, "opens_on": "2025-06-01", "closes_on": "2025-07-31"}
        ),
        201,
    )


def _declare_elsewhere(svc: Service, case_id: str, name: str, district: str) -> None:
    application = other_base(name, district)
    svc.workflow.declare(application, Actor.for_operator(application.operator), case_id=case_id)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["zh"]
    assert error["en"]
    return error


def test_a_district_s_inbox_lists_its_declarations_to_review_only(svc: Service) -> None:
    _open_round(svc)
    ok(svc.client.declare(content=APPLICATION_JSON, params={"case_id": "c1"}), 201)
    _declare_elsewhere(svc, "c2", "呈贡小微企业创业园", AWAY)
    home = ok(svc.as_("district").inbox())
    assert home["actor"] == {"role": "district_authority", "id": DISTRICT.id, "district": HOME}
    assert home["as_of"] == DECLARED_ON.isoformat()
    [entry] = home["entries"]
    assert (entry["case_id"], entry["kind"], entry["district"]) == (
        "c1",
        "declaration_review",
        HOME,
    )
    assert entry["actions"] == ["return_for_correction", "recommend", "decline"]
    assert entry["article"] == {"zh": "第十条", "en": "Art. 10"}
    assert home["next_cursor"] is None
    away = ok(svc.as_("other_district").inbox())
    assert [e["case_id"] for e in away["entries"]] == ["c2"]
    # the actor is the token's: a district filter for another district is refused, not obeyed
    _error(svc.as_("district").inbox(params={"district": AWAY}), 403, "ServiceError")
    assert ok(svc.as_("district").inbox(params={"district": HOME}))["entries"] == home["entries"]
    claimed = {"role": "city_bureau", "actor": "city_bureau", "id": "x", "operator_id": "y"}
    assert ok(svc.as_("district").inbox(params=claimed)) == home
    # the operator and the bureau await nothing yet (the district's review comes first)
    assert ok(svc.client.inbox())["entries"] == []
    assert ok(svc.as_("city_bureau").inbox())["entries"] == []
    # the answer is the library's
    library = work_queue(svc.workflow, DISTRICT).to_dict()
    assert home == library


def test_the_bureau_s_inbox_after_a_notice_ends(svc: Service) -> None:
    walk_to_notice(svc)
    bureau = svc.as_("city_bureau")
    # during the notice: awaiting certification, not possible before the day after it ends
    [waiting] = ok(bureau.inbox(params={"as_of": NOTICE_DUE.isoformat()}))["entries"]
    assert (waiting["case_id"], waiting["kind"], waiting["actions"]) == (
        "c1",
        "certification",
        ["certify"],
    )
    assert (waiting["ready"], waiting["ready_on"]) == (False, CERTIFIED_ON.isoformat())
    assert waiting["article"] == {"zh": "第十四条", "en": "Art. 14"}
    # the first working day after it: ready (the workflow's today is the default as_of)
    svc.clock.set(CERTIFIED_ON)
    [ready] = ok(bureau.inbox())["entries"]
    assert (ready["ready"], ready["overdue"]) == (True, False)
    assert ok(svc.as_("district").inbox())["entries"] == []
    assert ok(bureau.inbox(params={"state": "certified"}))["entries"] == []
    assert ok(bureau.inbox(params={"round_year": 2024}))["entries"] == []
    ok(bureau.fire_certify(case_id="c1", json={"payload": unstructure(DECISION)}))
    assert ok(bureau.inbox())["entries"] == []


def test_paging_with_the_cursor_returns_each_entry_once(svc: Service) -> None:
    _open_round(svc)
    for number in range(5):
        _declare_elsewhere(svc, f"c{number}", f"五华第{number}创业园", HOME)
    district = svc.as_("district")
    whole = [e["case_id"] for e in ok(district.inbox(params={"limit": 50}))["entries"]]
    assert sorted(whole) == [f"c{n}" for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = ok(district.inbox(params=params))
        seen += [e["case_id"] for e in page["entries"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (whole, 3)
    # a cursor is bound to its filters: with others it is a bad cursor, in both languages
    first = ok(district.inbox(params={"limit": 2}))["next_cursor"]
    error = _error(
        district.inbox(params={"limit": 2, "cursor": first, "round_year": 2025}),
        422,
        "InvalidInputError",
    )
    assert "游标" in error["zh"]
    assert "cursor" in error["en"]
    # nor may another actor continue it
    _error(svc.as_("city_bureau").inbox(params={"cursor": first}), 422, "InvalidInputError")


def test_bad_dates_cursors_and_filters_are_422_in_both_languages(memory_svc: Service) -> None:
    svc = memory_svc
    walk_to_certification(svc)
    bureau = svc.as_("city_bureau")
    for response in (
        bureau.inbox(params={"cursor": "not-a-cursor"}),
        bureau.inbox(params={"cursor": "e30"}),  # {} in base64
        bureau.inbox(params={"as_of": "2025-13-01"}),
        bureau.inbox(params={"state": "teleported"}),
        bureau.inbox(params={"district": "五华 区"}),
        bureau.city_dashboard(params={"as_of": "yesterday"}),
        bureau.city_dashboard(params={"district": "Atlantis"}),
        bureau.show_as_of(case_id="c1", date="2025-02-30"),
        bureau.show_as_of(case_id="c1", date="2025-10-16T10:00:00"),  # an instant needs its zone
        bureau.show_as_of(case_id="c1", date="2025-10-16Tnoon"),
        bureau.round_table_as_of(year="2025", date="2025-10"),
        bureau.round_table_as_of(year="2025", date="2025-10-16", params={"district": "x"}),
        bureau.show_known_at(case_id="c1", trigger="teleport"),
        bureau.show_known_at(case_id="c1", trigger="revoke"),  # never revoked
    ):
        _error(response, 422, "InvalidInputError")
    for response in (
        bureau.inbox(params={"limit": 0}),
        bureau.inbox(params={"limit": 501}),
        bureau.city_dashboard(params={"working_days": 0}),
    ):
        _error(response, 422, "ApplicationFormatError")
    _error(bureau.show_as_of(case_id="nope", date="2025-10-16"), 404, "CaseNotFoundError")
    _error(bureau.show_known_at(case_id="nope", trigger="certify"), 404, "CaseNotFoundError")


def test_a_case_as_of_a_day_and_what_the_bureau_knew_when_it_certified(svc: Service) -> None:
    walk_to_certification(svc)
    operator = svc.client
    before = ok(operator.show_as_of(case_id="c1", date=(DECLARED_ON - dt.timedelta(1)).isoformat()))
    assert (before["declared"], before["case"], before["ok"]) == (False, None, True)
    notice = ok(operator.show_as_of(case_id="c1", date=NOTICE_DUE.isoformat()))
    assert (notice["state"], notice["ok"]) == ("publicized", True)
    assert notice["steps"][-1]["action"] == "publicize"
    assert notice["case"]["notice"]["due"] == NOTICE_DUE.isoformat()
    now = ok(operator.show_as_of(case_id="c1", date=CERTIFIED_ON.isoformat()))
    assert (now["state"], now["findings"]) == ("certified", [])
    at = ok(operator.show_as_of(case_id="c1", date="2025-09-26T23:59:59+08:00"))
    assert at["state"] == "publicized"
    assert ok(operator.show_as_of(case_id="c1", date="2025-06-19T23:59:59+08:00"))["case"] is None
    knew = ok(svc.as_("city_bureau").show_known_at(case_id="c1", trigger="certify"))
    assert knew["step"]["actor"] == {"role": "city_bureau", "id": BUREAU.id}
    assert knew["before"]["state"] == "publicized"
    assert knew["before"]["ok"] is True
    assert [o["score"] for o in knew["before"]["case"]["expert_opinions"]] == [88.0]


def test_an_operator_or_a_district_cannot_read_another_s_past(svc: Service) -> None:
    walk_to_certification(svc)
    day = NOTICE_DUE.isoformat()
    for name in ("other_operator", "other_district", "public"):
        client = svc.as_(name)
        _error(client.show_as_of(case_id="c1", date=day), 403, "ServiceError")
        _error(client.show_known_at(case_id="c1", trigger="certify"), 403, "ServiceError")
    for name in ("operator", "district", "expert", "city_bureau"):
        assert ok(svc.as_(name).show_as_of(case_id="c1", date=day))["state"] == "publicized"


def test_who_may_read_the_dashboard_and_a_round_s_past(svc: Service) -> None:
    walk_to_certification(svc)
    svc.clock.set(DECLARED_ON)  # a second case, declared in the round
    _declare_elsewhere(svc, "c2", "呈贡小微企业创业园", AWAY)
    svc.clock.set(CERTIFIED_ON)
    day = {"as_of": CERTIFIED_ON.isoformat()}
    city = ok(svc.as_("city_bureau").city_dashboard(params={**day, "round_year": 2025}))
    assert city["by_district"] == {HOME: {"certified": 1}, AWAY: {"declared": 1}}
    assert ok(svc.as_("expert").city_dashboard(params=day))["by_state"] == city["by_state"]
    own = ok(svc.as_("district").city_dashboard(params=day))
    assert (own["district"], own["by_district"]) == (HOME, {HOME: {"certified": 1}})
    _error(svc.as_("district").city_dashboard(params={"district": AWAY}), 403, "ServiceError")
    for name in ("operator", "public"):
        _error(svc.as_(name).city_dashboard(), 403, "ServiceError")
        _error(svc.as_(name).round_table_as_of(year="2025", date="2025-10-16"), 403, "ServiceError")
    table = ok(svc.as_("city_bureau").round_table_as_of(year="2025", date="2025-09-30"))
    assert {r["case_id"]: r["state"] for r in table["rows"]} == {
        "c1": "publicized",
        "c2": "declared",
    }
    assert table["findings"] == []
    mine = ok(svc.as_("other_district").round_table_as_of(year="2025", date="2025-09-30"))
    assert [r["case_id"] for r in mine["rows"]] == ["c2"]
    _error(
        svc.as_("other_district").round_table_as_of(
            year="2025", date="2025-09-30", params={"district": HOME}
        ),
        403,
        "ServiceError",
    )
    early = ok(svc.as_("city_bureau").round_table_as_of(year="2025", date="2025-06-19"))
    assert early["rows"] == []


def test_a_work_queue_to_rebuild_is_503_not_retryable(
    memory_svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = memory_svc
    monkeypatch.setattr(svc.workflow.store, "work_queue_stale", lambda: True)
    for response in (svc.as_("district").inbox(), svc.as_("city_bureau").city_dashboard()):
        error = _error(response, 503, "StoreError")
        assert error["retryable"] is False
        assert "rebuild-work-queue" in error["hint"]["en"]
        assert "Retry-After" not in response.headers
    # a database newer than the library is the same kind of 503
    newer = SchemaVersionError(Text(zh="数据库版本较新", en="the database is newer"))
    assert (status_of(newer), newer.retryable) == (503, False)


def test_the_how_to_s_inbox_example_is_a_queue_page_of_the_document() -> None:
    import json
    import re

    import jsonschema

    docs = Path(__file__).resolve().parents[1] / "docs"
    document = json.loads((docs / "reference" / "openapi.json").read_text(encoding="utf-8"))
    page = (docs / "how-to" / "service.md").read_text(encoding="utf-8")
    section = page.split("## The morning inbox", 1)[1]
    match = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert match is not None
    example = json.loads(match.group(1))
    queue_page = {"$ref": "#/components/schemas/QueuePage", "components": document["components"]}
    jsonschema.validate(example, queue_page)
    assert document["paths"]["/inbox"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/QueuePage"}
