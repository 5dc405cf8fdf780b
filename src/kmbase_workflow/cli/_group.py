"""The root group of ``kmbase``: it reports what reached it (a library error, a usage error,
Ctrl-C) as the command line asked, and lists every command under its whole summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer
import typer.core

from .._i18n import Lang
from ..errors import KmbaseError
from ._output import EXIT_BAD_INPUT, fail, interrupted, json_asked

__all__ = ["KmbaseGroup", "command_group", "summary"]


def _scan(args: Sequence[str]) -> tuple[bool, Lang]:
    """Whether the command line asks for JSON, and its --lang, read before parsing (so that
    an error in parsing itself is reported as the user asked)."""
    wants, lang = False, "zh"
    words = list(args)
    if "--" in words:
        words = words[: words.index("--")]
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in {"--json", "--format=json"} or (word, following) == ("--format", "json"):
            wants = True
        if word == "--lang" and following in ("zh", "en"):
            lang = following
        elif word in ("--lang=zh", "--lang=en"):
            lang = word.removeprefix("--lang=")
    return wants, "en" if lang == "en" else "zh"


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """The exception classes of command-line usage errors: typer's own (it vendors click
    from 0.20 on) and click's (older typer)."""
    kinds: list[type[BaseException]] = [typer.TyperException]
    try:
        import click  # noqa: PLC0415 - only with an older typer

        kinds.append(click.ClickException)
    except ImportError:  # pragma: no cover - typer no longer needs click
        pass
    return tuple(kinds)


def command_group(name: str, help: str) -> typer.Typer:
    """A group of commands under ``kmbase`` (``kmbase round …``), made alike: its help as
    written (no rich markup), shown when it is called without a command."""
    return typer.Typer(
        name=name, help=help, no_args_is_help=True, rich_markup_mode=None, add_completion=False
    )


def summary(help_text: str | None) -> str:
    """A command's summary: the first line of its help, whole."""
    return (help_text or "").strip().split("\n", 1)[0].strip()


def _plain_arguments(command: Any) -> None:
    # typer 0.2x shows an argument as "FILE <Path>" and "{FILE}"; every placeholder of
    # kmbase is its metavar alone (FILE, DATE, CASE_ID), in help and usage, as click does.
    for param in getattr(command, "params", ()):
        kind = type(param)
        if getattr(param, "param_type_name", "") != "argument" or kind.__name__.startswith("_"):
            continue
        if not hasattr(kind, "display_type_rich") or not hasattr(kind, "_usage_display_name"):
            continue  # an older typer prints arguments as click does

        class _PlainArgument(kind):  # type: ignore[valid-type,misc]
            def display_type_rich(self, ctx: Any) -> str | None:
                return None

            def _usage_display_name(self) -> str:
                name = str(self.metavar or self.name.upper())
                suffix = "..." if self.nargs != 1 and not name.endswith("...") else ""
                return name + suffix if self.required else f"[{name}{suffix}]"

        param.__class__ = _PlainArgument


def _tidy(command: Any) -> None:
    # click cuts a summary at 45 columns or at the first ". " ("(Art." of "(Art. 9)"); the
    # first line of each help is written to be the summary, so it is shown whole.
    _plain_arguments(command)
    for sub in getattr(command, "commands", {}).values():
        if not sub.short_help and sub.help:
            sub.short_help = summary(sub.help)
        _tidy(sub)


class KmbaseGroup(typer.core.TyperGroup):
    """The root group of ``kmbase``: it reports, for every command (those written later
    too), a library error that reached it, a usage error and Ctrl-C in the way the command
    line asked: an error object on stdout with ``--json``, a message on stderr otherwise;
    and it lists every command under its whole summary (the first line of its help)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy(self)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        # the words after the group's own options (click keeps the first one "protected")
        protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
        wants, lang = _scan([*protected, *ctx.args])
        with json_asked(wants):
            return self._invoke_as_asked(ctx, wants, lang)

    def _invoke_as_asked(self, ctx: typer.Context, wants: bool, lang: Lang) -> Any:
        try:
            return super().invoke(ctx)
        except KmbaseError as error:
            fail(error, lang)
        except KeyboardInterrupt:
            fail(interrupted(), lang)
        except _usage_error_types() as usage_error:
            if not wants:
                raise
            formatter = getattr(usage_error, "format_message", None)
            message = formatter() if callable(formatter) else str(usage_error)
            code = int(getattr(usage_error, "exit_code", EXIT_BAD_INPUT))
            usage = {
                "code": "usage",
                "type": type(usage_error).__name__,
                "exit_code": code,
                "retryable": False,
                "message": {"zh": f"命令行用法错误：{message}", "en": message},
                "hint": {"zh": "用 --help 查看用法", "en": "see --help for the usage"},
            }
            typer.echo(json.dumps({"error": usage}, ensure_ascii=False))
            raise typer.Exit(code) from None
