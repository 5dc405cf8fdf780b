"""What every ``kmbase`` command shares: options, language, errors and exit codes, the store.

Exit codes (one table for every command; docs/cli.md repeats it):

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
from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

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
    "enum_option",
    "fail",
    "language",
    "make_actor",
    "parse_date",
    "run",
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


def fail(error: KmbaseError, lang: Lang, *, exit_code: int | None = None) -> NoReturn:
    """Print an error on stderr (nothing on stdout) and exit with its documented code."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(error.describe(lang), markup=False)
    raise typer.Exit(exit_code if exit_code is not None else error.exit_code)


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
ActorNameOption = Annotated[
    str, typer.Option("--actor-name", help="执行者名称 / the actor's name.")
]
ActorDistrictOption = Annotated[
    str | None,
    typer.Option(
        "--actor-district", help="县区主管部门所属县区 / a district authority's district."
    ),
]


def make_actor(role: str, name: str, district: str | None) -> Actor:
    """The actor named by ``--actor-role``, ``--actor-name`` and ``--actor-district``."""
    if not name.strip():
        raise InvalidInputError(
            Text(zh="缺少 --actor-name", en="--actor-name is missing"),
            hint=Text(zh="请写明执行者名称", en="name who acts"),
        )
    return Actor(enum_option(Role, role, "--actor-role"), name, district=district)
