"""The schema of the SQL stores, as one ordered list of named migrations per dialect.

Both dialects share the migration names, so a database says which version of the library's
schema it holds; opening a database with a migration this library does not know (a newer
schema) is refused with `SchemaVersionError`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping

from .._i18n import Text
from ..errors import InvalidInputError, SchemaVersionError

MIGRATION_SET = "kmbase_workflow"
"""The name of the library's migration set (sqlite-utils ``Migrations`` name)."""

MIGRATION_NAMES: tuple[str, ...] = (
    "m001_initial",
    "m002_append_only",
    "m003_summary_columns",
    "m004_work_queue",
    "m005_delivery",
    "m006_api_tokens",
    "m007_command_digests",
)
"""Every migration this version of the library knows, oldest first. A migration is its name
here and its script in `SQLITE` and `POSTGRES` (and, if existing rows need values only
Python can compute, a function in `BACKFILLS`)."""

SQLITE_M001 = """
CREATE TABLE applications (
    case_id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    base_id TEXT NOT NULL,
    round_year INTEGER NOT NULL,
    district TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    declared_on TEXT NOT NULL,
    notice_due TEXT,
    validity_due TEXT,
    data TEXT NOT NULL
);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_round ON cases (round_year);
CREATE INDEX cases_district ON cases (district);
CREATE INDEX cases_base ON cases (base_id);
CREATE INDEX cases_notice_due ON cases (notice_due) WHERE notice_due IS NOT NULL;
CREATE INDEX cases_validity_due ON cases (validity_due) WHERE validity_due IS NOT NULL;
CREATE TABLE history (
    case_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (case_id, sequence)
);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TABLE outbox (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    case_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
CREATE TABLE commands (
    key TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE rounds (
    year INTEGER PRIMARY KEY,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    notice TEXT NOT NULL
);
"""

POSTGRES_M001 = """
CREATE TABLE applications (
    case_id TEXT PRIMARY KEY,
    data JSONB NOT NULL
);
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    base_id TEXT NOT NULL,
    round_year INTEGER NOT NULL,
    district TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    declared_on DATE NOT NULL,
    notice_due DATE,
    validity_due DATE,
    data JSONB NOT NULL
);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_round ON cases (round_year);
CREATE INDEX cases_district ON cases (district);
CREATE INDEX cases_base ON cases (base_id);
CREATE INDEX cases_notice_due ON cases (notice_due) WHERE notice_due IS NOT NULL;
CREATE INDEX cases_validity_due ON cases (validity_due) WHERE validity_due IS NOT NULL;
CREATE TABLE history (
    case_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    data JSONB NOT NULL,
    PRIMARY KEY (case_id, sequence)
);
CREATE FUNCTION kmbase_history_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'history is append-only'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history
FOR EACH ROW EXECUTE FUNCTION kmbase_history_append_only();
CREATE TABLE outbox (
    position BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    case_id TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    data JSONB NOT NULL
);
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE commands (
    key TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE rounds (
    year INTEGER PRIMARY KEY,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    notice TEXT NOT NULL
);
"""


SQLITE_M002 = """
CREATE TRIGGER history_no_replace BEFORE INSERT ON history
WHEN EXISTS (SELECT 1 FROM history WHERE case_id = NEW.case_id AND sequence = NEW.sequence)
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;
CREATE TRIGGER outbox_no_replace BEFORE INSERT ON outbox
WHEN EXISTS (SELECT 1 FROM outbox WHERE position = NEW.position OR id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'outbox is append-only'); END;
CREATE TRIGGER applications_no_update BEFORE UPDATE ON applications
BEGIN SELECT RAISE(ABORT, 'applications are written once'); END;
CREATE TRIGGER applications_no_delete BEFORE DELETE ON applications
BEGIN SELECT RAISE(ABORT, 'applications are written once'); END;
CREATE TRIGGER applications_no_replace BEFORE INSERT ON applications
WHEN EXISTS (SELECT 1 FROM applications WHERE case_id = NEW.case_id)
BEGIN SELECT RAISE(ABORT, 'applications are written once'); END;
CREATE INDEX outbox_case ON outbox (case_id);
"""
"""Closes what m001's triggers left open (第二十条): ``INSERT OR REPLACE`` deletes the row it
replaces without firing a DELETE trigger, so each append-only table refuses an insert onto an
existing key; the outbox and the applications become append-only as the history is. The
index serves the audit's per-case event reads."""

POSTGRES_M002 = """
CREATE FUNCTION kmbase_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
FOR EACH STATEMENT EXECUTE FUNCTION kmbase_append_only();
CREATE TRIGGER outbox_append_only BEFORE UPDATE OR DELETE ON outbox
FOR EACH ROW EXECUTE FUNCTION kmbase_append_only();
CREATE TRIGGER outbox_no_truncate BEFORE TRUNCATE ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION kmbase_append_only();
CREATE TRIGGER applications_append_only BEFORE UPDATE OR DELETE ON applications
FOR EACH ROW EXECUTE FUNCTION kmbase_append_only();
CREATE TRIGGER applications_no_truncate BEFORE TRUNCATE ON applications
FOR EACH STATEMENT EXECUTE FUNCTION kmbase_append_only();
CREATE INDEX outbox_case ON outbox (case_id);
"""
"""Closes ``TRUNCATE``, which row triggers do not see (第二十条), and makes the outbox and
the applications append-only as the history is."""


