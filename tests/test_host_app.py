"""The host-application example of docs/how-to/host-application.md, run as a portal would run it:
one `Workflow` shared by the threads of a web server, 40 requests at once, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

fastapi = pytest.importorskip("fastapi", reason="the host example needs fastapi (tests group)")
from fastapi.testclient import TestClient  # noqa: E402

from kmbase_workflow import Actor, FixedClock, Role, Workflow  # noqa: E402
from kmbase_workflow._credit_code import credit_code_check_character  # noqa: E402
from kmbase_workflow.examples import eligible_application  # noqa: E402
from kmbase_workflow.records import Application  # noqa: E402
from kmbase_workflow.serialization import unstructure  # noqa: E402
from kmbase_workflow.stores import open_store  # noqa: E402
from postgres_server import URL, require_server, schema  # noqa: E402, F401 - a fixture

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "host_app.py"
PARALLEL = 40


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("host_app", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["host_app"] = module
    spec.loader.exec_module(module)
    return module


def _application(index: int) -> Application:
    """An eligible application of its own base and operator (a valid credit code each)."""
    base = eligible_application()
    body = f"91530102MA6K{index:05d}"
    code = body + credit_code_check_character(body)
    return attrs.evolve(
        base,
        base=attrs.evolve(base.base, name=f"第{index}号创业园"),
        operator=attrs.evolve(
            base.operator, name=f"第{index}号园区运营公司", unified_social_credit_code=code
        ),
    )


APPLICATIONS = [_application(i) for i in range(PARALLEL)]
USERS = {
    "bureau": Actor(Role.CITY_BUREAU, "bureau-01"),
    "wuhua": Actor(Role.DISTRICT_AUTHORITY, "wh-007", district="五华区"),
    **{f"op{i}": Actor.for_operator(app.operator) for i, app in enumerate(APPLICATIONS)},
}
RECOMMENDATION = {
    "opinion": "同意推荐",
    "authenticity_checked": True,
    "spot_check": {"resident_small_micro_enterprises": 60, "sampled": 6, "satisfied": 6},
}


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.db'}"
        return
    require_server()
    name = request.getfixturevalue("schema")
    yield f"{URL}?schema={name}"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_portal_declares_acts_refuses_and_hears_in_parallel(store_url: str) -> None:
    host = _example()
    clock = FixedClock(dt.date(2025, 6, 20))
    with Workflow(open_store(store_url), clock=clock) as workflow:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), USERS["bureau"])
        client = TestClient(host.create_app(workflow, USERS))

        def declare(i: int) -> tuple[int, dict[str, object]]:
            response = client.post(
                "/cases", json=unstructure(APPLICATIONS[i]), headers=_auth(f"op{i}")
            )
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            declared = list(pool.map(declare, range(PARALLEL)))
        assert [code for code, _ in declared] == [201] * PARALLEL
        ids = [str(body["case"]) for _, body in declared]
        assert len(set(ids)) == PARALLEL

        def recommend(case_id: str) -> int:
            response = client.post(
                f"/cases/{case_id}/recommend",
                json={"payload": RECOMMENDATION},
                headers=_auth("wuhua"),
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            assert list(pool.map(recommend, ids)) == [200] * PARALLEL

        # each case went through once, and its chain verifies
        for case_id in ids:
            shown = client.get(f"/cases/{case_id}", headers=_auth("wuhua")).json()
            assert (shown["state"], shown["version"], shown["chain_ok"]) == (
                "district_recommended",
                2,
                True,
            )
        notified = client.get("/notified", headers=_auth("bureau")).json()
        assert sorted(e["type"] for e in notified) == sorted(
            ["declared"] * PARALLEL + ["recommended"] * PARALLEL
        )

        # refusals and bad input keep their shape: status, error class, both languages
        again = client.post(
            f"/cases/{ids[0]}/recommend", json={"payload": RECOMMENDATION}, headers=_auth("wuhua")
        )
        assert again.status_code == 409
        assert again.json()["error"] == "TransitionRefusedError"
        assert again.json()["failures"][0]["guard"] == "state"
        wrong_role = client.post(f"/cases/{ids[1]}/pass_review", json={}, headers=_auth("wuhua"))
        assert wrong_role.status_code == 409
        assert wrong_role.json()["failures"][0]["guard"] == "role"
        unknown = client.post(f"/cases/{ids[1]}/approve", json={}, headers=_auth("bureau"))
        assert unknown.status_code == 422
        assert "approve" in unknown.json()["en"]
        missing = client.get("/cases/nobody", headers=_auth("bureau"))
        assert missing.status_code == 404
        bad = client.post("/cases", json={"base": 1}, headers=_auth("op0"))
        assert bad.status_code == 422
        assert bad.json()["zh"]
        assert bad.json()["en"]
        stranger = client.post("/cases", json={}, headers=_auth("nobody"))
        assert stranger.status_code == 401


def test_a_key_that_is_not_text_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    # a JSON number passed on as the idempotency key was a TypeError: a 500 in the host
    host = _example()
    with Workflow(open_store(f"sqlite:///{tmp_path / 'portal.db'}")) as workflow:
        workflow.clock = FixedClock(dt.date(2025, 6, 20))
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), USERS["bureau"])
        client = TestClient(host.create_app(workflow, USERS))
        declared = client.post("/cases", json=unstructure(APPLICATIONS[0]), headers=_auth("op0"))
        case_id = declared.json()["case"]
        body = {"payload": RECOMMENDATION, "idempotency_key": 7}
        refused = client.post(f"/cases/{case_id}/recommend", json=body, headers=_auth("wuhua"))
        assert refused.status_code == 422
        assert refused.json()["error"] == "InvalidInputError"
        assert "idempotency_key" in refused.json()["en"]
        assert workflow.case(case_id).version == 1


def test_the_portal_answers_only_its_users_and_only_about_their_cases(tmp_path: Path) -> None:
    """Reads need a known user too, and a case its user may not see is as missing (404):
    no state, owner or refusal is told about it (issue 22: GET /cases/{id} and /notified
    answered anyone)."""
    host = _example()
    clock = FixedClock(dt.date(2025, 6, 20))
    with Workflow(open_store(f"sqlite:///{tmp_path / 'portal.db'}"), clock=clock) as workflow:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), USERS["bureau"])
        client = TestClient(host.create_app(workflow, USERS))
        mine = client.post("/cases", json=unstructure(APPLICATIONS[0]), headers=_auth("op0"))
        assert mine.status_code == 201
        case_id = mine.json()["case"]
        for path in (f"/cases/{case_id}", "/notified"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers=_auth("nobody")).status_code == 401
        assert client.get(f"/cases/{case_id}", headers=_auth("op0")).status_code == 200
        assert client.get(f"/cases/{case_id}", headers=_auth("wuhua")).status_code == 200
        hidden = client.get(f"/cases/{case_id}", headers=_auth("op1"))
        missing = client.get("/cases/nobody", headers=_auth("op1"))
        assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
        assert hidden.status_code == 404
        # another operator firing on it learns nothing either, and nothing is written
        withdrawn = client.post(f"/cases/{case_id}/withdraw", json={}, headers=_auth("op1"))
        assert withdrawn.status_code == 404
        assert case_id not in withdrawn.text
        assert client.get("/notified", headers=_auth("op1")).json() == []
        assert [e["type"] for e in client.get("/notified", headers=_auth("op0")).json()] == [
            "declared"
        ]
        assert workflow.case(case_id).version == 1
        # a key that is not a string is bad input, not a server error
        keyed = client.post(
            f"/cases/{case_id}/recommend",
            json={"payload": RECOMMENDATION, "idempotency_key": 7},
            headers=_auth("wuhua"),
        )
        assert keyed.status_code == 422


def _serving_block() -> str:
    page = (EXAMPLE.parents[1] / "how-to" / "host-application.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    serving = [block for block in blocks if "uvicorn.run(" in block]
    assert len(serving) == 1
    return str(serving[0])


def test_the_docs_serve_it_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's "Serve it" block runs as written (uvicorn's start is stubbed), and the
    application it serves answers its users."""
    uvicorn = pytest.importorskip("uvicorn")
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: served.append(app))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    monkeypatch.delitem(sys.modules, "host_app", raising=False)
    monkeypatch.setenv("PORTAL_USERS", str(tmp_path / "users.json"))
    (tmp_path / "users.json").write_text(
        '{"t-wuhua": {"role": "district_authority", "id": "wh-007", "district": "五华区"}}',
        encoding="utf-8",
    )
    exec(compile(_serving_block(), "host-application.md", "exec"), {"__name__": "__main__"})
    (app,) = served
    client = TestClient(app)
    assert client.get("/notified").status_code == 401
    assert client.get("/notified", headers=_auth("t-wuhua")).json() == []
