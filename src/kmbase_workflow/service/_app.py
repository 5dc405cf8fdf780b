"""The HTTP service: an ASGI application (FastAPI) over one `Workflow`.

Every write goes through the workflow's one write path and records the authenticated actor
(``via="http"``); every request body is read by the library's own reader, so a bad document
gets the same error, with the same paths, as from Python or the command line.

Routes are built from `kmbase_workflow.service._routing` (the actor and the workflow as
parameters, JSON answers, the documented errors); the triggers' routes are derived from the
lifecycle's declaration, one per step.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import tempfile
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import attrs
from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import __version__
from .._i18n import Text
from ..actors import Actor, Role
from ..case import ROUND_CHAIN_PREFIX, Case, DeclarationRound, State
from ..deadlines import (
    Deadline,
    change_filing_deadline,
    earliest_certification_date,
    notice_deadline,
)
from ..encoding import event_document as event_data
from ..errors import InvalidInputError, KmbaseError, StoreUnavailableError
from ..lifecycle import RECORDS, STEPS, Step, Trigger
from ..policy import policy_in_force
from ..serialization import MAX_INTEGER, loads_application, structure
from ..stores.tokens import token_store
from ..workflow import Workflow
from ._auth import Authenticator, TokenAuthenticator
from ._documents import router as documents_router
from ._errors import RETRY_AFTER_SECONDS, ServiceError, error_body, status_of
from ._queues import QUEUE_SCHEMAS
from ._queues import router as queues_router
from ._routing import (
    ERRORS,
    ActorParam,
    BodyText,
    Command,
    IdempotencyKey,
    RootPath,
    RoundYear,
    WorkflowParam,
    declaration_refused_as_read,
    forbidden,
    json_object,
    json_response,
    may_read,
    ok_response,
    outcome_data,
    outcome_response,
    parse_date,
    readable_case,
    refused_as_read,
    schema_ref,
    scoped_key,
)
from ._schema import TEXT

__all__ = [
    "ROUTERS",
    "application_schema",
    "command_schema",
    "create_app",
    "iter_trigger_routes",
    "reference_documents",
    "trigger_path",
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEALTH_TIMEOUT = 2.0
"""How long ``/health`` waits for the store before answering 503 (seconds)."""

# -- the routes -----------------------------------------------------------------------------

router = APIRouter(responses=ERRORS)


@router.get(
    "/health",
    tags=["service"],
    responses=ok_response({"type": "object"}),
    openapi_extra={"security": []},
)
async def health(workflow: WorkflowParam) -> Response:
    """Whether the service can reach its store (503 if not, within a few seconds). No
    authentication."""
    # A store that does not answer (a PostgreSQL server gone: the pool waits for a connection
    # up to its pool_timeout) is unavailable now: the probe is not kept waiting for it.
    with anyio.move_on_after(HEALTH_TIMEOUT):
        await anyio.to_thread.run_sync(workflow.store.rounds, abandon_on_cancel=True)
        return json_response({"status": "ok", "version": __version__})
    raise StoreUnavailableError(
        Text(
            zh=f"存储在 {HEALTH_TIMEOUT:g} 秒内没有应答",
            en=f"the store did not answer within {HEALTH_TIMEOUT:g} s",
        ),
        hint=Text(zh="检查数据库服务器是否可达", en="check that the database server is reachable"),
    )


@router.get("/me", tags=["service"], responses=ok_response(schema_ref("Actor")))
def me(actor: ActorParam) -> Response:
    """Who the service takes you for (the actor every write of yours records)."""
    return json_response(actor)


@router.get(
    "/rounds",
    tags=["rounds"],
    responses=ok_response({"type": "array", "items": schema_ref("DeclarationRound")}),
)
def rounds(actor: ActorParam, workflow: WorkflowParam) -> Response:
    """Every declaration round (第九条)."""
    return json_response(workflow.store.rounds())


@router.post(
    "/rounds",
    tags=["rounds"],
    status_code=201,
    responses=ok_response(schema_ref("DeclarationRound"), "Opened", 201),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref("DeclarationRound")}},
        }
    },
)
def open_round(actor: ActorParam, workflow: WorkflowParam, body: BodyText) -> Response:
    """Open the year's declaration round (the city bureau, 第九条)."""
    wanted = structure(json_object(body, "round"), DeclarationRound, source="round")
    opened = workflow.open_round(
        wanted.year, wanted.opens_on, wanted.closes_on, actor, wanted.notice
    )
    return json_response(opened, status=201)


