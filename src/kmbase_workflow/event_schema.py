"""The JSON Schema of event documents, generated from the event records themselves.

docs/schemas/events.schema.json is this module's output (``python -m
kmbase_workflow.event_schema > docs/schemas/events.schema.json``); a test regenerates it and
fails when the checked-in file drifts from the code. One definition per event ``type``,
discriminated by ``type``; every field of `kmbase_workflow.events.Event` with its documented
meaning. A document with ``schema_version`` carries every field; one without it is a version 1
document (an outbox row written before the version existed) and needs only the fields of
version 1.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from ._i18n import Text
from .actors import Actor
from .events import (
    _ADDED_IN_2,
    EVENT_SCHEMA_VERSION,
    EVENT_TYPES,
    Event,
    EventDeadlines,
    TransitionEvent,
)

__all__ = ["SCHEMA_ID", "json_schema", "render"]

SCHEMA_ID = "urn:kmbase-workflow:schema:events"
"""The schema's ``$id`` (stable across versions; ``x-schema-version`` names the version)."""

_RECORDS: dict[type, str] = {Actor: "Actor", Text: "Text", EventDeadlines: "EventDeadlines"}

_FIELD_DOCS = {
    "id": "Unique and stable: deduplicate on it (it is also the broker message id).",
    "type": "The event's name; one definition of this schema per type.",
    "case_id": "The case (one application); for round_opened, the round's chain (round:2025).",
    "base_id": "The base across rounds (empty for round_opened).",
    "occurred_at": "When, timezone-aware (Asia/Shanghai), from the workflow's clock.",
    "actor": "Who acted: an identity (role, id, district), a display name, the face used.",
    "payload": "What the step recorded, and the base's name, district and round.",
    "schema_version": "The document version (absent: version 1).",
    "trigger": "The trigger that emitted the event.",
    "from_state": "The case's state before (null: a declaration, there was no case).",
    "to_state": "The case's state after (equal to from_state for a record).",
    "reason": "Why, as the actor gave it.",
    "round_year": "The declaration round of the case.",
    "article": "The article(s) of the measures the step applies, in Chinese and English.",
    "deadlines": "The case's deadlines after the step.",
}


def _type_schema(kind: Any) -> dict[str, Any]:
    """The JSON Schema of one annotated field type."""
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        members = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        (member,) = members
        return {"anyOf": [_type_schema(member), {"type": "null"}]}
    if kind in _RECORDS:
        return {"$ref": f"#/$defs/{_RECORDS[kind]}"}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return {"enum": [member.value for member in kind]}
    if origin is not None and issubclass(origin, Mapping):
        return {"type": "object"}
    simple = {
        str: {"type": "string"},
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        dt.datetime: {"type": "string", "format": "date-time"},
        dt.date: {"type": "string", "format": "date"},
    }
    if kind in simple:
        return dict(simple[kind])
    msg = f"no JSON Schema for {kind!r}: add it to kmbase_workflow.event_schema"
    raise TypeError(msg)


def _record_schema(
    cls: type, docs: Mapping[str, str] | None = None, *, all_required: bool = True
) -> dict[str, Any]:
    fields = attrs.fields(attrs.resolve_types(cls))
    properties = {}
    for field in fields:
        schema = _type_schema(field.type)
        description = (docs or {}).get(field.name)
        if description:
            schema["description"] = description
        properties[field.name] = schema
    return {
        "type": "object",
        "properties": properties,
        "required": [
            field.name for field in fields if all_required or field.default is attrs.NOTHING
        ],
    }


def _event_schema(cls: type[Event]) -> dict[str, Any]:
    schema = _record_schema(cls, _FIELD_DOCS)
    schema["properties"] = {
        "type": {"const": cls.type, "description": _FIELD_DOCS["type"]},
        **schema["properties"],
    }
    names = ["type", *schema.pop("required")]
    added = _ADDED_IN_2 - (
        {"trigger", "from_state", "to_state", "reason"}
        if issubclass(cls, TransitionEvent)
        else set()
    )
    schema["required"] = [name for name in names if name not in added]
    schema["anyOf"] = [
        {"required": sorted(added)},
        {"not": {"required": ["schema_version"]}},
    ]
    return {
        "title": cls.__name__,
        "description": f"{cls.description.zh} / {cls.description.en}",
        **schema,
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every event document this library writes or reads."""
    definitions: dict[str, Any] = {
        "Actor": _record_schema(Actor, all_required=False),  # a version 1 actor may lack ``via``
        "Text": _record_schema(Text),
        "EventDeadlines": _record_schema(EventDeadlines),
    }
    for name, cls in sorted(EVENT_TYPES.items()):
        definitions[name] = _event_schema(cls)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "kmbase_workflow event",
        "description": "An event of the certification workflow, as the outbox stores it, "
        "`kmbase follow` prints it and a broker bridge sends it (docs/events.md).",
        "x-schema-version": EVENT_SCHEMA_VERSION,
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in sorted(EVENT_TYPES)],
        "$defs": definitions,
    }


def render() -> str:
    """The schema as the checked-in file holds it (sorted keys kept in code order, 2 spaces)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover - the docs' regeneration command
    print(render(), end="")
