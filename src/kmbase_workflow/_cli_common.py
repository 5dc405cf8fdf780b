"""What every ``kmbase`` command shares: options, language, errors and exit codes, the store.

Exit codes (one table for every command; docs/reference/cli.md repeats it):

====  ==========================================================
0     success; for ``check``: eligible
1     refused, or not eligible
2     bad input (message on stderr, nothing else)
3     working-day calendar data missing for a year
4     conflict: the case changed meanwhile
5     the database is unreachable, locked or busy: try again later
6     the store failed in a way a retry will not mend (a corrupt or read-only file …)
====  ==========================================================
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text as RichText

from ._i18n import Lang, Text
from .actors import Actor, Role
from .errors import InvalidInputError, KmbaseError

__all__ = [
    "DB_HELP",
    "ActorDistrictOption",
    "ActorNameOption",
    "ActorRoleOption",
    "DbOption",
    "LangOption",
    "OutputFormat",
    "data_console",
    "enum_option",
    "fail",
    "language",
    "make_actor",
    "output_file",
    "parse_date",
    "run",
    "styled",
]

T = TypeVar("T")

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_CALENDAR, EXIT_CONFLICT = 0, 1, 2, 3, 4


class OutputFormat(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


LangOption = Annotated[
    str, typer.Option("--lang", help="消息语言 zh|en / message language zh|en.", metavar="zh|en")
]

DB_HELP = (
    "存储地址（默认 $KMBASE_DB，否则 sqlite:///kmbase.db） / store URL (default: $KMBASE_DB, "
    "else sqlite:///kmbase.db): sqlite:///path.db, postgresql://..., memory://"
)
DbOption = Annotated[str | None, typer.Option("--db", help=DB_HELP, envvar="KMBASE_DB")]


def existing_database(db: str | None) -> str | None:
    """``db`` when it names a database that exists; an SQLite file that does not exist is bad
    input (exit 2), so a mistyped path never creates an empty database behind a read.
    Only ``kmbase db init``, ``round open`` and ``declare`` create one."""
    from .stores import DEFAULT_URL, URL_ENVIRONMENT_VARIABLE  # noqa: PLC0415 - CLI start-up

    url = db or os.environ.get(URL_ENVIRONMENT_VARIABLE) or DEFAULT_URL
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        path = Path(url.removeprefix("sqlite://").removeprefix("/"))
        if not path.is_file():
            raise InvalidInputError(
                Text(zh=f"数据库文件不存在：{path}", en=f"no database file at {path}"),
                hint=Text(
                    zh="检查 --db 的路径，或先用 kmbase db init 创建",
                    en="check the --db path, or create it with kmbase db init",
                ),
            )
    return db


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
    """Print an error on stderr (nothing on stdout) and exit with its documented code."""
    data_console(stderr=True, soft_wrap=True).print(error.describe(lang))
    raise typer.Exit(exit_code if exit_code is not None else error.exit_code)


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


ActorRoleOption = Annotated[
    str,
    typer.Option(
        "--actor-role",
        help="执行者角色 / the actor's role: city_bureau, district_authority, operator, "
        "expert, public, system.",
    ),
]
ActorIdOption = Annotated[
    str,
    typer.Option(
        "--actor-id",
        help="执行者身份标识（运营主体为统一社会信用代码，工作人员为其用户编号） / who acts: an "
        "operator's unified social credit code, an official's or expert's user id.",
    ),
]
ActorNameOption = Annotated[
    str, typer.Option("--actor-name", help="执行者显示名称（可选） / a display name (optional).")
]
ActorDistrictOption = Annotated[
    str | None,
    typer.Option(
        "--actor-district", help="县区主管部门所属县区 / a district authority's district."
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
