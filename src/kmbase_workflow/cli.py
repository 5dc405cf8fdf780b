"""The ``kmbase`` command line: a thin face over the library (exit codes in
``_cli_common`` and docs/reference/cli.md).

A command module registers here with one line (``app.add_typer(worker_app, name="worker")``
or ``app.command("serve")(serve)``). It takes its options from ``_cli_common`` (`JsonOption`
on every command, `LangOption`, `DbOption`, `TodayOption`, `HolidaysOption`, …) and follows
its JSON convention; tests/test_cli_json.py walks this app and holds every command to it.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from . import diagrams
from ._cli_audit import audit_app
from ._cli_bulk import bulk
from ._cli_calendar import calendar_app, deadline_app
from ._cli_cases import db_app, declare, fire, follow, history, round_app, show, sweep
from ._cli_common import (
    FormatOption,
    JsonOption,
    KmbaseGroup,
    LangOption,
    OutputFormat,
    PolicyOption,
    data_console,
    emit,
    fail,
    json_mode,
    language,
    run,
    styled,
)
from ._cli_export import export_app, import_app
from ._cli_queues import (
    as_of_command,
    dashboard_command,
    inbox,
    rebuild_command,
    round_as_of_command,
)
from ._cli_relay import relay
from ._cli_serve import serve, token_app
from ._cli_worker import worker_app
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
    cls=KmbaseGroup,
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
app.command("relay")(relay)
app.command("bulk")(bulk)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")
app.add_typer(worker_app, name="worker")
app.command("serve")(serve)
app.add_typer(token_app, name="token")
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
        Path,
        typer.Argument(
            help="申请报告 JSON 或 TOML 文件 / application file (JSON or TOML).", metavar="FILE"
        ),
    ],
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
    policy_file: PolicyOption = None,
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
    if json_mode():
        emit(verdict.to_dict(chosen))
    else:
        _print_verdict(verdict, chosen)
    raise typer.Exit(0 if verdict.eligible else 1)


DEMO_DATABASE = "kmbase-demo.db"
"""Where ``kmbase demo`` keeps its fresh SQLite database by default."""


@app.command()
def demo(
    db: Annotated[
        Path,
        typer.Option(
            "--db",
            help="演示数据库（每次重建） / the demo's SQLite file (recreated).",
            metavar="FILE",
        ),
    ] = Path(DEMO_DATABASE),
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
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
    if json_mode():
        data = result.to_dict(chosen)
        data["database"] = str(db)
        data["exports"] = [str(path) for path in _export_demo_tables(result, db, chosen)]
        emit(data)
        return
    console = data_console()
    print_demo(result, chosen, console)
    for path in _export_demo_tables(result, db, chosen):
        console.print(("已导出：" if chosen == "zh" else "exported: ") + str(path))
    console.print(("演示数据库：" if chosen == "zh" else "demo database: ") + str(db))


_TABLE_2_EN = {
    "县区": "district",
    "基地名称": "base",
    "是否满足各项申报条件": "meets every condition",
    "是否同意推荐": "recommended",
    "备注": "remarks",
}
_YES_NO_EN = {"是": "yes", "否": "no"}


def print_demo(result: DemoResult, lang: Lang, console: Console) -> None:
    """The demo's tables, in one language, readable at 80 columns: every cell wraps rather
    than being cut, and a day is printed once, on its first line."""
    zh = lang == "zh"
    timeline = Table(title="认定时间线" if zh else "Timeline", box=box.SIMPLE_HEAD)
    timeline.add_column("日期" if zh else "date", no_wrap=True, min_width=10)
    for header in ("基地", "步骤", "状态", "说明") if zh else ("base", "step", "state", "note"):
        timeline.add_column(header, overflow="fold")
    previous = None
    for step in result.timeline:
        day = step.day.isoformat() if step.day != previous else ""
        previous = step.day
        state = State(step.state).label.in_(lang)
        timeline.add_row(day, step.base, step.step.in_(lang), state, step.note.in_(lang))
    console.print(timeline)
    events = Table(
        title="订阅者收到的事件" if zh else "Events a subscriber received", box=box.SIMPLE_HEAD
    )
    events.add_column("事件" if zh else "event", overflow="fold")
    events.add_column("次数" if zh else "count", justify="right")
    described = {event.type: event.description.in_(lang) for event in result.events}
    for name, count in sorted(result.event_counts().items()):
        events.add_row(described[name], str(count))
    console.print(events)
    shown = tuple(_TABLE_2_EN)
    table = Table(
        title="推荐汇总表（附件2）" if zh else "Recommendation summary (Annex 2)",
        box=box.SIMPLE_HEAD,
    )
    for header in shown:
        table.add_column(header if zh else _TABLE_2_EN[header], overflow="fold")
    for row in result.recommendation_rows:
        cells = [str(row[header]) for header in shown]
        table.add_row(*(cells if zh else [_YES_NO_EN.get(cell, cell) for cell in cells]))
    console.print(table)


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
        typer.Option("--format", help="图格式 / diagram format.", metavar="mermaid|dot"),
    ] = DiagramFormat.MERMAID,
    lang: LangOption = "zh",
    articles: Annotated[
        bool,
        typer.Option(
            "--articles/--no-articles", help="边上标注条款 / name the article on each edge."
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """输出认定生命周期状态图 / Print the lifecycle's state diagram (Mermaid or Graphviz DOT).

    ``--json``: ``format`` and the diagram's text as ``diagram``.
    """
    chosen = language(lang)
    render = diagrams.dot if output is DiagramFormat.DOT else diagrams.mermaid
    text = render(lang=chosen, articles=articles)
    if json_mode():
        emit({"format": output.value, "diagram": text})
        return
    typer.echo(text, nl=False)


def main() -> None:
    """Entry point of the ``kmbase`` script."""
    try:
        app()
    except KmbaseError as error:  # pragma: no cover - commands catch what they expect
        fail(error, "zh")
    sys.exit(0)
