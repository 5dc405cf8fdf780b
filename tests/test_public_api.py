"""The public surface, pinned: the names of the top level and of every documented
sub-module. A change to either is a deliberate diff of this file (and a line of
CHANGELOG.md), never an accident of an import."""

from __future__ import annotations

import importlib
import re
import types
import typing
from pathlib import Path

import pytest

import kmbase_workflow
from kmbase_workflow import errors

TOP_LEVEL = frozenset(
    {
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
    }
)
"""`kmbase_workflow.__all__`: what a host application imports from the top."""

SUBMODULES: dict[str, frozenset[str]] = {
    "actors": frozenset(
        {
            "Actor",
            "Role",
        }
    ),
    "as_of": frozenset(
        {
            "CaseAsOf",
            "Knowledge",
            "RoundAsOf",
            "RoundRow",
            "case_as_of",
            "known_at",
            "round_as_of",
        }
    ),
    "audit": frozenset(
        {
            "AUDIT_KEY_ENVIRONMENT_VARIABLE",
            "AuditFinding",
            "AuditReport",
            "CHECKPOINT_FORMAT",
            "ChainHead",
            "Checkpoint",
            "RawRowStore",
            "application_digest",
            "case_digest",
            "checkpoint",
            "event_digest",
            "load_key",
            "round_digest",
            "verify_case",
            "verify_event",
            "verify_store",
        }
    ),
    "bulk": frozenset(
        {
            "BulkItem",
            "BulkReport",
            "CSV_COLUMNS",
            "CaseSelection",
            "DEFAULT_CHUNK_SIZE",
            "ItemStatus",
            "PAYLOAD_KINDS",
            "Progress",
            "bulk_trigger",
            "idempotency_key",
            "new_run_id",
            "parse_payload",
            "read_csv_column",
            "read_ids_file",
            "run_bulk",
        }
    ),
    "calendar": frozenset(
        {
            "FIRST_SUPPORTED_YEAR",
            "HolidayNotice",
            "NoticeDay",
            "SpecialDay",
            "WorkingDayCalendar",
            "default_calendar",
            "holidays_official_through",
        }
    ),
    "case": frozenset(
        {
            "ROUND_CHAIN_PREFIX",
            "AnnualReport",
            "Case",
            "ChangeFiling",
            "ChangeKind",
            "CollectiveDecision",
            "Correction",
            "DeclarationRound",
            "Evaluation",
            "ExpertOpinion",
            "KeptApplications",
            "NoticeAnnouncement",
            "Objection",
            "PlaqueReturn",
            "ProvincialRecommendation",
            "Recommendation",
            "Revocation",
            "RevocationGround",
            "Selection",
            "State",
            "kept_applications",
        }
    ),
    "clock": frozenset(
        {
            "Clock",
            "FixedClock",
            "SystemClock",
            "TIMEZONE",
            "today",
        }
    ),
    "deadlines": frozenset(
        {
            "DEFAULT_REMINDER_LEAD_DAYS",
            "Deadline",
            "DeadlineKind",
            "annual_report_deadline",
            "annual_report_deadlines",
            "change_filing_deadline",
            "earliest_certification_date",
            "expiry_reminders",
            "in_notice",
            "notice_deadline",
            "reapplication_year",
            "validity_deadline",
            "working_day_deadline",
        }
    ),
    "delivery": frozenset(
        {
            "Backoff",
            "Consumer",
            "ConsumerStatus",
            "DeadLetter",
            "Delivery",
            "DeliveryQueue",
            "JsonLogFormatter",
            "Metrics",
            "POSTGRES_POLL",
            "QueueStatus",
            "SQLITE_POLL",
            "Waiter",
            "Webhook",
            "WebhookError",
            "Worker",
            "message",
            "sign",
            "verify",
        }
    ),
    "delivery.queue": frozenset(
        {
            "ConsumerStatus",
            "DeadLetter",
            "Delivery",
            "DeliveryQueue",
            "QueueStatus",
        }
    ),
    "delivery.webhooks": frozenset(
        {
            "EVENT_HEADER",
            "SIGNATURE_HEADER",
            "TIMESTAMP_HEADER",
            "Webhook",
            "WebhookError",
            "message",
            "sign",
            "verify",
        }
    ),
    "delivery.worker": frozenset(
        {
            "Backoff",
            "Consumer",
            "JsonLogFormatter",
            "Metrics",
            "POSTGRES_POLL",
            "SQLITE_POLL",
            "Waiter",
            "Worker",
        }
    ),
    "demo": frozenset(
        {
            "DemoResult",
            "DemoStep",
            "run_demo",
        }
    ),
    "diagrams": frozenset(
        {
            "dot",
            "mermaid",
        }
    ),
    "eligibility": frozenset(
        {
            "Finding",
            "PopulationVerdict",
            "Status",
            "Verdict",
            "application_columns",
            "application_measures",
            "claimed_satisfaction_rate",
            "declaration_date_problems",
            "district_problems",
            "district_problems_in_any",
            "evaluate",
            "evaluate_population",
            "expert_score_problems",
            "judge_spot_check",
            "notice_problems",
            "selection_key",
            "spot_check_population",
            "spot_check_sample_size",
        }
    ),
    "errors": frozenset(
        {
            "ApplicationFormatError",
            "BrokerError",
            "BrokerUnavailableError",
            "CalendarDataConflictError",
            "CalendarDataMissingError",
            "CalendarError",
            "CaseNotFoundError",
            "ConcurrencyConflictError",
            "FieldValueError",
            "IdempotencyKeyReusedError",
            "InvalidInputError",
            "KmbaseError",
            "PayloadFormatError",
            "PolicyFormatError",
            "PolicyNotFoundError",
            "SchemaVersionError",
            "StoreBusyError",
            "StoreError",
            "StoreUnavailableError",
            "TransitionRefusedError",
        }
    ),
    "events": frozenset(
        {
            "AnnualReportFiled",
            "AnnualReportOverdue",
            "Certified",
            "ChangeFiled",
            "CorrectionLapsed",
            "CorrectionOverdue",
            "CorrectionRequested",
            "Declared",
            "DeliveryFailure",
            "EVENT_SCHEMA_VERSION",
            "EVENT_TYPES",
            "EvaluationFailed",
            "EvaluationRecorded",
            "Event",
            "EventBus",
            "EventDeadlines",
            "EventHandler",
            "ExpertOpinionRecorded",
            "Expired",
            "InspectionFailed",
            "InspectionPassed",
            "NotRecommended",
            "NoticeAnnounced",
            "NoticePeriodEnded",
            "ObjectionRaised",
            "ObjectionSustained",
            "ObjectionVerified",
            "PlaqueReturned",
            "ProvinciallyRecommended",
            "Publicized",
            "Recommended",
            "Resubmitted",
            "ReviewFailed",
            "ReviewPassed",
            "Revoked",
            "RoundOpened",
            "RoundSelected",
            "Subscription",
            "TransitionEvent",
            "ValidityEndingSoon",
            "Withdrawn",
            "event_document",
            "event_from_document",
        }
    ),
    "event_schema": frozenset({"SCHEMA_ID", "json_schema", "render"}),
    "bridges": frozenset(
        {
            "DEFAULT_CONSUMER",
            "SCHEMES",
            "CursorSink",
            "RelayReport",
            "Sink",
            "message_body",
            "message_headers",
            "open_sink",
            "relay",
        }
    ),
    "bridges.rabbitmq": frozenset({"DEFAULT_EXCHANGE", "DEFAULT_QUEUE", "RabbitMQSink", "connect"}),
    "bridges.nats": frozenset({"DEFAULT_STREAM", "DEFAULT_SUBJECT", "NatsSink", "connect"}),
    "bridges.redis": frozenset({"DEFAULT_STREAM", "RedisStreamSink", "connect"}),
    "examples": frozenset(
        {
            "eligible_application",
            "ineligible_application",
        }
    ),
    "exports": frozenset(
        {
            "CertificationNotice",
            "Document",
            "DocumentSettings",
            "NoticeEntry",
            "ObjectionContact",
            "PublicNotice",
            "RecommendationRow",
            "application_form",
            "certification_notice",
            "export_application_tables",
            "export_recommendation_table",
            "export_roster",
            "export_staff",
            "import_roster",
            "import_staff",
            "load_document_settings",
            "public_notice",
            "read_roster",
            "read_staff",
            "recommendation_document",
            "recommendation_rows",
            "render_docx",
            "render_html",
            "render_text",
            "write_document",
        }
    ),
    "encoding": frozenset(
        {
            "CANONICAL_FORMAT",
            "INDEXED_TEXT_LIMIT",
            "UNSTORABLE",
            "ChangeData",
            "application_data",
            "canonical_json",
            "canonical_number",
            "canonical_utf8",
            "case_data_without_application",
            "check_text",
            "dumps",
            "encoded_with",
            "event_document",
            "event_from_data",
            "event_from_document",
            "storable_key",
            "storable_text",
        }
    ),
    "history": frozenset(
        {
            "ChainReport",
            "GENESIS_HASH",
            "HISTORY_FORMAT",
            "HistoryEntry",
            "canonical_json",
            "canonical_number",
            "verify_history",
        }
    ),
    "lifecycle": frozenset(
        {
            "Authorization",
            "GuardContext",
            "GuardFailure",
            "MACHINE",
            "RECORDS",
            "STEPS",
            "Step",
            "Trigger",
            "all_of",
            "apply_trigger",
            "check_guards",
            "check_payload_type",
            "completed",
            "event_deadlines",
            "event_details",
            "lifecycle_table",
            "next_state",
            "refusal",
            "regulation_roles",
            "step_for",
        }
    ),
    "policy": frozenset(
        {
            "APPLICATION_MEASURES",
            "AnnualReportPeriod",
            "CATEGORICAL_MEASURES",
            "CATEGORICAL_VALUES",
            "CONSISTENCY_MEASURES",
            "Comparison",
            "Counting",
            "DeclarationWindow",
            "District",
            "DistrictKind",
            "EndOfPeriodRule",
            "ExpertReviewRule",
            "FORMAT_VERSION",
            "FiguresYearRule",
            "Material",
            "NoticePeriod",
            "Periods",
            "Pledge",
            "Policy",
            "Rule",
            "SERVICE_MEASURES",
            "ServiceFunction",
            "ServiceFunctionRequirement",
            "SpotCheckRule",
            "ValidityPeriod",
            "ValidityStart",
            "WorkingDayPeriod",
            "bundled_policies",
            "load_policy",
            "load_policy_file",
            "policy_in_force",
            "read_policy",
        }
    ),
    "queues": frozenset(
        {
            "CaseCount",
            "Dashboard",
            "NoticeRunning",
            "QUEUE_RULES",
            "QueueCheck",
            "QueueEntry",
            "QueueKind",
            "QueuePage",
            "QueueRule",
            "RebuildReport",
            "WorkItem",
            "check_work_queue",
            "dashboard",
            "rebuild_work_queue",
            "work_items_for",
            "work_queue",
            "work_queue_rules_table",
        }
    ),
    "records": frozenset(
        {
            "Application",
            "Base",
            "ContractedAgency",
            "Declaration",
            "Education",
            "Focus",
            "Operator",
            "ResidentEnterprise",
            "SatisfactionResponse",
            "ServiceFigures",
            "ServiceVolume",
            "SpotCheck",
            "StaffMember",
            "YearFigures",
        }
    ),
    "serialization": frozenset(
        {
            "MAX_DEPTH",
            "MAX_INTEGER",
            "converter",
            "dump_json",
            "dumps_json",
            "load_application",
            "loads_application",
            "structure",
            "unstructure",
        }
    ),
    "service": frozenset(
        {
            "ActorParam",
            "Authenticator",
            "ERRORS",
            "GatewayAuthenticator",
            "SERVICE_THREADS",
            "STATUSES",
            "ServiceError",
            "TokenAuthenticator",
            "WorkflowParam",
            "application_schema",
            "command_schema",
            "create_app",
            "error_body",
            "iter_trigger_routes",
            "json_response",
            "reference_documents",
            "sign_identity",
            "status_of",
            "store_threads",
            "trigger_path",
        }
    ),
    "simulation": frozenset(
        {
            "Bernoulli",
            "Beta",
            "Choice",
            "LogNormal",
            "MissingCJKFontWarning",
            "Normal",
            "OUTCOMES",
            "PopulationSpec",
            "RoundTimeline",
            "STATUS_CATEGORIES",
            "Stage",
            "TIMELINE_STEPS",
            "TimelineComparison",
            "TimelineSpec",
            "VariantComparison",
            "compare",
            "compare_timelines",
            "evaluate_frame",
            "find_cjk_font",
            "frame_columns",
            "generate_columns",
            "generate_population",
            "simulate_round",
            "to_frame",
            "variant_keys",
            "vary",
        }
    ),
    "stores": frozenset(
        {
            "CaseCount",
            "CaseQuery",
            "CaseStore",
            "Change",
            "CommandResult",
            "DEFAULT_URL",
            "DeliveryCounts",
            "DeliveryRows",
            "DeliveryStore",
            "ENTRY_POINT_GROUP",
            "INDEXED_TEXT_LIMIT",
            "MemoryStore",
            "NoticeRunning",
            "OutboxRecord",
            "RawRowStore",
            "TokenRows",
            "TokenStore",
            "URL_ENVIRONMENT_VARIABLE",
            "WorkItem",
            "WorkItemQuery",
            "WorkQueueStore",
            "database_exists",
            "open_store",
            "store_backends",
        }
    ),
    "stores.mysql": frozenset(
        {
            "MySQLStore",
            "connect",
            "database_exists",
            "open_url",
        }
    ),
    "stores.postgres": frozenset(
        {
            "PostgresStore",
            "database_exists",
            "open_url",
        }
    ),
    "stores.sqlite": frozenset(
        {
            "SQLiteStore",
            "database_exists",
            "open_url",
        }
    ),
    "testing": frozenset(
        {
            "DeliveryContract",
            "EventRecorder",
            "FixedClock",
            "MySQLDatabase",
            "PostgresDatabase",
            "RawRowContract",
            "SQLiteDatabase",
            "StoreContract",
            "TamperReport",
            "TamperSuite",
            "TokenContract",
            "WorkQueueContract",
            "run_tamper_suite",
            "sample_case",
            "sample_change",
            "sample_item",
        }
    ),
    "workflow": frozenset(
        {
            "FireOptions",
            "Outcome",
            "Prepared",
            "StepOptions",
            "SweepReport",
            "Workflow",
        }
    ),
}
"""Each documented sub-module's ``__all__``."""

