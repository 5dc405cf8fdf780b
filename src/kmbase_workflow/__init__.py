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

import importlib
from typing import TYPE_CHECKING, Any

from ._i18n import Lang, Text
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

if TYPE_CHECKING:
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
    from .events import Event, EventBus
    from .lifecycle import GuardFailure, Trigger
    from .records import Application
    from .serialization import load_application, loads_application
    from .stores import CaseQuery, CaseStore, MemoryStore, open_store
    from .workflow import Outcome, SweepReport, Workflow

    __version__: str
    """This library's version (PEP 440), e.g. ``"0.1.0"``: read on first use."""

# The rest of the top level is imported on first use (PEP 562): ``kmbase --version`` and a
# host that needs one name do not pay for the whole library (issue 23). Each name's home;
# tests/test_public_api.py holds it equal to the imports above and to ``__all__``.
_HOMES: dict[str, tuple[str, ...]] = {
    ".actors": (
        "Actor",
        "Role",
    ),
    ".bulk": (
        "BulkReport",
        "CaseSelection",
        "run_bulk",
    ),
    ".calendar": (
        "HolidayNotice",
        "WorkingDayCalendar",
        "default_calendar",
    ),
    ".case": (
        "AnnualReport",
        "Case",
        "ChangeFiling",
        "ChangeKind",
        "CollectiveDecision",
        "Correction",
        "DeclarationRound",
        "Evaluation",
        "ExpertOpinion",
        "NoticeAnnouncement",
        "Objection",
        "ProvincialRecommendation",
        "Recommendation",
        "Revocation",
        "RevocationGround",
        "Selection",
        "State",
    ),
    ".clock": (
        "Clock",
        "FixedClock",
        "SystemClock",
    ),
    ".deadlines": ("Deadline",),
    ".eligibility": (
        "Finding",
        "Status",
        "Verdict",
        "evaluate",
    ),
    ".events": (
        "Event",
        "EventBus",
    ),
    ".lifecycle": (
        "GuardFailure",
        "Trigger",
    ),
    ".records": ("Application",),
    ".serialization": (
        "load_application",
        "loads_application",
    ),
    ".stores": (
        "CaseQuery",
        "CaseStore",
        "MemoryStore",
        "open_store",
    ),
    ".workflow": (
        "Outcome",
        "SweepReport",
        "Workflow",
    ),
}


def _version() -> str:
    """The installed distribution's version; from a checkout that is not installed, the
    version ``pyproject.toml`` gives."""
    import tomllib  # noqa: PLC0415 - read on first use of __version__
    from importlib import metadata  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

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


_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """A top-level name imported from its home on first use, then kept (PEP 562)."""
    if name == "__version__":
        value: Any = _version()
    elif name in _HOME_OF:
        value = getattr(importlib.import_module(_HOME_OF[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME_OF, "__version__"})


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
