"""What the SQL stores share: every statement, the batch write and the reads.

Statements are written once, here, with ``?`` or ``:name`` placeholders; a dialect translates
them (psycopg uses ``%s`` and ``%(name)s``) and says how dates travel (SQLite stores ISO
text, PostgreSQL ``DATE``; both accept ISO text as a parameter). What differs is said by each
store: how a write transaction starts and ends, how pages are ordered, how the outbox is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .._closing import Closing
from .._i18n import Text
from ..case import Case, DeclarationRound, State, StoredApplication, kept_applications
from ..encoding import (
    application_data,
    check_text,
    dumps,
    encoded_with,
    event_document,
    event_from_data,
    storable_key,
    storable_text,
)
from ..errors import CaseNotFoundError, ConcurrencyConflictError, StoreError
from ..events import Event
from ..history import HistoryEntry
from ..records import Application
from ._delivery import SQLDelivery
from ._protocol import CaseQuery, Change, CommandResult, OutboxRecord
from ._rows import (
    HISTORY_SUMMARY_COLUMNS,
    OUTBOX_SUMMARY_COLUMNS,
    SUMMARY_COLUMNS,
    case_columns,
    case_from_json,
    change_data,
    history_columns,
    history_from_row,
    refuse_unstorable,
    refuse_unstorable_round,
)

if TYPE_CHECKING:
    from .tokens import SQLTokens

CASE_COLUMNS = (
    "id",
    "base_id",
    "round_year",
    "district",
    "state",
    "version",
    "declared_on",
    "notice_due",
    "validity_due",
    *SUMMARY_COLUMNS,
    "data",
)
HISTORY_COLUMNS = (*HISTORY_SUMMARY_COLUMNS, "data")
OUTBOX_COLUMNS = (*OUTBOX_SUMMARY_COLUMNS, "data")


def _insert(table: str, columns: Sequence[str], tail: str = "") -> str:
    names = ", ".join(columns)
    values = ", ".join(f":{column}" for column in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({values}){tail}"


INSERT_CASE = _insert("cases", CASE_COLUMNS, " ON CONFLICT (id) DO NOTHING")
UPDATE_CASE = (
    "UPDATE cases SET state = :state, version = :version, notice_due = :notice_due, "
    "validity_due = :validity_due, base_name = :base_name, operator_code = :operator_code, "
    "operator = :operator, data = :data WHERE id = :id AND version = :expected"
)
INSERT_APPLICATION = _insert("applications", ("case_id", "data"))
INSERT_HISTORY = _insert("history", HISTORY_COLUMNS)
INSERT_OUTBOX = _insert("outbox", OUTBOX_COLUMNS)
INSERT_COMMAND = _insert(
    "commands", ("key", "case_id", "version", "digest"), " ON CONFLICT (key) DO NOTHING"
)
UPSERT_ROUND = (
    "INSERT INTO rounds (year, opens_on, closes_on, notice) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (year) DO UPDATE SET opens_on = excluded.opens_on, "
    "closes_on = excluded.closes_on, notice = excluded.notice"
)
"""A year's round, replacing the year's; on PostgreSQL it also locks the year's row, so
two writers of one round's chain take turns (`SQLStoreBase.save_round`)."""
_CASE_COLUMNS_READ = "c.id, c.data, c.base_name, c.district, c.operator, c.operator_code"
_CASE_SELECT = f"SELECT {_CASE_COLUMNS_READ} FROM cases c"
"""A case row as read: its data and its summary, never its application."""

_PAGE = 500
"""Cases read per query while iterating (no cursor nor lock is held between pages)."""


class BatchRefusedError(Exception):
    """A check failed inside a batch; the store replays it to say which change."""


