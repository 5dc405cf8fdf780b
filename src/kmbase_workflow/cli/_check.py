"""``kmbase check``: judge an application file against the policy in force (exit 0 eligible,
1 not eligible, 2 invalid input)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import KmbaseError
from ._command import Command
from ._options import FormatOption, JsonOption, LangOption, OutputFormat, PolicyOption
from ._output import data_console, styled

if TYPE_CHECKING:
    from rich.text import Text as RichText

    from .._i18n import Lang
    from ..eligibility import Finding, Verdict

__all__ = ["check"]


_STATUS_STYLE = {"pass": "green", "fail": "red", "not_assessable": "yellow"}


def _finding_rows(finding: Finding, lang: Lang, depth: int = 0) -> list[tuple[str | RichText, ...]]:
    indent = "  " * depth
    status = finding.status
    rows: list[tuple[str | RichText, ...]] = [
        (
            styled(status.label.in_(lang), _STATUS_STYLE[status.value]),
            indent + finding.article.in_(lang),
            indent + finding.message.in_(lang),
        )
    ]
    if depth == 0:
        for detail in finding.details:
            rows.extend(_finding_rows(detail, lang, depth + 1))
    return rows


def _print_verdict(verdict: Verdict, lang: Lang) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

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
    from ..eligibility import evaluate  # noqa: PLC0415 - imported when the command runs
    from ..policy import load_policy  # noqa: PLC0415
    from ..serialization import load_application  # noqa: PLC0415

    command = Command(lang)
    try:
        application = load_application(file)
        policy = load_policy(application.declared_on, path=policy_file)
        verdict = evaluate(application, policy)
    except KmbaseError as error:  # any error here is the file's or the policy's: bad input
        command.fail(error, exit_code=2)
    command.finish(
        verdict.to_dict(command.lang),
        lambda: _print_verdict(verdict, command.lang),
        exit_code=0 if verdict.eligible else 1,
    )
