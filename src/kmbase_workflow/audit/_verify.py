"""The verifier (第二十条): one case, one round's chain, one event, a whole store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from .._i18n import Text
from ..case import ROUND_CHAIN_PREFIX, Case
from ..errors import CaseNotFoundError, InvalidInputError
from ..events import Event
from ..history import (
    HISTORY_FORMAT,
    ChainReport,
    HistoryEntry,
    application_digest,
    case_digest,
    data_digest,
    event_digest,
    round_digest,
    verify_history,
)
from ..stores import HISTORY_SUMMARY_COLUMNS, CaseStore, RawRowStore, case_columns, case_from_json
from ._checkpoints import AUDIT_KEY_ENVIRONMENT_VARIABLE, Checkpoint, _checkpoint_findings
from ._report import AuditFinding, AuditReport
from ._store_view import _column_problem, _Event, _same, _Source

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
    return case, case_digest(case, newest, data=row["data"]), data_digest(application, first)


def _history_column_findings(
    raw: RawRowStore, case_id: str, history: Sequence[HistoryEntry]
) -> list[AuditFinding]:
    found = []
    for row in raw.raw_rows("history", case_id):
        data = row["data"]
        for column in HISTORY_SUMMARY_COLUMNS:
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
