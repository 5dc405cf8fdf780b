"""A command as its idempotency key is kept with it: its digest, and its payload as plain
data for the history and the events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .._i18n import Text
from ..actors import Actor
from ..errors import InvalidInputError
from ..history import (
    application_digest,
    canonical_json,
    sha256,
)
from ..lifecycle import Trigger
from ..records import Application
from ..serialization import unstructure


def check_key(idempotency_key: object) -> None:
    """Refuse a key that is not text (a number from a JSON body, say) as bad input."""
    if not isinstance(idempotency_key, str):
        raise InvalidInputError(
            Text(
                zh=f"幂等键（idempotency_key）应为文本，收到 {type(idempotency_key).__name__}",
                en=f"the idempotency_key must be text, got {type(idempotency_key).__name__}",
            ),
            hint=Text(zh="请以字符串传入幂等键", en="pass the key as a string"),
        )


COMMAND_FORMAT = 3
"""The canonical form a command's digest is taken in (fixed: stored digests must still
compare equal after a later format)."""


def command_digest(
    trigger: Trigger,
    case_id: str | None,
    actor: Actor,
    payload: object,
    base_id: str | None,
    *,
    application_digest_: str | None = None,
) -> str:
    """The digest an idempotency key is kept with: the trigger, the case (for a declaration
    the case id and base id asked for, ``None`` for fresh ones), who acts (role, id,
    district) and the payload (a declaration's application by its digest in
    `COMMAND_FORMAT`: ``application_digest_`` when the caller took it already)."""
    if isinstance(payload, Application):
        recorded: object = application_digest_ or application_digest(payload, COMMAND_FORMAT)
    else:
        recorded = plain(payload)
    command = {
        "trigger": trigger.value,
        "case_id": case_id,
        "base_id": base_id,
        "actor": [actor.role.value, actor.id, actor.district],
        "payload": recorded,
    }
    return sha256(canonical_json(command, COMMAND_FORMAT))


def plain(payload: object) -> dict[str, Any]:
    """A payload as JSON-ready data for the history and the events."""
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return {key: plain_value(value) for key, value in payload.items()}
    if attrs.has(type(payload)):
        return unstructure(payload)
    return {"value": plain_value(payload)}


def plain_value(value: object) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if attrs.has(type(value)):
        return unstructure(value)
    return value
