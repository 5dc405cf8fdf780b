"""Fuzz the HTTP service: whatever a client sends (bad JSON, wrong types, huge values,
unknown triggers, odd paths and queries), the answer is a documented error in both
languages, never a 500 nor a traceback."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.parse
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmbase_workflow.case import State
from kmbase_workflow.lifecycle import Trigger
from kmbase_workflow.service import create_app
from kmbase_workflow.stores.tokens import token_store
from lifecycle_helpers import ACTORS, harness, walk_to

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.dates().map(dt.date.isoformat),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
raw_bodies = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=60),
    st.sampled_from(
        ["", "{", "[" * 5000 + "]" * 5000, '{"a": 1e999}', '{"n": ' + "9" * 5000 + "}", "\ud800"]
    ),
)
# a cursor is URL-safe base64 of JSON: fuzz both its text and the JSON inside it
cursors = json_values.map(
    lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
)
triggers = st.sampled_from([t.value for t in Trigger]) | st.text(max_size=20)
identifiers = st.text(max_size=40)


@pytest.fixture(scope="module")
def client() -> Iterator[tuple[TestClient, dict[str, str]]]:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED, "c1")
    tokens = token_store(h.workflow.store)
    now = dt.datetime.now(dt.UTC)
    issued = {name: tokens.issue(actor, now=now)[1] for name, actor in ACTORS.items()}
    with TestClient(create_app(h.workflow, poll_interval=0.01)) as http:
        yield http, issued


def _check(response: object) -> None:
    status = response.status_code
    assert status < 500, response.text
    if status >= 400:
        error = response.json()["error"]
        assert error["zh"]
        assert error["en"]
        assert error["code"]


@FUZZ
@given(body=raw_bodies, who=st.sampled_from(sorted(ACTORS)))
def test_declare_takes_any_body(
    client: tuple[TestClient, dict[str, str]], body: str, who: str
) -> None:
    http, tokens = client
    response = http.post(
        "/cases",
        content=body.encode("utf-8", "surrogatepass"),
        headers={"Authorization": f"Bearer {tokens[who]}"},
    )
    _check(response)


@FUZZ
@given(
    trigger=triggers,
    body=json_values | raw_bodies,
    who=st.sampled_from(sorted(ACTORS)),
    case_id=st.sampled_from(["c1", "nope"]) | identifiers,
    key=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
)
def test_every_trigger_takes_any_body(
    client: tuple[TestClient, dict[str, str]],
    *,
    trigger: str,
    body: object,
    who: str,
    case_id: str,
    key: str | None,
) -> None:
    http, tokens = client
    content = body if isinstance(body, str) else json.dumps({"payload": body, "reason": "fuzz"})
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    if key:
        headers["Idempotency-Key"] = key
    path = f"/cases/{urllib.parse.quote(case_id, safe='')}/{urllib.parse.quote(trigger, safe='')}"
    _check(http.post(path, content=content.encode("utf-8", "surrogatepass"), headers=headers))


@FUZZ
@given(
    route=st.sampled_from(
        [
            "/calendar/working-day",
            "/calendar/add",
            "/calendar/count",
            "/deadlines/notice",
            "/deadlines/change-filing",
            "/cases",
            "/events",
            "/inbox",
            "/dashboard",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "date",
                "days",
                "start",
                "end",
                "published",
                "completed",
                "allow_provisional",
                "state",
                "round_year",
                "limit",
                "offset",
                "after",
                "follow",
                "as_of",
                "district",
                "cursor",
                "working_days",
            ]
        ),
        st.text(max_size=12)
        | st.sampled_from(["五华区", "呈贡区", "五华 区"])
        | cursors
        | st.integers(min_value=-(2**70), max_value=2**70).map(str)
        | st.dates().map(dt.date.isoformat),
        max_size=4,
    ),
)
def test_reads_take_any_query(
    client: tuple[TestClient, dict[str, str]], route: str, params: dict[str, str]
) -> None:
    http, tokens = client
    if route == "/events":
        params = {**params, "follow": "false"}
    _check(
        http.get(route, params=params, headers={"Authorization": f"Bearer {tokens['city_bureau']}"})
    )


@FUZZ
@given(token=st.text(max_size=80), path=st.sampled_from(["/me", "/cases/c1", "/cases/c1/history"]))
def test_any_authorization_header_is_401_or_known(
    client: tuple[TestClient, dict[str, str]], token: str, path: str
) -> None:
    http, _ = client
    header = "".join(ch for ch in token if 32 <= ord(ch) < 127)
    response = http.get(path, headers={"Authorization": f"Bearer {header}"})
    _check(response)
    assert response.status_code == 401


@FUZZ
@given(
    who=st.sampled_from(sorted(ACTORS)),
    params=st.dictionaries(
        st.sampled_from(["cursor", "as_of", "state", "district", "round_year", "limit"]),
        st.text(max_size=12) | cursors | st.dates().map(dt.date.isoformat),
        max_size=3,
    ),
)
def test_every_actor_s_inbox_and_dashboard_take_any_query(
    client: tuple[TestClient, dict[str, str]], who: str, params: dict[str, str]
) -> None:
    http, tokens = client
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    for route in ("/inbox", "/dashboard"):
        _check(http.get(route, params=params, headers=headers))


@FUZZ
@given(
    who=st.sampled_from(sorted(ACTORS)),
    case_id=st.sampled_from(["c1", "nope"]) | identifiers,
    day=st.dates().map(dt.date.isoformat)
    | st.datetimes(timezones=st.none() | st.timezones()).map(dt.datetime.isoformat)
    | st.text(max_size=30),
    trigger=triggers,
    year=st.integers(min_value=-(2**40), max_value=2**40),
    district=st.none() | st.text(max_size=12) | st.sampled_from(["五华区", "呈贡区"]),
)
def test_history_as_data_takes_any_path(
    client: tuple[TestClient, dict[str, str]],
    *,
    who: str,
    case_id: str,
    day: str,
    trigger: str,
    year: int,
    district: str | None,
) -> None:
    http, tokens = client
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    case, when = urllib.parse.quote(case_id, safe=""), urllib.parse.quote(day, safe="")
    params = {} if district is None else {"district": district}
    _check(http.get(f"/cases/{case}/as-of/{when}", headers=headers))
    _check(
        http.get(f"/cases/{case}/known-at/{urllib.parse.quote(trigger, safe='')}", headers=headers)
    )
    _check(http.get(f"/rounds/{year}/as-of/{when}", params=params, headers=headers))
