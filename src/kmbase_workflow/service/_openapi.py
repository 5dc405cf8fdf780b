"""The OpenAPI document the service publishes: the routes' operations, the records they read
and write as component schemas, the security schemes, and links along the lifecycle."""

from __future__ import annotations

from typing import Any

import attrs
from fastapi import FastAPI

from .._json_schema import TEXT, SchemaBuilder
from ..actors import Actor
from ..case import Case, DeclarationRound, State
from ..deadlines import (
    Deadline,
)
from ..lifecycle import RECORDS, STEPS, Trigger
from ..serialization import MAX_INTEGER
from ._queues import QUEUE_SCHEMAS
from ._routing import (
    schema_ref,
)
from ._triggers import trigger_path

__all__ = ["component_schemas", "openapi_document"]


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` (made once, then kept)."""
    from fastapi.openapi.utils import get_openapi  # noqa: PLC0415

    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        document.setdefault("components", {}).setdefault("schemas", {}).update(component_schemas())
        document["components"]["securitySchemes"] = {
            "token": {"type": "http", "scheme": "bearer", "description": "kmbase token issue"},
            "gateway": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Kmbase-Identity",
                "description": "signed by the SSO gateway (docs/explanation/service-auth.md)",
            },
        }
        document["security"] = [{"token": []}, {"gateway": []}]
        _add_links(document["paths"])
        app.openapi_schema = document
    return app.openapi_schema


def _add_links(paths: dict[str, Any]) -> None:
    """OpenAPI links along the lifecycle: a write's case to its reads and to the steps that
    may follow from the state it leaves the case in (what a client, or a stateful test,
    calls next with the same ``case_id``)."""
    steps = [step for step in (*STEPS, *RECORDS) if step.trigger is not Trigger.DECLARE]
    for step in (*STEPS, *RECORDS):
        if step.trigger is Trigger.DECLARE:
            answer = paths["/cases"]["post"]["responses"]["201"]
        else:
            answer = paths[trigger_path(step.trigger)]["post"]["responses"]["200"]
        after = step.destination
        following = [s for s in steps if after is not None and after in s.sources]
        answer["links"] = {
            name: {"operationId": name, "parameters": {"case_id": "$response.body#/case/id"}}
            for name in ("show", "history", *(f"fire_{s.trigger.value}" for s in following))
        }


def component_schemas() -> dict[str, Any]:
    """The records the routes read and write, as OpenAPI component schemas."""
    from ..history import ChainReport, HistoryEntry  # noqa: PLC0415
    from ..records import Application  # noqa: PLC0415
    from ._errors import ERROR_SCHEMA  # noqa: PLC0415

    builder = SchemaBuilder("#/components/schemas/")
    for record in (Application, Case, HistoryEntry, ChainReport, DeclarationRound, Actor, Deadline):
        builder.of(record)
    for step in (*STEPS, *RECORDS):
        if step.payload is not None and attrs.has(step.payload):
            builder.of(step.payload)
    schemas = dict(sorted(builder.definitions.items()))
    schemas["ErrorResponse"] = ERROR_SCHEMA
    schemas["Outcome"] = {
        "title": "Outcome",
        "description": "What a write did: the case after it, its history entry, its events.",
        "type": "object",
        "required": ["case", "entry", "events", "replayed"],
        "properties": {
            "case": schema_ref("Case"),
            "entry": schema_ref("HistoryEntry"),
            "events": {"type": "array", "items": {"type": "object"}},
            "replayed": {
                "type": "boolean",
                "description": "An idempotency key's first outcome, nothing written",
            },
        },
    }
    schemas["Acknowledgement"] = {
        "title": "Acknowledgement",
        "description": "A write's answer to a caller who may not read the case (an objection "
        "from the public, 第十三条): their own act, not the case.",
        "type": "object",
        "required": ["case", "action", "at", "event_ids", "replayed"],
        "properties": {
            "case": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string"}},
                "additionalProperties": False,
            },
            "action": {"type": "string", "description": "The trigger fired"},
            "to_state": {
                "type": "string",
                "enum": [state.value for state in State],
                "description": "Where the step leads (absent for a record, which changes no state)",
            },
            "at": {"type": "string", "format": "date-time", "description": "When it was recorded"},
            "event_ids": {"type": "array", "items": {"type": "string"}},
            "replayed": {
                "type": "boolean",
                "description": "An idempotency key's first outcome, nothing written",
            },
        },
        "additionalProperties": False,
    }
    # free data (a notice's details) as the reader takes it: keys and text without NUL,
    # integers within 64 bits
    schemas["JsonObject"] = {
        "title": "JsonObject",
        "type": "object",
        "propertyNames": TEXT,
        "additionalProperties": schema_ref("JsonValue"),
    }
    schemas["JsonValue"] = {
        "title": "JsonValue",
        "anyOf": [
            {"type": "null"},
            {"type": "boolean"},
            {"type": "integer", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER},
            {"type": "number", "not": {"type": "integer"}},
            TEXT,
            {"type": "array", "items": schema_ref("JsonValue")},
            schema_ref("JsonObject"),
        ],
    }
    schemas.update(QUEUE_SCHEMAS)
    schemas["CaseSummary"] = {
        "title": "CaseSummary",
        "type": "object",
        "properties": {
            name: {"type": "integer"} if name in ("round_year", "version") else {"type": "string"}
            for name in (
                "id",
                "base_id",
                "base_name",
                "district",
                "round_year",
                "state",
                "version",
                "declared_on",
            )
        },
    }
    return schemas