@router.post(
    "/rounds/{year}/selection",
    tags=["rounds"],
    responses=ok_response({"type": "array", "items": schema_ref("Outcome")}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["quota"],
                        "properties": {
                            "quota": {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER},
                            "reason": TEXT,
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    },
)
def select_round(
    year: RoundYear, actor: ActorParam, workflow: WorkflowParam, body: BodyText
) -> Response:
    """Rank the round's recommended cases and select the best ``quota`` (择优, 第十一条)."""
    data = json_object(body, "selection")
    selection = structure(data, _Selection, source="selection")
    outcomes = workflow.select_round(year, actor, quota=selection.quota, reason=selection.reason)
    return json_response([outcome_data(outcome, actor) for outcome in outcomes])


@attrs.frozen
class _Selection:
    quota: int
    reason: str = ""


@router.post(
    "/cases",
    tags=["cases"],
    status_code=201,
    responses={
        **ok_response(schema_ref("Outcome"), "Declared", 201),
        **ok_response(schema_ref("Outcome"), "Replayed: the idempotency key's first outcome"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref("Application")}},
        }
    },
)
def declare(
    actor: ActorParam,
    workflow: WorkflowParam,
    body: BodyText,
    root_path: RootPath,
    idempotency_key: IdempotencyKey = None,
    case_id: Annotated[
        str | None, Query(max_length=200, description="The new case's id (default: a fresh one)")
    ] = None,
    base_id: Annotated[
        str | None,
        Query(max_length=200, description="The base's id (default: from its credit code)"),
    ] = None,
) -> Response:
    """Declare an application (第九条): the body is the application, in the format of
    docs/application-format.md (its JSON Schema: /schema/application.json)."""
    application = loads_application(body, source="application")
    base = base_id or Case.default_base_id(application)
    with declaration_refused_as_read(workflow, actor, base):
        outcome = workflow.declare(
            application,
            actor,
            case_id=case_id,
            base_id=base_id,
            idempotency_key=scoped_key(actor, idempotency_key),
        )
    return outcome_response(outcome, actor, status=201, root_path=root_path)


CaseFilter = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/cases",
    tags=["cases"],
    responses=ok_response({"type": "array", "items": schema_ref("CaseSummary")}),
)
def cases(
    actor: ActorParam,
    workflow: WorkflowParam,
    state: Annotated[
        str | None,
        Query(max_length=200, json_schema_extra={"enum": [state.value for state in State]}),
    ] = None,
    round_year: Annotated[int | None, Query(ge=0, le=9999)] = None,
    district: CaseFilter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    """The cases you may see, in declaration order, filtered and paged."""
    if actor.role is Role.PUBLIC:
        raise forbidden(Text(zh="案件列表", en="the list of cases"))
    if actor.role is Role.DISTRICT_AUTHORITY:
        if district is not None and district != actor.district:
            raise forbidden(Text(zh=f"{district}的案件", en=f"the cases of {district}"))
        district = actor.district
    found = workflow.cases(
        state=State(state) if state else None, round_year=round_year, district=district
    )
    visible = (case for case in found if may_read(actor, case))
    page = itertools.islice(visible, offset, offset + limit)
    return json_response([_summary(case) for case in page])


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "base_id": case.base_id,
        "base_name": case.base_name,
        "district": case.district,
        "round_year": case.round_year,
        "state": case.state.value,
        "version": case.version,
        "declared_on": case.declared_on.isoformat(),
    }


