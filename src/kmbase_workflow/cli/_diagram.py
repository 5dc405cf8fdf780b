"""``kmbase diagram``: the lifecycle's state diagram (Mermaid or Graphviz DOT)."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from ._common import JsonOption, LangOption, emit, json_mode, language

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

    chosen = language(lang)
    render = diagrams.dot if output is DiagramFormat.DOT else diagrams.mermaid
    text = render(lang=chosen, articles=articles)
    if json_mode():
        emit({"format": output.value, "diagram": text})
        return
    typer.echo(text, nl=False)
