"""``kmbase diagram``: the lifecycle's state diagram (Mermaid or Graphviz DOT)."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from ._command import Command
from ._options import JsonOption, LangOption

__all__ = ["DiagramFormat", "diagram"]


class DiagramFormat(enum.StrEnum):
    """Diagram formats."""

    MERMAID = "mermaid"
    DOT = "dot"


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
    from .. import diagrams  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    render = diagrams.dot if output is DiagramFormat.DOT else diagrams.mermaid
    text = render(lang=command.lang, articles=articles)
    command.finish({"format": output.value, "diagram": text}, lambda: typer.echo(text, nl=False))
