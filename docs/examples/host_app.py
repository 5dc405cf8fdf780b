"""A host application: a small FastAPI back end of a district's portal over one `Workflow`.

It shows the contract a host relies on: the host authenticates its users and passes the
library the actor it verified (here a token table stands in for the portal's login); every
library error maps to an HTTP status by its class; subscribers hear of committed changes. The
tests run it against SQLite and PostgreSQL with many requests in parallel
(tests/test_host_app.py). Run it with ``uvicorn`` as ``create_app("sqlite:///portal.db")``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from kmbase_workflow import Actor, Workflow
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


def create_app(workflow: Workflow, users: dict[str, Actor]) -> FastAPI:
    """The portal's API over ``workflow``; ``users`` maps a bearer token to the actor the
    portal's login verified (the library trusts no role a client merely claims)."""
    app = FastAPI(title="district portal")
    notified: list[dict[str, Any]] = []

    def remember(event: Event) -> None:  # e.g. queue an SMS to the operator
        notified.append({"type": event.type, "case": event.case_id, "actor": event.actor.id})

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
        chosen = Trigger(trigger)  # an unknown trigger is an InvalidInputError: 422
        outcome = workflow.fire(
            case_id,
            chosen,
            actor,
            reason=str(body.get("reason", "")),
            payload=step_for(chosen).parse_payload(body.get("payload")),
            idempotency_key=body.get("idempotency_key"),
        )
        case = outcome.case
        return {"case": case.id, "state": case.state.value, "version": case.version}

    @app.get("/cases/{case_id}")
    def show(case_id: str) -> dict[str, Any]:
        case = workflow.case(case_id)
        return {
            "case": case.id,
            "state": case.state.value,
            "version": case.version,
            "chain_ok": workflow.verify_chain(case_id).ok,
        }

    @app.get("/notified")
    def events() -> list[dict[str, Any]]:
        return list(notified)

    return app
