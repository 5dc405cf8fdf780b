"""kmbase_workflow: the certification workflow of Kunming's small and micro enterprise
entrepreneurship and innovation demonstration bases (昆工信规〔2022〕1号).

The public API is flat: import everything from ``kmbase_workflow``. Submodules hold the
same names grouped by concern (``records``, ``policy``, ``eligibility``, ``calendar``,
``deadlines``, ``clock``, ``errors``).
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from ._html import case_html, deadline_html, finding_html, verdict_html
from ._i18n import Lang, Text
from .actors import Actor, Role
from .bulk import BulkReport, CaseSelection, ItemStatus, run_bulk
from .calendar import WorkingDayCalendar, default_calendar
from .case import (
    AnnualReport,
    Case,
    ChangeFiling,
    CollectiveDecision,
    DeclarationRound,
    Evaluation,
    ExpertOpinion,
    Objection,
    ProvincialRecommendation,
    Recommendation,
    Revocation,
    RevocationGround,
    Selection,
    State,
)
from .clock import TIMEZONE, Clock, FixedClock, SystemClock, today
from .deadlines import (
    Deadline,
    DeadlineKind,
    annual_report_deadlines,
    change_filing_deadline,
    earliest_certification_date,
    expiry_reminders,
    in_public_notice,
    public_notice_deadline,
    reapplication_year,
    validity_deadline,
)
from .eligibility import (
    Finding,
    PopulationVerdict,
    Status,
    Verdict,
    application_columns,
    application_measures,
    evaluate,
    evaluate_population,
    judge_spot_check,
    spot_check_sample_size,
)
from .errors import (
    ApplicationFormatError,
    CalendarDataConflictError,
    CalendarDataMissingError,
    CalendarError,
    CaseNotFoundError,
    ConcurrencyConflictError,
    FieldValueError,
    InvalidInputError,
    KmbaseError,
    PolicyFormatError,
    PolicyNotFoundError,
    SchemaVersionError,
    StoreError,
    TransitionRefusedError,
)
from .events import (
    AnnualReportFiled,
    AnnualReportOverdue,
    Certified,
    ChangeFiled,
    Declared,
    DeliveryFailure,
    EvaluationRecorded,
    Event,
    EventBus,
    ExpertOpinionRecorded,
    Expired,
    InspectionFailed,
    InspectionPassed,
    NoticePeriodEnded,
    NotRecommended,
    ObjectionRaised,
    ObjectionSustained,
    ObjectionVerified,
    ProvinciallyRecommended,
    Publicized,
    Recommended,
    ReviewFailed,
    ReviewPassed,
    Revoked,
    RoundSelected,
    Subscription,
    TransitionEvent,
    ValidityEndingSoon,
    Withdrawn,
)
from .history import ChainReport, HistoryEntry, verify_history
from .lifecycle import GuardFailure, Trigger
from .policy import Policy, Rule, load_policy, load_policy_file
from .records import (
    Application,
    Base,
    ContractedAgency,
    Declaration,
    Education,
    Focus,
    Operator,
    ResidentEnterprise,
    SatisfactionResponse,
    ServiceFigures,
    ServiceVolume,
    SpotCheck,
    StaffMember,
    YearFigures,
)
from .serialization import dump_json, dumps_json, load_application, loads_application
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
    "TIMEZONE",
    "Actor",
    "AnnualReport",
    "AnnualReportFiled",
    "AnnualReportOverdue",
    "Application",
    "ApplicationFormatError",
    "Base",
    "BulkReport",
    "CalendarDataConflictError",
    "CalendarDataMissingError",
    "CalendarError",
    "Case",
    "CaseNotFoundError",
    "CaseQuery",
    "CaseSelection",
    "CaseStore",
    "Certified",
    "ChainReport",
    "ChangeFiled",
    "ChangeFiling",
    "Clock",
    "CollectiveDecision",
    "ConcurrencyConflictError",
    "ContractedAgency",
    "Deadline",
    "DeadlineKind",
    "Declaration",
    "DeclarationRound",
    "Declared",
    "DeliveryFailure",
    "Education",
    "Evaluation",
    "EvaluationRecorded",
    "Event",
    "EventBus",
    "ExpertOpinion",
    "ExpertOpinionRecorded",
    "Expired",
    "FieldValueError",
    "Finding",
    "FixedClock",
    "Focus",
    "GuardFailure",
    "HistoryEntry",
    "InspectionFailed",
    "InspectionPassed",
    "InvalidInputError",
    "ItemStatus",
    "KmbaseError",
    "Lang",
    "MemoryStore",
    "NotRecommended",
    "NoticePeriodEnded",
    "Objection",
    "ObjectionRaised",
    "ObjectionSustained",
    "ObjectionVerified",
    "Operator",
    "Outcome",
    "Policy",
    "PolicyFormatError",
    "PolicyNotFoundError",
    "PopulationVerdict",
    "ProvincialRecommendation",
    "ProvinciallyRecommended",
    "Publicized",
    "Recommendation",
    "Recommended",
    "ResidentEnterprise",
    "ReviewFailed",
    "ReviewPassed",
    "Revocation",
    "RevocationGround",
    "Revoked",
    "Role",
    "RoundSelected",
    "Rule",
    "SatisfactionResponse",
    "SchemaVersionError",
    "Selection",
    "ServiceFigures",
    "ServiceVolume",
    "SpotCheck",
    "StaffMember",
    "State",
    "Status",
    "StoreError",
    "Subscription",
    "SweepReport",
    "SystemClock",
    "Text",
    "TransitionEvent",
    "TransitionRefusedError",
    "Trigger",
    "ValidityEndingSoon",
    "Verdict",
    "Withdrawn",
    "Workflow",
    "WorkingDayCalendar",
    "YearFigures",
    "annual_report_deadlines",
    "application_columns",
    "application_measures",
    "case_html",
    "change_filing_deadline",
    "deadline_html",
    "default_calendar",
    "dump_json",
    "dumps_json",
    "earliest_certification_date",
    "evaluate",
    "evaluate_population",
    "expiry_reminders",
    "finding_html",
    "in_public_notice",
    "judge_spot_check",
    "load_application",
    "load_policy",
    "load_policy_file",
    "loads_application",
    "open_store",
    "public_notice_deadline",
    "reapplication_year",
    "run_bulk",
    "spot_check_sample_size",
    "today",
    "validity_deadline",
    "verdict_html",
    "verify_history",
]
