"""Every JSON Schema the library publishes, made in one place from the records (attrs
classes) and their type annotations: the application format (docs/reference/
application.schema.json), the records of the OpenAPI document and a trigger's command body
(`kmbase_workflow.service`), and the event documents (docs/schemas/events.schema.json,
`kmbase_workflow.event_schema`).

A schema of what the library *reads* (`SchemaBuilder`) is derived from the same type
annotations the project's converter (`kmbase_workflow.serialization`) reads with, so it
cannot say something the reader does not do: unknown keys are refused
(``additionalProperties: false``), integers are 64-bit, dates are ``YYYY-MM-DD``, text holds
no NUL character, a field with a default may be left out, and a field's validator says its
bounds (not negative: ``minimum: 0``; not blank: a pattern; a credit code: its 18
characters). Rules the schema cannot state (a credit code's check digit, a count not above
another, the eligibility rules) are the library's, and its error says which failed. Field
descriptions are the docstrings written under each field.

A schema of the documents the library *writes* (the events, `DocumentSchemaBuilder`) walks
the same annotations and says what every such document carries, for consumers in any
language: each field present, types without the reader's bounds.
"""

from __future__ import annotations

import ast
import collections.abc
import datetime as dt
import enum
import functools
import inspect
import itertools
import textwrap
import types
import typing
from typing import Any

import attrs

from . import records
from .case import DeferredApplication
from .records import Application
from .serialization import MAX_INTEGER

if typing.TYPE_CHECKING:
    from .lifecycle import Step

__all__ = [
    "EVENTS_SCHEMA_ID",
    "TEXT",
    "DocumentSchemaBuilder",
    "SchemaBuilder",
    "application_schema",
    "command_schema",
    "events_schema",
]

Schema = dict[str, Any]

TEXT: Schema = {"type": "string", "pattern": "^[^\\u0000]*$"}
"""Text as the reader takes it: any string without a NUL character."""

_CONSTRAINTS: dict[object, Schema] = {
    records._non_negative: {"minimum": 0},
    # not blank: a character that is neither white space nor NUL
    records._non_empty: {"pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"},
    records._credit_code: {"pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$"},
}
"""What the records' field validators ask, in JSON Schema (what a schema can say of them)."""


def _constrained(schema: Schema, validator: object) -> Schema:
    """``schema`` with the bounds of ``validator`` (each of a list of them; on the non-null
    branch of an optional field)."""
    for each in getattr(validator, "_validators", (validator,)):  # attrs' and_ of a list
        extra = _CONSTRAINTS.get(each)
        if extra is None:
            continue
        options = schema.get("anyOf")
        if options is not None:
            schema = {**schema, "anyOf": [{**options[0], **extra}, *options[1:]]}
        else:
            schema = {**schema, **extra}
    return schema


