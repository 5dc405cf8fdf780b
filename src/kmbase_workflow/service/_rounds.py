"""The declaration rounds (第九条): list and open them, and rank a round's recommended cases
(择优, 第十一条)."""

from __future__ import annotations

import attrs
from fastapi import APIRouter
from fastapi.responses import Response

from .._json_schema import TEXT
from ..case import DeclarationRound
from ..serialization import MAX_INTEGER, structure
from ._routing import (
    ERRORS,
    ActorParam,
    BodyText,
    RoundYear,
    WorkflowParam,
    json_object,
    json_response,
    ok_response,
    outcome_data,
    schema_ref,
)

__all__ = ["router"]

router = APIRouter(responses=ERRORS)


@router.get(
    "/rounds",
    tags=["rounds"],
    responses=ok_response({"type": "array", "items": schema_ref("DeclarationRound")}),
)
def rounds(actor: ActorParam, workflow: WorkflowParam) -> Response:
    """Every declaration round (第九条)."""
    return json_response(workflow.store.rounds())


@router.post(
    "/rounds",
    tags=["rounds"],
    status_code=201,
    responses=ok_response(schema_ref("DeclarationRound"), "Opened", 201),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref("DeclarationRound")}},
        }
    },
)
def open_round(actor: ActorParam, workflow: WorkflowParam, body: BodyText) -> Response:
    """Open the year's declaration round (the city bureau, 第九条)."""
    wanted = structure(json_object(body, "round"), DeclarationRound, source="round")
    opened = workflow.open_round(
        wanted.year, wanted.opens_on, wanted.closes_on, actor, wanted.notice
    )
    return json_response(opened, status=201)


@router.post(
    "/rounds/{year}/selection",
    tags=["rounds"],
    responses=ok_response({"type": "array", "items": schema_ref("Outcome")}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["quota"],
                        "properties": {
                            "quota": {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER},
                            "reason": TEXT,
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    },
)
def select_round(
    year: RoundYear, actor: ActorParam, workflow: WorkflowParam, body: BodyText
) -> Response:
    """Rank the round's recommended cases and select the best ``quota`` (择优, 第十一条)."""
    data = json_object(body, "selection")
    selection = structure(data, _Selection, source="selection")
    outcomes = workflow.select_round(year, actor, quota=selection.quota, reason=selection.reason)
    return json_response([outcome_data(outcome, actor) for outcome in outcomes])


@attrs.frozen
class _Selection:
    quota: int
    reason: str = ""