SQLITE_M003 = """
ALTER TABLE cases ADD COLUMN base_name TEXT;
ALTER TABLE cases ADD COLUMN operator_code TEXT;
ALTER TABLE cases ADD COLUMN operator TEXT;
CREATE INDEX cases_operator ON cases (operator_code);
"""
"""Summary columns: a case is read (listed, checked, moved by a step that does not judge its
application) without reading its application; rows written before are filled by
`BACKFILLS`."""

POSTGRES_M003 = """
ALTER TABLE cases ADD COLUMN base_name TEXT;
ALTER TABLE cases ADD COLUMN operator_code TEXT;
ALTER TABLE cases ADD COLUMN operator TEXT;
CREATE INDEX cases_operator ON cases (operator_code);
CREATE INDEX cases_declared ON cases (declared_on, id);
ALTER TABLE outbox ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_tx ON outbox (tx, position);
"""
"""The summary columns; the index that covers the paging order ``(declared_on, id)``, so a
page is read from the index instead of sorting the table; and the writing transaction of
each event (``tx``): a reader takes only events of transactions that ended before the
oldest one still running, so positions become visible in order without a lock that
serialises writers (see `PostgresStore.read_outbox`)."""


M007_COMMAND_DIGESTS = """
ALTER TABLE commands ADD COLUMN digest TEXT;
"""
"""Each idempotency key keeps the digest of its command (trigger, case, actor, payload), so
a key sent with another command is refused even where the history entry cannot tell (a
declaration of another application). Keys stored before have none and are compared by the
entry they wrote, as before. The same script on both dialects."""


class _Scripts(Mapping[str, str]):
    """One dialect's scripts by migration name. The scripts of the parts that own their
    tables (the work queue, the delivery, the API tokens) stay in those modules and are
    imported on first use, which keeps this module free of import cycles."""

    def __init__(self, own: dict[str, str], elsewhere: dict[str, tuple[str, str]]) -> None:
        self._own = own
        self._elsewhere = elsewhere

    def __getitem__(self, name: str) -> str:
        if name in self._own:
            return self._own[name]
        module, attribute = self._elsewhere[name]
        script: str = getattr(importlib.import_module(module, __package__), attribute)
        return script

    def __iter__(self) -> Iterator[str]:
        return iter(MIGRATION_NAMES)

    def __len__(self) -> int:
        return len(MIGRATION_NAMES)


def _elsewhere(dialect: str, delivery: str) -> dict[str, tuple[str, str]]:
    """Where a dialect's scripts of the work queue, the delivery and the tokens live."""
    return {
        "m004_work_queue": ("._work_queue", f"{dialect}_M004"),
        "m005_delivery": (delivery, f"{dialect}_M005"),
        "m006_api_tokens": (".tokens", f"{dialect}_M006"),
    }


SQLITE: Mapping[str, str] = _Scripts(
    {
        "m001_initial": SQLITE_M001,
        "m002_append_only": SQLITE_M002,
        "m003_summary_columns": SQLITE_M003,
        "m007_command_digests": M007_COMMAND_DIGESTS,
    },
    _elsewhere("SQLITE", "._delivery"),
)
POSTGRES: Mapping[str, str] = _Scripts(
    {
        "m001_initial": POSTGRES_M001,
        "m002_append_only": POSTGRES_M002,
        "m003_summary_columns": POSTGRES_M003,
        "m007_command_digests": M007_COMMAND_DIGESTS,
    },
    _elsewhere("POSTGRES", ".postgres"),
)
BACKFILLS: frozenset[str] = frozenset({"m003_summary_columns"})
"""Migrations after whose script the store fills the summary columns of existing rows
(`kmbase_workflow.stores._rows.summary_updates`)."""


def statements(script: str) -> list[str]:
    """A script's statements (each ends with ";" at the end of a line; a trigger's inner
    ";" does not)."""
    return [part.strip() for part in script.split(";\n") if part.strip()]


def check_known(applied: Iterable[str], where: str) -> None:
    """Refuse a database that holds migrations this library does not know."""
    unknown = [name for name in applied if name not in MIGRATION_NAMES]
    if unknown:
        raise SchemaVersionError(
            Text(
                zh=f"{where} 的数据库结构比本库新（未知迁移：{', '.join(unknown)}）",
                en=f"{where} has a newer schema than this library (unknown migrations: "
                f"{', '.join(unknown)})",
            ),
            hint=Text(
                zh="请升级 kmbase-workflow 后再打开",
                en="upgrade kmbase-workflow before opening it",
            ),
        )


def missing_database(where: str) -> InvalidInputError:
    """The refusal of a store opened with ``create=False`` whose database does not exist
    (a mistyped path or schema): reading or verifying it would create an empty one."""
    return InvalidInputError(
        Text(zh=f"数据库不存在：{where}", en=f"no database at {where}"),
        hint=Text(
            zh="检查 --db 的地址（路径、模式名），或先用 kmbase db init 创建",
            en="check the --db URL (its path or schema), or create it with kmbase db init",
        ),
    )
