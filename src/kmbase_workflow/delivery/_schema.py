"""The tables of durable delivery (migration ``m005_delivery``), per dialect.

The outbox itself is the store's: delivery keeps only its own tables, and reads events
through the store's ``read_outbox`` (which keeps the store's visibility guarantee). Times
are seconds since the epoch, taken from the database's clock, so leases and back-off do not
depend on the clocks of the worker machines.

- ``delivery_consumers``: the named consumers (webhooks, Python handlers); their cursor
  over the outbox is the store's own (``consumers``, moved with ``acknowledge``);
- ``delivery_queue``: events relayed to a consumer and not yet handled, one row each, with
  their attempts, the time before which no one may take them (back-off, or the lease of
  the worker holding them) and the last error; a handled event's row is deleted;
- ``delivery_dead``: events that failed ``max_attempts`` times, for an operator to see and
  re-drive;
- ``delivery_sweeps``: one row per day the sweep ran (who holds it, when it finished).
"""

from __future__ import annotations

MIGRATION = "m005_delivery"

_TABLES = """
CREATE TABLE delivery_consumers (
    name TEXT PRIMARY KEY,
    created_at {time} NOT NULL
);
CREATE TABLE delivery_queue (
    consumer TEXT NOT NULL,
    position {position} NOT NULL,
    case_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    data TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at {time} NOT NULL,
    leased_by TEXT,
    last_error TEXT,
    PRIMARY KEY (consumer, position)
);
CREATE INDEX delivery_queue_case ON delivery_queue (consumer, case_id, position);
CREATE INDEX delivery_queue_due ON delivery_queue (consumer, available_at);
CREATE TABLE delivery_dead (
    consumer TEXT NOT NULL,
    position {position} NOT NULL,
    case_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    data TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at {time} NOT NULL,
    last_error TEXT NOT NULL,
    PRIMARY KEY (consumer, position)
);
CREATE TABLE delivery_sweeps (
    day TEXT PRIMARY KEY,
    leased_by TEXT NOT NULL,
    lease_until {time} NOT NULL,
    finished_at {time},
    events INTEGER NOT NULL DEFAULT 0
);
"""

SQLITE_M005 = _TABLES.format(time="REAL", position="INTEGER")

POSTGRES_M005 = (
    _TABLES.format(time="DOUBLE PRECISION", position="BIGINT")
    + """
CREATE FUNCTION kmbase_outbox_notify() RETURNS trigger AS $$
BEGIN PERFORM pg_notify(TG_TABLE_SCHEMA || '_kmbase_outbox', ''); RETURN NULL; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION kmbase_outbox_notify();
"""
)
"""On PostgreSQL, a statement trigger notifies ``<schema>_kmbase_outbox`` when events are
written; the notification is sent at commit (never for a rolled-back write) and repeated
ones in one transaction are folded into one, so a waiting worker wakes once per commit."""


def notify_channel(schema: str) -> str:
    """The ``LISTEN`` channel of a PostgreSQL schema's outbox."""
    return f"{schema}_kmbase_outbox"
