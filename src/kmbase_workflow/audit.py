"""The audit (第二十条): verify everything the library acts on against the hash chain, and
anchor the chains outside the database with signed checkpoints.

What is bound to the chain (see ``docs/explanation/audit.md`` for the threat model):

- each history entry (format 2) carries `case_digest` of the case after its step: the whole
  case in canonical JSON but its application, which the declaration binds once by
  `application_digest` (it never changes after); so the stored case must match the newest
  entry (its state, validity, decisions) and the stored application the declaration;
- each entry carries `event_digest` of every event it emitted, so an outbox event that was
  edited, deleted, or inserted without an entry (or whose entry was cut) shows;
- stores that expose their rows as stored (`RawRowStore`, the SQL stores) have every
  summary and indexed column checked against the data it summarises;
- each declaration round has a chain of its own (``round:2025``) whose entries carry
  `round_digest` of the round as opened, so the stored round (its window, its notice) must
  match the newest entry.

Plain verification (`verify_case`, `verify_store`) cannot tell a chain re-sealed with plain
SHA-256 from a real one, nor a case cut back with its events: anyone can recompute SHA-256.
A `Checkpoint` of every chain head and of the outbox, signed with HMAC-SHA256 under a key the
database administrator does not hold (`load_key`), can: `verify_store` with a checkpoint
finds every head that no longer lies on its chain and every outbox change before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ._i18n import Text
from .case import ROUND_CHAIN_PREFIX, Case, DeclarationRound
from .clock import Clock, SystemClock
from .encoding import event_document as event_data
from .errors import CaseNotFoundError, InvalidInputError
from .events import Event
from .history import (
    HISTORY_FORMAT,
    ChainReport,
    HistoryEntry,
    application_digest,
    canonical_json,
    case_canonical,
    case_digest,
    event_digest,
    round_digest,
    sha256,
    verify_history,
)
from .history import data_digest as _data_digest
from .serialization import converter
from .stores import CaseQuery, CaseStore, RawRowStore, case_columns, case_from_json

__all__ = [
    "AUDIT_KEY_ENVIRONMENT_VARIABLE",
    "CHECKPOINT_FORMAT",
    "AuditFinding",
    "AuditReport",
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
]

AUDIT_KEY_ENVIRONMENT_VARIABLE = "KMBASE_AUDIT_KEY"
"""Where `load_key` finds the checkpoint key when no key file is given."""

CHECKPOINT_FORMAT = 2
"""The version of the checkpoint's signed form: 2 covers the outbox in the order stores read
it (commit order, `CaseStore.read_outbox`) up to ``outbox_position``; 1 covered every
position up to it, which an event committing late at a lower position (PostgreSQL, issue
27) broke on an untouched database. Both are verified, each as it was made."""
_CHECKPOINT_FORMATS = (1, CHECKPOINT_FORMAT)

_MIN_KEY_BYTES = 16

# -- what a store shows the audit -----------------------------------------------------------------


@attrs.frozen
class AuditFinding:
    """One thing the audit found: which case or round chain (``round:2025``; ``None``: the
    store or the checkpoint), what kind (``chain``, ``case``, ``round``, ``column``,
    ``event``, ``checkpoint``) and what."""

    case_id: str | None
    kind: str
    problem: Text


@attrs.frozen
class AuditReport:
    """The result of `verify_store`: ``ok`` when nothing was found."""

    cases: int
    entries: int
    events: int
    findings: tuple[AuditFinding, ...]
    checkpoint: bool = False
    """Whether a checkpoint was verified too."""
    rounds: int = 0
    """Declaration rounds verified (their chains are among ``entries``, their events among
    ``events``)."""

    @property
    def ok(self) -> bool:
        """Nothing was found."""
        return not self.findings

    def summary(self) -> Text:
        """One line in both languages."""
        against = Text(zh="（含检查点核对）", en=" (against a checkpoint)")
        suffix = against if self.checkpoint else Text(zh="", en="")
        if self.ok:
            return Text(
                zh=f"审计通过{suffix.zh}：{self.cases} 个案件，{self.rounds} 个申报批次，"
                f"{self.entries} 条历史，{self.events} 个事件",
                en=f"audit passed{suffix.en}: {self.cases} cases, {self.rounds} rounds, "
                f"{self.entries} history entries, {self.events} events",
            )
        return Text(
            zh=f"审计发现 {len(self.findings)} 处问题{suffix.zh}",
            en=f"the audit found {len(self.findings)} problems{suffix.en}",
        )


@attrs.frozen
class _Event:
    """An outbox row as the audit sees it."""

    position: int
    id: str
    case_id: str
    digest: str
    """`_event_digest` of ``data``: what a checkpoint digests the outbox by."""
    data: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    """The event's outbox form, as the store returned it."""

    def digest_in(self, format: int) -> str:
        """The event's digest in an entry's canonical ``format`` (what the entry recorded)."""
        return self.digest if format == _OUTBOX_FORMAT else _data_digest(self.data, format)


