"""What a checked step writes, made one thing at a time: its event, then its history entry
sealed to the chain (binding the case, the application and the events by the digests of
their one encoding), then the change the store writes (its rows are the store's to make).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import attrs

from ..case import Case
from ..encoding import (
    ChangeData,
    application_data,
    canonical_utf8,
    case_data_without_application,
    event_document,
)
from ..events import Event
from ..history import (
    GENESIS_HASH,
    HISTORY_FORMAT,
    HistoryEntry,
    case_canonical,
    event_canonical,
    sha256,
)
from ..lifecycle import GuardContext, Trigger, event_deadlines, event_details
from ..records import Application
from ._commands import plain


def step_event(
    ctx: GuardContext, before: Case | None, after: Case, *, event_id: str, at: dt.datetime
) -> Event:
    """The event a checked step emits: the step's own class, its payload (a declaration's
    application travels in the history, not in the event) and the case's deadlines after it."""
    recorded = {} if isinstance(ctx.payload, Application) else plain(ctx.payload)
    return ctx.step.event_for(ctx.payload)(
        id=event_id,
        case_id=after.id,
        base_id=after.base_id,
        occurred_at=at,
        actor=ctx.actor,
        payload={**recorded, **event_details(ctx.trigger, after)},
        trigger=ctx.trigger.value,
        from_state=before.state.value if before is not None else None,
        to_state=after.state.value,
        reason=ctx.reason,
        round_year=after.round_year,
        article=ctx.step.article,
        deadlines=event_deadlines(ctx, after),
    )


@attrs.frozen(eq=False)
class EncodedApplication:
    """An application unstructured and encoded once in a step (`HISTORY_FORMAT`): for the
    command's digest, the entry's digest and payload, and the store's rows."""

    application: Application
    data: dict[str, Any]
    utf8: bytes
    digest: str

    @classmethod
    def of(cls, application: Application) -> EncodedApplication:
        data = application_data(application)
        utf8 = canonical_utf8(data, HISTORY_FORMAT)
        return cls(application, data, utf8, hashlib.sha256(utf8).hexdigest())


def chained_entry(
    ctx: GuardContext,
    before: Case | None,
    after: Case,
    events: tuple[Event, ...],
    *,
    evidence: Sequence[str],
    at: dt.datetime,
    entered_at: dt.datetime | None,
    previous_hash: str | None,
    encoded_application: EncodedApplication | None = None,
) -> tuple[HistoryEntry, ChangeData]:
    """The step's history entry sealed after ``previous_hash`` (第二十条), and the encoded
    records it was hashed from: the store writes those very data, so what is hashed is what
    is stored. The case and the events are encoded once, here."""
    case_data = case_data_without_application(after)
    events_data = tuple(event_document(event) for event in events)
    case_text = case_canonical(case_data)
    event_texts = tuple(event_canonical(data) for data in events_data)
    # the application is bound when it is declared, and again when it is amended; it is
    # unstructured and encoded once, for its digest, the entry's payload and the store
    application: dict[str, Any] | None = None
    application_text = application_utf8 = application_hash = None
    if before is None or ctx.trigger is Trigger.RESUBMIT:
        made = encoded_application
        if made is None or made.application is not after.application:
            made = EncodedApplication.of(after.application)
        application, application_utf8 = made.data, made.utf8  # hashed as made
        application_text, application_hash = application_utf8.decode(), made.digest
    # a declaration's (or resubmission's) payload is that application: recorded as it is
    carried = application if application is not None and ctx.payload is after.application else None
    entry, entry_data, entry_text = HistoryEntry(
        case_id=after.id,
        sequence=after.version,
        action=ctx.trigger.value,
        from_state=before.state.value if before is not None else None,
        to_state=after.state.value,
        actor=ctx.actor,
        at=at,
        reason=ctx.reason,
        evidence=tuple(evidence),
        payload=carried if carried is not None else plain(ctx.payload),
        event_ids=tuple(event.id for event in events),
        case_hash=sha256(case_text),
        application_hash=application_hash or "",
        event_digests=tuple(sha256(text) for text in event_texts),
        entered_at=entered_at,
    ).sealed_with_data(
        previous_hash or GENESIS_HASH,
        payload_text=application_text if carried is not None else None,
        payload_utf8=application_utf8 if carried is not None else None,
    )
    encoded = ChangeData(
        after,
        entry,
        events,
        case_data,
        entry_data,
        events_data,
        (case_text, entry_text, *event_texts),
        application_data=application,
        application_text=application_text,
    )
    return entry, encoded
