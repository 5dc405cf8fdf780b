"""``kmbase demo``: a realistic annual round on a new database, with its timeline, the events
a subscriber received and each district's recommendation table (附件2)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._i18n import Text
from ..errors import InvalidInputError, KmbaseError
from ._command import Command
from ._options import FormatOption, JsonOption, LangOption, OutputFormat
from ._output import data_console

if TYPE_CHECKING:
    from rich.console import Console

    from .._i18n import Lang
    from ..demo import DemoResult

__all__ = ["DEMO_DATABASE", "demo", "print_demo"]


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
    from ..stores import database_exists  # noqa: PLC0415 - imported when the command runs

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
    from ..demo import run_demo  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    url = command.run(lambda: _demo_store(db))
    result = command.run(lambda: run_demo(url))
    try:
        exports = _export_demo_tables(result, url, command.lang)
    finally:
        result.workflow.close()

    def show() -> None:
        console = data_console()
        print_demo(result, command.lang, console)
        for path in exports:
            console.print(command.say("已导出：", "exported: ") + str(path))
        console.print(command.say("演示数据库：", "demo database: ") + url)

    data = result.to_dict(command.lang)
    data["database"] = url
    data["exports"] = [str(path) for path in exports]
    command.finish(data, show)


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
    from rich import box  # noqa: PLC0415 - imported when the command runs
    from rich.table import Table  # noqa: PLC0415

    from ..case import State  # noqa: PLC0415 - imported when the command runs

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
    from rich.console import Console  # noqa: PLC0415 - imported when the command runs

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
