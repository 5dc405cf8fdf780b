"""The JSON Schema of event documents, generated from the event records themselves.

docs/schemas/events.schema.json is this module's output (``python -m
kmbase_workflow.event_schema > docs/schemas/events.schema.json``); a test regenerates it and
fails when the checked-in file drifts from the code. One definition per event ``type``,
discriminated by ``type``; every field of `kmbase_workflow.events.Event` with its documented
meaning. A document with ``schema_version`` carries every field; one without it is a version 1
document (an outbox row written before the version existed) and needs only the fields of
version 1. The schema is made where every published schema is (``_json_schema``).
"""

from __future__ import annotations

import json
from typing import Any

from ._json_schema import EVENTS_SCHEMA_ID, events_schema

__all__ = ["SCHEMA_ID", "json_schema", "render"]

SCHEMA_ID = EVENTS_SCHEMA_ID
"""The schema's ``$id`` (stable across versions; ``x-schema-version`` names the version)."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every event document this library writes or reads."""
    return events_schema()


def render() -> str:
    """The schema as the checked-in file holds it (sorted keys kept in code order, 2 spaces)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover - the docs' regeneration command
    print(render(), end="")
