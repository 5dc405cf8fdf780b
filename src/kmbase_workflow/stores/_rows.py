"""Records to table rows and back, shared by the SQL stores: the rows are made here from the
one encoding of the records (`kmbase_workflow.encoding`).

The encoding's names imported below (`check_text`, `dumps`, `event_data`, …) are re-exported
for the stores' modules only while other branches still import them from here.

A case row holds the columns queries filter on (state, round, district, base, deadlines)
and the case without its application as JSON; the application, immutable once declared,
is written once to its own table.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._i18n import Text
from ..case import Case, DeclarationRound, DeferredApplication, StoredApplication
from ..encoding import (
    INDEXED_TEXT_LIMIT,
    UNSTORABLE,
    ChangeData,
    application_data,
    case_data_without_application,
    check_text,
    dumps,
    storable_key,
    storable_text,
)
from ..encoding import event_document as event_data
from ..encoding import event_from_data as event_from_json
from ..errors import FieldValueError, InvalidInputError
from ..events import Event
from ..history import HISTORY_FORMAT, HistoryEntry
from ..records import Operator
from ..serialization import converter

if TYPE_CHECKING:
    from ._protocol import Change

__all__ = [
    "HISTORY_SUMMARY_COLUMNS",
    "INDEXED_TEXT_LIMIT",
    "OUTBOX_SUMMARY_COLUMNS",
    "SUMMARY_COLUMNS",
    "ChangeData",
    "application_data",
    "application_plain",
    "case_columns",
    "case_data_without_application",
    "case_from_json",
    "change_data",
    "check_text",
    "dumps",
    "event_data",
    "event_from_json",
    "history_columns",
    "history_from_row",
    "refuse_unstorable",
    "refuse_unstorable_round",
    "storable_key",
    "storable_text",
    "summary_updates",
]


def _leaves(value: object, path: str) -> Iterator[tuple[str, str | float]]:
    """Every string and float inside a record (attrs classes, mappings, sequences), with its
    path."""
    if isinstance(value, str | float):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield f"{path}.{key}", key
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif attrs.has(kind := type(value)):
        for field in attrs.fields(kind):
            yield from _leaves(getattr(value, field.name), f"{path}.{field.name}")


_NOT_FINITE = Text(
    zh="不是有限的数字（NaN 或无穷大）：JSON 无法表示，数据库无法保存",
    en="is not a finite number (NaN or infinity), which JSON cannot hold nor any store keep",
)


_LEAVES = frozenset({bool, int, float, type(None), dt.date, dt.datetime})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _all_strings(value: object) -> list[str]:
    """Every string inside a record, without paths: the fast pass every write makes."""
    found: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            found.append(item)
        elif kind in _LEAVES:
            continue
        elif kind is tuple or kind is list:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item)
            stack.extend(item.values())
        else:
            names = _FIELD_NAMES.get(kind)
            if names is None and attrs.has(kind):
                names = _FIELD_NAMES[kind] = tuple(field.name for field in attrs.fields(kind))
            if names is not None:
                stack.extend(getattr(item, name) for name in names)
            elif isinstance(item, str):
                found.append(item)
            elif isinstance(item, Mapping):
                stack.extend(item)
                stack.extend(item.values())
            elif isinstance(item, (list, tuple, set, frozenset)):
                stack.extend(item)
    return found


def _suspect_json(text: str, *, numbers_checked: bool = False) -> bool:
    """Whether encoded JSON may hold a NUL (always escaped by JSON: a literal backslash-u0000
    in a text looks the same, and the walk clears it), a lone surrogate (kept raw by
    ``dumps``, and not encodable as UTF-8) or a number that is not finite (``dumps`` writes
    ``NaN`` and ``Infinity``; a text holding those words looks the same). Scans in C: a
    regular expression with a character range is ten times slower on Chinese text."""
    if "\\u0000" in text:
        return True
    if not numbers_checked and ("NaN" in text or "Infinity" in text):
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def refuse_unstorable(change: Change, encoded: Sequence[str] | None = None) -> None:
    """Refuse, before anything is written, a change some store could not keep, naming the
    field: every store calls this, so all of them accept and refuse the same changes.

    ``encoded``: the change's JSON texts as the store will write them (by `dumps`), when it
    has them; else they are encoded here from the change's plain form (`change_data`). One
    search over them replaces the walk over the records, which only a hit pays for (it
    names the field)."""
    case = change.case
    check_text("case.id", case.id, indexed=True)
    check_text("case.base_id", case.base_id, indexed=True)
    check_text("case.district", case.district, indexed=True)
    if change.idempotency_key is not None:
        check_text("idempotency_key", change.idempotency_key, indexed=True)
    for index, event in enumerate(change.events):
        check_text(f"events[{index}].id", event.id, indexed=True)
    numbers_checked = False
    if encoded is None:
        encoded, numbers_checked = _encoded(change)
    # One search over every string at once; only a hit pays for the walk that names the field.
    if encoded is not None and not any(
        _suspect_json(text, numbers_checked=numbers_checked) for text in encoded
    ):
        return
    # The application is written once, with the new case; later changes never rewrite it.
    parts: list[tuple[str, object]] = [
        (f"case.{field.alias}", getattr(case, field.name))
        for field in attrs.fields(Case)
        if field.name != "_application" or change.expected_version == 0
    ]
    parts.append(("history", change.history))
    parts.extend((f"events[{index}]", event) for index, event in enumerate(change.events))
    if encoded is None and (
        UNSTORABLE.search("".join(_all_strings([value for _, value in parts]))) is None
    ):
        return
    _refuse_parts(parts)


def _refuse_parts(parts: Iterable[tuple[str, object]]) -> None:
    """Refuse the first string or number inside ``parts`` (path, record) that no store
    keeps."""
    for path, value in parts:
        for field, leaf in _leaves(value, path):
            if isinstance(leaf, str):
                check_text(field, leaf)
            elif not math.isfinite(leaf):
                raise FieldValueError(field, _NOT_FINITE)


def refuse_unstorable_round(
    declaration_round: DeclarationRound, entry: HistoryEntry | None, events: Sequence[Event]
) -> None:
    """`refuse_unstorable` for `CaseStore.save_round`: the round's notice, its history entry
    and its events, before anything is written; and the entry and the events must be the
    round's (their ``case_id`` its `DeclarationRound.chain_id`)."""
    check_text("declaration_round.notice", declaration_round.notice)
    chain = declaration_round.chain_id
    if (entry is not None and entry.case_id != chain) or any(e.case_id != chain for e in events):
        raise InvalidInputError(
            Text(
                zh=f"{declaration_round.year} 年申报批次的记录与事件须属于 {chain}",
                en=f"the {declaration_round.year} round's entry and events must be of {chain}",
            ),
            hint=Text(
                zh="用 Workflow.open_round 组织申报", en="open a round with Workflow.open_round"
            ),
        )
    for index, event in enumerate(events):
        check_text(f"events[{index}].id", event.id, indexed=True)
    parts: list[tuple[str, object]] = [] if entry is None else [("history", entry)]
    parts.extend((f"events[{index}]", event) for index, event in enumerate(events))
    _refuse_parts(parts)


