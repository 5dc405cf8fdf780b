"""``kmbase inbox``, ``dashboard``, ``as-of``, ``round as-of`` and ``db rebuild-work-queue``:
work queues and history as data, from the command line (faces over `kmbase_workflow.queues`
and `kmbase_workflow.as_of`).

They follow the conventions of ``cli._options`` and ``cli._output``: the actor is ``--actor-role/--actor-id/
--actor-district`` as in ``kmbase fire``; ``--today`` is the day a queue or dashboard judges
by (what is overdue, what is due soon), while the day of ``as-of`` is an argument: history as
it stood then. ``--district``, ``--round`` and ``--state`` filter, as in ``kmbase bulk``.
With ``--json`` (or ``--format json``) the result or the error is one JSON document on stdout;
``as-of`` and ``round as-of`` exit 1 when a rebuild disagrees with the record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._i18n import Lang, Text
from ..errors import InvalidInputError
from ._command import Command
from ._options import (
    ActorDistrictOption,
    ActorIdOption,
    ActorRoleOption,
    CaseIdArgument,
    DbOption,
    FormatOption,
    HolidaysOption,
    JsonOption,
    LangOption,
    OutputFormat,
    TodayOption,
    enum_option,
    holiday_files,
    make_actor,
    parse_date,
)
from ._output import data_console

if TYPE_CHECKING:
    from ..as_of import CaseAsOf, RoundAsOf
    from ..queues import Dashboard, QueueCheck, QueuePage

__all__ = ["as_of_command", "dashboard_command", "inbox", "rebuild_command", "round_as_of_command"]

RoundOption = Annotated[
    int | None,
    typer.Option("--round", help="按申报年度筛选 / filter by round year.", metavar="YEAR"),
]
DistrictFilterOption = Annotated[
    str | None,
    typer.Option("--district", help="按县区筛选 / filter by district.", metavar="DISTRICT"),
]


def inbox(
    actor_role: ActorRoleOption = "",
    actor_id: ActorIdOption = "",
    actor_district: ActorDistrictOption = None,
    district: Annotated[
        str | None,
        typer.Option(
            "--district",
            help="按县区筛选（市局、专家；县区主管部门只能看本县区） / filter by district (the "
            "bureau, experts; a district authority sees its own only).",
            metavar="DISTRICT",
        ),
    ] = None,
    round_year: RoundOption = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help="按状态筛选 / filter by state.", metavar="STATE"),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="每页条数 / page size (1-500).", metavar="N")
    ] = 50,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="下一页游标 / the next page's cursor.", metavar="CURSOR"),
    ] = None,
    today: TodayOption = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """待办：等待我办理的案件 / What awaits an actor, most urgent first (overdue first).

    Each line names the actions the actor may take now, the deadline that applies and the
    article; --today judges what is overdue. Pages: pass the printed cursor with --cursor.
    """
    from ..queues import work_queue  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    result = command.run(
        lambda: work_queue(
            command.workflow(db, today=today),
            make_actor(actor_role, actor_id, actor_district),
            round_year=round_year,
            district=district,
            state=state,
            limit=limit,
            cursor=cursor,
        ),
    )
    command.finish(result.to_dict(), lambda: _print_work_queue(result, command.lang))


def _print_work_queue(result: QueuePage, chosen: Lang) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

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
            entry.label.in_(chosen),
            ", ".join(action.value for action in entry.actions),
            due,
            entry.article.in_(chosen),
        )
    console = data_console()
    console.print(table)
    if result.next_cursor:
        console.print(("下一页：--cursor " if zh else "next page: --cursor ") + result.next_cursor)


def dashboard_command(
    round_year: RoundOption = None,
    district: DistrictFilterOption = None,
    working_days: Annotated[
        int,
        typer.Option(
            "--working-days",
            help="未来多少个工作日内到期 / deadlines within N working days.",
            metavar="N",
        ),
    ] = 10,
    limit: Annotated[
        int, typer.Option("--limit", help="每类最多列出条数 / most items listed.", metavar="N")
    ] = 100,
    holidays: HolidaysOption = None,
    today: TodayOption = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """年度及全市概览 / Round and city dashboard: cases by state and district, notices running, deadlines soon, overdue obligations.

    --today is the day it judges by (default: today).
    """
    from ..queues import dashboard  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    board = command.run(
        lambda: dashboard(
            command.workflow(db, today=today, holidays=holiday_files(holidays)),
            round_year=round_year,
            district=district,
            working_days=working_days,
            limit=limit,
        ),
    )
    command.finish(board.to_dict(), lambda: _print_dashboard(board, command.lang))


def _print_dashboard(board: Dashboard, chosen: Lang) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

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
                entry.label.in_(chosen),
                entry.role.value,
                entry.due_on.isoformat() if entry.due_on else "—",
                entry.article.in_(chosen),
            )
        console.print(table)


def _print_case_as_of(report: CaseAsOf, lang: Lang) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

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
    case_id: CaseIdArgument,
    day: Annotated[
        str | None,
        typer.Argument(
            help="查看哪一天结束时的历史，YYYY-MM-DD（用 --before 时可省） / the past day, "
            "YYYY-MM-DD (not with --before).",
            metavar="DATE",
            show_default=False,
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="某一步办理时已知的情况，如 certify / what was known when this step was taken.",
            metavar="TRIGGER",
        ),
    ] = None,
    holidays: HolidaysOption = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """案件在某日的状况，由历史重建并校验 / A case as it stood on a past day, rebuilt from its history and checked against the record.

    Exit 1 when the rebuild and the record disagree. With --before certify: what the bureau
    knew when it certified.
    """
    from ..as_of import case_as_of, known_at  # noqa: PLC0415 - imported when the command runs
    from ..lifecycle import Trigger  # noqa: PLC0415

    command = Command(lang)
    chosen = command.lang

    def answer() -> tuple[CaseAsOf, dict[str, Any]]:
        workflow = command.workflow(db, holidays=holiday_files(holidays))
        if before is not None:
            knowledge = known_at(workflow, case_id, enum_option(Trigger, before, "--before"))
            return knowledge.before, knowledge.to_dict()
        if day is None:
            raise InvalidInputError(
                Text(zh="缺少日期", en="the day is missing"),
                hint=Text(zh="kmbase as-of 案件 2025-10-16，或 --before certify",
                          en="kmbase as-of CASE_ID 2025-10-16, or --before certify"),
            )  # fmt: skip
        report = case_as_of(workflow, case_id, parse_date(day, "DATE"))
        return report, report.to_dict()

    report, data = command.run(answer)

    def show() -> None:
        if before is not None:
            step = data["step"]
            data_console().print(
                command.say("办理“", "when ")
                + f"{step['action']} ({step['at']})"
                + command.say("”时已知：", " was taken, the record held:")
            )
        _print_case_as_of(report, chosen)

    command.finish(data, show, exit_code=0 if report.ok else 1)


def round_as_of_command(
    year: Annotated[int, typer.Argument(help="年度 / round year.", metavar="YEAR")],
    day: Annotated[
        str,
        typer.Argument(help="查看哪一天，YYYY-MM-DD / the past day, YYYY-MM-DD.", metavar="DATE"),
    ],
    district: DistrictFilterOption = None,
    holidays: HolidaysOption = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """某日的年度案件表 / The round's table as it stood on a past day (exit 1 when a case's rebuild disagrees with its record)."""
    from ..as_of import round_as_of  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    table_data = command.run(
        lambda: round_as_of(
            command.workflow(db, holidays=holiday_files(holidays)),
            year,
            parse_date(day, "DATE"),
            district=district,
        ),
    )
    command.finish(
        table_data.to_dict(),
        lambda: _print_round_as_of(table_data, year, command.lang),
        exit_code=0 if not table_data.findings else 1,
    )


def _print_round_as_of(table_data: RoundAsOf, year: int, chosen: Lang) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

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


def rebuild_command(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="只核对，不重建；不符时退出码 1 / only compare it with the cases; exit 1 when "
            "they disagree.",
        ),
    ] = False,
    holidays: HolidaysOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """根据案件重建待办队列 / Rebuild the work queue from the cases (after an upgrade), or with --check compare it with them."""
    from ..queues import check_work_queue, rebuild_work_queue  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    if check:
        found = command.run(lambda: check_work_queue(command.workflow(db, holidays=holiday_files(holidays))))  # fmt: skip
        command.finish(
            found.to_dict(),
            lambda: _print_queue_check(found, command.lang),
            exit_code=0 if found.ok else 1,
        )
        return
    report = command.run(lambda: rebuild_work_queue(command.workflow(db, holidays=holiday_files(holidays))))  # fmt: skip
    command.finish(
        report.to_dict(),
        command.say(
            f"{report.cases} 件案件，重建 {report.replaced} 件",
            f"{report.cases} cases, {report.replaced} rebuilt",
        ),
    )


def _print_queue_check(found: QueueCheck, chosen: Lang) -> None:
    zh = chosen == "zh"
    console = data_console()
    for case_id, finding in found.findings:
        console.print(f"{case_id}: {finding.in_(chosen)}")
    if found.stale:
        console.print("待办队列待重建" if zh else "the work queue awaits a rebuild")
    console.print(
        (f"{found.cases} 件案件，" if zh else f"{found.cases} cases, ")
        + (("一致" if zh else "in agreement") if found.ok else ("不符" if zh else "DISAGREEMENT"))
    )  # fmt: skip