@functools.cache
def _field_docs(cls: type) -> dict[str, str]:
    """The docstrings written under a class's fields (``x: int`` then ``\"\"\"…\"\"\"``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):  # pragma: no cover - source not shipped
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for field, after in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _summary(cls: type) -> str:
    return inspect.cleandoc(cls.__doc__ or cls.__name__).split("\n\n")[0].replace("\n", " ")


class SchemaBuilder:
    """Schemas of records, each record once under ``definitions`` and referred to by
    ``{"$ref": prefix + name}`` (``#/$defs/`` in a JSON Schema document,
    ``#/components/schemas/`` in OpenAPI)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.definitions: dict[str, Schema] = {}

    def of(self, annotation: Any) -> Schema:  # noqa: PLR0911, PLR0912 - one case per kind of type
        """The schema of a type annotation."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if annotation is Any or annotation is object:
            return {}
        if annotation is DeferredApplication:
            # A store's deferred application travels as the application it stands for.
            return self.of(Application)
        if origin in (typing.Union, types.UnionType):
            options: list[Schema] = []
            for arg in args:
                if arg is not type(None) and (option := self.of(arg)) not in options:
                    options.append(option)
            schema = options[0] if len(options) == 1 else {"anyOf": options}
            if type(None) in args:
                return {"anyOf": [schema, {"type": "null"}]}
            return schema
        if origin in (tuple, list, collections.abc.Sequence):
            return {"type": "array", "items": self.of(args[0]) if args else {}}
        if origin in (dict, collections.abc.Mapping):
            return self._mapping(args)
        if annotation is bool:
            return {"type": "boolean"}
        if annotation is int:
            return self._integer()
        if annotation is float:
            return {"type": "number"}
        if annotation is str:
            return self._text()
        if annotation is dt.datetime:
            return {"type": "string", "format": "date-time"}
        if annotation is dt.date:
            return {"type": "string", "format": "date"}
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return self._enumeration(annotation)
        if isinstance(annotation, type) and attrs.has(annotation):
            return self._named(annotation, lambda: self._record(annotation))
        if annotation is dict:
            return {"type": "object"}
        msg = f"no JSON Schema for {annotation!r}"
        raise TypeError(msg)

    def ref(self, name: str) -> Schema:
        """A reference to the definition ``name``."""
        return {"$ref": self.prefix + name}

    # the leaves a document schema says differently (`DocumentSchemaBuilder`)

    def _text(self) -> Schema:
        return dict(TEXT)

    def _integer(self) -> Schema:
        return {"type": "integer", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER}

    def _mapping(self, args: tuple[Any, ...]) -> Schema:
        return {
            "type": "object",
            "propertyNames": dict(TEXT),
            "additionalProperties": self.of(args[1]) if args else {},
        }

    def _enumeration(self, kind: type[enum.Enum]) -> Schema:
        return self._named(kind, lambda: self._enum(kind))

    def _named(self, cls: type, build: collections.abc.Callable[[], Schema]) -> Schema:
        if cls.__name__ not in self.definitions:
            self.definitions[cls.__name__] = {}  # a record that refers to itself stops here
            self.definitions[cls.__name__] = build()
        return self.ref(cls.__name__)

    @staticmethod
    def _enum(kind: type[enum.Enum]) -> Schema:
        return {
            "title": kind.__name__,
            "description": _summary(kind),
            "type": "string",
            "enum": [member.value for member in kind],
        }

    def _record(self, cls: type) -> Schema:
        hints = typing.get_type_hints(cls)
        docs = _field_docs(cls)
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for field in attrs.fields(cls):
            if not field.init:
                continue
            schema = _constrained(self.of(hints[field.name]), field.validator)
            # A private attribute travels under its alias, without its internal note.
            key = field.alias or field.name
            if field.name in docs and not field.name.startswith("_"):
                schema = (
                    {"allOf": [schema], "description": docs[field.name]}
                    if "$ref" in schema
                    else {**schema, "description": docs[field.name]}
                )
            properties[key] = schema
            if field.default is attrs.NOTHING:
                required.append(key)
        record: Schema = {
            "title": cls.__name__,
            "description": _summary(cls),
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            record["required"] = required
        return record


class DocumentSchemaBuilder(SchemaBuilder):
    """Schemas of the documents the library writes (the events): every field present (a record
    in ``lenient`` needs only those without a default: an older document may lack the
    others); text, integers and free objects without
    the reader's bounds, enumerations inline."""

    def __init__(self, prefix: str, lenient: collections.abc.Set[type] = frozenset()) -> None:
        super().__init__(prefix)
        self.lenient = lenient

    def _text(self) -> Schema:
        return {"type": "string"}

    def _integer(self) -> Schema:
        return {"type": "integer"}

    def _mapping(self, args: tuple[Any, ...]) -> Schema:
        return {"type": "object"}

    def _enumeration(self, kind: type[enum.Enum]) -> Schema:
        return {"enum": [member.value for member in kind]}

    def _record(self, cls: type) -> Schema:
        return self.document(cls, docs={})

    def document(self, cls: type, docs: collections.abc.Mapping[str, str]) -> Schema:
        """The schema of a document of ``cls`` (its fields described by ``docs``)."""
        hints = typing.get_type_hints(cls)
        fields = attrs.fields(cls)
        properties: dict[str, Schema] = {}
        for field in fields:
            schema = self.of(hints[field.name])
            if docs.get(field.name):
                schema["description"] = docs[field.name]
            properties[field.name] = schema
        every = cls not in self.lenient
        return {
            "type": "object",
            "properties": properties,
            "required": [field.name for field in fields if every or field.default is attrs.NOTHING],
        }


# -- the published schemas ------------------------------------------------------------------


def application_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the application format, from the records."""
    builder = SchemaBuilder("#/$defs/")
    builder.of(Application)
    root = builder.definitions.pop("Application")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **root,
        "$defs": dict(sorted(builder.definitions.items())),
    }


def _payload_schema(step: Step, builder: SchemaBuilder) -> dict[str, Any] | None:
    if step.payload is None:
        return None
    if step.payload is str:
        key = step.payload_key or "value"
        return {
            "anyOf": [
                TEXT,
                {
                    "type": "object",
                    "properties": {key: TEXT},
                    "required": [key],
                    "additionalProperties": False,
                },
            ]
        }
    if step.payload is dict:
        return builder.ref("JsonObject")
    name = step.payload.__name__
    shorthand = step.shorthand  # the payload given as one bare string (Step.shorthand)
    if shorthand is not None:
        bare = {"type": "string", "format": shorthand.format}
        return {"anyOf": [builder.ref(name), {**bare, "description": shorthand.description.en}]}
    return builder.ref(name)


def command_schema(step: Step, prefix: str = "#/components/schemas/") -> dict[str, Any]:
    """The JSON Schema of a trigger's body (the service's ``Command`` with the step's payload;
    records referred to under ``prefix``, the OpenAPI document's components)."""
    properties: dict[str, Any] = {
        "reason": {**TEXT, "description": "Why (required by the steps that close a case)"},
        "evidence": {
            "type": "array",
            "items": TEXT,
            "description": "References of the evidence",
        },
        "expected_version": {
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_INTEGER}, {"type": "null"}],
            "description": "Act only if the case is still at this version (else 409)",
        },
    }
    payload = _payload_schema(step, SchemaBuilder(prefix))
    if payload is not None:
        properties["payload"] = payload
    return {"type": "object", "properties": properties, "additionalProperties": False}