@attrs.define
class _Source:
    """Reads a store for the audit: raw rows where the store shows them, else the protocol."""

    store: CaseStore

    @property
    def raw(self) -> RawRowStore | None:
        return self.store if isinstance(self.store, RawRowStore) else None

    def chain_ids(self) -> list[str]:
        """The id of every case and every round's chain (``round:2025``) the store holds."""
        raw = self.raw
        if raw is None:
            ids = [case.id for case in self.store.find(CaseQuery())]
        else:
            ids = [str(row["id"]) for row in raw.raw_rows("cases")]
            ids += [str(row["case_id"]) for row in raw.raw_rows("history")]
        ids += [declaration_round.chain_id for declaration_round in self.rounds([])]
        return list(dict.fromkeys(ids))

    def rounds(self, findings: list[AuditFinding]) -> list[DeclarationRound]:
        """The stored rounds (none, and a finding, if the rows cannot be read)."""
        try:
            return self.store.rounds()
        except ValueError:  # a date no longer a date
            findings.append(
                AuditFinding(
                    None,
                    "round",
                    Text(
                        zh="申报批次表无法读取：被改动",
                        en="the rounds cannot be read: they were altered",
                    ),
                )
            )
            return []

    def read_order(self, until: int | None = None) -> list[int]:
        """The outbox positions in the order `CaseStore.read_outbox` reads them (commit
        order: no event can ever come before one already read), up to the one at ``until``
        if given. Stops if the store reads a position twice (a row at a cursor was deleted,
        and the store read from the start again)."""
        order: list[int] = []
        seen: set[int] = set()
        after = 0
        while batch := self.store.read_outbox(after, 1000):
            for record in batch:
                if record.position in seen:
                    return order
                seen.add(record.position)
                order.append(record.position)
                if record.position == until:
                    return order
            after = batch[-1].position
        return order

    def events(self, case_id: str | None, findings: list[AuditFinding]) -> list[_Event]:
        raw = self.raw
        if raw is None:
            records = []
            after = 0
            while batch := self.store.read_outbox(after, 1000):
                records.extend(batch)
                after = batch[-1].position
            return [
                _Event(r.position, r.event.id, r.event.case_id, _event_digest(data), data)
                for r in records
                if case_id is None or r.event.case_id == case_id
                for data in (event_data(r.event),)
            ]
        events = []
        for row in raw.raw_rows("outbox", case_id):
            data = row["data"]
            events.append(
                _Event(
                    int(row["position"]),
                    str(row["id"]),
                    str(row["case_id"]),
                    _event_digest(data),
                    data,
                )
            )
            findings.extend(_outbox_column_findings(row))
        return events


_OUTBOX_FORMAT = 2
"""The canonical form a checkpoint digests the outbox in (fixed: a checkpoint written by an
earlier version must still verify)."""


def _event_digest(data: Mapping[str, Any]) -> str:
    return _data_digest(data, _OUTBOX_FORMAT)


def _same(stored: object, expected: object) -> bool:
    """A column equals what the data says (times compared as instants)."""
    if stored is None or expected is None:
        return stored is None and expected is None
    if isinstance(expected, str) and "T" in expected and isinstance(stored, str):
        try:
            return dt.datetime.fromisoformat(stored) == dt.datetime.fromisoformat(expected)
        except ValueError:
            return stored == expected
    return str(stored) == str(expected)


