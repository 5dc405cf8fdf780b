"""Forms derived from the lifecycle's step declarations: one generic renderer, no template per step.

`step_form` reads a step's declared payload type (an attrs record, a scalar ``str``, free JSON, or
the application) and gives the fields a form shows: their kind (text, number, date, yes/no,
choice, lines, a nested record's fields under a dotted name), whether they are required, and
their labels in both languages. `read_form` turns the submitted fields back into the JSON-ready
data the step's own reader (`Step.parse_payload`) takes, so the console reads a payload exactly
as the HTTP service does; what cannot be read is reported next to its field.

A step whose payload has a field of a kind the renderer does not know raises `NotDerivable`
naming the step and the field (tests/test_console_forms.py walks every step).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._i18n import Lang, Text
from ..case import (
    AnnualReport,
    ChangeFiling,
    Correction,
    Evaluation,
    Objection,
    Selection,
)
from ..lifecycle import GuardFailure, Step
from ..policy import Policy
from ..records import Application
from ._text import FIELD_LABELS, GUARD_FIELDS

__all__ = [
    "FILLED_BY_LIBRARY",
    "FormField",
    "NotDerivable",
    "field_of_guard",
    "read_form",
    "step_form",
]

FILLED_BY_LIBRARY: frozenset[tuple[type, str]] = frozenset(
    {
        (Correction, "returned_on"),
        (AnnualReport, "submitted_on"),
        (AnnualReport, "late"),
        (Evaluation, "evaluated_on"),
        (ChangeFiling, "filed_on"),
        (ChangeFiling, "due"),
        (ChangeFiling, "late"),
        (Objection, "finding"),
        (Objection, "sustained"),
        (Selection, "decision"),
        (Selection, "stale"),
    }
)
"""Payload fields the library (the step's ``complete``) or a later step fills, whatever a caller
passes: the forms do not ask for them (the day of filing, lateness, an investigation's finding)."""

REASON = "reason"
EVIDENCE = "evidence"
APPLICATION = "application"
PAYLOAD_JSON = "payload"
MAX_TEXT = 20_000
"""The longest text a field takes (an opinion of several pages is far shorter)."""


class NotDerivable(Exception):  # noqa: N818 - it names what it is, as ValueError does
    """A step's payload has a field the generic renderer cannot show."""

    def __init__(self, step: Step, field: str, kind: object) -> None:
        super().__init__(
            f"the console cannot derive a form for {step.trigger.value}: field {field!r} "
            f"of type {kind!r} has no form control"
        )
        self.step = step
        self.field = field


@attrs.frozen(kw_only=True)
class FormField:
    """One control of a derived form."""

    name: str
    """The form field's name: a payload field's dotted path (``spot_check.sampled``)."""
    kind: str
    """text, textarea, int, number, date, bool, choice, lines, application or json."""
    label: Text
    required: bool
    choices: tuple[tuple[str, Text], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    group: Text | None = None
    """The nested record the field belongs to (a fieldset's legend)."""
    optional_record: str | None = None
    """The dotted path of the optional record the field belongs to (``operator``): left wholly
    empty, the record is absent."""

    def label_in(self, lang: Lang) -> str:
        """The label in ``lang``."""
        return self.label.in_(lang)


def _label(name: str, path: str) -> Text:
    return FIELD_LABELS.get(path) or FIELD_LABELS.get(name) or Text(zh=name, en=name)


def _group(path: str, policy: Policy | None) -> Text:
    """A nested record's legend; the spot check's names its article as the policy gives it."""
    label = _label(path, path)
    if path == "spot_check" and policy is not None:
        article = policy.spot_check.article
        return Text(zh=f"{label.zh}（{article.zh}）", en=f"{label.en} ({article.en})")
    return label


def _unwrap_optional(kind: Any) -> tuple[Any, bool]:
    """(the type without ``None``, whether ``None`` is allowed)."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        parts = [part for part in typing.get_args(kind) if part is not type(None)]
        if len(parts) == 1:
            return parts[0], True
    return kind, False


def _choices(kind: type[enum.Enum]) -> tuple[tuple[str, Text], ...]:
    found = []
    for member in kind:
        label = getattr(member, "label", None)
        text = (
            label
            if isinstance(label, Text)
            else FIELD_LABELS.get(f"{kind.__name__}.{member.value}")
        )
        found.append((str(member.value), text or Text(zh=str(member.value), en=str(member.value))))
    return tuple(found)


def _record_fields(
    step: Step, record: type, prefix: str, optional: str | None, policy: Policy | None
) -> list[FormField]:
    hints = typing.get_type_hints(record)
    group = _group(prefix.rstrip("."), policy) if prefix else None
    fields: list[FormField] = []
    for attribute in attrs.fields(record):
        if (record, attribute.name) in FILLED_BY_LIBRARY:
            continue
        path = f"{prefix}{attribute.name}"
        kind, nullable = _unwrap_optional(hints[attribute.name])
        required = attribute.default is attrs.NOTHING and not nullable and not optional
        label = _label(attribute.name, path)
        common: dict[str, Any] = {
            "name": path,
            "label": label,
            "required": required,
            "group": group,
            "optional_record": optional,
        }
        if attrs.has(kind):
            inner = optional or (path if nullable else None)
            fields.extend(_record_fields(step, kind, f"{path}.", inner, policy))
        elif kind is bool:
            fields.append(FormField(kind="bool", **{**common, "required": False}))
        elif kind is int:
            fields.append(FormField(kind="int", **common))
        elif kind is float:
            low, high = _scale(attribute.name, policy)
            fields.append(FormField(kind="number", minimum=low, maximum=high, **common))
        elif kind is dt.date:
            fields.append(FormField(kind="date", **common))
        elif kind is str:
            long = attribute.name in _LONG_TEXT
            fields.append(FormField(kind="textarea" if long else "text", **common))
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            fields.append(FormField(kind="choice", choices=_choices(kind), **common))
        elif typing.get_origin(kind) is tuple and typing.get_args(kind) == (str, Ellipsis):
            fields.append(FormField(kind="lines", **common))
        else:
            raise NotDerivable(step, path, kind)
    return fields


_LONG_TEXT = frozenset({"opinion", "content", "details", "report", "change", "value"})


def _scale(name: str, policy: Policy | None) -> tuple[float | None, float | None]:
    """The policy's scale for an expert's score (第十一条): the form's bounds."""
    if name == "score" and policy is not None:
        rule = policy.expert_review
        return float(rule.score_min), float(rule.score_max)
    return None, None


def step_form(step: Step, policy: Policy | None = None) -> tuple[FormField, ...]:
    """The fields of ``step``'s form, derived from its declared payload: the payload's fields,
    then the reason and the evidence every step takes."""
    payload = step.payload
    fields: list[FormField] = []
    if payload is Application:
        fields.append(
            FormField(
                name=APPLICATION, kind="application", label=_label(APPLICATION, ""), required=True
            )
        )
    elif payload is str:
        key = step.payload_key or "value"
        fields.append(FormField(name=key, kind="textarea", label=_label(key, key), required=True))
    elif payload is dict:
        fields.append(
            FormField(name=PAYLOAD_JSON, kind="json", label=_label(PAYLOAD_JSON, ""), required=True)
        )
    elif payload is not None:
        if not attrs.has(payload):
            raise NotDerivable(step, "payload", payload)
        fields.extend(_record_fields(step, payload, "", None, policy))
    fields.append(FormField(name=REASON, kind="textarea", label=_label(REASON, ""), required=False))
    fields.append(
        FormField(name=EVIDENCE, kind="lines", label=_label(EVIDENCE, ""), required=False)
    )
    return tuple(fields)


def defaults(fields: Sequence[FormField], today: dt.date, actor_id: str) -> dict[str, str]:
    """What a new form shows: today in its date fields, the actor in the fields naming them."""
    values: dict[str, str] = {}
    for field in fields:
        last = field.name.rsplit(".", 1)[-1]
        if field.kind == "date" and field.required and last.endswith("_on"):
            values[field.name] = today.isoformat()
        elif last in ("expert", "evaluator", "raised_by"):
            values[field.name] = actor_id
    return values


# -- reading a submitted form ---------------------------------------------------------------------


def _problem(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


def _set(data: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    for part in parents:
        child = data.setdefault(part, {})
        if not isinstance(child, dict):
            return
        data = child
    data[last] = value


_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def _int(text: str) -> tuple[object, Text | None]:
    if not _INTEGER.fullmatch(text):
        return None, _problem(
            f"应为整数，收到 {text[:40]!r}", f"must be a whole number, got {text[:40]!r}"
        )
    return int(text), None


def _number(text: str) -> tuple[object, Text | None]:
    try:
        number = float(text)
    except ValueError:
        return None, _problem(
            f"应为数字，收到 {text[:40]!r}", f"must be a number, got {text[:40]!r}"
        )
    if not math.isfinite(number):
        return None, _problem("应为有限数", "must be a finite number")
    return number, None


def _date(text: str) -> tuple[object, Text | None]:
    try:
        return dt.date.fromisoformat(text).isoformat(), None
    except ValueError:
        return None, _problem(
            f"应为日期 YYYY-MM-DD，收到 {text[:40]!r}",
            f"must be a date YYYY-MM-DD, got {text[:40]!r}",
        )


def _json(text: str) -> tuple[object, Text | None]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return None, _problem("应为 JSON 对象", "must be a JSON object")
    return data, None


_READERS = {"int": _int, "number": _number, "date": _date, "json": _json}


def _value(field: FormField, raw: str) -> tuple[object, Text | None]:
    text = raw.strip()
    reader = _READERS.get(field.kind)
    if reader is not None:
        return reader(text)
    if field.kind == "choice" and text not in {value for value, _ in field.choices}:
        return None, _problem(
            f"不是可选项：{text[:40]!r}", f"not one of the choices: {text[:40]!r}"
        )
    if field.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()], None
    return (text if field.kind == "choice" else raw), None


_ABSENT = object()
"""A field left empty: the record's default applies."""


def _read_field(field: FormField, raw: str) -> tuple[object, Text | None]:
    """A submitted field's value (`_ABSENT`: left empty), or its problem."""
    if len(raw) > MAX_TEXT:
        return None, _problem(
            f"过长（最多 {MAX_TEXT} 字）", f"too long (at most {MAX_TEXT} characters)"
        )
    if field.kind == "bool":
        return raw.strip().lower() in ("on", "true", "1", "yes"), None
    if not raw.strip():
        return _ABSENT, (_problem("必填", "required") if field.required else None)
    return _value(field, raw)


def read_form(
    step: Step, fields: Sequence[FormField], form: Mapping[str, str], today: dt.date
) -> tuple[dict[str, Any], dict[str, list[Text]]]:
    """The submitted ``form`` as the step's command: ``reason``, ``evidence`` and ``payload``
    as JSON-ready data (the payload still to be read by `Step.parse_payload`), and the
    problems found, by field name. A day the library fills (`FILLED_BY_LIBRARY`) and the
    record requires is given as ``today``: the library sets it anyway."""
    data: dict[str, Any] = {}
    problems: dict[str, list[Text]] = {}
    filled: set[str] = set()
    for field in fields:
        if field.kind == "application":
            continue  # read by the page (an upload or pasted text)
        raw = form.get(field.name, "")
        value, problem = _read_field(field, raw)
        if problem is not None:
            problems.setdefault(field.name, []).append(problem)
        elif value is not _ABSENT:
            _set(data, field.name, value)
            if field.optional_record is not None and field.kind != "bool":
                filled.add(field.optional_record)
    command: dict[str, Any] = {
        "reason": data.pop(REASON, "") if isinstance(data.get(REASON, ""), str) else "",
        "evidence": data.pop(EVIDENCE, []),
    }
    # an optional record left wholly empty (its yes/no boxes aside) is absent
    for record in {f.optional_record for f in fields if f.optional_record} - filled:
        if "." not in record:
            data.pop(record, None)
    if step.payload is not None and attrs.has(step.payload):
        for attribute in attrs.fields(step.payload):
            filled_day = (step.payload, attribute.name) in FILLED_BY_LIBRARY
            if filled_day and attribute.default is attrs.NOTHING:
                data[attribute.name] = today.isoformat()
    command["payload"] = _payload_data(step, data)
    return command, problems


def _payload_data(step: Step, data: dict[str, Any]) -> object:
    """The payload part of the form's data, shaped as the step's reader takes it."""
    if step.payload is str:
        return data.get(step.payload_key or "value")
    if step.payload is dict:
        return data.get(PAYLOAD_JSON)
    if step.payload is None or step.payload is Application:
        return None
    return data


def field_of_guard(failure: GuardFailure, fields: Sequence[FormField]) -> str | None:
    """The form field a failed guard concerns (``None``: the form as a whole): the field the
    guard names (`GUARD_FIELDS`, else its own name or its first part), else the first field of
    the record it names, else the field whose last part it is."""
    names = [field.name for field in fields]
    guard = failure.guard
    head = guard.split(".", 1)[0]
    for candidate in (GUARD_FIELDS.get(guard), guard, GUARD_FIELDS.get(head), head):
        if not candidate:
            continue
        if candidate in names:
            return candidate
        nested = [name for name in names if name.startswith(f"{candidate}.")]
        if nested:
            return nested[0]
        named = [name for name in names if name.rsplit(".", 1)[-1] == candidate]
        if named:
            return named[0]
    return None


def field_of_problem(problem: Text, fields: Sequence[FormField]) -> str | None:
    """The field a reader's problem (``payload.spot_check.sampled: …``) concerns."""
    match = re.match(r"^(?:[^:：]*?\bpayload)?\.?([A-Za-z_][A-Za-z0-9_.\[\]]*)\s*[:：]", problem.en)
    if match is None:
        return None
    path = re.sub(r"\[[0-9]+\]", "", match.group(1))
    names = [field.name for field in fields]
    while path:
        if path in names:
            return path
        path = path.rpartition(".")[0]
    return None