PRIVATE_HOMES = {"Lang", "Text"}
"""Top-level names whose module is private (``_i18n``): the top level is their public home."""

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_REFERENCE = DOCS / "reference" / "api.md"


def _diff(actual: set[str], pinned: frozenset[str]) -> str:
    return f"added: {sorted(actual - pinned)}, removed: {sorted(pinned - actual)}"


def test_the_top_level_is_pinned() -> None:
    actual = set(kmbase_workflow.__all__)
    assert actual == TOP_LEVEL, _diff(actual, TOP_LEVEL)


def test_import_star_gives_exactly_the_top_level() -> None:
    namespace: dict[str, object] = {}
    exec("from kmbase_workflow import *", namespace)
    assert set(namespace) - {"__builtins__"} == TOP_LEVEL


EXTRAS = {"service": "fastapi", "stores.mysql": "pymysql"}
"""Documented sub-modules that need an optional extra (``pip install "<checkout or .whl>[…]"``)."""


def _submodule(module_name: str) -> types.ModuleType:
    """The documented sub-module, or a skip when the extra it needs is not installed."""
    if module_name in EXTRAS:
        pytest.importorskip(EXTRAS[module_name], reason=f"needs the {module_name} extra")
    return importlib.import_module(".".join(filter(None, ["kmbase_workflow", module_name])))


