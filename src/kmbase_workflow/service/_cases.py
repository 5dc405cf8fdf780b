"""The cases: declare one (第九条), list those the caller may see, read one, its history
and the check of its hash chain."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from .._i18n import Text
from ..actors import Role
from ..case import Case, State
from ..serialization import loads_application
from ._routing import (
    ERRORS,
    ActorParam,
    BodyText,
    IdempotencyKey,
    RootPath,
    WorkflowParam,
    declaration_refused_as_read,
    forbidden,
    json_response,
    may_read,
    ok_response,
    outcome_response,
    readable_case,
    schema_ref,
    scoped_key,
)

__all__ = ["router"]

router = APIRouter(responses=ERRORS)


@router.post(
    "/cases",
    tags=["cases"],
    status_code=201,
    responses={
        **ok_response(schema_ref("Outcome"), "Declared", 201),
        **ok_response(schema_ref("Outcome"), "Replayed: the idempotency key's first outcome"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref("Application")}},
        }
    },
)
def declare(
    actor: ActorParam,
    workflow: WorkflowParam,
    body: BodyText,
    root_path: RootPath,
    idempotency_key: IdempotencyKey = None,
    case_id: Annotated[
        str | None, Query(max_length=200, description="The new case's id (default: a fresh one)")
    ] = None,
    base_id: Annotated[
        str | None,
        Query(max_length=200, description="The base's id (default: from its credit code)"),
    ] = None,
) -> Response:
    """Declare an application (第九条): the body is the application, in the format of
    docs/application-format.md (its JSON Schema: /schema/application.json)."""
    application = loads_application(body, source="application")
    base = base_id or Case.default_base_id(application)
    with declaration_refused_as_read(workflow, actor, base):
        outcome = workflow.declare(
            application,
            actor,
            case_id=case_id,
            base_id=base_id,
            idempotency_key=scoped_key(actor, idempotency_key),
        )
    return outcome_response(outcome, actor, status=201, root_path=root_path)


CaseFilter = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/cases",
    tags=["cases"],
    responses=ok_response({"type": "array", "items": schema_ref("CaseSummary")}),
)
def cases(
    actor: ActorParam,
    workflow: WorkflowParam,
    state: Annotated[
        str | None,
        Query(max_length=200, json_schema_extra={"enum": [state.value for state in State]}),
    ] = None,
    round_year: Annotated[int | None, Query(ge=0, le=9999)] = None,
    district: CaseFilter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    """The cases you may see, in declaration order, filtered and paged."""
    if actor.role is Role.PUBLIC:
        raise forbidden(Text(zh="案件列表", en="the list of cases"))
    if actor.role is Role.DISTRICT_AUTHORITY:
        if district is not None and district != actor.district:
            raise forbidden(Text(zh=f"{district}的案件", en=f"the cases of {district}"))
        district = actor.district
    found = workflow.cases(
        state=State(state) if state else None, round_year=round_year, district=district
    )
    visible = (case for case in found if may_read(actor, case))
    page = itertools.islice(visible, offset, offset + limit)
    return json_response([_summary(case) for case in page])


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "base_id": case.base_id,
        "base_name": case.base_name,
        "district": case.district,
        "round_year": case.round_year,
        "state": case.state.value,
        "version": case.version,
        "declared_on": case.declared_on.isoformat(),
    }


@router.get("/cases/{case_id}", tags=["cases"], responses=ok_response(schema_ref("Case")))
def show(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """A case as it stands (with its application)."""
    return json_response(readable_case(workflow, actor, case_id))


@router.get(
    "/cases/{case_id}/history",
    tags=["cases"],
    responses=ok_response({"type": "array", "items": schema_ref("HistoryEntry")}),
)
def history(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """Every step of a case, oldest first: who, when, why, on what evidence (第二十条)."""
    readable_case(workflow, actor, case_id)
    return json_response(workflow.history(case_id))


@router.get(
    "/cases/{case_id}/verification",
    tags=["cases"],
    responses=ok_response(schema_ref("ChainReport")),
)
def verification(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """Check the case against its hash-chained history (`Workflow.verify_chain`)."""
    readable_case(workflow, actor, case_id)
    return json_response(workflow.verify_chain(case_id))
