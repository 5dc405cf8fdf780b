"""Every alteration the suite tries, each a `Tamper`: the case, its application, its
history, its events and the rounds, through the columns or the data, with or without
dropping the append-only triggers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import attrs

from ..._i18n import Text
from ...audit import Checkpoint
from ...case import Case, State
from ...history import HistoryEntry
from ...serialization import converter
from ._scenario import Scenario


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
    verb = "INSERT OR REPLACE INTO" if s.db.dialect == "sqlite" else "INSERT INTO"
    suffix = {
        "sqlite": "",
        "mysql": " ON DUPLICATE KEY UPDATE data = VALUES(data)",
    }.get(s.db.dialect, " ON CONFLICT (case_id, sequence) DO UPDATE SET data = excluded.data")
    s.insert_history(entry, verb, suffix)


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
    from ...audit import case_digest  # noqa: PLC0415 - the forger uses the library too

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
