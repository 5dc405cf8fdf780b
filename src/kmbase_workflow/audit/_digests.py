"""The digests history entries bind (the hash format of the chain, 第二十条): of a case,
its application, its events and a declaration round, each the SHA-256 of canonical JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..case import Case, DeclarationRound
from ..events import Event
from ..history import HISTORY_FORMAT, canonical_json, sha256
from ..records import Application
from ..serialization import converter
from ..stores._rows import case_data_without_application, event_data


def _data_digest(data: Any, format: int) -> str:
    return sha256(canonical_json(data, format))


def application_digest(application: Application, format: int = HISTORY_FORMAT) -> str:
    """SHA-256 of an application's canonical JSON: what the declaration's
    ``application_hash`` holds (the application never changes after)."""
    return _data_digest(converter.unstructure(application), format)


def case_canonical(case_data: Mapping[str, Any], format: int = HISTORY_FORMAT) -> str:
    """The canonical text a case's digest is the SHA-256 of, from its plain form
    (`case_data_without_application`; an ``application`` key is left out)."""
    return canonical_json(
        {key: value for key, value in case_data.items() if key != "application"}, format
    )


def case_digest(
    case: Case, format: int = HISTORY_FORMAT, *, data: Mapping[str, Any] | None = None
) -> str:
    """SHA-256 of the case in canonical JSON without its application (bound once, by the
    declaration's ``application_hash``): what a history entry's ``case_hash`` holds.
    ``data``: the case as ``case_data_without_application`` made it, if the caller has it."""
    return sha256(
        case_canonical(case_data_without_application(case) if data is None else data, format)
    )


def event_canonical(data: Mapping[str, Any], format: int = HISTORY_FORMAT) -> str:
    """The canonical text an event's digest is the SHA-256 of, from its outbox form
    (`event_data`)."""
    return canonical_json(data, format)


def round_digest(declaration_round: DeclarationRound, format: int = HISTORY_FORMAT) -> str:
    """SHA-256 of a declaration round (its year, window and notice) in canonical JSON: what
    the ``case_hash`` of an entry of the round's chain (`DeclarationRound.chain_id
    <kmbase_workflow.case.DeclarationRound.chain_id>`) holds."""
    return _data_digest(converter.unstructure(declaration_round), format)


def event_digest(
    event: Event, format: int = HISTORY_FORMAT, *, data: Mapping[str, Any] | None = None
) -> str:
    """SHA-256 of an event as the outbox stores it (with its ``type``). ``data``: the
    event as ``event_data`` made it, if the caller has it."""
    return sha256(event_canonical(event_data(event) if data is None else data, format))
