"""The outbox as a stream of server-sent events (``GET /events``), each event shown to whom
may see it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from .._i18n import Text
from ..actors import Actor, Role
from ..case import ROUND_CHAIN_PREFIX
from ..encoding import event_document as event_data
from ..errors import KmbaseError
from ._errors import error_body
from ._routing import (
    ERRORS,
    ActorParam,
    WorkflowParam,
    forbidden,
)

__all__ = ["router"]

router = APIRouter(responses=ERRORS)

STREAM_READS = 4
"""How many of the streams' reads of the outbox run at once, in worker threads of their own:
a read may wait (PostgreSQL: up to ``outbox_wait`` for older open transactions), and the
API's few workers (`create_app`'s ``threads``) must not wait behind it."""


def _stream_reads(request: Request) -> anyio.CapacityLimiter:
    """The application's limiter of the streams' reads (made in its event loop, on first
    use)."""
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "stream_reads", None)
    if limiter is None:
        limiter = request.app.state.stream_reads = anyio.CapacityLimiter(STREAM_READS)
    return limiter


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
    reads = _stream_reads(request)
    # errors of the first read are answered as such
    first = await anyio.to_thread.run_sync(store.read_outbox, after, 100, limiter=reads)

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
                batch = await anyio.to_thread.run_sync(
                    store.read_outbox, position, 100, limiter=reads
                )
            except KmbaseError as error:
                yield f"event: error\ndata: {json.dumps(error_body(error), ensure_ascii=False)}\n\n"
                return

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