@router.get("/cases/{case_id}", tags=["cases"], responses=ok_response(schema_ref("Case")))
def show(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """A case as it stands (with its application)."""
    return json_response(readable_case(workflow, actor, case_id))


@router.get(
    "/cases/{case_id}/history",
    tags=["cases"],
    responses=ok_response({"type": "array", "items": schema_ref("HistoryEntry")}),
)
def history(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """Every step of a case, oldest first: who, when, why, on what evidence (第二十条)."""
    readable_case(workflow, actor, case_id)
    return json_response(workflow.history(case_id))


@router.get(
    "/cases/{case_id}/verification",
    tags=["cases"],
    responses=ok_response(schema_ref("ChainReport")),
)
def verification(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """Check the case against its hash-chained history (`Workflow.verify_chain`)."""
    readable_case(workflow, actor, case_id)
    return json_response(workflow.verify_chain(case_id))


@router.get(
    "/cases/{case_id}/application-tables.xlsx",
    tags=["exports"],
    response_class=Response,
    responses={200: {"description": "附件1 as a workbook", "content": {XLSX: {}}}},
)
def application_tables(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """The forms of 附件1 for the case's application (申请表 and its four tables)."""
    from ..exports import export_application_tables  # noqa: PLC0415 - needs openpyxl

    case = readable_case(workflow, actor, case_id)
    policy = workflow.policy_for(case)
    return _workbook(
        lambda path: export_application_tables(case, path, policy=policy), f"附件1-{case.id}.xlsx"
    )


@router.get(
    "/rounds/{year}/districts/{district}/recommendation-table.xlsx",
    tags=["exports"],
    response_class=Response,
    responses={200: {"description": "附件2 as a workbook", "content": {XLSX: {}}}},
)
def recommendation_table(
    year: RoundYear, district: str, actor: ActorParam, workflow: WorkflowParam
) -> Response:
    """A district's 推荐汇总表 (附件2) for a round: the bureau's, or the district's own."""
    from ..exports import export_recommendation_table  # noqa: PLC0415 - needs openpyxl

    if actor.role is not Role.CITY_BUREAU and not (
        actor.role is Role.DISTRICT_AUTHORITY and actor.district == district
    ):
        raise forbidden(
            Text(zh=f"{district}的推荐汇总表", en=f"the recommendation table of {district}")
        )
    return _workbook(
        lambda path: export_recommendation_table(workflow, district, year, path),
        f"附件2-推荐汇总表-{district}-{year}.xlsx",
    )


def _workbook(write: Callable[[Path], object], filename: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="kmbase-") as folder:
        path = Path(folder) / "export.xlsx"
        write(path)
        content = path.read_bytes()
    quoted = urllib.parse.quote(filename)
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quoted}"
        },
    )


# -- calendar and deadlines -----------------------------------------------------------------

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


# -- events ---------------------------------------------------------------------------------


def _may_follow(actor: Actor) -> None:
    if actor.role not in (Role.CITY_BUREAU, Role.SYSTEM, Role.DISTRICT_AUTHORITY):
        raise forbidden(Text(zh="事件流", en="the event stream"))


def _visible(actor: Actor, data: dict[str, Any]) -> bool:
    """Whether ``actor`` may see an event: the bureau and the system every one; a district
    its own district's cases' and every declaration round's (`RoundOpened`: a public notice,
    第九条, and each district takes the declarations of its own bases in it)."""
    if actor.role is not Role.DISTRICT_AUTHORITY:
        return True
    if str(data.get("case_id", "")).startswith(ROUND_CHAIN_PREFIX):
        return True
    payload = data.get("payload") or {}
    return isinstance(payload, dict) and payload.get("district") == actor.district


@router.get(
    "/events",
    tags=["events"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `id` is the outbox position, `event` the type, `data` the event's JSON",
            "content": {"text/event-stream": {}},
        }
    },
)
async def events(
    request: Request,
    actor: ActorParam,
    workflow: WorkflowParam,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="Start after this outbox position")
    ] = 0,
    follow: Annotated[
        bool, Query(description="Keep the stream open for new events (false: end when caught up)")
    ] = True,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=40,
            pattern=r"^\s*[0-9]{1,18}\s*$",
            description="Resume after this outbox position (the last event's id)",
        ),
    ] = None,
) -> Response:
    """The outbox as a stream of server-sent events, oldest first: resume after a broken
    connection with ``Last-Event-ID`` (browsers' EventSource sends it) or ``?after=``.
    Delivery is at least once: deduplicate on the event's ``id``. The bureau sees every
    event, a district its own district's and the declaration rounds' (``round_opened``)."""
    _may_follow(actor)
    if last_event_id is not None and last_event_id.strip().isdigit():
        after = int(last_event_id.strip())
    interval: float = request.app.state.poll_interval
    store = workflow.store
    first = await run_in_threadpool(store.read_outbox, after, 100)  # errors answered as such

    async def stream() -> AsyncIterator[str]:
        position, batch = after, first
        yield f"retry: {int(interval * 1000)}\n\n"
        idle = 0.0
        while True:
            for record in batch:
                position = record.position
                data = event_data(record.event)
                if _visible(actor, data):
                    text = json.dumps(data, ensure_ascii=False, default=str)
                    yield f"id: {record.position}\nevent: {record.event.type}\ndata: {text}\n\n"
            if batch:
                idle = 0.0
            else:
                if not follow or await request.is_disconnected():
                    return
                await anyio.sleep(interval)
                idle += interval
                if idle >= 15:
                    idle = 0.0
                    yield ": keep-alive\n\n"
            try:
                batch = await run_in_threadpool(store.read_outbox, position, 100)
            except KmbaseError as error:
                yield f"event: error\ndata: {json.dumps(error_body(error), ensure_ascii=False)}\n\n"
                return

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


