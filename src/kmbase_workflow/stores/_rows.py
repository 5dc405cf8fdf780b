"""Records to table rows and back, shared by the SQL stores (one encoding, one decoding).

A case row holds the columns queries filter on (state, round, district, base, deadlines)
and the case without its application as JSON; the application, immutable once declared,
is written once to its own table.
"""

from __future__ import annotations

import json
from typing import Any

from cattrs.gen import make_dict_unstructure_fn, override

from ..case import Case
from ..events import EVENT_TYPES, Event
from ..history import HistoryEntry
from ..records import Application
from ..serialization import converter

__all__ = [
    "application_data",
    "case_columns",
    "case_from_json",
    "dumps",
    "event_data",
    "event_from_json",
    "history_columns",
    "history_from_row",
]


# Built once; the data are plain trees (no cycles to check), as the converter produces them.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def dumps(data: object) -> str:
    """Compact JSON with Chinese kept readable (the audit hash has its own canonical form)."""
    return _ENCODER.encode(data)


def application_data(application: Application) -> dict[str, Any]:
    """An application as stored once per case (plain data; each store encodes its JSON)."""
    data: dict[str, Any] = converter.unstructure(application)
    return data


# Generated once: the case's fields but the application (unstructuring the application only
# to drop it would be most of the cost of a write).
_case_without_application = make_dict_unstructure_fn(
    Case, converter, application=override(omit=True)
)


def case_columns(case: Case) -> dict[str, Any]:
    """The columns of a case row (``data``, plain data, leaves the application out)."""
    data = _case_without_application(case)
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
        "data": data,
    }


def case_from_json(data: str | dict[str, Any], application: str | dict[str, Any]) -> Case:
    """A case from its stored JSON and its application's."""
    case_data = json.loads(data) if isinstance(data, str) else dict(data)
    case_data["application"] = (
        json.loads(application) if isinstance(application, str) else application
    )
    return converter.structure(case_data, Case)


def history_columns(entry: HistoryEntry) -> dict[str, Any]:
    """The columns of a history row (``data`` is plain data)."""
    data = converter.unstructure(entry)
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


def event_data(event: Event) -> dict[str, Any]:
    """An event as stored in the outbox (its type name says which class reads it back)."""
    data: dict[str, Any] = converter.unstructure(event)
    data["type"] = event.type
    return data


def event_from_json(data: str | dict[str, Any]) -> Event:
    """An event from the outbox."""
    raw = json.loads(data) if isinstance(data, str) else dict(data)
    cls = EVENT_TYPES[raw.pop("type")]
    return converter.structure(raw, cls)