def outbox_rows(
    events: Sequence[Event],
    data: Sequence[Mapping[str, Any]] | None = None,
    *,
    numbers_checked: bool = False,
) -> list[dict[str, Any]]:
    """The outbox rows of ``events`` (``data``: their `event_document`, if the caller has it;
    ``numbers_checked``: as `dumps` takes it)."""
    plain = [event_document(event) for event in events] if data is None else data
    return [
        {
            "id": event.id,
            "type": event.type,
            "case_id": event.case_id,
            "occurred_at": event.occurred_at.isoformat(),
            "data": dumps(item, numbers_checked=numbers_checked),
        }
        for event, item in zip(events, plain, strict=True)
    ]


@attrs.frozen
class Batch:
    """The rows of a batch, encoded once (before any lock is taken), grouped by statement."""

    inserts: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    history: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    declared: list[tuple[str, Application]] = attrs.Factory(list)
    """Each new case's application text beside the record it encodes (`kept`)."""
    bases: list[tuple[tuple[str, int], str, frozenset[tuple[str, int]]]] = attrs.Factory(list)
    """Each new case checked against its base's cases: its id and version, its base, those
    cases (`Change.base_cases`)."""

    @classmethod
    def encode(cls, changes: Sequence[Change]) -> Batch:
        """Encode every change, refusing (before anything is written) one no store keeps."""
        batch = cls([], [], [], [], [], [])
        for change in changes:
            case = change.case
            plain = change_data(change)
            # the step wrote these records in the canonical form, which refuses NaN and the
            # infinities: orjson may write them (`dumps`)
            hashed = bool(plain.canonical)
            encode = functools.partial(dumps, numbers_checked=hashed)
            columns = case_columns(case, plain.case_data)
            columns["data"] = encode(columns["data"])
            texts = [columns["data"]]
            known = plain.application_data  # a new or amended one, as the step hashed it
            known_text = encode(known) if known is not None else None
            if change.expected_version == 0:
                application = known_text or dumps(application_data(case.application))
                texts.append(application)
                batch.inserts.append(columns)
                batch.applications.append({"case_id": case.id, "data": application})
                if isinstance(case._application, Application):
                    batch.declared.append((application, case._application))
                if change.base_cases is not None:
                    batch.bases.append(
                        ((case.id, case.version), case.base_id, frozenset(change.base_cases))
                    )
            else:
                batch.updates.append({**columns, "expected": change.expected_version})
            history = history_columns(change.history, plain.history_data)
            if known_text is not None and history["data"]["payload"] is known:
                # a declaration records its application: encoded once, put in place twice
                history["data"] = encoded_with(encode, history["data"], "payload", known_text)
            else:
                history["data"] = encode(history["data"])
            texts.append(history["data"])
            batch.history.append(history)
            events = outbox_rows(change.events, plain.event_data, numbers_checked=hashed)
            texts.extend(event["data"] for event in events)
            # the canonical texts the step hashed hold every string of these rows (the
            # application's once), as the memory store checks them; else the rows' own
            refuse_unstorable(change, None if hashed else texts)
            batch.outbox.extend(events)
            if change.idempotency_key is not None:
                batch.commands.append(
                    {
                        "key": change.idempotency_key,
                        "case_id": case.id,
                        "version": case.version,
                        "digest": change.command_digest,
                    }
                )
        return batch

    def kept(self) -> None:
        """Once the batch has committed: each new case's application is kept as what its
        text structures to (`kept_applications`), so a step on the case soon after (a
        recommendation) does not structure it again. For a store that gives the text back as
        written (SQLite's TEXT, MySQL's LONGTEXT; not PostgreSQL's JSONB, read as data)."""
        for text, application in self.declared:
            kept_applications.keep(text, application)


_RAW_TABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "cases": (CASE_COLUMNS, "id", "id"),
    "applications": (("case_id", "data"), "case_id", "case_id"),
    "history": (HISTORY_COLUMNS, "case_id", "case_id, sequence"),
    "outbox": (("position", *OUTBOX_COLUMNS), "case_id", "position"),
}
"""For `SQLStoreBase.raw_rows`: each table's columns, the case column, the order."""