@pytest.mark.parametrize("module_name", sorted(SUBMODULES))
def test_each_documented_submodule_is_pinned(module_name: str) -> None:
    module = _submodule(module_name)
    actual = set(module.__all__)
    assert actual == SUBMODULES[module_name], _diff(actual, SUBMODULES[module_name])


def test_all_is_sorted_and_unique() -> None:
    names = kmbase_workflow.__all__

    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert names == sorted(names, key=kind)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("module_name", ["", *sorted(SUBMODULES)])
def test_every_public_name_exists_and_is_documented(module_name: str) -> None:
    module = _submodule(module_name)
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value) and typing.get_origin(value) is None:  # not a type alias
            assert value.__doc__, f"{module.__name__}.{name} has no docstring"


def test_each_top_level_name_is_its_module_s_object() -> None:
    """A top-level name is the very object a documented sub-module exports (its home in the
    reference), never a copy; only `Text` and `Lang` live at the top alone."""
    for name in TOP_LEVEL - PRIVATE_HOMES:
        homes = [
            module_name
            for module_name, names in SUBMODULES.items()
            if name in names
            and getattr(importlib.import_module(f"kmbase_workflow.{module_name}"), name)
            is getattr(kmbase_workflow, name)
        ]
        assert homes, f"{name} is at the top level but in no documented sub-module"


