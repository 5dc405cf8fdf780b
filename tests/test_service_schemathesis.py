"""The HTTP service under a third-party fuzzer (schemathesis), generating from the OpenAPI
document the service publishes, as every role: stateless (each operation alone) and stateful
(a declaration's case fed to the triggers by the document's links).

It asserts what the published contract promises a client generated from it: no 5xx, no
answer outside the documented statuses and schemas, and no request the document says is
valid refused for a reason the document could have said (422 for a type, a bound, a format,
a length, a pattern). What a schema cannot say is refused as the rules say, each reason
named in ``SEMANTIC``: a credit code's check character, a district the policy does not list,
a year without a policy or a calendar, an opaque cursor, a rule comparing two fields.

Run by ``nox -s fuzz`` (schemathesis is the ``fuzz`` dependency group; the default test run
skips this file). ``KMBASE_FUZZ_EXAMPLES`` bounds the examples per operation and role
(default 20); the run prints its figures.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from kmbase_workflow.case import State
from kmbase_workflow.service import create_app
from kmbase_workflow.stores.tokens import token_store
from lifecycle_helpers import ACTORS, harness, walk_to

schemathesis = pytest.importorskip(
    "schemathesis", reason="the fuzz run is its own session: nox -s fuzz (dependency group fuzz)"
)
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("KMBASE_FUZZ_EXAMPLES", "20"))
ROLES = sorted(ACTORS)

SEMANTIC = {
    "unified social credit code": "a credit code's check character (GB 32100-2015)",
    "is not a district of": "a district the policy does not list (第四条, 第九条)",
    "no policy in force": "a day no policy governs",
    "outside the working-day calendar": "a day outside the calendar's data",
    "holiday notice is loaded": "a year without the State Council's holiday notice",
    "the cursor is not valid": "a cursor is opaque: only a page's next_cursor is one",
    "has no step": "a case that never had the step asked about",
    "must not exceed": "a count above the one it is part of",
}
"""The reasons of a 422 the document cannot say, each a rule of the library's."""

FIGURES: collections.Counter[str] = collections.Counter()


def _app() -> Any:
    h = harness()
    walk_to(h, State.DISTRICT_RECOMMENDED, "c1")
    tokens = token_store(h.workflow.store)
    now = dt.datetime.now(dt.UTC)
    issued = {name: tokens.issue(actor, now=now)[1] for name, actor in ACTORS.items()}
    return create_app(h.workflow, poll_interval=0.01), issued


APP, TOKENS = _app()


def _schema(*, coverage: bool) -> Any:
    """The served document (the published one: a test pins them equal), ``EXAMPLES``
    generated requests per operation, with or without the coverage phase (every boundary
    of every parameter: thorough, and the longest part of a run)."""
    config = schemathesis.Config.from_dict(
        {
            "phases": {"coverage": {"enabled": coverage}},
            "generation": {"max-examples": EXAMPLES},
        }
    )
    loaded = schemathesis.openapi.from_asgi("/openapi.json", APP, config=config)
    # the event stream follows for ever: tests/test_service_fuzz.py fuzzes it with follow=false
    return loaded.exclude(path="/events")


schema = _schema(coverage=False)
bounds = _schema(coverage=True)


def refused_for_a_documented_reason(ctx: object, response: Any, case: Any) -> None:
    """A schema-valid request answered 422 names a rule the document cannot state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    error = response.json()["error"]
    text = "\n".join([error["en"], *(p["en"] for p in error.get("problems", []))])
    matched = [reason for reason in SEMANTIC if reason in text]
    if matched:
        FIGURES[f"422 for a rule: {SEMANTIC[matched[0]]}"] += 1
        return
    FIGURES["422 the document could have said"] += 1
    raise AssertionError(f"{case.operation.label}: a schema-valid request refused: {text}")


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _headers(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


def _count(response: Any) -> None:
    FIGURES["requests"] += 1
    FIGURES[f"{response.status_code // 100}xx"] += 1


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    if FIGURES:
        print("\nschemathesis figures:", dict(sorted(FIGURES.items())))


FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def _check(case: Any, who: str) -> None:
    response = case.call(headers=_headers(who))
    _count(response)
    case.validate_response(
        response, checks=[*CHECKS, refused_for_a_documented_reason], headers=_headers(who)
    )


@pytest.mark.parametrize("who", ROLES)
@schema.parametrize()
@FUZZ
def test_every_operation_as_every_role(case: Any, who: str) -> None:
    _check(case, who)


@pytest.mark.parametrize("who", ["operator", "city_bureau"])
@bounds.parametrize()
@FUZZ
def test_every_boundary_of_every_operation(case: Any, who: str) -> None:
    _check(case, who)


def _state_machine(who: str) -> Any:
    class Machine(schema.as_state_machine()):  # type: ignore[misc] - made at run time
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": _headers(who)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            _count(response)
            FIGURES["stateful steps"] += 1
            case.validate_response(
                response, checks=[*CHECKS, refused_for_a_documented_reason], headers=_headers(who)
            )

    return Machine


@pytest.mark.parametrize("who", ["operator", "district", "city_bureau", "expert"])
def test_stateful_as_every_acting_role(who: str) -> None:
    machine = _state_machine(who)
    machine.run(
        settings=settings(
            FUZZ,
            stateful_step_count=6,
        )
    )
