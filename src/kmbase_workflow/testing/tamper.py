"""The tamper suite: every kind of alteration someone with write access to the database might
make, each of which must be prevented by the database or detected by the audit.

Each `Tamper` alters a database that holds a realistic round (the demonstration's five bases,
written through a real store), after a signed `kmbase_workflow.audit.Checkpoint` was taken.
Its `Outcome` is:

- ``prevented``: the database refused the change (the append-only triggers);
- ``detected``: plain verification (`kmbase_workflow.audit.verify_store`) finds it;
- ``detected_by_checkpoint``: only verification against the checkpoint finds it (a chain
  re-sealed with plain SHA-256, a tail cut together with its events);
- ``passed``: nothing found it: the suite fails.

Tampers marked ``dba`` first drop the append-only triggers, as a database administrator can.
Run it on a backend by subclassing `TamperSuite`::

    from kmbase_workflow.testing import SQLiteDatabase, TamperSuite

    class TestMyStoreTampering(TamperSuite):
        def make_store(self): ...
        def database(self, store): return SQLiteDatabase(store.path)

or all at once with `run_tamper_suite`, whose `TamperReport` counts the outcomes.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs
import pytest

from .._i18n import Text
from ..audit import Checkpoint, checkpoint, verify_store
from ..case import Case, DeclarationRound, State
from ..clock import FixedClock
from ..encoding import dumps
from ..errors import KmbaseError
from ..events import Event
from ..history import HistoryEntry
from ..serialization import converter
from ..stores import CaseStore, Change, MemoryStore, case_columns, history_columns

__all__ = [
    "RECORDED",
    "TAMPERS",
    "TAMPER_KEY",
    "Database",
    "MySQLDatabase",
    "Outcome",
    "PostgresDatabase",
    "SQLiteDatabase",
    "Tamper",
    "TamperReport",
    "TamperResult",
    "TamperSuite",
    "run_tamper",
    "run_tamper_suite",
]

TAMPER_KEY = b"tamper-suite-checkpoint-key-0123456789"
"""The key the suite signs its checkpoints with (a test key: never use it in production)."""

_REFUSALS = ("append-only", "written once")


class Database(Protocol):
    """Raw access to the database behind a store, as its administrator has it."""

    dialect: str
    """``sqlite``, ``postgresql`` or ``mysql``."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (``?`` placeholders) in its own transaction."""
        ...

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query (``?`` placeholders)."""
        ...

    def json(self, value: Any) -> Any:
        """``value`` as a parameter for a JSON column."""
        ...

    def drop_guards(self) -> None:
        """Drop every trigger that guards the tables."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class SQLiteDatabase:
    """`Database` for a SQLite file."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._conn.execute(statement, tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""
        return list(self._conn.execute(statement, tuple(params)).fetchall())

    def json(self, value: Any) -> Any:
        """JSON text."""
        return dumps(value)

    def drop_guards(self) -> None:
        """Drop every trigger."""
        for (name,) in self.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            self.execute(f'DROP TRIGGER "{name}"')

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class PostgresDatabase:
    """`Database` for a PostgreSQL schema."""

    dialect = "postgresql"

    def __init__(self, url: str, schema: str) -> None:
        import psycopg  # noqa: PLC0415 - only when PostgreSQL is tested

        self._conn = psycopg.connect(url, autocommit=True)
        self._conn.execute(f'SET search_path TO "{schema}"')
        self.schema = schema

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._conn.execute(statement.replace("?", "%s"), tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""
        cursor = self._conn.execute(statement.replace("?", "%s"), tuple(params))
        return list(cursor.fetchall())

    def json(self, value: Any) -> Any:
        """A JSONB parameter."""
        from psycopg.types.json import Jsonb  # noqa: PLC0415

        return Jsonb(value)

    def drop_guards(self) -> None:
        """Drop every user trigger of the schema."""
        triggers = self.rows(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
            "AND n.nspname = ?",
            (self.schema,),
        )
        for name, table in triggers:
            self.execute(f'DROP TRIGGER "{name}" ON "{table}"')

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class MySQLDatabase:
    """`Database` for a MariaDB or MySQL database (``mysql://`` URL, as the store's)."""

    dialect = "mysql"

    def __init__(self, url: str) -> None:
        from ..stores.mysql import connect  # noqa: PLC0415 - only when MySQL is tested

        self._conn = connect(url)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._conn.cursor().execute(statement.replace("?", "%s"), tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query."""
        cursor = self._conn.cursor()
        cursor.execute(statement.replace("?", "%s"), tuple(params))
        return list(cursor.fetchall())

    def json(self, value: Any) -> Any:
        """JSON text."""
        return dumps(value)

    def drop_guards(self) -> None:
        """Drop every trigger of the database."""
        names = self.rows(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
        )
        for (name,) in names:
            self.execute(f"DROP TRIGGER `{name}`")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


# -- the scenario ------------------------------------------------------------------------------------


_RoundOpening = tuple[DeclarationRound, HistoryEntry | None, tuple[Event, ...]]
"""What `CaseStore.save_round` was given: the round, its chain's entry, its events."""


class _Recorder(MemoryStore):
    """A memory store that remembers every change and every round it opened, to replay them
    into the store under test."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[Change] = []
        self.opened: list[_RoundOpening] = []

    def save_round(
        self,
        declaration_round: DeclarationRound,
        entry: HistoryEntry | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        super().save_round(declaration_round, entry, events)
        self.opened.append((declaration_round, entry, tuple(events)))

    def commit_many(self, changes: Sequence[Change]) -> None:
        super().commit_many(changes)
        self.changes.extend(changes)


@functools.cache
def _demo_changes() -> tuple[tuple[_RoundOpening, ...], tuple[Change, ...]]:
    """The demonstration's rounds as opened (they come first) and its changes."""
    from ..demo import run_demo  # noqa: PLC0415 - the demo imports the exports

    recorder = _Recorder()
    run_demo(recorder)
    return tuple(recorder.opened), tuple(recorder.changes)


@attrs.frozen
class Scenario:
    """The database a tamper alters: a round written through ``store``, and its checkpoint."""

    store: CaseStore
    db: Database
    changes: tuple[Change, ...]
    checkpoint: Checkpoint
    rounds: tuple[DeclarationRound, ...] = ()
    """The rounds opened (through ``save_round``, with their chain's entry and event)."""

    @property
    def target(self) -> Case:
        """The case with the longest history (certified, reported on, expired)."""
        newest = {change.case.id: change.case for change in self.changes}
        return max(newest.values(), key=lambda case: case.version)

    def snapshot(self, case_id: str, version: int) -> Change:
        """The change that wrote ``case_id`` at ``version``."""
        return next(c for c in self.changes if c.case.id == case_id and c.case.version == version)

    def write_case(self, case: Case) -> None:
        """Overwrite a case row, every column consistent with the data."""
        columns = case_columns(case)
        self.db.execute(
            "UPDATE cases SET base_id = ?, round_year = ?, state = ?, version = ?, "
            "notice_due = ?, validity_due = ?, data = ? WHERE id = ?",
            (
                columns["base_id"],
                columns["round_year"],
                columns["state"],
                columns["version"],
                columns["notice_due"],
                columns["validity_due"],
                self.db.json(columns["data"]),
                case.id,
            ),
        )

    def write_history(self, case_id: str, entries: Sequence[HistoryEntry]) -> None:
        """Replace a case's history rows (the guards must be dropped first)."""
        self.db.execute("DELETE FROM history WHERE case_id = ?", (case_id,))
        for entry in entries:
            row = history_columns(entry)
            self.db.execute(
                "INSERT INTO history (case_id, sequence, action, from_state, to_state, at, "
                "previous_hash, hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row["case_id"],
                    row["sequence"],
                    row["action"],
                    row["from_state"],
                    row["to_state"],
                    row["at"],
                    row["previous_hash"],
                    row["hash"],
                    self.db.json(row["data"]),
                ),
            )

    def resealed(self, entries: Sequence[HistoryEntry], start: int) -> list[HistoryEntry]:
        """``entries`` re-sealed with plain SHA-256 from index ``start`` on."""
        result = list(entries[:start])
        for entry in entries[start:]:
            previous = result[-1].hash if result else entry.previous_hash
            result.append(entry.sealed(previous))
        return result


# -- the tampers -------------------------------------------------------------------------------------


@attrs.frozen
class Tamper:
    """One kind of alteration. ``apply`` may return the checkpoint the auditor is shown
    instead of the real one (a forged checkpoint)."""

    name: str
    description: Text
    apply: Callable[[Scenario], Checkpoint | None]
    dialects: frozenset[str] = frozenset({"sqlite", "postgresql", "mysql"})
    dba: bool = False
    """Drops the append-only triggers first."""


def _case_change(change: Callable[[Case], Case]) -> Callable[[Scenario], None]:
    def apply(s: Scenario) -> None:
        s.write_case(change(s.store.get(s.target.id)))

    return apply


def _column(column: str, value: Callable[[Case], object]) -> Callable[[Scenario], None]:
    def apply(s: Scenario) -> None:
        s.db.execute(f"UPDATE cases SET {column} = ? WHERE id = ?", (value(s.target), s.target.id))

    return apply


def _ten_years_later(case: Case) -> Case:
    assert case.validity is not None
    due = case.validity.due.replace(year=case.validity.due.year + 10)
    return attrs.evolve(case, validity=attrs.evolve(case.validity, due=due))


def _decision(reference: str | None = None, day: dt.date | None = None) -> Callable[[Case], Case]:
    def change(case: Case) -> Case:
        assert case.decision is not None
        decision = attrs.evolve(
            case.decision,
            reference=reference or case.decision.reference,
            decided_on=day or case.decision.decided_on,
        )
        return attrs.evolve(case, decision=decision)

    return change


def _application_data(s: Scenario) -> dict[str, Any]:
    data: dict[str, Any] = converter.unstructure(s.store.get(s.target.id).application)
    data["operator"]["name"] = "冒名运营主体有限公司"
    return data


def _update_application(s: Scenario) -> None:
    s.db.execute(
        "UPDATE applications SET data = ? WHERE case_id = ?",
        (s.db.json(_application_data(s)), s.target.id),
    )


def _replace_application(s: Scenario) -> None:
    if s.db.dialect in _REPLACE:
        s.db.execute(
            f"{_REPLACE[s.db.dialect]} applications (case_id, data) VALUES (?, ?)",
            (s.target.id, s.db.json(_application_data(s))),
        )
    else:
        s.db.execute("DELETE FROM applications WHERE case_id = ?", (s.target.id,))


def _history_row(s: Scenario, sequence: int) -> HistoryEntry:
    return s.store.history(s.target.id)[sequence - 1]


def _update_history(s: Scenario) -> None:
    s.db.execute(
        "UPDATE history SET action = 'forged' WHERE case_id = ? AND sequence = 1", (s.target.id,)
    )


def _delete_history(s: Scenario) -> None:
    s.db.execute(
        "DELETE FROM history WHERE case_id = ? AND sequence = ?", (s.target.id, s.target.version)
    )


def _replace_history(s: Scenario) -> None:
    entry = attrs.evolve(_history_row(s, 2), reason="伪造的理由")
    row = history_columns(entry)
    verb = "INSERT OR REPLACE INTO" if s.db.dialect == "sqlite" else "INSERT INTO"
    suffix = {
        "sqlite": "",
        "mysql": " ON DUPLICATE KEY UPDATE data = VALUES(data)",
    }.get(s.db.dialect, " ON CONFLICT (case_id, sequence) DO UPDATE SET data = excluded.data")
    s.db.execute(
        f"{verb} history (case_id, sequence, action, from_state, to_state, at, previous_hash, "
        f"hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?){suffix}",
        (
            row["case_id"],
            row["sequence"],
            row["action"],
            row["from_state"],
            row["to_state"],
            row["at"],
            row["previous_hash"],
            row["hash"],
            s.db.json(row["data"]),
        ),
    )


def _cut_tail(s: Scenario, *, events: bool) -> None:
    case = s.target
    newest = _history_row(s, case.version)
    s.db.execute("DELETE FROM history WHERE case_id = ? AND sequence = ?", (case.id, case.version))
    if events:
        for event_id in newest.event_ids:
            s.db.execute("DELETE FROM outbox WHERE id = ?", (event_id,))
    s.write_case(s.snapshot(case.id, case.version - 1).case)


def _reseal(s: Scenario, *, forge_checkpoint: bool = False) -> Checkpoint | None:
    history = s.store.history(s.target.id)
    history[2] = attrs.evolve(history[2], reason="事后改写的理由", evidence=("伪造材料.pdf",))
    s.write_history(s.target.id, s.resealed(history, 2))
    if forge_checkpoint:
        heads = dict(s.checkpoint.heads)
        heads[s.target.id] = attrs.evolve(heads[s.target.id], hash=history[-1].hash)
        forged = attrs.evolve(s.checkpoint, heads=heads)
        return forged
    return None


def _reseal_state(s: Scenario) -> None:
    """Rewrite the newest entry to leave the case certified, and the case with it."""
    case = s.store.get(s.target.id)
    forged_case = attrs.evolve(case, state=State.CERTIFIED)
    from ..audit import case_digest  # noqa: PLC0415 - the forger uses the library too

    history = s.store.history(case.id)
    history[-1] = attrs.evolve(
        history[-1], to_state="certified", case_hash=case_digest(forged_case)
    )
    s.write_history(case.id, s.resealed(history, len(history) - 1))
    s.write_case(forged_case)


def _first_event(s: Scenario) -> tuple[int, dict[str, Any]]:
    position, data = s.db.rows(
        "SELECT position, data FROM outbox WHERE case_id = ? ORDER BY position LIMIT 1",
        (s.target.id,),
    )[0]
    return int(position), json.loads(data) if isinstance(data, str) else dict(data)


def _edit_event(s: Scenario) -> None:
    position, data = _first_event(s)
    data["actor"]["name"] = "冒名者"
    s.db.execute("UPDATE outbox SET data = ? WHERE position = ?", (s.db.json(data), position))


def _delete_event(s: Scenario) -> None:
    position, _ = _first_event(s)
    s.db.execute("DELETE FROM outbox WHERE position = ?", (position,))


def _insert_event(s: Scenario) -> None:
    _, data = _first_event(s)
    data["id"] = "forged-event"
    data["actor"]["name"] = "冒名者"
    s.db.execute(
        "INSERT INTO outbox (id, type, case_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
        ("forged-event", data["type"], data["case_id"], data["occurred_at"], s.db.json(data)),
    )


def _replace_event(s: Scenario) -> None:
    position, data = _first_event(s)
    data["actor"]["name"] = "冒名者"
    s.db.execute(
        f"{_REPLACE[s.db.dialect]} outbox (position, id, type, case_id, occurred_at, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (position, data["id"], data["type"], data["case_id"], data["occurred_at"], s.db.json(data)),
    )


def _move_event(s: Scenario) -> None:
    position, _ = _first_event(s)
    other = next(c.case.id for c in s.changes if c.case.id != s.target.id)
    s.db.execute("UPDATE outbox SET case_id = ? WHERE position = ?", (other, position))


def _erase_case(s: Scenario) -> None:
    for table, key in (
        ("outbox", "case_id"),
        ("history", "case_id"),
        ("applications", "case_id"),
        ("cases", "id"),
    ):
        s.db.execute(f"DELETE FROM {table} WHERE {key} = ?", (s.target.id,))


def _hash_column(s: Scenario) -> None:
    s.db.execute(
        "UPDATE history SET hash = ? WHERE case_id = ? AND sequence = ?",
        ("f" * 64, s.target.id, s.target.version),
    )


def _silent(apply: Callable[[Scenario], None]) -> Callable[[Scenario], Checkpoint | None]:
    def run(s: Scenario) -> Checkpoint | None:
        apply(s)
        return None

    return run


def _round_closes_later(s: Scenario) -> None:
    """A round's window held open a month longer, so a late declaration would pass 第九条."""
    declaration_round = s.rounds[0]
    later = declaration_round.closes_on + dt.timedelta(days=30)
    s.db.execute(
        "UPDATE rounds SET closes_on = ? WHERE year = ?",
        (later.isoformat(), declaration_round.year),
    )


def _truncate(s: Scenario, table: str) -> str:
    """``TRUNCATE`` (PostgreSQL's takes the applications' dependants too)."""
    cascade = " CASCADE" if s.db.dialect == "postgresql" and table == "applications" else ""
    return f"TRUNCATE {table}{cascade}"


def _t(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


_REPLACE = {"sqlite": "INSERT OR REPLACE INTO", "mysql": "REPLACE INTO"}
"""The statement that overwrites a row, where a dialect has one (it deletes the old row)."""
_REPLACING = frozenset(_REPLACE)
_TRUNCATING = frozenset({"postgresql", "mysql"})

TAMPERS: tuple[Tamper, ...] = (
    Tamper(
        "case_state",
        _t("改动案件当前状态（数据与列一致）", "change a case's current state (data and column)"),
        _silent(_case_change(lambda c: attrs.evolve(c, state=State.CERTIFIED))),
    ),
    Tamper(
        "validity_extended",
        _t("有效期延长十年（数据与列一致）", "extend the validity by ten years (data and column)"),
        _silent(_case_change(_ten_years_later)),
    ),
    Tamper(
        "decision_reference",
        _t("改动集体决策文号", "change the collective decision's reference"),
        _silent(_case_change(_decision(reference="昆工信〔2025〕伪造号"))),
    ),
    Tamper(
        "decision_date",
        _t("改动集体决策日期", "change the collective decision's date"),
        _silent(_case_change(_decision(day=dt.date(2024, 1, 1)))),
    ),
    Tamper(
        "state_column",
        _t("只改状态列", "change only the state column"),
        _silent(_column("state", lambda c: State.CERTIFIED.value)),
    ),
    Tamper(
        "version_column",
        _t("只改版本列", "change only the version column"),
        _silent(_column("version", lambda c: c.version - 1)),
    ),
    Tamper(
        "round_year_column",
        _t("只改年度列", "change only the round year column"),
        _silent(_column("round_year", lambda c: c.round_year + 1)),
    ),
    Tamper(
        "district_column",
        _t("只改县区列", "change only the district column"),
        _silent(_column("district", lambda c: "伪造区")),
    ),
    Tamper(
        "base_id_column",
        _t("只改基地标识列", "change only the base id column"),
        _silent(_column("base_id", lambda c: "forged/base")),
    ),
    Tamper(
        "notice_due_column",
        _t("只改公示截止列", "change only the notice due column"),
        _silent(_column("notice_due", lambda c: "2030-01-01")),
    ),
    Tamper(
        "validity_due_column",
        _t("只改有效期列（延长十年）", "change only the validity column (ten years on)"),
        _silent(
            _column(
                "validity_due",
                lambda c: (
                    c.validity.due.replace(year=c.validity.due.year + 10).isoformat()
                    if c.validity
                    else None
                ),
            )
        ),
    ),
    Tamper(
        "application_update",
        _t("改动申请报告（UPDATE）", "edit the declared application (UPDATE)"),
        _silent(_update_application),
    ),
    Tamper(
        "application_replace",
        _t(
            "替换申请报告（INSERT OR REPLACE / DELETE）",
            "replace the application (INSERT OR REPLACE / DELETE)",
        ),
        _silent(_replace_application),
    ),
    Tamper(
        "application_truncate",
        _t("清空申请报告表（TRUNCATE）", "empty the applications (TRUNCATE)"),
        _silent(lambda s: s.db.execute(_truncate(s, "applications"))),
        dialects=_TRUNCATING,
    ),
    Tamper(
        "application_forged",
        _t("删除触发器后改动申请报告", "drop the triggers, then edit the application"),
        _silent(_update_application),
        dba=True,
    ),
    Tamper(
        "history_update",
        _t("改动历史记录（UPDATE）", "edit a history entry (UPDATE)"),
        _silent(_update_history),
    ),
    Tamper(
        "history_delete",
        _t("删除最新历史记录（DELETE）", "delete the newest history entry (DELETE)"),
        _silent(_delete_history),
    ),
    Tamper(
        "history_replace",
        _t(
            "覆盖历史记录（INSERT OR REPLACE / ON CONFLICT DO UPDATE）",
            "overwrite an entry (INSERT OR REPLACE / ON CONFLICT DO UPDATE)",
        ),
        _silent(_replace_history),
    ),
    Tamper(
        "history_truncate",
        _t("清空历史表（TRUNCATE）", "empty the history (TRUNCATE)"),
        _silent(lambda s: s.db.execute(_truncate(s, "history"))),
        dialects=_TRUNCATING,
    ),
    Tamper(
        "history_hash_column",
        _t("删除触发器后改动哈希列", "drop the triggers, then change a hash column"),
        _silent(_hash_column),
        dba=True,
    ),
    Tamper(
        "tail_cut_and_rollback",
        _t(
            "截去最新历史记录并将案件回退一步",
            "cut the newest entry and roll the case back one step",
        ),
        _silent(lambda s: _cut_tail(s, events=False)),
        dba=True,
    ),
    Tamper(
        "tail_cut_rollback_and_events",
        _t(
            "截去最新记录及其事件并将案件回退一步",
            "cut the newest entry and its events, roll the case back one step",
        ),
        _silent(lambda s: _cut_tail(s, events=True)),
        dba=True,
    ),
    Tamper(
        "resealed_chain",
        _t(
            "改写一条记录并用 SHA-256 重新封存其后的链",
            "rewrite an entry and re-seal the chain after it with plain SHA-256",
        ),
        _reseal,
        dba=True,
    ),
    Tamper(
        "resealed_state",
        _t(
            "改写最新记录与案件状态并重新封存",
            "rewrite the newest entry and the case's state, re-sealed",
        ),
        _silent(_reseal_state),
        dba=True,
    ),
    Tamper(
        "resealed_with_forged_checkpoint",
        _t(
            "重新封存链并伪造检查点（无密钥）",
            "re-seal the chain and forge the checkpoint (without the key)",
        ),
        lambda s: _reseal(s, forge_checkpoint=True),
        dba=True,
    ),
    Tamper(
        "outbox_update",
        _t("改动事件（UPDATE）", "edit an outbox event (UPDATE)"),
        _silent(_edit_event),
    ),
    Tamper(
        "outbox_delete",
        _t("删除事件（DELETE）", "delete an outbox event (DELETE)"),
        _silent(_delete_event),
    ),
    Tamper(
        "outbox_replace",
        _t("覆盖事件（INSERT OR REPLACE）", "overwrite an event (INSERT OR REPLACE)"),
        _silent(_replace_event),
        dialects=_REPLACING,
    ),
    Tamper(
        "outbox_truncate",
        _t("清空事件日志（TRUNCATE）", "empty the outbox (TRUNCATE)"),
        _silent(lambda s: s.db.execute(_truncate(s, "outbox"))),
        dialects=_TRUNCATING,
    ),
    Tamper(
        "outbox_insert",
        _t("插入伪造事件", "insert a forged event"),
        _silent(_insert_event),
    ),
    Tamper(
        "outbox_edited",
        _t("删除触发器后改动事件", "drop the triggers, then edit an event"),
        _silent(_edit_event),
        dba=True,
    ),
    Tamper(
        "outbox_deleted",
        _t("删除触发器后删除事件", "drop the triggers, then delete an event"),
        _silent(_delete_event),
        dba=True,
    ),
    Tamper(
        "outbox_case_column",
        _t("删除触发器后把事件移到另一案件", "drop the triggers, move an event to another case"),
        _silent(_move_event),
        dba=True,
    ),
    Tamper(
        "round_window_moved",
        _t(
            "改动申报批次的截止日期（rounds 表）",
            "move a declaration round's closing day (the rounds table)",
        ),
        _silent(_round_closes_later),
    ),
    Tamper(
        "round_row_deleted",
        _t("删除申报批次行", "delete a declaration round's row"),
        _silent(lambda s: s.db.execute("DELETE FROM rounds WHERE year = ?", (s.rounds[0].year,))),
    ),
    Tamper(
        "case_row_deleted",
        _t("删除案件行", "delete a case row"),
        _silent(lambda s: s.db.execute("DELETE FROM cases WHERE id = ?", (s.target.id,))),
    ),
    Tamper(
        "case_erased",
        _t(
            "删除触发器后抹去一个案件的全部记录",
            "drop the triggers, then erase a case and everything it wrote",
        ),
        _silent(_erase_case),
        dba=True,
    ),
)
"""Every alteration the suite tries (issue 12's list and the column and outbox variants)."""


# -- running ------------------------------------------------------------------------------------------


class Outcome(enum.Enum):
    """What became of a tamper."""

    PREVENTED = "prevented"
    DETECTED = "detected"
    DETECTED_BY_CHECKPOINT = "detected_by_checkpoint"
    PASSED = "passed"


@attrs.frozen
class TamperResult:
    """One tamper's outcome, and what each mode of verification found."""

    tamper: str
    outcome: Outcome
    plain: bool
    """Plain verification found it."""
    with_checkpoint: bool
    """Verification against the checkpoint found it."""
    findings: tuple[str, ...] = ()


@attrs.frozen
class TamperReport:
    """Every tamper's result on one backend."""

    dialect: str
    results: tuple[TamperResult, ...]

    def counts(self) -> dict[str, int]:
        """How many tampers ended in each outcome."""
        return {
            outcome.value: sum(1 for r in self.results if r.outcome is outcome)
            for outcome in Outcome
        }

    def summary(self) -> str:
        """One line: ``sqlite: 36 tampers: 12 prevented, 20 detected, 4 …``."""
        counts = self.counts()
        parts = ", ".join(f"{counts[o.value]} {o.value}" for o in Outcome)
        return f"{self.dialect}: {len(self.results)} tampers: {parts}"


def _scenario(store: CaseStore, db: Database) -> Scenario:
    opened, changes = _demo_changes()
    for declaration_round, entry, events in opened:
        store.save_round(declaration_round, entry, events)
    store.commit_many(changes)
    saved = checkpoint(store, TAMPER_KEY, clock=FixedClock(dt.datetime(2028, 12, 31, 18, 0)))
    return Scenario(store, db, changes, saved, tuple(r for r, _, _ in opened))


def _refused(error: Exception) -> bool:
    return any(word in str(error) for word in _REFUSALS)


def run_tamper(
    tamper: Tamper, store: CaseStore, db: Database, *, check_clean: bool = True
) -> TamperResult:
    """Apply one tamper to a fresh ``store`` (reached raw through ``db``) and verify it
    against the checkpoint taken before (plain findings are those of every kind but
    ``checkpoint``). ``check_clean`` first proves the untouched store verifies."""
    scenario = _scenario(store, db)
    if check_clean:
        clean = verify_store(store, scenario.checkpoint, TAMPER_KEY)
        if not clean.ok:
            raise AssertionError(
                "the untouched database does not verify: "
                + "; ".join(f.problem.en for f in clean.findings)
            )
    if tamper.dba:
        db.drop_guards()
    try:
        shown = tamper.apply(scenario) or scenario.checkpoint
    except Exception as error:  # the driver's error: a refusal, or a broken tamper
        if _refused(error):
            return TamperResult(tamper.name, Outcome.PREVENTED, False, False, (str(error),))
        raise
    try:
        report = verify_store(store, shown, TAMPER_KEY)
    except KmbaseError as error:  # the store could not even read itself: detected
        return TamperResult(tamper.name, Outcome.DETECTED, True, True, (error.message.en,))
    plain = [f for f in report.findings if f.kind != "checkpoint"]
    if plain:
        outcome = Outcome.DETECTED
    elif report.findings:
        outcome = Outcome.DETECTED_BY_CHECKPOINT
    else:
        outcome = Outcome.PASSED
    found = tuple(f.problem.en for f in report.findings)
    return TamperResult(tamper.name, outcome, bool(plain), bool(report.findings), found)


def tampers_for(dialect: str) -> tuple[Tamper, ...]:
    """The tampers that apply to a dialect."""
    return tuple(t for t in TAMPERS if dialect in t.dialects)


RECORDED: dict[tuple[str, str], TamperResult] = {}
"""Results of the tampers `TamperSuite` ran in this process, by (dialect, tamper)."""


def run_tamper_suite(
    make_store: Callable[[], CaseStore],
    database: Callable[[CaseStore], Database],
    dialect: str,
    *,
    reuse: bool = True,
) -> TamperReport:
    """Run every tamper of ``dialect``, each on a fresh store, and count the outcomes
    (``reuse``: take the results `TamperSuite` already recorded in this process)."""
    results = []
    for tamper in tampers_for(dialect):
        if reuse and (dialect, tamper.name) in RECORDED:
            results.append(RECORDED[dialect, tamper.name])
            continue
        store = make_store()
        db = database(store)
        try:
            results.append(run_tamper(tamper, store, db))
        finally:
            db.close()
            store.close()
    return TamperReport(dialect, tuple(results))


class TamperSuite:
    """The tamper suite as pytest tests: subclass it, set ``dialect`` and implement
    `make_store` (a fresh, empty store) and `database` (raw access to it)."""

    dialect: str = "sqlite"

    def make_store(self) -> CaseStore:
        """A fresh, empty store of the backend under test."""
        raise NotImplementedError

    def database(self, store: CaseStore) -> Database:
        """Raw access to ``store``'s database."""
        raise NotImplementedError

    @pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
    def test_tampering_is_prevented_or_detected(self, tamper: Tamper) -> None:
        """Each alteration is refused by the database or found by verification."""
        if self.dialect not in tamper.dialects:
            pytest.skip(f"{tamper.name} does not apply to {self.dialect}")
        store = self.make_store()
        db = self.database(store)
        try:
            result = run_tamper(tamper, store, db)
        finally:
            db.close()
            store.close()
        RECORDED[self.dialect, tamper.name] = result
        assert result.outcome is not Outcome.PASSED, (
            f"{tamper.name} ({tamper.description.en}) passed verification"
        )
