"""Whether the service is up (``/health``, no authentication) and who it takes the caller
for (``/me``)."""

from __future__ import annotations

import anyio
import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import Response

from .. import __version__
from .._i18n import Text
from ..errors import StoreUnavailableError
from ._routing import (
    ERRORS,
    ActorParam,
    WorkflowParam,
    json_response,
    ok_response,
    schema_ref,
)

__all__ = ["HEALTH_TIMEOUT", "router"]

HEALTH_TIMEOUT = 2.0
"""How long ``/health`` waits for the store before answering 503 (seconds)."""

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
