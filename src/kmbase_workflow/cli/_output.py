"""How a ``kmbase`` command reports: its result and its errors, in the language and the form
(text, or JSON) the command line asked for, and its exit code.

**JSON convention.** Every command takes ``--json`` (``--format json`` where it also has a
table: the same thing). With it, everything a script needs is one JSON document on stdout,
and stderr can be ignored: the result, or, on any error, refusal, usage error or Ctrl-C, an
error object (`error_object`)::

    {"error": {"code": "transition_refused", "type": "TransitionRefusedError",
               "exit_code": 1, "retryable": false,
               "message": {"zh": "…", "en": "…"}, "hint": {"zh": "…", "en": "…"},
               "failures": [{"guard": "…", "article": {…}, "message": {…}}]}}

Exit codes (one table for every command; docs/reference/cli.md repeats it):

====  ==========================================================
0     success; for ``check``: eligible
1     refused, or not eligible
2     bad input (message on stderr, nothing else)
3     working-day calendar data missing for a year
4     conflict: the case changed meanwhile
5     the database is unreachable, locked or busy: try again later
6     the store failed in a way a retry will not mend (a corrupt or read-only file …)
130   interrupted (Ctrl-C)
====  ==========================================================
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from .._i18n import Lang, Text
from ..errors import InvalidInputError, KmbaseError, TransitionRefusedError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text as RichText

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "InterruptedByUserError",
    "data_console",
    "emit",
    "error_object",
    "fail",
    "interrupted",
    "json_asked",
    "json_mode",
    "language",
    "run",
    "styled",
    "want_json",
]

T = TypeVar("T")

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_CALENDAR, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130


_JSON_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("kmbase_json", default=False)


def json_mode() -> bool:
    """Whether the running command was asked for JSON (``--json`` or ``--format json``)."""
    return _JSON_MODE.get()


def want_json(ctx: typer.Context) -> None:
    """``--json`` or ``--format json`` was given: JSON until the command ends."""
    token = _JSON_MODE.set(True)
    ctx.call_on_close(lambda: _JSON_MODE.reset(token))


@contextlib.contextmanager
def json_asked(wants: bool) -> Iterator[None]:
    """JSON (or not) while the root group runs a command, as its command line asked."""
    token = _JSON_MODE.set(wants)
    try:
        yield
    finally:
        _JSON_MODE.reset(token)


def emit(data: object) -> None:
    """Print ``data`` as one JSON document on stdout (dates and paths as strings)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _bilingual(text: Text | None) -> dict[str, str] | None:
    return None if text is None else {"zh": text.zh, "en": text.en}


def error_code(error: KmbaseError) -> str:
    """The stable name of an error's kind: its class without ``Error``, in snake case
    (``TransitionRefusedError`` → ``transition_refused``)."""
    name = type(error).__name__.removesuffix("Error")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def error_object(error: KmbaseError, exit_code: int | None = None) -> dict[str, Any]:
    """The JSON error object of the convention: code, type, exit code, retryable, message
    and hint in both languages, and the failed rules (``failures``) or the problems of a
    file (``problems``) where the error has them."""
    body: dict[str, Any] = {
        "code": error_code(error),
        "type": type(error).__name__,
        "exit_code": error.exit_code if exit_code is None else exit_code,
        "retryable": error.retryable,
        "message": _bilingual(error.message),
        "hint": _bilingual(error.hint),
    }
    if isinstance(error, TransitionRefusedError) and error.failures:
        body["failures"] = [
            {
                "guard": failure.guard,
                "article": _bilingual(failure.article),
                "message": _bilingual(failure.message),
            }
            for failure in error.failures
        ]
    problems: Sequence[Text] = getattr(error, "problems", ())
    if problems:
        body["problems"] = [_bilingual(problem) for problem in problems]
    return {"error": body}


class InterruptedByUserError(KmbaseError):
    """The user pressed Ctrl-C: the command stopped (exit 130)."""

    exit_code = EXIT_INTERRUPTED


def interrupted() -> InterruptedByUserError:
    """The error a command reports when interrupted."""
    return InterruptedByUserError(
        Text(zh="已中断（Ctrl-C）", en="interrupted (Ctrl-C)"),
        hint=Text(
            zh="每个操作要么全部写入要么未写入；用 kmbase show 查看后再重新执行（带 --key 可安全重试）",
            en="each step is written whole or not at all; check with kmbase show before running "
            "it again (with --key a re-run is safe)",
        ),
    )


def language(value: str) -> Lang:
    """The message language, or exit 2 for an unknown one."""
    if value in ("zh", "en"):
        return "zh" if value == "zh" else "en"
    fail(
        InvalidInputError(
            Text(zh=f"不支持的语言 {value}", en=f"unsupported language {value}"),
            hint=Text(zh="请用 --lang zh 或 --lang en", en="use --lang zh or --lang en"),
        ),
        "en",
    )


def data_console(*, stderr: bool = False, soft_wrap: bool = False) -> Console:
    """A console that prints data as it is: no rich markup (a base name ``[/b]`` is text, not
    a closing tag), no emoji codes (``:x:``), no highlighting. Every command prints data
    through one; styles are given as `styled` text, never as markup in a string."""
    from rich.console import Console  # noqa: PLC0415 - imported when the command runs

    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=soft_wrap)


def styled(text: str, style: str) -> RichText:
    """``text`` in ``style`` (a colour), without reading ``text`` as markup."""
    from rich.text import Text as RichText  # noqa: PLC0415 - imported when the command runs

    return RichText(text, style=style)


def fail(error: KmbaseError, lang: Lang, *, exit_code: int | None = None) -> NoReturn:
    """Report an error and exit with its documented code: in JSON mode its error object on
    stdout, otherwise its message on stderr (nothing on stdout)."""
    code = exit_code if exit_code is not None else error.exit_code
    if json_mode():
        # one line: a streaming command's error is one more JSON line
        typer.echo(json.dumps(error_object(error, code), ensure_ascii=False))
    else:
        data_console(stderr=True, soft_wrap=True).print(error.describe(lang))
    raise typer.Exit(code)


def run(lang: Lang, action: Callable[[], T]) -> T:
    """Run ``action``; a library error becomes its message on stderr and its exit code."""
    try:
        return action()
    except KmbaseError as error:
        fail(error, lang)
