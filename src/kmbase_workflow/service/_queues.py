"""The work queues, the dashboard and history as data over HTTP: one small route over each
function of `kmbase_workflow.queues` and `kmbase_workflow.as_of`, answering its ``to_dict()``.

Who may read what follows the service's reading rules (`may_read`): the inbox is always the
authenticated actor's own; the dashboard and a round's table as of a day are the city
bureau's, the experts' and the system's for every district, a district authority's for its
own district, nobody else's; a case as of a day (or before a step) is readable by whoever may
read the case.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from .._i18n import Text
from ..actors import Actor, Role
from ..as_of import case_as_of, known_at, round_as_of
from ..case import State
from ..eligibility import district_problems
from ..errors import InvalidInputError, PolicyNotFoundError
from ..lifecycle import Trigger
from ..policy import policy_in_force
from ..queues import MAX_PAGE, QueueKind, dashboard, work_queue
from ..workflow import Workflow
from ._routing import (
    ERRORS,
    ActorParam,
    RoundYear,
    WorkflowParam,
    answered_without_waiting,
    forbidden,
    json_response,
    ok_response,
    parse_date,
    readable_case,
    schema_ref,
)

__all__ = ["QUEUE_SCHEMAS", "router"]

router = APIRouter(responses=ERRORS)

DayParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="The day asked, YYYY-MM-DD (default: today)",
        json_schema_extra={"format": "date"},
    ),
]
DistrictParam = Annotated[str | None, Query(max_length=200, description="Only this district")]
RoundParam = Annotated[int | None, Query(ge=0, le=9999, description="Only this round (year)")]


def _day(value: str | None, name: str) -> dt.date | None:
    return None if value is None else parse_date(value, name)


def _district_scope(actor: Actor, district: str | None, what: Text) -> str | None:
    """The district an overview of several cases is narrowed to for ``actor``: the bureau,
    experts and the system any (or none), a district authority its own, others none (403)."""
    if actor.role in (Role.CITY_BUREAU, Role.EXPERT, Role.SYSTEM):
        return district
    if actor.role is Role.DISTRICT_AUTHORITY:
        if district is not None and district != actor.district:
            raise forbidden(Text(zh=f"{district}的{what.zh}", en=f"{what.en} of {district}"))
        return actor.district
    raise forbidden(what)


def _known_district(workflow: Workflow, district: str | None, day: dt.date) -> None:
    """A district filter names a district of the policy (a typo is a 422, not an empty
    answer)."""
    if district is None:
        return
    try:
        policy = policy_in_force(workflow.policies, day)
    except PolicyNotFoundError:  # a day before every policy: the newest one's districts
        policy = workflow.policies[-1]
    problems = district_problems(district, policy)
    if problems:
        raise InvalidInputError(problems[0])


@router.get("/inbox", tags=["queues"], responses=ok_response(schema_ref("QueuePage")))
async def inbox(
    actor: ActorParam,
    workflow: WorkflowParam,
    round_year: RoundParam = None,
    district: DistrictParam = None,
    state: Annotated[
        str | None,
        Query(
            max_length=60,
            description="Only cases in this state",
            json_schema_extra={"enum": [state.value for state in State]},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="The previous page's next_cursor")
    ] = None,
    as_of: DayParam = None,
) -> Response:
    """Your work queue (`queues.work_queue`): the cases awaiting you, most urgent first
    (overdue first), each with the actions you may take, its deadline and article. A
    district authority sees its own district, an operator its own bases, the bureau and
    experts every district (``district`` narrows). Page on with ``cursor=next_cursor`` (bound
    to the filters and the day of the first page)."""
    if actor.role is Role.DISTRICT_AUTHORITY and district not in (None, actor.district):
        raise forbidden(Text(zh=f"{district}的待办", en=f"the work queue of {district}"))

    def answer() -> Response:
        page = work_queue(
            workflow,
            actor,
            as_of=_day(as_of, "as_of"),
            round_year=round_year,
            district=None if actor.role is Role.DISTRICT_AUTHORITY else district,
            state=state,
            limit=limit,
            cursor=cursor,
        )
        return json_response(page.to_dict())

    return await answered_without_waiting(workflow, answer)


@router.get("/dashboard", tags=["queues"], responses=ok_response(schema_ref("Dashboard")))
def city_dashboard(
    actor: ActorParam,
    workflow: WorkflowParam,
    round_year: RoundParam = None,
    district: DistrictParam = None,
    working_days: Annotated[
        int, Query(ge=1, le=10_000, description="Deadlines within this many working days")
    ] = 10,
    limit: Annotated[int, Query(ge=1, le=10_000, description="The most obligations listed")] = 100,
    as_of: DayParam = None,
) -> Response:
    """The round and city dashboard (`queues.dashboard`): cases by state and district, the
    notices running, deadlines in the next ``working_days`` working days and overdue
    obligations. The bureau, experts and the system see every district; a district authority
    its own; operators and the public may not read it (403)."""
    scope = _district_scope(actor, district, Text(zh="概览", en="the dashboard"))
    board = dashboard(
        workflow,
        as_of=_day(as_of, "as_of"),
        round_year=round_year,
        district=scope,
        working_days=working_days,
        limit=limit,
    )
    return json_response(board.to_dict())


def _when(value: str) -> dt.date | dt.datetime:
    """A day (YYYY-MM-DD) or an instant with its offset (2025-10-16T10:00:00+08:00)."""
    if "T" not in value and " " not in value:
        return parse_date(value, "date")
    try:
        return dt.datetime.fromisoformat(value)  # a naive instant: the library's 422
    except ValueError:
        raise InvalidInputError(
            Text(
                zh=f"不是有效的日期或时刻：{value[:40]!r}",
                en=f"not a date or instant: {value[:40]!r}",
            ),
            hint=Text(
                zh="请用 YYYY-MM-DD 或 2025-10-16T10:00:00+08:00",
                en="use YYYY-MM-DD or 2025-10-16T10:00:00+08:00",
            ),
        ) from None


@router.get(
    "/cases/{case_id}/as-of/{date}", tags=["history"], responses=ok_response(schema_ref("CaseAsOf"))
)
def show_as_of(
    case_id: str,
    date: Annotated[
        str,
        Path(
            max_length=40,
            description="YYYY-MM-DD, or an instant with offset",
            json_schema_extra={"anyOf": [{"format": "date"}, {"format": "date-time"}]},
        ),
    ],
    actor: ActorParam,
    workflow: WorkflowParam,
) -> Response:
    """The case as it stood at the end of ``date`` (or at an instant), rebuilt from its
    history and checked against the record (`as_of.case_as_of`): ``ok`` false and the
    ``findings`` when they disagree; ``declared`` false before the declaration."""
    readable_case(workflow, actor, case_id)
    return json_response(case_as_of(workflow, case_id, _when(date)).to_dict())


@router.get(
    "/cases/{case_id}/known-at/{trigger}",
    tags=["history"],
    responses=ok_response(schema_ref("Knowledge")),
)
def show_known_at(
    case_id: str,
    trigger: Annotated[
        str,
        Path(
            max_length=60,
            description="A trigger, e.g. certify",
            json_schema_extra={"enum": [trigger.value for trigger in Trigger]},
        ),
    ],
    actor: ActorParam,
    workflow: WorkflowParam,
) -> Response:
    """What the record held when the case's first ``trigger`` step was taken ("what did the
    bureau know when it certified?", `as_of.known_at`): the case just before it, rebuilt and
    checked, and the step itself. 422 if the case never had that step."""
    readable_case(workflow, actor, case_id)
    return json_response(known_at(workflow, case_id, Trigger(trigger)).to_dict())


@router.get(
    "/rounds/{year}/as-of/{date}", tags=["history"], responses=ok_response(schema_ref("RoundAsOf"))
)
def round_table_as_of(
    year: RoundYear,
    date: Annotated[
        str, Path(max_length=40, description="YYYY-MM-DD", json_schema_extra={"format": "date"})
    ],
    actor: ActorParam,
    workflow: WorkflowParam,
    district: DistrictParam = None,
) -> Response:
    """The round's table as it stood at the end of ``date`` (`as_of.round_as_of`), each
    case rebuilt from its history and checked. Who may read it: as the dashboard."""
    day = parse_date(date, "date")
    scope = _district_scope(actor, district, Text(zh="年度案件表", en="the round's table"))
    _known_district(workflow, scope, day)
    return json_response(round_as_of(workflow, year, day, district=scope).to_dict())


# -- the answers' schemas (what each ``to_dict()`` writes; a test validates the answers) ----


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
        **extra,
    }


_DATE = {"type": "string", "format": "date"}
_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_BOOLEAN = {"type": "boolean"}
_TEXT = schema_ref("Text")
_COUNTS = {"type": "object", "additionalProperties": _INTEGER}
_STATE = {"type": "string", "enum": [state.value for state in State]}
_STEP_ACTOR = _object({"role": schema_ref("Role"), "id": _STRING})

QUEUE_SCHEMAS: dict[str, Any] = {
    "QueueEntry": _object(
        {
            "case_id": _STRING,
            "base_name": _STRING,
            "base_id": _STRING,
            "district": _STRING,
            "operator_id": _STRING,
            "round_year": _INTEGER,
            "state": _STATE,
            "kind": {"type": "string", "enum": [kind.value for kind in QueueKind]},
            "obligation": {"type": "string", "description": "The kind, with a qualifier"},
            "label": _TEXT,
            "role": schema_ref("Role"),
            "actions": {
                "type": "array",
                "items": {"type": "string", "enum": [t.value for t in Trigger]},
                "description": "What the actor may fire to discharge it",
            },
            "article": _TEXT,
            "since": _DATE,
            "due_on": _nullable(_DATE),
            "ready_on": _nullable(_DATE),
            "overdue": _BOOLEAN,
            "ready": _BOOLEAN,
        },
        title="QueueEntry",
        description="One case awaiting an actor: what to do, by when, whether it is late.",
    ),
    "QueuePage": _object(
        {
            "actor": _object(
                {"role": schema_ref("Role"), "id": _STRING, "district": _nullable(_STRING)}
            ),
            "as_of": _DATE,
            "entries": {"type": "array", "items": schema_ref("QueueEntry")},
            "next_cursor": _nullable(_STRING),
        },
        title="QueuePage",
        description="One page of a work queue; next_cursor is null on the last.",
    ),
    "Dashboard": _object(
        {
            "as_of": _DATE,
            "round_year": _nullable(_INTEGER),
            "district": _nullable(_STRING),
            "working_days": _INTEGER,
            "horizon": _DATE,
            "by_state": _COUNTS,
            "by_district": {"type": "object", "additionalProperties": _COUNTS},
            "notices_running": {
                "type": "array",
                "items": _object(
                    {
                        "case_id": _STRING,
                        "round_year": _INTEGER,
                        "district": _STRING,
                        "state": _STATE,
                        "notice_due": _DATE,
                    }
                ),
            },
            "due_soon": {"type": "array", "items": schema_ref("QueueEntry")},
            "overdue": {"type": "array", "items": schema_ref("QueueEntry")},
            "overdue_count": _INTEGER,
        },
        title="Dashboard",
        description="A round's (or every round's) figures for the city or a district.",
    ),
    "CaseAsOf": _object(
        {
            "case_id": _STRING,
            "as_of": {"type": "string", "description": "The day, or the instant, asked"},
            "declared": _BOOLEAN,
            "state": _nullable(_STATE),
            "state_label": _nullable(_TEXT),
            "version": _INTEGER,
            "case": _nullable(
                {
                    "type": "object",
                    "description": "The case then (as `Case`, without its application; "
                    "`operator` is the operator's credit code)",
                }
            ),
            "steps": {
                "type": "array",
                "items": _object(
                    {
                        "sequence": _INTEGER,
                        "action": _STRING,
                        "at": {"type": "string", "format": "date-time"},
                        "actor": _STEP_ACTOR,
                        "to_state": _STRING,
                    }
                ),
            },
            "ok": {"type": "boolean", "description": "The rebuild agrees with the record"},
            "findings": {"type": "array", "items": _TEXT},
        },
        title="CaseAsOf",
        description="A case as it stood on a past day, rebuilt from its history and checked.",
    ),
    "Knowledge": _object(
        {
            "step": _object(
                {
                    "sequence": _INTEGER,
                    "action": _STRING,
                    "at": {"type": "string", "format": "date-time"},
                    "reason": _STRING,
                    "actor": _STEP_ACTOR,
                    "payload": {"type": "object"},
                }
            ),
            "before": schema_ref("CaseAsOf"),
        },
        title="Knowledge",
        description="What the record held when a step was taken: the case just before it.",
    ),
    "RoundAsOf": _object(
        {
            "round_year": _INTEGER,
            "as_of": _DATE,
            "by_state": _COUNTS,
            "rows": {
                "type": "array",
                "items": _object(
                    {
                        "case_id": _STRING,
                        "base_name": _STRING,
                        "district": _STRING,
                        "state": _STATE,
                        "version": _INTEGER,
                        "last_step_on": _nullable(_DATE),
                        "ok": _BOOLEAN,
                    }
                ),
            },
            "findings": {
                "type": "array",
                "items": _object({"case_id": _STRING, "zh": _STRING, "en": _STRING}),
            },
        },
        title="RoundAsOf",
        description="A round's table as it stood on a past day.",
    ),
}
"""The OpenAPI component schemas of the routes' answers."""
