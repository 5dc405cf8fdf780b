"""The ``kmbase`` command line: a thin face over the library (exit codes in
``_cli_common`` and docs/cli.md)."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from . import diagrams
from ._cli_audit import audit_app
from ._cli_bulk import bulk
from ._cli_calendar import calendar_app, deadline_app
from ._cli_cases import db_app, declare, fire, follow, history, round_app, show, sweep
from ._cli_common import LangOption, OutputFormat, data_console, fail, language, run, styled
from ._cli_export import export_app, import_app
from ._cli_queues import (
    as_of_command,
    dashboard_command,
    inbox,
    rebuild_command,
    round_as_of_command,
)
from ._i18n import Lang
from .case import State
from .demo import DemoResult, run_demo
from .eligibility import Finding, Status, Verdict, evaluate
from .errors import KmbaseError
from .policy import load_policy
from .serialization import load_application

app = typer.Typer(
    name="kmbase",
    help="昆明市小微企业创业创新示范基地认定 / Kunming demonstration base certification.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__  # noqa: PLC0415 - the package imports this module

        typer.echo(f"kmbase {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="显示版本并退出 / print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """昆明市小微企业创业创新示范基地认定 / Kunming demonstration base certification."""


app.add_typer(calendar_app, name="calendar")
app.add_typer(deadline_app, name="deadline")
app.add_typer(db_app, name="db")
app.add_typer(round_app, name="round")
app.command("declare")(declare)
app.command("fire")(fire)
app.command("show")(show)
app.command("history")(history)
app.command("sweep")(sweep)
app.command("follow")(follow)
app.command("bulk")(bulk)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")
app.command("inbox")(inbox)
app.command("dashboard")(dashboard_command)
app.command("as-of")(as_of_command)
round_app.command("as-of")(round_as_of_command)
db_app.command("rebuild-work-queue")(rebuild_command)


_STATUS_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.NOT_ASSESSABLE: "yellow"}


def _finding_rows(finding: Finding, lang: Lang, depth: int = 0) -> list[tuple[str | RichText, ...]]:
    indent = "  " * depth
    status = finding.status
    rows: list[tuple[str | RichText, ...]] = [
        (
            styled(status.label.in_(lang), _STATUS_STYLE[status]),
            indent + finding.article.in_(lang),
            indent + finding.message.in_(lang),
        )
    ]
    if depth == 0:
        for detail in finding.details:
            rows.extend(_finding_rows(detail, lang, depth + 1))
    return rows


def _print_verdict(verdict: Verdict, lang: Lang) -> None:
    console = data_console()  # the base's name is data, never markup
    table = Table(
        title=verdict.summary().in_(lang),
        caption=("政策：" if lang == "zh" else "policy: ") + verdict.policy_id,
        show_lines=False,
        expand=False,
    )
    table.add_column("结果" if lang == "zh" else "status", no_wrap=True)
    table.add_column("条款" if lang == "zh" else "article", no_wrap=True)
    table.add_column("说明" if lang == "zh" else "finding", overflow="fold")
    for finding in verdict.findings:
        for row in _finding_rows(finding, lang):
            table.add_row(*row)
    console.print(table)


@app.command()
def check(
    file: Annotated[
        Path, typer.Argument(help="申请报告 JSON 或 TOML 文件 / application file (JSON or TOML).")
    ],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="输出格式 / output format.")
    ] = OutputFormat.TABLE,
    lang: LangOption = "zh",
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="自定义政策文件 / your own policy file (TOML)."),
    ] = None,
) -> None:
    """判断申请是否符合申报条件 / Judge an application against the policy in force.

    Exit 0 eligible, 1 not eligible, 2 invalid input.
    """
    chosen = language(lang)
    try:
        application = load_application(file)
        policy = load_policy(application.declared_on, path=policy_file)
        verdict = evaluate(application, policy)
    except KmbaseError as error:
        fail(error, chosen, exit_code=2)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(verdict.to_dict(chosen), ensure_ascii=False, indent=2))
    else:
        _print_verdict(verdict, chosen)
    raise typer.Exit(0 if verdict.eligible else 1)


DEMO_DATABASE = "kmbase-demo.db"
"""Where ``kmbase demo`` keeps its fresh SQLite database by default."""


@app.command()
def demo(
    db: Annotated[
        Path,
        typer.Option("--db", help="演示数据库（每次重建） / the demo's SQLite file (recreated)."),
    ] = Path(DEMO_DATABASE),
    output: Annotated[
        OutputFormat, typer.Option("--format", help="输出格式 / output format.")
    ] = OutputFormat.TABLE,
    lang: LangOption = "zh",
) -> None:
    """演示一个完整的年度认定 / Run a realistic annual round on a fresh SQLite database.

    Five bases in five districts: declarations, a district that declines, selection after
    expert review, inspection, a public notice across National Day with an objection,
    certification, a late change filing, a failed evaluation and revocation, reminders and
    expiry three years later. Prints the timeline, the events a subscriber received and
    the district recommendation table (附件2).
    """

    chosen = language(lang)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result = run(chosen, lambda: run_demo(f"sqlite:///{db}"))
    if output is OutputFormat.JSON:
        data = result.to_dict(chosen)
        data["database"] = str(db)
        data["exports"] = [str(path) for path in _export_demo_tables(result, db, chosen)]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console(highlight=False)
    zh = chosen == "zh"
    timeline = Table(title="认定时间线" if zh else "Timeline", expand=False)
    for header in ("日期 date", "基地 base", "步骤 step", "状态 state", "说明 note"):
        timeline.add_column(header.split()[0] if zh else header.split()[1], no_wrap=True)
    for step in result.timeline:
        state = State(step.state).label.in_(chosen)
        timeline.add_row(step.day.isoformat(), step.base, step.step.in_(chosen), state, step.note)
    console.print(timeline)
    events = Table(title="订阅者收到的事件" if zh else "Events a subscriber received")
    events.add_column("事件" if zh else "event")
    events.add_column("次数" if zh else "count", justify="right")
    for name, count in sorted(result.event_counts().items()):
        events.add_row(name, str(count))
    console.print(events)
    shown = ("县区", "基地名称", "是否满足各项申报条件", "是否同意推荐", "备注")
    table = Table(title="推荐汇总表（附件2）" if zh else "Recommendation summary (Annex 2)")
    for header in shown:
        table.add_column(header)
    for row in result.recommendation_rows:
        table.add_row(*(str(row[header]) for header in shown))
    console.print(table)
    for path in _export_demo_tables(result, db, chosen):
        console.print(("已导出：" if zh else "exported: ") + str(path))
    console.print(("演示数据库：" if zh else "demo database: ") + str(db))


def _export_demo_tables(result: DemoResult, db: Path, lang: Lang) -> list[Path]:
    """Each district's 推荐汇总表 as .xlsx next to the demo database (needs openpyxl)."""
    from .exports import export_recommendation_table  # noqa: PLC0415 - optional extra

    written = []
    for district in dict.fromkeys(str(row["县区"]) for row in result.recommendation_rows):
        path = db.with_name(f"{db.stem}-推荐汇总表-{district}.xlsx")
        try:
            export_recommendation_table(result.workflow, district, 2025, path)
        except KmbaseError as error:  # openpyxl missing: the tables above still show the rows
            Console(stderr=True).print(error.describe(lang), markup=False)
            break
        written.append(path)
    return written


class DiagramFormat(enum.StrEnum):
    """Diagram formats."""

    MERMAID = "mermaid"
    DOT = "dot"


@app.command()
def diagram(
    output: Annotated[
        DiagramFormat,
        typer.Option("--format", help="图格式 mermaid|dot / diagram format mermaid|dot."),
    ] = DiagramFormat.MERMAID,
    lang: LangOption = "zh",
    articles: Annotated[
        bool,
        typer.Option(
            "--articles/--no-articles", help="边上标注条款 / name the article on each edge."
        ),
    ] = True,
) -> None:
    """输出认定生命周期状态图 / Print the lifecycle's state diagram (Mermaid or Graphviz DOT)."""
    chosen = language(lang)
    render = diagrams.dot if output is DiagramFormat.DOT else diagrams.mermaid
    typer.echo(render(lang=chosen, articles=articles), nl=False)


def main() -> None:
    """Entry point of the ``kmbase`` script."""
    try:
        app()
    except KmbaseError as error:  # pragma: no cover - commands catch what they expect
        fail(error, "zh")
    sys.exit(0)
