"""``kmbase bulk``: fire one trigger at many cases (the command line face of
`kmbase_workflow.bulk`).

Mount it on the ``kmbase`` app as a command::

    from ._bulk import bulk
    app.command("bulk")(bulk)

Exit codes: 0 nothing refused, not found or conflicted; 1 any case refused; 2 bad input, or
(with no refusal) an id with no case; 3 calendar data missing; 4 (with no refusal and every id
found) any case conflicted — re-run with the same ``--run-id``; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._i18n import Lang, Text
from ..errors import InvalidInputError, KmbaseError
from ._command import Command
from ._options import (
    ActorDistrictOption,
    ActorIdOption,
    ActorNameOption,
    ActorRoleOption,
    DbOption,
    FormatOption,
    HolidaysOption,
    JsonOption,
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
    output_file,
)
from ._output import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    InterruptedByUserError,
    data_console,
    error_object,
    styled,
)

if TYPE_CHECKING:
    from rich.text import Text as RichText

    from ..bulk import (
        BulkItem,
        BulkReport,
        CaseSelection,
    )

__all__ = ["bulk"]

_STATUS_STYLE = {
    "succeeded": "green",
    "would_succeed": "green",
    "refused": "red",
    "conflicted": "magenta",
    "skipped": "cyan",
    "not_found": "yellow",
    "not_attempted": "dim",
}


def _selection(
    ids: list[str] | None,
    *,
    ids_file: Path | None,
    csv_column: str | None,
    state: str | None,
    round_year: int | None,
    district: str | None,
    base: str | None,
) -> CaseSelection:
    from ..bulk import CaseSelection, read_csv_column, read_ids_file  # noqa: PLC0415 - imported when the command runs
    from ..case import State  # noqa: PLC0415

    chosen: list[str] | None = None
    if ids or ids_file is not None or csv_column is not None:
        chosen = list(ids or [])
        if ids_file is not None:
            chosen += read_ids_file(ids_file)
        if csv_column is not None:
            file, separator, column = csv_column.rpartition(":")
            if not separator or not file or not column:
                raise InvalidInputError(
                    Text(
                        zh=f"--csv-column 应为 文件:列名，实际为 {csv_column}",
                        en=f"--csv-column must be FILE:COLUMN, got {csv_column}",
                    )
                )
            chosen += read_csv_column(file, column)
    return CaseSelection(
        ids=chosen,
        state=enum_option(State, state, "--state") if state is not None else None,
        round_year=round_year,
        district=district,
        base_id=base,
    )


def _complete_state(incomplete: str) -> list[str]:
    from ..case import State  # noqa: PLC0415 - imported when the command runs

    return [str(s.value) for s in State if str(s.value).startswith(incomplete)]


def _print_report(report: BulkReport, lang: Lang) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

    console = data_console()
    zh = lang == "zh"
    table = Table(title=report.summary().in_(lang), expand=False)
    table.add_column("案件" if zh else "case", no_wrap=True)
    table.add_column("结果" if zh else "result", no_wrap=True)
    table.add_column("状态" if zh else "state", no_wrap=True)
    table.add_column("条款" if zh else "article", no_wrap=True)
    table.add_column("说明" if zh else "why", overflow="fold")
    for item in report.items:
        table.add_row(*_first_row(item, lang))
        for failure in item.failures[1:]:
            table.add_row("", "", "", failure.article.in_(lang), failure.message.in_(lang))
    console.print(table)


def _first_row(item: BulkItem, lang: Lang) -> tuple[str | RichText, ...]:
    status = styled(item.status.label.in_(lang), _STATUS_STYLE[item.status.value])
    before = item.from_state.value if item.from_state else ""
    after = item.to_state.value if item.to_state else ""
    states = f"{before} → {after}" if before and after else before or after
    if item.failures:
        first = item.failures[0]
        return (item.case_id, status, states, first.article.in_(lang), first.message.in_(lang))
    message = item.message.in_(lang).splitlines()[0] if item.message else ""
    return (item.case_id, status, states, "", message)


def bulk(
    trigger: Annotated[
        str,
        typer.Argument(
            help="操作，如 publicize、certify、decline / the trigger, e.g. publicize, certify.",
            metavar="TRIGGER",
            autocompletion=complete_trigger,
        ),
    ],
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="案件编号 / case ids.", show_default=False, metavar="[CASE_ID]..."),
    ] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option(
            "--ids-file",
            help="编号文件，每行一个 / a file with one case id a line.",
            metavar="FILE",
        ),
    ] = None,
    csv_column: Annotated[
        str | None,
        typer.Option(
            "--csv-column",
            help="从 CSV 文件的一列读取编号 / case ids from a CSV column.",
            metavar="FILE:COLUMN",
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="按状态选择 / choose cases in this state.",
            metavar="STATE",
            autocompletion=_complete_state,
        ),
    ] = None,
    round_year: Annotated[
        int | None,
        typer.Option("--round", help="按申报年度选择 / choose by round year.", metavar="YEAR"),
    ] = None,
    district: Annotated[
        str | None,
        typer.Option("--district", help="按县区选择 / choose by district.", metavar="DISTRICT"),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="按基地编号选择 / choose by base id.", metavar="BASE_ID"),
    ] = None,
    actor_role: ActorRoleOption = "",
    actor_id: ActorIdOption = "",
    actor_name: ActorNameOption = "",
    actor_district: ActorDistrictOption = None,
    reason: ReasonOption = "",
    payload: PayloadOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="试运行：只检查，不写入 / check every case, write nothing."),
    ] = False,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            "--chunk-size",
            # the library's DEFAULT_CHUNK_SIZE (tests/test_cli_startup.py holds them equal)
            help="每个事务的案件数（默认 100） / cases per transaction (default: 100).",
            min=1,
            metavar="N",
        ),
    ] = None,
    stop_on_refusal: Annotated[
        bool,
        typer.Option(
            "--stop-on-refusal",
            help="遇到第一个拒绝即停止 / stop at the first refusal.",
        ),
    ] = False,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            help="执行编号，中断后用同一编号续完 / the run id; re-run with it to finish.",
            metavar="RUN_ID",
        ),
    ] = None,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    allow_provisional: ProvisionalOption = False,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="另将报告写入 CSV 文件 / also write the report as CSV.", metavar="FILE"
        ),
    ] = None,
    lang: LangOption = "zh",
    today: TodayOption = None,
) -> None:
    """批量执行一个操作 / Fire one trigger at many cases.

    A dry run, chunked transactions, idempotent re-runs, and a report.

    Exit 0 all done, 1 any refused, 2 bad input or an unknown id, 3 calendar data missing,
    4 any conflicted (re-run with the same --run-id).
    """
    from rich.console import Console  # noqa: PLC0415 - imported when the command runs
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from ..bulk import (  # noqa: PLC0415 - imported when the command runs
        DEFAULT_CHUNK_SIZE,
        bulk_trigger,
        new_run_id,
        parse_payload,
        run_bulk,
    )

    command = Command(lang)
    chosen = command.lang
    try:
        resolved = bulk_trigger(trigger)
        selection = _selection(
            ids,
            ids_file=ids_file,
            csv_column=csv_column,
            state=state,
            round_year=round_year,
            district=district,
            base=base,
        )
        actor = make_actor(actor_role, actor_id, actor_district, actor_name)
        parsed = parse_payload(resolved, payload)
        if csv_file is not None:
            output_file(csv_file, "--csv")
        # the same workflow as `kmbase fire` builds: --today, --holidays, --policy, provisional
        workflow = command.workflow(
            db,
            today=today,
            allow_provisional=allow_provisional,
            holidays=holiday_files(holidays, notice),
            policy=policy,
        )
    except KmbaseError as error:
        command.fail(error)
    run = run_id or new_run_id()
    opening = (
        Text(
            zh=f"试运行 {run}：只检查条件，不写入任何内容",
            en=f"dry run {run}: conditions checked, nothing is written",
        )
        if dry_run
        else Text(
            zh=f"批量执行编号：{run}（中断后用 --run-id {run} 重新执行即可续完）",
            en=f"run id: {run} (if interrupted, run again with --run-id {run} to finish)",
        )
    )
    data_console(stderr=True, soft_wrap=True).print(opening.in_(chosen))
    show_progress = not command.json and sys.stdout.isatty()
    bar = Progress(
        TextColumn(resolved.label.in_(chosen)),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not show_progress,
    )
    task = bar.add_task("bulk", total=None)
    try:
        with bar:
            report = run_bulk(
                workflow,
                resolved,
                selection,
                actor,
                reason=reason,
                payload=parsed,
                run_id=run,
                dry_run=dry_run,
                chunk_size=DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size,
                stop_on_refusal=stop_on_refusal,
                progress=lambda _item: bar.advance(task),
                on_selected=lambda total: bar.update(task, total=total),
            )
    except KmbaseError as error:
        command.fail(error)
    except KeyboardInterrupt:
        stopped = (
            Text(zh="已中断：试运行未写入任何内容", en="interrupted: the dry run wrote nothing")
            if dry_run
            else Text(
                zh=f"已中断：已提交的批次保留；用 --run-id {run} 重新执行可续完",
                en=f"interrupted: committed chunks stay; run again with --run-id {run} to finish",
            )
        )
        command.fail(InterruptedByUserError(stopped), exit_code=EXIT_INTERRUPTED)
    finally:
        workflow.store.close()
    if command.json:
        # one JSON document: a CSV that cannot be written is the report's "error"
        data = report.to_dict(chosen)
        failed = _write_csv(report, csv_file, chosen)
        if failed is not None:
            data.update(error_object(failed))
        command.finish(data, exit_code=EXIT_BAD_INPUT if failed is not None else report.exit_code)
        return
    _print_report(report, chosen)
    # The report is on stdout already: a file that fails now loses nothing.
    failed = _write_csv(report, csv_file, chosen)
    if failed is not None:
        command.fail(failed)
    raise typer.Exit(report.exit_code)


def _write_csv(report: BulkReport, csv_file: Path | None, lang: Lang) -> KmbaseError | None:
    """Write the CSV report if asked; the error, if the file cannot be written."""
    from ..exports._cells import write_error  # noqa: PLC0415 - imported when the command runs

    if csv_file is None:
        return None
    try:
        report.write_csv(csv_file, lang)
    except OSError as exc:
        return write_error(csv_file, exc)
    return None
