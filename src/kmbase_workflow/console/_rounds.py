"""The rounds' pages (第九条, 第十一条): the rounds and the form that opens one, the round
dashboard, the ranking with the experts' scores and the selection (择优)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._i18n import Text
from ..actors import Actor, Role
from ..case import Case, DeclarationRound
from ..errors import (
    InvalidInputError,
    KmbaseError,
)
from ..queues import dashboard
from ..service._errors import ServiceError, status_of
from ..service._routing import (
    RoundYear,
    may_read,
)
from ..workflow import Workflow
from ._render import render, workflow_of
from ._session import (
    csrf_problem,
)
from ._web import (
    FormParam,
    actor_of,
    csrf_refusal,
    redirect,
    refusal_of,
    text_fields,
)

__all__ = ["router"]

router = APIRouter()


# -- rounds (the city bureau) -------------------------------------------------------------------


@router.get("/rounds")
def rounds(request: Request) -> Response:
    """The declaration rounds, and the form to open one (第九条)."""
    actor = actor_of(request)
    workflow = workflow_of(request)
    return render(
        request,
        "rounds.html",
        {
            "actor": actor,
            "rounds": workflow.store.rounds(),
            "values": {},
            "failures": (),
            "general": (),
        },
    )


def _round_dates(values: Mapping[str, str]) -> tuple[int, dt.date, dt.date] | None:
    year = values.get("year", "").strip()
    try:
        opens = dt.date.fromisoformat(values.get("opens_on", "").strip())
        closes = dt.date.fromisoformat(values.get("closes_on", "").strip())
    except ValueError:
        return None
    if not year.isdigit() or len(year) > 4:
        return None
    return int(year), opens, closes


@router.post("/rounds")
async def open_round(request: Request, form: FormParam) -> Response:
    """Open a round (第九条); the same round submitted again (a double click) is shown, not
    refused."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    actor = actor_of(request)
    workflow = workflow_of(request)
    wanted = _round_dates(values)
    refusal: dict[str, Any] = {"failures": (), "general": []}
    status = 422
    if wanted is None:
        refusal["general"] = [
            Text(
                zh="请填写年度和 YYYY-MM-DD 格式的起止日期",
                en="give the year and both dates as YYYY-MM-DD",
            )
        ]
    else:
        year, opens, closes = wanted
        notice = values.get("notice", "")[:500]
        if DeclarationRound(year, opens, closes, notice) in workflow.store.rounds():
            return redirect(request, f"/rounds/{year}")
        try:
            workflow.open_round(year, opens, closes, actor, notice)
        except KmbaseError as error:
            refusal, status = refusal_of(error), status_of(error)
        else:
            return redirect(request, f"/rounds/{year}")
    context = {"actor": actor, "rounds": workflow.store.rounds(), "values": values, **refusal}
    return render(request, "rounds.html", context, status=status)


def _ranked(workflow: Workflow, actor: Actor, year: int) -> list[Case]:
    """The round's cases the actor may read, ranked (unranked last, by declaration)."""
    found = [case for case in workflow.cases(round_year=year) if may_read(actor, case)]
    return sorted(
        found,
        key=lambda case: (
            case.selection is None,
            case.selection.rank if case.selection else 0,
            case.declared_on,
            case.id,
        ),
    )


def _decision(cases: Sequence[Case]) -> int:
    return max((case.selection.decision for case in cases if case.selection), default=0)


def _round_page(
    request: Request, actor: Actor, year: int, *, status: int = 200, **refusal: Any
) -> Response:
    if actor.role not in (Role.CITY_BUREAU, Role.EXPERT, Role.DISTRICT_AUTHORITY, Role.SYSTEM):
        raise ServiceError(
            403, Text(zh="无权查看年度概览", en="you may not see the round dashboard")
        )
    workflow = workflow_of(request)
    district = actor.district if actor.role is Role.DISTRICT_AUTHORITY else None
    ranked = _ranked(workflow, actor, year)
    context = {
        "actor": actor,
        "year": year,
        "board": dashboard(workflow, round_year=year, district=district),
        "ranked": ranked,
        "decision": _decision(ranked),
        "districts": sorted({case.district for case in ranked}),
        "failures": (),
        "general": (),
        **refusal,
    }
    return render(request, "round.html", context, status=status)


@router.get("/rounds/{year}")
def round_page(request: Request, year: RoundYear) -> Response:
    """The round dashboard: cases by state and district, notices running, deadlines soon,
    overdue; the ranking with the experts' scores, and the selection (择优)."""
    return _round_page(request, actor_of(request), year)


@router.post("/rounds/{year}/selection")
async def select(request: Request, year: RoundYear, form: FormParam) -> Response:
    """Rank the round and select the best ``quota`` (择优, 第十一条). The form carries the
    decision it was rendered after: a second submission of it (a double click, a reload)
    finds a newer decision and shows it instead of ranking again."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    actor = actor_of(request)
    workflow = workflow_of(request)
    seen = values.get("decision", "")
    quota = values.get("quota", "").strip()
    if seen.isdigit() and int(seen) < _decision(_ranked(workflow, actor, year)):
        return redirect(request, f"/rounds/{year}")
    try:
        if not quota.isdigit() or len(quota) > 9:
            raise InvalidInputError(
                Text(
                    zh=f"择优名额应为非负整数，收到 {quota[:20]!r}",
                    en=f"the quota must be a whole number, got {quota[:20]!r}",
                )
            )
        workflow.select_round(year, actor, quota=int(quota), reason=values.get("reason", "")[:2000])
    except KmbaseError as error:
        return _round_page(request, actor, year, status=status_of(error), **refusal_of(error))
    return redirect(request, f"/rounds/{year}")