def _carried(change: Change, plain: ChangeData) -> bool:
    """Whether the change's entry carries the application's canonical text inside its own (a
    declaration's payload is the application, as its digest was taken): searching the
    entry's text then searches the application's, which is not searched a second time."""
    return (
        bool(plain.canonical)
        and plain.application_text is not None
        and change.history.payload is plain.application_data
    )


def _encoded(change: Change) -> tuple[list[str] | None, bool]:
    """The JSON texts of a change's records (the application only with a new case): the
    canonical texts its step hashed, else encoded from its plain form; ``None`` if some
    value has no JSON form (the walk then checks it). And whether their numbers are checked
    already: the canonical form refuses NaN and the infinities (from format 3), so in its
    texts those words can only be text."""
    plain = change_data(change)
    numbers_checked = bool(plain.canonical) and HISTORY_FORMAT >= 3
    try:
        texts = list(plain.canonical)
        if not texts:
            texts = [dumps(plain.case_data), dumps(plain.history_data)]
            texts.extend(dumps(data) for data in plain.event_data)
        if change.expected_version == 0 and not _carried(change, plain):
            # a new case's application: its strings, escaped as JSON escapes them (its
            # canonical text, if the step made it; else walking the record is faster than
            # unstructuring it)
            texts.append(
                plain.application_text
                if plain.application_text is not None
                else dumps(_all_strings([change.case._application]))
            )
    except (TypeError, ValueError):
        return None, False
    return texts, numbers_checked


SUMMARY_COLUMNS = ("base_name", "operator_code", "operator")
"""What lists and most steps read of a case's application, kept in columns of the case row
(the base's name and the operator as they stand now, after any filed change): a case is read
without reading its application (m003)."""