def _column_problem(
    case_id: str, table: str, column: str, stored: object, data: object
) -> AuditFinding:
    return AuditFinding(
        case_id,
        "column",
        Text(
            zh=f"{table}.{column} 列为 {stored!r}，而数据为 {data!r}：该列被改动",
            en=f"{table}.{column} holds {stored!r} but the data says {data!r}: the column was altered",
        ),
    )


def _outbox_column_findings(row: Mapping[str, Any]) -> list[AuditFinding]:
    data = row["data"]
    found = []
    for column in ("id", "type", "case_id", "occurred_at"):
        value = data.get(column) if isinstance(data, Mapping) else None
        if not _same(row[column], value):
            found.append(_column_problem(str(row["case_id"]), "outbox", column, row[column], value))
    return found


_HISTORY_COLUMNS = (
    "case_id",
    "sequence",
    "action",
    "from_state",
    "to_state",
    "at",
    "previous_hash",
    "hash",
)


# -- one case -------------------------------------------------------------------------------------


def _case_findings(
    source: _Source, case_id: str, events: Sequence[_Event]
) -> tuple[list[HistoryEntry], list[AuditFinding], int | None]:
    """Everything wrong with one case: (its history, findings, first bad position)."""
    findings: list[AuditFinding] = []
    first_bad: int | None = None
    store = source.store
    history = store.history(case_id)
    chain = verify_history(history)
    if not chain.ok and chain.problem is not None:
        findings.append(AuditFinding(case_id, "chain", chain.problem))
        first_bad = chain.first_bad_position
    raw = source.raw
    case: Case | None = None
    stored_digest: str | None = None
    application: str | None = None
    if raw is None:
        try:
            case = store.get(case_id)
        except CaseNotFoundError:
            case = None
        if case is not None and history:
            stored_digest = case_digest(case, history[-1].format)
            application = application_digest(case.application, history[0].format)
    else:
        case, stored_digest, application = _raw_case(raw, case_id, history, findings)
    if case is None:
        if not any(f.kind == "case" for f in findings):
            findings.append(
                AuditFinding(
                    case_id,
                    "case",
                    Text(
                        zh="案件有历史记录，但案件本身不存在：案件被删除",
                        en="the case has a history but no stored case: it was deleted",
                    ),
                )
            )
        return history, findings, first_bad or len(history)
    found = _stored_case_findings(case, history, stored_digest, application)
    findings.extend(found)
    if found and first_bad is None:
        first_bad = (
            min(len(history), case.version) + 1 if len(history) != case.version else len(history)
        )
    if raw is not None:
        findings.extend(_history_column_findings(raw, case_id, history))
    findings.extend(_event_findings(case_id, history, events))
    if first_bad is None and any(f.kind in ("column", "event") for f in findings):
        first_bad = len(history)
    return history, findings, first_bad


def _round_findings(
    source: _Source, chain_id: str, events: Sequence[_Event]
) -> tuple[list[HistoryEntry], list[AuditFinding], int | None]:
    """Everything wrong with one declaration round's chain (``round:2025``): the chain, the
    stored round against its newest entry (`round_digest`), the history columns, and the
    round's events. A stored round with no chain at all was opened before rounds were
    recorded (0.1.0 kept no record of it) and is not a finding."""
    findings: list[AuditFinding] = []
    first_bad: int | None = None
    history = source.store.history(chain_id)
    chain = verify_history(history)
    if not chain.ok and chain.problem is not None:
        findings.append(AuditFinding(chain_id, "chain", chain.problem))
        first_bad = chain.first_bad_position
    unreadable: list[AuditFinding] = []
    stored_rounds = source.rounds(unreadable)
    stored = next((r for r in stored_rounds if r.chain_id == chain_id), None)
    newest = history[-1] if history else None
    if unreadable:
        findings.extend(attrs.evolve(finding, case_id=chain_id) for finding in unreadable)
    elif newest is not None and stored is None:
        findings.append(
            AuditFinding(
                chain_id,
                "round",
                Text(
                    zh="申报批次有历史记录，但批次本身不存在：批次被删除",
                    en="the round has a history but no stored round: it was deleted",
                ),
            )
        )
    elif (
        newest is not None
        and stored is not None
        and newest.case_hash != round_digest(stored, newest.format)
    ):
        findings.append(
            AuditFinding(
                chain_id,
                "round",
                Text(
                    zh=f"存储的申报批次（{stored.opens_on}–{stored.closes_on}）与第 "
                    f"{newest.sequence} 条记录所记不符：申报期或通知被改动",
                    en=f"the stored round ({stored.opens_on}–{stored.closes_on}) differs "
                    f"from what entry {newest.sequence} recorded: its window or notice "
                    "was altered",
                ),
            )
        )
    raw = source.raw
    if raw is not None:
        findings.extend(_history_column_findings(raw, chain_id, history))
    findings.extend(_event_findings(chain_id, history, events))
    if findings and first_bad is None:
        first_bad = len(history)
    return history, findings, first_bad


