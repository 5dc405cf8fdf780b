"""``kmbase calendar ...`` and ``kmbase deadline ...``: working days and deadlines on the
command line. Dates are ISO (``2025-09-26``). Exit codes: 0 done, 2 bad input or conflicting
notice data, 3 a date in a year without an official holiday notice (unless
``--allow-provisional``, which marks the answer ``(provisional)``).
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ._cli_common import language, parse_date, run
from .calendar import WorkingDayCalendar
from .deadlines import Deadline, change_filing_deadline, notice_deadline
from .policy._model import Periods

__all__ = ["calendar_app", "deadline_app"]

calendar_app = typer.Typer(
    name="calendar",
    help="中国工作日历（含调休） / China's working-day calendar (with make-up working days).",
    no_args_is_help=True,
    add_completion=False,
)
deadline_app = typer.Typer(
    name="deadline",
    help="《办法》规定的期限 / The deadlines of the measures.",
    no_args_is_help=True,
    add_completion=False,
)

LangOption = Annotated[str, typer.Option("--lang", help="消息语言 zh|en / message language zh|en.")]
ProvisionalOption = Annotated[
    bool,
    typer.Option(
        "--allow-provisional",
        help="无官方通知的年份给出临时结果 / answer for years without an official notice, "
        "marked (provisional).",
    ),
]
NoticeOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--notice",
        help="先载入某年的节假日通知（TOML/JSON，可重复） / load a year's holiday notice first "
        "(TOML/JSON, repeatable).",
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help="政策文件（默认按日期选取） / policy file (default: by date)."),
]

T = TypeVar("T")


def _run(lang: str, action: Callable[[], T]) -> T:
    return run(language(lang), action)


def _date(value: str, what: str) -> dt.date:
    return parse_date(value, what)


def _calendar(notices: list[Path] | None) -> WorkingDayCalendar:
    return WorkingDayCalendar(notices=notices or ())


def _mark(text: str, provisional: bool) -> str:
    return text + (" (provisional)" if provisional else "")


@calendar_app.command("is-working-day")
def is_working_day(
    date: Annotated[str, typer.Argument(help="日期 / date (YYYY-MM-DD)")],
    allow_provisional: ProvisionalOption = False,
    notice: NoticeOption = None,
    lang: LangOption = "zh",
) -> None:
    """是否工作日：打印 true/false / Whether DATE is a working day: prints true or false."""

    def action() -> str:
        day = _date(date, "DATE")
        cal = _calendar(notice)
        working = cal.is_working_day(day, allow_provisional=allow_provisional)
        return _mark("true" if working else "false", not cal.is_official_span(day, day))

    typer.echo(_run(lang, action))


@calendar_app.command("add")
def add(
    date: Annotated[str, typer.Argument(help="日期 / date (YYYY-MM-DD)")],
    n: Annotated[
        int,
        typer.Argument(help="工作日数；负数前加 -- / working days; put -- before a negative N"),
    ],
    allow_provisional: ProvisionalOption = False,
    notice: NoticeOption = None,
    lang: LangOption = "zh",
) -> None:
    """DATE 之后第 N 个工作日（DATE 不计） / The N-th working day after DATE (DATE not counted)."""

    def action() -> str:
        day = _date(date, "DATE")
        cal = _calendar(notice)
        result = cal.add_working_days(day, n, allow_provisional=allow_provisional)
        return _mark(result.isoformat(), not cal.is_official_span(day, result))

    typer.echo(_run(lang, action))


@calendar_app.command("count")
def count(
    start: Annotated[str, typer.Argument(help="起日（不计） / start (not counted)")],
    end: Annotated[str, typer.Argument(help="止日（计入） / end (counted)")],
    allow_provisional: ProvisionalOption = False,
    notice: NoticeOption = None,
    lang: LangOption = "zh",
) -> None:
    """(START, END] 内的工作日数 / Working days in (START, END]."""

    def action() -> str:
        first, last = _date(start, "START"), _date(end, "END")
        cal = _calendar(notice)
        total = cal.count_working_days(first, last, allow_provisional=allow_provisional)
        return _mark(str(total), not cal.is_official_span(first, last))

    typer.echo(_run(lang, action))


def _periods(policy: Path | None, on: dt.date) -> Periods:
    # Imported here so the calendar commands work without loading a policy.
    from .policy import load_policy  # noqa: PLC0415

    return load_policy(on, path=policy).periods


@deadline_app.command("notice")
def notice_end(
    start: Annotated[str, typer.Argument(help="公示发布日 / day the notice is published")],
    *,
    allow_provisional: ProvisionalOption = False,
    notice: NoticeOption = None,
    policy: PolicyOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="说明计算过程 / explain the count")
    ] = False,
    lang: LangOption = "zh",
) -> None:
    """公示期最后一天（第十三条） / Last day of the public notice (Art. 13)."""
    _print_deadline(
        notice_deadline, start, "START", allow_provisional, notice, policy, explain, lang
    )


@deadline_app.command("change-filing")
def change_filing(
    date: Annotated[str, typer.Argument(help="变更完成日 / day the change was completed")],
    *,
    allow_provisional: ProvisionalOption = False,
    notice: NoticeOption = None,
    policy: PolicyOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="说明计算过程 / explain the count")
    ] = False,
    lang: LangOption = "zh",
) -> None:
    """重大变更备案的最后一天（第十九条） / Last day to file a major change (Art. 19)."""
    _print_deadline(
        change_filing_deadline, date, "DATE", allow_provisional, notice, policy, explain, lang
    )


def _print_deadline(
    compute: Callable[..., Deadline],
    value: str,
    what: str,
    allow_provisional: bool,
    notice: list[Path] | None,
    policy: Path | None,
    explain: bool,
    lang: str,
) -> None:
    """Print a deadline's due date (marked provisional if so) and, asked, its reasons."""

    def action() -> Deadline:
        day = _date(value, what)
        return compute(
            day,
            _periods(policy, day),
            calendar=_calendar(notice),
            allow_provisional=allow_provisional,
        )

    deadline = _run(lang, action)
    typer.echo(deadline.label())
    if explain:
        chosen = language(lang)
        typer.echo(f"{deadline.article.in_(chosen)}: {deadline.explanation.in_(chosen)}")
