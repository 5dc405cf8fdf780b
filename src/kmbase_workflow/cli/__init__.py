"""The ``kmbase`` command line: a thin face over the library (exit codes in ``cli._output``
and docs/reference/cli.md).

One module per command or group: ``_check`` (``kmbase check``), ``_db`` (``db``), ``_rounds``
(``round``), ``_cases`` (``declare``, ``fire``, ``show``, ``history``, ``sweep``, ``follow``),
``_queues`` (``inbox``, ``dashboard``, ``as-of``, ``db rebuild-work-queue``), ``_bulk``,
``_calendar`` (``calendar``, ``deadline``), ``_export`` (``export``, ``import``), ``_audit``,
``_relay``, ``_serve`` (``serve``, ``token``), ``_worker``, ``_demo`` and ``_diagram``. What they share: ``_options`` (the options
and how their values are read), ``_command`` (`Command`, the one helper a command body starts
with: language, the store, output, exit code), ``_output`` (the JSON convention, errors and exit
codes) and ``_group`` (the root group). A command registers here with one line and takes its
options from ``_options``; tests/test_cli_json.py walks this app and holds every command to
the convention.

Start-up: a command module imports the library's modules inside the command that needs them,
so ``kmbase --version`` or ``kmbase check`` loads no store, workflow nor calendar (issue 23;
tests/test_cli_startup.py names what must stay out, benchmarks/bench_startup.py measures it).
"""

from __future__ import annotations

import copy
import sys
from typing import Annotated

import typer

from ..errors import KmbaseError
from ._audit import audit_app
from ._bulk import bulk
from ._calendar import calendar_app, deadline_app
from ._cases import declare, fire, follow, history, show, sweep
from ._check import check
from ._db import db_app
from ._demo import DEMO_DATABASE, demo, print_demo
from ._diagram import DiagramFormat, diagram
from ._export import export_app, import_app
from ._group import KmbaseGroup
from ._output import fail
from ._queues import (
    as_of_command,
    dashboard_command,
    inbox,
    rebuild_command,
    round_as_of_command,
)
from ._relay import relay
from ._rounds import round_app
from ._serve import serve, token_app
from ._worker import worker_app

__all__ = [
    "DEMO_DATABASE",
    "DiagramFormat",
    "app",
    "check",
    "declare",
    "demo",
    "diagram",
    "main",
    "print_demo",
]

app = typer.Typer(
    name="kmbase",
    help="昆明市小微企业创业创新示范基地认定 / Kunming demonstration base certification.",
    no_args_is_help=True,
    cls=KmbaseGroup,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__  # noqa: PLC0415 - read on first use

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
app.command("check")(check)
app.command("demo")(demo)
app.command("diagram")(diagram)


def _app_for(args: list[str]) -> typer.Typer:
    """``app`` with only the command or group that ``args`` name first, or the whole ``app``.

    typer builds every command's parameters before it runs one (about a fifth of the CPU of
    ``kmbase check``, issue 23); what the other commands would change (help, an unknown
    name, options before the command) needs the whole app."""
    name = args[0] if args else ""
    commands = [info for info in app.registered_commands if info.name == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if len(commands) + len(groups) != 1:
        return app
    named = copy.copy(app)
    named.registered_commands, named.registered_groups = commands, groups
    return named


def main() -> None:
    """Entry point of the ``kmbase`` script."""
    try:
        _app_for(sys.argv[1:])()
    except KmbaseError as error:  # pragma: no cover - commands catch what they expect
        fail(error, "zh")
    sys.exit(0)
