"""``kmbase export`` and ``kmbase import``: the spreadsheets and documents of
`kmbase_workflow.exports`.

Two typer sub-apps, mounted by the main CLI::

    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import")

Exit codes as in ``cli._output``: 0 written, 2 bad input (an unknown case, a bad file: every
bad cell on stderr with its row and column, nothing on stdout).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._i18n import Text
from ..errors import InvalidInputError
from ._command import Command
from ._group import command_group
from ._options import DbOption, JsonOption, LangOption, output_file, parse_date

if TYPE_CHECKING:
    from ..exports import (
        Document,
        DocumentSettings,
    )
    from ..records import Application
    from ..workflow import Workflow

__all__ = ["export_app", "import_app"]

export_app = command_group(
    "export",
    "导出表格与文书 / Export the official forms and documents (Excel, Word, HTML, text, PDF).",
)

import_app = command_group(
    "import", "从 Excel 或 CSV 导入表格 / Import tables from Excel or CSV into an application."
)

OutputOption = Annotated[
    Path,
    typer.Option(
        "--output", "-o", help="输出文件 / the file to write.", show_default=False, metavar="FILE"
    ),
]
RoundOption = Annotated[
    int,
    typer.Option(
        "--round", help="申报年度 / the round's year.", show_default=False, metavar="YEAR"
    ),
]
CaseArgument = Annotated[
    str, typer.Argument(help="案件编号 / the case id.", show_default=False, metavar="CASE_ID")
]


def _written(path: Path, rows: int, what: Text, command: Command) -> None:
    command.finish(
        {"written": str(path), "rows": rows},
        command.say(
            f"已写入 {path}：{what.zh} {rows} 行", f"wrote {path}: {rows} {what.en} row(s)"
        ),
    )


@export_app.command("recommendations")
def export_recommendations(
    district: Annotated[
        str,
        typer.Option(
            "--district", help="县（市）区 / the district.", show_default=False, metavar="DISTRICT"
        ),
    ],
    round_year: RoundOption,
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
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="xlsx|docx|html|txt|pdf（默认按扩展名） / the format (default: the extension).",
            metavar="FORMAT",
        ),
    ] = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出推荐汇总表（附件2） / Write a district's recommendation summary table for a round.

    One row per case the district recommended or declined, as a workbook (.xlsx) or a
    document (.docx, .html, .txt, .pdf). Exit 0 written, 2 bad input.
    """
    from ..exports import export_recommendation_table, recommendation_document  # noqa: PLC0415 - imported when the command runs
    from ..exports._render import FORMATS as DOCUMENT_FORMATS  # noqa: PLC0415

    command = Command(lang)
    if (output_format or output.suffix.lstrip(".")).lower() in DOCUMENT_FORMATS:

        def build(workflow: Workflow) -> Document:
            return recommendation_document(
                workflow, district, round_year, filled_by=filled_by, phone=phone, unit=unit
            )

        _document(build, db, output, output_format, command)
        return

    def write(workflow: Workflow) -> int:
        rows = export_recommendation_table(
            workflow, district, round_year, output, filled_by=filled_by, phone=phone, unit=unit
        )
        return len(rows)

    rows = command.with_workflow(db, write)
    _written(output, rows, Text(zh="推荐汇总表", en="recommendation"), command)


