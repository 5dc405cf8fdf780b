"""The MySQL-family store's SQL: the SQL stores' statements in MySQL's words (`dialect`),
and durable delivery's claims as MariaDB and MySQL can make them (`MySQLDelivery`).
`kmbase_workflow.stores.mysql` is the store that uses both.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import TYPE_CHECKING, Any

from ._delivery import SQLDelivery

if TYPE_CHECKING:
    from .mysql import MySQLStore

__all__ = ["MySQLDelivery", "dialect"]

_ON_CONFLICT = re.compile(r"\s*ON CONFLICT \(([^)]*)\) DO (NOTHING|UPDATE SET (.*))\Z", re.S)
_INTO = re.compile(r"INSERT INTO (\w+)")
_KEY_COLUMN = re.compile(r"(?<![`\w])(?<!%\()key(?![`\w])")
"""The column ``key`` (a reserved word in MySQL), not the placeholder ``%(key)s``."""


@functools.lru_cache(maxsize=4096)
def dialect(statement: str) -> str:
    """A statement of the SQL stores (PostgreSQL's ``%s`` placeholders already) in MySQL's
    words: ``ON CONFLICT … DO NOTHING`` becomes a no-op ``ON DUPLICATE KEY UPDATE`` (it
    counts no row, as a skipped insert counts none), ``DO UPDATE SET … excluded.c`` becomes
    ``ON DUPLICATE KEY UPDATE … VALUES(c)``, and the column ``key`` is quoted."""
    statement = _KEY_COLUMN.sub("`key`", statement)
    found = _ON_CONFLICT.search(statement)
    if found is None:
        return statement
    into = _INTO.search(statement)
    table = into.group(1) if into else ""
    if found.group(3) is None:
        column = found.group(1).split(",")[0].strip()
        update = f"{table}.{column} = {table}.{column}"
    else:
        update = re.sub(r"\bexcluded\.(\w+)", r"VALUES(\1)", found.group(3))
    return f"{statement[: found.start()]} ON DUPLICATE KEY UPDATE {update}"


class MySQLDelivery(SQLDelivery):
    """Delivery on MariaDB and MySQL: the server's clock, ``SKIP LOCKED``; the store's reads
    join the delivery's transaction (`MySQLStore.using`). MySQL cannot update a table that
    a subquery of the same statement reads, nor return the rows it updated: a claim selects
    its rows ``FOR UPDATE SKIP LOCKED``, then updates and reads them."""

    now = "UNIX_TIMESTAMP(SYSDATE(6))"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    store: MySQLStore

    def joined(self, connection: Any) -> contextlib.AbstractContextManager[Any]:
        return self.store.using(connection)

    def hold_relay(self, connection: Any, consumer: str) -> bool:
        held = connection.execute(
            self.sql("SELECT name FROM delivery_consumers WHERE name = ?" + self.skip_locked),
            (consumer,),
        ).fetchone()
        return held is not None

    def take(
        self, connection: Any, consumer: str, worker: str, limit: int, lease: float
    ) -> list[Any]:
        chosen = connection.execute(
            self.sql(
                "SELECT q.position FROM delivery_queue q WHERE q.consumer = ? "
                "AND q.available_at <= {now} AND NOT EXISTS (SELECT 1 FROM delivery_queue e "
                "WHERE e.consumer = q.consumer AND e.case_id = q.case_id "
                f"AND e.position < q.position) ORDER BY q.position LIMIT ?{self.skip_locked}",
            ),
            (consumer, limit),
        ).fetchall()
        positions = [int(row[0]) for row in chosen]
        if not positions:
            return []
        marks = ", ".join("?" for _ in positions)
        connection.execute(
            self.sql(
                "UPDATE delivery_queue SET available_at = {now} + ?, leased_by = ?, "
                f"attempts = attempts + 1 WHERE consumer = ? AND position IN ({marks})",
            ),
            (lease, worker, consumer, *positions),
        )
        return list(
            connection.execute(
                self.sql(
                    "SELECT position, data, attempts FROM delivery_queue "
                    f"WHERE consumer = ? AND position IN ({marks})",
                ),
                (consumer, *positions),
            ).fetchall()
        )

    def take_sweep(self, connection: Any, day: str, worker: str, lease: float) -> bool:
        # ON DUPLICATE KEY UPDATE has no WHERE: each assignment keeps the old value unless
        # the sweep is free (its conditions read columns no earlier assignment changed).
        free = "finished_at IS NULL AND lease_until < {now}"
        cursor = connection.execute(
            self.sql(
                "INSERT INTO delivery_sweeps (day, leased_by, lease_until) "
                "VALUES (?, ?, {now} + ?) ON DUPLICATE KEY UPDATE "
                f"leased_by = IF({free}, VALUES(leased_by), leased_by), "
                f"lease_until = IF({free}, VALUES(lease_until), lease_until)",
            ),
            (day, worker, lease),
        )
        return int(cursor.rowcount) > 0  # 1 inserted, 2 taken over, 0 left as it was
