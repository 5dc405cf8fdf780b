"""``kmbase inbox``, ``dashboard``, ``as-of``, ``round as-of`` and ``db rebuild-work-queue``:
work queues and history as data, from the command line (faces over `kmbase_workflow.queues`
and `kmbase_workflow.as_of`).

Every command takes ``--db`` (or ``$KMBASE_DB``), ``--lang`` and ``--json`` (or ``--format
json``): one JSON document on stdout. Errors go to stderr with the exit codes of
``_cli_common``; ``as-of`` exits 1 when the rebuild disagrees with the record.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from ._cli_common import (
    DbOption,
    LangOption,
    OutputFormat,
    data_console,
    enum_option,
    existing_database,
    language,
    make_actor,
    parse_date,
    run,
)
from ._i18n import Lang, Text
from .as_of import CaseAsOf, case_as_of, known_at, round_as_of
from .lifecycle import Trigger
from .queues import check_work_queue, dashboard, rebuild_work_queue, work_queue
from .stores import open_store
from .workflow import Workflow

__all__ = ["as_of_command", "dashboard_command", "inbox", "rebuild_command", "round_as_of_command"]

JsonFlag = Annotated[
    bool, typer.Option("--json", help="以 JSON 输出到标准输出 / print JSON on stdout.")
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="输出格式（json 同 --json） / output format (json: as --json)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="按哪一天查看（默认今天） / the day asked (default: today)."),
]


def _workflow(db: str | None) -> Workflow:
    return Workflow(open_store(existing_database(db)))


def _emit(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _day(value: str | None, option: str) -> dt.date | None:
    return None if value is None else parse_date(value, option)


def _text(text: Text, lang: Lang) -> str:
    return text.in_(lang)


def inbox(
    role: Annotated[
        str,
        typer.Option(
            "--role", help="角色 / role: city_bureau, district_authority, operator, expert."
        ),
    ],
    actor_id: Annotated[
        str,
        typer.Option(
            "--id",
            help="身份标识（运营主体为统一社会信用代码） / who asks (an operator: its code).",
        ),
    ],
    district: Annotated[
        str | None,
        typer.Option(
            "--district",
            help="县区主管部门所属县区；市局则为筛选 / a district authority's district; for the "
            "bureau, a filter.",
        ),
    ] = None,
    round_year: Annotated[int | None, typer.Option("--round", help="年度 / round year.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="状态 / state filter.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="每页条数 / page size (1-500).")] = 50,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="下一页游标 / the next page's cursor.")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_flag: JsonFlag = False,
    output: FormatOption = OutputFormat.TABLE,
    lang: LangOption = "zh",
) -> None:
    """待办：等待我办理的案件 / What awaits an actor, most urgent first (overdue first).

    Each line names the actions the actor may take now, the deadline that applies and the
    article. Pages: pass the printed cursor with --cursor.
    """
    chosen = language(lang)

    def page() -> Any:
        from .actors import Role  # noqa: PLC0415

        kind = enum_option(Role, role, "--role")
        own = district if kind is Role.DISTRICT_AUTHORITY else None
        actor = make_actor(role, actor_id, own)
        return work_queue(
            _workflow(db),
            actor,
            as_of=_day(as_of, "--as-of"),
            round_year=round_year,
            district=None if own else district,
            state=state,
            limit=limit,
            cursor=cursor,
        )

    result = run(chosen, page)
    if json_flag or output is OutputFormat.JSON:
        _emit(result.to_dict())
        return
    zh = chosen == "zh"
    table = Table(title=("待办" if zh else "Work queue") + f" {result.as_of}")
    for header in ("case", "base", "district", "awaits", "actions", "due", "article"):
        table.add_column(header, overflow="fold")
    for entry in result.entries:
        due = entry.due_on.isoformat() if entry.due_on else "—"
        if entry.overdue:
            due += " 逾期" if zh else " OVERDUE"
        elif not entry.ready and entry.ready_on:
            due = ("可办理自 " if zh else "from ") + entry.ready_on.isoformat()
        table.add_row(
            entry.case_id,
            entry.base_name,
            entry.district,
            _text(entry.label, chosen),
            ", ".join(action.value for action in entry.actions),
            due,
            _text(entry.article, chosen),
        )
    console = data_console()
    console.print(table)
    if result.next_cursor:
        console.print(("下一页：--cursor " if zh else "next page: --cursor ") + result.next_cursor)


def dashboard_command(
    round_year: Annotated[int | None, typer.Option("--round", help="年度 / round year.")] = None,
    district: Annotated[str | None, typer.Option("--district", help="县区 / district.")] = None,
    working_days: Annotated[
        int,
        typer.Option(
            "--working-days", help="未来多少个工作日内到期 / deadlines within N working days."
        ),
    ] = 10,
    limit: Annotated[int, typer.Option("--limit", help="最多列出条数 / most items listed.")] = 100,
    as_of: AsOfOption = None,
    db: DbOption = None,
    json_flag: JsonFlag = False,
    output: FormatOption = OutputFormat.TABLE,
    lang: LangOption = "zh",
) -> None:
    """年度及全市概览 / Round and city dashboard: cases by state and district, notices
    running, deadlines soon, overdue obligations."""
    chosen = language(lang)
    board = run(
        chosen,
        lambda: dashboard(
            _workflow(db),
            as_of=_day(as_of, "--as-of"),
            round_year=round_year,
            district=district,
            working_days=working_days,
            limit=limit,
        ),
    )
    if json_flag or output is OutputFormat.JSON:
        _emit(board.to_dict())
        return
    zh = chosen == "zh"
    console = data_console()
    states = sorted({count.state for count in board.counts})
    counts = Table(title=("案件数（县区 × 状态）" if zh else "Cases by district and state"))
    counts.add_column("district")
    for state in states:
        counts.add_column(state, justify="right")
    for name, row in sorted(board.by_district().items()):
        counts.add_row(name, *(str(row.get(state, 0)) for state in states))
    console.print(counts)
    console.print(
        ("公示中：" if zh else "notices running: ") + str(len(board.notices_running)),
        ("；逾期：" if zh else "; overdue: ") + str(board.overdue_count),
        ("；" if zh else "; ")
        + (f"{board.working_days} 个工作日内到期：" if zh else f"due within {board.working_days} "
           "working days: ")
        + str(len(board.due_soon)),
    )  # fmt: skip
    for title, entries in (("逾期" if zh else "overdue", board.overdue), ("即将到期" if zh else "due soon", board.due_soon)):  # fmt: skip
        if not entries:
            continue
        table = Table(title=title)
        for header in ("case", "base", "district", "awaits", "role", "due", "article"):
            table.add_column(header, overflow="fold")
        for entry in entries:
            table.add_row(
                entry.case_id,
                entry.base_name,
                entry.district,
                _text(entry.label, chosen),
                entry.role.value,
                entry.due_on.isoformat() if entry.due_on else "—",
                _text(entry.article, chosen),
            )
        console.print(table)


def _print_case_as_of(report: CaseAsOf, lang: Lang) -> None:
    zh = lang == "zh"
    console = data_console()
    case = report.case
    if case is None:
        console.print(f"{report.case_id}: " + ("当日尚未申报" if zh else "not declared yet"))
    else:
        console.print(
            f"{case.base_name}（{case.id}）{report.as_of}: {case.state.label.in_(lang)} "
            f"({case.state.value}), v{case.version}"
        )
    table = Table(title="历史 history")
    for header in ("#", "time", "action", "actor", "→"):
        table.add_column(header)
    for entry in report.entries:
        table.add_row(
            str(entry.sequence),
            entry.at.isoformat(timespec="seconds"),
            entry.action,
            entry.actor.describe().in_(lang),
            entry.to_state,
        )
    console.print(table)
    for finding in report.findings:
        console.print(finding.in_(lang))
    console.print(
        ("重建与记录一致" if zh else "the rebuild agrees with the record")
        if report.ok
        else ("重建与记录不符" if zh else "the rebuild DISAGREES with the record")
    )


def as_of_command(
    case_id: Annotated[str, typer.Argument(help="案件编号 / case id.")],
    day: Annotated[
        str | None, typer.Argument(help="日期 YYYY-MM-DD（用 --before 时可省） / the day.")
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="某一步办理时已知的情况，如 certify / what was known when this step was taken.",
        ),
    ] = None,
    db: DbOption = None,
    json_flag: JsonFlag = False,
    output: FormatOption = OutputFormat.TABLE,
    lang: LangOption = "zh",
) -> None:
    """案件在某日的状况，由历史重建并校验 / A case as it stood on a day, rebuilt from its
    history and checked against the record (exit 1 when they disagree).

    With --before certify: what the bureau knew when it certified.
    """
    chosen = language(lang)

    def answer() -> tuple[CaseAsOf, dict[str, Any]]:
        workflow = _workflow(db)
        if before is not None:
            knowledge = known_at(workflow, case_id, enum_option(Trigger, before, "--before"))
            return knowledge.before, knowledge.to_dict()
        if day is None:
            from .errors import InvalidInputError  # noqa: PLC0415

            raise InvalidInputError(
                Text(zh="缺少日期", en="the day is missing"),
                hint=Text(zh="kmbase as-of 案件 2025-10-16，或 --before certify",
                          en="kmbase as-of CASE 2025-10-16, or --before certify"),
            )  # fmt: skip
        report = case_as_of(workflow, case_id, parse_date(day, "DATE"))
        return report, report.to_dict()

    report, data = run(chosen, answer)
    if json_flag or output is OutputFormat.JSON:
        _emit(data)
    else:
        if before is not None:
            step = data["step"]
            data_console().print(
                ("办理“" if chosen == "zh" else "when ")
                + f"{step['action']} ({step['at']})"
                + ("”时已知：" if chosen == "zh" else " was taken, the record held:")
            )
        _print_case_as_of(report, chosen)
    raise typer.Exit(0 if report.ok else 1)


def round_as_of_command(
    year: Annotated[int, typer.Argument(help="年度 / round year.")],
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD / the day.")],
    district: Annotated[str | None, typer.Option("--district", help="县区 / district.")] = None,
    db: DbOption = None,
    json_flag: JsonFlag = False,
    output: FormatOption = OutputFormat.TABLE,
    lang: LangOption = "zh",
) -> None:
    """某日的年度案件表 / The round's table as it stood on a day (exit 1 when a case's
    rebuild disagrees with its record)."""
    chosen = language(lang)
    table_data = run(
        chosen,
        lambda: round_as_of(_workflow(db), year, parse_date(day, "DATE"), district=district),
    )
    if json_flag or output is OutputFormat.JSON:
        _emit(table_data.to_dict())
    else:
        table = Table(title=f"{year} @ {table_data.as_of}")
        for header in ("case", "base", "district", "state", "v", "last step"):
            table.add_column(header, overflow="fold")
        for row in table_data.rows:
            table.add_row(
                row.case_id,
                row.base_name,
                row.district,
                row.state.label.in_(chosen),
                str(row.version),
                str(row.last_step_on or "—"),
            )
        console = data_console()
        console.print(table)
        for case_id, finding in table_data.findings:
            console.print(f"{case_id}: {finding.in_(chosen)}")
    raise typer.Exit(0 if not table_data.findings else 1)


def rebuild_command(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="只核对，不重建；不符时退出码 1 / only compare it with the cases; exit 1 when "
            "they disagree.",
        ),
    ] = False,
    db: DbOption = None,
    json_flag: JsonFlag = False,
    lang: LangOption = "zh",
) -> None:
    """根据案件重建待办队列 / Rebuild the work queue from the cases (after an upgrade), or
    with --check compare it with them."""
    chosen = language(lang)
    if check:
        found = run(chosen, lambda: check_work_queue(_workflow(db)))
        if json_flag:
            _emit(found.to_dict())
        else:
            console = data_console()
            for case_id, finding in found.findings:
                console.print(f"{case_id}: {finding.in_(chosen)}")
            if found.stale:
                console.print(
                    "待办队列待重建" if chosen == "zh" else "the work queue awaits a rebuild"
                )
            console.print(
                (f"{found.cases} 件案件，" if chosen == "zh" else f"{found.cases} cases, ")
                + (("一致" if chosen == "zh" else "in agreement") if found.ok else ("不符" if chosen == "zh" else "DISAGREEMENT"))
            )  # fmt: skip
        raise typer.Exit(0 if found.ok else 1)
    report = run(chosen, lambda: rebuild_work_queue(_workflow(db)))
    if json_flag:
        _emit(report.to_dict())
    else:
        typer.echo(
            f"{report.cases} 件案件，重建 {report.replaced} 件"
            if chosen == "zh"
            else f"{report.cases} cases, {report.replaced} rebuilt"
        )
