"""The ``kmbase`` command line: a thin face over the library."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kmbase",
    help="昆明市小微企业创业创新示范基地认定工作流 / Kunming demonstration base certification workflow.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """昆明市小微企业创业创新示范基地认定工作流 / Kunming demonstration base certification workflow."""


def main() -> None:
    """Entry point of the ``kmbase`` script."""
    app()