@export_app.command("case")
def export_case(
    case_id: CaseArgument,
    output: OutputOption,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出一个案件的附件1申请表及表格 / Write the forms of 附件1 of a case, one sheet each.

    Exit 0 written, 2 unknown case or bad output path.
    """
    from ..exports import export_application_tables  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    def write(workflow: Workflow) -> int:
        case = workflow.case(case_id)
        return len(export_application_tables(case, output, policy=workflow.policy_for(case)))

    sheets = command.with_workflow(db, write)
    command.finish(
        {"written": str(output), "sheets": sheets},
        command.say(f"已写入 {output}：{sheets} 张表", f"wrote {output}: {sheets} sheets"),
    )


# -- documents ------------------------------------------------------------------------------

DocumentFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="docx|html|txt|pdf（默认按扩展名） / the format (default: the extension).",
        metavar="FORMAT",
    ),
]
SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="文书配置 TOML（发文机关、异议联系方式） / the host's document settings (TOML).",
        envvar="KMBASE_DOCUMENTS",
        metavar="FILE",
        show_default=False,
    ),
]
DateOption = Annotated[
    str | None,
    typer.Option("--date", help="成文日期（YYYY-MM-DD） / the date at the foot.", metavar="DATE"),
]


def _settings(path: Path | None) -> DocumentSettings:
    from ..exports import DocumentSettings, load_document_settings  # noqa: PLC0415 - imported when the command runs

    return DocumentSettings() if path is None else load_document_settings(path)


def _day(value: str | None, what: str) -> dt.date | None:
    return None if value is None else parse_date(value, what)


def _document(
    build: Callable[[Workflow], Document],
    db: str | None,
    output: Path,
    output_format: str | None,
    command: Command,
) -> None:
    """Build a document from the store, write it, and say what was written."""
    from ..exports import write_document  # noqa: PLC0415 - imported when the command runs

    command.run(lambda: output_file(output, "--output"))
    document = command.with_workflow(db, build)
    command.run(lambda: write_document(document, output, output_format))
    command.finish(
        {"written": str(output), **document.summary},
        command.say(f"已写入 {output}：{document.title}", f"wrote {output}: {document.title}"),
    )


@export_app.command("notice")
def export_notice(
    round_year: RoundOption,
    output: OutputOption,
    output_format: DocumentFormatOption = None,
    settings: SettingsOption = None,
    starts_on: Annotated[
        str | None,
        typer.Option(
            "--starts-on",
            help="公示开始日（本年度有多个公示时） / the notice's first day, when several.",
            metavar="DATE",
        ),
    ] = None,
    dated: DateOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出拟认定名单公示（第十三条） / Write the public notice of a round's bases.

    The period is the cases' stored notice; the office and where to object come from
    --settings. Exit 0 written, 2 bad input (no base in notice, settings missing).
    """
    from ..exports import public_notice  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    def build(workflow: Workflow) -> Document:
        notice = public_notice(
            workflow,
            round_year,
            _settings(settings),
            starts_on=_day(starts_on, "--starts-on"),
            dated=_day(dated, "--date"),
        )
        return notice.document()

    _document(build, db, output, output_format, command)


@export_app.command("decision")
def export_decision(
    round_year: RoundOption,
    output: OutputOption,
    output_format: DocumentFormatOption = None,
    settings: SettingsOption = None,
    decision: Annotated[
        str | None,
        typer.Option(
            "--decision",
            help="集体决策文号（本年度有多个时） / the collective decision, when several.",
            metavar="REF",
        ),
    ] = None,
    dated: DateOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出认定通知（第十四条） / Write the notice certifying a round's bases.

    Each base with its validity (第十五条). Exit 0 written, 2 bad input.
    """
    from ..exports import certification_notice  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    def build(workflow: Workflow) -> Document:
        notice = certification_notice(
            workflow,
            round_year,
            _settings(settings),
            decision=decision,
            dated=_day(dated, "--date"),
        )
        return notice.document()

    _document(build, db, output, output_format, command)


@export_app.command("application-form")
def export_application_form(
    case_id: CaseArgument,
    output: OutputOption,
    output_format: DocumentFormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出附件1申请表（供签字盖章） / Write 附件1 of a case as the form to sign.

    承诺书, 申请表 and its four tables. Exit 0 written, 2 unknown case or bad output.
    """
    from ..exports import application_form  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    def build(workflow: Workflow) -> Document:
        case = workflow.case(case_id)
        return application_form(case, policy=workflow.policy_for(case))

    _document(build, db, output, output_format, command)


def _import(
    application_file: Path,
    table_file: Path,
    output: Path,
    sheet: str | None,
    lang: str,
    step: Callable[[Application, Path, str | None], Application],
    rows: Callable[[Application], int],
    what: Text,
) -> None:
    """Read the application, replace one of its tables with ``step``, write it to
    ``output`` and say how many ``rows`` (of ``what``) it now has."""
    from ..serialization import dump_json, load_application  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

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

    _written(output, rows(command.run(action)), what, command)


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
    from ..exports import import_roster  # noqa: PLC0415 - imported when the command runs

    _import(
        application_file,
        roster,
        output,
        sheet,
        lang,
        lambda application, path, name: import_roster(application, path, sheet=name),
        lambda updated: len(updated.residents),
        Text(zh="入驻企业", en="resident"),
    )


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
    from ..exports import import_staff  # noqa: PLC0415 - imported when the command runs

    _import(
        application_file,
        staff,
        output,
        sheet,
        lang,
        lambda application, path, name: import_staff(application, path, sheet=name),
        lambda updated: len(updated.staff),
        Text(zh="服务人员", en="staff"),
    )