# -- the triggers, one route each, derived from the lifecycle ---------------------------------


def trigger_path(trigger: Trigger) -> str:
    """The route that fires ``trigger`` at a case."""
    return f"/cases/{{case_id}}/{trigger.value}"


def _fire_route(step: Step) -> Callable[..., Response]:
    def fire(
        case_id: str,
        actor: ActorParam,
        workflow: WorkflowParam,
        body: BodyText,
        root_path: RootPath,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        source = f"{step.trigger.value} body"
        command = structure(json_object(body, source), Command, source=source)
        with refused_as_read(workflow, actor, case_id):
            outcome = workflow.fire(
                case_id,
                step.trigger,
                actor,
                reason=command.reason,
                evidence=command.evidence,
                payload=step.parse_payload(command.payload),
                expected_version=command.expected_version,
                idempotency_key=scoped_key(actor, idempotency_key),
            )
        return outcome_response(outcome, actor, root_path=root_path)

    fire.__name__ = f"fire_{step.trigger.value}"
    return fire


def _describe(step: Step) -> str:
    sources = ", ".join("(new)" if s is None else s.value for s in step.sources)
    to = step.destination.value if step.destination is not None else "(unchanged: a record)"
    roles = ", ".join(sorted(role.value for role in step.roles))
    return (
        f"{step.label.zh} / {step.label.en} ({step.article.zh}, {step.article.en}).\n\n"
        f"From: {sources}. To: {to}. Who: {roles}."
    )


def _payload_schema(step: Step) -> dict[str, Any] | None:
    if step.payload is None:
        return None
    if step.payload is str:
        key = step.payload_key or "value"
        return {
            "anyOf": [
                TEXT,
                {
                    "type": "object",
                    "properties": {key: TEXT},
                    "required": [key],
                    "additionalProperties": False,
                },
            ]
        }
    if step.payload is dict:
        return schema_ref("JsonObject")
    name = step.payload.__name__
    shorthand = step.shorthand  # the payload given as one bare string (Step.shorthand)
    if shorthand is not None:
        bare = {"type": "string", "format": shorthand.format}
        return {"anyOf": [schema_ref(name), {**bare, "description": shorthand.description.en}]}
    return schema_ref(name)


def command_schema(step: Step) -> dict[str, Any]:
    """The JSON Schema of a trigger's body (`Command` with the step's payload)."""
    properties: dict[str, Any] = {
        "reason": {**TEXT, "description": "Why (required by the steps that close a case)"},
        "evidence": {
            "type": "array",
            "items": TEXT,
            "description": "References of the evidence",
        },
        "expected_version": {
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_INTEGER}, {"type": "null"}],
            "description": "Act only if the case is still at this version (else 409)",
        },
    }
    payload = _payload_schema(step)
    if payload is not None:
        properties["payload"] = payload
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _unknown_trigger(case_id: str, name: str, actor: ActorParam) -> Response:
    """An unknown trigger (or ``declare``, which has its own route): 422 naming the choices."""
    trigger = Trigger(name)  # an unknown name: InvalidInputError listing the choices
    raise InvalidInputError(
        Text(zh=f"{trigger.value} 请用 POST /cases", en=f"{trigger.value}: use POST /cases"),
        hint=Text(zh="申报会新建案件", en="a declaration creates the case"),
    )