def _operator_text(case: Case) -> str:
    source = case._application
    if isinstance(source, DeferredApplication) and not any(
        filing.operator is not None for filing in case.change_filings
    ):
        operator = source.operator_source
        if isinstance(operator, str):  # the column as read: written by this function before
            return operator
    return dumps(converter.unstructure(case.operator, Operator))


def case_columns(case: Case, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The columns of a case row (``data``, plain data, leaves the application out: the
    declared one is written once to its own table; an amended one, after a resubmission,
    travels in ``data``). ``data``: the case as `case_data_without_application` made it, if
    the caller has it (it is copied, never changed)."""
    data = dict(data) if data is not None else case_data_without_application(case)
    if case.amended_on is not None:
        data["application"] = application_plain(case)
    operator = _operator_text(case)
    return {
        "id": case.id,
        "base_id": case.base_id,
        "round_year": case.round_year,
        "district": case.district,
        "state": case.state.value,
        "version": case.version,
        "declared_on": case.declared_on.isoformat(),
        "notice_due": case.notice.due.isoformat() if case.notice else None,
        "validity_due": case.validity.due.isoformat() if case.validity else None,
        "base_name": case.base_name,
        "operator_code": case.operator_code,
        "operator": operator,
        "data": data,
    }


def application_plain(case: Case) -> dict[str, Any]:
    """A case's application as plain data (a deferred one as stored, never structured)."""
    source = case._application
    if isinstance(source, DeferredApplication):
        return dict(source.data())
    return application_data(source)


def _loads(value: str | Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def case_from_json(
    data: str | Mapping[str, Any],
    application: StoredApplication | Callable[[], StoredApplication],
    summary: tuple[str, str, str | Mapping[str, Any], str | None] | None = None,
) -> Case:
    """A case from its stored JSON and its application's: the application's JSON text or
    data, or a function that reads either (called when the application is first used).
    ``summary``: the row's summary columns (base name, district, operator, the operator's
    code); without them the application is read at once."""
    case_data = _loads(data)
    amended = case_data.get("application")
    source: StoredApplication | Callable[[], StoredApplication]
    source = amended if amended is not None else application
    if summary is None:
        plain = source = _loads(source() if callable(source) else source)
        base = plain["base"]
        summary = (base["name"], base["district"], plain["operator"], None)
    base_name, district, operator, operator_code = summary
    case_data["application"] = DeferredApplication(
        base_name=base_name,
        district=district,
        operator=operator,
        data=source,
        operator_code=operator_code,
    )
    return converter.structure(case_data, Case)


HISTORY_SUMMARY_COLUMNS = (
    "case_id",
    "sequence",
    "action",
    "from_state",
    "to_state",
    "at",
    "previous_hash",
    "hash",
)
"""The columns of a history row beside its ``data``, copied from it (the audit compares them)."""
OUTBOX_SUMMARY_COLUMNS = ("id", "type", "case_id", "occurred_at")
"""The columns of an outbox row beside its ``data``, copied from it (the audit compares them)."""


def history_columns(entry: HistoryEntry, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The columns of a history row (``data`` is plain data: ``converter.unstructure`` of
    the entry, unless the caller has it already)."""
    data = converter.unstructure(entry) if data is None else data
    return {
        "case_id": entry.case_id,
        "sequence": entry.sequence,
        "action": entry.action,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "at": entry.at.isoformat(),
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
        "data": data,
    }


def history_from_row(data: str | dict[str, Any]) -> HistoryEntry:
    """A history entry from its stored JSON."""
    return converter.structure(json.loads(data) if isinstance(data, str) else data, HistoryEntry)


def change_data(change: Change) -> ChangeData:
    """``change``'s records as plain data: the form its step made (``change.data``) when it
    still describes them, else unstructured now. The one place a change is unstructured."""
    known = change.data
    if known is not None and known.describes(change):
        return known
    return ChangeData(
        change.case,
        change.history,
        change.events,
        case_data_without_application(change.case),
        converter.unstructure(change.history),
        tuple(event_data(event) for event in change.events),
    )


def summary_updates(
    rows: Iterable[tuple[str, str | Mapping[str, Any], str | Mapping[str, Any]]],
) -> list[tuple[str, str, str, str]]:
    """``(base_name, operator_code, operator, id)`` for each ``(id, data, application)`` row
    written before the summary columns existed (m003). A row that cannot be read is left
    without them: the audit reports it."""
    updates = []
    for case_id, data, application in rows:
        try:
            columns = case_columns(case_from_json(data, application))
        except Exception:
            continue
        updates.append(
            (columns["base_name"], columns["operator_code"], columns["operator"], case_id)
        )
    return updates
