"""What a command and a sweep return."""

from __future__ import annotations

import datetime as dt

import attrs

from ..case import Case, State
from ..errors import CaseNotFoundError, ConcurrencyConflictError, TransitionRefusedError
from ..events import (
    DeliveryFailure,
    Event,
)
from ..history import HistoryEntry
from ..stores import Change


@attrs.frozen
class Outcome:
    """What one command did: the case after it, its history entry and its events.

    ``replayed`` is true when an idempotency key had already run the same command: nothing
    new was written, ``entry`` is the one the first run wrote and ``case`` is the case now.
    ``delivery_failures`` lists subscribers that raised (the change stays committed).
    """

    case: Case
    entry: HistoryEntry
    events: tuple[Event, ...]
    replayed: bool = False
    delivery_failures: tuple[DeliveryFailure, ...] = ()


@attrs.frozen
class SweepReport:
    """What a sweep found and did at ``as_of``."""

    as_of: dt.date
    expired: tuple[str, ...]
    events: tuple[Event, ...]
    refused: tuple[tuple[str, TransitionRefusedError], ...] = ()
    started: tuple[str, ...] = ()
    """Cases whose announced public notice began (``start_notice``)."""


@attrs.frozen
class Prepared:
    """One case of `Workflow.prepare_batch <kmbase_workflow.workflow.Workflow.prepare_batch>`:
    exactly one of ``change`` (to commit), ``replayed`` (its key ran before: the first
    outcome) and ``refused`` (a guard failed, the case moved on or does not exist)."""

    case_id: str
    state: State | None
    """The case's state as the batch read it (``None``: no such case)."""
    change: Change | None = None
    replayed: Outcome | None = None
    refused: TransitionRefusedError | ConcurrencyConflictError | CaseNotFoundError | None = None