_RECHECKS = 2
"""How many times a case that does not verify is read again before it is reported."""

_Findings = Callable[
    [_Source, str, Sequence[_Event]], tuple[list[HistoryEntry], list[AuditFinding], int | None]
]


def _settled(
    source: _Source, case_id: str, events: Sequence[_Event]
) -> tuple[list[HistoryEntry], list[AuditFinding], int | None]:
    """`_case_findings` (of a round's chain, `_round_findings`), read again when it finds
    something: a step committed between the reads of a live database (its events, its
    history, its case) is not tampering, and is gone on a second read; tampering stays."""
    check: _Findings = _round_findings if case_id.startswith(ROUND_CHAIN_PREFIX) else _case_findings
    result = check(source, case_id, events)
    for _ in range(_RECHECKS):
        if not result[1]:
            break
        fresh: list[AuditFinding] = []
        result = check(source, case_id, source.events(case_id, fresh))
        result[1][:0] = fresh
    return result


def _stored_case_findings(
    case: Case,
    history: Sequence[HistoryEntry],
    stored_digest: str | None,
    application: str | None,
) -> list[AuditFinding]:
    """The stored case against its history: version, newest entry's digest, state; the
    stored application against the declaration's digest."""
    found: list[AuditFinding] = []
    case_id = case.id
    newest = history[-1] if history else None
    if len(history) != case.version:
        found.append(
            AuditFinding(
                case_id,
                "case",
                Text(
                    zh=f"案件为第 {case.version} 版，历史只有 {len(history)} 条：最新的记录缺失",
                    en=f"the case is at version {case.version} but its history has "
                    f"{len(history)} entries: the newest are missing",
                )
                if len(history) < case.version
                else Text(
                    zh=f"案件为第 {case.version} 版，历史却有 {len(history)} 条：案件被回退",
                    en=f"the case is at version {case.version} but its history has "
                    f"{len(history)} entries: the case was rolled back",
                ),
            )
        )
    elif newest is not None and newest.format >= 2 and newest.case_hash != stored_digest:
        found.append(
            AuditFinding(
                case_id,
                "case",
                Text(
                    zh=f"存储的案件与第 {newest.sequence} 条记录所记的案件不符：案件（状态、有效期"
                    "或决定）被改动",
                    en=f"the stored case differs from the case entry {newest.sequence} recorded: "
                    "the case (its state, validity or decisions) was altered",
                ),
            )
        )
    elif newest is not None and newest.to_state != case.state.value:
        found.append(
            AuditFinding(
                case_id,
                "case",
                Text(
                    zh=f"案件状态为 {case.state.value}，最新记录却为 {newest.to_state}：状态被改动",
                    en=f"the case is {case.state.value} but its newest entry says "
                    f"{newest.to_state}: the state was altered",
                ),
            )
        )
    # The application as declared, or as last amended (退回补正): the newest entry binding one.
    binding = next((entry for entry in reversed(history) if entry.application_hash), None)
    declaration = history[0] if history else None
    if (
        declaration is not None
        and declaration.format >= 2
        and (binding.application_hash if binding else "") != application
    ):
        found.append(
            AuditFinding(
                case_id,
                "case",
                Text(
                    zh="存储的申请报告与申报时记录的不符：申请报告被改动",
                    en="the stored application differs from the one the declaration recorded: "
                    "it was altered",
                ),
            )
        )
    return found


