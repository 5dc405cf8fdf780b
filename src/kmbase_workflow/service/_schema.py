"""JSON Schema from the records (attrs classes), for the OpenAPI document and the published
schema of the application format.

The schema is derived from the same type annotations the project's converter
(`kmbase_workflow.serialization`) reads with, so it cannot say something the reader does not
do: unknown keys are refused (``additionalProperties: false``), integers are 64-bit, dates
are ``YYYY-MM-DD``, text holds no NUL character, a field with a default may be left out, and
a field's validator says its bounds (not negative: ``minimum: 0``; not blank: a pattern; a
credit code: its 18 characters). Rules the schema cannot state (a credit code's check digit,
a count not above another, the eligibility rules) are the library's, and its error says which
failed. Field descriptions are the docstrings written under each field.
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

from .. import records
from ..case import DeferredApplication
from ..records import Application
from ..serialization import MAX_INTEGER

__all__ = ["TEXT", "SchemaBuilder"]

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
            return {
                "type": "object",
                "propertyNames": dict(TEXT),
                "additionalProperties": self.of(args[1]) if args else {},
            }
        if annotation is bool:
            return {"type": "boolean"}
        if annotation is int:
            return {"type": "integer", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER}
        if annotation is float:
            return {"type": "number"}
        if annotation is str:
            return dict(TEXT)
        if annotation is dt.datetime:
            return {"type": "string", "format": "date-time"}
        if annotation is dt.date:
            return {"type": "string", "format": "date"}
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return self._named(annotation, lambda: self._enum(annotation))
        if isinstance(annotation, type) and attrs.has(annotation):
            return self._named(annotation, lambda: self._record(annotation))
        if annotation is dict:
            return {"type": "object"}
        msg = f"no JSON Schema for {annotation!r}"
        raise TypeError(msg)

    def _named(self, cls: type, build: collections.abc.Callable[[], Schema]) -> Schema:
        if cls.__name__ not in self.definitions:
            self.definitions[cls.__name__] = {}  # a record that refers to itself stops here
            self.definitions[cls.__name__] = build()
        return {"$ref": self.prefix + cls.__name__}

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
