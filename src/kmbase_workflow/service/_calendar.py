"""The working-day calendar and the deadlines of the measures (第十三条, 第十四条, 第十九条)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ..deadlines import (
    change_filing_deadline,
    earliest_certification_date,
    notice_deadline,
)
from ..policy import policy_in_force
from ._routing import (
    ERRORS,
    ActorParam,
    WorkflowParam,
    json_response,
    ok_response,
    parse_date,
    schema_ref,
)

__all__ = ["router"]

router = APIRouter(responses=ERRORS)


DateParam = Annotated[
    str, Query(max_length=40, description="YYYY-MM-DD", json_schema_extra={"format": "date"})
]
Provisional = Annotated[
    bool,
    Query(description="Answer for years without an official holiday notice (marked provisional)"),
]


@router.get("/calendar/working-day", tags=["calendar"], responses=ok_response({"type": "object"}))
def working_day(
    actor: ActorParam,
    workflow: WorkflowParam,
    date: DateParam,
    allow_provisional: Provisional = False,
) -> Response:
    """Whether a day is a working day in China (with make-up working days)."""
    day = parse_date(date, "date")
    calendar = workflow.calendar
    working = calendar.is_working_day(day, allow_provisional=allow_provisional)
    holiday = calendar.holiday_name(day)
    return json_response(
        {
            "date": day,
            "working_day": working,
            "holiday": None if holiday is None else {"zh": holiday.zh, "en": holiday.en},
            "provisional": not calendar.is_official_span(day, day),
        }
    )


@router.get("/calendar/add", tags=["calendar"], responses=ok_response({"type": "object"}))
def add_working_days(
    actor: ActorParam,
    workflow: WorkflowParam,
    date: DateParam,
    days: Annotated[int, Query(ge=-100_000, le=100_000)],
    allow_provisional: Provisional = False,
) -> Response:
    """The ``days``-th working day after ``date`` (``date`` not counted; negative: before)."""
    day = parse_date(date, "date")
    result = workflow.calendar.add_working_days(day, days, allow_provisional=allow_provisional)
    return json_response(
        {
            "date": day,
            "days": days,
            "result": result,
            "provisional": not workflow.calendar.is_official_span(
                min(day, result), max(day, result)
            ),
        }
    )


@router.get("/calendar/count", tags=["calendar"], responses=ok_response({"type": "object"}))
def count_working_days(
    actor: ActorParam,
    workflow: WorkflowParam,
    start: DateParam,
    end: DateParam,
    allow_provisional: Provisional = False,
) -> Response:
    """The working days in (start, end]."""
    first, last = parse_date(start, "start"), parse_date(end, "end")
    total = workflow.calendar.count_working_days(first, last, allow_provisional=allow_provisional)
    return json_response(
        {
            "start": first,
            "end": last,
            "working_days": total,
            "provisional": not workflow.calendar.is_official_span(
                min(first, last), max(first, last)
            ),
        }
    )


_NOTICE_ANSWER = {
    "type": "object",
    "required": ["deadline", "earliest_certification"],
    "properties": {
        "deadline": schema_ref("Deadline"),
        "earliest_certification": {"type": "string", "format": "date"},
    },
}


@router.get("/deadlines/notice", tags=["calendar"], responses=ok_response(_NOTICE_ANSWER))
def notice_end(
    actor: ActorParam,
    workflow: WorkflowParam,
    published: DateParam,
    allow_provisional: Provisional = False,
) -> Response:
    """The last day of a public notice published on ``published`` (第十三条), and the earliest
    day to certify after it (第十四条)."""
    day = parse_date(published, "published")
    periods = policy_in_force(workflow.policies, day).periods
    deadline = notice_deadline(
        day, periods, calendar=workflow.calendar, allow_provisional=allow_provisional
    )
    earliest = earliest_certification_date(
        deadline, calendar=workflow.calendar, allow_provisional=allow_provisional
    )
    return json_response({"deadline": deadline, "earliest_certification": earliest})


@router.get(
    "/deadlines/change-filing",
    tags=["calendar"],
    responses=ok_response(
        {
            "type": "object",
            "required": ["deadline"],
            "properties": {"deadline": schema_ref("Deadline")},
        }
    ),
)
def change_filing(
    actor: ActorParam,
    workflow: WorkflowParam,
    completed: DateParam,
    allow_provisional: Provisional = False,
) -> Response:
    """The last day to file a major change completed on ``completed`` (第十九条)."""
    day = parse_date(completed, "completed")
    periods = policy_in_force(workflow.policies, day).periods
    deadline = change_filing_deadline(
        day, periods, calendar=workflow.calendar, allow_provisional=allow_provisional
    )
    return json_response({"deadline": deadline})
