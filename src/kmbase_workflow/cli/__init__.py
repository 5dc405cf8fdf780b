"""The ``kmbase`` command line: a thin face over the library (exit codes in
``cli._common`` and docs/reference/cli.md).

A command module registers here with one line (``app.add_typer(worker_app, name="worker")``
or ``app.command("serve")(serve)``). It takes its options from ``cli._common`` (`JsonOption`
on every command, `LangOption`, `DbOption`, `TodayOption`, `HolidaysOption`, …) and follows
its JSON convention; tests/test_cli_json.py walks this app and holds every command to it.
"""

from __future__ import annotations

import enum
import itertools
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from .. import diagrams
from ._audit import audit_app
from ._bulk import bulk
from ._calendar import calendar_app, deadline_app
from ._cases import db_app, declare, fire, follow, history, round_app, show, sweep
from ._common import (
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
from ._export import export_app, import_app
from ._queues import (
    as_of_command,
    dashboard_command,
    inbox,
    rebuild_command,
    round_as_of_command,
)
from ._relay import relay
from ._serve import serve, token_app
from ._worker import worker_app
from .._i18n import Lang, Text
from ..case import State
from ..demo import DemoResult, run_demo
from ..eligibility import Finding, Status, Verdict, evaluate
from ..errors import InvalidInputError, KmbaseError
from ..policy import load_policy
from ..serialization import load_application
from ..stores import database_exists

app = typer.Typer(
    name="kmbase",
    help="昆明市小微企业创业创新示范基地认定 / Kunming demonstration base certification.",
    no_args_is_help=True,
    cls=KmbaseGroup,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__  # noqa: PLC0415 - the package imports this module

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
"""Where ``kmbase demo`` keeps its SQLite database by default: this file in the current
directory, or, if it is taken, the first of ``kmbase-demo-2.db``, ``kmbase-demo-3.db`` …
that is not."""


def _new_demo_database() -> str:
    """The URL of the first default demo file that does not exist yet (nor its journal)."""
    stem, suffix = DEMO_DATABASE.removesuffix(".db"), ".db"
    for number in itertools.count(1):
        name = f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}"
        if not any(Path(name + end).exists() for end in ("", "-wal", "-shm", "-journal")):
            return f"sqlite:///{name}"
    raise AssertionError("unreachable")  # pragma: no cover


def _demo_store(db: str | None) -> str:
    """The store URL the demo runs on: ``db`` (a URL, or an SQLite file's path) if no
    database is there, else `InvalidInputError`: the demo never deletes nor reuses data it
    did not create."""
    if db is None:
        return _new_demo_database()
    url = db if "://" in db else f"sqlite:///{db}"
    if database_exists(url):
        raise InvalidInputError(
            Text(
                zh=f"演示只在新数据库上运行：{db} 已存在，未作任何改动",
                en=f"the demo runs on a new database only: {db} already exists and was left "
                "as it was",
            ),
            hint=Text(
                zh="用 --db 指定一个不存在的数据库（如 sqlite:///demo-new.db），或不带 --db 运行",
                en="name a database that does not exist with --db (e.g. sqlite:///demo-new.db), "
                "or run without --db",
            ),
        )
    return url


@app.command()
def demo(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="演示用的新数据库（不得已存在；默认当前目录下新的 kmbase-demo.db） / a new "
            "store for the demo, which must not exist (default: a new kmbase-demo.db here).",
            metavar="URL",
        ),
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """演示一个完整的年度认定 / Run a realistic annual round on a new database.

    Five bases in five districts: declarations, a district that declines, selection after
    expert review, inspection, a public notice across National Day with an objection,
    certification, a late change filing, a failed evaluation and revocation, reminders and
    expiry three years later. Prints the timeline, the events a subscriber received and
    the district recommendation table (附件2). A database that exists is refused (exit 2),
    never deleted nor reused.
    """

    chosen = language(lang)
    url = run(chosen, lambda: _demo_store(db))
    result = run(chosen, lambda: run_demo(url))
    try:
        exports = _export_demo_tables(result, url, chosen)
    finally:
        result.workflow.close()
    if json_mode():
        data = result.to_dict(chosen)
        data["database"] = url
        data["exports"] = [str(path) for path in exports]
        emit(data)
        return
    console = data_console()
    print_demo(result, chosen, console)
    for path in exports:
        console.print(("已导出：" if chosen == "zh" else "exported: ") + str(path))
    console.print(("演示数据库：" if chosen == "zh" else "demo database: ") + url)


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


def _export_demo_tables(result: DemoResult, url: str, lang: Lang) -> list[Path]:
    """Each district's 推荐汇总表 as .xlsx next to the demo's SQLite file (needs openpyxl);
    none for another store. A file already there is not overwritten."""
    from ..exports import export_recommendation_table  # noqa: PLC0415 - optional extra

    if not url.startswith("sqlite:///"):
        return []
    db = Path(url.removeprefix("sqlite:///").partition("?")[0])
    written = []
    for district in dict.fromkeys(str(row["县区"]) for row in result.recommendation_rows):
        path = db.with_name(f"{db.stem}-推荐汇总表-{district}.xlsx")
        if path.exists():
            continue
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