def _raw_case(
    raw: RawRowStore, case_id: str, history: Sequence[HistoryEntry], findings: list[AuditFinding]
) -> tuple[Case | None, str | None, str | None]:
    """The stored case, its digest and its application's, read from the rows (the digests
    of the data as stored), with a finding for every column that disagrees."""
    rows = raw.raw_rows("cases", case_id)
    applications = raw.raw_rows("applications", case_id)
    if not rows:
        return None, None, None
    row = rows[0]
    if not applications:
        findings.append(
            AuditFinding(
                case_id,
                "case",
                Text(
                    zh="案件的申请报告缺失：被删除", en="the case's application is missing: deleted"
                ),
            )
        )
        return None, None, None
    application = row["data"].get("application") or applications[0]["data"]  # amended first
    try:
        case = case_from_json(dict(row["data"]), dict(application))
    except Exception:  # any unreadable data is a finding
        findings.append(
            AuditFinding(
                case_id,
                "case",
                Text(
                    zh="案件数据无法读取：被改动", en="the case data cannot be read: it was altered"
                ),
            )
        )
        return None, None, None
    expected = case_columns(case)
    for column, value in expected.items():
        if column != "data" and not _same(row.get(column), value):
            findings.append(_column_problem(case_id, "cases", column, row.get(column), value))
    newest = history[-1].format if history else HISTORY_FORMAT
    first = history[0].format if history else HISTORY_FORMAT
    return case, sha256(case_canonical(row["data"], newest)), _data_digest(application, first)


def _history_column_findings(
    raw: RawRowStore, case_id: str, history: Sequence[HistoryEntry]
) -> list[AuditFinding]:
    found = []
    for row in raw.raw_rows("history", case_id):
        data = row["data"]
        for column in _HISTORY_COLUMNS:
            value = data.get(column) if isinstance(data, Mapping) else None
            if not _same(row[column], value):
                found.append(_column_problem(case_id, "history", column, row[column], value))
    return found


def _event_findings(
    case_id: str, history: Sequence[HistoryEntry], events: Sequence[_Event]
) -> list[AuditFinding]:
    found = []
    by_id = {event.id: event for event in events}
    referenced: set[str] = set()
    for entry in history:
        digests: Sequence[str | None] = (
            entry.event_digests if entry.format >= 2 else [None] * len(entry.event_ids)
        )
        if len(digests) != len(entry.event_ids):
            digests = [None] * len(entry.event_ids)
        for event_id, digest in zip(entry.event_ids, digests, strict=True):
            referenced.add(event_id)
            event = by_id.get(event_id)
            if event is None:
                found.append(
                    AuditFinding(
                        case_id,
                        "event",
                        Text(
                            zh=f"第 {entry.sequence} 条记录的事件 {event_id} 不在事件日志中：被删除",
                            en=f"event {event_id} of entry {entry.sequence} is not in the outbox: "
                            "it was deleted",
                        ),
                    )
                )
            elif digest is not None and event.digest_in(entry.format) != digest:
                found.append(
                    AuditFinding(
                        case_id,
                        "event",
                        Text(
                            zh=f"事件 {event_id}（位置 {event.position}）与第 {entry.sequence} "
                            "条记录所记不符：事件被改动",
                            en=f"event {event_id} (position {event.position}) differs from what "
                            f"entry {entry.sequence} recorded: it was altered",
                        ),
                    )
                )
    for event in events:
        if event.id not in referenced:
            found.append(
                AuditFinding(
                    case_id,
                    "event",
                    Text(
                        zh=f"事件 {event.id}（位置 {event.position}）不属于任何历史记录："
                        "事件被插入，或其记录被截去",
                        en=f"event {event.id} (position {event.position}) comes from no history "
                        "entry: it was inserted, or its entry was cut off",
                    ),
                )
            )
    return found


