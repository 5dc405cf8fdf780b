"""What every ``kmbase`` command shares: options, language, errors and exit codes, and the JSON
convention (a command body uses them through `cli._command.Command`).

A command module written later (``serve``, ``worker`` …) takes its options from here
(`LangOption`, `JsonOption`, `DbOption`, `TodayOption`, `HolidaysOption`, …), reports a library
error with `fail` (or lets it propagate: the root group reports it) and prints data with
`emit`. Registered on the app with one line, it is then covered by the tests that walk
the command tree (tests/test_cli_json.py).

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

import contextvars
import datetime as dt
import enum
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import typer.core
from rich.console import Console
from rich.text import Text as RichText

from .._i18n import Lang, Text
from ..actors import Actor, Role
from ..errors import InvalidInputError, KmbaseError, TransitionRefusedError

__all__ = [
    "DB_HELP",
    "EXIT_INTERRUPTED",
    "ActorDistrictOption",
    "ActorNameOption",
    "ActorRoleOption",
    "DbOption",
    "FormatOption",
    "HolidaysOption",
    "InterruptedByUserError",
    "JsonOption",
    "KmbaseGroup",
    "LangOption",
    "NoticeAliasOption",
    "OutputFormat",
    "PayloadOption",
    "PolicyOption",
    "ProvisionalOption",
    "ReasonOption",
    "TodayOption",
    "complete_trigger",
    "data_console",
    "emit",
    "enum_option",
    "error_object",
    "fail",
    "holiday_files",
    "json_mode",
    "language",
    "make_actor",
    "output_file",
    "parse_date",
    "run",
    "styled",
    "summary",
]

T = TypeVar("T")

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_CALENDAR, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130


class OutputFormat(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


# -- the JSON convention -------------------------------------------------------------------------

_JSON_MODE: contextvars.ContextVar[bool] = contextvars.ContextVar("kmbase_json", default=False)


def json_mode() -> bool:
    """Whether the running command was asked for JSON (``--json`` or ``--format json``)."""
    return _JSON_MODE.get()


def _want_json(ctx: typer.Context) -> None:
    token = _JSON_MODE.set(True)
    ctx.call_on_close(lambda: _JSON_MODE.reset(token))


def _json_callback(ctx: typer.Context, value: bool) -> bool:
    if value:
        _want_json(ctx)
    return value


def _format_callback(ctx: typer.Context, value: OutputFormat) -> OutputFormat:
    if value is OutputFormat.JSON:
        _want_json(ctx)
    return value


JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="结果或错误均以 JSON 输出到标准输出 / print the result, or the error, as JSON on "
        "stdout.",
        callback=_json_callback,
        is_eager=True,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="输出格式（json 同 --json） / output format (json: the same as --json).",
        metavar="table|json",
        callback=_format_callback,
        is_eager=True,
    ),
]


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
        token = _JSON_MODE.set(wants)
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
        finally:
            _JSON_MODE.reset(token)


# -- options every command shares ----------------------------------------------------------------


def _complete_lang() -> list[str]:
    return ["zh", "en"]


LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        help="消息语言 zh|en / message language zh|en.",
        metavar="zh|en",
        autocompletion=_complete_lang,
    ),
]

DB_HELP = (
    "存储地址（默认 $KMBASE_DB，否则 sqlite:///kmbase.db） / store URL (default: $KMBASE_DB, "
    "else sqlite:///kmbase.db): sqlite:///path.db, postgresql://..., memory://"
)
DbOption = Annotated[
    str | None, typer.Option("--db", help=DB_HELP, envvar="KMBASE_DB", metavar="URL")
]
TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        help="以此日期为今天（补录；默认今天） / act as of DATE (back-dating; default: today).",
        metavar="DATE",
    ),
]
ProvisionalOption = Annotated[
    bool,
    typer.Option(
        "--allow-provisional",
        help="无官方节假日数据的年份给出临时结果 / answer in years without official holiday "
        "data, marked (provisional).",
    ),
]
HolidaysOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--holidays",
        help="先载入某年的节假日安排（本库 TOML/JSON 或 holiday-cn JSON，可重复） / load a "
        "year's holiday arrangements first (TOML/JSON, or holiday-cn JSON; repeatable).",
        metavar="FILE",
    ),
]
NoticeAliasOption = Annotated[
    list[Path] | None,
    typer.Option("--notice", hidden=True, help="已弃用：同 --holidays / deprecated: --holidays."),
]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="理由 / the reason, for the record.", metavar="TEXT")
]
PayloadOption = Annotated[
    str | None,
    typer.Option(
        "--payload",
        help="操作所需数据（JSON，见 docs/how-to/bulk.md） / the trigger's payload as JSON.",
        metavar="JSON",
    ),
]


def complete_trigger(incomplete: str) -> list[str]:
    """Shell completion of a trigger's name."""
    from ..lifecycle import Trigger  # noqa: PLC0415 - CLI start-up

    return [str(t.value) for t in Trigger if str(t.value).startswith(incomplete)]


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="政策文件（默认按日期选取） / your own policy file (default: by date).",
        metavar="FILE",
    ),
]


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
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=soft_wrap)