def _reference() -> str:
    return API_REFERENCE.read_text(encoding="utf-8")


def test_the_reference_documents_every_pinned_module() -> None:
    documented = set(re.findall(r"^::: kmbase_workflow\.([\w.]+)$", _reference(), re.MULTILINE))
    missing = sorted(set(SUBMODULES) - documented)
    assert not missing, f"docs/reference/api.md: add a ::: section for {missing}"


def test_the_reference_lists_the_top_level() -> None:
    """The reference's table of the top level names every top-level name, and no other."""
    table = _reference().split("## The top level", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)`", table)) & (TOP_LEVEL | set(SUBMODULES))
    listed -= set(SUBMODULES) - TOP_LEVEL  # module names in the "from" column
    assert listed == TOP_LEVEL, _diff(listed, TOP_LEVEL)


def test_the_reference_names_each_top_level_name_s_module() -> None:
    """Each row of the table says which module a name comes from; the name is that module's
    object (``(the top level)``: a name whose module is private)."""
    table = _reference().split("## The top level", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ")]
    checked = set()
    for _concern, names, modules in rows[1:]:
        homes = re.findall(r"`(\w+)`", modules)
        for name in re.findall(r"`(\w+)`", names):
            value = getattr(kmbase_workflow, name)
            found = [
                home
                for home in homes
                if getattr(importlib.import_module(f"kmbase_workflow.{home}"), name, None) is value
            ]
            assert found or (not homes and name in PRIVATE_HOMES), f"{name} is not from {homes}"
            checked.add(name)
    assert checked == TOP_LEVEL


def test_every_error_derives_from_the_one_root() -> None:
    for name in errors.__all__:
        error = getattr(errors, name)
        assert issubclass(error, kmbase_workflow.KmbaseError)


def test_every_error_is_at_the_top_level() -> None:
    """A host catches any library error without knowing where it was raised."""
    assert set(errors.__all__) <= TOP_LEVEL


def test_the_error_tree_in_the_docstring_names_every_error() -> None:
    for name in errors.__all__:
        assert name in (errors.__doc__ or ""), f"{name} missing from the error tree drawing"


def test_the_version_is_the_project_s() -> None:
    """``__version__`` comes from the installed distribution (or, from a checkout that is
    not installed, from pyproject.toml): the two never disagree."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert kmbase_workflow.__version__ == project["version"] == "0.1.0"


PRIVATE_IMPORT = re.compile(r"kmbase_workflow(?:\.\w+)*\._\w+|from \.+_\w+ import")


def _documents() -> list[Path]:
    return sorted([*DOCS.rglob("*.md"), *DOCS.rglob("*.ipynb"), ROOT / "README.md"])


@pytest.mark.parametrize("page", _documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_docs_use_only_public_modules(page: Path) -> None:
    """A reader copies what the docs import; a private module may change without notice."""
    text = page.read_text(encoding="utf-8")
    private = [m.group() for m in PRIVATE_IMPORT.finditer(text) if "__" not in m.group()]
    assert not private, f"{page.name} uses private modules: {private}"
