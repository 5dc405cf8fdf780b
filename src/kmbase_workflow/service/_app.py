"""The HTTP service: an ASGI application (FastAPI) over one `Workflow`.

Every write goes through the workflow's one write path and records the authenticated actor
(``via="http"``); every request body is read by the library's own reader, so a bad document
gets the same error, with the same paths, as from Python or the command line.

This module is the application factory: it includes the routers (``ROUTERS``, one module of
routes each, built from `kmbase_workflow.service._routing`), answers errors as the library's
error bodies, and publishes the OpenAPI document (`kmbase_workflow.service._openapi`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Literal

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .. import __version__
from .._collector import heap_set_aside
from .._i18n import Text
from .._json_schema import application_schema, command_schema
from ..errors import InvalidInputError, KmbaseError
from ..stores._protocol import reads_without_waiting
from ..stores.tokens import token_store
from ..workflow import Workflow
from ._auth import Authenticator, TokenAuthenticator
from ._calendar import router as calendar_router
from ._cases import router as cases_router
from ._documents import router as documents_router
from ._errors import RETRY_AFTER_SECONDS, ServiceError, error_body, status_of
from ._events import router as events_router
from ._exports import router as exports_router
from ._openapi import openapi_document
from ._queues import router as queues_router
from ._rounds import router as rounds_router
from ._status import router as status_router
from ._triggers import iter_trigger_routes, trigger_path
from ._triggers import router as triggers_router

__all__ = [
    "ROUTERS",
    "SERVICE_THREADS",
    "application_schema",
    "command_schema",
    "create_app",
    "iter_trigger_routes",
    "reference_documents",
    "store_threads",
    "trigger_path",
]

ROUTERS: list[APIRouter] = [
    status_router,
    rounds_router,
    cases_router,
    exports_router,
    calendar_router,
    events_router,
    triggers_router,
    queues_router,
    documents_router,
]
"""The routers `create_app` includes: a new group of routes adds its own here."""

SERVICE_THREADS = 8
"""The most requests' work (the routes, the token check) runs at once by default, over a
store with a pool of connections: under 32 clients, anyio's 40 worker threads contend for
the GIL and for the pool (PostgreSQL's holds 10): 10-25% more CPU a request than 8 threads,
for no more answered (PostgreSQL 5.3-6.0 ms against 4.1-4.8, in one process)."""


def store_threads(store: object) -> int:
    """How many requests are worth working on at once over ``store``: as many as its pool has
    connections (``max_connections``, PostgreSQL's and MySQL's), at most `SERVICE_THREADS`;
    two over a SQLite file, whose one writer commits while the other request reads through a
    connection of its own (``reads_without_waiting``) and works (the bench's mix: 4% more
    requests answered than with one; a third only contends for the GIL); one over a store
    with a single connection for everything (the memory store, a private ``:memory:``
    database), where more threads only wait for it (issue 24). Two declarations of one base
    worked on at once are written one after the other, the second refused if the first
    changed the base's cases (`Change.base_cases`)."""
    connections = getattr(store, "max_connections", None)
    if isinstance(connections, int) and not isinstance(connections, bool) and connections > 0:
        return min(SERVICE_THREADS, connections)
    if reads_without_waiting(store):
        return 2
    return 1


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
    threads: int | Literal["store"] | None = "store",
) -> FastAPI:
    """The HTTP service over ``workflow`` (a `Workflow`, or a store URL for a workflow on the
    system clock; default ``$KMBASE_DB``): an ASGI application to run under uvicorn or to
    mount in a host's own application.

    ``auth`` says who is calling (default: the API tokens kept in the workflow's store,
    `TokenAuthenticator`; behind an SSO gateway, `GatewayAuthenticator`). ``poll_interval``:
    how often the event stream looks at the outbox (seconds). ``threads``: how many requests
    are worked on at once (the worker threads of the server's event loop, set when the
    application serves on its own; mounted in a host's application, the host's number holds):
    ``"store"``, the default, as many as the store works on at once (`store_threads`: one
    over SQLite, 8 over a PostgreSQL pool of 10); ``None``, the server's default; anything
    else but a whole number from 1 is an `InvalidInputError`. A workflow made here from a URL
    is closed when the application shuts down; one passed in is the caller's.
    """
    if not (
        threads is None
        or threads == "store"
        or (isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1)
    ):
        raise InvalidInputError(
            Text(
                zh=f'threads 应为不小于 1 的整数、"store" 或 None，实际为 {threads!r}',
                en=f'threads must be a whole number from 1, "store" or None, got {threads!r}',
            ),
            hint=Text(zh='默认 "store"：按存储的连接数', en='default "store": as the store allows'),
        )
    owned = not isinstance(workflow, Workflow)
    flow = workflow if isinstance(workflow, Workflow) else Workflow(workflow)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = store_threads(flow.store) if threads == "store" else threads
        with heap_set_aside():
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
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    # -- the officials' console (issue 25; owned by kmbase_workflow.console) ---------------
    from ..console import mount_console  # noqa: PLC0415 - serves /console when Jinja2 is there

    mount_console(app)
    return app


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