def verify_event(store: CaseStore, event: Event) -> ChainReport:
    """Check an event a follower received (from the outbox, or a copy of it) against the
    history entry that emitted it: the entry exists on a verified chain and recorded this
    event's digest. ``ok`` false, with the problem, otherwise."""
    history = store.history(event.case_id)
    chain = verify_history(history)
    if not chain.ok:
        return chain
    for entry in history:
        if event.id not in entry.event_ids:
            continue
        index = entry.event_ids.index(event.id)
        digests = entry.event_digests
        if entry.format < 2 or (
            index < len(digests) and digests[index] == event_digest(event, entry.format)
        ):
            return ChainReport(True, len(history))
        problem = Text(
            zh=f"事件 {event.id} 与第 {entry.sequence} 条记录所记不符：事件被改动",
            en=f"event {event.id} differs from what entry {entry.sequence} recorded: "
            "it was altered",
        )
        return ChainReport(False, len(history), entry.sequence, problem, (problem,))
    problem = Text(
        zh=f"事件 {event.id} 不属于案件 {event.case_id} 的任何历史记录：事件被伪造，或其记录被截去",
        en=f"event {event.id} comes from no history entry of case {event.case_id}: it was "
        "forged, or its entry was cut off",
    )
    return ChainReport(False, len(history), len(history) + 1, problem, (problem,))


def verify_case(store: CaseStore, case_id: str) -> ChainReport:
    """Verify one case (what ``Workflow.verify`` and ``kmbase history`` report).

    Checks the hash chain; that the history ends where the case stands and that the stored
    case is the one its newest entry recorded (`case_digest`); that the summary and indexed
    columns agree with the data (stores that are a `RawRowStore`); and that the case's
    outbox events are exactly those its entries emitted (`event_digest`).
    ``CaseNotFoundError`` for a case with neither a row nor a history.

    ``round:2025`` verifies the 2025 declaration round's chain instead: the chain, that the
    stored round is the one its newest entry recorded (`round_digest`), and its events
    (``CaseNotFoundError`` if there is no such round).
    """
    source = _Source(store)
    findings: list[AuditFinding] = []
    events = source.events(case_id, findings)
    history, case_findings, first_bad = _settled(source, case_id, events)
    findings.extend(case_findings)
    if case_id.startswith(ROUND_CHAIN_PREFIX):
        if not history and case_id not in {r.chain_id for r in source.rounds([])}:
            raise CaseNotFoundError.no_case(case_id)  # there is no such round
    elif not history and any(f.kind == "case" for f in case_findings):
        store.get(case_id)  # raises CaseNotFoundError: there is no such case
    if not findings:
        return ChainReport(True, len(history))
    return ChainReport(
        False,
        len(history),
        first_bad or len(history),
        findings[0].problem,
        tuple(f.problem for f in findings),
    )


# -- checkpoints ------------------------------------------------------------------------------------


@attrs.frozen
class ChainHead:
    """Where a case's chain stood: its newest entry's sequence and hash."""

    sequence: int
    hash: str