def styled(text: str, style: str) -> RichText:
    """``text`` in ``style`` (a colour), without reading ``text`` as markup."""
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


def output_file(path: Path, option: str) -> Path:
    """``path`` if a file can be written there, checked before any work starts (so that a
    report is not lost after a commit); ``InvalidInputError`` naming ``option`` otherwise."""

    def refuse(zh: str, en: str) -> NoReturn:
        raise InvalidInputError(
            Text(zh=f"{option} {path}：{zh}", en=f"{option} {path}: {en}"),
            hint=Text(
                zh="请指定一个可写目录中的文件", en="name a file in a folder you can write to"
            ),
        )

    if path.is_dir():
        refuse("是一个目录，不是文件", "is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        refuse(f"目录 {folder} 不存在", f"the folder {folder} does not exist")
    if not os.access(path if path.exists() else folder, os.W_OK):
        refuse("没有写入权限", "is not writable")
    return path


def run(lang: Lang, action: Callable[[], T]) -> T:
    """Run ``action``; a library error becomes its message on stderr and its exit code."""
    try:
        return action()
    except KmbaseError as error:
        fail(error, lang)


def parse_date(value: str, what: str) -> dt.date:
    """An ISO date from the command line (``InvalidInputError`` naming ``what`` otherwise)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            Text(zh=f"{what} 不是有效日期：{value!r}", en=f"{what} is not a valid date: {value!r}"),
            hint=Text(
                zh="请用 YYYY-MM-DD 格式，如 2025-09-26", en="use YYYY-MM-DD, e.g. 2025-09-26"
            ),
        ) from None


E = TypeVar("E", bound=enum.Enum)


def enum_option(kind: type[E], value: str, option: str) -> E:
    """An enum member named on the command line, or ``InvalidInputError`` listing the choices."""
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(member.value) for member in kind)
        raise InvalidInputError(
            Text(zh=f"{option} 的取值无效：{value}", en=f"invalid {option}: {value}"),
            hint=Text(zh=f"可用：{names}", en=f"use one of: {names}"),
        ) from None


def _complete_role(incomplete: str) -> list[str]:
    return [str(r.value) for r in Role if str(r.value).startswith(incomplete)]


ActorRoleOption = Annotated[
    str,
    typer.Option(
        "--actor-role",
        help="执行者角色 / the actor's role: city_bureau, district_authority, operator, "
        "expert, public, system.",
        metavar="ROLE",
        autocompletion=_complete_role,
    ),
]
ActorIdOption = Annotated[
    str,
    typer.Option(
        "--actor-id",
        help="执行者身份标识（运营主体为统一社会信用代码，工作人员为其用户编号） / who acts: an "
        "operator's unified social credit code, an official's or expert's user id.",
        metavar="ID",
    ),
]
ActorNameOption = Annotated[
    str,
    typer.Option(
        "--actor-name", help="执行者显示名称（可选） / a display name (optional).", metavar="NAME"
    ),
]
ActorDistrictOption = Annotated[
    str | None,
    typer.Option(
        "--actor-district",
        help="县区主管部门所属县区 / a district authority's district.",
        metavar="DISTRICT",
    ),
]


def make_actor(role: str, actor_id: str, district: str | None, name: str = "") -> Actor:
    """The actor of ``--actor-role``, ``--actor-id``, ``--actor-district`` and
    ``--actor-name``, recorded as coming from the command line (``via="cli"``).

    The command line authenticates no one: whoever runs it may claim any role, so it is a
    tool for the office that owns the database, and every step records that it came from it.
    """
    if not actor_id.strip():
        raise InvalidInputError(
            Text(zh="缺少 --actor-id", en="--actor-id is missing"),
            hint=Text(zh="请写明谁在办理", en="say who acts"),
        )
    return Actor(
        enum_option(Role, role, "--actor-role"), actor_id, district=district, name=name, via="cli"
    )


def holiday_files(holidays: list[Path] | None, notice: list[Path] | None = None) -> list[Path]:
    """The files of ``--holidays`` and of its deprecated alias ``--notice``."""
    return [*(holidays or ()), *(notice or ())]
