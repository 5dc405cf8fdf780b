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

from . import diagrams
from ._cli_calendar import calendar_app, deadline_app
from ._cli_common import LangOption, OutputFormat, fail, language
from ._i18n import Lang
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


@app.command()
def demo(
    lang: LangOption = "zh",
) -> None:
    """演示 / The demonstration: judge the two bundled example applications.

    (The full annual-round demo on the embedded SQLite store replaces this once the
    lifecycle lands.)
    """
    from .examples import eligible_application, ineligible_application  # noqa: PLC0415

    chosen = language(lang)
    for application in (eligible_application(), ineligible_application()):
        _print_verdict(evaluate(application), chosen)


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
