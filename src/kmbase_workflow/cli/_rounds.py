"""``kmbase round open``, ``list`` and ``select``: the yearly declaration round (Art. 9) and the
selection after expert review (Art. 11), by the city bureau (``kmbase round as-of`` is in
``_queues``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..actors import Actor, Role
from ._command import Command
from ._group import command_group
from ._options import (
    DbOption,
    FormatOption,
    JsonOption,
    LangOption,
    OutputFormat,
    ReasonOption,
    TodayOption,
    parse_date,
)

__all__ = ["round_app"]

round_app = command_group("round", "年度申报（第九条） / The yearly declaration round (Art. 9).")

BureauOfficerOption = Annotated[
    str,
    typer.Option(
        "--actor-id",
        help="经办人编号（市工业和信息化局） / the bureau officer's id.",
        metavar="ID",
    ),
]


@round_app.command("open")
def round_open(
    year: Annotated[int, typer.Argument(help="年度 / year.", metavar="YEAR")],
    opens_on: Annotated[
        str, typer.Argument(help="开始日期 / first day (YYYY-MM-DD).", metavar="OPENS_ON")
    ],
    closes_on: Annotated[
        str, typer.Argument(help="截止日期 / last day (YYYY-MM-DD).", metavar="CLOSES_ON")
    ],
    actor_id: BureauOfficerOption = "city_bureau",
    reference: Annotated[
        str,
        typer.Option(
            "--reference", help="申报通知文号 / the call's reference number.", metavar="REF"
        ),
    ] = "",
    notice: Annotated[
        str | None,
        typer.Option("--notice", hidden=True, help="已弃用：同 --reference / deprecated."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """组织年度申报 / Open the year's declaration round (the city bureau)."""
    command = Command(lang)
    workflow = command.workflow(db, create=True)

    def act() -> None:
        start, end = parse_date(opens_on, "OPENS_ON"), parse_date(closes_on, "CLOSES_ON")
        officer = Actor(Role.CITY_BUREAU, actor_id, via="cli")
        workflow.open_round(year, start, end, officer, reference or notice or "")

    command.run(act)
    command.finish(
        {
            "year": year,
            "opens_on": opens_on,
            "closes_on": closes_on,
            "reference": reference or notice or "",
        },
        f"{year}: {opens_on} → {closes_on}",
    )


@round_app.command("list")
def round_list(
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """列出各年度申报 / List the declaration rounds."""
    from ..serialization import converter  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    rounds = command.workflow(db).store.rounds()
    command.finish(
        [converter.unstructure(r) for r in rounds],
        "\n".join(f"{r.year}\t{r.opens_on}\t{r.closes_on}\t{r.notice}" for r in rounds)
        if rounds
        else None,
    )


@round_app.command("select")
def round_select(
    year: Annotated[int, typer.Argument(help="年度 / the round's year.", metavar="YEAR")],
    quota: Annotated[
        int, typer.Option("--quota", help="择优名额 / how many to select.", metavar="N")
    ],
    actor_id: BureauOfficerOption = "city_bureau",
    reason: ReasonOption = "",
    db: DbOption = None,
    today: TodayOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """择优排序（第十一条） / Rank the round's recommended cases and record who is selected.

    One decision, in one transaction; running it again supersedes it. Exit 0 done, 1 refused.
    """
    command = Command(lang)
    officer = Actor(Role.CITY_BUREAU, actor_id, via="cli")
    workflow = command.workflow(db, today=today)
    outcomes = command.run(lambda: workflow.select_round(year, officer, quota=quota, reason=reason))
    ranking = [
        {
            "case": o.case.id,
            "rank": o.case.selection.rank,
            "score": o.case.selection.score,
            "selected": o.case.selection.selected,
            "decision": o.case.selection.decision,
        }
        for o in outcomes
        if o.case.selection is not None
    ]
    selected = command.say("入选", "selected")
    command.finish(
        ranking,
        "\n".join(
            f"{row['rank']}\t{row['case']}\t{row['score']:.1f}\t{selected if row['selected'] else '—'}"
            for row in ranking
        )
        if ranking
        else None,
    )
