"""The options every ``kmbase`` command shares (``--lang``, ``--json``, ``--db``, ``--today``,
``--holidays``, the actor's …) and how their values are read: a value that is not one is
`InvalidInputError` (exit 2) naming the option.

A command module written later (``serve``, ``worker`` …) takes its options from here;
registered on the app with one line, it is then covered by the tests that walk the command
tree (tests/test_cli_json.py: every command takes ``--json`` and ``--lang``)."""

from __future__ import annotations

import datetime as dt
import enum
import os
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from .._i18n import Text
from ..actors import Actor, Role
from ..errors import InvalidInputError
from ._output import want_json

__all__ = [
    "DB_HELP",
    "ActorDistrictOption",
    "ActorIdOption",
    "ActorNameOption",
    "ActorRoleOption",
    "CaseIdArgument",
    "DbOption",
    "FormatOption",
    "HolidaysOption",
    "JsonOption",
    "KeyOption",
    "LangOption",
    "NoticeAliasOption",
    "OutputFormat",
    "PayloadOption",
    "PolicyOption",
    "ProvisionalOption",
    "ReasonOption",
    "TodayOption",
    "complete_trigger",
    "enum_option",
    "holiday_files",
    "make_actor",
    "output_file",
    "parse_date",
]


class OutputFormat(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


def _json_callback(ctx: typer.Context, value: bool) -> bool:
    if value:
        want_json(ctx)
    return value


def _format_callback(ctx: typer.Context, value: OutputFormat) -> OutputFormat:
    if value is OutputFormat.JSON:
        want_json(ctx)
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


CaseIdArgument = Annotated[str, typer.Argument(help="案件编号 / case id.", metavar="CASE_ID")]


KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="幂等键 / idempotency key (safe re-runs).", metavar="KEY"),
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
