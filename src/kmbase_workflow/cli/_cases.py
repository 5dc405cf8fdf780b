"""``kmbase declare``, ``fire``, ``show``, ``history``, ``sweep`` and ``follow``: cases on a
store, from the command line.

Every command takes ``--db`` (or ``$KMBASE_DB``; default ``sqlite:///kmbase.db``) and
``--json`` (the JSON convention of ``cli._output``). ``--today`` sets the date the command
acts on (the clock of the workflow; default: today in Asia/Shanghai).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._i18n import Lang, Text
from ..actors import Actor
from ._command import Command
from ._options import (
    ActorDistrictOption,
    ActorIdOption,
    ActorNameOption,
    ActorRoleOption,
    CaseIdArgument,
    DbOption,
    FormatOption,
    HolidaysOption,
    JsonOption,
    KeyOption,
    LangOption,
    NoticeAliasOption,
    OutputFormat,
    PayloadOption,
    PolicyOption,
    ProvisionalOption,
    ReasonOption,
    TodayOption,
    complete_trigger,
    enum_option,
    holiday_files,
    make_actor,
)
from ._output import data_console

if TYPE_CHECKING:
    from ..case import Case
    from ..history import ChainReport, HistoryEntry
    from ..stores import OutboxRecord
    from ..workflow import Outcome, Workflow

__all__ = ["declare", "fire", "follow", "history", "show", "sweep"]


def declare(
    file: Annotated[
        Path,
        typer.Argument(
            help="申请报告 JSON/TOML / application file (JSON or TOML).", metavar="FILE"
        ),
    ],
    case_id: Annotated[
        str | None, typer.Option("--case-id", help="案件编号 / case id.", metavar="CASE_ID")
    ] = None,
    key: KeyOption = None,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    allow_provisional: ProvisionalOption = False,
    db: DbOption = None,
    today: TodayOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """申报（第九条） / Declare an application in today's round, as its operator.

    Exit 0 declared, 1 refused (every failed condition with its article on stderr), 2 bad
    input.
    """
    from ..serialization import load_application  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    def act() -> Case:
        application = load_application(file)
        operator = Actor.for_operator(application.operator, via="cli")
        workflow = command.workflow(
            db,
            today=today,
            allow_provisional=allow_provisional,
            holidays=holiday_files(holidays, notice),
            policy=policy,
        )
        return workflow.declare(application, operator, case_id=case_id, idempotency_key=key).case

    case = command.run(act)
    command.finish({"case": case.id, "state": case.state.value, "round": case.round_year}, case.id)


def _case_summary(case: Case, workflow: Workflow, lang: Lang) -> dict[str, Any]:
    from ..serialization import converter  # noqa: PLC0415 - imported when the command runs

    policy = workflow.policy_for(case)
    deadlines: dict[str, Any] = {}
    if case.notice is not None:
        deadlines["notice"] = {"start": case.notice.start, "due": case.notice.label()}
    if case.validity is not None:
        deadlines["validity"] = {"start": case.validity.start, "due": case.validity.label()}
    return {
        "id": case.id,
        "base": case.base_name,
        "base_id": case.base_id,
        "district": case.district,
        "round": case.round_year,
        "state": case.state.value,
        "state_label": case.state.label.in_(lang),
        "version": case.version,
        "policy": policy.id,
        "declared_on": case.declared_on,
        "deadlines": deadlines,
        "certified_on": case.certified_on,
        "obligations": {
            "annual_reports": [converter.unstructure(r) for r in case.annual_reports],
            "evaluations": [converter.unstructure(e) for e in case.evaluations],
            "change_filings": [converter.unstructure(c) for c in case.change_filings],
            "provincial_recommendations": [
                converter.unstructure(p) for p in case.provincial_recommendations
            ],
        },
        "objections": [converter.unstructure(o) for o in case.objections],
        "closing_reason": case.closing_reason,
    }


def fire(
    case_id: CaseIdArgument,
    trigger: Annotated[
        str,
        typer.Argument(
            help="操作，如 recommend、publicize、certify / the trigger.",
            metavar="TRIGGER",
            autocompletion=complete_trigger,
        ),
    ],
    actor_role: ActorRoleOption = "",
    actor_id: ActorIdOption = "",
    actor_name: ActorNameOption = "",
    actor_district: ActorDistrictOption = None,
    reason: ReasonOption = "",
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="佐证材料（可重复） / evidence reference.", metavar="REF"),
    ] = None,
    payload: PayloadOption = None,
    expected_version: Annotated[
        int | None,
        typer.Option(
            "--expected-version",
            help="仅当案件仍为该版本时执行 / only if the case is at this version.",
            metavar="N",
        ),
    ] = None,
    key: KeyOption = None,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    allow_provisional: ProvisionalOption = False,
    db: DbOption = None,
    today: TodayOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """对一个案件执行一个操作 / Fire one trigger at one case.

    Exit 0 done, 1 refused (every failed condition with its article on stderr), 2 bad input,
    3 calendar data missing, 4 conflict (the case changed meanwhile).
    """
    from ..bulk import parse_payload  # noqa: PLC0415 - imported when the command runs
    from ..lifecycle import Trigger  # noqa: PLC0415

    command = Command(lang)

    def act() -> Outcome:
        resolved = enum_option(Trigger, trigger, "TRIGGER")
        actor = make_actor(actor_role, actor_id, actor_district, actor_name)
        workflow = command.workflow(
            db,
            today=today,
            allow_provisional=allow_provisional,
            holidays=holiday_files(holidays, notice),
            policy=policy,
        )
        return workflow.fire(
            case_id,
            resolved,
            actor,
            reason=reason,
            evidence=tuple(evidence or ()),
            payload=parse_payload(resolved, payload),
            expected_version=expected_version,
            idempotency_key=key,
        )

    outcome = command.run(act)
    case = outcome.case
    command.finish(
        {
            "case": case.id,
            "state": case.state.value,
            "version": case.version,
            "replayed": outcome.replayed,
            "events": [event.type for event in outcome.events],
        },
        f"{case.id}\t{case.state.label.in_(command.lang)}\tv{case.version}",
    )


def show(
    case_id: CaseIdArgument,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """查看案件：状态、期限、义务 / Show a case: state, deadlines, obligations."""
    command = Command(lang)
    workflow = command.workflow(db)
    case = command.run(lambda: workflow.case(case_id))
    summary = _case_summary(case, workflow, command.lang)
    command.finish(summary, lambda: _print_case(case, summary, command.zh))


def _print_case(case: Case, summary: dict[str, Any], zh: bool) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

    table = Table(title=f"{case.base_name}（{case.id}）", show_header=False)
    table.add_column()
    table.add_column(overflow="fold")
    rows = [
        (
            "状态" if zh else "state",
            f"{summary['state_label']} ({case.state.value}), v{case.version}",
        ),
        ("县区" if zh else "district", case.district),
        ("年度" if zh else "round", str(case.round_year)),
        ("政策" if zh else "policy", summary["policy"]),
    ]
    if case.notice is not None:
        rows.append(
            ("公示期" if zh else "public notice", f"{case.notice.start} → {case.notice.label()}")
        )
    if case.validity is not None:
        rows.append(
            ("有效期" if zh else "validity", f"{case.validity.start} → {case.validity.label()}")
        )
    for report in case.annual_reports:
        who = "县区" if report.by_district else "基地"
        rows.append(
            (
                "年度报告" if zh else "annual report",
                f"{report.year} {who} {report.submitted_on} late={report.late}",
            )
        )
    for filing in case.change_filings:
        rows.append(
            (
                "变更备案" if zh else "change filing",
                f"{filing.change} {filing.filed_on} late={filing.late}",
            )
        )
    for evaluation in case.evaluations:
        rows.append(
            (
                "测评" if zh else "evaluation",
                f"{evaluation.evaluated_on} passed={evaluation.passed}",
            )
        )
    if case.closing_reason:
        rows.append(("理由" if zh else "reason", case.closing_reason))
    for name, value in rows:
        table.add_row(name, value)
    data_console().print(table)


def history(
    case_id: CaseIdArgument,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """案件历史及哈希链校验（第二十条） / A case's history, with its hash chain verified.

    ``round:2025`` shows the 2025 declaration round's chain (who opened it, when, with which
    window). Exit 0 when the chain verifies, 1 when it does not (the first bad entry is named).
    """
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

    from ..case import ROUND_CHAIN_PREFIX  # noqa: PLC0415 - imported when the command runs
    from ..serialization import converter  # noqa: PLC0415

    command = Command(lang)
    workflow = command.workflow(db)

    def read() -> tuple[list[HistoryEntry], ChainReport]:
        if not case_id.startswith(ROUND_CHAIN_PREFIX):
            workflow.case(case_id)  # CaseNotFoundError: no such case
        report = workflow.verify_chain(case_id)  # for a round: CaseNotFoundError if none
        return workflow.history(case_id), report

    entries, report = command.run(read)
    chosen = command.lang

    def print_history() -> None:
        table = Table(title=case_id)
        for header in ("#", "time", "action", "from → to", "actor", "reason", "hash"):
            table.add_column(header)
        for entry in entries:
            table.add_row(
                str(entry.sequence),
                entry.at.isoformat(timespec="seconds"),
                entry.action,
                f"{entry.from_state or '—'} → {entry.to_state}",
                entry.actor.describe().in_(chosen),
                entry.reason,
                entry.hash[:12],
            )
        console = data_console()
        console.print(table)
        console.print(
            command.say("哈希链校验通过", "hash chain verified")
            if report.ok
            else (report.problem.in_(chosen) if report.problem else ""),
            markup=False,  # the problem may quote stored values
        )

    command.finish(
        {
            "case": case_id,
            "verified": report.ok,
            "first_bad_position": report.first_bad_position,
            "problem": report.problem.in_(chosen) if report.problem else None,
            "entries": [converter.unstructure(entry) for entry in entries],
        },
        print_history,
        exit_code=0 if report.ok else 1,
    )


def sweep(
    today: TodayOption = None,
    now: Annotated[
        str | None, typer.Option("--now", hidden=True, help="已弃用：同 --today / deprecated.")
    ] = None,
    lead_days: Annotated[
        list[int] | None,
        typer.Option(
            "--lead-days",
            help="有效期届满前提醒天数（可重复） / reminder lead times (repeatable).",
            metavar="DAYS",
        ),
    ] = None,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    allow_provisional: ProvisionalOption = False,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """到期与逾期检查 / Find what is due or overdue, expire ended validities, emit events.

    Running it twice emits nothing twice.
    """
    from ..deadlines import DEFAULT_REMINDER_LEAD_DAYS  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    workflow = command.workflow(
        db,
        today=today or now,
        allow_provisional=allow_provisional,
        holidays=holiday_files(holidays, notice),
        policy=policy,
    )
    report = command.run(
        lambda: workflow.sweep(lead_days=tuple(lead_days or DEFAULT_REMINDER_LEAD_DAYS))
    )
    chosen = command.lang
    lines = [
        f"{report.as_of}\t{event.case_id}\t{event.type}\t{event.description.in_(chosen)}"
        for event in report.events
    ]
    lines.append(
        command.say(
            f"{len(report.events)} 个事件，{len(report.expired)} 个案件期满",
            f"{len(report.events)} event(s), {len(report.expired)} case(s) expired",
        )
    )
    command.finish(
        {
            "as_of": report.as_of,
            "expired": list(report.expired),
            "events": [
                {"type": e.type, "case": e.case_id, "payload": dict(e.payload)}
                for e in report.events
            ],
            "refused": [
                {"case": case_id, "message": error.describe(chosen)}
                for case_id, error in report.refused
            ],
        },
        "\n".join(lines),
    )


def follow(
    consumer: Annotated[
        str, typer.Argument(help="消费者名称 / consumer name (its cursor).", metavar="CONSUMER")
    ],
    limit: Annotated[
        int, typer.Option("--limit", help="每批条数 / events per batch.", metavar="N")
    ] = 100,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            help="无新事件时等待秒数（PostgreSQL 提交即唤醒），0 为读完即退出 / seconds to wait "
            "for new events (PostgreSQL: woken at each commit); 0: exit when caught up.",
            metavar="SECONDS",
        ),
    ] = 0.0,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """以命名消费者读取事件（发件箱） / Follow the outbox as a named consumer.

    Streams: one JSON object per line (its position, and the event document: id, type, who
    acted, trigger, the states before and after, deadlines, payload) after the consumer's
    cursor, always; the cursor advances after each batch is printed: delivery is at least
    once; deduplicate on ``id``. ``--json`` makes an error a JSON line too.
    """
    from ..delivery import Waiter  # noqa: PLC0415 - imported when the command runs
    from ..events import event_document  # noqa: PLC0415

    command = Command(lang)
    if limit < 1:
        command.refuse(
            Text(zh="--limit 至少为 1", en="--limit must be at least 1"),
            Text(zh="例如 --limit 100", en="for example --limit 100"),
        )
    store = command.store(db)
    waiter = Waiter(store) if wait > 0 else None

    def batch() -> list[OutboxRecord]:
        return store.read_outbox(store.consumer_position(consumer), limit)

    try:
        while True:
            # a store failure (unreachable, busy) is reported with its exit code, not a trace
            records = command.run(batch)
            for record in records:
                # the event document (docs/schemas/events.schema.json): who acted, the states
                line = {
                    "position": record.position,
                    "case": record.event.case_id,
                    **event_document(record.event),
                }
                typer.echo(json.dumps(line, ensure_ascii=False, default=str))
            if records:
                last = records[-1].position

                def acknowledge(last: int = last) -> None:
                    store.acknowledge(consumer, last)

                command.run(acknowledge)
                continue
            if waiter is None:
                return
            waiter.wait(wait)
    finally:
        if waiter is not None:
            waiter.close()
        store.close()
