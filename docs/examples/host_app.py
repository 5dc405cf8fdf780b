"""A host application: a small FastAPI back end of a district's portal over one `Workflow`.

It shows the contract a host relies on: the host authenticates its users and passes the
library the actor it verified (here a token table stands in for the portal's login); every
route, reads included, answers only a user it knows, and only about the cases that user may
see (the library decides who may act, the host who may read); every library error maps to an
HTTP status by its class; subscribers hear of committed changes. The tests run it against
SQLite and PostgreSQL with many requests in parallel (tests/test_host_app.py). Serve it as
docs/how-to/host-application.md shows: ``create_app(workflow, users)`` with a `Workflow` and
the portal's users.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from kmbase_workflow import Actor, Role, Workflow
from kmbase_workflow.case import Case
from kmbase_workflow.errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    StoreError,
    TransitionRefusedError,
)
from kmbase_workflow.events import Event
from kmbase_workflow.lifecycle import Trigger, step_for
from kmbase_workflow.records import Application
from kmbase_workflow.serialization import structure

STATUS = (
    (InvalidInputError, 422),
    (CaseNotFoundError, 404),
    (TransitionRefusedError, 409),
    (ConcurrencyConflictError, 409),
    (StoreError, 503),
)
"""Each class of library error and its HTTP status (the first match wins)."""


def may_read(actor: Actor, case: Case) -> bool:
    """The portal's reading rule: the city bureau and experts see every case, a district
    authority its own district's, an operator its own base's (by its credit code)."""
    if actor.role in (Role.CITY_BUREAU, Role.EXPERT):
        return True
    if actor.role is Role.DISTRICT_AUTHORITY:
        return actor.district == case.district
    if actor.role is Role.OPERATOR:
        return actor.id in (
            case.operator.unified_social_credit_code,
            case.application.operator.unified_social_credit_code,
        )
    return False


def create_app(workflow: Workflow, users: dict[str, Actor]) -> FastAPI:
    """The portal's API over ``workflow``; ``users`` maps a bearer token to the actor the
    portal's login verified (the library trusts no role a client merely claims)."""
    app = FastAPI(title="district portal")
    notified: list[dict[str, Any]] = []

    def remember(event: Event) -> None:  # e.g. queue an SMS to the operator
        notified.append({"type": event.type, "case": event.case_id, "actor": event.actor.id})

    def readable(case_id: str, actor: Actor) -> Case:
        """The case, if ``actor`` may see it; a case it may not see is as missing (404), so
        that its id, owner and state are not told to whoever guesses one."""
        try:
            case = workflow.case(case_id)
        except CaseNotFoundError:
            case = None
        if case is None or not may_read(actor, case):
            raise HTTPException(status_code=404, detail="no such case")
        return case

    workflow.bus.subscribe(remember)

    def actor_of(authorization: str | None) -> Actor:
        token = (authorization or "").removeprefix("Bearer ").strip()
        if token not in users:
            raise HTTPException(status_code=401, detail="unknown user")
        return users[token]

    @app.exception_handler(KmbaseError)
    def library_error(_request: Request, error: KmbaseError) -> JSONResponse:
        status = next((code for kind, code in STATUS if isinstance(error, kind)), 500)
        failures = [
            {"guard": f.guard, "article": f.article.zh, "zh": f.message.zh, "en": f.message.en}
            for f in getattr(error, "failures", ())
        ]
        body = {
            "error": type(error).__name__,
            "zh": error.describe("zh"),
            "en": error.describe("en"),
            "failures": failures,
        }
        return JSONResponse(body, status_code=status)

    @app.post("/cases", status_code=201)
    def declare(body: dict[str, Any], authorization: str | None = Header(None)) -> dict[str, Any]:
        actor = actor_of(authorization)  # who asks, before what they ask
        application = structure(body, Application, source="application")
        case = workflow.declare(application, actor).case
        return {"case": case.id, "state": case.state.value, "version": case.version}

    @app.post("/cases/{case_id}/{trigger}")
    def act(
        case_id: str,
        trigger: str,
        body: dict[str, Any],
        authorization: str | None = Header(None),
    ) -> dict[str, Any]:
        actor = actor_of(authorization)
        readable(case_id, actor)  # a refusal would tell about a case the actor may not see
        chosen = Trigger(trigger)  # an unknown trigger is an InvalidInputError: 422
        key = body.get("idempotency_key")  # not text: the library's InvalidInputError (422)
        outcome = workflow.fire(
            case_id,
            chosen,
            actor,
            reason=str(body.get("reason", "")),
            payload=step_for(chosen).parse_payload(body.get("payload")),
            idempotency_key=key,
        )
        case = outcome.case
        return {"case": case.id, "state": case.state.value, "version": case.version}

    @app.get("/cases/{case_id}")
    def show(case_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        case = readable(case_id, actor_of(authorization))
        return {
            "case": case.id,
            "state": case.state.value,
            "version": case.version,
            "chain_ok": workflow.verify_chain(case_id).ok,
        }

    @app.get("/notified")
    def events(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        actor = actor_of(authorization)
        heard = list(notified)
        cases = {entry["case"] for entry in heard}
        visible = {case_id for case_id in cases if may_read(actor, workflow.case(case_id))}
        return [entry for entry in heard if entry["case"] in visible]

    return app