def _answer_schema(step: Step) -> dict[str, Any]:
    """A trigger's answer: the outcome, or an acknowledgement where the step may be taken by
    someone who may not read the case (the public; anyone, where the step is not taken on
    one's own behalf, 第十三条). A step taken on one's own behalf is a reader's (第四条)."""
    if Role.PUBLIC in step.roles or not step.on_own_behalf:
        return {"anyOf": [schema_ref("Outcome"), schema_ref("Acknowledgement")]}
    return schema_ref("Outcome")


def _add_trigger_routes(app_router: APIRouter) -> None:
    for step in (*STEPS, *RECORDS):
        if step.trigger is Trigger.DECLARE:
            continue
        app_router.add_api_route(
            trigger_path(step.trigger),
            _fire_route(step),
            methods=["POST"],
            name=step.trigger.value,
            operation_id=f"fire_{step.trigger.value}",
            summary=step.label.en,
            description=_describe(step),
            tags=["triggers" if step.destination is not None else "records"],
            responses=ok_response(_answer_schema(step)),
            openapi_extra={
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": command_schema(step)}},
                }
            },
        )
    app_router.add_api_route(
        "/cases/{case_id}/{name}", _unknown_trigger, methods=["POST"], include_in_schema=False
    )


_add_trigger_routes(router)

ROUTERS: list[APIRouter] = [router, queues_router, documents_router]
"""The routers `create_app` includes: a new group of routes adds its own here."""


# -- the application ------------------------------------------------------------------------


def _library_error(
    request: Request, error: Exception, headers: dict[str, str] | None = None
) -> Response:
    assert isinstance(error, KmbaseError)
    status = status_of(error)
    if status == 503 and error.retryable:
        headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="kmbase"'}
    return JSONResponse(error_body(error), status_code=status, headers=headers)


