"""What every route of the HTTP service is built from: the authenticated actor and the
workflow as parameters, bodies read by the library's reader, answers as JSON, the documented
errors, and who may read what.

A route over a Python function is one small function: take the actor and the workflow as
parameters typed `ActorParam` and `WorkflowParam`, return `json_response` of plain data or
records, and let library errors propagate (the application answers them with their HTTP
status). A new group of routes lives in a module of its own with its own ``APIRouter``, which
`create_app` includes (``ROUTERS`` in ``_app``)::

    router = APIRouter(responses=ERRORS)

    @router.get("/queues/mine", tags=["queues"], responses=ok_response({"type": "array"}))
    def my_queue(actor: ActorParam, workflow: WorkflowParam) -> Response:
        return json_response(queues.inbox(workflow, actor))
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import attrs
import orjson
from fastapi import Depends, Header, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from .._i18n import Text
from ..actors import Actor, Role
from ..case import Case, DeferredApplication
from ..eligibility import district_problems_in_any
from ..encoding import event_document as event_data
from ..errors import ConcurrencyConflictError, InvalidInputError, TransitionRefusedError
from ..history import HistoryEntry
from ..lifecycle import Trigger, step_for
from ..serialization import _parse, unstructure
from ..stores._protocol import reads_without_waiting
from ..workflow import Outcome, Workflow
from ._auth import Authenticator
from ._errors import ServiceError

__all__ = [
    "ERRORS",
    "MAX_BODY_BYTES",
    "ActorParam",
    "BodyText",
    "Command",
    "IdempotencyKey",
    "RootPath",
    "WorkflowParam",
    "answered_without_waiting",
    "declaration_refused_as_read",
    "forbidden",
    "json_object",
    "json_response",
    "may_read",
    "ok_response",
    "outcome_data",
    "outcome_response",
    "parse_date",
    "readable_case",
    "refused_as_read",
    "request_actor",
    "schema_ref",
    "scoped_key",
]

MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body read (an application with hundreds of residents is ~200 kB)."""


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_response("Not authenticated (no token, a revoked one, a bad signature)"),
    403: error_response("The actor may not see this"),
    404: error_response("No such case (CaseNotFoundError)"),
    409: error_response(
        "Refused by the rules (TransitionRefusedError, every failed rule with its article), or "
        "a conflict (ConcurrencyConflictError, IdempotencyKeyReusedError)"
    ),
    422: error_response("Bad input (InvalidInputError, ApplicationFormatError …)"),
    413: error_response("The request body is too large"),
    503: error_response(
        "The store is busy or unreachable (retry after Retry-After seconds), or cannot serve "
        "until an operator acts (a work queue to rebuild: retryable false)"
    ),
}
"""The error responses every route documents (each an ``ErrorResponse``)."""


