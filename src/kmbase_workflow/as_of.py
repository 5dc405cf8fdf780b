"""History as data: a case as it stood on any past day, rebuilt from its history.

The history (第二十条) records every step with its actor, day, reason and payload. Replaying
the steps through the lifecycle's own effects (`kmbase_workflow.lifecycle.apply_trigger`)
gives the case as it stood after any of them; no guard is asked again, since the record
stands. Each rebuilt case is checked against the digest its entry recorded
(``HistoryEntry.case_hash``), and a rebuild to the newest entry against the stored case: a
difference is a finding, in Chinese and English, never a silent answer.

>>> import datetime as dt
>>> from kmbase_workflow import Actor, FixedClock, Role, Workflow
>>> from kmbase_workflow.examples import eligible_application
>>> clock = FixedClock(dt.date(2025, 6, 20))
>>> workflow = Workflow("memory://", clock=clock)
>>> bureau = Actor(Role.CITY_BUREAU, "bureau-01")
>>> _ = workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau)
>>> application = eligible_application()
>>> _ = workflow.declare(application, Actor.for_operator(application.operator), case_id="c1")
>>> clock.set(dt.date(2025, 7, 1))
>>> district = Actor(Role.DISTRICT_AUTHORITY, "d-7", district=application.base.district)
>>> _ = workflow.decline("c1", district, "材料与实际不符")
>>> past = case_as_of(workflow, "c1", dt.date(2025, 6, 30))
>>> past.case.state.value, past.ok, case_as_of(workflow, "c1", dt.date(2025, 7, 1)).case.state.value
('declared', True, 'not_recommended')

"What did the bureau know when it certified?" is `known_at` (docs/history-as-data.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs

from ._i18n import Text
from .audit import case_digest
from .case import Case, State
from .clock import TIMEZONE
from .errors import InvalidInputError, KmbaseError
from .history import HistoryEntry, verify_history
from .lifecycle import GuardContext, Trigger, apply_trigger, step_for
from .records import Application
from .serialization import structure, unstructure
from .stores import CaseQuery

if TYPE_CHECKING:
    from .workflow import Workflow

__all__ = [
    "CaseAsOf",
    "Knowledge",
    "RoundAsOf",
    "RoundRow",
    "case_as_of",
    "known_at",
    "round_as_of",
]


@attrs.frozen(kw_only=True)
class CaseAsOf:
    """A case as it stood at ``as_of`` (``None``: not declared yet), the steps that led
    there, and what did not agree with the record (empty: the rebuild is the record)."""

    case_id: str
    as_of: dt.date | dt.datetime
    case: Case | None
    entries: tuple[HistoryEntry, ...]
    findings: tuple[Text, ...] = ()

    @property
    def ok(self) -> bool:
        """The rebuild agrees with every digest and, when it reaches now, the stored case."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the case (without its application, which is given by its base and
        operator), the steps and the findings in both languages."""
        case = self.case
        return {
            "case_id": self.case_id,
            "as_of": self.as_of.isoformat(),
            "declared": case is not None,
            "state": case.state.value if case else None,
            "state_label": {"zh": case.state.label.zh, "en": case.state.label.en} if case else None,
            "version": case.version if case else 0,
            "case": _case_data(case) if case else None,
            "steps": [
                {"sequence": e.sequence, "action": e.action, "at": e.at.isoformat(),
                 "actor": {"role": e.actor.role.value, "id": e.actor.id}, "to_state": e.to_state}
                for e in self.entries
            ],
            "ok": self.ok,
            "findings": [{"zh": f.zh, "en": f.en} for f in self.findings],
        }  # fmt: skip


def _case_data(case: Case) -> dict[str, Any]:
    data = unstructure(case)
    data.pop("application", None)
    data["base_name"] = case.base_name
    data["district"] = case.district
    data["operator"] = case.operator_code
    return data


def _day(entry: HistoryEntry) -> dt.date:
    at = entry.at
    local = at.astimezone(ZoneInfo(TIMEZONE)) if at.tzinfo is not None else at
    return dt.date(local.year, local.month, local.day)


def _payload(trigger: Trigger, data: object) -> object:
    """The typed payload a history entry recorded (as the step recorded it, completed)."""
    step = step_for(trigger)
    if step.payload is None or not data:
        return None
    if step.payload is str:
        return data.get("value") if isinstance(data, dict) else data
    if step.payload is dict:
        return dict(data) if isinstance(data, dict) else data
    return structure(data, step.payload, source=f"history:{trigger.value}")


def _replay(
    workflow: Workflow, stored: Case, entries: Sequence[HistoryEntry]
) -> tuple[Case | None, list[Text]]:
    """The case after ``entries`` (the first must be the declaration), with findings."""
    findings: list[Text] = []
    case: Case | None = None
    for entry in entries:
        try:
            trigger = Trigger(entry.action)
            payload = _payload(trigger, entry.payload)
            if case is None:
                if not isinstance(payload, Application):
                    raise InvalidInputError(
                        Text(zh="首条记录不是申报", en="the first entry is not a declaration")
                    )
                case = Case(
                    id=stored.id, base_id=stored.base_id, round_year=stored.round_year,
                    state=State.DECLARED, version=0, application=payload, declared_on=_day(entry),
                )  # fmt: skip
            ctx = GuardContext(
                case=case, trigger=trigger, actor=entry.actor, today=_day(entry),
                policy=workflow.policy_for(case), calendar=workflow.calendar,
                allow_provisional=True, reason=entry.reason, payload=payload,
            )  # fmt: skip
            case = apply_trigger(ctx)
        except KmbaseError as error:
            findings.append(
                Text(
                    zh=f"第 {entry.sequence} 条记录（{entry.action}）无法重放：{error.message.zh}",
                    en=f"entry {entry.sequence} ({entry.action}) cannot be replayed: "
                    f"{error.message.en}",
                )
            )
            return case, findings
        if entry.case_hash and case_digest(case, entry.format) != entry.case_hash:
            findings.append(
                Text(
                    zh=f"第 {entry.sequence} 条记录（{entry.action}）后重建的案件与该记录所载不符",
                    en=f"after entry {entry.sequence} ({entry.action}) the rebuilt case differs "
                    "from the case the entry recorded",
                )
            )
    return case, findings


def _check_date(value: object) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise InvalidInputError(
                Text(zh="时刻须带时区", en="an instant needs its time zone"),
                hint=Text(zh="例如 Asia/Shanghai 时间", en="for example a time in Asia/Shanghai"),
            )
        return value
    raise InvalidInputError(
        Text(zh=f"日期无效：{value!r}", en=f"not a date: {value!r}"),
        hint=Text(
            zh="请传入 datetime.date（或带时区的 datetime）",
            en="pass a datetime.date (or an aware datetime)",
        ),
    )


def _until(entries: Sequence[HistoryEntry], as_of: dt.date | dt.datetime) -> list[HistoryEntry]:
    if isinstance(as_of, dt.datetime):
        return [e for e in entries if e.at <= as_of]
    return [e for e in entries if _day(e) <= as_of]


def _as_of(
    workflow: Workflow,
    stored: Case,
    entries: list[HistoryEntry],
    as_of: dt.date | dt.datetime,
    shown: list[HistoryEntry],
) -> CaseAsOf:
    """``shown`` (the first entries) replayed and checked; the whole chain verified."""
    findings: list[Text] = []
    chain = verify_history(entries)
    if not chain.ok and chain.problem is not None:
        findings.append(chain.problem)
    case, replayed = _replay(workflow, stored, shown) if shown else (None, [])
    findings.extend(replayed)
    reaches_now = bool(shown) and len(shown) == len(entries) and not replayed
    if (
        reaches_now
        and case is not None
        and (case_digest(case) != case_digest(stored) or case.application != stored.application)
    ):
        findings.append(
            Text(
                zh="由历史记录重建的案件与数据库中保存的案件不符",
                en="the case rebuilt from its history differs from the stored case",
            )
        )
    return CaseAsOf(
        case_id=stored.id, as_of=as_of, case=case, entries=tuple(shown), findings=tuple(findings)
    )


def case_as_of(workflow: Workflow, case_id: str, as_of: dt.date | dt.datetime) -> CaseAsOf:
    """The case as it stood at the end of day ``as_of`` (or at an aware instant), rebuilt
    from its history and checked (see the module doc). ``CaseNotFoundError`` for an unknown
    case; a case declared later is returned as ``case=None``."""
    when = _check_date(as_of)
    stored = workflow.case(case_id)
    entries = workflow.history(case_id)
    return _as_of(workflow, stored, entries, when, _until(entries, when))


@attrs.frozen(kw_only=True)
class Knowledge:
    """What the record held when a step was taken: the case just before it (with every
    opinion, check, notice and objection on it), the steps that led there, and the step."""

    step: HistoryEntry
    before: CaseAsOf

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "step": {
                "sequence": self.step.sequence, "action": self.step.action,
                "at": self.step.at.isoformat(), "reason": self.step.reason,
                "actor": {"role": self.step.actor.role.value, "id": self.step.actor.id},
                "payload": dict(self.step.payload),
            },
            "before": self.before.to_dict(),
        }  # fmt: skip


def known_at(
    workflow: Workflow, case_id: str, trigger: Trigger | str = Trigger.CERTIFY
) -> Knowledge:
    """What the bureau (or whoever fired ``trigger``) knew when it did: the case as it
    stood just before the first ``trigger`` step, rebuilt and checked.

    ``InvalidInputError`` when the case never had that step.
    """
    chosen = Trigger(trigger)
    stored = workflow.case(case_id)
    entries = workflow.history(case_id)
    step = next((e for e in entries if e.action == chosen.value), None)
    if step is None:
        raise InvalidInputError(
            Text(
                zh=f"案件 {case_id} 没有“{chosen.label.zh}”这一步",
                en=f"case {case_id} has no step {chosen.value}",
            ),
            hint=Text(zh="请用 kmbase history 查看其步骤", en="see its steps with kmbase history"),
        )
    # By position, not by time: steps of one instant still came in their order.
    before = [e for e in entries if e.sequence < step.sequence]
    return Knowledge(step=step, before=_as_of(workflow, stored, entries, step.at, before))


@attrs.frozen
class RoundRow:
    """One case of a round as it stood on the day asked."""

    case_id: str
    base_name: str
    district: str
    state: State
    version: int
    last_step_on: dt.date | None
    ok: bool


@attrs.frozen(kw_only=True)
class RoundAsOf:
    """A round's table as it stood at ``as_of``: the cases declared by then."""

    round_year: int
    as_of: dt.date
    rows: tuple[RoundRow, ...]
    findings: tuple[tuple[str, Text], ...] = ()

    def by_state(self) -> dict[str, int]:
        """Cases per state on that day."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.state.value] = counts.get(row.state.value, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "round_year": self.round_year,
            "as_of": self.as_of.isoformat(),
            "by_state": self.by_state(),
            "rows": [
                {"case_id": r.case_id, "base_name": r.base_name, "district": r.district,
                 "state": r.state.value, "version": r.version,
                 "last_step_on": r.last_step_on.isoformat() if r.last_step_on else None, "ok": r.ok}
                for r in self.rows
            ],
            "findings": [{"case_id": c, "zh": f.zh, "en": f.en} for c, f in self.findings],
        }  # fmt: skip


def round_as_of(
    workflow: Workflow, round_year: int, as_of: dt.date, *, district: str | None = None
) -> RoundAsOf:
    """The round's table at the end of day ``as_of`` (``district`` narrows it), each case
    rebuilt from its history and checked; a case's findings are listed with its id."""
    if isinstance(round_year, bool) or not isinstance(round_year, int):
        raise InvalidInputError(
            Text(
                zh=f"年度应为整数，收到 {round_year!r}",
                en=f"round_year must be a year, got {round_year!r}",
            ),
            hint=Text(zh="例如 2025", en="for example 2025"),
        )
    when = _check_date(as_of)
    if isinstance(when, dt.datetime):
        raise InvalidInputError(
            Text(zh="请给出日期", en="give a date"),
            hint=Text(zh="例如 2025-10-16", en="for example 2025-10-16"),
        )
    rows: list[RoundRow] = []
    findings: list[tuple[str, Text]] = []
    for stored in workflow.store.find(CaseQuery(round_year=round_year, district=district)):
        entries = workflow.history(stored.id)
        past = _as_of(workflow, stored, entries, when, _until(entries, when))
        findings.extend((stored.id, finding) for finding in past.findings)
        if past.case is None:
            continue
        case = past.case
        rows.append(
            RoundRow(
                case.id,
                case.base_name,
                case.district,
                case.state,
                case.version,
                case.last_acted_on,
                past.ok,
            )
        )
    return RoundAsOf(round_year=round_year, as_of=when, rows=tuple(rows), findings=tuple(findings))
