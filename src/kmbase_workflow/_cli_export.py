"""``kmbase export`` and ``kmbase import``: the spreadsheets of `kmbase_workflow.exports`.

Two typer sub-apps, mounted by the main CLI::

    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import")

Exit codes as in ``_cli_common``: 0 written, 2 bad input (an unknown case, a bad file: every
bad cell on stderr with its row and column, nothing on stdout).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ._cli_common import (
    DbOption,
    JsonOption,
    LangOption,
    emit,
    json_mode,
    language,
    open_workflow,
    run,
)
from ._i18n import Lang, Text
from .errors import InvalidInputError
from .exports import (
    export_application_tables,
    export_recommendation_table,
    import_roster,
    import_staff,
)
from .records import Application
from .serialization import dump_json, load_application

__all__ = ["export_app", "import_app"]

export_app = typer.Typer(
    name="export",
    help="导出 Excel 表格 / Export the official forms as Excel workbooks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

import_app = typer.Typer(
    name="import",
    help="从 Excel 或 CSV 导入表格 / Import tables from Excel or CSV into an application.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OutputOption = Annotated[
    Path,
    typer.Option(
        "--output", "-o", help="输出文件 / the file to write.", show_default=False, metavar="FILE"
    ),
]


def _written(path: Path, rows: int, what: Text, lang: Lang) -> None:
    if json_mode():
        emit({"written": str(path), "rows": rows})
        return
    message = Text(
        zh=f"已写入 {path}：{what.zh} {rows} 行", en=f"wrote {path}: {rows} {what.en} row(s)"
    )
    typer.echo(message.in_(lang))


@export_app.command("recommendations")
def export_recommendations(
    district: Annotated[
        str,
        typer.Option(
            "--district", help="县（市）区 / the district.", show_default=False, metavar="DISTRICT"
        ),
    ],
    round_year: Annotated[
        int,
        typer.Option(
            "--round", help="申报年度 / the round's year.", show_default=False, metavar="YEAR"
        ),
    ],
    output: OutputOption,
    db: DbOption = None,
    filled_by: Annotated[
        str, typer.Option("--filled-by", help="填表人 / who filled in the table.", metavar="NAME")
    ] = "",
    phone: Annotated[
        str, typer.Option("--phone", help="填表人联系电话 / their phone.", metavar="PHONE")
    ] = "",
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit",
            help="推荐单位（默认：县区名） / the recommending unit (default: district).",
            metavar="UNIT",
        ),
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出推荐汇总表（附件2） / Write a district's recommendation summary table for a round.

    One row per case the district recommended or declined. Exit 0 written, 2 bad input.
    """
    chosen = language(lang)

    def action() -> int:
        workflow = open_workflow(db)
        try:
            rows = export_recommendation_table(
                workflow, district, round_year, output, filled_by=filled_by, phone=phone, unit=unit
            )
        finally:
            workflow.store.close()
        return len(rows)

    rows = run(chosen, action)
    _written(output, rows, Text(zh="推荐汇总表", en="recommendation"), chosen)


@export_app.command("case")
def export_case(
    case_id: Annotated[
        str, typer.Argument(help="案件编号 / the case id.", show_default=False, metavar="CASE_ID")
    ],
    output: OutputOption,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出一个案件的附件1申请表及表格 / Write the forms of 附件1 of a case, one sheet each.

    Exit 0 written, 2 unknown case or bad output path.
    """
    chosen = language(lang)

    def action() -> int:
        workflow = open_workflow(db)
        try:
            case = workflow.case(case_id)
            sheets = export_application_tables(case, output, policy=workflow.policy_for(case))
        finally:
            workflow.store.close()
        return len(sheets)

    sheets = run(chosen, action)
    if json_mode():
        emit({"written": str(output), "sheets": sheets})
        return
    typer.echo(
        Text(zh=f"已写入 {output}：{sheets} 张表", en=f"wrote {output}: {sheets} sheets").in_(
            chosen
        )
    )


def _import(
    application_file: Path,
    table_file: Path,
    output: Path,
    sheet: str | None,
    lang: Lang,
    step: Callable[[Application, Path, str | None], Application],
) -> Application:
    def action() -> Application:
        application = load_application(application_file)
        updated = step(application, table_file, sheet)
        try:
            dump_json(updated, output)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InvalidInputError(
                Text(zh=f"无法写入 {output}：{reason}", en=f"cannot write {output}: {reason}"),
                hint=Text(zh="请检查路径和权限", en="check the path and its permissions"),
            ) from None
        return updated

    return run(lang, action)


ApplicationArgument = Annotated[
    Path,
    typer.Argument(
        help="申请报告 JSON 或 TOML 文件 / the application (JSON or TOML).",
        show_default=False,
        metavar="APPLICATION",
    ),
]
SheetOption = Annotated[
    str | None,
    typer.Option("--sheet", help="工作表名（.xlsx） / the sheet to read (.xlsx).", metavar="NAME"),
]


@import_app.command("roster")
def import_roster_command(
    application_file: ApplicationArgument,
    roster: Annotated[
        Path,
        typer.Argument(
            help="入驻企业（项目）名录表 .xlsx 或 .csv / the roster (.xlsx or .csv).",
            show_default=False,
            metavar="ROSTER",
        ),
    ],
    output: OutputOption,
    sheet: SheetOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导入入驻企业名录 / Replace an application's resident enterprises with a roster file.

    Writes the application with the roster's rows as JSON to --output.
    Exit 0 written, 2 bad input (every bad cell on stderr with its row and column).
    """
    chosen = language(lang)
    updated = _import(
        application_file,
        roster,
        output,
        sheet,
        chosen,
        lambda application, path, name: import_roster(application, path, sheet=name),
    )
    _written(output, len(updated.residents), Text(zh="入驻企业", en="resident"), chosen)


@import_app.command("staff")
def import_staff_command(
    application_file: ApplicationArgument,
    staff: Annotated[
        Path,
        typer.Argument(
            help="管理和专职服务人员情况表 .xlsx 或 .csv / the staff table (.xlsx or .csv).",
            show_default=False,
            metavar="STAFF",
        ),
    ],
    output: OutputOption,
    sheet: SheetOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导入管理和专职服务人员 / Replace an application's staff with a staff table file.

    Writes the application with the table's rows as JSON to --output.
    Exit 0 written, 2 bad input (every bad cell on stderr with its row and column).
    """
    chosen = language(lang)
    updated = _import(
        application_file,
        staff,
        output,
        sheet,
        chosen,
        lambda application, path, name: import_staff(application, path, sheet=name),
    )
    _written(output, len(updated.staff), Text(zh="服务人员", en="staff"), chosen)
