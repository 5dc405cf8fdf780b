"""``kmbase calendar ...`` and ``kmbase deadline ...``: working days and deadlines on the
command line. Dates are ISO (``2025-09-26``). Exit codes: 0 done, 2 bad input or conflicting
holiday data, 3 a date in a year without official holiday data (unless
``--allow-provisional``, which marks the answer ``(provisional)``).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import attrs
import typer

from ._command import Command
from ._group import command_group
from ._options import (
    HolidaysOption,
    JsonOption,
    LangOption,
    NoticeAliasOption,
    PolicyOption,
    ProvisionalOption,
    holiday_files,
    parse_date,
)

if TYPE_CHECKING:
    from ..calendar import WorkingDayCalendar
    from ..deadlines import Deadline
    from ..policy._model import Periods

__all__ = ["calendar_app", "deadline_app"]

calendar_app = command_group(
    "calendar", "中国工作日历（含调休） / China's working-day calendar (with make-up working days)."
)
deadline_app = command_group("deadline", "《办法》规定的期限 / The deadlines of the measures.")

DateArgument = Annotated[str, typer.Argument(help="日期 / date (YYYY-MM-DD).", metavar="DATE")]
ExplainOption = Annotated[bool, typer.Option("--explain", help="说明计算过程 / explain the count.")]

T = TypeVar("T")


def __getattr__(name: str) -> Any:
    # The calendar (numpy, the holiday data) is imported when a command first needs one, as
    # an attribute of this module, so that a test can stand in for it.
    if name == "WorkingDayCalendar":
        from ..calendar import WorkingDayCalendar  # noqa: PLC0415 - see above

        globals()[name] = WorkingDayCalendar
        return WorkingDayCalendar
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _calendar(files: list[Path]) -> WorkingDayCalendar:
    """The working-day calendar with the holiday files of ``--holidays`` loaded."""
    kind: type[WorkingDayCalendar] = getattr(sys.modules[__name__], "WorkingDayCalendar")  # noqa: B009
    return kind(notices=files)


def _answer(command: Command, text: str, provisional: bool, data: dict[str, Any]) -> None:
    """Print the answer: plain (marked ``(provisional)`` if so) or, with ``--json``, as data."""
    command.finish(
        {**data, "provisional": provisional}, text + (" (provisional)" if provisional else "")
    )


@calendar_app.command("is-working-day")
def is_working_day(
    date: DateArgument,
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """是否工作日：打印 true/false / Whether DATE is a working day: prints true or false.

    ``--json``: ``date``, ``working_day``, ``provisional``.
    """

    def action() -> tuple[dt.date, bool, bool]:
        day = parse_date(date, "DATE")
        cal = _calendar(holiday_files(holidays, notice))
        working = cal.is_working_day(day, allow_provisional=allow_provisional)
        return day, working, not cal.is_official_span(day, day)

    command = Command(lang)
    day, working, provisional = command.run(action)
    _answer(
        command, "true" if working else "false", provisional, {"date": day, "working_day": working}
    )


@calendar_app.command("add")
def add(
    date: DateArgument,
    n: Annotated[
        int,
        typer.Argument(
            help="工作日数；负数前加 -- / working days; put -- before a negative N.", metavar="N"
        ),
    ],
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """DATE 之后第 N 个工作日（DATE 不计） / The N-th working day after DATE (DATE not counted).

    ``--json``: ``date``, ``n``, ``result``, ``provisional``.
    """

    def action() -> tuple[dt.date, dt.date, bool]:
        day = parse_date(date, "DATE")
        cal = _calendar(holiday_files(holidays, notice))
        result = cal.add_working_days(day, n, allow_provisional=allow_provisional)
        return day, result, not cal.is_official_span(day, result)

    command = Command(lang)
    day, result, provisional = command.run(action)
    _answer(command, result.isoformat(), provisional, {"date": day, "n": n, "result": result})


@calendar_app.command("count")
def count(
    start: Annotated[
        str, typer.Argument(help="起日（不计） / start (not counted).", metavar="START")
    ],
    end: Annotated[str, typer.Argument(help="止日（计入） / end (counted).", metavar="END")],
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """(START, END] 内的工作日数 / Working days in (START, END].

    ``--json``: ``start``, ``end``, ``working_days``, ``provisional``.
    """

    def action() -> tuple[dt.date, dt.date, int, bool]:
        first, last = parse_date(start, "START"), parse_date(end, "END")
        cal = _calendar(holiday_files(holidays, notice))
        total = cal.count_working_days(first, last, allow_provisional=allow_provisional)
        return first, last, total, not cal.is_official_span(first, last)

    command = Command(lang)
    first, last, total, provisional = command.run(action)
    _answer(command, str(total), provisional, {"start": first, "end": last, "working_days": total})


def _periods(policy: Path | None, on: dt.date) -> Periods:
    # Imported here so the calendar commands work without loading a policy.
    from ..policy import load_policy  # noqa: PLC0415

    return load_policy(on, path=policy).periods


@deadline_app.command("notice")
def notice_end(
    start: Annotated[
        str, typer.Argument(help="公示发布日 / day the notice is published.", metavar="START")
    ],
    *,
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    explain: ExplainOption = False,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """公示期最后一天（第十三条） / Last day of the public notice (Art. 13).

    ``--json``: the deadline (``kind``, ``start``, ``due``, ``provisional``, ``article``,
    ``convention``, ``explanation``).
    """
    from ..deadlines import notice_deadline  # noqa: PLC0415 - imported when the command runs

    _print_deadline(
        notice_deadline, start, "START", allow_provisional, holiday_files(holidays, notice),
        policy, explain, lang,
    )  # fmt: skip


@deadline_app.command("change-filing")
def change_filing(
    date: Annotated[
        str, typer.Argument(help="变更完成日 / day the change was completed.", metavar="DATE")
    ],
    *,
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    explain: ExplainOption = False,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """重大变更备案的最后一天（第十九条） / Last day to file a major change (Art. 19).

    ``--json``: the deadline, as for ``kmbase deadline notice``.
    """
    from ..deadlines import change_filing_deadline  # noqa: PLC0415 - imported when the command runs

    _print_deadline(
        change_filing_deadline, date, "DATE", allow_provisional, holiday_files(holidays, notice),
        policy, explain, lang,
    )  # fmt: skip


def _print_deadline(
    compute: Callable[..., Deadline],
    value: str,
    what: str,
    allow_provisional: bool,
    holidays: list[Path],
    policy: Path | None,
    explain: bool,
    lang: str,
) -> None:
    """Print a deadline's due date (marked provisional if so) and, asked, its reasons."""

    def action() -> Deadline:
        day = parse_date(value, what)
        return compute(
            day,
            _periods(policy, day),
            calendar=_calendar(holidays),
            allow_provisional=allow_provisional,
        )

    command = Command(lang)
    deadline = command.run(action)
    chosen = command.lang
    lines = [deadline.label()]
    if explain:
        lines.append(f"{deadline.article.in_(chosen)}: {deadline.explanation.in_(chosen)}")
    command.finish(
        {
            "kind": deadline.kind.value,
            "start": deadline.start,
            "due": deadline.due,
            "provisional": deadline.provisional,
            "article": attrs.asdict(deadline.article),
            "convention": deadline.convention,
            "explanation": deadline.explanation.in_(chosen),
        },
        "\n".join(lines),
    )
