"""The ``kmbase`` command line: a thin face over the library.

Exit codes (one table for every command):

====  ==========================================================
0     success; for ``check``: eligible
1     refused, or not eligible
2     bad input (message on stderr, nothing else)
3     working-day calendar data missing for a year
4     conflict: the case changed meanwhile
====  ==========================================================
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from . import diagrams
from ._cli_calendar import calendar_app, deadline_app
from ._i18n import Lang, Text
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

app.add_typer(calendar_app, name="calendar")
app.add_typer(deadline_app, name="deadline")


class OutputFormat(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


LangOption = Annotated[
    str, typer.Option("--lang", help="消息语言 zh|en / message language zh|en.", metavar="zh|en")
]


def _lang(value: str) -> Lang:
    if value not in ("zh", "en"):
        _fail(
            KmbaseError(
                Text(zh=f"不支持的语言 {value}", en=f"unsupported language {value}"),
                hint=Text(zh="请用 zh 或 en", en="use zh or en"),
            ),
            "en",
            exit_code=2,
        )
    return "zh" if value == "zh" else "en"


def _fail(error: KmbaseError, lang: Lang, *, exit_code: int | None = None) -> NoReturn:
    """Print an error on stderr (nothing on stdout) and exit with its documented code."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(error.describe(lang), markup=False)
    raise typer.Exit(exit_code if exit_code is not None else error.exit_code)


_STATUS_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.NOT_ASSESSABLE: "yellow"}


def _finding_rows(finding: Finding, lang: Lang, depth: int = 0) -> list[tuple[str, ...]]:
    indent = "  " * depth
    status = finding.status
    rows: list[tuple[str, ...]] = [
        (
            f"[{_STATUS_STYLE[status]}]{status.label.in_(lang)}[/]",
            indent + finding.article.in_(lang),
            indent + finding.message.in_(lang),
        )
    ]
    if depth == 0:
        for detail in finding.details:
            rows.extend(_finding_rows(detail, lang, depth + 1))
    return rows


def _print_verdict(verdict: Verdict, lang: Lang) -> None:
    console = Console(highlight=False, soft_wrap=False)
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
    language = _lang(lang)
    try:
        application = load_application(file)
        policy = load_policy(application.declared_on, path=policy_file)
        verdict = evaluate(application, policy)
    except KmbaseError as error:
        _fail(error, language, exit_code=2)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(verdict.to_dict(language), ensure_ascii=False, indent=2))
    else:
        _print_verdict(verdict, language)
    raise typer.Exit(0 if verdict.eligible else 1)


@app.command()
def demo(
    lang: LangOption = "zh",
) -> None:
    """演示 / The demonstration: judge the two bundled example applications.

    (The full annual-round demo on the embedded SQLite store replaces this once the
    lifecycle lands.)
    """
    from .examples import eligible_application, ineligible_application  # noqa: PLC0415

    language = _lang(lang)
    for application in (eligible_application(), ineligible_application()):
        _print_verdict(evaluate(application), language)


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
    language = _lang(lang)
    render = diagrams.dot if output is DiagramFormat.DOT else diagrams.mermaid
    typer.echo(render(lang=language, articles=articles), nl=False)


def main() -> None:
    """Entry point of the ``kmbase`` script."""
    try:
        app()
    except KmbaseError as error:  # pragma: no cover - commands catch what they expect
        _fail(error, "zh")
    sys.exit(0)