def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [
        Text(
            zh=f"{'.'.join(str(p) for p in problem.get('loc', ()))}：{problem.get('msg', '')}",
            en=f"{'.'.join(str(p) for p in problem.get('loc', ()))}: {problem.get('msg', '')}",
        )
        for problem in error.errors()
    ]
    from ..errors import ApplicationFormatError  # noqa: PLC0415

    return _library_error(request, ApplicationFormatError("request", problems))


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    text = Text(
        zh=f"HTTP {error.status_code}：{error.detail}",
        en=f"HTTP {error.status_code}: {error.detail}",
    )
    if error.status_code == 404:
        text = Text(zh=f"没有这个地址：{request.url.path}", en=f"no such route: {request.url.path}")
    hint = Text(zh="接口见 /openapi.json", en="see /openapi.json for the routes")
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return _library_error(request, ServiceError(error.status_code, text, hint=hint), headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at the request's path (the router names only the
    methods of the first route of the path)."""
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def create_app(
    workflow: Workflow | str | None = None,
    *,
    auth: Authenticator | None = None,
    poll_interval: float = 1.0,
) -> FastAPI:
    """The HTTP service over ``workflow`` (a `Workflow`, or a store URL for a workflow on the
    system clock; default ``$KMBASE_DB``): an ASGI application to run under uvicorn or to
    mount in a host's own application.

    ``auth`` says who is calling (default: the API tokens kept in the workflow's store,
    `TokenAuthenticator`; behind an SSO gateway, `GatewayAuthenticator`). ``poll_interval``:
    how often the event stream looks at the outbox (seconds). A workflow made here from a
    URL is closed when the application shuts down; one passed in is the caller's.
    """
    owned = not isinstance(workflow, Workflow)
    flow = workflow if isinstance(workflow, Workflow) else Workflow(workflow)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            flow.close()

    app = FastAPI(
        title="kmbase workflow",
        summary="昆明市小微企业创业创新示范基地认定 / Kunming demonstration base certification",
        description=(
            "The certification workflow of 昆工信规〔2022〕1号 over HTTP. Authenticate with "
            "`Authorization: Bearer <token>` (`kmbase token issue`) or through the SSO gateway. "
            "Errors carry the library's error code, both languages and every failed rule."
        ),
        version=__version__,
        lifespan=lifespan,
        # operation ids are the routes' names (declare, show, fire_certify …): what a
        # client generated from the document calls its methods
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.workflow = flow
    app.state.authenticate = (
        auth if auth is not None else TokenAuthenticator(token_store(flow.store))
    )
    app.state.poll_interval = poll_interval
    app.add_exception_handler(KmbaseError, _library_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for routes in ROUTERS:
        app.include_router(routes)
    app.add_api_route(
        "/schema/application.json",
        lambda: JSONResponse(application_schema()),
        methods=["GET"],
        name="application_schema",
        tags=["service"],
        summary="The JSON Schema of the application format",
        description="Public, as docs/reference/application.schema.json is: no authentication.",
        openapi_extra={"security": []},
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # -- the officials' console (issue 25; owned by kmbase_workflow.console) ---------------
    from ..console import mount_console  # noqa: PLC0415 - serves /console when Jinja2 is there

    mount_console(app)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi  # noqa: PLC0415

    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        document.setdefault("components", {}).setdefault("schemas", {}).update(component_schemas())
        document["components"]["securitySchemes"] = {
            "token": {"type": "http", "scheme": "bearer", "description": "kmbase token issue"},
            "gateway": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Kmbase-Identity",
                "description": "signed by the SSO gateway (docs/explanation/service-auth.md)",
            },
        }
        document["security"] = [{"token": []}, {"gateway": []}]
        _add_links(document["paths"])
        app.openapi_schema = document
    return app.openapi_schema


def _add_links(paths: dict[str, Any]) -> None:
    """OpenAPI links along the lifecycle: a write's case to its reads and to the steps that
    may follow from the state it leaves the case in (what a client, or a stateful test,
    calls next with the same ``case_id``)."""
    steps = [step for step in (*STEPS, *RECORDS) if step.trigger is not Trigger.DECLARE]
    for step in (*STEPS, *RECORDS):
        if step.trigger is Trigger.DECLARE:
            answer = paths["/cases"]["post"]["responses"]["201"]
        else:
            answer = paths[trigger_path(step.trigger)]["post"]["responses"]["200"]
        after = step.destination
        following = [s for s in steps if after is not None and after in s.sources]
        answer["links"] = {
            name: {"operationId": name, "parameters": {"case_id": "$response.body#/case/id"}}
            for name in ("show", "history", *(f"fire_{s.trigger.value}" for s in following))
        }


def component_schemas() -> dict[str, Any]:
    """The records the routes read and write, as OpenAPI component schemas."""
    from ..history import ChainReport, HistoryEntry  # noqa: PLC0415
    from ..records import Application  # noqa: PLC0415
    from ._errors import ERROR_SCHEMA  # noqa: PLC0415
    from ._schema import SchemaBuilder  # noqa: PLC0415

    builder = SchemaBuilder("#/components/schemas/")
    for record in (Application, Case, HistoryEntry, ChainReport, DeclarationRound, Actor, Deadline):
        builder.of(record)
    for step in (*STEPS, *RECORDS):
        if step.payload is not None and attrs.has(step.payload):
            builder.of(step.payload)
    schemas = dict(sorted(builder.definitions.items()))
    schemas["ErrorResponse"] = ERROR_SCHEMA
    schemas["Outcome"] = {
        "title": "Outcome",
        "description": "What a write did: the case after it, its history entry, its events.",
        "type": "object",
        "required": ["case", "entry", "events", "replayed"],
        "properties": {
            "case": schema_ref("Case"),
            "entry": schema_ref("HistoryEntry"),
            "events": {"type": "array", "items": {"type": "object"}},
            "replayed": {
                "type": "boolean",
                "description": "An idempotency key's first outcome, nothing written",
            },
        },
    }
    schemas["Acknowledgement"] = {
        "title": "Acknowledgement",
        "description": "A write's answer to a caller who may not read the case (an objection "
        "from the public, 第十三条): their own act, not the case.",
        "type": "object",
        "required": ["case", "action", "at", "event_ids", "replayed"],
        "properties": {
            "case": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string"}},
                "additionalProperties": False,
            },
            "action": {"type": "string", "description": "The trigger fired"},
            "to_state": {
                "type": "string",
                "enum": [state.value for state in State],
                "description": "Where the step leads (absent for a record, which changes no state)",
            },
            "at": {"type": "string", "format": "date-time", "description": "When it was recorded"},
            "event_ids": {"type": "array", "items": {"type": "string"}},
            "replayed": {
                "type": "boolean",
                "description": "An idempotency key's first outcome, nothing written",
            },
        },
        "additionalProperties": False,
    }
    # free data (a notice's details) as the reader takes it: keys and text without NUL,
    # integers within 64 bits
    schemas["JsonObject"] = {
        "title": "JsonObject",
        "type": "object",
        "propertyNames": TEXT,
        "additionalProperties": schema_ref("JsonValue"),
    }
    schemas["JsonValue"] = {
        "title": "JsonValue",
        "anyOf": [
            {"type": "null"},
            {"type": "boolean"},
            {"type": "integer", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER},
            {"type": "number", "not": {"type": "integer"}},
            TEXT,
            {"type": "array", "items": schema_ref("JsonValue")},
            schema_ref("JsonObject"),
        ],
    }
    schemas.update(QUEUE_SCHEMAS)
    schemas["CaseSummary"] = {
        "title": "CaseSummary",
        "type": "object",
        "properties": {
            name: {"type": "integer"} if name in ("round_year", "version") else {"type": "string"}
            for name in (
                "id",
                "base_id",
                "base_name",
                "district",
                "round_year",
                "state",
                "version",
                "declared_on",
            )
        },
    }
    return schemas


def application_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the application format, from the records."""
    from ..records import Application  # noqa: PLC0415
    from ._schema import SchemaBuilder  # noqa: PLC0415

    builder = SchemaBuilder("#/$defs/")
    builder.of(Application)
    root = builder.definitions.pop("Application")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **root,
        "$defs": dict(sorted(builder.definitions.items())),
    }


def reference_documents() -> dict[str, str]:
    """The published documents (docs/reference/): the OpenAPI document and the JSON Schema of
    the application format, as the files hold them."""

    def text(data: object) -> str:
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    app = create_app(Workflow("memory://"))
    return {
        "openapi.json": text(app.openapi()),
        "application.schema.json": text(application_schema()),
    }


def iter_trigger_routes() -> Iterator[tuple[Trigger, str]]:
    """Each trigger with a route and its path (every trigger but ``declare``, which is
    ``POST /cases``)."""
    for step in (*STEPS, *RECORDS):
        yield (
            step.trigger,
            "/cases" if step.trigger is Trigger.DECLARE else trigger_path(step.trigger),
        )