def ok_response(
    schema: dict[str, Any], description: str = "OK", status: int = 200
) -> dict[int | str, Any]:
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}}
    }


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(
    data: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``data`` (plain data, a record, or a list of records) as a JSON response."""
    return _RecordsJSON(data, status_code=status, headers=headers)


class _RecordsJSON(JSONResponse):
    """JSON of plain data holding records, encoded in one pass (issue 24): orjson walks the
    plain data and asks `_plain_record` only for what it cannot encode (a walk in Python
    before it cost more than the encoding; the standard library's encoder took ~0.4 ms of a
    declaration's 60 KB answer, orjson ~0.05). The answer says what Starlette's
    ``JSONResponse`` of the records unstructured says (tests/test_service_answers.py); only a
    float may be spelled otherwise (``1e-7``): nothing hashes an answer."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(
                content, default=_encoded_record, option=orjson.OPT_PASSTHROUGH_DATETIME
            )
        except orjson.JSONEncodeError:
            # what orjson refuses (an integer past 64 bits): the standard library's encoder
            return json.dumps(
                content,
                ensure_ascii=False,
                allow_nan=False,
                separators=(",", ":"),
                default=_plain_record,
            ).encode("utf-8")


def _encoded_record(value: object) -> Any:
    """`_plain_record` for orjson, which takes JSON text as it is: a case's application read
    from its store's text and structured (a recommendation's) is answered in that text, not
    parsed again into plain data (~0.12 ms of a 30 KB application) to be encoded back."""
    if not isinstance(value, Case) or not isinstance(value._application, DeferredApplication):
        return _plain_record(value)
    source = value._application
    text = source.read_text()
    if text is None:
        return _plain_record(value)
    placeholder = DeferredApplication(
        base_name=source.base_name,
        district=source.district,
        operator=source.operator_source,
        data={},
    )
    data = unstructure(attrs.evolve(value, application=placeholder))
    data["application"] = orjson.Fragment(text)
    return data


def _plain_record(value: object) -> Any:
    if isinstance(value, HistoryEntry):
        # The payload is plain data already (what the chain hashed): given to the encoder as
        # it is, not walked value by value by the converter (most of a declaration's answer).
        data = unstructure(attrs.evolve(value, payload={}))
        data["payload"] = value.payload
        return data
    if attrs.has(type(value)):
        return unstructure(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# -- dependencies ---------------------------------------------------------------------------


def _workflow(request: Request) -> Workflow:
    workflow: Workflow = request.app.state.workflow
    return workflow


async def _workflow_param(request: Request) -> Workflow:
    # async: FastAPI runs a plain function dependency in a worker thread, a hop of its own
    return _workflow(request)


def request_actor(request: Request) -> Actor:
    """Who sent ``request``, as the service's authenticator says (its district checked):
    the API's routes and the console's pages take it from here."""
    authenticate: Authenticator = request.app.state.authenticate
    client = request.client.host if request.client is not None else None
    actor = authenticate(request.headers, client)
    if actor.district is not None:
        _check_district(actor.district, _workflow(request))
    return actor


def _check_district(district: str, workflow: Workflow) -> None:
    """An identity's district is one the workflow's policies list (第四条, 第九条): an
    authenticator (a gateway, a host's own) may pass on any name; none other is anyone's."""
    problems = district_problems_in_any(district, workflow.policies)
    if not problems:
        return
    raise ServiceError(
        403,
        Text(
            zh=f"身份所属县区无效：{problems[0].zh}",
            en=f"the identity's district is not known: {problems[0].en}",
        ),
        hint=Text(
            zh="请网关或令牌签发方使用政策所列县区的准确名称",
            en="the gateway or the token's issuer must name a district exactly as the policy "
            "lists it",
        ),
    )


async def _root_path(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


WorkflowParam = Annotated[Workflow, Depends(_workflow_param)]
"""The workflow the service runs over."""


async def _actor_param(request: Request) -> Actor:
    # an authenticator that never waits (a signature) is called here, on the event loop; one
    # that may (a token store's database) in a worker thread, as FastAPI calls a plain function
    if getattr(request.app.state.authenticate, "blocking", True):
        return await run_in_threadpool(request_actor, request)
    return request_actor(request)


async def answered_without_waiting(workflow: Workflow, answer: Callable[[], Response]) -> Response:
    """``answer()`` (a read of the store) on the event loop when the store's reads never wait
    (a SQLite file in WAL mode: ``reads_without_waiting``), saving the request a hop to a
    worker thread and back (~0.13 ms of CPU) and its place in the queue behind the writes; in
    a worker thread, as FastAPI runs a plain function, over any other store (a pool may make
    it wait for a connection, the memory store for its lock)."""
    if reads_without_waiting(workflow.store):
        return answer()
    return await run_in_threadpool(answer)


ActorParam = Annotated[Actor, Depends(_actor_param)]
"""The authenticated actor of the request (never a role the client claims)."""
RootPath = Annotated[str, Depends(_root_path)]
"""Where the service is mounted (``""`` at the root): the prefix of the paths it answers."""


async def _body_text(request: Request) -> str:
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            Text(zh="请求正文不是 UTF-8 文本", en="the request body is not UTF-8 text"),
            hint=Text(zh="请以 UTF-8 编码发送 JSON", en="send JSON encoded as UTF-8"),
        ) from None


def _too_large() -> ServiceError:
    return ServiceError(
        413,
        Text(zh="请求正文过大", en="the request body is too large"),
        hint=Text(zh=f"上限 {MAX_BODY_BYTES} 字节", en=f"at most {MAX_BODY_BYTES:,} bytes"),
    )


BodyText = Annotated[str, Depends(_body_text)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Run a write at most once: a retry with the same key returns the first "
        "outcome (replayed: true); the same key for another command is a 409. Keys are the "
        "caller's own (scoped to the authenticated actor).",
        max_length=200,
    ),
]


def scoped_key(actor: Actor, key: str | None) -> str | None:
    """An idempotency key of this actor's (another caller's key can neither replay nor block
    it)."""
    # the id's length keeps the prefix unambiguous whatever the id and the key contain
    return None if key is None else f"http:{actor.role.value}:{len(actor.id)}:{actor.id}:{key}"


def json_object(text: str, source: str) -> dict[str, Any]:
    """A JSON object from a request body, read by the library's strict reader."""
    data = _parse(text, "json", source) if text.strip() else {}
    if not isinstance(data, dict):
        raise InvalidInputError(
            Text(zh=f"{source} 应为 JSON 对象", en=f"{source} must be a JSON object"),
            hint=Text(zh='例如 {"reason": "…"}', en='for example {"reason": "..."}'),
        )
    return data


@attrs.frozen(kw_only=True)
class Command:
    """The body of a trigger: its reason, evidence and payload."""

    reason: str = ""
    """Why (a refusal's reason is required by the steps that close a case)."""
    evidence: tuple[str, ...] = ()
    """References of the supporting documents."""
    payload: Any = None
    """The step's record (see the step's schema); none for a step that takes none."""
    expected_version: int | None = None
    """Act only if the case is still at this version (else 409)."""


# -- reading rights -------------------------------------------------------------------------

_SEE_ALL = frozenset({Role.CITY_BUREAU, Role.EXPERT, Role.SYSTEM})


RoundYear = Annotated[int, PathParam(ge=0, le=9999, description="The round's year")]
"""A round's year in a path (bounded: the stores hold 64-bit integers): every route that
takes one uses this, so none can pass a year the store cannot hold."""


def may_read(actor: Actor, case: Case) -> bool:
    """The bureau, experts and the system read every case; a district its own district's; an
    operator its own base's (by its credit code, as declared or after a change of operator)."""
    if actor.role in _SEE_ALL:
        return True
    if actor.role is Role.DISTRICT_AUTHORITY:
        return actor.district == case.district
    if actor.role is Role.OPERATOR:
        if actor.id == case.operator_code:
            return True
        # the declared operator, after a change: only then is the application read
        return actor.id == case.application.operator.unified_social_credit_code
    return False


def forbidden(what: Text) -> ServiceError:
    return ServiceError(
        403,
        Text(zh=f"无权查看{what.zh}", en=f"you may not see {what.en}"),
        hint=Text(
            zh="县区只能查看本县区的案件，运营主体只能查看本基地的案件",
            en="a district sees its own district's cases, an operator its own base's",
        ),
    )


def readable_case(workflow: Workflow, actor: Actor, case_id: str) -> Case:
    case = workflow.case(case_id)
    if not may_read(actor, case):
        raise forbidden(Text(zh=f"案件 {case_id}", en=f"case {case_id}"))
    return case


@contextlib.contextmanager
def refused_as_read(workflow: Workflow, actor: Actor, case_id: str) -> Iterator[None]:
    """A refusal (the rules, a stale version) of a command on a case the actor may not read
    is answered as a read of it would be (403): its reasons would tell what the reading rules
    hide (the operator, the district, the state)."""
    try:
        yield
    except (TransitionRefusedError, ConcurrencyConflictError):
        readable_case(workflow, actor, case_id)
        raise


@contextlib.contextmanager
def declaration_refused_as_read(workflow: Workflow, actor: Actor, base_id: str) -> Iterator[None]:
    """A refused declaration of a base with cases the actor may not read is answered as a read
    of them would be (403): the rules that compare it with them would name those cases."""
    try:
        yield
    except TransitionRefusedError:
        if any(not may_read(actor, case) for case in workflow.cases(base_id=base_id)):
            what = Text(zh=f"基地 {base_id} 的案件", en=f"the cases of base {base_id}")
            raise forbidden(what) from None
        raise


def outcome_data(outcome: Outcome, actor: Actor) -> dict[str, Any]:
    """What a write answers ``actor``: the outcome (the case, its entry, its events) to whoever
    may read the case, else an acknowledgement of the actor's own act. Anyone may object to a
    case under public notice (第十三条) and reads no case for it (第四条): the answer tells
    no more than ``GET /cases/{id}`` would."""
    if may_read(actor, outcome.case):
        return {
            "case": outcome.case,
            "entry": outcome.entry,
            "events": [event_data(event) for event in outcome.events],
            "replayed": outcome.replayed,
        }
    entry = outcome.entry
    acknowledged: dict[str, Any] = {"case": {"id": entry.case_id}, "action": entry.action}
    # the state a step leads to is the step's, known to the caller (a record keeps the case's
    # state, which is not theirs to read)
    if step_for(Trigger(entry.action)).destination is not None:
        acknowledged["to_state"] = entry.to_state
    return {
        **acknowledged,
        "at": entry.at.isoformat(),
        "event_ids": list(entry.event_ids),
        "replayed": outcome.replayed,
    }


def outcome_response(
    outcome: Outcome, actor: Actor, status: int = 200, *, root_path: str = ""
) -> Response:
    """A write's answer to ``actor`` (`outcome_data`); its ``Location`` (the case) under
    ``root_path``, the service's mount."""
    return json_response(
        outcome_data(outcome, actor),
        status=200 if outcome.replayed else status,
        headers={"Location": f"{root_path}/cases/{urllib.parse.quote(outcome.case.id, safe='')}"},
    )


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            Text(
                zh=f"{name} 不是有效日期：{value[:40]!r}",
                en=f"{name} is not a valid date: {value[:40]!r}",
            ),
            hint=Text(zh="请用 YYYY-MM-DD", en="use YYYY-MM-DD"),
        ) from None
