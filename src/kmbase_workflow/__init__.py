"""kmbase_workflow: the certification workflow of Kunming's small and micro enterprise
entrepreneurship and innovation demonstration bases (昆工信规〔2022〕1号).

The top level holds what a host application (a portal, a district office's case system)
needs to run the workflow: the `Workflow` service and its stores, who acts (`Actor`,
`Role`), the case and what a step takes (`Case`, `State`, `Trigger`, the records of
`kmbase_workflow.case`), the `Application`, every error, the eligibility verdict, the
working-day calendar, the clock, events and bulk runs. Everything else lives in documented
sub-modules, imported from there: ``records`` (the parts of an application), ``policy``,
``eligibility`` (population verdicts, later-step checks), ``deadlines`` (each statutory
deadline), ``calendar``, ``events`` (every event type), ``history`` and ``audit``,
``lifecycle`` (steps, guards, authorization), ``serialization``, ``bulk``, ``stores``,
``exports``, ``simulation``, ``diagrams``, ``demo``, ``examples`` and ``testing``.
``tests/test_public_api.py`` pins each of these surfaces.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from ._i18n import Lang, Text
from .actors import Actor, Role
from .bulk import BulkReport, CaseSelection, run_bulk
from .calendar import HolidayNotice, WorkingDayCalendar, default_calendar
from .case import (
    AnnualReport,
    Case,
    ChangeFiling,
    ChangeKind,
    CollectiveDecision,
    Correction,
    DeclarationRound,
    Evaluation,
    ExpertOpinion,
    NoticeAnnouncement,
    Objection,
    ProvincialRecommendation,
    Recommendation,
    Revocation,
    RevocationGround,
    Selection,
    State,
)
from .clock import Clock, FixedClock, SystemClock
from .deadlines import Deadline
from .eligibility import Finding, Status, Verdict, evaluate
from .errors import (
    ApplicationFormatError,
    BrokerError,
    BrokerUnavailableError,
    CalendarDataConflictError,
    CalendarDataMissingError,
    CalendarError,
    CaseNotFoundError,
    ConcurrencyConflictError,
    FieldValueError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    KmbaseError,
    PayloadFormatError,
    PolicyFormatError,
    PolicyNotFoundError,
    SchemaVersionError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
    TransitionRefusedError,
)
from .events import Event, EventBus
from .lifecycle import GuardFailure, Trigger
from .records import Application
from .serialization import load_application, loads_application
from .stores import CaseQuery, CaseStore, MemoryStore, open_store
from .workflow import Outcome, SweepReport, Workflow


def _version() -> str:
    """The installed distribution's version; from a checkout that is not installed, the
    version ``pyproject.toml`` gives."""
    try:
        return metadata.version("kmbase-workflow")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"
        if project.get("name") != "kmbase-workflow":  # another project's file
            return "0+unknown"
        return str(project.get("version", "0+unknown"))


__version__: str = _version()
"""This library's version (PEP 440), e.g. ``"0.1.0"``."""

__all__ = [
    "Actor",
    "AnnualReport",
    "Application",
    "ApplicationFormatError",
    "BrokerError",
    "BrokerUnavailableError",
    "BulkReport",
    "CalendarDataConflictError",
    "CalendarDataMissingError",
    "CalendarError",
    "Case",
    "CaseNotFoundError",
    "CaseQuery",
    "CaseSelection",
    "CaseStore",
    "ChangeFiling",
    "ChangeKind",
    "Clock",
    "CollectiveDecision",
    "ConcurrencyConflictError",
    "Correction",
    "Deadline",
    "DeclarationRound",
    "Evaluation",
    "Event",
    "EventBus",
    "ExpertOpinion",
    "FieldValueError",
    "Finding",
    "FixedClock",
    "GuardFailure",
    "HolidayNotice",
    "IdempotencyKeyReusedError",
    "InvalidInputError",
    "KmbaseError",
    "Lang",
    "MemoryStore",
    "NoticeAnnouncement",
    "Objection",
    "Outcome",
    "PayloadFormatError",
    "PolicyFormatError",
    "PolicyNotFoundError",
    "ProvincialRecommendation",
    "Recommendation",
    "Revocation",
    "RevocationGround",
    "Role",
    "SchemaVersionError",
    "Selection",
    "State",
    "Status",
    "StoreBusyError",
    "StoreError",
    "StoreUnavailableError",
    "SweepReport",
    "SystemClock",
    "Text",
    "TransitionRefusedError",
    "Trigger",
    "Verdict",
    "Workflow",
    "WorkingDayCalendar",
    "default_calendar",
    "evaluate",
    "load_application",
    "loads_application",
    "open_store",
    "run_bulk",
]
"""The top level: what ``from kmbase_workflow import *`` promises (pinned by
``tests/test_public_api.py``)."""
