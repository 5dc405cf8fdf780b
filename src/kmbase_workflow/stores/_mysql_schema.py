"""The MySQL-family store's schema: its script of each named migration (`MYSQL`), in
MariaDB's and MySQL's words (`kmbase_workflow.stores.mysql` applies them, and its module
doc says what the choices below guarantee).

Keys, and every column a query compares, are ``VARBINARY`` (compared byte for byte, as the
other stores compare them); JSON is ``LONGTEXT``; the append-only tables refuse ``UPDATE``
and ``DELETE`` by triggers. Every ``CREATE TABLE`` is run with `TABLE_OPTIONS`.
"""

from __future__ import annotations

from ._delivery import delivery_tables
from ._schema import M007_COMMAND_DIGESTS
from .tokens import token_table

__all__ = ["MYSQL", "TABLE_OPTIONS"]

_KEY = "VARBINARY(1024)"  # INDEXED_TEXT_LIMIT bytes
TABLE_OPTIONS = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
"""Every table's: InnoDB (transactions, row locks), utf8mb4, compared byte for byte."""

_M001 = f"""
CREATE TABLE applications (
    case_id {_KEY} PRIMARY KEY,
    data LONGTEXT NOT NULL
);
CREATE TABLE cases (
    id {_KEY} PRIMARY KEY,
    base_id {_KEY} NOT NULL,
    round_year INTEGER NOT NULL,
    district {_KEY} NOT NULL,
    state VARBINARY(64) NOT NULL,
    version INTEGER NOT NULL,
    declared_on DATE NOT NULL,
    notice_due DATE,
    validity_due DATE,
    data LONGTEXT NOT NULL
);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_round ON cases (round_year);
CREATE INDEX cases_district ON cases (district);
CREATE INDEX cases_base ON cases (base_id);
CREATE INDEX cases_notice_due ON cases (notice_due);
CREATE INDEX cases_validity_due ON cases (validity_due);
CREATE TABLE history (
    case_id {_KEY} NOT NULL,
    sequence INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at VARCHAR(64) NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    data LONGTEXT NOT NULL,
    PRIMARY KEY (case_id, sequence)
);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history is append-only';
CREATE TRIGGER history_no_delete BEFORE DELETE ON history FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history is append-only';
CREATE TABLE outbox (
    position BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id {_KEY} NOT NULL UNIQUE,
    type TEXT NOT NULL,
    case_id {_KEY} NOT NULL,
    occurred_at VARCHAR(64) NOT NULL,
    data LONGTEXT NOT NULL
);
CREATE TABLE outbox_writer (
    id INTEGER PRIMARY KEY
);
INSERT INTO outbox_writer (id) VALUES (1);
CREATE TABLE consumers (
    name {_KEY} PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE commands (
    `key` {_KEY} PRIMARY KEY,
    case_id {_KEY} NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE rounds (
    year INTEGER PRIMARY KEY,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    notice TEXT NOT NULL
);
"""
"""The tables of m001, with ``outbox_writer``: the row a writer locks while it inserts its
events and until it commits (the outbox's commit order, `kmbase_workflow.stores.mysql`'s
module doc says why)."""

_M002 = """
CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'outbox is append-only';
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'outbox is append-only';
CREATE TRIGGER applications_no_update BEFORE UPDATE ON applications FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'applications are written once';
CREATE TRIGGER applications_no_delete BEFORE DELETE ON applications FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'applications are written once';
CREATE INDEX outbox_case ON outbox (case_id);
"""
"""As on the other stores (第二十条): ``REPLACE`` deletes and ``ON DUPLICATE KEY UPDATE``
updates, so these triggers refuse them too. MySQL has no trigger on ``TRUNCATE``: that
needs the ``DROP`` privilege, which the application's account should not have; the audit
detects what it removes."""

_M003 = """
ALTER TABLE cases ADD COLUMN base_name TEXT, ADD COLUMN operator_code TEXT,
    ADD COLUMN operator TEXT;
CREATE INDEX cases_operator ON cases (operator_code(64));
CREATE INDEX cases_declared ON cases (declared_on, id);
"""
"""The summary columns, and the index of the paging order ``(declared_on, id)``. No
database of this backend predates them, so there is nothing to backfill."""

_M004 = """
CREATE TABLE work_queue (
    case_id VARBINARY(1024) NOT NULL,
    obligation VARBINARY(255) NOT NULL,
    role VARBINARY(64) NOT NULL,
    district VARBINARY(1024) NOT NULL,
    base_id VARBINARY(1024) NOT NULL,
    base_name TEXT NOT NULL,
    operator_id VARBINARY(1024) NOT NULL,
    round_year INTEGER NOT NULL,
    state VARBINARY(64) NOT NULL,
    version INTEGER NOT NULL,
    actions TEXT NOT NULL,
    article_zh TEXT NOT NULL,
    article_en TEXT NOT NULL,
    since DATE NOT NULL,
    opens_on DATE,
    due_on DATE,
    ready_on DATE,
    sort_on DATE NOT NULL,
    PRIMARY KEY (case_id, obligation, role)
);
CREATE INDEX work_queue_role ON work_queue (role, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_district ON work_queue
    (role, district, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_operator ON work_queue
    (role, operator_id, sort_on, since, case_id, obligation);
CREATE INDEX work_queue_due ON work_queue (due_on, sort_on);
CREATE INDEX cases_round_district_state ON cases (round_year, district, state);
CREATE INDEX cases_state_notice ON cases (state, notice_due);
CREATE TABLE work_queue_status (
    name VARBINARY(1100) PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO work_queue_status (name, value)
    SELECT 'stale', 'migrated' FROM DUAL WHERE EXISTS (SELECT 1 FROM cases);
"""
"""The work-queue projection (`kmbase_workflow.stores._work_queue`); MySQL has no partial
indexes, so the "with a deadline" ones are one index on the deadline."""

_M005 = delivery_tables(
    key=_KEY, time="DOUBLE", position="BIGINT", json="LONGTEXT", day="VARBINARY(64)"
)
"""The delivery tables (`kmbase_workflow.stores._delivery.delivery_tables` says what each
holds)."""

_M006 = token_table(key="VARBINARY(64)", time="VARCHAR(64)")
"""The API tokens (`kmbase_workflow.stores.tokens`); times as ISO text, as on SQLite."""

MYSQL: dict[str, str] = {
    "m001_initial": _M001,
    "m002_append_only": _M002,
    "m003_summary_columns": _M003,
    "m004_work_queue": _M004,
    "m005_delivery": _M005,
    "m006_api_tokens": _M006,
    "m007_command_digests": M007_COMMAND_DIGESTS,
}
"""This backend's script of each migration the library knows (`MIGRATION_NAMES`)."""