def _command_result(row: Sequence[Any]) -> CommandResult:
    """A ``commands`` row's ``(case_id, version, digest)`` (no digest: written before m007)."""
    return CommandResult(str(row[0]), int(row[1]), None if row[2] is None else str(row[2]))


def _raw_value(column: str, value: Any) -> Any:
    if column == "data" and isinstance(value, str | bytes):
        return json.loads(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class SQLStoreBase(Closing):
    """The dialect-independent part of `SQLiteStore` and `PostgresStore`."""

    PLACEHOLDER = "?"
    GREATEST = "MAX"
    """SQLite's two-argument ``MAX`` is PostgreSQL's ``GREATEST``."""
    DELIVERY: ClassVar[type[SQLDelivery]] = SQLDelivery
    """The delivery rows' class of this dialect (SQLite's; each store names its own)."""

    on_checkpoint: Callable[[str], None] | None

    def _connection(self) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover
        """A connection for one statement or transaction, for this thread alone while the
        block runs; the driver's errors raised in the block leave it as library errors."""
        raise NotImplementedError

    @staticmethod
    @functools.cache
    def _translated(statement: str, placeholder: str) -> str:
        if placeholder == "?":
            return statement
        return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", statement.replace("?", placeholder))

    def _sql(self, statement: str) -> str:
        return self._translated(statement, self.PLACEHOLDER)

    def _many(self, connection: Any, statement: str, rows: Sequence[Any]) -> int:
        """Run ``statement`` once per row (a dialect may batch them); the rows it changed."""
        if not rows:
            return 0
        with contextlib.closing(connection.cursor()) as cursor:
            cursor.executemany(self._sql(statement), rows)
            return int(cursor.rowcount)

    reads_without_waiting: bool = False
    """Whether reads outside a write (`_one`, `_all`) go through a connection no writer holds
    (SQLite's own in WAL, `_reading`), so they never wait for a transaction to end."""

    def _reading(self) -> contextlib.AbstractContextManager[Any]:
        """The connection a read goes through: the store's (`_connection`), unless a store
        has one for reads that no writer holds."""
        return self._connection()

    def _one(self, statement: str, params: Sequence[Any]) -> Any:
        with self._reading() as connection:
            return connection.execute(self._sql(statement), tuple(params)).fetchone()

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reading() as connection:
            return list(connection.execute(self._sql(statement), tuple(params)).fetchall())

    def _run(self, statement: str, params: Sequence[Any]) -> None:
        with self._connection() as connection:
            connection.execute(self._sql(statement), tuple(params))

    @staticmethod
    def _findable(query: CaseQuery) -> bool:
        """Whether a query's keys could match anything stored (a NUL cannot, for instance)."""
        keys = (query.base_id, query.district, query.operator_code)
        if query.base_name is not None and not storable_text(query.base_name):
            return False  # a name is no indexed key (any length), but text all the same
        return all(key is None or storable_key(key) for key in keys)

    def _date_param(self, day: dt.date) -> object:
        """How a date is passed to the database (SQLite: ISO text)."""
        return day.isoformat()

    def _date_value(self, value: object) -> dt.date:
        """A date as the database returns it."""
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def _checkpoint(self, name: str) -> None:
        if self.on_checkpoint is not None:
            self.on_checkpoint(name)

    def commit_many(self, changes: Sequence[Change]) -> None:  # pragma: no cover - each store's
        raise NotImplementedError

    def _write_batch(self, connection: Any, batch: Batch) -> None:
        """Every row of a batch, one batched statement per table; `BatchRefusedError` if a
        change is refused (the caller rolls back and calls `_explain_refusal`)."""
        if not self._bases_unchanged(connection, batch):
            raise BatchRefusedError
        if self._many(connection, INSERT_CASE, batch.inserts) != len(batch.inserts):
            raise BatchRefusedError
        self._many(connection, INSERT_APPLICATION, batch.applications)
        if self._many(connection, UPDATE_CASE, batch.updates) != len(batch.updates):
            raise BatchRefusedError
        self._checkpoint("case")
        self._many(connection, INSERT_HISTORY, batch.history)
        self._checkpoint("history")
        self._many(connection, INSERT_OUTBOX, batch.outbox)
        self._checkpoint("outbox")
        if self._many(connection, INSERT_COMMAND, batch.commands) != len(batch.commands):
            raise BatchRefusedError

    def _explain_refusal(self, connection: Any, changes: Sequence[Change]) -> None:
        """Inside a transaction the caller rolls back: replay a refused batch change by
        change, raising the precise error of the first refused one."""
        for change in changes:
            batch = Batch.encode([change])
            case = change.case
            if not self._bases_unchanged(connection, batch):
                raise ConcurrencyConflictError.base_changed(case.base_id)
            if batch.inserts and self._many(connection, INSERT_CASE, batch.inserts) != 1:
                raise ConcurrencyConflictError.stale_version(
                    case.id, 0, self._version_in(connection, case.id)
                )
            if batch.updates and self._many(connection, UPDATE_CASE, batch.updates) != 1:
                actual = self._version_in(connection, case.id)
                if actual == 0:
                    raise CaseNotFoundError.no_case(case.id)
                raise ConcurrencyConflictError.stale_version(
                    case.id, change.expected_version, actual
                )
            self._many(connection, INSERT_APPLICATION, batch.applications)
            self._many(connection, INSERT_HISTORY, batch.history)
            self._many(connection, INSERT_OUTBOX, batch.outbox)
            if self._many(connection, INSERT_COMMAND, batch.commands) != len(batch.commands):
                raise ConcurrencyConflictError.key_taken(str(change.idempotency_key))
        raise StoreError(  # pragma: no cover - a refused batch refuses again when replayed
            Text(zh="批量写入被拒绝", en="the batch was refused"),
            hint=Text(zh="请重试", en="try again"),
        )

    BASE_LOCK: ClassVar[str | None] = None
    """A statement that holds, until the transaction ends, a lock of its own on a base (``?``:
    the base's id), where reading the base's cases locks nothing that a concurrent insert
    of one waits for (PostgreSQL's advisory lock). SQLite's writers take turns anyway; MySQL
    reads the cases ``FOR UPDATE`` (`BASE_READ`), whose gap lock an insert waits for."""
    BASE_READ: ClassVar[str] = "SELECT id, version FROM cases WHERE base_id = ?"
    """How the cases of a base are read inside the write (`_bases_unchanged`)."""

    def _bases_unchanged(self, connection: Any, batch: Batch) -> bool:
        """Whether each declaration's base still has exactly the cases it was checked against
        (`Change.base_cases`), the batch's earlier declarations of the base counted."""
        added: dict[str, list[tuple[str, int]]] = {}
        for new_case, base_id, expected in batch.bases:
            if self.BASE_LOCK is not None:
                connection.execute(self._sql(self.BASE_LOCK), (base_id,)).fetchall()
            rows = connection.execute(self._sql(self.BASE_READ), (base_id,)).fetchall()
            now = {(str(row[0]), int(row[1])) for row in rows}
            if now.union(added.get(base_id, ())) != expected:
                return False
            added.setdefault(base_id, []).append(new_case)
        return True

    def _version_in(self, connection: Any, case_id: str) -> int:
        row = connection.execute(
            self._sql("SELECT version FROM cases WHERE id = ?"), (case_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def commit(self, change: Change) -> None:
        """Write one change atomically."""
        self.commit_many([change])

    # -- reading cases -----------------------------------------------------------------------

    def _application_reader(self, case_id: str) -> Callable[[], StoredApplication]:
        """Reads a case's application as declared when it is first used (it never changes):
        its JSON text as stored (parsed, or answered from `kept_applications`, when used),
        or the plain data of a store that parses it (PostgreSQL's JSONB)."""

        def read() -> StoredApplication:
            row = self._one("SELECT data FROM applications WHERE case_id = ?", (case_id,))
            if row is None:  # pragma: no cover - written with the case, never deleted
                raise CaseNotFoundError.no_case(case_id)
            data = row[0]
            if isinstance(data, bytes):
                return data.decode("utf-8")
            return data if isinstance(data, str) else dict(data)

        return read

    def _case(self, row: Sequence[Any]) -> Case:
        """A case from a `_CASE_SELECT` row; its application is read when first used."""
        case_id, data, base_name, district, operator, operator_code = row[:6]
        if base_name is None or operator is None:  # a row the summary could not be filled for
            return case_from_json(data, self._application_reader(case_id)())
        return case_from_json(
            data,
            self._application_reader(case_id),
            (base_name, district, operator, operator_code),
        )

    def get(self, case_id: str) -> Case:
        """The case with this id."""
        row = None
        if storable_key(case_id):
            row = self._one(f"{_CASE_SELECT} WHERE c.id = ?", (case_id,))
        if row is None:
            raise CaseNotFoundError.no_case(case_id)
        return self._case(row)

    def get_many(self, case_ids: Sequence[str]) -> dict[str, Case]:
        """The cases with these ids that exist, by id (one query per 500 ids)."""
        rows = self._rows_for_keys(f"{_CASE_SELECT} WHERE c.id IN ({{marks}})", case_ids)
        return {row[0]: self._case(row) for row in rows}

    PAGE_KEY: tuple[str, ...] = ("c.rowid",)
    """The columns a store pages cases by (its declaration order)."""
    PAGE_START: tuple[Any, ...] = (0,)

    def _pages(
        self, where: str, params: Sequence[Any], columns: str = _CASE_COLUMNS_READ
    ) -> Iterator[Sequence[Any]]:
        # Keyset pagination: no cursor or lock held between pages.
        key = ", ".join(self.PAGE_KEY)
        marks = ", ".join("?" for _ in self.PAGE_KEY)
        width = columns.count(",") + 1
        statement = (
            f"SELECT {columns}, {key} FROM cases c WHERE ({key}) > ({marks}) AND ({where}) "
            f"ORDER BY {key} LIMIT {_PAGE}"
        )
        last = self.PAGE_START
        while True:
            rows = self._all(statement, (*last, *params))
            yield from rows
            if len(rows) < _PAGE:
                return
            last = tuple(rows[-1][width:])

    def _filter(self, query: CaseQuery) -> tuple[str, list[Any]] | None:
        """The SQL filter of a query (``None``: it cannot match anything stored)."""
        if not self._findable(query) or (query.states is not None and not query.states):
            return None
        clauses: list[str] = []
        params: list[Any] = []
        if query.state is not None:
            clauses.append("c.state = ?")
            params.append(query.state.value)
        if query.states is not None:
            clauses.append(f"c.state IN ({', '.join('?' for _ in query.states)})")
            params.extend(state.value for state in query.states)
        for column, value in (
            ("round_year", query.round_year),
            ("district", query.district),
            ("base_id", query.base_id),
            ("operator_code", query.operator_code),
            ("base_name", query.base_name),
        ):
            if value is not None:
                clauses.append(f"c.{column} = ?")
                params.append(value)
        return " AND ".join(clauses) or "1 = 1", params

    def find(self, query: CaseQuery) -> Iterator[Case]:
        """Cases matching ``query`` (filtered in SQL), in declaration order."""
        where = self._filter(query)
        if where is None:
            return iter(())
        return (self._case(row) for row in self._pages(*where))

    def find_states(self, query: CaseQuery) -> Iterator[tuple[str, State]]:
        """The id and state of each case `find` returns, reading only those columns."""
        where = self._filter(query)
        if where is None:
            return iter(())
        return ((row[0], State(row[1])) for row in self._selection(*where))

    def _selection(self, where: str, params: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """``c.id, c.state`` of the cases ``where`` selects, in declaration order (SQLite:
        page by page by rowid, holding the connection only while a page is read)."""
        return self._pages(where, params, columns="c.id, c.state")

    def deadlines_due(self, before: dt.date) -> Iterator[Case]:
        """Cases whose notice ended before ``before``, and cases holding a title (certified,
        or awaiting its withdrawal): their reminders, reports and expiry fall due throughout
        validity."""
        awaiting = [state.value for state in State if state.awaits_certification]
        held = [state.value for state in State if state.holds_title]
        rows = self._pages(
            f"(c.state IN ({', '.join('?' for _ in awaiting)}) AND c.notice_due < ?) "
            f"OR (c.state IN ({', '.join('?' for _ in held)}) AND c.validity_due IS NOT NULL)",
            [*awaiting, self._date_param(before), *held],
        )
        return (self._case(row) for row in rows)

    def _version(self, case_id: str) -> int:
        row = self._one("SELECT version FROM cases WHERE id = ?", (case_id,))
        return int(row[0]) if row else 0

    def _rows_for_keys(self, statement: str, keys: Sequence[str]) -> Iterator[Any]:
        """The rows of ``statement`` (its ``{marks}``: the placeholders of an ``IN`` list)
        for ``keys``, a page at a time; keys no store could hold are left out."""
        wanted = [key for key in dict.fromkeys(keys) if storable_key(key)]
        for start in range(0, len(wanted), _PAGE):
            part = wanted[start : start + _PAGE]
            yield from self._all(statement.format(marks=", ".join("?" for _ in part)), part)

    def last_hashes(self, case_ids: Sequence[str]) -> dict[str, str]:
        """The hash of each case's newest history entry, by id (unknown cases left out)."""
        rows = self._rows_for_keys(
            "SELECT h.case_id, h.hash FROM history h WHERE h.case_id IN ({marks}) AND "
            "h.sequence = (SELECT MAX(n.sequence) FROM history n WHERE n.case_id = h.case_id)",
            case_ids,
        )
        return {str(row[0]): str(row[1]) for row in rows}

    def command_results(self, idempotency_keys: Sequence[str]) -> dict[str, CommandResult]:
        """What each keyed command wrote the first time, by key (keys that never ran left out)."""
        rows = self._rows_for_keys(
            "SELECT key, case_id, version, digest FROM commands WHERE key IN ({marks})",
            idempotency_keys,
        )
        return {str(row[0]): _command_result(row[1:]) for row in rows}

    def history(self, case_id: str) -> list[HistoryEntry]:
        """A case's history, oldest first."""
        if not storable_key(case_id):
            return []
        rows = self._all("SELECT data FROM history WHERE case_id = ? ORDER BY sequence", (case_id,))
        return [history_from_row(row[0]) for row in rows]

    def last_hash(self, case_id: str) -> str | None:
        """The hash of the newest history entry."""
        if not storable_key(case_id):
            return None
        row = self._one(
            "SELECT hash FROM history WHERE case_id = ? ORDER BY sequence DESC LIMIT 1", (case_id,)
        )
        return str(row[0]) if row else None

    def command_result(self, idempotency_key: str) -> CommandResult | None:
        """What a keyed command wrote the first time."""
        if not storable_key(idempotency_key):
            return None
        row = self._one(
            "SELECT case_id, version, digest FROM commands WHERE key = ?", (idempotency_key,)
        )
        return _command_result(row) if row else None

    def read_outbox(self, after: int = 0, limit: int = 100) -> list[OutboxRecord]:
        """Events after position ``after``, oldest first."""
        rows = self._all(
            "SELECT position, data FROM outbox WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return [OutboxRecord(int(row[0]), event_from_data(row[1])) for row in rows]

    def outbox_backlog(self, after: int) -> int:
        """How many committed events come after position ``after`` in the order
        `read_outbox` reads them (a consumer's backlog: not the newest position minus its
        cursor, which an event committed late at a lower position would escape)."""
        row = self._one("SELECT COUNT(*) FROM outbox WHERE position > ?", (after,))
        return int(row[0])

    def consumer_position(self, consumer: str) -> int:
        """A named consumer's cursor."""
        if not storable_key(consumer):
            return 0
        row = self._one("SELECT position FROM consumers WHERE name = ?", (consumer,))
        return int(row[0]) if row else 0

    def acknowledge(self, consumer: str, position: int) -> None:
        """Advance a consumer's cursor (never backwards)."""
        check_text("consumer", consumer, indexed=True)
        self._run(
            "INSERT INTO consumers (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
            f"SET position = {self.GREATEST}(consumers.position, excluded.position)",
            (consumer, position),
        )

    def save_round(
        self,
        declaration_round: DeclarationRound,
        entry: HistoryEntry | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        """Record a declaration round (replacing that year's) with its history entry and
        events, in one transaction. The round's row is written first: on PostgreSQL it locks
        the year, so a second writer of the chain waits, then finds the chain moved on."""
        refuse_unstorable_round(declaration_round, entry, events)
        history = []
        if entry is not None:
            row = history_columns(entry)
            history.append({**row, "data": dumps(row["data"])})
        outbox = outbox_rows(events)
        with self._write_transaction() as connection:
            connection.execute(
                self._sql(UPSERT_ROUND),
                (
                    declaration_round.year,
                    self._date_param(declaration_round.opens_on),
                    self._date_param(declaration_round.closes_on),
                    declaration_round.notice,
                ),
            )
            self._checkpoint("round")
            if entry is not None:
                found = connection.execute(
                    self._sql("SELECT COALESCE(MAX(sequence), 0) FROM history WHERE case_id = ?"),
                    (entry.case_id,),
                ).fetchone()
                if int(found[0]) != entry.sequence - 1:
                    raise ConcurrencyConflictError.stale_version(
                        entry.case_id, entry.sequence - 1, int(found[0])
                    )
                self._many(connection, INSERT_HISTORY, history)
            self._checkpoint("history")
            self._many(connection, INSERT_OUTBOX, outbox)
            self._checkpoint("outbox")
            self._checkpoint("before_commit")

    def _write_transaction(self) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover
        """A connection inside a write transaction, committed when the block ends and rolled
        back if it raises (each store's)."""
        raise NotImplementedError

    def rounds(self) -> list[DeclarationRound]:
        """Every declaration round, by year."""
        rows = self._all("SELECT year, opens_on, closes_on, notice FROM rounds ORDER BY year")
        return [
            DeclarationRound(
                int(row[0]), self._date_value(row[1]), self._date_value(row[2]), str(row[3])
            )
            for row in rows
        ]

    def raw_rows(self, table: str, case_id: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``cases``, ``applications``, ``history`` or ``outbox`` as stored (of one
        case, or all): every column, ``data`` decoded, dates and times as ISO text. The audit
        (`kmbase_workflow.audit.RawRowStore`) checks the columns against the data."""
        columns, key, order = _RAW_TABLES[table]
        where = f" WHERE {key} = ?" if case_id is not None else ""
        rows = self._all(
            f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY {order}",
            () if case_id is None else (case_id,),
        )
        return [
            {name: _raw_value(name, value) for name, value in zip(columns, row, strict=True)}
            for row in rows
        ]

    def delivery_rows(self) -> SQLDelivery:
        """Durable delivery's rows, in this database (m005; the `DeliveryStore` capability)."""
        return self.DELIVERY(self)

    def api_tokens(self) -> SQLTokens:
        """The service's API tokens, in this database (``api_tokens``, m006)."""
        from .tokens import SQLTokens  # noqa: PLC0415 - the tokens module imports this one

        return SQLTokens(self)

    def close(self) -> None:  # pragma: no cover - each store's
        raise NotImplementedError