@attrs.frozen(kw_only=True)
class Checkpoint:
    """Every chain head and the outbox at one moment, signed with HMAC-SHA256.

    ``outbox_digest`` covers the outbox events (position and `event_digest`) in the order
    stores read them (commit order), up to and including the one at ``outbox_position``
    (format 1: every event at a position up to it). ``key_id`` names the key without revealing it. Export it with
    `to_json` to a place the database administrator cannot write (another system, paper,
    an e-mail to the auditor); read it back with `from_json`.
    """

    format: int = CHECKPOINT_FORMAT
    created_at: dt.datetime
    heads: Mapping[str, ChainHead]
    outbox_position: int
    outbox_digest: str
    key_id: str
    signature: str = ""

    def signed_text(self) -> str:
        """The canonical text the signature covers (every field but ``signature``)."""
        data = converter.unstructure(self)
        data.pop("signature")
        return canonical_json(data, 1)

    def to_json(self) -> str:
        """The checkpoint as JSON text (what ``kmbase audit checkpoint`` writes)."""
        return json.dumps(converter.unstructure(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """A checkpoint from `to_json`'s text (``InvalidInputError`` if it is not one)."""
        try:
            data = json.loads(text)
            saved = converter.structure(data, cls)
            if saved.format not in _CHECKPOINT_FORMATS:
                raise ValueError(f"unknown checkpoint format {saved.format}")
        except Exception as error:
            raise InvalidInputError(
                Text(
                    zh=f"检查点文件无法读取：{type(error).__name__}",
                    en=f"the checkpoint cannot be read: {type(error).__name__}",
                ),
                hint=Text(
                    zh="请使用 kmbase audit checkpoint 导出的文件",
                    en="use a file written by kmbase audit checkpoint",
                ),
            ) from None
        return saved


def load_key(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> bytes:
    """The checkpoint key: the bytes of ``path`` (surrounding whitespace stripped), else
    ``$KMBASE_AUDIT_KEY``. At least 16 bytes; ``InvalidInputError`` otherwise."""
    if path is not None:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as error:
            raise InvalidInputError(
                Text(
                    zh=f"无法读取密钥文件 {path}：{error.strerror}",
                    en=f"cannot read the key file {path}: {error.strerror}",
                ),
                hint=Text(zh="请检查路径与权限", en="check the path and permissions"),
            ) from None
    else:
        key = (
            (environ if environ is not None else os.environ)
            .get(AUDIT_KEY_ENVIRONMENT_VARIABLE, "")
            .encode("utf-8")
        )
    if len(key) < _MIN_KEY_BYTES:
        raise InvalidInputError(
            Text(
                zh=f"检查点密钥缺失或过短（至少 {_MIN_KEY_BYTES} 字节）",
                en=f"the checkpoint key is missing or too short (at least {_MIN_KEY_BYTES} bytes)",
            ),
            hint=Text(
                zh=f"用 --key-file 指定密钥文件，或设置 ${AUDIT_KEY_ENVIRONMENT_VARIABLE}",
                en=f"give --key-file, or set ${AUDIT_KEY_ENVIRONMENT_VARIABLE}",
            ),
        )
    return key


def _key_id(key: bytes) -> str:
    return hmac.new(key, b"kmbase-audit-key-id", hashlib.sha256).hexdigest()[:16]


def _sign(text: str, key: bytes) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _outbox_digest(events: Iterable[_Event]) -> str:
    digest = hashlib.sha256()
    for event in events:
        digest.update(f"{event.position}:{event.digest}\n".encode())
    return digest.hexdigest()


def _heads(source: _Source) -> dict[str, ChainHead]:
    raw = source.raw
    heads: dict[str, ChainHead] = {}
    if raw is not None:
        for row in raw.raw_rows("history"):
            heads[str(row["case_id"])] = ChainHead(int(row["sequence"]), str(row["hash"]))
        return heads
    for case_id in source.chain_ids():
        history = source.store.history(case_id)
        if history:
            heads[case_id] = ChainHead(history[-1].sequence, history[-1].hash)
    return heads


def checkpoint(store: CaseStore, key: bytes, *, clock: Clock | None = None) -> Checkpoint:
    """A signed checkpoint of every chain head and of the outbox, now (by ``clock``).

    Take one on a schedule (after each working day, at least after each round's decisions)
    and keep it where the database administrator cannot change it. The database may be in
    use: the outbox is covered in the order stores read it (commit order), up to the last
    event read, so a step still committing (its event at a lower position than one already
    committed, on PostgreSQL) comes after the checkpoint and never makes it fail.
    """
    source = _Source(store)
    order = source.read_order()
    by_position = {event.position: event for event in source.events(None, [])}
    covered = [by_position[position] for position in order if position in by_position]
    unsigned = Checkpoint(
        created_at=(clock or SystemClock()).now(),
        heads=_heads(source),
        outbox_position=covered[-1].position if covered else 0,
        outbox_digest=_outbox_digest(covered),
        key_id=_key_id(key),
    )
    return attrs.evolve(unsigned, signature=_sign(unsigned.signed_text(), key))


def _checkpoint_findings(
    source: _Source, saved: Checkpoint, key: bytes, events: Sequence[_Event]
) -> list[AuditFinding]:
    if saved.key_id != _key_id(key) or not hmac.compare_digest(
        saved.signature, _sign(saved.signed_text(), key)
    ):
        return [
            AuditFinding(
                None,
                "checkpoint",
                Text(
                    zh="检查点签名无效：检查点被伪造或改动，或所用密钥不同",
                    en="the checkpoint's signature is not valid: it was forged or altered, or "
                    "signed with another key",
                ),
            )
        ]
    found = []
    for case_id, head in saved.heads.items():
        history = source.store.history(case_id)
        if len(history) < head.sequence:
            problem = Text(
                zh=f"检查点时历史有 {head.sequence} 条，现只有 {len(history)} 条：记录被截去",
                en=f"the checkpoint saw {head.sequence} entries, the history now has "
                f"{len(history)}: entries were cut off",
            )
        elif history[head.sequence - 1].hash != head.hash:
            problem = Text(
                zh=f"第 {head.sequence} 条记录的哈希与检查点不符：链被改写并重新封存",
                en=f"entry {head.sequence} does not match the checkpoint's hash: the chain was "
                "rewritten and re-sealed",
            )
        else:
            continue
        found.append(AuditFinding(case_id, "checkpoint", problem))
    if _outbox_digest(_covered(source, saved, events)) != saved.outbox_digest:
        found.append(
            AuditFinding(
                None,
                "checkpoint",
                Text(
                    zh=f"事件日志在检查点（位置 {saved.outbox_position}）之前的内容被改动、删除或插入",
                    en=f"the outbox up to the checkpoint (position {saved.outbox_position}) was "
                    "altered: events edited, deleted or inserted",
                ),
            )
        )
    return found


def _covered(source: _Source, saved: Checkpoint, events: Sequence[_Event]) -> list[_Event]:
    """The outbox events a checkpoint covers, in its order: format 1, every position up to
    its ``outbox_position``; later formats, the events read (in commit order) up to it."""
    if saved.format == 1:
        return [event for event in events if event.position <= saved.outbox_position]
    if saved.outbox_position <= 0:
        return []
    by_position = {event.position: event for event in events}
    order = source.read_order(until=saved.outbox_position)
    return [by_position[position] for position in order if position in by_position]


def verify_store(
    store: CaseStore, against: Checkpoint | None = None, key: bytes | None = None
) -> AuditReport:
    """Verify every case and every declaration round's chain of a store (as `verify_case`
    does), every outbox event, and, given a checkpoint and its key, that every head it saw is still on its chain and that the outbox
    before it is unchanged."""
    source = _Source(store)
    findings: list[AuditFinding] = []
    events = source.events(None, findings)
    by_case: dict[str, list[_Event]] = {}
    for event in events:
        by_case.setdefault(event.case_id, []).append(event)
    chain_ids = source.chain_ids()
    case_ids = [i for i in chain_ids if not i.startswith(ROUND_CHAIN_PREFIX)]
    entries = 0
    for case_id in chain_ids:
        history, case_findings, _ = _settled(source, case_id, by_case.pop(case_id, []))
        entries += len(history)
        findings.extend(case_findings)
    for case_id, orphans in by_case.items():
        findings.extend(_event_findings(case_id, [], orphans))
    if against is not None:
        if key is None:
            raise InvalidInputError(
                Text(zh="核对检查点需要其密钥", en="verifying a checkpoint needs its key"),
                hint=Text(
                    zh=f"用 --key-file 指定密钥文件，或设置 ${AUDIT_KEY_ENVIRONMENT_VARIABLE}",
                    en=f"give --key-file, or set ${AUDIT_KEY_ENVIRONMENT_VARIABLE}",
                ),
            )
        findings.extend(_checkpoint_findings(source, against, key, events))
    return AuditReport(
        len(case_ids),
        entries,
        len(events),
        tuple(findings),
        against is not None,
        rounds=len(chain_ids) - len(case_ids),
    )