EVENTS_SCHEMA_ID = "urn:kmbase-workflow:schema:events"
"""The event schema's ``$id`` (stable across versions; ``x-schema-version`` names the
version)."""

_EVENT_FIELD_DOCS = {
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


def events_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every event document this library writes or reads:
    one definition per event ``type``, discriminated by ``type``. A document with
    ``schema_version`` carries every field; one without it is a version 1 document (an
    outbox row written before the version existed) and needs only the fields of version 1."""
    from ._i18n import Text  # noqa: PLC0415 - the events are imported only when asked for
    from .actors import Actor  # noqa: PLC0415
    from .events import (  # noqa: PLC0415
        _ADDED_IN_2,
        EVENT_SCHEMA_VERSION,
        EVENT_TYPES,
        EventDeadlines,
        TransitionEvent,
    )

    # a version 1 actor may lack ``via``
    builder = DocumentSchemaBuilder("#/$defs/", lenient={Actor})
    for record in (Actor, Text, EventDeadlines):
        builder.of(record)
    for name, cls in sorted(EVENT_TYPES.items()):
        schema = builder.document(cls, _EVENT_FIELD_DOCS)
        schema["properties"] = {
            "type": {"const": cls.type, "description": _EVENT_FIELD_DOCS["type"]},
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
        builder.definitions[name] = {
            "title": cls.__name__,
            "description": f"{cls.description.zh} / {cls.description.en}",
            **schema,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": EVENTS_SCHEMA_ID,
        "title": "kmbase_workflow event",
        "description": "An event of the certification workflow, as the outbox stores it, "
        "`kmbase follow` prints it and a broker bridge sends it (docs/events.md).",
        "x-schema-version": EVENT_SCHEMA_VERSION,
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in sorted(EVENT_TYPES)],
        "$defs": builder.definitions,
    }
